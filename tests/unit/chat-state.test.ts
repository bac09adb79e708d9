import 'fake-indexeddb/auto';
import { describe, expect, it, vi } from 'vitest';
import { listMessages, listNewestConversations } from '../../src/db';
import type { AssistantClient, AssistantRemote } from '../../src/state/assistant-client';
import { ChatState } from '../../src/state/chat.svelte';
import { chatReads } from '../../src/state/database-reads';
import { Assistant } from '../../src/worker/assistant';
import { freshDatabase, seedConversation } from './factories';

/**
 * The real worker implementation, called in-process instead of through Comlink; its replies are
 * recorded and answered at once, without a model.
 */
function fakeClient(db = freshDatabase()) {
  const replies: { conversationId: string; messageId: string }[] = [];
  const assistant = new Assistant({
    db,
    loadEngine: () => Promise.reject(new Error('no engine in this test')),
    isReplyAlive: () => Promise.resolve(false),
  });
  const api = {
    conversations: assistant.conversations,
    chat: {
      reply: (request: { conversationId: string; messageId: string }) => {
        replies.push(request);
        return Promise.resolve({ messageId: request.messageId, finishReason: 'stop' });
      },
      stop: () => Promise.resolve(),
      saveProgress: () => Promise.resolve(),
    },
  } as unknown as AssistantRemote;
  return { client: { api } as unknown as AssistantClient, replies };
}

describe('ChatState (issue 12)', () => {
  it('sends the first message after an import that left out the remembered conversation', async () => {
    const db = freshDatabase();
    const { client, replies } = fakeClient(db);
    const chat = new ChatState(chatReads(db), client, () => undefined);
    // What start-up does with the active conversation saved before the import.
    chat.select('not-in-the-backup');
    await chat.send('Hello again');
    expect(chat.error).toBeNull();
    const [conversation] = (await listNewestConversations(db, 10)).rows;
    expect(chat.activeId).toBe(conversation?.id);
    expect(replies).toHaveLength(1);
    const messages = await listMessages(db, conversation?.id ?? '');
    expect(messages.map((m) => m.content)).toEqual(['Hello again', '']);
  });

  it('a message sent right after "New chat" goes into that new chat, not another one', async () => {
    const db = freshDatabase();
    const { client } = fakeClient(db);
    const chat = new ChatState(chatReads(db), client, () => undefined);
    const opening = chat.newConversation();
    await chat.send('Hello');
    await opening;
    const conversations = (await listNewestConversations(db, 10)).rows;
    expect(conversations).toHaveLength(1);
    expect(chat.activeId).toBe(conversations[0]?.id);
    const messages = await listMessages(db, conversations[0]?.id ?? '');
    expect(messages.map((m) => m.content)).toEqual(['Hello', '']);
  });

  it('an evidence link loads the page around an old message, and a message sent then shows at the end (issue 11)', async () => {
    const db = freshDatabase();
    const { client } = fakeClient(db);
    const chat = new ChatState(chatReads(db), client, () => undefined);
    const { conversation, messages } = await seedConversation(db, {
      messages: Array.from({ length: 300 }, (_, i) => ({ content: `message ${i}` })),
    });
    await vi.waitFor(() => {
      expect(chat.conversations).toHaveLength(1);
    });
    chat.select(conversation.id);
    await vi.waitFor(() => {
      expect(chat.messages.at(-1)?.content).toBe('message 299');
    });
    expect(chat.messages.length).toBeLessThan(100);

    const old = messages[5]?.id ?? '';
    await chat.showMessage(conversation.id, old);
    expect(chat.highlighted).toBe(old);
    await vi.waitFor(() => {
      expect(chat.messages.some((m) => m.id === old)).toBe(true);
    });
    expect(chat.messages.length).toBeLessThan(100);
    expect(chat.window?.hasNewer).toBe(true);

    await chat.send('A new question');
    await vi.waitFor(() => {
      expect(chat.messages.at(-2)?.content).toBe('A new question');
    });
    expect(chat.window?.hasNewer).toBe(false);
    chat.window?.stop();
  });

  it('says so when an evidence link points at a conversation that is not stored', async () => {
    const chat = new ChatState(chatReads(freshDatabase()), fakeClient().client, () => undefined);
    await chat.showMessage('gone', 'm1');
    expect(chat.activeId).toBeNull();
    expect(chat.error?.message).toMatch(/no longer stored/);
  });
});
