/**
 * The one interface every inference engine implements: WebLLM (WebGPU), wllama (llama.cpp
 * compiled to WebAssembly), and in tests a scripted engine. The worker codes against this only.
 */
import type { EngineKind, GenerateRequest, GenerateResult, ModelSpec } from '../core/llm';

export type {
  ChatMessage,
  ChatRole,
  EngineKind,
  FinishReason,
  GenerateRequest,
  GenerateResult,
  ModelSpec,
  WebLLMModelSpec,
  WllamaModelSpec,
} from '../core/llm';
export { REPEAT_PENALTY_WINDOW } from '../core/llm';

/** Phases are reported separately because engines restart their progress at 0 in each. */
export type LoadPhase = 'download' | 'cache' | 'compile' | 'init';

export interface LoadProgress {
  phase: LoadPhase;
  /** 0..1 within the phase, or null when the engine cannot tell. */
  fraction: number | null;
  loadedBytes?: number;
  totalBytes?: number;
  /** The engine's own words, for details. */
  text: string;
}

export interface LoadedModel {
  spec: ModelSpec;
  /** Tokens the model can read at once (prompt + reply). */
  contextWindow: number;
  /** Which backend actually runs it, e.g. `webgpu`, `wasm (1 thread)`. */
  backend: string;
}

export interface CachedModelInfo {
  engine: EngineKind;
  id: string;
  sizeBytes: number;
}

export interface Engine {
  readonly kind: EngineKind;
  /**
   * Downloads (or reads from cache) and initialises a model. Rejects with an `AppError`;
   * when `signal` aborts, rejects with code `aborted` and keeps what was already cached.
   */
  load(
    spec: ModelSpec,
    onProgress: (p: LoadProgress) => void,
    signal: AbortSignal,
  ): Promise<LoadedModel>;
  /**
   * Streams a reply. `onDelta` receives text pieces in order. When `signal` aborts, the
   * promise resolves with what was generated so far and `finishReason: 'abort'`.
   */
  generate(
    request: GenerateRequest,
    onDelta: (text: string) => void,
    signal: AbortSignal,
  ): Promise<GenerateResult>;
  /** Token count of a text under the loaded model's tokenizer. */
  countTokens(text: string): Promise<number>;
  unload(): Promise<void>;
  /**
   * Which of `known` this engine holds in browser storage, with their size. Custom models the
   * user added are part of `known`, so nothing the app downloaded goes unlisted.
   */
  listCached(known: ModelSpec[]): Promise<CachedModelInfo[]>;
  /** Removes every cached part of a model; other models stay. */
  deleteCached(spec: ModelSpec): Promise<void>;
}
