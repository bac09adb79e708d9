import { AppError } from '../../src/core/errors';
import type {
  CachedModelInfo,
  Engine,
  GenerateRequest,
  GenerateResult,
  LoadedModel,
  ModelSpec,
} from '../../src/engine/engine';

/**
 * The script a scripted model follows, served as JSON from the test model server.
 * - Chat replies echo the system prompt, so a test can read in the page what the assistant was
 *   told (for example, that the user lives in Berlin).
 * - Optimizer requests (those with a JSON schema) answer with the first rule whose `when` text
 *   appears in the prompt, or with no changes.
 */
export interface EngineScript {
  optimizer: { when: string; output: unknown }[];
  /** Milliseconds between streamed words (default 1): a slow model, to act while it streams. */
  pieceDelayMs?: number;
}

const isScript = (value: unknown): value is EngineScript =>
  typeof value === 'object' &&
  value !== null &&
  Array.isArray((value as { optimizer?: unknown }).optimizer);

/** A test double for the browser: never part of the production bundle (see vite.e2e.config.ts). */
export class BrowserScriptedEngine implements Engine {
  readonly kind = 'wllama' as const;
  #script: EngineScript | null = null;

  async load(spec: ModelSpec): Promise<LoadedModel> {
    if (spec.engine !== 'wllama')
      throw new AppError('invalid-model', 'Scripted models are wllama specs.');
    const response = await fetch(spec.url);
    if (!response.ok) throw new AppError('model-not-found', `No script at ${spec.url}`);
    const script: unknown = await response.json();
    if (!isScript(script)) throw new AppError('invalid-model', 'Not an engine script.');
    this.#script = script;
    return { spec, contextWindow: 8192, backend: 'scripted' };
  }

  async generate(
    request: GenerateRequest,
    onDelta: (text: string) => void,
    signal: AbortSignal,
  ): Promise<GenerateResult> {
    const script = this.#script;
    if (!script) throw new AppError('no-model-loaded', 'No script loaded.');
    const prompt = request.messages.map((m) => m.content).join('\n');
    const text = request.jsonSchema
      ? JSON.stringify(
          script.optimizer.find((rule) => prompt.includes(rule.when))?.output ?? { changes: [] },
        )
      : `I was told: ${request.messages.find((m) => m.role === 'system')?.content ?? ''}`;
    let sent = '';
    for (const piece of text.match(/\S+\s*/g) ?? []) {
      if (signal.aborted) break;
      // A macrotask per piece, like a real engine, so Stop and pre-emption can interleave.
      await new Promise((resolve) => setTimeout(resolve, script.pieceDelayMs ?? 1));
      sent += piece;
      onDelta(piece);
    }
    return {
      text: sent,
      finishReason: signal.aborted ? 'abort' : 'stop',
      promptTokens: Math.ceil(prompt.length / 4),
      completionTokens: Math.ceil(sent.length / 4),
    };
  }

  countTokens(text: string): Promise<number> {
    return Promise.resolve(Math.ceil(text.length / 4));
  }

  unload(): Promise<void> {
    this.#script = null;
    return Promise.resolve();
  }

  listCached(): Promise<CachedModelInfo[]> {
    return Promise.resolve([]);
  }

  deleteCached(): Promise<void> {
    return Promise.resolve();
  }
}
