/**
 * The schema is a contract with every browser that ever ran Persona: these tests pin it, and
 * check that a database written by an earlier version opens with its data intact.
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { emptyProfile } from '../../src/core/profile/defaults';
import {
  DB_NAME,
  DEFAULT_SETTINGS,
  getAllSettings,
  getProfile,
  listNewestConversations,
  listJobs,
  listPendingProposals,
  listRevisions,
  listCustomModels,
  listMessages,
  openDatabase,
  backfillSearchIndex,
  countSearchDocs,
  isBackfillDone,
  searchDocs,
  SCHEMA_VERSION,
  SCHEMA_VERSIONS,
  TABLES,
  type Conversation,
  type CustomModel,
  type Message,
  type PersonaDatabase,
} from '../../src/db';
import { parseQuery } from '../../src/core/search/query';
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
  /** The indexes that are unique. */
  unique: string[];
}

function layoutOf(db: IDBDatabase): Record<string, StoreLayout> {
  const names = Array.from(db.objectStoreNames);
  const tx = db.transaction(names, 'readonly');
  return Object.fromEntries(
    names.map((name) => {
      const store = tx.objectStore(name);
      const indexNames = Array.from(store.indexNames);
      const indexes = Object.fromEntries(
        indexNames.map((index) => [index, store.index(index).keyPath]),
      );
      const unique = indexNames.filter((index) => store.index(index).unique);
      return [name, { keyPath: store.keyPath, indexes, unique }];
    }),
  );
}

/** Version 1 as it is on disk, written out by hand so an edit to `database.ts` cannot hide. */
const VERSION_1_LAYOUT: Record<string, StoreLayout> = {
  conversations: { keyPath: 'id', indexes: { updatedAt: 'updatedAt' }, unique: [] },
  messages: {
    keyPath: 'id',
    indexes: {
      '[conversationId+createdAt]': ['conversationId', 'createdAt'],
      status: 'status',
    },
    unique: [],
  },
  settings: { keyPath: 'key', indexes: {}, unique: [] },
  customModels: { keyPath: 'id', indexes: { addedAt: 'addedAt' }, unique: [] },
};

/** Version 2: version 1 plus the profile, its history, the review queue and the job queue. */
const VERSION_2_LAYOUT: Record<string, StoreLayout> = {
  ...VERSION_1_LAYOUT,
  profile: { keyPath: 'id', indexes: {}, unique: [] },
  revisions: {
    keyPath: 'id',
    indexes: { number: 'number', createdAt: 'createdAt' },
    unique: ['number'],
  },
  proposals: {
    keyPath: 'id',
    indexes: { status: 'status', createdAt: 'createdAt' },
    unique: [],
  },
  jobs: { keyPath: 'id', indexes: { status: 'status', createdAt: 'createdAt' }, unique: [] },
};

/** Version 3: version 2 plus the search index and how far indexing older messages has come. */
const VERSION_3_LAYOUT: Record<string, StoreLayout> = {
  ...VERSION_2_LAYOUT,
  searchDocs: {
    keyPath: 'seq',
    indexes: { ref: 'ref', terms: 'terms', conversationId: 'conversationId' },
    unique: ['ref'],
  },
  searchProgress: { keyPath: 'key', indexes: {}, unique: [] },
};

/** Version 4: version 3 plus each conversation's message count. */
const VERSION_4_LAYOUT: Record<string, StoreLayout> = {
  ...VERSION_3_LAYOUT,
  messageTallies: { keyPath: 'conversationId', indexes: {}, unique: [] },
};

describe('schema', () => {
  it('keeps the database and table names', () => {
    expect(DB_NAME).toBe('persona');
    expect(TABLES).toEqual({
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
    });
  });

  it('is at version 4, and versions are only appended', () => {
    expect(SCHEMA_VERSION).toBe(4);
    expect(SCHEMA_VERSIONS.map((v) => v.version)).toEqual([1, 2, 3, 4]);
    expect(SCHEMA_VERSIONS[0]?.stores).toEqual({
      conversations: 'id, updatedAt',
      messages: 'id, [conversationId+createdAt], status',
      settings: 'key',
      customModels: 'id, addedAt',
    });
    expect(SCHEMA_VERSIONS[0]?.upgrade).toBeUndefined();
    expect(SCHEMA_VERSIONS[1]?.stores).toEqual({
      profile: 'id',
      revisions: 'id, &number, createdAt',
      proposals: 'id, status, createdAt',
      jobs: 'id, status, createdAt',
    });
    expect(SCHEMA_VERSIONS[2]?.stores).toEqual({
      searchDocs: '++seq, &ref, *terms, conversationId',
      searchProgress: 'key',
    });
    expect(SCHEMA_VERSIONS[2]?.upgrade).toBeUndefined();
    expect(SCHEMA_VERSIONS[3]?.stores).toEqual({ messageTallies: 'conversationId' });
    expect(SCHEMA_VERSIONS[3]?.upgrade).toBeUndefined();
  });

  it('opens with the tables of the current version', async () => {
    const db = openDatabase(uniqueName());
    opened.push(db);
    await db.open();

    expect(db.verno).toBe(SCHEMA_VERSION);
    expect(db.tables.map((t) => t.name).sort()).toEqual(Object.values(TABLES).sort());
  });

  it('lays out version 4 on disk as pinned', async () => {
    const name = uniqueName();
    const db = openDatabase(name);
    opened.push(db);
    await db.open();
    db.close();

    const native = await openNative(name);
    try {
      expect(native.version).toBe(nativeVersion(4));
      expect(layoutOf(native)).toEqual(VERSION_4_LAYOUT);
    } finally {
      native.close();
    }
  });
});

/** A conversation as version 1 stored it: before `learnedUntil` existed. */
function asVersion1({ learnedUntil: _learnedUntil, ...conversation }: Conversation) {
  return conversation;
}

describe('migration from version 1 to 2', () => {
  /** Builds the database exactly as version 1 of the app left it, without any of our code. */
  async function createVersion1Database(
    name: string,
    rows: {
      conversations: ReturnType<typeof asVersion1>[];
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
      conversations: [older, newer].map(asVersion1),
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

    // Version 2 adds `learnedUntil`, 0 on every conversation: nothing learned from it yet.
    expect((await listNewestConversations(db, 100)).rows).toEqual([
      { ...newer, learnedUntil: 0 },
      { ...older, learnedUntil: 0 },
    ]);
    expect(await listMessages(db, older.id)).toEqual(messages.slice(0, 2));
    expect(await listMessages(db, newer.id)).toEqual(messages.slice(2));
    expect(await getAllSettings(db)).toEqual({
      ...DEFAULT_SETTINGS,
      selectedModel: spec,
      activeConversationId: older.id,
      sendOnEnter: false,
    });
    expect(await listCustomModels(db)).toEqual([customModel]);
    expect(db.verno).toBe(SCHEMA_VERSION);
  });

  it('starts version 2 with an empty profile and empty queues', async () => {
    const name = uniqueName();
    await createVersion1Database(name, {
      conversations: [asVersion1(makeConversation())],
      messages: [],
      settings: [],
      customModels: [],
    });

    const db = openDatabase(name);
    opened.push(db);

    expect(await getProfile(db)).toEqual({ profile: emptyProfile(0), revision: 0 });
    expect(await listRevisions(db)).toEqual([]);
    expect(await listPendingProposals(db)).toEqual([]);
    expect(await listJobs(db)).toEqual([]);
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

    expect((await listNewestConversations(second, 100)).rows).toEqual([conversation]);
  });
});

describe('migration from version 2 to 3', () => {
  /** Builds the database as version 2 of the app left it, without any of our code. */
  async function createVersion2Database(
    name: string,
    rows: { conversations: Conversation[]; messages: Message[] },
  ): Promise<void> {
    const native = await openNative(name, nativeVersion(2), (db) => {
      for (const [storeName, layout] of Object.entries(VERSION_2_LAYOUT)) {
        const store = db.createObjectStore(storeName, { keyPath: layout.keyPath });
        for (const [index, keyPath] of Object.entries(layout.indexes)) {
          store.createIndex(index, keyPath, { unique: layout.unique.includes(index) });
        }
      }
    });
    const tx = native.transaction(['conversations', 'messages'], 'readwrite');
    for (const conversation of rows.conversations)
      tx.objectStore('conversations').add(conversation);
    for (const message of rows.messages) tx.objectStore('messages').add(message);
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

  it('keeps every row, and indexes the older messages in the background, resumably', async () => {
    const name = uniqueName();
    const trip = makeConversation({ title: 'Trip to Zürich' });
    const messages = Array.from({ length: 7 }, (_, i) =>
      makeMessage({
        // Ids in the order indexing walks them (primary-key order), so each batch is known.
        id: `message-${i}`,
        conversationId: trip.id,
        role: i % 2 === 0 ? 'user' : 'assistant',
        content: i === 3 ? 'The train to Zürich leaves at nine.' : `Small talk number ${i}`,
        createdAt: 1_000 + i,
      }),
    );
    // Left by a tab that closed mid-reply: indexed when it is found interrupted, not before.
    const streaming = makeMessage({
      id: 'message-9',
      conversationId: trip.id,
      role: 'assistant',
      content: 'Zürich half-written',
      createdAt: 2_000,
      status: 'streaming',
    });
    await createVersion2Database(name, {
      conversations: [trip],
      messages: [...messages, streaming],
    });

    const db = openDatabase(name);
    opened.push(db);
    expect(await listMessages(db, trip.id)).toEqual([...messages, streaming]);
    expect((await listNewestConversations(db, 100)).rows).toEqual([trip]);
    // Nothing indexed by the upgrade itself: it would hold the database closed at 100k messages.
    expect(await countSearchDocs(db)).toBe(0);
    expect(await isBackfillDone(db)).toBe(false);

    // Titles first, then messages a batch at a time; each step is its own transaction.
    expect(await backfillSearchIndex(db, 3)).toBe(false);
    expect(await countSearchDocs(db)).toBe(1);
    expect(await backfillSearchIndex(db, 3)).toBe(false);
    expect(await countSearchDocs(db)).toBe(4);
    // A new database object, as after a reload: it goes on from where the last batch ended.
    db.close();
    const reopened = openDatabase(name);
    opened.push(reopened);
    while (!(await backfillSearchIndex(reopened, 3))) {
      /* next batch */
    }
    expect(await isBackfillDone(reopened)).toBe(true);
    expect(await countSearchDocs(reopened)).toBe(1 + messages.length);
    const found = await searchDocs(reopened, parseQuery('zurich train'), 10);
    expect(found.map((doc) => doc.messageId)).toEqual([messages[3]?.id]);
  });
});
