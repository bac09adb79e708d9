/**
 * The wllama adapter: llama.cpp compiled to WebAssembly (optionally with its WebGPU backend),
 * loading single-file or split `.gguf` models. Runs inside the assistant worker; wllama starts its
 * own nested worker for the wasm runtime, so nothing here may touch `window` or `document`.
 */
import {
  type CacheManager,
  Wllama,
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
import { chooseWasmThreads } from '../core/wasm-threads';
import { AppError } from '../core/errors';
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
import { readGgufHeader, type GgufHeader } from './gguf-header';
import {
  deleteFiles,
  downloadShards,
  findCompleteFiles,
  listCachedModels,
  openFiles,
  openModelFileCache,
  shardUrls,
} from './opfs-model-store';
import { abortedError, isRuntimeCrash, throwIfAborted, toAppError } from './wllama-errors';

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
    return listCachedModels(this.cache(), specs);
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

  private cache(): CacheManager {
    this.cacheInstance ??= openModelFileCache();
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
// Waiting on wllama

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
