/**
 * The curated model catalog. WebLLM entries are read from WebLLM's own `prebuiltAppConfig`, the
 * only list of model libraries compatible with the installed WebLLM version, so ids, URLs, model
 * libraries, VRAM needs and context windows are never typed by hand. The CPU (wllama) entries are
 * GGUF files on Hugging Face, listed here with their published sizes.
 *
 * The records are read from `webllm-records.json`, a snapshot of `prebuiltAppConfig` for our
 * models: importing `prebuiltAppConfig` itself would pull the whole WebLLM runtime into the UI
 * bundle (the package is one module that does not tree-shake). A unit test keeps the snapshot
 * equal to the installed WebLLM's config; `npm run catalog:update` refreshes it.
 */
import type { AppConfig, ModelRecord } from '@mlc-ai/web-llm';
import webllmRecords from './webllm-records.json';
import type { EngineKind, ModelSpec, WebLLMModelSpec, WllamaModelSpec } from '../llm';

export interface CatalogVariant {
  spec: ModelSpec;
  /** E.g. `q4f16_1`, `q4f32_1`, `Q4_K_M`. */
  quantization: string;
  /** Same as the spec's flag for WebLLM; always false for CPU models. */
  requiresShaderF16: boolean;
  /** Bytes the browser downloads and stores for this variant. */
  downloadBytes: number;
  /**
   * `listed`: the file size its host publishes. `estimate`: computed by
   * {@link estimateMlcDownloadBytes}, as WebLLM does not list download sizes.
   */
  downloadBytesSource: 'listed' | 'estimate';
  /**
   * Memory the model needs while running, in MiB: GPU memory for WebLLM (`vram_required_MB` from
   * WebLLM's config), system memory for CPU models (estimated, see `wllamaMemoryMB`).
   */
  memoryRequiredMB: number | null;
  /** WebLLM's `low_resource_required`: the model is meant to run on phone-class GPUs. */
  lowResourceRequired: boolean;
  /** Tokens the model reads at once as configured here. */
  contextWindow: number;
}

export interface CatalogEntry {
  /** Stable id of the model family, e.g. `llama-3.2-1b`. */
  familyId: string;
  label: string;
  description: string;
  engine: EngineKind;
  /** Parameter count, as published by the model's authors. */
  parameters: number;
  /** At least one variant; for WebLLM the shader-f16 one first when there is one. */
  variants: CatalogVariant[];
}

export const RECOMMENDED_GPU_FAMILY = 'llama-3.2-1b';
export const CPU_FAMILY_QWEN = 'qwen2.5-0.5b-cpu';
export const CPU_FAMILY_SMOLLM = 'smollm2-360m-cpu';

interface WebLLMFamilyDefinition {
  familyId: string;
  label: string;
  description: string;
  parameters: number;
  /** Model ids in `prebuiltAppConfig`, f16 first. */
  modelIds: readonly string[];
}

/*
 * The 4k-context builds are listed, not the `-1k` ones: a 1k window cannot hold the instructions,
 * the profile and any history. Parameter counts are from each model's card.
 */
const WEBLLM_FAMILIES: readonly WebLLMFamilyDefinition[] = [
  {
    familyId: RECOMMENDED_GPU_FAMILY,
    label: 'Llama 3.2 1B Instruct',
    description:
      'Small and quick. Runs on most GPUs with WebGPU, including laptops with integrated graphics. The default.',
    parameters: 1.24e9,
    modelIds: ['Llama-3.2-1B-Instruct-q4f16_1-MLC', 'Llama-3.2-1B-Instruct-q4f32_1-MLC'],
  },
  {
    familyId: 'qwen2.5-1.5b',
    label: 'Qwen2.5 1.5B Instruct',
    description:
      'A little larger and noticeably better at following instructions and writing JSON.',
    parameters: 1.54e9,
    modelIds: ['Qwen2.5-1.5B-Instruct-q4f16_1-MLC', 'Qwen2.5-1.5B-Instruct-q4f32_1-MLC'],
  },
  {
    familyId: 'qwen2.5-3b',
    label: 'Qwen2.5 3B Instruct',
    description: 'Stronger answers for a bigger download; wants a GPU with about 3 GB to spare.',
    parameters: 3.09e9,
    modelIds: ['Qwen2.5-3B-Instruct-q4f16_1-MLC', 'Qwen2.5-3B-Instruct-q4f32_1-MLC'],
  },
  {
    familyId: 'phi-3.5-mini',
    label: 'Phi-3.5 mini Instruct',
    description:
      "Microsoft's 3.8B model: good reasoning for its size; wants 4 to 6 GB of GPU memory.",
    parameters: 3.82e9,
    modelIds: ['Phi-3.5-mini-instruct-q4f16_1-MLC', 'Phi-3.5-mini-instruct-q4f32_1-MLC'],
  },
  {
    familyId: 'llama-3.1-8b',
    label: 'Llama 3.1 8B Instruct',
    description:
      'The strongest choice here, for desktop GPUs: a download of several gigabytes and 5 to 6 GB of GPU memory.',
    parameters: 8.03e9,
    modelIds: ['Llama-3.1-8B-Instruct-q4f16_1-MLC', 'Llama-3.1-8B-Instruct-q4f32_1-MLC'],
  },
];

/** Every WebLLM model id the catalog asks `prebuiltAppConfig` for. */
export const CATALOG_WEBLLM_MODEL_IDS: readonly string[] = WEBLLM_FAMILIES.flatMap(
  (family) => family.modelIds,
);

/** Context window used for CPU models: long enough for a chat, small enough for CPU memory. */
const CPU_CONTEXT_WINDOW = 4096;

/*
 * Bits stored per weight in MLC's group quantization: `q4f16_1` packs 4-bit weights in groups of
 * 32 sharing one f16 scale (4 + 16/32 = 4.5 bits), `q4f32_1` one f32 scale (4 + 32/32 = 5 bits);
 * `q0` is unquantized. Embeddings and the output head are quantized too, so this applies to all
 * parameters; norms and biases are too small to matter.
 */
const MLC_BITS_PER_WEIGHT: Readonly<Record<string, number>> = {
  q4f16_1: 4.5,
  q4f32_1: 5,
  q0f16: 16,
  q0f32: 32,
};

/** Tokenizer (up to ~11 MB for 150k-token vocabularies), chat config and model library (.wasm). */
const MLC_FIXED_OVERHEAD_BYTES = 20 * 1024 * 1024;

/**
 * Estimated download of an MLC model: parameters × bits per weight / 8, plus the tokenizer, config
 * and model library. WebLLM publishes no sizes; this lands within about 10% of the weight shards
 * on Hugging Face (e.g. Llama-3.2-1B q4f16_1: 1.24e9 × 4.5 / 8 ≈ 700 MB of shards).
 */
export function estimateMlcDownloadBytes(parameters: number, quantization: string): number | null {
  const bits = MLC_BITS_PER_WEIGHT[quantization];
  if (bits === undefined || !(parameters > 0)) return null;
  return Math.round((parameters * bits) / 8) + MLC_FIXED_OVERHEAD_BYTES;
}

/** `Llama-3.2-1B-Instruct-q4f16_1-MLC` → `q4f16_1`. */
export function mlcQuantization(modelId: string): string | null {
  return /-(q\d+f\d+(?:_\d+)?)-MLC/i.exec(modelId)?.[1]?.toLowerCase() ?? null;
}

/**
 * Whether an MLC model needs WebGPU's `shader-f16`. Many `q4f16_1` records do not declare it in
 * `required_features` yet fail without it, so the quantization name decides as well.
 */
export function mlcRequiresShaderF16(
  record: Pick<ModelRecord, 'model_id' | 'required_features'>,
): boolean {
  if (record.required_features?.includes('shader-f16')) return true;
  return /f16/.test(mlcQuantization(record.model_id) ?? '');
}

function webllmVariant(record: ModelRecord, parameters: number): CatalogVariant | null {
  const quantization = mlcQuantization(record.model_id);
  const contextWindow = record.overrides?.context_window_size;
  if (!quantization || contextWindow === undefined || contextWindow <= 0) return null;
  const downloadBytes = estimateMlcDownloadBytes(parameters, quantization);
  if (downloadBytes === null) return null;
  const requiresShaderF16 = mlcRequiresShaderF16(record);
  const spec: WebLLMModelSpec = {
    engine: 'webllm',
    id: record.model_id,
    modelUrl: record.model,
    modelLibUrl: record.model_lib,
    requiresShaderF16,
    contextWindow,
  };
  if (record.vram_required_MB !== undefined) spec.vramRequiredMB = record.vram_required_MB;
  return {
    spec,
    quantization,
    requiresShaderF16,
    downloadBytes,
    downloadBytesSource: 'estimate',
    memoryRequiredMB: record.vram_required_MB ?? null,
    lowResourceRequired: record.low_resource_required ?? false,
    contextWindow,
  };
}

/*
 * CPU models. File names are those in the repositories (checked against public references); sizes
 * are the files' published sizes on Hugging Face.
 */
interface GgufFile {
  quantization: string;
  url: string;
  bytes: number;
}

interface WllamaFamilyDefinition {
  familyId: string;
  label: string;
  description: string;
  parameters: number;
  /** Bytes of KV cache per token at f16, from the model's layer and head counts. */
  kvBytesPerToken: number;
  files: readonly GgufFile[];
}

const WLLAMA_FAMILIES: readonly WllamaFamilyDefinition[] = [
  {
    familyId: CPU_FAMILY_QWEN,
    label: 'Qwen2.5 0.5B Instruct (CPU)',
    description:
      'Runs on the processor through WebAssembly, so it works without WebGPU. Slower and simpler than the GPU models.',
    parameters: 0.49e9,
    // 24 layers × (K + V) × 2 KV heads × 64 dims × 2 bytes.
    kvBytesPerToken: 24 * 2 * 2 * 64 * 2,
    files: [
      {
        quantization: 'Q4_K_M',
        url: 'https://huggingface.co/Qwen/Qwen2.5-0.5B-Instruct-GGUF/resolve/main/qwen2.5-0.5b-instruct-q4_k_m.gguf',
        bytes: 491_400_032,
      },
      {
        quantization: 'Q8_0',
        url: 'https://huggingface.co/Qwen/Qwen2.5-0.5B-Instruct-GGUF/resolve/main/qwen2.5-0.5b-instruct-q8_0.gguf',
        bytes: 675_710_816,
      },
    ],
  },
  {
    familyId: CPU_FAMILY_SMOLLM,
    label: 'SmolLM2 360M Instruct (CPU)',
    description:
      'The smallest choice: runs on the processor on almost any device. Short, simple answers.',
    parameters: 0.36e9,
    // 32 layers × (K + V) × 5 KV heads × 64 dims × 2 bytes.
    kvBytesPerToken: 32 * 2 * 5 * 64 * 2,
    files: [
      {
        quantization: 'Q8_0',
        url: 'https://huggingface.co/HuggingFaceTB/SmolLM2-360M-Instruct-GGUF/resolve/main/smollm2-360m-instruct-q8_0.gguf',
        bytes: 386_404_992,
      },
    ],
  },
];

/** llama.cpp's compute buffers and the WebAssembly runtime, on top of weights and KV cache. */
const WLLAMA_RUNTIME_OVERHEAD_MB = 200;

/** Memory a GGUF model needs on the CPU: the weights, the KV cache for the window, the runtime. */
function wllamaMemoryMB(fileBytes: number, kvBytesPerToken: number, contextWindow: number): number {
  const mib = 1024 * 1024;
  return (
    Math.ceil((fileBytes + kvBytesPerToken * contextWindow) / mib) + WLLAMA_RUNTIME_OVERHEAD_MB
  );
}

/** The file name in a URL's path, decoded: the stable id of a GGUF model. */
function ggufFileName(url: string): string {
  const path = new URL(url).pathname;
  const last = path.split('/').filter(Boolean).pop() ?? '';
  return decodeURIComponent(last);
}

function wllamaEntry(family: WllamaFamilyDefinition): CatalogEntry {
  return {
    familyId: family.familyId,
    label: family.label,
    description: family.description,
    engine: 'wllama',
    parameters: family.parameters,
    variants: family.files.map((file): CatalogVariant => {
      const spec: WllamaModelSpec = {
        engine: 'wllama',
        id: ggufFileName(file.url),
        url: file.url,
        contextWindow: CPU_CONTEXT_WINDOW,
      };
      return {
        spec,
        quantization: file.quantization,
        requiresShaderF16: false,
        downloadBytes: file.bytes,
        downloadBytesSource: 'listed',
        memoryRequiredMB: wllamaMemoryMB(file.bytes, family.kvBytesPerToken, CPU_CONTEXT_WINDOW),
        lowResourceRequired: true,
        contextWindow: CPU_CONTEXT_WINDOW,
      };
    }),
  };
}

/**
 * The catalog for a WebLLM app config. A model id the config lacks (WebLLM renamed or dropped it)
 * leaves its variant out rather than breaking the app; a family with no variant left is dropped.
 * `tests/unit/catalog.test.ts` fails when that happens with the installed WebLLM.
 */
export function buildCatalog(appConfig: AppConfig): CatalogEntry[] {
  const records = new Map(appConfig.model_list.map((record) => [record.model_id, record]));
  const gpuEntries = WEBLLM_FAMILIES.map((family): CatalogEntry => {
    const variants = family.modelIds.flatMap((id) => {
      const record = records.get(id);
      const variant = record ? webllmVariant(record, family.parameters) : null;
      return variant ? [variant] : [];
    });
    return {
      familyId: family.familyId,
      label: family.label,
      description: family.description,
      engine: 'webllm',
      parameters: family.parameters,
      variants,
    };
  }).filter((entry) => entry.variants.length > 0);
  return [...gpuEntries, ...WLLAMA_FAMILIES.map(wllamaEntry)];
}

export const CATALOG: readonly CatalogEntry[] = buildCatalog({
  model_list: webllmRecords,
});

/** Every spec in the catalog, e.g. to ask the engines which are cached. */
export function catalogSpecs(catalog: readonly CatalogEntry[] = CATALOG): ModelSpec[] {
  return catalog.flatMap((entry) => entry.variants.map((variant) => variant.spec));
}

export function findCatalogEntry(
  familyId: string,
  catalog: readonly CatalogEntry[] = CATALOG,
): CatalogEntry | undefined {
  return catalog.find((entry) => entry.familyId === familyId);
}

/** The catalog entry and variant whose spec has this engine and id. */
export function findCatalogVariant(
  engine: EngineKind,
  id: string,
  catalog: readonly CatalogEntry[] = CATALOG,
): { entry: CatalogEntry; variant: CatalogVariant } | undefined {
  for (const entry of catalog) {
    const variant = entry.variants.find((v) => v.spec.engine === engine && v.spec.id === id);
    if (variant) return { entry, variant };
  }
  return undefined;
}

/* ------------------------------------------------------------------------------------------- */
/* Custom models                                                                                */
/* ------------------------------------------------------------------------------------------- */

export interface CustomModelInput {
  /** A `.gguf` file, or an MLC model folder (the one holding `mlc-chat-config.json`). */
  url: string;
  /** The compiled model library (`.wasm`); required for an MLC folder, ignored for `.gguf`. */
  modelLibUrl?: string;
  /** Defaults to the file name (GGUF) or the folder name (MLC). */
  id?: string;
  /** Overrides the model's own context window (MLC) or the CPU default (GGUF). */
  contextWindow?: number;
  /** MLC only. Defaults to whether the id or URL names an f16 quantization (`q4f16_1`, ...). */
  requiresShaderF16?: boolean;
}

export type CustomModelField = 'url' | 'modelLibUrl' | 'id' | 'contextWindow';

export type CustomModelResult =
  { ok: true; spec: ModelSpec } | { ok: false; field: CustomModelField; error: string };

const fail = (field: CustomModelField, error: string): CustomModelResult => ({
  ok: false,
  field,
  error,
});

type ParsedUrl = { ok: true; url: URL } | { ok: false; error: string };

function parseAbsoluteHttpUrl(raw: string, what: string): ParsedUrl {
  const text = raw.trim();
  if (text === '') return { ok: false, error: `Enter the address of the ${what}.` };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return {
      ok: false,
      error: `"${text}" is not a full address. Give the whole URL of the ${what}, starting with https://.`,
    };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return {
      ok: false,
      error: `Only http and https addresses can be downloaded; this one starts with ${url.protocol}//.`,
    };
  }
  if (url.username !== '' || url.password !== '') {
    // fetch() refuses URLs with credentials in them.
    return { ok: false, error: 'The address must not contain a user name or password.' };
  }
  return { ok: true, url };
}

const isHuggingFace = (url: URL): boolean =>
  url.hostname === 'huggingface.co' || url.hostname === 'hf.co';

/**
 * Validates a model the user adds by URL. A `.gguf` file becomes a CPU (wllama) model; an MLC
 * model folder plus its model library becomes a WebLLM model.
 */
export function customModelSpec(input: CustomModelInput): CustomModelResult {
  const parsed = parseAbsoluteHttpUrl(input.url, 'model');
  if (!parsed.ok) return fail('url', parsed.error);
  const url = parsed.url;

  if (input.contextWindow !== undefined) {
    if (!Number.isInteger(input.contextWindow) || input.contextWindow < 256) {
      return fail(
        'contextWindow',
        'The context window must be a whole number of tokens, at least 256.',
      );
    }
  }
  const id = input.id?.trim();
  if (input.id !== undefined && id === '') return fail('id', 'The model id cannot be empty.');

  if (url.pathname.toLowerCase().endsWith('.gguf')) return ggufSpec(url, id, input.contextWindow);
  return mlcSpec(url, input, id);
}

function ggufSpec(
  url: URL,
  id: string | undefined,
  contextWindow: number | undefined,
): CustomModelResult {
  // A Hugging Face "blob" page is HTML about the file; "resolve" serves the file itself.
  if (isHuggingFace(url) && url.pathname.includes('/blob/')) {
    url.pathname = url.pathname.replace('/blob/', '/resolve/');
  }
  const fileName = ggufFileName(url.href);
  const part = /-(\d{5})-of-(\d{5})\.gguf$/i.exec(fileName);
  if (part && part[1] !== '00001') {
    return fail(
      'url',
      `This is part ${Number(part[1])} of a split model. Give the address of the first part (…-00001-of-${part[2]}.gguf); the others are found from it.`,
    );
  }
  const spec: WllamaModelSpec = {
    engine: 'wllama',
    id: id ?? fileName,
    url: url.href,
    contextWindow: contextWindow ?? CPU_CONTEXT_WINDOW,
  };
  return { ok: true, spec };
}

function mlcSpec(url: URL, input: CustomModelInput, id: string | undefined): CustomModelResult {
  const last = url.pathname.split('/').filter(Boolean).pop() ?? '';
  if (/\.(json|bin|wasm|safetensors|onnx|gguf)$/i.test(last)) {
    return fail(
      'url',
      'Give the address of the MLC model folder (the one holding mlc-chat-config.json), not of a file in it, or a .gguf file.',
    );
  }
  // WebLLM appends "resolve/main/" to any model URL without "/resolve/<branch>/" (its
  // cleanModelUrl), which only matches Hugging Face's layout.
  if (!isHuggingFace(url) && !/\/resolve\/[^/]+/.test(url.pathname)) {
    return fail(
      'url',
      'WebLLM reads model folders laid out like Hugging Face: outside huggingface.co the address must contain /resolve/<branch>/, e.g. https://example.com/models/MyModel-MLC/resolve/main/.',
    );
  }
  if (input.modelLibUrl === undefined || input.modelLibUrl.trim() === '') {
    return fail(
      'modelLibUrl',
      'An MLC model also needs its compiled model library: give the address of its .wasm file.',
    );
  }
  const lib = parseAbsoluteHttpUrl(input.modelLibUrl, 'model library');
  if (!lib.ok) return fail('modelLibUrl', lib.error);
  if (!lib.url.pathname.toLowerCase().endsWith('.wasm')) {
    return fail('modelLibUrl', 'The model library must be a WebGPU .wasm file built for WebLLM.');
  }

  const modelId = id ?? mlcFolderName(url);
  if (!modelId) return fail('id', 'Give the model an id; none could be read from its address.');
  const requiresShaderF16 =
    input.requiresShaderF16 ?? /q\d+f16/i.test(`${modelId} ${url.pathname} ${lib.url.pathname}`);
  const spec: WebLLMModelSpec = {
    engine: 'webllm',
    id: modelId,
    modelUrl: url.href,
    modelLibUrl: lib.url.href,
    requiresShaderF16,
  };
  if (input.contextWindow !== undefined) spec.contextWindow = input.contextWindow;
  return { ok: true, spec };
}

/** `https://huggingface.co/user/Foo-MLC/resolve/main/` → `Foo-MLC`. */
function mlcFolderName(url: URL): string {
  const segments = url.pathname.split('/').filter(Boolean);
  const resolveAt = segments.indexOf('resolve');
  const folder = resolveAt > 0 ? segments[resolveAt - 1] : segments[segments.length - 1];
  return folder ? decodeURIComponent(folder) : '';
}
