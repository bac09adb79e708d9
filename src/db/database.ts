/**
 * The IndexedDB schema. This module (with its siblings in `db/`) is the only code that touches
 * IndexedDB; it imports nothing from the DOM or Svelte because the assistant worker uses it too.
 *
 * Rules, because browsers keep these databases across app versions:
 * - `DB_NAME` and the table names never change without a migration.
 * - `SCHEMA_VERSIONS` is only appended to. Never edit a published entry: add a new version with
 *   the new stores and an `upgrade` that rewrites old rows.
 */
import { Dexie, type EntityTable, type Transaction } from 'dexie';
import type {
  Conversation,
  CustomModel,
  Job,
  Message,
  ProfileRevision,
  ProfileRow,
  Proposal,
  SearchDoc,
  MessageTally,
  SearchProgress,
  SettingRow,
} from './records';

export const DB_NAME = 'persona';

export const TABLES = {
  conversations: 'conversations',
  messages: 'messages',
  settings: 'settings',
  customModels: 'customModels',
  profile: 'profile',
  revisions: 'revisions',
  proposals: 'proposals',
  jobs: 'jobs',
  searchDocs: 'searchDocs',
  searchProgress: 'searchProgress',
  messageTallies: 'messageTallies',
} as const;

export type TableName = (typeof TABLES)[keyof typeof TABLES];

export interface SchemaVersion {
  version: number;
  /** Dexie store specs: primary key first, then indexes. */
  stores: Partial<Record<TableName, string | null>>;
  upgrade?: (tx: Transaction) => Promise<void>;
}

export const SCHEMA_VERSIONS: readonly SchemaVersion[] = [
  {
    version: 1,
    stores: {
      [TABLES.conversations]: 'id, updatedAt',
      // `status` is indexed so interrupted replies are found without scanning every message.
      [TABLES.messages]: 'id, [conversationId+createdAt], status',
      [TABLES.settings]: 'key',
      [TABLES.customModels]: 'id, addedAt',
    },
  },
  {
    version: 2,
    stores: {
      // One row, id `current`: the dictionary and its revision number.
      [TABLES.profile]: 'id',
      // `number` is unique so two writers can never both store "revision n + 1".
      [TABLES.revisions]: 'id, &number, createdAt',
      [TABLES.proposals]: 'id, status, createdAt',
      [TABLES.jobs]: 'id, status, createdAt',
    },
    // Frozen with this version: it touches rows as version 1 wrote them, so it uses no code from
    // the repositories, whose types describe the newest rows.
    upgrade: async (tx) => {
      await tx
        .table<{ learnedUntil?: unknown }>(TABLES.conversations)
        .toCollection()
        .modify((conversation) => {
          if (typeof conversation.learnedUntil !== 'number') conversation.learnedUntil = 0;
        });
    },
  },
  {
    version: 3,
    stores: {
      // The search index (`search-index.ts`): one row per message or title with its distinct
      // terms. `seq` grows with each write, so a term's rows come newest first from `*terms`
      // without a sort; `&ref` finds a message's row to replace it.
      [TABLES.searchDocs]: '++seq, &ref, *terms, conversationId',
      // How far indexing the messages stored before this version (or imported) has come.
      [TABLES.searchProgress]: 'key',
    },
    // No upgrade: indexing 100,000 messages here would hold the database closed for the whole
    // run; the worker indexes them in the background from `searchProgress`, which starts empty.
  },
  {
    version: 4,
    stores: {
      // Messages per conversation (`storage-usage.ts`). No upgrade: a missing row is counted
      // when the Storage view next needs it.
      [TABLES.messageTallies]: 'conversationId',
    },
  },
];

export const SCHEMA_VERSION = SCHEMA_VERSIONS[SCHEMA_VERSIONS.length - 1]?.version ?? 0;

export class PersonaDatabase extends Dexie {
  conversations!: EntityTable<Conversation, 'id'>;
  messages!: EntityTable<Message, 'id'>;
  settings!: EntityTable<SettingRow, 'key'>;
  customModels!: EntityTable<CustomModel, 'id'>;
  profile!: EntityTable<ProfileRow, 'id'>;
  revisions!: EntityTable<ProfileRevision, 'id'>;
  proposals!: EntityTable<Proposal, 'id'>;
  jobs!: EntityTable<Job, 'id'>;
  searchDocs!: EntityTable<SearchDoc, 'seq'>;
  searchProgress!: EntityTable<SearchProgress, 'key'>;
  messageTallies!: EntityTable<MessageTally, 'conversationId'>;

  constructor(name: string = DB_NAME) {
    super(name);
    for (const { version, stores, upgrade } of SCHEMA_VERSIONS) {
      const declared = this.version(version).stores(stores);
      if (upgrade) declared.upgrade(upgrade);
    }
  }
}

/** Opens (lazily, on first use) the app's database; tests pass a unique name each. */
export function openDatabase(name: string = DB_NAME): PersonaDatabase {
  return new PersonaDatabase(name);
}
