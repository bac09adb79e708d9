/**
 * The shapes of the rows stored in IndexedDB. Changing a field's meaning needs a new schema
 * version with an upgrade in `database.ts`: these rows outlive the code that wrote them.
 */
import type { ModelSpec } from '../engine/engine';

export interface Conversation {
  /** `crypto.randomUUID()`. */
  id: string;
  title: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
  /** Milliseconds since the epoch; the conversation list is ordered by it, newest first. */
  updatedAt: number;
  /** Reserved for conversations that are not kept; always false for now. */
  temporary: boolean;
}

export type MessageRole = 'user' | 'assistant';

/**
 * - `streaming`: a reply is being written into this message right now.
 * - `incomplete`: its generator went away (tab closed, crash) before it finished; text kept.
 * - `stopped`: the user stopped it; text kept.
 * - `error`: generation failed; see `error`.
 */
export type MessageStatus = 'complete' | 'streaming' | 'incomplete' | 'stopped' | 'error';

export interface StoredError {
  code: string;
  message: string;
}

export interface ReplyStats {
  promptTokens: number;
  completionTokens: number;
  tokensPerSecond: number;
}

export interface Message {
  id: string;
  conversationId: string;
  role: MessageRole;
  content: string;
  /** Milliseconds since the epoch, strictly increasing within a conversation. */
  createdAt: number;
  status: MessageStatus;
  error?: StoredError;
  /** The model that wrote an assistant reply. */
  modelId?: string;
  /** Turns left out of the prompt so it fit the model's context window. */
  droppedTurns?: number;
  stats?: ReplyStats;
}

/** One row per setting; see `Settings` in `settings.ts` for the keys and their value types. */
export interface SettingRow {
  key: string;
  value: unknown;
}

export interface CustomModel {
  /** Usually `spec.id`. */
  id: string;
  label: string;
  spec: ModelSpec;
  /** Milliseconds since the epoch. */
  addedAt: number;
}
