/**
 * The wllama adapter: llama.cpp compiled to WebAssembly (optionally with its WebGPU backend),
 * loading single-file or split `.gguf` models. Runs inside the assistant worker; wllama starts its
 * own nested worker for the wasm runtime, so nothing here may touch `window` or `document`.
 */
import {
  CacheManager,
  ModelManager,
  type CacheEntry,
  Wllama,
  WllamaError,
  type ChatCompletionChunk,
  type ChatCompletionParams,
  type LoadModelParams,
  type RawCompletionParams,
  type RawCompletionResponse,
  type StreamParams,
  type WllamaLogger,
} from '@wllama/wllama/esm/index.js';
// The package's `main` points at a file it does not ship, so the ESM build is imported by path.
import defaultWasmUrl from '@wllama/wllama/esm/wasm/wllama.wasm?url';
import { formatBytes } from '../core/format';
import { chooseWasmThreads } from '../core/wasm-threads';
import { AppError, type ErrorCode } from '../core/errors';
import {
  REPEAT_PENALTY_WINDOW,
  type CachedModelInfo,
  type Engine,
  type FinishReason,
  type GenerateRequest,
  type GenerateResult,
  type LoadedModel,
  type LoadProgress,
  type ModelSpec,
  type WllamaModelSpec,
} from './engine';

/**
 * Where layers run. `auto` offloads to WebGPU only on a hardware adapter with `shader-f16`;
 * `webgpu` always asks for it (llama.cpp still falls back to the CPU if ggml rejects the adapter).
 */
export type WllamaGpuPreference = 'auto' | 'webgpu' | 'cpu';

export interface WllamaEngineOptions {
  /** URL of `wllama.wasm`; defaults to the copy Vite emits from the package. */
  wasmUrl?: string;
  gpu?: WllamaGpuPreference;
  /** Context to allocate when the spec names none; capped by what the model was trained for. */
  defaultContextWindow?: number;
  /** Forward llama.cpp's own log lines to the console (loading details, timings). */
  verbose?: boolean;
  /**
   * llama.cpp's thread count; defaults to `chooseWasmThreads` for this device. More than 1 takes
   * effect only in a cross-origin isolated context: elsewhere wllama runs its single-thread mode.
   */
  threads?: number;
}

/** Enough for a long chat; the KV cache for it stays small next to the weights of a 1-3B model. */
const DEFAULT_CONTEXT_WINDOW = 4096;
/** Enough for any llama.cpp model: asks for "all layers" without knowing the count. */
const ALL_LAYERS = 9999;
/** How many split parts download at once. */
const PARALLEL_DOWNLOADS = 3;

// Only the WebGPU members used here; the DOM library this project compiles against has none.
interface GpuAdapterInfoLike {
  vendor?: string;
  architecture?: string;
  isFallbackAdapter?: boolean;
}
interface GpuAdapterLike {
  info?: GpuAdapterInfoLike;
  isFallbackAdapter?: boolean;
  features?: { has(name: string): boolean };
}
interface GpuLike {
  requestAdapter(options?: {
    powerPreference?: 'high-performance';
  }): Promise<GpuAdapterLike | null>;
}

interface Loaded {
  wllama: Wllama;
  model: LoadedModel;
  /** Aborted on unload, so a reply in progress ends instead of waiting on a dead worker. */
  disposed: AbortController;
}

export class WllamaEngine implements Engine {
  readonly kind = 'wllama' as const;

  private readonly wasmUrl: string;
  private readonly gpu: WllamaGpuPreference;
  private readonly defaultContextWindow: number;
  private readonly verbose: boolean;
  private readonly threads: number;
  private cacheInstance: CacheManager | null = null;
  private loaded: Loaded | null = null;
  private generating = false;
  /** Bumped by every load and unload, so a load that was overtaken does not install itself. */
  private epoch = 0;
  /** Set from llama.cpp's log while a model loads: how many layers went to the GPU. */
  private offloadedLayers: { done: number; total: number } | null = null;

  constructor(options: WllamaEngineOptions = {}) {
    // Absolute, because the assistant worker runs from a blob URL, against which a root-relative
    // URL such as `/assets/wllama.wasm` does not resolve.
    this.wasmUrl = options.wasmUrl ?? new URL(defaultWasmUrl, import.meta.url).href;
    this.gpu = options.gpu ?? 'auto';
    this.defaultContextWindow = options.defaultContextWindow ?? DEFAULT_CONTEXT_WINDOW;
    this.verbose = options.verbose ?? false;
    this.threads =
      options.threads ??
      chooseWasmThreads({
        hardwareConcurrency: navigator.hardwareConcurrency,
        crossOriginIsolated: globalThis.crossOriginIsolated,
      });
  }

  async load(
    spec: ModelSpec,
    onProgress: (p: LoadProgress) => void,
    signal: AbortSignal,
  ): Promise<LoadedModel> {
    if (spec.engine !== 'wllama') {
      throw new AppError('invalid-model', `The wllama engine cannot load a ${spec.engine} model.`);
    }
    throwIfAborted(signal);
    const urls = shardUrls(spec.url);
    await this.unload();
    const epoch = ++this.epoch;
    assertWasmSupported();

    const cache = this.cache();
    let cached = await findCompleteFiles(cache, urls);
    if (cached) {
      onProgress({
        phase: 'cache',
        fraction: 1,
        loadedBytes: cached.size,
        totalBytes: cached.size,
        text: 'Reading the model from browser storage',
      });
    } else {
      await downloadShards(cache, urls, onProgress, signal);
      cached = await findCompleteFiles(cache, urls);
      if (!cached) {
        throw new AppError('unknown', 'The model was downloaded but cannot be found in storage.');
      }
    }
    throwIfAborted(signal);

    const blobs = await openFiles(cache, cached.names);
    const first = blobs[0];
    if (!first) throw new AppError('invalid-model', 'The model has no files.');
    let header: GgufHeader;
    try {
      header = await readGgufHeader(first);
    } catch (error) {
      // A server that answers every path with its index page gives 200 and HTML; dropping the
      // bad copy lets a retry fetch again instead of failing the same way from cache.
      await deleteFiles(cache, urls).catch(() => undefined);
      throw error;
    }

    const requested = spec.contextWindow ?? this.defaultContextWindow;
    const nCtx = header.contextLength ? Math.min(requested, header.contextLength) : requested;
    const nGpuLayers = await this.chooseGpuLayers();
    onProgress({
      phase: 'init',
      fraction: null,
      text: nGpuLayers > 0 ? 'Starting llama.cpp with WebGPU' : 'Starting llama.cpp',
    });

    let started: { wllama: Wllama; contextWindow: number };
    try {
      started = await this.startRuntime(cache, blobs, nCtx, nGpuLayers, signal);
    } catch (error) {
      if (nGpuLayers === 0 || signal.aborted || !(error instanceof AppError)) throw error;
      // A model that does not fit the GPU (or a driver that fails) may still run on the CPU.
      console.warn('wllama: WebGPU start failed, retrying on the CPU:', error.message);
      onProgress({ phase: 'init', fraction: null, text: 'Starting llama.cpp on the CPU' });
      started = await this.startRuntime(cache, blobs, nCtx, 0, signal);
    }
    if (epoch !== this.epoch) {
      await started.wllama.exit().catch(() => undefined);
      throw new AppError('aborted', 'Loading the model was cancelled by another load or unload.');
    }
    const model: LoadedModel = {
      spec,
      contextWindow: started.contextWindow,
      backend: this.describeBackend(started.wllama),
    };
    this.loaded = { wllama: started.wllama, model, disposed: new AbortController() };
    return model;
  }

  /** Starts a wasm runtime with the model; on any failure the runtime is torn down again. */
  private async startRuntime(
    cache: CacheManager,
    blobs: Blob[],
    nCtx: number,
    nGpuLayers: number,
    signal: AbortSignal,
  ): Promise<{ wllama: Wllama; contextWindow: number }> {
    const wllama = this.createWllama(cache);
    const params: LoadModelParams = {
      n_ctx: nCtx,
      n_gpu_layers: nGpuLayers,
      // Without COOP/COEP there is no SharedArrayBuffer: wllama then starts its single-thread
      // mode whatever is asked, so asking for more is safe.
      n_threads: this.threads,
    };
    this.offloadedLayers = null;
    try {
      await untilAborted(wllama.loadModel(blobs, params), signal);
    } catch (error) {
      await wllama.exit().catch(() => undefined);
      if (signal.aborted) throw abortedError();
      throw toAppError(error, 'invalid-model', 'llama.cpp could not load the model');
    }
    const info = wllama.getLoadedContextInfo();
    // wllama 3.8 does not check the load result itself: a model llama.cpp rejected (unknown
    // architecture, missing tensors) comes back as an empty context instead of an error.
    if ((info as { success?: boolean }).success === false || info.n_vocab <= 0) {
      await wllama.exit().catch(() => undefined);
      throw new AppError(
        'invalid-model',
        'llama.cpp could not load this model (unsupported architecture or damaged file).',
      );
    }
    return { wllama, contextWindow: info.n_ctx };
  }

  async generate(
    request: GenerateRequest,
    onDelta: (text: string) => void,
    signal: AbortSignal,
  ): Promise<GenerateResult> {
    const { wllama, disposed } = this.requireLoaded();
    if (this.generating) {
      throw new AppError('busy', 'The model is already writing a reply.');
    }
    this.generating = true;

    let text = '';
    let finishReason: FinishReason = 'stop';
    let promptTokens = 0;
    let completionTokens = 0;
    let pieces = 0;
    let decodeTokensPerSecond: number | undefined;
    let cachedPromptTokens: number | undefined;
    let prefillTokensPerSecond: number | undefined;
    const stopped = (): boolean => signal.aborted || disposed.signal.aborted;

    const onData = (chunk: ChatCompletionChunk): void => {
      // wllama notices an abort only before its next poll; pieces that arrive after the caller
      // stopped are not part of the reply it was given.
      if (stopped()) return;
      for (const choice of chunk.choices) {
        const piece = choice.delta.content;
        if (piece) {
          text += piece;
          pieces++;
          onDelta(piece);
        }
        if (choice.finish_reason === 'length') finishReason = 'length';
      }
      // Timings ride on every chunk (timings_per_token), so counts survive an abort mid-reply.
      if (chunk.timings) {
        promptTokens = chunk.timings.prompt_n + chunk.timings.cache_n;
        completionTokens = chunk.timings.predicted_n;
        cachedPromptTokens = chunk.timings.cache_n;
        if (chunk.timings.prompt_ms > 0 && chunk.timings.prompt_n > 0) {
          prefillTokensPerSecond = chunk.timings.prompt_per_second;
        }
        if (chunk.timings.predicted_ms > 0 && chunk.timings.predicted_n > 1) {
          decodeTokensPerSecond = chunk.timings.predicted_per_second;
        }
      }
      if (chunk.usage) {
        promptTokens = chunk.usage.prompt_tokens;
        completionTokens = chunk.usage.completion_tokens;
      }
    };

    const params: ChatCompletionParams &
      StreamParams<ChatCompletionChunk> & { stream_options: { include_usage: boolean } } = {
      messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
      stream: true,
      onData,
      stream_options: { include_usage: true },
      // wllama cancels the request in llama.cpp when it sees this abort, freeing the slot.
      abortSignal: signal,
      cache_prompt: true,
      timings_per_token: true,
      ...(request.maxTokens === undefined ? {} : { max_tokens: request.maxTokens }),
      ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
      ...(request.seed === undefined ? {} : { seed: request.seed }),
      // llama.cpp's own names for them (wllama passes the body to its server code as it is).
      ...(request.repeatPenalty === undefined
        ? {}
        : { repeat_penalty: request.repeatPenalty, repeat_last_n: REPEAT_PENALTY_WINDOW }),
      ...(request.jsonSchema === undefined
        ? {}
        : {
            // llama.cpp compiles the schema into a grammar, so only matching text can be sampled.
            response_format: {
              type: 'json_schema' as const,
              json_schema: { name: 'response', schema: request.jsonSchema, strict: true },
            },
          }),
    };

    try {
      const outcome = await settleUnlessStopped(wllama.createChatCompletion(params), [
        signal,
        disposed.signal,
      ]);
      if (outcome === 'stopped') finishReason = 'abort';
    } catch (error) {
      if (!stopped()) throw await this.failGeneration(error);
      finishReason = 'abort';
    } finally {
      this.generating = false;
    }
    if (completionTokens === 0) completionTokens = pieces;
    return {
      text,
      finishReason,
      promptTokens,
      completionTokens,
      ...(decodeTokensPerSecond === undefined ? {} : { decodeTokensPerSecond }),
      ...(cachedPromptTokens === undefined ? {} : { cachedPromptTokens }),
      ...(prefillTokensPerSecond === undefined ? {} : { prefillTokensPerSecond }),
    };
  }

  async countTokens(text: string): Promise<number> {
    const { wllama, model } = this.requireLoaded();
    if (text === '') return 0;
    // wllama 3 removed tokenize(). A raw completion reports the prompt length in its usage; with
    // max_tokens 0 llama.cpp still evaluates the text and samples one token, so this costs about
    // one prompt-processing pass.
    const params: RawCompletionParams & { stream: false; cache_prompt: boolean } = {
      prompt: text,
      stream: false,
      max_tokens: 0,
      temperature: 0,
      cache_prompt: false,
    };
    let response: RawCompletionResponse;
    try {
      response = await wllama.createCompletion(params);
    } catch (error) {
      const failure = await this.failGeneration(error);
      // llama.cpp refuses to even count a text longer than its window: report it as one token
      // too many, so the caller leaves it out or says the message is too long.
      if (failure.code === 'context-window-exceeded') return model.contextWindow + 1;
      throw failure;
    }
    const bos = wllama.mustAddBosToken() ? 1 : 0;
    return Math.max(0, response.usage.prompt_tokens - bos);
  }

  async unload(): Promise<void> {
    this.epoch++;
    const loaded = this.loaded;
    this.loaded = null;
    if (!loaded) return;
    loaded.disposed.abort();
    // exit() terminates wllama's worker; requests still pending on it never settle, which is
    // why generate() also listens to `disposed`.
    await loaded.wllama.exit();
  }

  async listCached(known: ModelSpec[]): Promise<CachedModelInfo[]> {
    const specs = known.filter((s): s is WllamaModelSpec => s.engine === 'wllama');
    if (specs.length === 0) return [];
    const cache = this.cache();
    const entries = await listEntries(cache);
    const result: CachedModelInfo[] = [];
    for (const spec of specs) {
      let urls: string[];
      try {
        urls = shardUrls(spec.url);
      } catch {
        continue; // a malformed custom URL was never downloaded
      }
      const files = completeFiles(entries, urls);
      if (files) result.push({ engine: 'wllama', id: spec.id, sizeBytes: files.size });
    }
    return result;
  }

  async deleteCached(spec: ModelSpec): Promise<void> {
    if (spec.engine !== 'wllama') return;
    await deleteFiles(this.cache(), shardUrls(spec.url));
  }

  private requireLoaded(): Loaded {
    if (!this.loaded) throw new AppError('no-model-loaded', 'No wllama model is loaded.');
    return this.loaded;
  }

  /** Maps a generation failure; a crashed wasm runtime cannot be reused, so it is let go. */
  private async failGeneration(error: unknown): Promise<AppError> {
    const mapped = toAppError(error, 'unknown', 'Generation failed');
    if (isRuntimeCrash(error)) {
      await this.unload().catch(() => undefined);
      return new AppError(mapped.code, `${mapped.message} The model was unloaded; load it again.`, {
        cause: error,
      });
    }
    return mapped;
  }

  /** wllama's OPFS cache (folder `cache/`, one file per part plus a metadata file each). */
  private cache(): CacheManager {
    try {
      this.cacheInstance ??= new CacheManager();
    } catch (error) {
      throw new AppError(
        'unknown',
        `This browser offers no storage for models: ${describe(error)}`,
        {
          cause: error,
        },
      );
    }
    return this.cacheInstance;
  }

  private createWllama(cache: CacheManager): Wllama {
    const wllama = new Wllama(
      { default: this.wasmUrl },
      { logger: this.logger(), cacheManager: cache },
    );
    // The default compat fallback fetches a second runtime from a CDN; a local-first app must not.
    wllama.setCompat(null);
    return wllama;
  }

  /** A logger that hides llama.cpp's chatter unless asked and notes where layers went. */
  private logger(): WllamaLogger {
    const watch = (args: unknown[]): void => {
      for (const arg of args) {
        if (typeof arg !== 'string') continue;
        const match = /offloaded (\d+)\/(\d+) layers to GPU/.exec(arg);
        if (match) this.offloadedLayers = { done: Number(match[1]), total: Number(match[2]) };
      }
    };
    const quiet = (...args: unknown[]): void => {
      watch(args);
      if (this.verbose) console.debug(...args);
    };
    return {
      debug: quiet,
      log: quiet,
      // llama.cpp warns about routine things (prompt-cache reuse, context sizes); they only help
      // when debugging, so they follow the verbose switch like its other logs.
      warn: quiet,
      error: (...args: unknown[]) => {
        console.error(...args);
      },
    };
  }

  private async chooseGpuLayers(): Promise<number> {
    if (this.gpu === 'cpu') return 0;
    const gpu = (navigator as Navigator & { gpu?: GpuLike }).gpu;
    if (!gpu) return 0;
    const adapter = await gpu
      .requestAdapter({ powerPreference: 'high-performance' })
      .catch(() => null);
    if (!adapter) return 0;
    if (this.gpu === 'webgpu') return ALL_LAYERS;
    // ggml's WebGPU backend silently skips an adapter without shader-f16 (checked with wllama
    // 3.8.1), and a fallback adapter is a CPU rasteriser (SwiftShader) slower than llama.cpp's
    // own SIMD code. Either way asking for GPU layers only costs start-up time.
    const fallback = adapter.info?.isFallbackAdapter ?? adapter.isFallbackAdapter ?? false;
    const software = /swiftshader|llvmpipe|lavapipe/i.test(
      `${adapter.info?.vendor ?? ''} ${adapter.info?.architecture ?? ''}`,
    );
    const f16 = adapter.features?.has('shader-f16') ?? false;
    return !fallback && !software && f16 ? ALL_LAYERS : 0;
  }

  /** What actually runs the model: llama.cpp logs how many layers reached the GPU, if any. */
  private describeBackend(wllama: Wllama): string {
    const offloaded = this.offloadedLayers;
    if (offloaded && offloaded.done > 0) {
      return offloaded.done < offloaded.total
        ? `webgpu (${offloaded.done}/${offloaded.total} layers)`
        : 'webgpu';
    }
    const threads = wllama.getNumThreads();
    return `wasm (${threads} thread${threads === 1 ? '' : 's'})`;
  }
}

// ---------------------------------------------------------------------------------------------
// Download and cache

interface CompleteFiles {
  /** Cache keys of the parts, in part order. */
  names: string[];
  size: number;
}

async function listEntries(cache: CacheManager): Promise<CacheEntry[]> {
  try {
    return await cache.list();
  } catch (error) {
    throw new AppError('unknown', `Could not read browser storage: ${describe(error)}`, {
      cause: error,
    });
  }
}

/**
 * The cached parts of a model, or null unless every part finished downloading (wllama writes a
 * part's metadata only after its last byte). Done here rather than with `ModelManager.getModels`,
 * which throws for every model as soon as one split model is missing a part.
 */
function completeFiles(entries: CacheEntry[], urls: string[]): CompleteFiles | null {
  const names: string[] = [];
  let size = 0;
  for (const url of urls) {
    const entry = entries.find(
      (e) => e.metadata.originalURL === url && e.metadata.originalSize === e.size && e.size > 0,
    );
    if (!entry) return null;
    names.push(entry.name);
    size += entry.size;
  }
  return { names, size };
}

async function findCompleteFiles(
  cache: CacheManager,
  urls: string[],
): Promise<CompleteFiles | null> {
  return completeFiles(await listEntries(cache), urls);
}

async function openFiles(cache: CacheManager, names: string[]): Promise<Blob[]> {
  const blobs: Blob[] = [];
  for (const name of names) {
    const blob = await cache.open(name).catch(() => null);
    if (!blob) {
      throw new AppError(
        'unknown',
        'A cached part of the model could not be read; delete it and retry.',
      );
    }
    blobs.push(blob);
  }
  return blobs;
}

/** All parts of a model: `name-00001-of-00003.gguf` expands to its three files. */
function shardUrls(url: string): string[] {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AppError('model-not-found', `"${url}" is not a valid absolute URL.`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new AppError('model-not-found', `"${url}" is not an http(s) URL.`);
  }
  if (!/\.gguf$/i.test(parsed.pathname)) {
    throw new AppError('model-not-found', `"${url}" does not name a .gguf file.`);
  }
  return ModelManager.parseModelUrl(url);
}

/**
 * Downloads every missing part into wllama's OPFS cache. Done here instead of through
 * `ModelManager.downloadModel` so the sizes are checked before any body is fetched (a missing
 * file fails fast with its status) and a part left half-written by a failure is removed: wllama
 * cannot resume one (it always refetches from byte 0), so keeping it would only hold quota.
 */
async function downloadShards(
  cache: CacheManager,
  urls: string[],
  onProgress: (p: LoadProgress) => void,
  signal: AbortSignal,
): Promise<void> {
  const sizes = await Promise.all(urls.map((url) => probeSize(url, signal)));
  const totalBytes = sizes.reduce((sum, size) => sum + size, 0);
  // Parts of a split model that finished earlier are kept, so a retry only fetches the rest.
  const entries = await listEntries(cache);
  const done = urls.map((url) => completeFiles(entries, [url]));
  const loaded = done.map((files) => files?.size ?? 0);
  const report = (): void => {
    const loadedBytes = loaded.reduce((sum, n) => sum + n, 0);
    const fraction = totalBytes > 0 ? Math.min(1, loadedBytes / totalBytes) : null;
    onProgress({
      phase: 'download',
      fraction,
      loadedBytes,
      totalBytes,
      text: `Downloading ${formatBytes(loadedBytes)} of ${formatBytes(totalBytes)}`,
    });
  };
  report();

  const queue = urls.map((url, index) => ({ url, index })).filter((job) => !done[job.index]);
  const failures: { url: string; error: unknown }[] = [];
  const worker = async (): Promise<void> => {
    for (let job = queue.shift(); job && failures.length === 0; job = queue.shift()) {
      const { url, index } = job;
      try {
        await cache.download(url, {
          signal,
          progressCallback: ({ loaded: bytes }) => {
            loaded[index] = bytes;
            report();
          },
        });
      } catch (error) {
        failures.push({ url, error });
        return;
      }
      loaded[index] = Math.max(sizes[index] ?? 0, loaded[index] ?? 0);
      report();
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_DOWNLOADS, queue.length) }, worker));
  const failure = failures[0];
  if (!failure) return;

  await removePartialFiles(cache, urls).catch(() => undefined);
  if (signal.aborted) throw abortedError();
  throw downloadError(failure.error, failure.url);
}

/** Size of one part from a HEAD request; turns a missing file into `model-not-found` early. */
async function probeSize(url: string, signal: AbortSignal): Promise<number> {
  let response: Response;
  try {
    response = await fetch(url, { method: 'HEAD', signal });
  } catch (error) {
    if (signal.aborted) throw abortedError();
    throw downloadError(error, url);
  }
  if (!response.ok) throw httpError(response.status, url);
  return Number(response.headers.get('content-length') ?? '0') || 0;
}

/** Parts whose stored size does not match the size recorded when they finished downloading. */
async function removePartialFiles(cache: CacheManager, urls: string[]): Promise<void> {
  const entries = await listEntries(cache);
  for (const url of urls) {
    const name = await cache.getNameFromURL(url);
    const entry = entries.find((e) => e.name === name);
    if (!entry) continue;
    const complete =
      entry.metadata.originalURL === url && entry.metadata.originalSize === entry.size;
    if (!complete) await cache.delete(name);
  }
}

async function deleteFiles(cache: CacheManager, urls: string[]): Promise<void> {
  try {
    for (const url of urls) await cache.delete(url);
  } catch (error) {
    throw new AppError('unknown', `Could not delete the cached model: ${describe(error)}`, {
      cause: error,
    });
  }
}

// ---------------------------------------------------------------------------------------------
// GGUF header

interface GgufHeader {
  architecture: string | null;
  contextLength: number | null;
}

/**
 * Reads the metadata at the start of a `.gguf` file, for two reasons: a file that is not GGUF
 * gets a clear `invalid-model` error before the wasm runtime starts, and the context the model
 * was trained for caps the one we allocate (llama.cpp would allocate more and then degrade).
 */
async function readGgufHeader(blob: Blob): Promise<GgufHeader> {
  const reader = new BlobReader(blob);
  const magic = await reader.bytes(4);
  if (new TextDecoder().decode(magic) !== 'GGUF') {
    const looksLikeHtml = /^\s*</.test(await blob.slice(0, 64).text());
    throw new AppError(
      'invalid-model',
      looksLikeHtml
        ? 'The server answered with a web page, not a .gguf model. Check the URL.'
        : 'The file is not a GGUF model (its header is wrong).',
    );
  }
  const version = await reader.u32();
  if (version < 2 || version > 3) {
    throw new AppError('invalid-model', `GGUF version ${version} is not supported.`);
  }
  await reader.u64(); // tensor count
  const kvCount = await reader.u64();
  const header: GgufHeader = { architecture: null, contextLength: null };
  const numbers = new Map<string, number>();
  for (let i = 0; i < kvCount; i++) {
    const key = await reader.string();
    const type = await reader.u32();
    if (key === 'general.architecture' && type === GGUF_STRING) {
      header.architecture = await reader.string();
    } else if (key.endsWith('.context_length') && isIntegerType(type)) {
      numbers.set(key, await reader.integer(type));
    } else {
      await reader.skipValue(type);
    }
    const wanted = header.architecture && numbers.get(`${header.architecture}.context_length`);
    if (wanted) {
      header.contextLength = wanted;
      break;
    }
  }
  return header;
}

const GGUF_STRING = 8;
const GGUF_ARRAY = 9;
/** Byte sizes of the fixed-size GGUF value types, by type id. */
const GGUF_FIXED_SIZE: Record<number, number> = {
  0: 1,
  1: 1,
  2: 2,
  3: 2,
  4: 4,
  5: 4,
  6: 4,
  7: 1,
  10: 8,
  11: 8,
  12: 8,
};

function isIntegerType(type: number): boolean {
  return type <= 5 || type === 10 || type === 11;
}

/** Sequential little-endian reads from a Blob, a megabyte at a time. */
class BlobReader {
  private chunk = new DataView(new ArrayBuffer(0));
  private chunkStart = 0;
  private position = 0;

  constructor(private readonly blob: Blob) {}

  private async ensure(length: number): Promise<void> {
    const end = this.position + length;
    if (this.position >= this.chunkStart && end <= this.chunkStart + this.chunk.byteLength) return;
    if (end > this.blob.size) {
      throw new AppError('invalid-model', 'The GGUF file is truncated.');
    }
    const size = Math.max(length, 1 << 20);
    const buffer = await this.blob.slice(this.position, this.position + size).arrayBuffer();
    this.chunk = new DataView(buffer);
    this.chunkStart = this.position;
  }

  async bytes(length: number): Promise<Uint8Array> {
    await this.ensure(length);
    const offset = this.position - this.chunkStart;
    this.position += length;
    return new Uint8Array(this.chunk.buffer, offset, length).slice();
  }

  async u32(): Promise<number> {
    await this.ensure(4);
    const value = this.chunk.getUint32(this.position - this.chunkStart, true);
    this.position += 4;
    return value;
  }

  async u64(): Promise<number> {
    await this.ensure(8);
    const value = this.chunk.getBigUint64(this.position - this.chunkStart, true);
    this.position += 8;
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new AppError('invalid-model', 'The GGUF header is corrupt.');
    }
    return Number(value);
  }

  async integer(type: number): Promise<number> {
    const size = GGUF_FIXED_SIZE[type] ?? 0;
    if (size === 8) return this.u64();
    await this.ensure(size);
    const at = this.position - this.chunkStart;
    this.position += size;
    switch (type) {
      case 0:
        return this.chunk.getUint8(at);
      case 1:
        return this.chunk.getInt8(at);
      case 2:
        return this.chunk.getUint16(at, true);
      case 3:
        return this.chunk.getInt16(at, true);
      case 4:
        return this.chunk.getUint32(at, true);
      default:
        return this.chunk.getInt32(at, true);
    }
  }

  async string(): Promise<string> {
    const length = await this.u64();
    return new TextDecoder().decode(await this.bytes(length));
  }

  async skipValue(type: number): Promise<void> {
    if (type === GGUF_STRING) {
      // Read first: `position += await …` would add to the position from before the read.
      const length = await this.u64();
      this.position += length;
      return;
    }
    if (type === GGUF_ARRAY) {
      const itemType = await this.u32();
      const count = await this.u64();
      const fixed = GGUF_FIXED_SIZE[itemType];
      if (fixed !== undefined) {
        this.position += fixed * count;
      } else {
        for (let i = 0; i < count; i++) await this.skipValue(itemType);
      }
      return;
    }
    const fixed = GGUF_FIXED_SIZE[type];
    if (fixed === undefined) {
      throw new AppError('invalid-model', `The GGUF header has an unknown value type ${type}.`);
    }
    this.position += fixed;
  }
}

// ---------------------------------------------------------------------------------------------
// Errors

function abortedError(): AppError {
  return new AppError('aborted', 'Loading the model was cancelled.');
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw abortedError();
}

/**
 * Waits for `promise`, but answers `stopped` as soon as any signal aborts: wllama checks its
 * abort signal only between polls, and a terminated worker never answers at all.
 */
function settleUnlessStopped(
  promise: Promise<unknown>,
  signals: AbortSignal[],
): Promise<'done' | 'stopped'> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      cleanup();
      resolve('stopped');
    };
    const cleanup = (): void => {
      for (const s of signals) s.removeEventListener('abort', onAbort);
    };
    if (signals.some((s) => s.aborted)) {
      onAbort();
    } else {
      for (const s of signals) s.addEventListener('abort', onAbort, { once: true });
    }
    promise.then(
      () => {
        cleanup();
        resolve('done');
      },
      (error: unknown) => {
        cleanup();
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/**
 * Rejects as soon as `signal` aborts. wllama cannot cancel model initialisation itself; the
 * caller then exits the instance, which terminates its worker.
 */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      reject(abortedError());
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

function assertWasmSupported(): void {
  try {
    // wllama ships a 64-bit-memory build only (its 32-bit "compat" build comes from a CDN).
    new WebAssembly.Memory({
      address: 'i64',
      initial: 1n,
    } as unknown as WebAssembly.MemoryDescriptor);
  } catch {
    throw new AppError(
      'unknown',
      'This browser lacks 64-bit WebAssembly memory, which the CPU engine needs. Use a recent Chrome, Edge or Firefox.',
    );
  }
}

function httpError(status: number, url: string): AppError {
  if (status === 404 || status === 410) {
    return new AppError('model-not-found', `No model at ${url} (HTTP ${status}).`);
  }
  if (status === 401 || status === 403) {
    return new AppError(
      'model-not-found',
      `The server refused access to ${url} (HTTP ${status}); the model may be gated or private.`,
    );
  }
  return new AppError('network', `The server failed to send ${url} (HTTP ${status}).`);
}

function downloadError(error: unknown, url: string): AppError {
  if (error instanceof AppError) return error;
  if (isQuotaError(error)) {
    return new AppError(
      'quota-exceeded',
      'The browser has no storage left for this model. Free some space and retry.',
      { cause: error },
    );
  }
  const status = /HTTP (\d{3})/.exec(describe(error));
  if (status?.[1]) return httpError(Number(status[1]), url);
  if (error instanceof TypeError) {
    // Fetch hides the cause; a blocked cross-origin request looks the same as being offline.
    return new AppError(
      'network',
      `Could not download ${url}: the network failed or the server does not allow this site (CORS).`,
      { cause: error },
    );
  }
  return toAppError(error, 'network', 'The download failed');
}

function isQuotaError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const name = (error as { name?: unknown }).name;
  return name === 'QuotaExceededError' || /quota/i.test(describe(error));
}

function isRuntimeCrash(error: unknown): boolean {
  return error instanceof Error && error.name === 'RuntimeError';
}

/** Maps anything wllama or the browser throws to an `AppError`, keeping the original as cause. */
function toAppError(error: unknown, fallback: ErrorCode, context: string): AppError {
  if (error instanceof AppError) return error;
  const message = describe(error);
  let code: ErrorCode = fallback;
  if (isQuotaError(error)) code = 'quota-exceeded';
  else if (error instanceof WllamaError && error.type === 'kv_cache_full') {
    code = 'context-window-exceeded';
  } else if (/exceed.*context|context.*(size|length|window).*exceed/i.test(message)) {
    code = 'context-window-exceeded';
  } else if (
    /out of memory|\boom\b|memory access out of bounds|failed to allocate/i.test(message)
  ) {
    code = 'out-of-memory';
  }
  return new AppError(code, `${context}: ${message}`, { cause: error });
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error);
  } catch {
    return String(error);
  }
}
