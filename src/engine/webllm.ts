/**
 * The WebLLM adapter: runs MLC models on the GPU through WebGPU. It is created inside our own
 * assistant worker, so it drives `MLCEngine` directly rather than WebLLM's worker engines.
 */
import {
  MLCEngine,
  deleteModelAllInfoInCache,
  hasModelInCache,
  type AppConfig,
  type ChatCompletionChunk,
  type ChatCompletionFinishReason,
  type ChatCompletionMessageParam,
  type ChatCompletionRequestStreaming,
  type InitProgressReport,
  type MLCEngineConfig,
  type ModelRecord,
} from '@mlc-ai/web-llm';
import { estimateTokens } from '../core/tokens';
import { AppError } from '../core/errors';
import type { NoWebGpu, WebGpuInfo } from '../core/models/device-info';
import { probeWebGpu } from './device';
import type {
  CachedModelInfo,
  ChatMessage,
  Engine,
  FinishReason,
  GenerateRequest,
  GenerateResult,
  LoadedModel,
  LoadProgress,
  ModelSpec,
  WebLLMModelSpec,
} from './engine';

/** WebLLM's Cache API cache names (its `CacheScope` type in `cache_util`). */
export const WEBLLM_CACHES = {
  model: 'webllm/model',
  config: 'webllm/config',
  wasm: 'webllm/wasm',
} as const;

/** Used when neither the spec nor the model's own config gives a context window. */
const FALLBACK_CONTEXT_WINDOW = 2048;

/* ------------------------------------------------------------------------------------------- */
/* Pure helpers (unit-tested)                                                                   */
/* ------------------------------------------------------------------------------------------- */

/**
 * One app config for the given specs, passed to the engine and to every cache helper so that
 * both resolve a model id to the same URLs. Cache API storage (`cacheBackend: 'cache'`), the
 * backend WebLLM tests most; in 0.2.86 this replaced the older `useIndexedDBCache` flag.
 */
export function appConfigFor(specs: readonly WebLLMModelSpec[]): AppConfig {
  const seen = new Set<string>();
  const model_list: ModelRecord[] = [];
  for (const spec of specs) {
    if (seen.has(spec.id)) continue;
    seen.add(spec.id);
    const record: ModelRecord = {
      model: spec.modelUrl,
      model_id: spec.id,
      model_lib: spec.modelLibUrl,
    };
    if (spec.contextWindow !== undefined) {
      record.overrides = { context_window_size: spec.contextWindow };
    }
    if (spec.vramRequiredMB !== undefined) record.vram_required_MB = spec.vramRequiredMB;
    // Declaring the feature makes WebLLM itself refuse early, should our own check be bypassed.
    if (spec.requiresShaderF16) record.required_features = ['shader-f16'];
    model_list.push(record);
  }
  return { model_list, cacheBackend: 'cache' };
}

/**
 * The URL WebLLM resolves model files against (its `cleanModelUrl`): a trailing slash, and
 * `resolve/main/` appended unless the URL already names `/resolve/<branch>/`. Every file of the
 * model is cached under this prefix.
 */
export function webllmModelBaseUrl(modelUrl: string): string {
  let url = modelUrl.endsWith('/') ? modelUrl : `${modelUrl}/`;
  if (!/.+\/resolve\/.+\//.test(url)) url += 'resolve/main/';
  return new URL(url).href;
}

const MIB = 1024 * 1024;

const clampFraction = (value: number): number | null =>
  Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : null;

/**
 * Maps WebLLM's `initProgressCallback` reports to load phases. WebLLM restarts `progress` at 0 in
 * each phase, so the phase comes from the text, whose forms in 0.2.86 are:
 * "Start to fetch params", "Fetching param cache[i/n]: 96MB fetched. 13% completed, ...",
 * "Loading model from cache[i/n]: 96MB loaded. ...", "Loading GPU shader modules[i/n]: ...",
 * "Finish loading on WebGPU - <gpu>".
 */
export function progressFromReport(report: InitProgressReport): LoadProgress {
  const { text } = report;
  const fraction = clampFraction(report.progress);
  let phase: LoadProgress['phase'];
  if (/fetch(ing)? param/i.test(text)) phase = 'download';
  else if (/from cache/i.test(text)) phase = 'cache';
  else if (/shader|compil/i.test(text)) phase = 'compile';
  else phase = 'init';
  const progress: LoadProgress = {
    phase,
    fraction: phase === 'init' && !/finish/i.test(text) ? null : fraction,
    text,
  };
  const bytes = /(\d+(?:\.\d+)?)\s*MB\s+(?:fetched|loaded)/i.exec(text);
  if (bytes?.[1] !== undefined && (phase === 'download' || phase === 'cache')) {
    const loadedBytes = Math.round(Number(bytes[1]) * MIB);
    progress.loadedBytes = loadedBytes;
    // WebLLM reports MB rounded up and an exact ratio; the total follows from both once the
    // ratio is large enough not to magnify the rounding.
    if (fraction !== null && fraction >= 0.05) {
      progress.totalBytes = Math.max(loadedBytes, Math.round(loadedBytes / fraction / MIB) * MIB);
    }
  }
  return progress;
}

const errorName = (error: unknown): string =>
  typeof error === 'object' &&
  error !== null &&
  typeof (error as { name?: unknown }).name === 'string'
    ? (error as { name: string }).name
    : '';

const errorMessage = (error: unknown): string => {
  if (typeof error === 'object' && error !== null) {
    const message = (error as { message?: unknown }).message;
    if (typeof message === 'string') return message;
  }
  return String(error);
};

/**
 * Turns anything WebLLM (or the browser under it) throws into an `AppError` with a code the UI
 * can act on. Error classes are matched by `name` because WebLLM 0.2.86 exports only
 * `IntegrityError` from its index. Messages matched below are those of WebLLM 0.2.86 and of
 * Chromium's Cache API:
 * - `Cache.add()` on a non-OK response: TypeError "Failed to execute 'add' on 'Cache': Request failed"
 * - on a network failure: NetworkError "... Cache.add() encountered a network error"
 * - out of quota: QuotaExceededError "... Quota exceeded."
 */
export function mapWebLLMError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const name = errorName(error);
  const message = errorMessage(error);
  const detail = message ? ` (${message})` : '';
  const make = (code: AppError['code'], text: string) => new AppError(code, text, { cause: error });

  if (name === 'DeviceLostError' || /device (was )?lost/i.test(message)) {
    return make(
      'device-lost',
      `The GPU device was lost, most often because it ran out of memory${detail}.`,
    );
  }
  if (
    name === 'ShaderF16SupportError' ||
    (name === 'FeatureSupportError' && /shader-f16/.test(message))
  ) {
    return make(
      'shader-f16-required',
      `This model needs the WebGPU shader-f16 feature, which this GPU lacks${detail}.`,
    );
  }
  if (
    name === 'WebGPUNotAvailableError' ||
    name === 'WebGPUNotFoundError' ||
    /unable to find a compatible gpu|webgpu is not supported/i.test(message)
  ) {
    return make('no-webgpu', `WebGPU is not available${detail}.`);
  }
  if (name === 'QuotaExceededError' || /quota/i.test(message)) {
    return make('quota-exceeded', `The browser refused to store more of the model${detail}.`);
  }
  if (
    name === 'AbortError' ||
    /Engine\.unload\(\) is called|operation was aborted|signal is aborted/i.test(message)
  ) {
    return make('aborted', 'Loading was cancelled.');
  }
  if (name === 'ContextWindowSizeExceededError' || /exceed context window/i.test(message)) {
    return make(
      'context-window-exceeded',
      `The prompt is longer than the model's context window${detail}.`,
    );
  }
  if (
    /out of memory|outofmemory|\boom\b|failed to allocate|allocation failed|buffer allocation|maxBufferSize|maxStorageBufferBindingSize|exceeds limit/i.test(
      message,
    )
  ) {
    return make('out-of-memory', `The model does not fit in the GPU's memory${detail}.`);
  }
  if (
    name === 'NetworkError' ||
    /network ?error|failed to fetch|load failed|networkerror|cannot fetch|ERR_[A-Z_]+/i.test(
      message,
    )
  ) {
    return make('network', `The download failed${detail}.`);
  }
  if (name === 'ModelNotFoundError' || /\b404\b|not found|request failed/i.test(message)) {
    return make(
      'model-not-found',
      `The model's files could not be fetched from that address${detail}.`,
    );
  }
  if (
    name === 'MissingModelError' ||
    name === 'UnsupportedTokenizerFilesError' ||
    name === 'IntegrityError' ||
    name === 'ArtifactManifestError' ||
    name === 'SyntaxError' ||
    /WebAssembly|wasm|magic|tokenizer/i.test(message)
  ) {
    return make(
      'invalid-model',
      `The files at that address are not a model WebLLM can load${detail}.`,
    );
  }
  if (/caches is not defined/i.test(message)) {
    return make(
      'unknown',
      'Browser storage (the Cache API) is unavailable here; open Persona over https.',
    );
  }
  return make('unknown', message || 'WebLLM failed without a message.');
}

function toMessageParam(message: ChatMessage): ChatCompletionMessageParam {
  switch (message.role) {
    case 'system':
      return { role: 'system', content: message.content };
    case 'user':
      return { role: 'user', content: message.content };
    case 'assistant':
      return { role: 'assistant', content: message.content };
  }
}

/** The streaming request WebLLM gets for a `GenerateRequest`. */
export function chatRequestFor(request: GenerateRequest): ChatCompletionRequestStreaming {
  const body: ChatCompletionRequestStreaming = {
    messages: request.messages.map(toMessageParam),
    stream: true,
    stream_options: { include_usage: true },
  };
  if (request.maxTokens !== undefined) body.max_tokens = request.maxTokens;
  if (request.temperature !== undefined) body.temperature = request.temperature;
  // WebLLM rejects a seed that is not an integer (SeedTypeError).
  if (request.seed !== undefined && Number.isInteger(request.seed)) body.seed = request.seed;
  if (request.repeatPenalty !== undefined) body.repetition_penalty = request.repeatPenalty;
  if (request.jsonSchema) {
    // WebLLM has no `json_schema` type: the schema goes as a string with `json_object`.
    body.response_format = { type: 'json_object', schema: JSON.stringify(request.jsonSchema) };
  }
  return body;
}

/** Reads the context window from a model's `mlc-chat-config.json` (merged with overrides). */
export function contextWindowFromChatConfig(config: unknown): number | null {
  if (typeof config !== 'object' || config === null) return null;
  const { context_window_size: window, sliding_window_size: sliding } = config as {
    context_window_size?: unknown;
    sliding_window_size?: unknown;
  };
  if (typeof window === 'number' && window > 0) return window;
  if (typeof sliding === 'number' && sliding > 0) return sliding;
  return null;
}

/* ------------------------------------------------------------------------------------------- */
/* The engine                                                                                   */
/* ------------------------------------------------------------------------------------------- */

/** The part of `MLCEngine` this adapter uses; tests substitute a scripted one. */
export interface MLCEngineHandle {
  setAppConfig(appConfig: AppConfig): void;
  setInitProgressCallback(callback: (report: InitProgressReport) => void): void;
  reload(modelId: string): Promise<void>;
  unload(): Promise<void>;
  interruptGenerate(): void | Promise<void>;
  streamChat(request: ChatCompletionRequestStreaming): Promise<AsyncIterable<ChatCompletionChunk>>;
}

export interface WebLLMEngineOptions {
  createEngine?: (config: MLCEngineConfig) => MLCEngineHandle;
  probeGpu?: () => Promise<WebGpuInfo | NoWebGpu>;
}

function createMlcEngine(config: MLCEngineConfig): MLCEngineHandle {
  const engine = new MLCEngine(config);
  return {
    setAppConfig: (appConfig) => {
      engine.setAppConfig(appConfig);
    },
    setInitProgressCallback: (callback) => {
      engine.setInitProgressCallback(callback);
    },
    reload: (modelId) => engine.reload(modelId),
    unload: () => engine.unload(),
    interruptGenerate: () => engine.interruptGenerate(),
    streamChat: (request) => engine.chat.completions.create(request),
  };
}

/*
 * A call, not a property read: TypeScript keeps `signal.aborted` narrowed to false across awaits
 * after one check, but the signal can fire during any of them.
 */
const isAborted = (signal: AbortSignal): boolean => signal.aborted;

const isWebLLMSpec = (spec: ModelSpec): spec is WebLLMModelSpec => spec.engine === 'webllm';

/** `tool_calls` cannot happen without tools; it would mean a finished reply. */
const finishReasonOf = (reason: ChatCompletionFinishReason): FinishReason =>
  reason === 'length' || reason === 'abort' ? reason : 'stop';

/** The first spec for each id, as `appConfigFor` keeps it. */
function uniqueById(specs: readonly WebLLMModelSpec[]): WebLLMModelSpec[] {
  const byId = new Map<string, WebLLMModelSpec>();
  for (const spec of specs) if (!byId.has(spec.id)) byId.set(spec.id, spec);
  return [...byId.values()];
}

const sameModel = (a: WebLLMModelSpec, b: WebLLMModelSpec): boolean =>
  a.id === b.id &&
  a.modelUrl === b.modelUrl &&
  a.modelLibUrl === b.modelLibUrl &&
  a.contextWindow === b.contextWindow;

const cacheStorage = (): CacheStorage | undefined =>
  (globalThis as { caches?: CacheStorage }).caches;

async function responseSize(response: Response): Promise<number> {
  const length = Number(response.headers.get('content-length'));
  if (Number.isFinite(length) && length > 0) return length;
  // Cache API blobs are disk-backed: reading the size does not load the body into memory.
  return (await response.blob()).size;
}

/** Cache entries of the three WebLLM caches, read once per listing. */
class WebLLMCacheIndex {
  readonly #entries = new Map<string, { cache: Cache; requests: readonly Request[] }>();

  static async open(storage: CacheStorage): Promise<WebLLMCacheIndex> {
    const index = new WebLLMCacheIndex();
    for (const name of Object.values(WEBLLM_CACHES)) {
      const cache = await storage.open(name);
      index.#entries.set(name, { cache, requests: await cache.keys() });
    }
    return index;
  }

  async bytesFor(spec: WebLLMModelSpec): Promise<number> {
    let total = 0;
    for (const { cache, request } of this.#matching(spec)) {
      const response = await cache.match(request);
      if (response) total += await responseSize(response);
    }
    return total;
  }

  async deleteAll(spec: WebLLMModelSpec): Promise<void> {
    for (const { cache, request } of this.#matching(spec)) await cache.delete(request);
  }

  *#matching(spec: WebLLMModelSpec): Generator<{ cache: Cache; request: Request }> {
    const base = webllmModelBaseUrl(spec.modelUrl);
    for (const [name, { cache, requests }] of this.#entries) {
      for (const request of requests) {
        const matches =
          name === WEBLLM_CACHES.wasm
            ? request.url === spec.modelLibUrl
            : request.url.startsWith(base);
        if (matches) yield { cache, request };
      }
    }
  }
}

export class WebLLMEngine implements Engine {
  readonly kind = 'webllm' as const;
  readonly #createEngine: (config: MLCEngineConfig) => MLCEngineHandle;
  readonly #probeGpu: () => Promise<WebGpuInfo | NoWebGpu>;
  #engine: MLCEngineHandle | null = null;
  #loaded: LoadedModel | null = null;

  constructor(options: WebLLMEngineOptions = {}) {
    this.#createEngine = options.createEngine ?? createMlcEngine;
    this.#probeGpu = options.probeGpu ?? probeWebGpu;
  }

  async load(
    spec: ModelSpec,
    onProgress: (p: LoadProgress) => void,
    signal: AbortSignal,
  ): Promise<LoadedModel> {
    if (!isWebLLMSpec(spec)) {
      throw new AppError('invalid-model', `WebLLM cannot load a ${spec.engine} model.`);
    }
    if (isAborted(signal)) throw new AppError('aborted', 'Loading was cancelled.');
    const gpu = await this.#probeGpu();
    if (!gpu.available) throw new AppError('no-webgpu', gpu.reason);
    if (spec.requiresShaderF16 && !gpu.shaderF16) {
      throw new AppError(
        'shader-f16-required',
        `${spec.id} needs 16-bit float shaders (shader-f16), which this GPU does not offer.`,
      );
    }
    if (this.#loaded && isWebLLMSpec(this.#loaded.spec) && sameModel(this.#loaded.spec, spec)) {
      return this.#loaded;
    }
    if (isAborted(signal)) throw new AppError('aborted', 'Loading was cancelled.');

    this.#loaded = null;
    const engine = (this.#engine ??= this.#createEngine({ logLevel: 'WARN' }));
    engine.setAppConfig(appConfigFor([spec]));
    // `unload()` cancels WebLLM's download only once `reload()` has created its abort controller,
    // which happens after the first awaits; an abort that comes earlier is repeated at the next
    // progress report.
    let abortRepeated = false;
    const cancel = () => {
      void engine.unload().catch(() => undefined);
    };
    engine.setInitProgressCallback((report) => {
      if (isAborted(signal)) {
        if (!abortRepeated) {
          abortRepeated = true;
          cancel();
        }
        return;
      }
      onProgress(progressFromReport(report));
    });
    signal.addEventListener('abort', cancel, { once: true });
    try {
      // An aborted reload resolves without error (WebLLM catches its AbortError), so the signal
      // is checked afterwards as well.
      await engine.reload(spec.id);
    } catch (error) {
      if (isAborted(signal)) throw new AppError('aborted', 'Loading was cancelled.');
      const mapped = mapWebLLMError(error);
      // After a lost device WebLLM has unloaded and the worker should be replaced; never reuse it.
      if (mapped.code === 'device-lost') this.#engine = null;
      throw mapped;
    } finally {
      signal.removeEventListener('abort', cancel);
      engine.setInitProgressCallback(() => undefined);
    }
    if (isAborted(signal)) {
      // The abort may have come after the download, while shaders compiled; free the GPU.
      await engine.unload().catch(() => undefined);
      throw new AppError('aborted', 'Loading was cancelled.');
    }

    const contextWindow =
      spec.contextWindow ?? (await this.#cachedContextWindow(spec)) ?? FALLBACK_CONTEXT_WINDOW;
    const gpuName = gpu.description || gpu.vendor;
    this.#loaded = {
      spec,
      contextWindow,
      backend: gpuName ? `webgpu (${gpuName})` : 'webgpu',
    };
    onProgress({ phase: 'init', fraction: 1, text: `Ready on ${this.#loaded.backend}.` });
    return this.#loaded;
  }

  async generate(
    request: GenerateRequest,
    onDelta: (text: string) => void,
    signal: AbortSignal,
  ): Promise<GenerateResult> {
    const engine = this.#engine;
    if (!engine || !this.#loaded) throw new AppError('no-model-loaded', 'No model is loaded.');
    let text = '';
    let finish: FinishReason = 'stop';
    let promptTokens: number | null = null;
    let completionTokens: number | null = null;
    let decodeTokensPerSecond: number | undefined;
    const result = (): GenerateResult => {
      const out: GenerateResult = {
        text,
        finishReason: isAborted(signal) ? 'abort' : finish,
        promptTokens:
          promptTokens ?? estimateTokens(request.messages.map((m) => m.content).join('\n')),
        completionTokens: completionTokens ?? estimateTokens(text),
      };
      if (decodeTokensPerSecond !== undefined) out.decodeTokensPerSecond = decodeTokensPerSecond;
      return out;
    };
    if (isAborted(signal)) return result();

    const interrupt = () => {
      void Promise.resolve(engine.interruptGenerate()).catch(() => undefined);
    };
    signal.addEventListener('abort', interrupt, { once: true });
    try {
      const chunks = await engine.streamChat(chatRequestFor(request));
      for await (const chunk of chunks) {
        // WebLLM clears its interrupt flag when generation starts, so an abort that came before
        // the first chunk is repeated; it then stops after the current decode step.
        if (isAborted(signal)) interrupt();
        const choice = chunk.choices[0];
        const delta = choice?.delta.content;
        // What arrives after an abort is dropped, so the result is exactly what `onDelta` saw.
        if (delta && !isAborted(signal)) {
          text += delta;
          onDelta(delta);
        }
        if (choice?.finish_reason) finish = finishReasonOf(choice.finish_reason);
        if (chunk.usage) {
          promptTokens = chunk.usage.prompt_tokens;
          completionTokens = chunk.usage.completion_tokens;
          const speed = chunk.usage.extra.decode_tokens_per_s;
          if (Number.isFinite(speed) && speed > 0) decodeTokensPerSecond = speed;
        }
      }
    } catch (error) {
      if (isAborted(signal)) return result();
      const mapped = mapWebLLMError(error);
      if (mapped.code === 'device-lost') {
        this.#engine = null;
        this.#loaded = null;
      }
      throw mapped;
    } finally {
      signal.removeEventListener('abort', interrupt);
    }
    return result();
  }

  /**
   * WebLLM 0.2.86 keeps each model's tokenizer private (`MLCEngine` has no tokenize method and
   * `asyncLoadTokenizer` is not exported), so counts are the app's one deliberately high estimate.
   */
  countTokens(text: string): Promise<number> {
    return Promise.resolve(estimateTokens(text));
  }

  async unload(): Promise<void> {
    const engine = this.#engine;
    this.#loaded = null;
    if (!engine) return;
    try {
      await engine.unload();
    } catch (error) {
      throw mapWebLLMError(error);
    }
  }

  async listCached(known: ModelSpec[]): Promise<CachedModelInfo[]> {
    const specs = uniqueById(known.filter(isWebLLMSpec));
    const storage = cacheStorage();
    if (specs.length === 0 || !storage) return [];
    const appConfig = appConfigFor(specs);
    const index = await WebLLMCacheIndex.open(storage);
    const cached: CachedModelInfo[] = [];
    for (const spec of specs) {
      let complete: boolean;
      try {
        // Only complete models are listed: a partial download is resumed by loading it again.
        complete = await hasModelInCache(spec.id, appConfig);
      } catch {
        complete = false;
      }
      if (complete)
        cached.push({ engine: 'webllm', id: spec.id, sizeBytes: await index.bytesFor(spec) });
    }
    return cached;
  }

  async deleteCached(spec: ModelSpec): Promise<void> {
    if (!isWebLLMSpec(spec)) return;
    if (this.#loaded?.spec.id === spec.id) await this.unload();
    const storage = cacheStorage();
    if (!storage) return;
    try {
      const base = webllmModelBaseUrl(spec.modelUrl);
      const models = await storage.open(WEBLLM_CACHES.model);
      // WebLLM's deleter reads the weights' manifest through the cache and downloads it when it
      // is missing; call it only when the manifest is there.
      if (await models.match(`${base}tensor-cache.json`)) {
        await deleteModelAllInfoInCache(spec.id, appConfigFor([spec]));
      }
      // Then sweep whatever it left: a partial download, files it does not know about.
      await (await WebLLMCacheIndex.open(storage)).deleteAll(spec);
    } catch (error) {
      throw mapWebLLMError(error);
    }
  }

  async #cachedContextWindow(spec: WebLLMModelSpec): Promise<number | null> {
    const storage = cacheStorage();
    if (!storage) return null;
    try {
      const configs = await storage.open(WEBLLM_CACHES.config);
      const response = await configs.match(
        `${webllmModelBaseUrl(spec.modelUrl)}mlc-chat-config.json`,
      );
      return response ? contextWindowFromChatConfig(await response.json()) : null;
    } catch {
      return null;
    }
  }
}
