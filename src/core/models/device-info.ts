/**
 * What the device offers for running models, as plain data: `engine/device.ts` probes it, the
 * fit policy (`fit.ts`) and the Models page read it.
 */
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

/** How the CPU engine (llama.cpp on WebAssembly) will run here. */
export interface WasmInfo {
  /** COOP/COEP in force: the precondition for `SharedArrayBuffer` and so for threads. */
  crossOriginIsolated: boolean;
  /** The thread count the CPU engine will use (`chooseWasmThreads`). */
  threads: number;
  /** 128-bit WebAssembly SIMD, which wllama's only build requires. */
  simd: boolean;
}

export interface DeviceInfo {
  webgpu: WebGpuInfo | NoWebGpu;
  wasm: WasmInfo;
  /** `navigator.deviceMemory` (Chromium caps it at 8), null where the browser hides it. */
  deviceMemoryGB: number | null;
  hardwareConcurrency: number;
  storage: StorageInfo | null;
}
