import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { serializedBytes } from '../../src/core/storage/usage';
import {
  createConversation,
  deleteConversation,
  exportBackupParts,
  importBackupFile,
  measureStoredData,
  sendUserMessage,
  setSetting,
  type PersonaDatabase,
} from '../../src/db';
import { freshDatabase, makeConversation, makeMessage, seedConversation } from './factories';

describe('serializedBytes', () => {
  it('counts UTF-8 bytes of the JSON, not characters', () => {
    expect(serializedBytes('abc')).toBe(5); // "abc" with its quotes
    expect(serializedBytes('äö')).toBe(6); // two 2-byte characters and two quotes
    expect(serializedBytes({ a: 1 })).toBe(7);
    expect(serializedBytes(undefined)).toBe(0);
  });
});

describe('measureStoredData', () => {
  it('reports every table, even empty, and nothing stored on a first run', async () => {
    const usage = await measureStoredData(freshDatabase());
    expect(usage.tables.map((t) => t.table)).toEqual([
      'conversations',
      'messages',
      'settings',
      'customModels',
      'profile',
      'revisions',
      'proposals',
      'jobs',
      // The search index counts: it takes room on the device like the rest.
      'searchDocs',
      'searchProgress',
      // Derived, like the search index: each conversation's number of messages.
      'messageTallies',
    ]);
    expect(usage.tables.every((t) => t.rows === 0 && t.bytes === 0)).toBe(true);
    expect(usage.largestConversations).toEqual([]);
    expect(usage.totalBytes).toBe(0);
  });

  it('adds up each table and ranks conversations by their size with their messages', async () => {
    const db = freshDatabase();
    const small = await seedConversation(db, {
      conversation: { title: 'Small talk' },
      messages: [{ content: 'Hi' }, { content: 'Hello' }],
    });
    const big = await seedConversation(db, {
      conversation: { title: 'The long one' },
      messages: [{ content: 'x'.repeat(5000) }, { content: 'y'.repeat(3000) }, { content: 'z' }],
    });
    await setSetting(db, 'optimizeEvery', 5);

    const usage = await measureStoredData(db);
    const rowsOf = (table: string) => usage.tables.find((t) => t.table === table);
    expect(rowsOf('conversations')?.rows).toBe(2);
    expect(rowsOf('messages')?.rows).toBe(5);
    expect(rowsOf('settings')?.rows).toBe(1);

    const expectedBig =
      serializedBytes(big.conversation) +
      big.messages.reduce((sum, m) => sum + serializedBytes(m), 0);
    expect(usage.largestConversations.map((c) => [c.title, c.messages, c.bytes])).toEqual([
      ['The long one', 3, expectedBig],
      [
        'Small talk',
        2,
        serializedBytes(small.conversation) +
          small.messages.reduce((sum, m) => sum + serializedBytes(m), 0),
      ],
    ]);
    expect(expectedBig).toBeGreaterThan(8000);
    expect(usage.totalBytes).toBe(usage.tables.reduce((sum, t) => sum + t.bytes, 0));
  });

  it('lists only the largest few conversations', async () => {
    const db = freshDatabase();
    for (const size of [10, 500, 40, 3000]) {
      await seedConversation(db, {
        conversation: { title: `Size ${size}` },
        messages: [{ content: 'a'.repeat(size) }],
      });
    }
    const usage = await measureStoredData(db, 2);
    expect(usage.largestConversations.map((c) => c.title)).toEqual(['Size 3000', 'Size 500']);
    expect(usage.tables.find((t) => t.table === 'conversations')?.rows).toBe(4);
  });
});

describe('measureStoredData on a large history (issue 11)', () => {
  it('counts every row exactly, weighs large tables from a sample and the largest conversations exactly', async () => {
    const db = freshDatabase();
    const conversations = Array.from({ length: 40 }, (_, i) =>
      makeConversation({ title: `Conversation ${i}` }),
    );
    await db.conversations.bulkAdd(conversations);
    // 3,000 messages of varied length, and one conversation of 40 far longer ones.
    const messages = Array.from({ length: 3000 }, (_, i) =>
      makeMessage({
        conversationId: conversations[i % 39]?.id ?? '',
        content: 'w'.repeat(50 + ((i * 37) % 900)),
      }),
    );
    const heavy = conversations[39];
    if (!heavy) throw new Error('seeded');
    messages.push(
      ...Array.from({ length: 40 }, () =>
        makeMessage({ conversationId: heavy.id, content: 'h'.repeat(5_000) }),
      ),
    );
    await db.messages.bulkAdd(messages);

    const usage = await measureStoredData(db, 3);
    const table = usage.tables.find((t) => t.table === 'messages');
    expect(table?.rows).toBe(3040);
    const exact = messages.reduce((sum, m) => sum + serializedBytes(m), 0);
    expect(usage.estimated).toBe(true);
    expect(Math.abs((table?.bytes ?? 0) - exact) / exact).toBeLessThan(0.1);
    const exactOf = (id: string) =>
      serializedBytes(conversations.find((c) => c.id === id)) +
      messages.filter((m) => m.conversationId === id).reduce((s, m) => s + serializedBytes(m), 0);
    const [first, ...rest] = usage.largestConversations;
    expect([first?.title, first?.messages, first?.bytes]).toEqual([
      'Conversation 39',
      40,
      exactOf(heavy.id),
    ]);
    for (const conversation of rest) expect(conversation.bytes).toBe(exactOf(conversation.id));
    expect(rest.map((c) => c.messages)).toEqual([77, 77]);
  });

  it('keeps every conversation’s count exact through sends, deletions, seeded rows and an import', async () => {
    const db = freshDatabase();
    const counts = async (of: PersonaDatabase) => {
      const usage = await measureStoredData(of, 10);
      return {
        messages: usage.tables.find((t) => t.table === 'messages')?.rows,
        byTitle: Object.fromEntries(usage.largestConversations.map((c) => [c.title, c.messages])),
      };
    };
    const a = await createConversation(db, { title: 'A' });
    const b = await createConversation(db, { title: 'B' });
    await sendUserMessage(db, a.id, 'one');
    expect(await counts(db)).toEqual({ messages: 2, byTitle: { A: 2, B: 0 } });

    // Counted once, then kept with each send.
    await sendUserMessage(db, b.id, 'two');
    expect(await counts(db)).toEqual({ messages: 4, byTitle: { A: 2, B: 2 } });
    // Rows written without a send (an older version's): counted when first measured.
    await seedConversation(db, {
      conversation: { title: 'C' },
      messages: [{ content: 'x' }, { content: 'y' }, { content: 'z' }],
    });
    expect(await counts(db)).toEqual({ messages: 7, byTitle: { A: 2, B: 2, C: 3 } });
    await deleteConversation(db, a.id);
    expect(await counts(db)).toEqual({ messages: 5, byTitle: { B: 2, C: 3 } });
    expect(await db.messageTallies.get(a.id)).toBeUndefined();

    const file = new Blob(await exportBackupParts(db, Date.now(), []));
    const restored = freshDatabase();
    await importBackupFile(restored, file);
    expect(await counts(restored)).toEqual({ messages: 5, byTitle: { B: 2, C: 3 } });
  });
});
