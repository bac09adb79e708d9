import { AppError } from '../../src/core/errors';
import type {
  CachedModelInfo,
  Engine,
  GenerateRequest,
  GenerateResult,
  LoadedModel,
  LoadProgress,
  ModelSpec,
} from '../../src/engine/engine';

/**
 * A test double for `Engine`: replies with scripted text, one word per token, and records every
 * request, so tests can check what the assistant put in the prompt. Never shipped.
 */
export class ScriptedEngine implements Engine {
  readonly kind = 'wllama' as const;
  readonly requests: GenerateRequest[] = [];
  replies: string[] = [];
  contextWindow = 4096;
  /** Awaited between tokens; tests make it block to stop mid-reply. */
  betweenTokens: () => Promise<void> = () => Promise.resolve();
  failNextGenerate: AppError | null = null;
  /**
   * Answers from the request instead of the `replies` queue when set (the lab's tests tell the
   * assistant, simulator, judge and optimizer apart by their prompts). A promise that never
   * settles stands for a tab that died mid-call.
   */
  respond: ((request: GenerateRequest) => string | Promise<string>) | null = null;
  loaded: ModelSpec | null = null;
  cached = new Map<string, number>();

  /** Awaited before a load ends; tests make it block to act while a model loads. */
  beforeLoadEnds: () => Promise<void> = () => Promise.resolve();

  async load(spec: ModelSpec, onProgress: (p: LoadProgress) => void): Promise<LoadedModel> {
    await this.beforeLoadEnds();
    onProgress({ phase: 'download', fraction: 1, loadedBytes: 10, totalBytes: 10, text: 'done' });
    this.loaded = spec;
    this.cached.set(spec.id, 10);
    return { spec, contextWindow: this.contextWindow, backend: 'scripted' };
  }

  async generate(
    request: GenerateRequest,
    onDelta: (text: string) => void,
    signal: AbortSignal,
  ): Promise<GenerateResult> {
    this.requests.push(request);
    // Like the real engines: one generation at a time, so a test sees a caller that did not wait.
    if (this.#generating) throw new AppError('busy', 'The model is already writing a reply.');
    if (this.failNextGenerate) {
      const error = this.failNextGenerate;
      this.failNextGenerate = null;
      throw error;
    }
    this.#generating = true;
    try {
      return await this.#write(request, onDelta, signal);
    } finally {
      this.#generating = false;
    }
  }

  #generating = false;

  async #write(
    request: GenerateRequest,
    onDelta: (text: string) => void,
    signal: AbortSignal,
  ): Promise<GenerateResult> {
    // Like a real engine, an abort ends the call while it is still reading the prompt, too.
    const script = this.respond
      ? await unlessAborted(this.respond(request), signal)
      : (this.replies.shift() ?? 'Hello from the scripted engine.');
    if (script === null) {
      return { text: '', finishReason: 'abort', promptTokens: 0, completionTokens: 0 };
    }
    const tokens = script.match(/\S+\s*/g) ?? [];
    let text = '';
    let written = 0;
    let cutOff = false;
    for (const token of tokens) {
      await this.betweenTokens();
      if (signal.aborted) break;
      // Like a real engine, a reply longer than the request allows ends at the limit.
      if (request.maxTokens !== undefined && written === request.maxTokens) {
        cutOff = true;
        break;
      }
      text += token;
      written++;
      onDelta(token);
    }
    return {
      text,
      finishReason: signal.aborted ? 'abort' : cutOff ? 'length' : 'stop',
      promptTokens: request.messages.length,
      completionTokens: text.split(/\s+/).filter(Boolean).length,
    };
  }

  /** Every text the assistant asked to count, in order. */
  readonly counted: string[] = [];

  countTokens(text: string): Promise<number> {
    this.counted.push(text);
    return Promise.resolve(text.split(/\s+/).filter(Boolean).length);
  }

  unload(): Promise<void> {
    this.loaded = null;
    return Promise.resolve();
  }

  listCached(known: ModelSpec[]): Promise<CachedModelInfo[]> {
    return Promise.resolve(
      known.flatMap((spec) => {
        const size = this.cached.get(spec.id);
        return size === undefined ? [] : [{ engine: this.kind, id: spec.id, sizeBytes: size }];
      }),
    );
  }

  deleteCached(spec: ModelSpec): Promise<void> {
    this.cached.delete(spec.id);
    return Promise.resolve();
  }
}

/** The answer, or null as soon as `signal` aborts. */
function unlessAborted(
  answer: string | Promise<string>,
  signal: AbortSignal,
): Promise<string | null> {
  if (signal.aborted) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      resolve(null);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    Promise.resolve(answer).then(
      (text) => {
        signal.removeEventListener('abort', onAbort);
        resolve(text);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
