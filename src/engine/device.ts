import type { DeviceInfo, NoWebGpu, StorageInfo, WebGpuInfo } from '../core/models/device-info';
import { chooseWasmThreads } from '../core/wasm-threads';

/*
 * WebGPU typed structurally: TypeScript's DOM lib has no WebGPU types and the project does not
 * depend on @webgpu/types, so only the members read here are declared.
 */
interface GpuAdapterInfoLike {
  vendor?: string;
  architecture?: string;
  description?: string;
  /** Where newer browsers report it (the spec moved it here from the adapter). */
  isFallbackAdapter?: boolean;
}

interface GpuAdapterLike {
  readonly features: { has(feature: string): boolean };
  readonly limits: { maxBufferSize?: number; maxStorageBufferBindingSize?: number };
  /** Chrome 127+; older browsers only have `requestAdapterInfo()`. */
  readonly info?: GpuAdapterInfoLike;
  /** Where older browsers report it. */
  readonly isFallbackAdapter?: boolean;
  requestAdapterInfo?: () => Promise<GpuAdapterInfoLike>;
}

interface GpuLike {
  requestAdapter(options?: {
    powerPreference?: 'low-power' | 'high-performance';
  }): Promise<GpuAdapterLike | null>;
}

interface StorageManagerLike {
  estimate?: () => Promise<{ usage?: number; quota?: number }>;
  persisted?: () => Promise<boolean>;
}

/** The members of `Navigator` / `WorkerNavigator` read here, each possibly missing. */
interface NavigatorLike {
  gpu?: GpuLike;
  deviceMemory?: number;
  hardwareConcurrency?: number;
  storage?: StorageManagerLike;
}

const currentNavigator = (): NavigatorLike | undefined =>
  (globalThis as { navigator?: NavigatorLike }).navigator;

const describeError = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

const finiteOr = (value: unknown, fallback: number): number =>
  typeof value === 'number' && Number.isFinite(value) ? value : fallback;

/**
 * WebLLM's own minimums are 128 MiB per storage binding and 256 MiB per buffer; an adapter that
 * reports nothing is treated as offering WebGPU's defaults, which are exactly those values.
 */
const DEFAULT_MAX_BUFFER_SIZE = 256 * 1024 * 1024;
const DEFAULT_MAX_STORAGE_BUFFER_BINDING_SIZE = 128 * 1024 * 1024;

async function adapterInfo(adapter: GpuAdapterLike): Promise<GpuAdapterInfoLike> {
  if (adapter.info) return adapter.info;
  if (typeof adapter.requestAdapterInfo === 'function') {
    try {
      return await adapter.requestAdapterInfo();
    } catch {
      // Some browsers refuse adapter details for privacy; the model can still run.
    }
  }
  return {};
}

function hasFeature(adapter: GpuAdapterLike, feature: string): boolean {
  try {
    return adapter.features.has(feature);
  } catch {
    return false;
  }
}

/**
 * Asks for the high-performance adapter, as WebLLM does, so the limits and features seen here are
 * those of the GPU the engine will get. Never throws: every failure becomes a `NoWebGpu` reason.
 */
export async function probeWebGpu(): Promise<WebGpuInfo | NoWebGpu> {
  const gpu = currentNavigator()?.gpu;
  if (!gpu || typeof gpu.requestAdapter !== 'function') {
    return {
      available: false,
      reason:
        'This browser does not offer WebGPU (it needs a recent Chrome, Edge or Safari, over https).',
    };
  }
  let adapter: GpuAdapterLike | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (error) {
    return {
      available: false,
      reason: `The browser could not reach the GPU: ${describeError(error)}`,
    };
  }
  if (!adapter) {
    return {
      available: false,
      reason:
        'WebGPU is present but found no usable GPU (it may be disabled, blocklisted, or missing a driver).',
    };
  }
  const info = await adapterInfo(adapter);
  const shaderF16 = hasFeature(adapter, 'shader-f16');
  const limits = adapter.limits as GpuAdapterLike['limits'] | undefined;
  return {
    available: true,
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    description: info.description ?? '',
    isFallbackAdapter: info.isFallbackAdapter ?? adapter.isFallbackAdapter ?? false,
    shaderF16,
    maxBufferSize: finiteOr(limits?.maxBufferSize, DEFAULT_MAX_BUFFER_SIZE),
    maxStorageBufferBindingSize: finiteOr(
      limits?.maxStorageBufferBindingSize,
      DEFAULT_MAX_STORAGE_BUFFER_BINDING_SIZE,
    ),
  };
}

async function probeStorage(storage: StorageManagerLike | undefined): Promise<StorageInfo | null> {
  if (!storage || typeof storage.estimate !== 'function') return null;
  let usageBytes: number;
  let quotaBytes: number;
  try {
    const estimate = await storage.estimate();
    usageBytes = finiteOr(estimate.usage, 0);
    quotaBytes = finiteOr(estimate.quota, Number.NaN);
  } catch {
    return null;
  }
  // Without a quota the numbers say nothing about room left; report storage as unknown.
  if (Number.isNaN(quotaBytes)) return null;
  let persisted = false;
  if (typeof storage.persisted === 'function') {
    try {
      persisted = await storage.persisted();
    } catch {
      persisted = false;
    }
  }
  return { usageBytes, quotaBytes, persisted };
}

/** The smallest module using a SIMD instruction (`i8x16.popcnt`), as wasm-feature-detect has it. */
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15,
  253, 98, 11,
]);

function probeSimd(): boolean {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

/**
 * What this browser and machine offer. Works in a window and in a dedicated worker (both expose
 * `navigator.gpu`, `deviceMemory` in Chromium, and `storage`); each missing API yields a reason or
 * null rather than an exception.
 */
export async function probeDevice(): Promise<DeviceInfo> {
  const nav = currentNavigator();
  const deviceMemory = nav?.deviceMemory;
  const [webgpu, storage] = await Promise.all([probeWebGpu(), probeStorage(nav?.storage)]);
  const hardwareConcurrency = Math.max(1, Math.floor(finiteOr(nav?.hardwareConcurrency, 1)));
  const crossOriginIsolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
  const isolated = crossOriginIsolated === true;
  return {
    webgpu,
    wasm: {
      crossOriginIsolated: isolated,
      threads: chooseWasmThreads({ hardwareConcurrency, crossOriginIsolated: isolated }),
      simd: probeSimd(),
    },
    deviceMemoryGB:
      typeof deviceMemory === 'number' && Number.isFinite(deviceMemory) && deviceMemory > 0
        ? deviceMemory
        : null,
    hardwareConcurrency,
    storage,
  };
}
