/**
 * What Persona asks of a language model and gets back, whatever engine runs it: the messages,
 * the request, the result, and the model a spec names. Pure types (and one constant), so `core/`
 * can build prompts and read results without importing anything from `engine/`.
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
