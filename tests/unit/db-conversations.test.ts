import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createConversation,
  DEFAULT_CONVERSATION_TITLE,
  deleteConversation,
  getConversation,
  getSetting,
  InvalidRequestError,
  listNewestConversations,
  listMessages,
  MAX_TITLE_LENGTH,
  renameConversation,
  setSetting,
  normalizeTitle,
  titleFromMessage,
  type PersonaDatabase,
} from '../../src/db';
import { freshDatabase, seedConversation } from './factories';

let db: PersonaDatabase;

beforeEach(() => {
  db = freshDatabase();
});

afterEach(async () => {
  vi.restoreAllMocks();
  await db.delete();
});

describe('createConversation', () => {
  it('stores a conversation titled "New chat" that is not temporary', async () => {
    const created = await createConversation(db);

    expect(created.title).toBe(DEFAULT_CONVERSATION_TITLE);
    expect(created.temporary).toBe(false);
    expect(created.learnedUntil).toBe(0);
    expect(created.updatedAt).toBe(created.createdAt);
    expect(await getConversation(db, created.id)).toEqual(created);
  });

  it('gives every conversation its own id', async () => {
    const a = await createConversation(db);
    const b = await createConversation(db);

    expect(a.id).not.toBe(b.id);
  });

  it('takes a title, normalized to one line', async () => {
    const created = await createConversation(db, { title: '  Trip\n to   Lisbon ' });

    expect((await getConversation(db, created.id))?.title).toBe('Trip to Lisbon');
  });

  it('rejects an empty title and stores nothing', async () => {
    await expect(createConversation(db, { title: '   ' })).rejects.toBeInstanceOf(
      InvalidRequestError,
    );
    expect(await db.conversations.count()).toBe(0);
  });
});

describe('getConversation', () => {
  it('returns undefined for an unknown id', async () => {
    expect(await getConversation(db, 'missing')).toBeUndefined();
  });
});

describe('listNewestConversations', () => {
  it('lists the most recently active first, as many as asked, and counts them all', async () => {
    const { conversation: old } = await seedConversation(db, { conversation: { updatedAt: 100 } });
    const { conversation: newest } = await seedConversation(db, {
      conversation: { updatedAt: 300 },
    });
    const { conversation: middle } = await seedConversation(db, {
      conversation: { updatedAt: 200 },
    });

    const all = await listNewestConversations(db, 10);
    expect(all.rows.map((c) => c.id)).toEqual([newest.id, middle.id, old.id]);
    expect(all.total).toBe(3);

    const page = await listNewestConversations(db, 2);
    expect(page.rows.map((c) => c.id)).toEqual([newest.id, middle.id]);
    expect(page.total).toBe(3);
  });
});

describe('normalizeTitle (issue 12)', () => {
  it('refuses control and text-direction characters, keeps right-to-left marks', () => {
    expect(() => normalizeTitle('Invoice \u202Egpj.exe')).toThrow(/text-direction/);
    expect(() => normalizeTitle('a\u0000b')).toThrow(/control/);
    expect(normalizeTitle('שלום\u200F')).toBe('שלום\u200F');
  });
});

describe('renameConversation', () => {
  it('stores the trimmed title without moving the conversation in the list', async () => {
    const { conversation } = await seedConversation(db, { conversation: { updatedAt: 123 } });

    const stored = await renameConversation(db, conversation.id, '  Recipes  ');

    expect(stored).toBe('Recipes');
    expect(await getConversation(db, conversation.id)).toMatchObject({
      title: 'Recipes',
      updatedAt: 123,
    });
  });

  it.each(['', '   ', '\n\t'])(
    'rejects the blank title %j and keeps the old one',
    async (title) => {
      const { conversation } = await seedConversation(db, { conversation: { title: 'Kept' } });

      const rename = renameConversation(db, conversation.id, title);

      await expect(rename).rejects.toMatchObject({
        name: 'InvalidRequestError',
        reason: 'invalid-title',
        message: 'A conversation title cannot be empty.',
      });
      expect((await getConversation(db, conversation.id))?.title).toBe('Kept');
    },
  );

  it(`accepts ${MAX_TITLE_LENGTH} characters and rejects one more`, async () => {
    const { conversation } = await seedConversation(db);
    const longest = 'x'.repeat(MAX_TITLE_LENGTH);

    await renameConversation(db, conversation.id, longest);
    await expect(renameConversation(db, conversation.id, `${longest}y`)).rejects.toMatchObject({
      reason: 'invalid-title',
    });
    expect((await getConversation(db, conversation.id))?.title).toBe(longest);
  });

  it('counts an emoji as one character', async () => {
    const { conversation } = await seedConversation(db);
    const title = '🙂'.repeat(MAX_TITLE_LENGTH);

    await expect(renameConversation(db, conversation.id, title)).resolves.toBe(title);
  });

  it('says so when the conversation is gone', async () => {
    await expect(renameConversation(db, 'missing', 'Title')).rejects.toMatchObject({
      reason: 'conversation-not-found',
    });
  });
});

describe('deleteConversation', () => {
  it('deletes the conversation and its messages, and only those', async () => {
    const doomed = await seedConversation(db, { messages: [{}, {}, {}] });
    const kept = await seedConversation(db, { messages: [{}, {}] });

    await deleteConversation(db, doomed.conversation.id);

    expect(await getConversation(db, doomed.conversation.id)).toBeUndefined();
    expect(await listMessages(db, doomed.conversation.id)).toEqual([]);
    expect(await getConversation(db, kept.conversation.id)).toEqual(kept.conversation);
    expect(await listMessages(db, kept.conversation.id)).toEqual(kept.messages);
    expect(await db.messages.count()).toBe(2);
  });

  it('clears the active conversation when it was the one deleted', async () => {
    const { conversation } = await seedConversation(db);
    await setSetting(db, 'activeConversationId', conversation.id);

    await deleteConversation(db, conversation.id);

    expect(await getSetting(db, 'activeConversationId')).toBeNull();
  });

  it('leaves the active conversation alone when another one is deleted', async () => {
    const { conversation: active } = await seedConversation(db);
    const { conversation: other } = await seedConversation(db);
    await setSetting(db, 'activeConversationId', active.id);

    await deleteConversation(db, other.id);

    expect(await getSetting(db, 'activeConversationId')).toBe(active.id);
  });

  it('deletes nothing when any part fails: it is one transaction', async () => {
    const { conversation, messages } = await seedConversation(db, { messages: [{}, {}] });
    vi.spyOn(db.conversations, 'delete').mockImplementation(() => {
      throw new Error('disk on fire');
    });

    await expect(deleteConversation(db, conversation.id)).rejects.toThrow('disk on fire');

    vi.restoreAllMocks();
    expect(await listMessages(db, conversation.id)).toEqual(messages);
    expect(await getConversation(db, conversation.id)).toEqual(conversation);
  });

  it('is a no-op for an unknown id', async () => {
    const { conversation } = await seedConversation(db, { messages: [{}] });

    await deleteConversation(db, 'missing');

    expect(await db.conversations.count()).toBe(1);
    expect(await listMessages(db, conversation.id)).toHaveLength(1);
  });
});

describe('titleFromMessage', () => {
  it('keeps a short message as it is', () => {
    expect(titleFromMessage('Plan a trip to Lisbon')).toBe('Plan a trip to Lisbon');
  });

  it('puts the message on one line', () => {
    expect(titleFromMessage('  Plan\n\na   trip\t')).toBe('Plan a trip');
  });

  it('leaves out control and text-direction characters (issue 12)', () => {
    expect(titleFromMessage('Invoice \u202Egpj.exe\u0007')).toBe('Invoice gpj.exe');
  });

  it('cuts a long message on a word boundary and marks the cut', () => {
    const content =
      'Could you help me write a polite email to my landlord about the broken heating?';

    const title = titleFromMessage(content);

    expect(title).toBe('Could you help me write a polite email to my…');
    expect(Array.from(title).length).toBeLessThanOrEqual(49);
  });

  it('keeps a word that ends exactly at the limit', () => {
    const content = `${'a'.repeat(47)}b and more words after the limit`;

    expect(titleFromMessage(content)).toBe(`${'a'.repeat(47)}b…`);
  });

  it('keeps a message of exactly 48 characters whole', () => {
    const content = `${'word '.repeat(9)}abc`;
    expect(content).toHaveLength(48);

    expect(titleFromMessage(content)).toBe(content);
  });

  it('cuts a single long word at the limit', () => {
    const url = `https://example.com/${'a'.repeat(80)}`;

    expect(titleFromMessage(url)).toBe(`${url.slice(0, 48)}…`);
  });

  it('never splits an emoji', () => {
    const title = titleFromMessage('🙂'.repeat(60));

    expect(title).toBe(`${'🙂'.repeat(48)}…`);
  });
});
