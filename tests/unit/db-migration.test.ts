/**
 * The schema is a contract with every browser that ever ran Persona: these tests pin it, and
 * check that a database written by an earlier version opens with its data intact.
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DB_NAME,
  getAllSettings,
  listConversations,
  listCustomModels,
  listMessages,
  openDatabase,
  SCHEMA_VERSION,
  SCHEMA_VERSIONS,
  TABLES,
  type Conversation,
  type CustomModel,
  type Message,
  type PersonaDatabase,
} from '../../src/db';
import { makeConversation, makeMessage, makeWllamaSpec } from './factories';

/** Dexie stores version n as IndexedDB version n × 10. */
const nativeVersion = (dexieVersion: number): number => dexieVersion * 10;

const opened: PersonaDatabase[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((db) => db.delete()));
});

const uniqueName = (): string => `persona-migration-${crypto.randomUUID()}`;

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => {
      resolve(req.result);
    };
    req.onerror = () => {
      reject(req.error ?? new Error('IndexedDB request failed'));
    };
  });
}

function openNative(name: string, version?: number, upgrade?: (db: IDBDatabase) => void) {
  const req = indexedDB.open(name, version);
  if (upgrade) {
    req.onupgradeneeded = () => {
      upgrade(req.result);
    };
  }
  return request(req);
}

interface StoreLayout {
  keyPath: string | string[] | null;
  indexes: Record<string, string | string[]>;
}

function layoutOf(db: IDBDatabase): Record<string, StoreLayout> {
  const names = Array.from(db.objectStoreNames);
  const tx = db.transaction(names, 'readonly');
  return Object.fromEntries(
    names.map((name) => {
      const store = tx.objectStore(name);
      const indexes = Object.fromEntries(
        Array.from(store.indexNames).map((index) => [index, store.index(index).keyPath]),
      );
      return [name, { keyPath: store.keyPath, indexes }];
    }),
  );
}

/** Version 1 as it is on disk, written out by hand so an edit to `database.ts` cannot hide. */
const VERSION_1_LAYOUT: Record<string, StoreLayout> = {
  conversations: { keyPath: 'id', indexes: { updatedAt: 'updatedAt' } },
  messages: {
    keyPath: 'id',
    indexes: {
      '[conversationId+createdAt]': ['conversationId', 'createdAt'],
      status: 'status',
    },
  },
  settings: { keyPath: 'key', indexes: {} },
  customModels: { keyPath: 'id', indexes: { addedAt: 'addedAt' } },
};

describe('schema', () => {
  it('keeps the database and table names', () => {
    expect(DB_NAME).toBe('persona');
    expect(TABLES).toEqual({
      conversations: 'conversations',
      messages: 'messages',
      settings: 'settings',
      customModels: 'customModels',
    });
  });

  it('is at version 1, and versions are only appended', () => {
    expect(SCHEMA_VERSION).toBe(1);
    expect(SCHEMA_VERSIONS.map((v) => v.version)).toEqual([1]);
    expect(SCHEMA_VERSIONS[0]?.stores).toEqual({
      conversations: 'id, updatedAt',
      messages: 'id, [conversationId+createdAt], status',
      settings: 'key',
      customModels: 'id, addedAt',
    });
  });

  it('opens with the tables of the current version', async () => {
    const db = openDatabase(uniqueName());
    opened.push(db);
    await db.open();

    expect(db.verno).toBe(SCHEMA_VERSION);
    expect(db.tables.map((t) => t.name).sort()).toEqual(Object.values(TABLES).sort());
  });

  it('lays out version 1 on disk as pinned', async () => {
    const name = uniqueName();
    const db = openDatabase(name);
    opened.push(db);
    await db.open();
    db.close();

    const native = await openNative(name);
    try {
      expect(native.version).toBe(nativeVersion(1));
      expect(layoutOf(native)).toEqual(VERSION_1_LAYOUT);
    } finally {
      native.close();
    }
  });
});

describe('migration from version 1', () => {
  /** Builds the database exactly as version 1 of the app left it, without any of our code. */
  async function createVersion1Database(
    name: string,
    rows: {
      conversations: Conversation[];
      messages: Message[];
      settings: { key: string; value: unknown }[];
      customModels: CustomModel[];
    },
  ): Promise<void> {
    const native = await openNative(name, nativeVersion(1), (db) => {
      for (const [storeName, layout] of Object.entries(VERSION_1_LAYOUT)) {
        const store = db.createObjectStore(storeName, { keyPath: layout.keyPath });
        for (const [index, keyPath] of Object.entries(layout.indexes)) {
          store.createIndex(index, keyPath);
        }
      }
    });
    const tx = native.transaction(Object.keys(rows), 'readwrite');
    for (const [storeName, values] of Object.entries(rows)) {
      for (const value of values) tx.objectStore(storeName).add(value);
    }
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => {
        resolve();
      };
      tx.onabort = () => {
        reject(tx.error ?? new Error('transaction aborted'));
      };
    });
    native.close();
  }

  it('keeps every row when the current version opens it', async () => {
    const name = uniqueName();
    const older = makeConversation({ title: 'Older', updatedAt: 1_000 });
    const newer = makeConversation({ title: 'Newer', updatedAt: 2_000 });
    const messages = [
      makeMessage({ conversationId: older.id, role: 'user', content: 'Hi', createdAt: 10 }),
      makeMessage({
        conversationId: older.id,
        role: 'assistant',
        content: 'Hello!',
        createdAt: 11,
        modelId: 'tiny.gguf',
        droppedTurns: 0,
        stats: { promptTokens: 10, completionTokens: 3, tokensPerSecond: 20 },
      }),
      makeMessage({
        conversationId: newer.id,
        role: 'assistant',
        content: '',
        createdAt: 20,
        status: 'error',
        error: { code: 'device-lost', message: 'The GPU was reset.' },
      }),
    ];
    const spec = makeWllamaSpec();
    const customModel: CustomModel = { id: spec.id, label: 'Mine', spec, addedAt: 5 };
    await createVersion1Database(name, {
      conversations: [older, newer],
      messages,
      settings: [
        { key: 'selectedModel', value: spec },
        { key: 'activeConversationId', value: older.id },
        { key: 'sendOnEnter', value: false },
      ],
      customModels: [customModel],
    });

    const db = openDatabase(name);
    opened.push(db);

    expect(await listConversations(db)).toEqual([newer, older]);
    expect(await listMessages(db, older.id)).toEqual(messages.slice(0, 2));
    expect(await listMessages(db, newer.id)).toEqual(messages.slice(2));
    expect(await getAllSettings(db)).toEqual({
      selectedModel: spec,
      activeConversationId: older.id,
      sendOnEnter: false,
    });
    expect(await listCustomModels(db)).toEqual([customModel]);
    expect(db.verno).toBe(SCHEMA_VERSION);
  });

  it('keeps the data across closing and reopening', async () => {
    const name = uniqueName();
    const first = openDatabase(name);
    const conversation = makeConversation();
    await first.conversations.add(conversation);
    first.close();

    const second = openDatabase(name);
    opened.push(second);

    expect(await listConversations(second)).toEqual([conversation]);
  });
});
