/**
 * The shapes of the rows stored in IndexedDB. Changing a field's meaning needs a new schema
 * version with an upgrade in `database.ts`: these rows outlive the code that wrote them.
 */
import type {
  Profile,
  ProfileChange,
  ProfileRevision,
  RejectionReason,
} from '../core/profile/types';
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
  /**
   * `createdAt` of the newest message the optimizer has already learned from; 0 when none.
   * Messages after it are still to be learned. Only moves forward. Added in schema version 2.
   */
  learnedUntil: number;
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
  /** The reply reached its length limit before the model ended it (often a model repeating itself). */
  cutOff?: boolean;
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

/** The key of the single row of the `profile` table. */
export const PROFILE_ROW_ID = 'current';

/**
 * The current profile dictionary and the number of the revision that produced it. There is one
 * such row at most; no row means an empty profile at revision 0.
 */
export interface ProfileRow {
  id: typeof PROFILE_ROW_ID;
  profile: Profile;
  /** `number` of the newest revision; 0 before the first. Compared for optimistic concurrency. */
  revision: number;
}

/** Revisions are stored as the profile types define them. */
export type { ProfileRevision };

export type ProposalStatus = 'pending' | 'accepted' | 'rejected';

/** A change the optimizer proposed in review mode, waiting for the user to accept or reject it. */
export interface Proposal {
  id: string;
  /** The optimizer run that proposed it: the id of its job. */
  revisionGroup: string;
  change: ProfileChange;
  /** Milliseconds since the epoch; strictly increasing within a group, in the optimizer's order. */
  createdAt: number;
  status: ProposalStatus;
  /** When it was accepted or rejected. */
  resolvedAt?: number;
  /** The revision that applied it, for an accepted proposal. */
  revisionId?: string;
}

export type JobKind = 'optimize';

/**
 * - `queued`: waiting for a runner.
 * - `running`: claimed by a runner (a tab's worker); re-claimable once its `updatedAt` is stale.
 * - `done`: finished; see `result`.
 * - `failed`: gave up; see `error`.
 */
export type JobStatus = 'queued' | 'running' | 'done' | 'failed';

export interface JobResult {
  /** Changes applied to the profile. */
  applied: number;
  /** Changes the validator dropped. */
  rejected: number;
  /** The revision the run produced, if any. */
  revisionId?: string;
  /** Proposals queued for review (review mode). */
  proposals?: number;
}

/** Why a proposed change was dropped. The raw model output is not kept: it is untrusted and large. */
export interface JobRejection {
  reason: RejectionReason;
  detail: string;
}

/** A persisted optimizer job, so learning survives a closed tab. */
export interface Job {
  id: string;
  kind: JobKind;
  status: JobStatus;
  /** The conversations whose new messages this run learns from. */
  conversationIds: string[];
  /** Milliseconds since the epoch; jobs run oldest first. */
  createdAt: number;
  /** Milliseconds since the epoch; a running job's heartbeat. */
  updatedAt: number;
  /** Claims that did not end in a pre-emption: a job that keeps killing its tab can be failed. */
  attempts: number;
  /**
   * Set by each claim and checked by the writes that finish the job, so a runner whose claim went
   * stale (and was taken over by another tab) cannot also finish it.
   */
  claimId?: string;
  error?: StoredError;
  result?: JobResult;
  rejected?: JobRejection[];
}

/**
 * One searchable text in the search index (schema version 3): a message, or a conversation's
 * title. Derived data: never in a backup, rebuilt from the messages after an import.
 */
/**
 * How many messages a conversation holds, kept with every write that adds or removes some, so the
 * Storage view never counts 100,000 messages (issue 11). Derived data: not in a backup; a missing
 * row (after an import, or for rows stored before schema version 4) is counted when next needed.
 */
export interface MessageTally {
  conversationId: string;
  messages: number;
}

export interface SearchDoc {
  /** Assigned on write, growing: a term's newest rows are its highest. */
  seq?: number;
  /** `m:` + the message id, or `t:` + the conversation id for its title. */
  ref: string;
  conversationId: string;
  /** The message, or null for a title. */
  messageId: string | null;
  /** The distinct terms of the text (`core/search/terms.ts`). */
  terms: string[];
}

/**
 * The background indexing of messages written without the index (stored before schema version 3,
 * or imported): no row means it has not started.
 */
export interface SearchProgress {
  key: 'backfill';
  titlesDone: boolean;
  /** The id of the last message looked at, in primary-key order; null before the first. */
  afterMessageId: string | null;
  done: boolean;
}
