/**
 * What the page reads from IndexedDB, as narrow read-only interfaces. State classes get one of
 * these instead of the database handle, so nothing in `state/` or `ui/` holds something it could
 * write through: the worker is the only writer (issue 9). Each method is one query, cheap enough
 * to re-run as a live query whenever the tables it read change.
 */
import type { ProfileRevision } from '../core/profile/types';
import type { BenchPersonaResult, BenchRun, BenchSession } from '../core/bench/types';
import {
  fieldsLearnedOnlyFrom,
  getConversation,
  getMessage,
  listNewestConversations,
  listMessagesAfter,
  listMessagesBefore,
  listMessagesInRange,
  listNewestMessages,
  getAllSettings,
  getProfile,
  listCustomModels,
  listJobs,
  listPendingProposals,
  listRevisions,
  type Conversation,
  type CurrentProfile,
  type CustomModel,
  type FieldRef,
  type Message,
  type Job,
  type PersonaDatabase,
  type Proposal,
  type Settings,
} from '../db';
import { listRuns, runPersonaResults, runSessions, type LabDatabase } from '../db/lab';

export interface SettingsReads {
  settings(): Promise<Settings>;
}

/** What the profile page shows: the dictionary, its history, the review queue, recent jobs. */
export interface ProfileReads extends SettingsReads {
  profile(): Promise<CurrentProfile>;
  revisions(): Promise<ProfileRevision[]>;
  pendingProposals(): Promise<Proposal[]>;
  recentJobs(limit: number): Promise<Job[]>;
}

export interface ModelReads extends SettingsReads {
  customModels(): Promise<CustomModel[]>;
}

export type PersonaReads = ProfileReads & ModelReads;

export function personaReads(db: PersonaDatabase): PersonaReads {
  return {
    settings: () => getAllSettings(db),
    profile: () => getProfile(db),
    revisions: () => listRevisions(db),
    pendingProposals: () => listPendingProposals(db),
    recentJobs: (limit) => listJobs(db, { limit }),
    customModels: () => listCustomModels(db),
  };
}

/** Pages of one conversation, by its `[conversationId+createdAt]` index (issue 11). */
export interface MessageReads {
  message(id: string): Promise<Message | undefined>;
  newest(conversationId: string, limit: number): Promise<Message[]>;
  before(conversationId: string, createdAt: number, limit: number): Promise<Message[]>;
  after(conversationId: string, createdAt: number, limit: number): Promise<Message[]>;
  inRange(conversationId: string, from: number, to: number | null): Promise<Message[]>;
}

export interface ConversationPage {
  rows: Conversation[];
  total: number;
}

/** The conversation list, the open conversation's pages, and what only one conversation taught. */
export interface ChatReads extends MessageReads {
  /** The `limit` conversations with the newest activity, and how many there are. */
  newestConversations(limit: number): Promise<ConversationPage>;
  conversation(id: string): Promise<Conversation | undefined>;
  fieldsLearnedOnlyFrom(conversationId: string): Promise<FieldRef[]>;
}

export function chatReads(db: PersonaDatabase): ChatReads {
  return {
    newestConversations: (limit) => listNewestConversations(db, limit),
    conversation: (id) => getConversation(db, id),
    fieldsLearnedOnlyFrom: (conversationId) => fieldsLearnedOnlyFrom(db, conversationId),
    message: (id) => getMessage(db, id),
    newest: (conversationId, limit) => listNewestMessages(db, conversationId, limit),
    before: (conversationId, createdAt, limit) =>
      listMessagesBefore(db, conversationId, createdAt, limit),
    after: (conversationId, createdAt, limit) =>
      listMessagesAfter(db, conversationId, createdAt, limit),
    inRange: (conversationId, from, to) => listMessagesInRange(db, conversationId, from, to),
  };
}

/** The Lab's runs and a run's results, from the lab's own database. */
export interface LabReads {
  runs(): Promise<BenchRun[]>;
  runSessions(runId: string): Promise<BenchSession[]>;
  runPersonaResults(runId: string): Promise<BenchPersonaResult[]>;
}

export function labReads(db: LabDatabase): LabReads {
  return {
    runs: () => listRuns(db),
    runSessions: (runId) => runSessions(db, runId),
    runPersonaResults: (runId) => runPersonaResults(db, runId),
  };
}
