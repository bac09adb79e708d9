import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { saveReplyProgress, type PersonaDatabase } from '../../src/db';
import { chatReads } from '../../src/state/database-reads';
import { MESSAGE_PAGE, MessageWindow } from '../../src/state/message-window.svelte';
import { freshDatabase, makeMessage, seedConversation } from './factories';

let db: PersonaDatabase;
let window: MessageWindow | null = null;

beforeEach(() => {
  db = freshDatabase();
});

afterEach(async () => {
  window?.stop();
  window = null;
  await db.delete();
});

async function conversationOf(count: number) {
  return seedConversation(db, {
    messages: Array.from({ length: count }, (_, i) => ({ content: String(i) })),
  });
}

const contents = (w: MessageWindow) => w.rows.map((m) => Number(m.content));
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('MessageWindow (issue 11)', () => {
  it('reads the newest page first, then older pages before it', async () => {
    const { conversation } = await conversationOf(200);
    window = new MessageWindow(chatReads(db), conversation.id);
    const w = window;
    await vi.waitFor(() => {
      expect(contents(w)).toEqual(range(200 - MESSAGE_PAGE, 200));
    });
    expect(w.hasOlder).toBe(true);
    expect(w.hasNewer).toBe(false);
    expect(w.prepended).toBe(false);

    await w.loadOlder();
    await vi.waitFor(() => {
      expect(contents(w)).toEqual(range(200 - 2 * MESSAGE_PAGE, 200));
    });
    expect(w.prepended).toBe(true);
    expect(w.hasOlder).toBe(true);
  });

  it('reads a short conversation whole, with nothing older to load', async () => {
    const { conversation } = await conversationOf(5);
    window = new MessageWindow(chatReads(db), conversation.id);
    const w = window;
    await vi.waitFor(() => {
      expect(contents(w)).toEqual(range(0, 5));
    });
    expect(w.hasOlder).toBe(false);
    expect(w.loaded).toBe(true);
  });

  it('adds new messages at the end without letting old ones slide out', async () => {
    const { conversation, messages } = await conversationOf(200);
    window = new MessageWindow(chatReads(db), conversation.id);
    const w = window;
    await vi.waitFor(() => {
      expect(w.rows).toHaveLength(MESSAGE_PAGE);
    });
    const last = messages.at(-1)?.createdAt ?? 0;
    await db.messages.bulkAdd([
      makeMessage({ conversationId: conversation.id, content: '200', createdAt: last + 1 }),
      makeMessage({ conversationId: conversation.id, content: '201', createdAt: last + 2 }),
    ]);
    await vi.waitFor(() => {
      expect(contents(w)).toEqual(range(200 - MESSAGE_PAGE, 202));
    });
    expect(w.prepended).toBe(false);
  });

  it('a save of the streaming reply changes that row only', async () => {
    const { conversation, messages } = await conversationOf(60);
    const reply = messages.at(-1);
    await db.messages.update(reply?.id ?? '', { status: 'streaming', content: '' });
    window = new MessageWindow(chatReads(db), conversation.id);
    const w = window;
    await vi.waitFor(() => {
      expect(w.rows).toHaveLength(MESSAGE_PAGE);
    });
    const before = w.rows;
    await saveReplyProgress(db, reply?.id ?? '', 'partial text');
    await vi.waitFor(() => {
      expect(w.rows.at(-1)?.content).toBe('partial text');
    });
    expect(w.rows.slice(0, -1).every((row, i) => row === before[i])).toBe(true);
  });

  it('opens at an old message with the page around it, reads newer pages, and returns to the newest', async () => {
    const { conversation, messages } = await conversationOf(500);
    window = new MessageWindow(chatReads(db), conversation.id, messages[100]?.id);
    const w = window;
    await vi.waitFor(() => {
      expect(w.rows.some((m) => m.id === messages[100]?.id)).toBe(true);
    });
    const half = Math.floor(MESSAGE_PAGE / 2);
    expect(contents(w)).toEqual(range(100 - half, 100 + half + 1));
    expect(w.hasOlder).toBe(true);
    expect(w.hasNewer).toBe(true);

    await w.loadNewer();
    await vi.waitFor(() => {
      expect(contents(w)).toEqual(range(100 - half, 100 + half + 1 + MESSAGE_PAGE));
    });
    expect(w.hasNewer).toBe(true);

    w.showNewest();
    await vi.waitFor(() => {
      expect(contents(w)).toEqual(range(500 - MESSAGE_PAGE, 500));
    });
    expect(w.hasNewer).toBe(false);
  });

  it('jumps to a message outside the loaded page, and refuses one of another conversation', async () => {
    const { conversation, messages } = await conversationOf(300);
    const other = await conversationOf(3);
    window = new MessageWindow(chatReads(db), conversation.id);
    const w = window;
    await vi.waitFor(() => {
      expect(w.rows).toHaveLength(MESSAGE_PAGE);
    });
    expect(await w.showAround(other.messages[0]?.id ?? '')).toBe(false);
    expect(await w.showAround(messages[3]?.id ?? '')).toBe(true);
    await vi.waitFor(() => {
      expect(contents(w)[0]).toBe(0);
    });
    expect(w.hasOlder).toBe(false);
    expect(w.hasNewer).toBe(true);
  });
});
