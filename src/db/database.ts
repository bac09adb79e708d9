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
import type { Conversation, CustomModel, Message, SettingRow } from './records';

export const DB_NAME = 'persona';

export const TABLES = {
  conversations: 'conversations',
  messages: 'messages',
  settings: 'settings',
  customModels: 'customModels',
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
];

export const SCHEMA_VERSION = SCHEMA_VERSIONS[SCHEMA_VERSIONS.length - 1]?.version ?? 0;

export class PersonaDatabase extends Dexie {
  conversations!: EntityTable<Conversation, 'id'>;
  messages!: EntityTable<Message, 'id'>;
  settings!: EntityTable<SettingRow, 'key'>;
  customModels!: EntityTable<CustomModel, 'id'>;

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
