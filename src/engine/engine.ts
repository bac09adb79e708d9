/**
 * The one interface every inference engine implements: WebLLM (WebGPU), wllama (llama.cpp
 * compiled to WebAssembly), and in tests a scripted engine. The worker codes against this only.
 */
export type EngineKind = 'webllm' | 'wllama';

export type ChatRole = 'system' | 'user' | 'assistant';

export interface ChatMessage {
  role: ChatRole;
  content: string;
}

/** A model the user can load, resolved to the absolute URLs its engine needs. */
export type ModelSpec = WebLLMModelSpec | WllamaModelSpec;

export interface WebLLMModelSpec {
  engine: 'webllm';
  /** The MLC model id, e.g. `Llama-3.2-1B-Instruct-q4f32_1-MLC`. */
  id: string;
  /** Absolute URL of the MLC model folder (it holds `mlc-chat-config.json`). */
  modelUrl: string;
  /** Absolute URL of the compiled model library (`.wasm`). */
  modelLibUrl: string;
  /** Whether the model library needs the WebGPU `shader-f16` feature. */
  requiresShaderF16: boolean;
  contextWindow?: number;
  vramRequiredMB?: number;
}

export interface WllamaModelSpec {
  engine: 'wllama';
  /** A stable id for caching and settings, e.g. the file name. */
  id: string;
  /** Absolute URL of a `.gguf` file (the first part of a split model). */
  url: string;
  contextWindow?: number;
}

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

export interface GenerateRequest {
  messages: ChatMessage[];
  maxTokens?: number;
  temperature?: number;
  seed?: number;
  /**
   * Multiplicative penalty (CTRL-style, >1 discourages) on tokens the reply already used, over its
   * last `REPEAT_PENALTY_WINDOW` tokens where the engine lets us say so. Left out: none.
   */
  repeatPenalty?: number;
  /** Constrain output to JSON matching this JSON Schema (enforced at generation time). */
  jsonSchema?: Record<string, unknown>;
}

/** How far back a repeat penalty looks, in tokens (Ollama's and LM Studio's default). */
export const REPEAT_PENALTY_WINDOW = 64;

export type FinishReason = 'stop' | 'length' | 'abort';

export interface GenerateResult {
  text: string;
  finishReason: FinishReason;
  promptTokens: number;
  completionTokens: number;
  /** Decode speed as the engine measured it, when it reports one. */
  decodeTokensPerSecond?: number;
  /**
   * Of `promptTokens`, how many the engine read from its KV cache instead of evaluating again
   * (the prefix this request shares with an earlier one), when it reports it.
   */
  cachedPromptTokens?: number;
  /** Prompt processing speed over the tokens it did evaluate, when the engine reports one. */
  prefillTokensPerSecond?: number;
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
