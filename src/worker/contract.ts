/**
 * The typed contract between the UI and the assistant worker. Types only: the worker implements
 * `AssistantApi` and exposes it with Comlink; the UI wraps the worker with `Comlink.wrap<AssistantApi>()`.
 * Callbacks passed across must be wrapped in `Comlink.proxy` by the caller.
 */
import type { DeviceInfo } from '../core/models/device-info';
import type {
  CachedModelInfo,
  ChatMessage,
  FinishReason,
  LoadedModel,
  LoadProgress,
  ModelSpec,
} from '../engine/engine';
import type { BenchDataset, BenchProgress, BenchRole, BenchSettings } from '../core/bench/types';
import type { Marked } from '../core/search/snippet';
import type { StoredDataUsage } from '../core/storage/usage';
import type { NewCustomModel } from '../db/custom-models';
import type { Conversation } from '../db/records';
import type { Settings } from '../db/settings';

export interface ReplyRequest {
  conversationId: string;
  /** The assistant message (already stored, empty) that the reply is written into. */
  messageId: string;
}

/** A batch of streamed text: sent at most once per frame, never once per token. */
export interface StreamUpdate {
  messageId: string;
  /** Text appended since the previous update. */
  delta: string;
}

export interface ReplyOutcome {
  messageId: string;
  finishReason: FinishReason;
  /** Turns of the conversation left out of the prompt so it fits the context window. */
  droppedTurns: number;
  promptTokens: number;
  completionTokens: number;
  /** Wall-clock decode speed observed by the worker, tokens per second. */
  tokensPerSecond: number;
}

export interface DeviceApi {
  probe(): Promise<DeviceInfo>;
}

export interface ModelsApi {
  /** Loads a model (replacing the one in use) and remembers it as the one to load at start-up. */
  load(spec: ModelSpec, onProgress: (progress: LoadProgress) => void): Promise<LoadedModel>;
  /** Aborts a load in progress; what was downloaded stays cached for a retry. */
  cancelLoad(): Promise<void>;
  unload(): Promise<void>;
  current(): Promise<LoadedModel | null>;
  listCached(known: ModelSpec[]): Promise<CachedModelInfo[]>;
  deleteCached(spec: ModelSpec): Promise<void>;
  /** Adds a self-hosted model to the list (the caller picks an id no other model has). */
  addCustom(model: NewCustomModel): Promise<void>;
  /** Removes a self-hosted model from the list; its downloaded files are `deleteCached`'s. */
  removeCustom(id: string): Promise<void>;
}

export interface ChatApi {
  /**
   * Generates the reply for `messageId` from the stored conversation, streams it through
   * `onStream`, and stores it as it goes, so a crash keeps what was generated.
   */
  reply(request: ReplyRequest, onStream: (update: StreamUpdate) => void): Promise<ReplyOutcome>;
  /** Stops the reply in progress; the partial reply is kept. */
  stop(): Promise<void>;
  /**
   * The messages the model was given for a reply (instructions with the profile, and the
   * history that fit), or null when this worker did not write it: prompts are kept in memory
   * for the latest replies only, never stored.
   */
  promptOf(messageId: string): Promise<ChatMessage[] | null>;
  /**
   * Stores the reply in progress as far as it was generated, now rather than at the next
   * periodic save: the page is being hidden or closed and may not come back.
   */
  saveProgress(): Promise<void>;
}

/** The user's message and the empty reply after it, as stored. */
export interface SentMessage {
  conversationId: string;
  userMessageId: string;
  /** Status `streaming`, for `chat.reply` to write into. */
  assistantMessageId: string;
}

/**
 * Every change to conversations and messages: the worker is the only writer of the database
 * (issue 9), the UI reads it through live queries and asks for changes here.
 */
export interface ConversationsApi {
  /** A temporary conversation is neither personalized nor learned from. */
  create(options?: { temporary?: boolean }): Promise<Conversation>;
  rename(conversationId: string, title: string): Promise<void>;
  /** Deletes the conversation with its messages (what was learned from it is the profile's). */
  remove(conversationId: string): Promise<void>;
  /**
   * Stores the user's message and an empty reply. A conversation that is not stored (null, or
   * one deleted in another tab or left out of an import) is started anew instead of refused.
   */
  send(conversationId: string | null, text: string): Promise<SentMessage>;
  /** Empties the conversation's last reply for `chat.reply` to write again; returns its id. */
  prepareRegenerate(conversationId: string): Promise<string>;
  /** Remembers the conversation on screen, for the next start. */
  setActive(conversationId: string | null): Promise<void>;
  /**
   * Marks replies left `streaming` by a crashed or closed tab as incomplete, keeping their text;
   * a reply whose writer still holds its lock (in any tab) is left alone.
   */
  recoverInterrupted(): Promise<void>;
}

/** One change the user makes to their profile; each is stored as one revision they can undo. */
export type ProfileEdit =
  | { kind: 'set'; section: string; key: string; value: string }
  /** Several fields at once (e.g. what was learned only from a deleted conversation). */
  | { kind: 'remove'; fields: { section: string; key: string }[]; summary?: string }
  /** Locks an unlocked field, unlocks a locked one: learning never changes a locked field. */
  | { kind: 'lock'; section: string; key: string }
  | { kind: 'add-section'; name: string }
  | { kind: 'remove-section'; name: string }
  /** Undoes a history entry, or only its change at `changeIndex`. */
  | { kind: 'revert'; revisionId: string; changeIndex?: number }
  /** Replaces the profile with an exported profile or a PersonaBench persona file's text. */
  | { kind: 'import'; text: string };

export interface EditOutcome {
  changed: boolean;
  /** Why nothing was changed, as a sentence for the user; absent when nothing needed to. */
  refused?: string;
}

/** Settings the user controls; each is validated against its range before it is stored. */
export type SettingsChange = Partial<Omit<Settings, 'activeConversationId'>>;

/** The user's control over their profile and settings, written by the worker (issue 9). */
export interface ProfileApi {
  edit(edit: ProfileEdit): Promise<EditOutcome>;
  /** Applies a proposed change (checked again against the profile as it is now). */
  acceptProposal(proposalId: string): Promise<EditOutcome>;
  rejectProposal(proposalId: string): Promise<void>;
  updateSettings(change: SettingsChange): Promise<void>;
}

export interface ScheduleRequest {
  /** The conversation on screen: its session has not ended unless it has been idle. */
  activeConversationId: string | null;
  /** "Update profile now": learn from every unprocessed conversation, the open one included. */
  force?: boolean;
}

/** What one pass of the optimizer did; the details are in the jobs and revisions tables. */
export interface LearningOutcome {
  jobs: number;
  applied: number;
  proposed: number;
  rejected: number;
  failed: number;
  /** A chat request took the engine; the job went back to the queue. */
  preempted: boolean;
  revisionIds: string[];
  /**
   * Why queued work did not run now, so "Update profile now" can say so truthfully: an update
   * already running (in this tab or another) holds the queue, no model is loaded, or a reply
   * holds the engine. Null when nothing is left waiting.
   */
  waiting: LearningWait | null;
}

export type LearningWait = 'another-update' | 'model' | 'reply';

export interface LearningApi {
  /** Queues the sessions that have ended (every k-th, per settings) and runs the queue. */
  schedule(request: ScheduleRequest): Promise<LearningOutcome>;
}

export interface LabStartRequest {
  dataset: BenchDataset;
  /** The model for each role; the optimizer uses the assistant's. Stored with the run for resume. */
  roles: Record<BenchRole, ModelSpec>;
  settings: BenchSettings;
}

/**
 * PersonaBench runs (issue #5). Everything a run reads and writes lives in the lab's own
 * database; the user's profile and conversations are never touched. Progress is persisted after
 * every model call, so a stop, a crash or a closed tab loses nothing and a resume repeats nothing.
 */
export interface LabApi {
  /** Creates a run and works on it until it is done, stopped or failed. */
  start(
    request: LabStartRequest,
    onProgress: (progress: BenchProgress) => void,
  ): Promise<BenchProgress>;
  /** Continues a stopped or interrupted run from where it stopped. */
  resume(runId: string, onProgress: (progress: BenchProgress) => void): Promise<BenchProgress>;
  /** Stops the run in progress after the current model call; it can be resumed. */
  stop(): Promise<void>;
  /** Deletes a run with its sessions, results and recorded calls. */
  remove(runId: string): Promise<void>;
}

/**
 * Importing a backup or erasing everything replaces the database under the worker's feet: a reply
 * or a profile update still running would write into the new (or erased) data afterwards.
 */
export interface DataApi {
  /**
   * Stops the reply in progress, the profile optimizer and any model download, waits until the
   * worker has written its last word, and refuses replies and profile updates until `resume`
   * (or the page reloads, as it does after an import or erase).
   */
  quiesce(): Promise<void>;
  /**
   * Everything stored, as the backup file's contents (built in parts, never as one string);
   * `allowedHosts` are the page's (localStorage), written into the file with the rest.
   */
  exportBackup(allowedHosts: string[]): Promise<Blob>;
  /**
   * The same file, handed to `write` (a `Comlink.proxy` on the page, writing to the file the user
   * chose) in chunks of about a megabyte, each awaited, so no side holds the whole file.
   */
  exportBackupTo(allowedHosts: string[], write: (chunk: string) => Promise<void>): Promise<void>;
  /** How much each kind of data takes, measured here so the page never walks every row. */
  measure(): Promise<StoredDataUsage>;
  /** Takes work again, after an import or erase that failed and changed nothing. */
  resume(): Promise<void>;
  /**
   * Reads and checks a backup file here, off the page's thread and in pieces (a history of 100,000
   * messages is about 89 MB; a file of any size is read). A good one is held, as the file not its
   * contents, under `token` for `importBackup` or `discardBackup`.
   * `builtInModelIds`: the catalog's ids, which no custom model in the file may take.
   */
  checkBackup(file: Blob, builtInModelIds: string[]): Promise<BackupCheck>;
  /**
   * Replaces everything with the checked backup, in one transaction that reads the file again
   * and checks every row as it writes: all of it or, when it fails, nothing. Only between `quiesce` and a reload. Returns the file's allowed model hosts, which
   * the page keeps (localStorage).
   */
  importBackup(token: string): Promise<string[]>;
  discardBackup(token: string): Promise<void>;
  /** Erases the database (one transaction) and the Lab's runs. Only between `quiesce` and a reload. */
  eraseDatabases(): Promise<void>;
}

export type BackupCheck =
  { ok: true; token: string; conversations: number } | { ok: false; error: string };

/** One message (or conversation title) that answers a search. */
export interface SearchHit {
  conversationId: string;
  /** The message found, or null when the conversation's title matched. */
  messageId: string | null;
  /** The conversation's title, its matching words marked. */
  title: Marked;
  /** When the message was written (for a title, when the conversation was last active). */
  at: number;
  /** The message around what was found, matches marked; null for a title. */
  snippet: Marked | null;
  role: 'user' | 'assistant' | null;
}

export interface SearchResults {
  /** Newest first. */
  hits: SearchHit[];
  /**
   * Messages stored before search existed (or just imported) are still being indexed, in the
   * background: some may be missing from `hits` for now.
   */
  indexing: boolean;
}

/** Full-text search over every conversation's messages and titles (issue 11). */
export interface SearchApi {
  /**
   * Every word of `text` must be found; the last one may be unfinished ("berl" finds "Berlin").
   * At most `limit` hits (default 30).
   */
  query(text: string, limit?: number): Promise<SearchResults>;
}

export interface AssistantApi {
  device: DeviceApi;
  models: ModelsApi;
  chat: ChatApi;
  conversations: ConversationsApi;
  profile: ProfileApi;
  learning: LearningApi;
  lab: LabApi;
  data: DataApi;
  search: SearchApi;
}
