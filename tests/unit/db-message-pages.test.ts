import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  countMessagesBefore,
  listMessagesAfter,
  listMessagesBefore,
  listMessagesInRange,
  listNewestMessages,
  readConversationTail,
  type Message,
  type PersonaDatabase,
} from '../../src/db';
import { freshDatabase, seedConversation } from './factories';

let db: PersonaDatabase;

beforeEach(() => {
  db = freshDatabase();
});

afterEach(async () => {
  await db.delete();
});

/** A conversation of `count` messages whose contents are their positions, plus a neighbour. */
async function longConversation(count: number) {
  const seeded = await seedConversation(db, {
    messages: Array.from({ length: count }, (_, i) => ({ content: String(i) })),
  });
  // Another conversation's messages must never leak into a page.
  await seedConversation(db, { messages: [{ content: 'elsewhere' }, { content: 'elsewhere' }] });
  return seeded;
}

const contents = (messages: Message[]) => messages.map((m) => m.content);
const range = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => String(from + i));

describe('paged reading of a conversation', () => {
  it('reads the newest page, oldest first', async () => {
    const { conversation } = await longConversation(100);
    expect(contents(await listNewestMessages(db, conversation.id, 10))).toEqual(range(90, 100));
    expect(await listNewestMessages(db, conversation.id, 500)).toHaveLength(100);
  });

  it('reads the page before and after a message, without the message itself', async () => {
    const { conversation, messages } = await longConversation(100);
    const at = messages[50]?.createdAt ?? 0;
    expect(contents(await listMessagesBefore(db, conversation.id, at, 10))).toEqual(range(40, 50));
    expect(contents(await listMessagesAfter(db, conversation.id, at, 10))).toEqual(range(51, 61));
    expect(contents(await listMessagesBefore(db, conversation.id, at, 500))).toEqual(range(0, 50));
    expect(contents(await listMessagesAfter(db, conversation.id, at, 500))).toEqual(range(51, 100));
  });

  it('reads a range by time, open-ended to the newest', async () => {
    const { conversation, messages } = await longConversation(100);
    const from = messages[20]?.createdAt ?? 0;
    const to = messages[29]?.createdAt ?? 0;
    expect(contents(await listMessagesInRange(db, conversation.id, from, to))).toEqual(
      range(20, 30),
    );
    expect(contents(await listMessagesInRange(db, conversation.id, from, null))).toEqual(
      range(20, 100),
    );
    expect(await countMessagesBefore(db, conversation.id, from)).toBe(20);
  });
});

describe('readConversationTail', () => {
  it('reads backwards from a message only until the text budget is passed', async () => {
    const { conversation, messages } = await seedConversation(db, {
      messages: Array.from({ length: 1000 }, () => ({ content: 'x'.repeat(100) })),
    });
    const last = messages.at(-1);
    const tail = await readConversationTail(db, last?.id ?? '', 1_000);
    expect(tail?.conversationId).toBe(conversation.id);
    // 11 messages pass 1,000 characters; the one that passes it is read too.
    expect(tail?.messages).toHaveLength(11);
    expect(tail?.messages.map((m) => m.id)).toEqual(messages.slice(-12, -1).map((m) => m.id));
    expect(tail?.olderCount).toBe(1000 - 1 - 11);
  });

  it('reads everything before the message when it all fits, and nothing after it', async () => {
    const { messages } = await longConversation(30);
    const tail = await readConversationTail(db, messages[9]?.id ?? '', 1_000_000);
    expect(contents(tail?.messages ?? [])).toEqual(range(0, 9));
    expect(tail?.olderCount).toBe(0);
  });

  it('does not count the text of messages the caller will leave out anyway', async () => {
    const { messages } = await seedConversation(db, {
      messages: [
        { content: 'a'.repeat(50) },
        { content: 'e'.repeat(500), status: 'error' },
        { content: 'b'.repeat(50) },
        { content: 'reply to' },
      ],
    });
    const tail = await readConversationTail(
      db,
      messages[3]?.id ?? '',
      120,
      (m) => m.status !== 'error',
    );
    expect(tail?.messages).toHaveLength(3);
    expect(tail?.olderCount).toBe(0);
  });

  it('says so when the message is not stored', async () => {
    expect(await readConversationTail(db, 'missing', 1000)).toBeNull();
  });
});
