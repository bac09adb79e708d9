import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  CATALOG,
  CPU_FAMILY_QWEN,
  CPU_FAMILY_SMOLLM,
  RECOMMENDED_GPU_FAMILY,
  findCatalogEntry,
  type CatalogEntry,
  type CatalogVariant,
} from '../../src/core/models/catalog';
import type {
  DeviceInfo,
  NoWebGpu,
  StorageInfo,
  WebGpuInfo,
} from '../../src/core/models/device-info';
import { probeDevice } from '../../src/engine/device';
import { assessCatalog, assessFit, pickVariant, recommend } from '../../src/core/models/fit';

const MIB = 2 ** 20;
const GIB = 2 ** 30;

/* Factories: a capable desktop by default; each test overrides what it is about. */
const gpu = (overrides: Partial<Omit<WebGpuInfo, 'available'>> = {}): WebGpuInfo => ({
  available: true,
  vendor: 'nvidia',
  architecture: 'ampere',
  description: 'NVIDIA GeForce RTX 3060',
  isFallbackAdapter: false,
  shaderF16: true,
  maxBufferSize: 4 * GIB,
  maxStorageBufferBindingSize: 2 * GIB,
  ...overrides,
});

const noGpu = (reason = 'This browser does not offer WebGPU.'): NoWebGpu => ({
  available: false,
  reason,
});

const storage = (freeBytes: number, overrides: Partial<StorageInfo> = {}): StorageInfo => ({
  usageBytes: 1 * GIB,
  quotaBytes: 1 * GIB + freeBytes,
  persisted: false,
  ...overrides,
});

const device = (overrides: Partial<DeviceInfo> = {}): DeviceInfo => ({
  webgpu: gpu(),
  wasm: { crossOriginIsolated: false, threads: 1, simd: true },
  deviceMemoryGB: 8,
  hardwareConcurrency: 8,
  storage: storage(100 * GIB),
  ...overrides,
});

const entry = (familyId: string): CatalogEntry => {
  const found = findCatalogEntry(familyId);
  if (!found) throw new Error(`no catalog entry ${familyId}`);
  return found;
};

const variant = (familyId: string, quantization: string): CatalogVariant => {
  const found = entry(familyId).variants.find((v) => v.quantization === quantization);
  if (!found) throw new Error(`no ${quantization} variant of ${familyId}`);
  return found;
};

describe('pickVariant against the real prebuiltAppConfig', () => {
  it('picks the q4f16_1 build when the GPU has shader-f16', () => {
    expect(pickVariant(entry(RECOMMENDED_GPU_FAMILY), device()).spec.id).toBe(
      'Llama-3.2-1B-Instruct-q4f16_1-MLC',
    );
  });

  it('picks the q4f32_1 build without shader-f16 or without WebGPU', () => {
    expect(
      pickVariant(entry(RECOMMENDED_GPU_FAMILY), device({ webgpu: gpu({ shaderF16: false }) })).spec
        .id,
    ).toBe('Llama-3.2-1B-Instruct-q4f32_1-MLC');
    expect(pickVariant(entry('qwen2.5-3b'), device({ webgpu: noGpu() })).spec.id).toBe(
      'Qwen2.5-3B-Instruct-q4f32_1-MLC',
    );
  });

  it('picks the first GGUF file for CPU models', () => {
    expect(pickVariant(entry(CPU_FAMILY_QWEN), device()).quantization).toBe('Q4_K_M');
  });
});

describe('recommend', () => {
  it('suggests Llama-3.2-1B q4f16_1 on a GPU with shader-f16', () => {
    const rec = recommend(device());
    expect(rec.spec.id).toBe('Llama-3.2-1B-Instruct-q4f16_1-MLC');
    expect(rec.fit.verdict).toBe('fits');
    expect(rec.explanation).toMatch(/16-bit float shaders/);
  });

  it('suggests the q4f32_1 build on a GPU without shader-f16 and says why', () => {
    const rec = recommend(device({ webgpu: gpu({ shaderF16: false }) }));
    expect(rec.spec.id).toBe('Llama-3.2-1B-Instruct-q4f32_1-MLC');
    expect(rec.spec.engine === 'webllm' && rec.spec.requiresShaderF16).toBe(false);
    expect(rec.explanation).toMatch(/not 16-bit float shaders/);
  });

  it('falls back to Qwen2.5 0.5B Q4_K_M on the CPU without WebGPU', () => {
    const rec = recommend(device({ webgpu: noGpu('No WebGPU in this browser.') }));
    expect(rec.spec).toMatchObject({ engine: 'wllama', id: 'qwen2.5-0.5b-instruct-q4_k_m.gguf' });
    expect(rec.entry.familyId).toBe(CPU_FAMILY_QWEN);
    expect(rec.explanation).toContain('No WebGPU in this browser.');
  });

  it('prefers the CPU over a software WebGPU adapter', () => {
    const rec = recommend(device({ webgpu: gpu({ isFallbackAdapter: true }) }));
    expect(rec.spec.engine).toBe('wllama');
    expect(rec.explanation).toMatch(/software/);
  });

  it('falls back to SmolLM2 when storage is too short for Qwen', () => {
    const rec = recommend(device({ webgpu: noGpu(), storage: storage(450 * MIB) }));
    expect(rec.entry.familyId).toBe(CPU_FAMILY_SMOLLM);
    expect(rec.explanation).toMatch(/larger Qwen2\.5 0\.5B/);
  });

  it('falls back to the CPU when even Llama-3.2-1B cannot fit the GPU', () => {
    const rec = recommend(device({ webgpu: gpu({ maxStorageBufferBindingSize: 64 * MIB }) }));
    expect(rec.spec.engine).toBe('wllama');
    expect(rec.explanation).toMatch(/cannot run on this GPU/);
  });

  it('still returns the smallest model, with the reasons, when nothing fits', () => {
    const rec = recommend(device({ webgpu: noGpu(), storage: storage(10 * MIB) }));
    expect(rec.entry.familyId).toBe(CPU_FAMILY_SMOLLM);
    expect(rec.fit.verdict).toBe('cannot-fit');
    expect(rec.explanation).toMatch(/Even so: .*storage/);
  });
});

describe('assessFit', () => {
  it('says a small model fits a capable device, with no reasons', () => {
    expect(assessFit(variant(RECOMMENDED_GPU_FAMILY, 'q4f16_1'), device())).toEqual({
      verdict: 'fits',
      reasons: [],
    });
  });

  it('rules out WebLLM models without WebGPU, quoting why', () => {
    const fit = assessFit(
      variant(RECOMMENDED_GPU_FAMILY, 'q4f32_1'),
      device({ webgpu: noGpu('No adapter.') }),
    );
    expect(fit.verdict).toBe('cannot-fit');
    expect(fit.reasons.join(' ')).toMatch(/WebGPU.*No adapter\./);
  });

  it('rules out f16 builds on a GPU without shader-f16 but not f32 builds', () => {
    const noF16 = device({ webgpu: gpu({ shaderF16: false }) });
    const f16 = assessFit(variant('qwen2.5-1.5b', 'q4f16_1'), noF16);
    expect(f16.verdict).toBe('cannot-fit');
    expect(f16.reasons[0]).toMatch(/shader-f16/);
    expect(assessFit(variant('qwen2.5-1.5b', 'q4f32_1'), noF16).verdict).toBe('fits');
  });

  it('rules out models that need more memory than a small device has', () => {
    const small = device({ deviceMemoryGB: 4 });
    const fit = assessFit(variant('llama-3.1-8b', 'q4f16_1'), small);
    expect(fit.verdict).toBe('cannot-fit');
    expect(fit.reasons.join(' ')).toMatch(/5\.\d GB of GPU memory.*4 GB/);
  });

  it('calls a model tight when it needs over half of the reported memory', () => {
    const fit = assessFit(variant('qwen2.5-3b', 'q4f16_1'), device({ deviceMemoryGB: 4 }));
    expect(fit.verdict).toBe('tight');
    expect(fit.reasons.join(' ')).toMatch(/more than half/);
  });

  it('treats 8 GB as "at least 8 GB", so large models are tight, not impossible', () => {
    const fit = assessFit(variant('llama-3.1-8b', 'q4f32_1'), device({ deviceMemoryGB: 8 }));
    expect(fit.verdict).toBe('tight');
    expect(fit.reasons.join(' ')).toMatch(/at least 8 GB/);
  });

  it('never rules a model out on memory when the device reports the 8 GB cap', () => {
    const huge: CatalogVariant = {
      ...variant('llama-3.1-8b', 'q4f16_1'),
      memoryRequiredMB: 12_000,
    };
    expect(assessFit(huge, device({ deviceMemoryGB: 8 })).verdict).toBe('tight');
    expect(assessFit(huge, device({ deviceMemoryGB: 4 })).verdict).toBe('cannot-fit');
  });

  it('flags large models as tight when the browser hides device memory', () => {
    expect(
      assessFit(variant('llama-3.1-8b', 'q4f16_1'), device({ deviceMemoryGB: null })).verdict,
    ).toBe('tight');
    expect(
      assessFit(variant(RECOMMENDED_GPU_FAMILY, 'q4f16_1'), device({ deviceMemoryGB: null }))
        .verdict,
    ).toBe('fits');
  });

  it('treats a phone-class GPU as low-resource: tight for models not built for it', () => {
    const phone = device({ webgpu: gpu({ maxStorageBufferBindingSize: 512 * MIB }) });
    const phi = assessFit(variant('phi-3.5-mini', 'q4f16_1'), phone);
    expect(variant('phi-3.5-mini', 'q4f16_1').lowResourceRequired).toBe(false);
    expect(phi.verdict).toBe('tight');
    expect(phi.reasons.join(' ')).toMatch(/537 MB per buffer binding/);
    expect(assessFit(variant(RECOMMENDED_GPU_FAMILY, 'q4f16_1'), phone).verdict).toBe('fits');
  });

  it("rules out GPUs below WebLLM's minimum buffer limits", () => {
    const tiny = device({ webgpu: gpu({ maxBufferSize: 128 * MIB }) });
    const fit = assessFit(variant(RECOMMENDED_GPU_FAMILY, 'q4f16_1'), tiny);
    expect(fit.verdict).toBe('cannot-fit');
    expect(fit.reasons.join(' ')).toMatch(/minimum WebLLM needs/);
  });

  it('rules out downloads larger than the free quota unless already cached', () => {
    const lowStorage = device({ storage: storage(300 * MIB) });
    const llama = variant(RECOMMENDED_GPU_FAMILY, 'q4f16_1');
    const fit = assessFit(llama, lowStorage);
    expect(fit.verdict).toBe('cannot-fit');
    expect(fit.reasons.join(' ')).toMatch(/larger than the 315 MB of storage/);
    expect(assessFit(llama, lowStorage, { alreadyCached: true }).verdict).toBe('fits');
  });

  it('calls a download that fills most of the free quota tight', () => {
    const smol = variant(CPU_FAMILY_SMOLLM, 'Q8_0');
    expect(assessFit(smol, device({ storage: storage(smol.downloadBytes * 1.1) })).verdict).toBe(
      'tight',
    );
  });

  it('skips the storage check when the browser gives no estimate', () => {
    expect(assessFit(variant(CPU_FAMILY_QWEN, 'Q4_K_M'), device({ storage: null })).verdict).toBe(
      'fits',
    );
  });

  it('runs CPU models without WebGPU but not on a device with too little memory', () => {
    const qwen = variant(CPU_FAMILY_QWEN, 'Q4_K_M');
    expect(assessFit(qwen, device({ webgpu: noGpu(), deviceMemoryGB: 4 })).verdict).toBe('fits');
    const tiny = assessFit(qwen, device({ webgpu: noGpu(), deviceMemoryGB: 0.5 }));
    expect(tiny.verdict).toBe('cannot-fit');
    expect(tiny.reasons.join(' ')).toMatch(/of memory/);
  });

  it('collects every problem, worst verdict first', () => {
    const fit = assessFit(
      variant('llama-3.1-8b', 'q4f16_1'),
      device({ webgpu: gpu({ shaderF16: false }), deviceMemoryGB: 2, storage: storage(1 * GIB) }),
    );
    expect(fit.verdict).toBe('cannot-fit');
    expect(fit.reasons).toHaveLength(3);
  });
});

describe('assessCatalog', () => {
  it('lists every model, marking the ones that cannot run instead of hiding them', () => {
    const rows = assessCatalog(device({ webgpu: noGpu() }));
    expect(rows).toHaveLength(CATALOG.length);
    const verdicts = new Map(rows.map((r) => [r.entry.familyId, r.fit.verdict]));
    expect(verdicts.get('llama-3.1-8b')).toBe('cannot-fit');
    expect(verdicts.get(CPU_FAMILY_QWEN)).toBe('fits');
  });

  it('does not count storage for cached models', () => {
    const rows = assessCatalog(device({ storage: storage(0) }), CATALOG, (spec) =>
      spec.id.startsWith('Llama-3.2-1B'),
    );
    const llama = rows.find((r) => r.entry.familyId === RECOMMENDED_GPU_FAMILY);
    expect(llama?.fit.verdict).toBe('fits');
    expect(rows.find((r) => r.entry.familyId === 'qwen2.5-1.5b')?.fit.verdict).toBe('cannot-fit');
  });
});

describe('probeDevice', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  const adapter = (overrides: Record<string, unknown> = {}) => ({
    features: new Set(['shader-f16']),
    limits: { maxBufferSize: 2 * GIB, maxStorageBufferBindingSize: 1 * GIB },
    info: { vendor: 'apple', architecture: 'metal-3', description: 'Apple M2' },
    ...overrides,
  });

  it('reads the adapter, memory and storage', async () => {
    vi.stubGlobal('navigator', {
      gpu: { requestAdapter: () => Promise.resolve(adapter()) },
      deviceMemory: 8,
      hardwareConcurrency: 10,
      storage: {
        estimate: () => Promise.resolve({ usage: 5, quota: 100 }),
        persisted: () => Promise.resolve(true),
      },
    });
    expect(await probeDevice()).toEqual({
      webgpu: {
        available: true,
        vendor: 'apple',
        architecture: 'metal-3',
        description: 'Apple M2',
        isFallbackAdapter: false,
        shaderF16: true,
        maxBufferSize: 2 * GIB,
        maxStorageBufferBindingSize: 1 * GIB,
      },
      // Node is not a cross-origin isolated page: one thread, whatever the core count.
      wasm: { crossOriginIsolated: false, threads: 1, simd: true },
      deviceMemoryGB: 8,
      hardwareConcurrency: 10,
      storage: { usageBytes: 5, quotaBytes: 100, persisted: true },
    });
  });

  it('chooses the CPU engine threads from the cores once the context is isolated', async () => {
    vi.stubGlobal('navigator', { hardwareConcurrency: 4 });
    vi.stubGlobal('crossOriginIsolated', true);
    expect((await probeDevice()).wasm).toEqual({
      crossOriginIsolated: true,
      threads: 3,
      simd: true,
    });
  });

  it('explains a missing WebGPU API and tolerates missing memory and storage APIs', async () => {
    vi.stubGlobal('navigator', { hardwareConcurrency: 4 });
    const info = await probeDevice();
    expect(info.webgpu.available).toBe(false);
    expect(!info.webgpu.available && info.webgpu.reason).toMatch(/does not offer WebGPU/);
    expect(info.deviceMemoryGB).toBeNull();
    expect(info.storage).toBeNull();
    expect(info.hardwareConcurrency).toBe(4);
  });

  it('explains a missing adapter and a failing adapter request', async () => {
    vi.stubGlobal('navigator', { gpu: { requestAdapter: () => Promise.resolve(null) } });
    const none = (await probeDevice()).webgpu;
    expect(!none.available && none.reason).toMatch(/no usable GPU/);

    vi.stubGlobal('navigator', {
      gpu: { requestAdapter: () => Promise.reject(new Error('GPU process crashed')) },
    });
    const failed = (await probeDevice()).webgpu;
    expect(!failed.available && failed.reason).toMatch(/GPU process crashed/);
  });

  it('falls back to requestAdapterInfo and the adapter-level fallback flag', async () => {
    vi.stubGlobal('navigator', {
      gpu: {
        requestAdapter: () =>
          Promise.resolve(
            adapter({
              info: undefined,
              features: new Set<string>(),
              isFallbackAdapter: true,
              requestAdapterInfo: () => Promise.resolve({ vendor: 'google' }),
            }),
          ),
      },
    });
    expect((await probeDevice()).webgpu).toMatchObject({
      available: true,
      vendor: 'google',
      description: '',
      shaderF16: false,
      isFallbackAdapter: true,
    });
  });

  it('reports storage as unknown when the estimate fails', async () => {
    vi.stubGlobal('navigator', {
      storage: { estimate: () => Promise.reject(new Error('denied')) },
    });
    expect((await probeDevice()).storage).toBeNull();
  });

  it('works with no navigator at all', async () => {
    vi.stubGlobal('navigator', undefined);
    const info = await probeDevice();
    expect(info.webgpu.available).toBe(false);
    expect(info.hardwareConcurrency).toBe(1);
  });
});
