import type { BenchUser } from '../dataset';
import type { UserRun } from '../runner';

/** Who answers the optimizer: a GGUF on wllama, or the scripted perfect optimizer. */
export type LearningOptimizer = { kind: 'gguf'; url: string } | { kind: 'ceiling' };

export interface LearningRequest {
  optimizer: LearningOptimizer;
  users: BenchUser[];
  k: number;
  /** Tokens the model reads at once; the app's wllama default when absent. */
  contextWindow?: number;
}

export interface LearningResult {
  runs: UserRun[];
  /** What ran it, e.g. `wasm (1 thread)`, and the window it got. */
  backend: string;
  contextWindow: number;
  loadSeconds: number;
}

export interface LearningProgress {
  userId: string;
  update: number;
  updates: number;
  seconds: number;
  applied: number;
  rejected: number;
  error?: string;
  /** Each answer's length and end, and its start, to watch a model at work. */
  attempts: {
    finishReason: string;
    completionTokens: number;
    promptTokens: number;
    text: string;
  }[];
}

export type WorkerMessage =
  | { type: 'progress'; progress: LearningProgress }
  | { type: 'done'; result: LearningResult }
  | { type: 'failed'; error: string };
