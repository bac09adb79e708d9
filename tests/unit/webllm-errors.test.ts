import { IntegrityError, type ChatCompletionChunk, type InitProgressReport } from '@mlc-ai/web-llm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AppError, type ErrorCode } from '../../src/core/errors';
import type { NoWebGpu, WebGpuInfo } from '../../src/core/models/device-info';
import type { LoadProgress, WebLLMModelSpec } from '../../src/engine/engine';
import {
  WEBLLM_CACHES,
  WebLLMEngine,
  appConfigFor,
  chatRequestFor,
  contextWindowFromChatConfig,
  mapWebLLMError,
  progressFromReport,
  webllmModelBaseUrl,
  type MLCEngineHandle,
} from '../../src/engine/webllm';
import { estimateTokens } from '../../src/core/tokens';

const named = (name: string, message: string): Error => Object.assign(new Error(message), { name });

describe('mapWebLLMError', () => {
  const cases: [string, unknown, ErrorCode][] = [
    [
      'DeviceLostError, whose message mentions OOM',
      named(
        'DeviceLostError',
        'The WebGPU device was lost while loading the model. This issue often occurs due to running out of memory (OOM).',
      ),
      'device-lost',
    ],
    [
      'DeviceLostError by name alone',
      named('DeviceLostError', 'Out of memory (OOM)'),
      'device-lost',
    ],
    [
      'ShaderF16SupportError',
      named(
        'ShaderF16SupportError',
        'This model requires WebGPU extension shader-f16, which is not enabled.',
      ),
      'shader-f16-required',
    ],
    [
      'FeatureSupportError for shader-f16',
      named(
        'FeatureSupportError',
        'This model requires feature shader-f16, which is not yet supported.',
      ),
      'shader-f16-required',
    ],
    [
      'WebGPUNotAvailableError',
      named('WebGPUNotAvailableError', 'WebGPU is not supported'),
      'no-webgpu',
    ],
    [
      'no adapter',
      new Error('Unable to find a compatible GPU. This issue might be...'),
      'no-webgpu',
    ],
    [
      'Cache API quota',
      new DOMException("Failed to execute 'add' on 'Cache': Quota exceeded.", 'QuotaExceededError'),
      'quota-exceeded',
    ],
    [
      'Cache API network failure',
      new DOMException(
        "Failed to execute 'add' on 'Cache': Cache.add() encountered a network error",
        'NetworkError',
      ),
      'network',
    ],
    ['fetch failure', new TypeError('Failed to fetch'), 'network'],
    [
      'Cache.add() on a 404',
      new TypeError("Failed to execute 'add' on 'Cache': Request failed"),
      'model-not-found',
    ],
    [
      'an HTTP 404',
      new Error('Unable to fetch https://x/m.wasm, received status 404'),
      'model-not-found',
    ],
    [
      'buffer limits',
      new Error(
        'Cannot initialize runtime because of requested maxBufferSize exceeds limit. requested=256MB',
      ),
      'out-of-memory',
    ],
    ['GPU out of memory', new Error('GPUOutOfMemoryError: Out of memory'), 'out-of-memory'],
    [
      'ContextWindowSizeExceededError',
      named('ContextWindowSizeExceededError', 'Prompt tokens exceed context window size'),
      'context-window-exceeded',
    ],
    ['an AbortError', new DOMException('The operation was aborted.', 'AbortError'), 'aborted'],
    ["unload()'s abort reason", 'Engine.unload() is called.', 'aborted'],
    [
      'IntegrityError',
      new IntegrityError('https://x/p.bin', 'sha256-a', 'sha256-b'),
      'invalid-model',
    ],
    [
      'an HTML page instead of JSON',
      new SyntaxError('Unexpected token < in JSON at position 0'),
      'invalid-model',
    ],
    [
      'a missing tokenizer',
      named('UnsupportedTokenizerFilesError', 'Cannot handle tokenizer files'),
      'invalid-model',
    ],
    ['something else', new Error('The sky fell'), 'unknown'],
    ['a thrown string', 'plain failure', 'unknown'],
  ];

  it.each(cases)('maps %s', (_label, error, code) => {
    const mapped = mapWebLLMError(error);
    expect(mapped).toBeInstanceOf(AppError);
    expect(mapped.code).toBe(code);
  });

  it('keeps the original error as cause and its message as detail', () => {
    const original = new Error('The sky fell');
    const mapped = mapWebLLMError(original);
    expect(mapped.cause).toBe(original);
    expect(mapped.message).toContain('The sky fell');
  });

  it('passes AppErrors through untouched', () => {
    const error = new AppError('busy', 'busy');
    expect(mapWebLLMError(error)).toBe(error);
  });
});

describe('progressFromReport', () => {
  const report = (text: string, progress: number): InitProgressReport => ({
    text,
    progress,
    timeElapsed: 3,
  });

  it('tells phases apart by the text, each with its own fraction', () => {
    const phases = [
      report('Start to fetch params', 0),
      report('Fetching param cache[3/22]: 96MB fetched. 13% completed, 5 secs elapsed.', 0.13),
      report('Loading model from cache[1/22]: 32MB loaded. 4% completed, 1 secs elapsed.', 0.04),
      report('Loading GPU shader modules[40/80]: 50% completed, 2 secs elapsed.', 0.5),
      report('Finish loading on WebGPU - apple', 1),
    ].map(progressFromReport);
    expect(phases.map((p) => [p.phase, p.fraction])).toEqual([
      ['download', 0],
      ['download', 0.13],
      ['cache', 0.04],
      ['compile', 0.5],
      ['init', 1],
    ]);
  });

  it('reads the bytes so far and infers the total from the fraction', () => {
    const p: LoadProgress = progressFromReport(
      report('Fetching param cache[10/22]: 350MB fetched. 50% completed, 9 secs elapsed.', 0.5),
    );
    expect(p.loadedBytes).toBe(350 * 2 ** 20);
    expect(p.totalBytes).toBe(700 * 2 ** 20);
    expect(p.text).toContain('350MB');
  });

  it('gives no total while the fraction is too small to trust', () => {
    const p = progressFromReport(
      report('Fetching param cache[1/22]: 1MB fetched. 0% completed', 0.001),
    );
    expect(p.loadedBytes).toBe(2 ** 20);
    expect(p.totalBytes).toBeUndefined();
  });

  it('reports an unknown fraction for unknown texts', () => {
    expect(progressFromReport(report('Something new', 0.3))).toEqual({
      phase: 'init',
      fraction: null,
      text: 'Something new',
    });
  });
});

const spec = (overrides: Partial<WebLLMModelSpec> = {}): WebLLMModelSpec => ({
  engine: 'webllm',
  id: 'Tiny-q4f16_1-MLC',
  modelUrl: 'https://huggingface.co/mlc-ai/Tiny-q4f16_1-MLC',
  modelLibUrl: 'https://example.com/libs/Tiny-q4f16_1-webgpu.wasm',
  requiresShaderF16: true,
  contextWindow: 4096,
  ...overrides,
});

describe('request and config helpers', () => {
  it('resolves model URLs as WebLLM does', () => {
    expect(webllmModelBaseUrl('https://huggingface.co/mlc-ai/M')).toBe(
      'https://huggingface.co/mlc-ai/M/resolve/main/',
    );
    expect(webllmModelBaseUrl('https://huggingface.co/mlc-ai/M/')).toBe(
      'https://huggingface.co/mlc-ai/M/resolve/main/',
    );
    expect(webllmModelBaseUrl('https://e.com/M/resolve/v2')).toBe('https://e.com/M/resolve/v2/');
  });

  it('builds one app config on the Cache API, without duplicates', () => {
    const config = appConfigFor([
      spec(),
      spec(),
      spec({ id: 'Other-q4f32_1-MLC', requiresShaderF16: false, contextWindow: undefined }),
    ]);
    expect(config.cacheBackend).toBe('cache');
    expect(config.model_list).toEqual([
      {
        model: 'https://huggingface.co/mlc-ai/Tiny-q4f16_1-MLC',
        model_id: 'Tiny-q4f16_1-MLC',
        model_lib: 'https://example.com/libs/Tiny-q4f16_1-webgpu.wasm',
        overrides: { context_window_size: 4096 },
        required_features: ['shader-f16'],
      },
      {
        model: 'https://huggingface.co/mlc-ai/Tiny-q4f16_1-MLC',
        model_id: 'Other-q4f32_1-MLC',
        model_lib: 'https://example.com/libs/Tiny-q4f16_1-webgpu.wasm',
      },
    ]);
  });

  it('streams with usage and passes the JSON schema as a string', () => {
    const schema = { type: 'object', properties: { a: { type: 'string' } } };
    const request = chatRequestFor({
      messages: [
        { role: 'system', content: 's' },
        { role: 'user', content: 'u' },
      ],
      maxTokens: 64,
      temperature: 0.2,
      seed: 7,
      repeatPenalty: 1.1,
      jsonSchema: schema,
    });
    expect(request).toEqual({
      messages: [
        { role: 'system', content: 's' },
        { role: 'user', content: 'u' },
      ],
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 64,
      temperature: 0.2,
      seed: 7,
      repetition_penalty: 1.1,
      response_format: { type: 'json_object', schema: JSON.stringify(schema) },
    });
  });

  it('leaves out options not given and seeds WebLLM would reject', () => {
    const request = chatRequestFor({ messages: [{ role: 'user', content: 'u' }], seed: 1.5 });
    expect(Object.keys(request).sort()).toEqual(['messages', 'stream', 'stream_options']);
  });

  it('reads the context window from a chat config', () => {
    expect(
      contextWindowFromChatConfig({ context_window_size: 8192, sliding_window_size: -1 }),
    ).toBe(8192);
    expect(
      contextWindowFromChatConfig({ context_window_size: -1, sliding_window_size: 4096 }),
    ).toBe(4096);
    expect(contextWindowFromChatConfig({})).toBeNull();
    expect(contextWindowFromChatConfig('nope')).toBeNull();
  });
});

/* ------------------------------------------------------------------------------------------- */
/* The engine, with a scripted MLCEngine and a fake GPU                                         */
/* ------------------------------------------------------------------------------------------- */

const gpu = (shaderF16 = true): WebGpuInfo => ({
  available: true,
  vendor: 'apple',
  architecture: 'metal-3',
  description: 'Apple M2',
  isFallbackAdapter: false,
  shaderF16,
  maxBufferSize: 2 ** 31,
  maxStorageBufferBindingSize: 2 ** 30,
});

const chunk = (
  content: string | null,
  finish: 'stop' | 'length' | 'abort' | null = null,
): ChatCompletionChunk => ({
  id: 'c',
  created: 0,
  model: 'Tiny',
  object: 'chat.completion.chunk',
  choices: [{ index: 0, delta: content === null ? {} : { content }, finish_reason: finish }],
});

const usageChunk = (prompt: number, completion: number, speed: number): ChatCompletionChunk => ({
  id: 'c',
  created: 0,
  model: 'Tiny',
  object: 'chat.completion.chunk',
  choices: [],
  usage: {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    extra: {
      e2e_latency_s: 1,
      prefill_tokens_per_s: 100,
      decode_tokens_per_s: speed,
      time_to_first_token_s: 0.1,
      time_per_output_token_s: 0.05,
    },
  },
});

/** Mimics MLCEngine: progress during reload, unload() aborting a pending reload quietly. */
class ScriptedMLCEngine implements MLCEngineHandle {
  progress: (report: InitProgressReport) => void = () => undefined;
  appConfigs: unknown[] = [];
  unloads = 0;
  interrupts = 0;
  requests: unknown[] = [];
  reloadBehaviour: 'load' | 'hang-until-unload' | Error = 'load';
  /** Runs when reload starts, before its abort controller exists (as in WebLLM). */
  onReloadStart: () => void = () => undefined;
  stream: (engine: ScriptedMLCEngine) => AsyncIterable<ChatCompletionChunk> = async function* () {
    await Promise.resolve(); // chunks arrive asynchronously, as from the GPU
    yield chunk('Hel');
    yield chunk('lo');
    yield chunk(null, 'stop');
    yield usageChunk(12, 2, 42.5);
  };
  #releaseReload: (() => void) | null = null;

  setAppConfig(appConfig: unknown): void {
    this.appConfigs.push(appConfig);
  }
  setInitProgressCallback(callback: (report: InitProgressReport) => void): void {
    this.progress = callback;
  }
  async reload(): Promise<void> {
    this.onReloadStart();
    await Promise.resolve();
    // From here on unload() reaches the download, like WebLLM's reloadController.
    const released = new Promise<void>((resolve) => (this.#releaseReload = resolve));
    this.progress({
      text: 'Fetching param cache[1/2]: 10MB fetched. 50% completed',
      progress: 0.5,
      timeElapsed: 1,
    });
    if (this.reloadBehaviour instanceof Error) throw this.reloadBehaviour;
    if (this.reloadBehaviour === 'hang-until-unload') {
      await released;
      return;
    }
    this.#releaseReload = null;
    this.progress({
      text: 'Loading GPU shader modules[2/2]: 100% completed',
      progress: 1,
      timeElapsed: 2,
    });
    this.progress({ text: 'Finish loading on WebGPU - apple', progress: 1, timeElapsed: 2 });
  }
  unload(): Promise<void> {
    this.unloads += 1;
    this.#releaseReload?.();
    return Promise.resolve();
  }
  interruptGenerate(): void {
    this.interrupts += 1;
  }
  streamChat(request: unknown): Promise<AsyncIterable<ChatCompletionChunk>> {
    this.requests.push(request);
    return Promise.resolve(this.stream(this));
  }
}

function setup(
  gpuInfo: WebGpuInfo | NoWebGpu = gpu(),
  configure: (scripted: ScriptedMLCEngine) => void = () => undefined,
) {
  const engines: ScriptedMLCEngine[] = [];
  const engine = new WebLLMEngine({
    createEngine: () => {
      const created = new ScriptedMLCEngine();
      configure(created);
      engines.push(created);
      return created;
    },
    probeGpu: () => Promise.resolve(gpuInfo),
  });
  const current = () => {
    const last = engines[engines.length - 1];
    if (!last) throw new Error('no MLCEngine was created');
    return last;
  };
  return { engine, engines, current };
}

const expectAppError = async (promise: Promise<unknown>, code: ErrorCode) => {
  const error: unknown = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  expect((error as AppError).code).toBe(code);
};

const live = () => new AbortController().signal;

describe('WebLLMEngine.load', () => {
  it('refuses without WebGPU before creating an engine', async () => {
    const { engine, engines } = setup({ available: false, reason: 'No WebGPU here.' });
    await expectAppError(
      engine.load(spec(), () => undefined, live()),
      'no-webgpu',
    );
    expect(engines).toHaveLength(0);
  });

  it('refuses an f16 model on a GPU without shader-f16', async () => {
    const { engine, engines } = setup(gpu(false));
    await expectAppError(
      engine.load(spec(), () => undefined, live()),
      'shader-f16-required',
    );
    expect(engines).toHaveLength(0);
    await expect(
      engine.load(spec({ requiresShaderF16: false }), () => undefined, live()),
    ).resolves.toBeTruthy();
  });

  it('loads, reports phases and passes its app config', async () => {
    const { engine, current } = setup();
    const seen: LoadProgress[] = [];
    const loaded = await engine.load(spec(), (p) => seen.push(p), live());
    expect(loaded).toEqual({ spec: spec(), contextWindow: 4096, backend: 'webgpu (Apple M2)' });
    expect(seen.map((p) => p.phase)).toEqual(['download', 'compile', 'init', 'init']);
    expect(current().appConfigs).toEqual([appConfigFor([spec()])]);
  });

  it('rejects with aborted when cancelled mid-download, though WebLLM resolves', async () => {
    const { engine, current } = setup(gpu(), (scripted) => {
      scripted.reloadBehaviour = 'hang-until-unload';
    });
    const controller = new AbortController();
    const seen: LoadProgress[] = [];
    const loading = engine.load(spec(), (p) => seen.push(p), controller.signal);
    await vi.waitFor(() => {
      expect(seen).toHaveLength(1);
    });
    controller.abort();
    await expectAppError(loading, 'aborted');
    expect(current().unloads).toBeGreaterThanOrEqual(1);
    // Nothing counts as loaded afterwards.
    await expectAppError(
      engine.generate({ messages: [] }, () => undefined, live()),
      'no-model-loaded',
    );
  });

  it('repeats a cancel that came before WebLLM could abort its download', async () => {
    const controller = new AbortController();
    const { engine, current } = setup(gpu(), (scripted) => {
      scripted.reloadBehaviour = 'hang-until-unload';
      scripted.onReloadStart = () => {
        controller.abort();
      };
    });
    const seen: LoadProgress[] = [];
    await expectAppError(
      engine.load(spec(), (p) => seen.push(p), controller.signal),
      'aborted',
    );
    expect(current().unloads).toBeGreaterThanOrEqual(2);
    expect(seen).toEqual([]);
  });

  it('maps load failures and never reuses an engine whose device was lost', async () => {
    const { engine, engines, current } = setup();
    await engine.load(spec(), () => undefined, live());
    await engine.unload();
    current().reloadBehaviour = named('DeviceLostError', 'The WebGPU device was lost');
    await expectAppError(
      engine.load(spec(), () => undefined, live()),
      'device-lost',
    );
    await engine.load(spec(), () => undefined, live());
    expect(engines).toHaveLength(2);
  });

  it('maps a quota failure during download', async () => {
    const { engine, current } = setup();
    await engine.load(spec({ id: 'A-q4f16_1-MLC' }), () => undefined, live());
    current().reloadBehaviour = new DOMException('Quota exceeded.', 'QuotaExceededError');
    await expectAppError(
      engine.load(spec(), () => undefined, live()),
      'quota-exceeded',
    );
  });
});

describe('WebLLMEngine.generate', () => {
  it('needs a loaded model', async () => {
    await expectAppError(
      setup().engine.generate({ messages: [] }, () => undefined, live()),
      'no-model-loaded',
    );
  });

  it('streams deltas and takes usage from the last chunk', async () => {
    const { engine, current } = setup();
    await engine.load(spec(), () => undefined, live());
    const deltas: string[] = [];
    const result = await engine.generate(
      { messages: [{ role: 'user', content: 'hi' }], maxTokens: 16 },
      (d) => deltas.push(d),
      live(),
    );
    expect(deltas).toEqual(['Hel', 'lo']);
    expect(result).toEqual({
      text: 'Hello',
      finishReason: 'stop',
      promptTokens: 12,
      completionTokens: 2,
      decodeTokensPerSecond: 42.5,
    });
    expect(current().requests[0]).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 16,
    });
  });

  it('reports a reply cut by max tokens', async () => {
    const { engine, current } = setup();
    await engine.load(spec(), () => undefined, live());
    current().stream = async function* () {
      await Promise.resolve();
      yield chunk('abc');
      yield chunk(null, 'length');
    };
    const result = await engine.generate({ messages: [] }, () => undefined, live());
    expect(result.finishReason).toBe('length');
    expect(result.completionTokens).toBe(estimateTokens('abc'));
  });

  it('interrupts on abort and resolves with the partial reply', async () => {
    const { engine, current } = setup();
    await engine.load(spec(), () => undefined, live());
    const controller = new AbortController();
    current().stream = async function* (scripted) {
      await Promise.resolve();
      yield chunk('Once');
      controller.abort();
      // WebLLM finishes the current step, then stops once interrupted.
      yield chunk(' upon');
      if (scripted.interrupts > 0) {
        yield chunk(null, 'abort');
        return;
      }
      yield chunk(' a time', 'stop');
    };
    const deltas: string[] = [];
    const result = await engine.generate(
      { messages: [] },
      (d) => deltas.push(d),
      controller.signal,
    );
    expect(current().interrupts).toBeGreaterThanOrEqual(1);
    expect(result.finishReason).toBe('abort');
    expect(result.text).toBe('Once');
    expect(deltas).toEqual(['Once']);
  });

  it('repeats an abort that WebLLM forgot when generation started', async () => {
    const { engine, current } = setup();
    await engine.load(spec(), () => undefined, live());
    const controller = new AbortController();
    const scripted = current();
    let interrupted = false;
    let ranToEnd = false;
    scripted.interruptGenerate = () => {
      interrupted = true;
    };
    const streamChat = scripted.streamChat.bind(scripted);
    scripted.streamChat = (request) => {
      controller.abort(); // before WebLLM's generator has started
      return streamChat(request);
    };
    const wasInterrupted = () => interrupted;
    scripted.stream = async function* () {
      interrupted = false; // WebLLM resets its interrupt flag when generation starts
      await Promise.resolve();
      yield chunk('A');
      if (wasInterrupted()) {
        yield chunk(null, 'abort');
        return;
      }
      yield chunk('B', 'stop');
      ranToEnd = true;
    };
    const result = await engine.generate({ messages: [] }, () => undefined, controller.signal);
    expect(result.finishReason).toBe('abort');
    expect(ranToEnd).toBe(false);
  });

  it('maps errors thrown while streaming', async () => {
    const { engine, current } = setup();
    await engine.load(spec(), () => undefined, live());
    current().stream = async function* () {
      yield chunk('x');
      await Promise.resolve();
      throw named('ContextWindowSizeExceededError', 'Prompt tokens exceed context window size');
    };
    await expectAppError(
      engine.generate({ messages: [] }, () => undefined, live()),
      'context-window-exceeded',
    );
  });
});

/* ------------------------------------------------------------------------------------------- */
/* Cached models, through WebLLM's real cache helpers on a fake Cache API                       */
/* ------------------------------------------------------------------------------------------- */

type Body = string | Uint8Array<ArrayBuffer>;

class FakeCache {
  readonly entries = new Map<string, { body: Body; headers: Record<string, string> }>();

  static key(request: RequestInfo | URL): string {
    return typeof request === 'string'
      ? request
      : request instanceof URL
        ? request.href
        : request.url;
  }
  set(url: string, body: Body, headers: Record<string, string> = {}): void {
    this.entries.set(url, { body, headers });
  }
  match(request: RequestInfo | URL): Promise<Response | undefined> {
    const entry = this.entries.get(FakeCache.key(request));
    return Promise.resolve(
      entry ? new Response(entry.body, { headers: entry.headers }) : undefined,
    );
  }
  keys(): Promise<Request[]> {
    return Promise.resolve([...this.entries.keys()].map((url) => new Request(url)));
  }
  delete(request: RequestInfo | URL): Promise<boolean> {
    return Promise.resolve(this.entries.delete(FakeCache.key(request)));
  }
  add(request: RequestInfo | URL): Promise<void> {
    return Promise.reject(new Error(`unexpected download of ${FakeCache.key(request)}`));
  }
}

class FakeCacheStorage {
  readonly byName = new Map<string, FakeCache>();
  open(name: string): Promise<FakeCache> {
    let cache = this.byName.get(name);
    if (!cache) {
      cache = new FakeCache();
      this.byName.set(name, cache);
    }
    return Promise.resolve(cache);
  }
  get(name: string): FakeCache {
    const cache = this.byName.get(name);
    if (!cache) throw new Error(`no cache ${name}`);
    return cache;
  }
}

/** Stores a model as WebLLM does: shards + tokenizer under the model URL, config, library. */
async function storeModel(
  storage: FakeCacheStorage,
  model: WebLLMModelSpec,
  shards: number,
): Promise<void> {
  const base = webllmModelBaseUrl(model.modelUrl);
  const records = Array.from({ length: shards }, (_, i) => ({ dataPath: `params_shard_${i}.bin` }));
  const modelCache = await storage.open(WEBLLM_CACHES.model);
  modelCache.set(`${base}tensor-cache.json`, JSON.stringify({ records }));
  for (const { dataPath } of records) {
    modelCache.set(`${base}${dataPath}`, new Uint8Array(1000), { 'content-length': '1000' });
  }
  modelCache.set(`${base}tokenizer.json`, new Uint8Array(300)); // no length header: measured
  (await storage.open(WEBLLM_CACHES.config)).set(
    `${base}mlc-chat-config.json`,
    JSON.stringify({ context_window_size: 2048, sliding_window_size: -1 }),
  );
  (await storage.open(WEBLLM_CACHES.wasm)).set(model.modelLibUrl, new Uint8Array(50));
}

describe('WebLLMEngine cache listing and deletion', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  const a = spec({
    id: 'A-q4f16_1-MLC',
    modelUrl: 'https://huggingface.co/mlc-ai/A-q4f16_1-MLC',
    modelLibUrl: 'https://example.com/a.wasm',
  });
  const b = spec({
    id: 'B-q4f16_1-MLC',
    modelUrl: 'https://huggingface.co/mlc-ai/B-q4f16_1-MLC',
    modelLibUrl: 'https://example.com/b.wasm',
  });

  it('lists complete models with the size of all their cached files', async () => {
    const storage = new FakeCacheStorage();
    vi.stubGlobal('caches', storage);
    await storeModel(storage, a, 3);
    await storeModel(storage, b, 2);
    // B's download stopped before its last shard.
    await storage
      .get(WEBLLM_CACHES.model)
      .delete(`${webllmModelBaseUrl(b.modelUrl)}params_shard_1.bin`);
    const listed = await setup().engine.listCached([
      a,
      b,
      { engine: 'wllama', id: 'x.gguf', url: 'https://e.com/x.gguf' },
    ]);
    const manifestBytes = JSON.stringify({
      records: [0, 1, 2].map((i) => ({ dataPath: `params_shard_${i}.bin` })),
    }).length;
    const configBytes = JSON.stringify({
      context_window_size: 2048,
      sliding_window_size: -1,
    }).length;
    expect(listed).toEqual([
      { engine: 'webllm', id: a.id, sizeBytes: manifestBytes + 3 * 1000 + 300 + configBytes + 50 },
    ]);
  });

  it('lists nothing where the Cache API is missing', async () => {
    vi.stubGlobal('caches', undefined);
    expect(await setup().engine.listCached([a])).toEqual([]);
  });

  it("deletes every file of one model and leaves the others'", async () => {
    const storage = new FakeCacheStorage();
    vi.stubGlobal('caches', storage);
    await storeModel(storage, a, 3);
    await storeModel(storage, b, 2);
    await setup().engine.deleteCached(a);
    const remaining = [...storage.byName.values()].flatMap((cache) => [...cache.entries.keys()]);
    expect(remaining.some((url) => url.includes('/A-q4f16_1-MLC/') || url === a.modelLibUrl)).toBe(
      false,
    );
    expect(
      remaining.filter((url) => url.includes('/B-q4f16_1-MLC/') || url === b.modelLibUrl),
    ).toHaveLength(6);
  });

  it('deletes a partial download without fetching anything', async () => {
    const storage = new FakeCacheStorage();
    vi.stubGlobal('caches', storage);
    await storeModel(storage, a, 2);
    // The manifest is missing: WebLLM's own deleter would download it first.
    await storage
      .get(WEBLLM_CACHES.model)
      .delete(`${webllmModelBaseUrl(a.modelUrl)}tensor-cache.json`);
    await setup().engine.deleteCached(a);
    expect([...storage.byName.values()].every((cache) => cache.entries.size === 0)).toBe(true);
  });

  it('takes the context window from the cached chat config when the spec has none', async () => {
    const storage = new FakeCacheStorage();
    vi.stubGlobal('caches', storage);
    const custom = spec({ contextWindow: undefined });
    await storeModel(storage, custom, 1);
    const loaded = await setup().engine.load(custom, () => undefined, live());
    expect(loaded.contextWindow).toBe(2048);
  });
});
