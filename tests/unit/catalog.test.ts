import { prebuiltAppConfig, type AppConfig } from '@mlc-ai/web-llm';
import { describe, expect, it } from 'vitest';
import {
  CATALOG,
  CATALOG_WEBLLM_MODEL_IDS,
  CPU_FAMILY_QWEN,
  CPU_FAMILY_SMOLLM,
  RECOMMENDED_GPU_FAMILY,
  buildCatalog,
  catalogSpecs,
  customModelSpec,
  estimateMlcDownloadBytes,
  findCatalogEntry,
  findCatalogVariant,
  mlcQuantization,
  mlcRequiresShaderF16,
  type CustomModelInput,
  type CustomModelResult,
} from '../../src/core/models/catalog';
import type { ModelSpec } from '../../src/core/llm';

const record = (id: string) => {
  const found = prebuiltAppConfig.model_list.find((r) => r.model_id === id);
  if (!found) throw new Error(`${id} is not in prebuiltAppConfig`);
  return found;
};

const isAbsoluteHttps = (value: string): boolean => {
  try {
    return new URL(value).protocol === 'https:';
  } catch {
    return false;
  }
};

const specUrls = (spec: ModelSpec): string[] =>
  spec.engine === 'webllm' ? [spec.modelUrl, spec.modelLibUrl] : [spec.url];

describe('catalog against the installed WebLLM prebuiltAppConfig', () => {
  it('ships a snapshot equal to the installed WebLLM config (else: npm run catalog:update)', () => {
    expect(CATALOG).toEqual(buildCatalog(prebuiltAppConfig));
  });

  it('finds every curated model id in prebuiltAppConfig', () => {
    const known = new Set(prebuiltAppConfig.model_list.map((r) => r.model_id));
    const missing = CATALOG_WEBLLM_MODEL_IDS.filter((id) => !known.has(id));
    expect(missing).toEqual([]);
  });

  it('builds every WebLLM variant from its record, not from typed values', () => {
    const webllmVariants = CATALOG.filter((e) => e.engine === 'webllm').flatMap((e) => e.variants);
    expect(webllmVariants.map((v) => v.spec.id).sort()).toEqual(
      [...CATALOG_WEBLLM_MODEL_IDS].sort(),
    );
    for (const variant of webllmVariants) {
      const spec = variant.spec;
      if (spec.engine !== 'webllm') throw new Error('expected a WebLLM spec');
      const source = record(spec.id);
      expect(spec.modelUrl).toBe(source.model);
      expect(spec.modelLibUrl).toBe(source.model_lib);
      expect(spec.vramRequiredMB).toBe(source.vram_required_MB);
      expect(variant.memoryRequiredMB).toBe(source.vram_required_MB);
      expect(spec.contextWindow).toBe(source.overrides?.context_window_size);
      expect(variant.lowResourceRequired).toBe(source.low_resource_required ?? false);
    }
  });

  it('offers the promised families, each with an f16 build first and an f32 build', () => {
    const families = CATALOG.filter((e) => e.engine === 'webllm').map((e) => e.familyId);
    expect(families).toEqual([
      RECOMMENDED_GPU_FAMILY,
      'qwen2.5-1.5b',
      'qwen2.5-3b',
      'phi-3.5-mini',
      'llama-3.1-8b',
    ]);
    for (const entry of CATALOG.filter((e) => e.engine === 'webllm')) {
      expect(entry.variants.map((v) => v.quantization)).toEqual(['q4f16_1', 'q4f32_1']);
      expect(entry.variants.map((v) => v.requiresShaderF16)).toEqual([true, false]);
    }
  });

  it('recommends Llama-3.2-1B with the real prebuilt ids', () => {
    const llama = findCatalogEntry(RECOMMENDED_GPU_FAMILY);
    expect(llama?.variants.map((v) => v.spec.id)).toEqual([
      'Llama-3.2-1B-Instruct-q4f16_1-MLC',
      'Llama-3.2-1B-Instruct-q4f32_1-MLC',
    ]);
  });

  it('uses absolute https URLs everywhere, Hugging Face resolve URLs for GGUF files', () => {
    for (const spec of catalogSpecs()) {
      for (const url of specUrls(spec)) expect(isAbsoluteHttps(url), url).toBe(true);
      if (spec.engine === 'wllama') {
        expect(spec.url).toMatch(
          /^https:\/\/huggingface\.co\/[^/]+\/[^/]+\/resolve\/main\/[^/]+\.gguf$/,
        );
      }
    }
  });

  it('has unique spec ids and lists every variant through catalogSpecs', () => {
    const specs = catalogSpecs();
    expect(specs).toHaveLength(CATALOG.reduce((n, e) => n + e.variants.length, 0));
    expect(new Set(specs.map((s) => `${s.engine}:${s.id}`)).size).toBe(specs.length);
  });

  it('lists the CPU models with their GGUF files and published sizes', () => {
    const qwen = findCatalogEntry(CPU_FAMILY_QWEN);
    const smol = findCatalogEntry(CPU_FAMILY_SMOLLM);
    expect(qwen?.variants.map((v) => [v.spec.id, v.quantization])).toEqual([
      ['qwen2.5-0.5b-instruct-q4_k_m.gguf', 'Q4_K_M'],
      ['qwen2.5-0.5b-instruct-q8_0.gguf', 'Q8_0'],
    ]);
    expect(smol?.variants.map((v) => [v.spec.id, v.quantization])).toEqual([
      ['smollm2-360m-instruct-q8_0.gguf', 'Q8_0'],
    ]);
    for (const variant of [...(qwen?.variants ?? []), ...(smol?.variants ?? [])]) {
      expect(variant.downloadBytesSource).toBe('listed');
      expect(variant.requiresShaderF16).toBe(false);
      // Memory need covers at least the weights.
      expect(variant.memoryRequiredMB).toBeGreaterThan(variant.downloadBytes / 2 ** 20);
    }
  });

  it('finds a variant by engine and id', () => {
    const found = findCatalogVariant('webllm', 'Qwen2.5-3B-Instruct-q4f32_1-MLC');
    expect(found?.entry.familyId).toBe('qwen2.5-3b');
    expect(found?.variant.quantization).toBe('q4f32_1');
    expect(findCatalogVariant('wllama', 'Qwen2.5-3B-Instruct-q4f32_1-MLC')).toBeUndefined();
  });
});

describe('buildCatalog with a config that lacks models', () => {
  it('drops missing variants and families but keeps the CPU models', () => {
    const config: AppConfig = {
      model_list: prebuiltAppConfig.model_list.filter(
        (r) =>
          r.model_id !== 'Llama-3.2-1B-Instruct-q4f16_1-MLC' &&
          !r.model_id.startsWith('Phi-3.5-mini'),
      ),
    };
    const catalog = buildCatalog(config);
    expect(
      findCatalogEntry(RECOMMENDED_GPU_FAMILY, catalog)?.variants.map((v) => v.quantization),
    ).toEqual(['q4f32_1']);
    expect(findCatalogEntry('phi-3.5-mini', catalog)).toBeUndefined();
    expect(findCatalogEntry(CPU_FAMILY_QWEN, catalog)).toBeDefined();
    expect(buildCatalog({ model_list: [] }).map((e) => e.engine)).toEqual(['wllama', 'wllama']);
  });
});

describe('download size estimate', () => {
  it('follows bits per weight of the quantization', () => {
    const f16 = estimateMlcDownloadBytes(1.24e9, 'q4f16_1');
    const f32 = estimateMlcDownloadBytes(1.24e9, 'q4f32_1');
    // 1.24e9 × 4.5 bits = 697.5 MB of weights, plus tokenizer, config and library.
    expect(f16).toBeGreaterThan(697e6);
    expect(f16).toBeLessThan(740e6);
    expect(f32).toBeGreaterThan(f16 ?? Infinity);
    expect(estimateMlcDownloadBytes(1e9, 'q3f16_0')).toBeNull();
    expect(estimateMlcDownloadBytes(0, 'q4f16_1')).toBeNull();
  });

  it('grows with the model across the catalog', () => {
    const sizes = CATALOG.filter((e) => e.engine === 'webllm').map(
      (e) => e.variants[0]?.downloadBytes ?? 0,
    );
    expect(sizes).toEqual([...sizes].sort((a, b) => a - b));
    expect(
      CATALOG.filter((e) => e.engine === 'webllm').every((e) =>
        e.variants.every((v) => v.downloadBytesSource === 'estimate'),
      ),
    ).toBe(true);
  });
});

describe('MLC naming', () => {
  it('reads the quantization from a model id', () => {
    expect(mlcQuantization('Llama-3.2-1B-Instruct-q4f16_1-MLC')).toBe('q4f16_1');
    expect(mlcQuantization('Llama-3.1-8B-Instruct-q4f32_1-MLC-1k')).toBe('q4f32_1');
    expect(mlcQuantization('SmolLM2-360M-Instruct-q0f16-MLC')).toBe('q0f16');
    expect(mlcQuantization('my-model')).toBeNull();
  });

  it('needs shader-f16 for f16 builds even when the record does not declare it', () => {
    expect(record('Llama-3.2-1B-Instruct-q4f16_1-MLC').required_features).toBeUndefined();
    expect(mlcRequiresShaderF16(record('Llama-3.2-1B-Instruct-q4f16_1-MLC'))).toBe(true);
    expect(mlcRequiresShaderF16(record('Llama-3.2-1B-Instruct-q4f32_1-MLC'))).toBe(false);
    expect(mlcRequiresShaderF16({ model_id: 'x', required_features: ['shader-f16'] })).toBe(true);
  });
});

describe('customModelSpec', () => {
  const ok = (result: CustomModelResult): ModelSpec => {
    if (!result.ok) throw new Error(`expected a spec, got: ${result.error}`);
    return result.spec;
  };
  const failure = (input: CustomModelInput) => {
    const result = customModelSpec(input);
    if (result.ok) throw new Error('expected a validation error');
    return result;
  };
  const lib = 'https://example.com/libs/Foo-q4f16_1-webgpu.wasm';

  it('turns a .gguf URL into a CPU model named after the file', () => {
    const spec = ok(
      customModelSpec({ url: ' https://huggingface.co/u/r/resolve/main/My%20Model-Q4_K_M.gguf ' }),
    );
    expect(spec).toEqual({
      engine: 'wllama',
      id: 'My Model-Q4_K_M.gguf',
      url: 'https://huggingface.co/u/r/resolve/main/My%20Model-Q4_K_M.gguf',
      contextWindow: 4096,
    });
  });

  it('keeps a given id and context window for a GGUF model', () => {
    const spec = ok(
      customModelSpec({ url: 'http://localhost:8080/m.gguf', id: 'mine', contextWindow: 2048 }),
    );
    expect(spec).toMatchObject({ engine: 'wllama', id: 'mine', contextWindow: 2048 });
  });

  it('rewrites a Hugging Face blob page to the file it shows', () => {
    const spec = ok(customModelSpec({ url: 'https://huggingface.co/u/r/blob/main/m.gguf' }));
    expect(spec.engine === 'wllama' && spec.url).toBe(
      'https://huggingface.co/u/r/resolve/main/m.gguf',
    );
  });

  it('asks for the first part of a split GGUF model', () => {
    const result = failure({ url: 'https://example.com/m-00002-of-00003.gguf' });
    expect(result.field).toBe('url');
    expect(result.error).toContain('-00001-of-00003.gguf');
    expect(customModelSpec({ url: 'https://example.com/m-00001-of-00003.gguf' }).ok).toBe(true);
  });

  it('rejects relative URLs, other schemes and credentials with a clear message', () => {
    expect(failure({ url: 'models/m.gguf' }).error).toMatch(/full address.*https:\/\//);
    expect(failure({ url: '' }).error).toMatch(/Enter the address/);
    expect(failure({ url: 'ftp://example.com/m.gguf' }).error).toMatch(/http and https.*ftp:/);
    expect(failure({ url: 'file://server/share/m.gguf' }).error).toMatch(/file:/);
    expect(failure({ url: 'https://me:secret@example.com/m.gguf' }).error).toMatch(/password/);
  });

  it('turns an MLC folder and its library into a WebLLM model', () => {
    const spec = ok(
      customModelSpec({ url: 'https://huggingface.co/me/Foo-q4f16_1-MLC', modelLibUrl: lib }),
    );
    expect(spec).toEqual({
      engine: 'webllm',
      id: 'Foo-q4f16_1-MLC',
      modelUrl: 'https://huggingface.co/me/Foo-q4f16_1-MLC',
      modelLibUrl: lib,
      requiresShaderF16: true,
    });
  });

  it('reads the id before /resolve/ and respects explicit options', () => {
    const spec = ok(
      customModelSpec({
        url: 'https://example.com/m/Bar-q4f32_1-MLC/resolve/main/',
        modelLibUrl: 'https://example.com/libs/bar.wasm',
        contextWindow: 8192,
      }),
    );
    expect(spec).toMatchObject({
      id: 'Bar-q4f32_1-MLC',
      requiresShaderF16: false,
      contextWindow: 8192,
    });
    const forced = ok(
      customModelSpec({
        url: 'https://huggingface.co/me/Foo-q4f16_1-MLC',
        modelLibUrl: lib,
        requiresShaderF16: false,
        id: 'foo',
      }),
    );
    expect(forced).toMatchObject({ id: 'foo', requiresShaderF16: false });
  });

  it('explains what an MLC model is missing', () => {
    const noLib = failure({ url: 'https://huggingface.co/me/Foo-MLC' });
    expect(noLib.field).toBe('modelLibUrl');
    expect(noLib.error).toMatch(/\.wasm/);
    expect(
      failure({ url: 'https://huggingface.co/me/Foo-MLC', modelLibUrl: 'libs/foo.wasm' }).error,
    ).toMatch(/full address/);
    expect(
      failure({
        url: 'https://huggingface.co/me/Foo-MLC',
        modelLibUrl: 'https://example.com/foo.js',
      }).error,
    ).toMatch(/\.wasm/);
    expect(
      failure({
        url: 'https://huggingface.co/me/Foo-MLC/resolve/main/mlc-chat-config.json',
        modelLibUrl: lib,
      }).error,
    ).toMatch(/folder/);
  });

  it('rejects folders outside Hugging Face that WebLLM would not find', () => {
    const result = failure({ url: 'https://example.com/models/Foo-MLC/', modelLibUrl: lib });
    expect(result.field).toBe('url');
    expect(result.error).toMatch(/\/resolve\/<branch>\//);
  });

  it('validates the id and context window', () => {
    expect(failure({ url: 'https://e.com/m.gguf', id: '  ' }).field).toBe('id');
    expect(failure({ url: 'https://e.com/m.gguf', contextWindow: 1.5 }).field).toBe(
      'contextWindow',
    );
    expect(failure({ url: 'https://e.com/m.gguf', contextWindow: 16 }).field).toBe('contextWindow');
  });
});
