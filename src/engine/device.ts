/** What this browser and machine offer for running models on-device. */
export interface WebGpuInfo {
  available: true;
  vendor: string;
  architecture: string;
  description: string;
  isFallbackAdapter: boolean;
  shaderF16: boolean;
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
}

export interface NoWebGpu {
  available: false;
  /** Why not, in the user's words: no API, no adapter, or the adapter request failed. */
  reason: string;
}

export interface StorageInfo {
  usageBytes: number;
  quotaBytes: number;
  persisted: boolean;
}

export interface DeviceInfo {
  webgpu: WebGpuInfo | NoWebGpu;
  /** `navigator.deviceMemory` (Chromium caps it at 8), null where the browser hides it. */
  deviceMemoryGB: number | null;
  hardwareConcurrency: number;
  storage: StorageInfo | null;
}
