/**
 * Whether a catalog model can run on this device, and which one to suggest. Pure: takes the
 * probed `DeviceInfo` and catalog entries, touches no browser API.
 *
 * Browsers do not reveal how much GPU memory there is, so the memory checks are a heuristic:
 * - `navigator.deviceMemory` (system RAM, rounded down, capped at 8 GB by Chromium) bounds what an
 *   integrated GPU can use, since it shares system memory, and stands in for the machine's class
 *   otherwise. A model needing more than all of it cannot fit (unless the value is the cap, which
 *   only says "8 GB or more"); one needing more than half of it is tight, because the OS, the
 *   browser and other apps hold the rest.
 * - WebGPU limits are per-buffer, not totals. WebLLM asks for 1 GiB per buffer and storage
 *   binding and falls back to 256 MiB / 128 MiB; below those it refuses to start (checked in
 *   WebLLM's `detectGPUDevice`). It treats a storage-binding limit under 1 GiB as a low-resource
 *   (phone-class) GPU on which only `low_resource_required` models are expected to run.
 */
import { formatBytes } from '../format';
import type { DeviceInfo } from './device-info';
import type { ModelSpec } from '../llm';
import {
  CATALOG,
  CPU_FAMILY_QWEN,
  CPU_FAMILY_SMOLLM,
  RECOMMENDED_GPU_FAMILY,
  findCatalogEntry,
  type CatalogEntry,
  type CatalogVariant,
} from './catalog';

export type FitVerdict = 'fits' | 'tight' | 'cannot-fit';

export interface FitAssessment {
  verdict: FitVerdict;
  /** Why it is tight or cannot fit, in plain language; empty when it fits. */
  reasons: string[];
}

export interface FitOptions {
  /** The model is already in browser storage, so it needs no room to download. */
  alreadyCached?: boolean;
}

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

/** WebLLM's minimum limits, below which its runtime does not start. */
const WEBLLM_MIN_MAX_BUFFER_SIZE = 256 * MIB;
const WEBLLM_MIN_STORAGE_BINDING = 128 * MIB;
/** WebLLM's threshold for a low-resource GPU (its `getMaxStorageBufferBindingSize` warning). */
const WEBLLM_LOW_RESOURCE_BINDING = 1 * GIB;
/** Chromium reports `deviceMemory` as at most this many GB. */
const DEVICE_MEMORY_CAP_GB = 8;
/** A share of system memory above which a model's memory need is tight. */
const TIGHT_MEMORY_SHARE = 0.5;
/** A share of the free storage quota above which a download is tight. */
const TIGHT_STORAGE_SHARE = 0.8;
/** Without `deviceMemory`, needs above this are flagged as uncertain. */
const UNKNOWN_MEMORY_TIGHT_MB = 4096;

const severity: Record<FitVerdict, number> = { fits: 0, tight: 1, 'cannot-fit': 2 };

class Findings {
  verdict: FitVerdict = 'fits';
  readonly reasons: string[] = [];

  add(verdict: Exclude<FitVerdict, 'fits'>, reason: string): void {
    if (severity[verdict] > severity[this.verdict]) this.verdict = verdict;
    this.reasons.push(reason);
  }
}

function checkGpu(variant: CatalogVariant, device: DeviceInfo, findings: Findings): void {
  const gpu = device.webgpu;
  if (!gpu.available) {
    findings.add(
      'cannot-fit',
      `This model runs on the GPU through WebGPU, which is not available here: ${gpu.reason}`,
    );
    return;
  }
  if (variant.requiresShaderF16 && !gpu.shaderF16) {
    findings.add(
      'cannot-fit',
      'This build needs 16-bit float shaders (shader-f16), which this GPU does not offer. The q4f32 build of the same model works without them.',
    );
  }
  if (
    gpu.maxBufferSize < WEBLLM_MIN_MAX_BUFFER_SIZE ||
    gpu.maxStorageBufferBindingSize < WEBLLM_MIN_STORAGE_BINDING
  ) {
    findings.add(
      'cannot-fit',
      `This GPU's buffer limits (${formatBytes(gpu.maxBufferSize)} per buffer, ${formatBytes(gpu.maxStorageBufferBindingSize)} per binding) are below the minimum WebLLM needs to start.`,
    );
  } else if (
    gpu.maxStorageBufferBindingSize < WEBLLM_LOW_RESOURCE_BINDING &&
    !variant.lowResourceRequired
  ) {
    findings.add(
      'tight',
      `This GPU allows only ${formatBytes(gpu.maxStorageBufferBindingSize)} per buffer binding, like a phone's, and this model is not built for such GPUs. It may fail to load.`,
    );
  }
  if (gpu.isFallbackAdapter) {
    findings.add(
      'tight',
      'WebGPU here runs in software, not on a real GPU: the model would be very slow. A CPU model is likely faster.',
    );
  }
}

function checkMemory(
  variant: CatalogVariant,
  device: DeviceInfo,
  findings: Findings,
  kind: 'GPU memory' | 'memory',
): void {
  const needMB = variant.memoryRequiredMB;
  if (needMB === null) return;
  const need = formatBytes(needMB * MIB);
  const gb = device.deviceMemoryGB;
  if (gb === null) {
    if (needMB > UNKNOWN_MEMORY_TIGHT_MB) {
      findings.add(
        'tight',
        `It needs about ${need} of ${kind}, and this browser does not say how much the device has.`,
      );
    }
    return;
  }
  const totalMB = gb * 1024;
  const atCap = gb >= DEVICE_MEMORY_CAP_GB;
  const reported = atCap ? `at least ${gb} GB` : `${gb} GB`;
  if (needMB > totalMB && !atCap) {
    findings.add(
      'cannot-fit',
      `It needs about ${need} of ${kind}, more than the ${reported} of memory this device has in all.`,
    );
  } else if (needMB > totalMB * TIGHT_MEMORY_SHARE) {
    findings.add(
      'tight',
      `It needs about ${need} of ${kind}, more than half of the ${reported} this device reports; it may fail if other apps hold memory.`,
    );
  }
}

function checkStorage(
  variant: CatalogVariant,
  device: DeviceInfo,
  options: FitOptions,
  findings: Findings,
): void {
  if (options.alreadyCached || device.storage === null) return;
  const free = Math.max(0, device.storage.quotaBytes - device.storage.usageBytes);
  const size = formatBytes(variant.downloadBytes);
  if (variant.downloadBytes > free) {
    findings.add(
      'cannot-fit',
      `The download (about ${size}) is larger than the ${formatBytes(free)} of storage this browser still allows this site. Delete cached models or free disk space.`,
    );
  } else if (variant.downloadBytes > free * TIGHT_STORAGE_SHARE) {
    findings.add(
      'tight',
      `The download (about ${size}) would use most of the ${formatBytes(free)} of storage left for this site.`,
    );
  }
}

/** Whether `variant` can run on `device`, with the reasons when it is tight or cannot. */
export function assessFit(
  variant: CatalogVariant,
  device: DeviceInfo,
  options: FitOptions = {},
): FitAssessment {
  const findings = new Findings();
  if (variant.spec.engine === 'webllm') {
    checkGpu(variant, device, findings);
    checkMemory(variant, device, findings, 'GPU memory');
  } else {
    checkMemory(variant, device, findings, 'memory');
  }
  checkStorage(variant, device, options, findings);
  return { verdict: findings.verdict, reasons: findings.reasons };
}

/**
 * The variant to offer for an entry: for WebLLM the shader-f16 build when the GPU has the feature
 * (smaller and faster), else the f32 build; for CPU models the first (default) variant.
 */
export function pickVariant(entry: CatalogEntry, device: DeviceInfo): CatalogVariant {
  const first = entry.variants[0];
  if (!first) throw new Error(`Catalog entry ${entry.familyId} has no variants.`);
  if (entry.engine !== 'webllm') return first;
  const hasF16 = device.webgpu.available && device.webgpu.shaderF16;
  return entry.variants.find((v) => v.requiresShaderF16 === hasF16) ?? first;
}

export interface CatalogAssessment {
  entry: CatalogEntry;
  variant: CatalogVariant;
  fit: FitAssessment;
}

/** Every entry with the variant to offer and its fit; nothing is hidden. */
export function assessCatalog(
  device: DeviceInfo,
  catalog: readonly CatalogEntry[] = CATALOG,
  isCached: (spec: ModelSpec) => boolean = () => false,
): CatalogAssessment[] {
  return catalog.map((entry) => {
    const variant = pickVariant(entry, device);
    return {
      entry,
      variant,
      fit: assessFit(variant, device, { alreadyCached: isCached(variant.spec) }),
    };
  });
}

export interface Recommendation {
  spec: ModelSpec;
  entry: CatalogEntry;
  variant: CatalogVariant;
  fit: FitAssessment;
  /** Why this model, in a sentence or two for the user. */
  explanation: string;
}

function variantLabel(entry: CatalogEntry, variant: CatalogVariant): string {
  return `${entry.label} in ${variant.quantization} (about ${formatBytes(variant.downloadBytes)} to download)`;
}

/**
 * The model to suggest: Llama 3.2 1B on a real WebGPU GPU (f16 build with shader-f16, f32
 * without); otherwise a CPU model, Qwen2.5 0.5B when it fits, SmolLM2 360M when memory or storage
 * is short.
 */
export function recommend(
  device: DeviceInfo,
  catalog: readonly CatalogEntry[] = CATALOG,
): Recommendation {
  const gpu = device.webgpu;
  let whyNotGpu: string;
  const llama = findCatalogEntry(RECOMMENDED_GPU_FAMILY, catalog);
  if (!gpu.available) {
    whyNotGpu = `WebGPU is not available here: ${gpu.reason} The model runs on the processor instead.`;
  } else if (gpu.isFallbackAdapter) {
    whyNotGpu = 'WebGPU here runs in software, not on a real GPU, so a CPU model is faster.';
  } else if (!llama) {
    whyNotGpu = 'No GPU model is available in this version, so the model runs on the processor.';
  } else {
    const variant = pickVariant(llama, device);
    const fit = assessFit(variant, device);
    if (fit.verdict !== 'cannot-fit') {
      const shaders = gpu.shaderF16
        ? 'Your GPU supports WebGPU with 16-bit float shaders'
        : 'Your GPU supports WebGPU but not 16-bit float shaders, so this is the 32-bit float build';
      return {
        spec: variant.spec,
        entry: llama,
        variant,
        fit,
        explanation: `${shaders}: ${variantLabel(llama, variant)} runs on it quickly.`,
      };
    }
    whyNotGpu = `${llama.label} cannot run on this GPU: ${fit.reasons.join(' ')} The model runs on the processor instead.`;
  }

  const candidates = [CPU_FAMILY_QWEN, CPU_FAMILY_SMOLLM].flatMap((familyId) => {
    const entry = findCatalogEntry(familyId, catalog);
    if (!entry) return [];
    const variant = pickVariant(entry, device);
    return [{ entry, variant, fit: assessFit(variant, device) }];
  });
  const chosen =
    candidates.find((c) => c.fit.verdict === 'fits') ??
    candidates.find((c) => c.fit.verdict === 'tight') ??
    candidates[candidates.length - 1];
  if (!chosen) throw new Error('The catalog has no CPU model to fall back on.');
  const strongest = candidates[0];
  const note =
    chosen === strongest
      ? `${variantLabel(chosen.entry, chosen.variant)} is the best model for the processor.`
      : `${variantLabel(chosen.entry, chosen.variant)} is suggested because the larger ${strongest?.entry.label ?? 'model'} is short of room here.`;
  const warning = chosen.fit.verdict === 'fits' ? '' : ` Even so: ${chosen.fit.reasons.join(' ')}`;
  return {
    spec: chosen.variant.spec,
    entry: chosen.entry,
    variant: chosen.variant,
    fit: chosen.fit,
    explanation: `${whyNotGpu} ${note}${warning}`,
  };
}
