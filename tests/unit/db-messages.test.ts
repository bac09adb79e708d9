import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createConversation,
  DEFAULT_CONVERSATION_TITLE,
  finishReply,
  getConversation,
  getMessage,
  listMessages,
  listMessagesSince,
  markInterruptedReplies,
  prepareRegenerate,
  saveReplyProgress,
  sendUserMessage,
  type PersonaDatabase,
} from '../../src/db';
import { freshDatabase, seedConversation } from './factories';

let db: PersonaDatabase;

beforeEach(() => {
  db = freshDatabase();
});

afterEach(async () => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  await db.delete();
});

const stats = { promptTokens: 120, completionTokens: 40, tokensPerSecond: 12.5 };

describe('sendUserMessage', () => {
  it('stores the message and an empty streaming reply after it', async () => {
    const { conversation } = await seedConversation(db);

    const sent = await sendUserMessage(db, conversation.id, 'Hello there');

    const messages = await listMessages(db, conversation.id);
    expect(messages).toMatchObject([
      { id: sent.userMessageId, role: 'user', content: 'Hello there', status: 'complete' },
      { id: sent.assistantMessageId, role: 'assistant', content: '', status: 'streaming' },
    ]);
  });

  it('moves the conversation to the top of the list', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(5_000_000);
    const { conversation } = await seedConversation(db, { conversation: { updatedAt: 1 } });

    await sendUserMessage(db, conversation.id, 'Hi');

    expect((await getConversation(db, conversation.id))?.updatedAt).toBe(5_000_000);
  });

  it('names a new conversation after its first message', async () => {
    const conversation = await createConversation(db);

    await sendUserMessage(
      db,
      conversation.id,
      'What should I pack for a week of hiking in the Scottish Highlands in May?',
    );

    expect((await getConversation(db, conversation.id))?.title).toBe(
      'What should I pack for a week of hiking in the…',
    );
  });

  it('keeps the title after the first message', async () => {
    const conversation = await createConversation(db);
    const first = await sendUserMessage(db, conversation.id, 'First question');
    await finishReply(db, first.assistantMessageId, { status: 'complete', content: 'Answer' });

    await sendUserMessage(db, conversation.id, 'Second question');

    expect((await getConversation(db, conversation.id))?.title).toBe('First question');
  });

  it('keeps a title the user chose', async () => {
    const conversation = await createConversation(db, { title: 'Taxes' });

    await sendUserMessage(db, conversation.id, 'How do I file?');

    expect((await getConversation(db, conversation.id))?.title).toBe('Taxes');
  });

  it('does not rename a conversation that already has messages, even one titled "New chat"', async () => {
    const { conversation } = await seedConversation(db, { messages: [{}, {}] });

    await sendUserMessage(db, conversation.id, 'Another question');

    expect((await getConversation(db, conversation.id))?.title).toBe(DEFAULT_CONVERSATION_TITLE);
  });

  it.each(['', '   ', '\n\n'])('rejects the blank message %j and stores nothing', async (text) => {
    const { conversation } = await seedConversation(db);

    await expect(sendUserMessage(db, conversation.id, text)).rejects.toMatchObject({
      reason: 'empty-message',
    });
    expect(await db.messages.count()).toBe(0);
  });

  it('stores nothing when the conversation does not exist', async () => {
    await expect(sendUserMessage(db, 'missing', 'Hello')).rejects.toMatchObject({
      reason: 'conversation-not-found',
    });
    expect(await db.messages.count()).toBe(0);
  });

  it('stores nothing when updating the conversation fails: it is one transaction', async () => {
    const { conversation } = await seedConversation(db);
    vi.spyOn(db.conversations, 'update').mockImplementation(() => {
      throw new Error('write failed');
    });

    await expect(sendUserMessage(db, conversation.id, 'Hello')).rejects.toThrow('write failed');

    vi.restoreAllMocks();
    expect(await db.messages.count()).toBe(0);
    expect(await getConversation(db, conversation.id)).toEqual(conversation);
  });

  it('refuses a new message while the last reply is still streaming', async () => {
    const { conversation } = await seedConversation(db);
    await sendUserMessage(db, conversation.id, 'First');

    await expect(sendUserMessage(db, conversation.id, 'Second')).rejects.toMatchObject({
      name: 'AppError',
      code: 'busy',
    });
    expect(await db.messages.count()).toBe(2);
  });

  it('keeps turns in order when they are sent within the same millisecond', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1_000);
    const { conversation } = await seedConversation(db);

    const first = await sendUserMessage(db, conversation.id, 'one');
    await finishReply(db, first.assistantMessageId, { status: 'complete', content: 'two' });
    const second = await sendUserMessage(db, conversation.id, 'three');
    await finishReply(db, second.assistantMessageId, { status: 'complete', content: 'four' });

    const contents = (await listMessages(db, conversation.id)).map((m) => m.content);
    expect(contents).toEqual(['one', 'two', 'three', 'four']);
  });

  it('keeps turns in order when the clock goes back', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(10_000);
    const { conversation } = await seedConversation(db);
    const first = await sendUserMessage(db, conversation.id, 'one');
    await finishReply(db, first.assistantMessageId, { status: 'complete', content: 'two' });

    vi.setSystemTime(5_000);
    await sendUserMessage(db, conversation.id, 'three');

    const contents = (await listMessages(db, conversation.id)).map((m) => m.content);
    expect(contents).toEqual(['one', 'two', 'three', '']);
  });
});

describe('listMessages', () => {
  it("lists one conversation's messages, oldest first", async () => {
    const { conversation, messages } = await seedConversation(db, {
      messages: [{ createdAt: 30 }, { createdAt: 10 }, { createdAt: 20 }],
    });
    await seedConversation(db, { messages: [{ createdAt: 15 }] });

    const listed = await listMessages(db, conversation.id);

    expect(listed.map((m) => m.id)).toEqual([messages[1]?.id, messages[2]?.id, messages[0]?.id]);
  });
});

describe('listMessagesSince', () => {
  it('lists the messages after learnedUntil, oldest first, of that conversation only', async () => {
    const { conversation, messages } = await seedConversation(db, {
      messages: [{ createdAt: 10 }, { createdAt: 30 }, { createdAt: 20 }],
    });
    await seedConversation(db, { messages: [{ createdAt: 25 }] });

    const listed = await listMessagesSince(db, conversation.id, 10);

    expect(listed.map((m) => m.id)).toEqual([messages[2]?.id, messages[1]?.id]);
    expect(await listMessagesSince(db, conversation.id, 30)).toEqual([]);
  });
});

describe('streaming a reply', () => {
  it('overwrites the text while streaming, then records how it finished', async () => {
    const { conversation } = await seedConversation(db);
    const { assistantMessageId: id } = await sendUserMessage(db, conversation.id, 'Hi');

    await saveReplyProgress(db, id, 'Hel');
    expect((await getMessage(db, id))?.content).toBe('Hel');
    await saveReplyProgress(db, id, 'Hello, how');
    expect(await getMessage(db, id)).toMatchObject({ content: 'Hello, how', status: 'streaming' });

    const found = await finishReply(db, id, {
      status: 'complete',
      content: 'Hello, how can I help?',
      stats,
      droppedTurns: 2,
      modelId: 'tiny.gguf',
    });

    expect(found).toBe(true);
    expect(await getMessage(db, id)).toMatchObject({
      content: 'Hello, how can I help?',
      status: 'complete',
      stats,
      droppedTurns: 2,
      modelId: 'tiny.gguf',
    });
  });

  it('keeps the saved text when the ending carries none', async () => {
    const { conversation } = await seedConversation(db);
    const { assistantMessageId: id } = await sendUserMessage(db, conversation.id, 'Hi');
    await saveReplyProgress(db, id, 'Partial');

    await finishReply(db, id, { status: 'stopped' });

    expect(await getMessage(db, id)).toMatchObject({ content: 'Partial', status: 'stopped' });
  });

  it('ignores progress that arrives after the reply finished', async () => {
    const { conversation } = await seedConversation(db);
    const { assistantMessageId: id } = await sendUserMessage(db, conversation.id, 'Hi');
    await finishReply(db, id, { status: 'complete', content: 'Final' });

    await saveReplyProgress(db, id, 'Fin');

    expect((await getMessage(db, id))?.content).toBe('Final');
  });

  it('stores only the code and message of an error', async () => {
    const { conversation } = await seedConversation(db);
    const { assistantMessageId: id } = await sendUserMessage(db, conversation.id, 'Hi');
    const wire = { name: 'AppError', code: 'device-lost', message: 'The GPU was reset.' };

    await finishReply(db, id, { status: 'error', error: wire });

    const message = await getMessage(db, id);
    expect(message?.status).toBe('error');
    expect(message?.error).toStrictEqual({ code: 'device-lost', message: 'The GPU was reset.' });
  });

  it('does nothing when the reply was deleted with its conversation meanwhile', async () => {
    await expect(saveReplyProgress(db, 'gone', 'text')).resolves.toBeUndefined();
    await expect(finishReply(db, 'gone', { status: 'complete' })).resolves.toBe(false);
    expect(await db.messages.count()).toBe(0);
  });

  it("refuses to finish the user's message", async () => {
    const { conversation } = await seedConversation(db);
    const { userMessageId } = await sendUserMessage(db, conversation.id, 'Hi');

    await expect(finishReply(db, userMessageId, { status: 'complete' })).rejects.toMatchObject({
      reason: 'not-a-reply',
    });
    expect((await getMessage(db, userMessageId))?.status).toBe('complete');
  });
});

describe('prepareRegenerate', () => {
  it('empties the last reply, sets it streaming and returns its id', async () => {
    const { conversation, messages } = await seedConversation(db, {
      messages: [
        { content: 'Question' },
        {
          content: 'Old answer',
          status: 'error',
          error: { code: 'unknown', message: 'Broke' },
          stats,
          droppedTurns: 1,
          cutOff: true,
          modelId: 'tiny.gguf',
        },
      ],
    });
    const reply = messages[1];

    const id = await prepareRegenerate(db, conversation.id);

    expect(id).toBe(reply?.id);
    const reset = await getMessage(db, id);
    expect(reset).toStrictEqual({
      id: reply?.id,
      conversationId: conversation.id,
      role: 'assistant',
      content: '',
      createdAt: reply?.createdAt,
      status: 'streaming',
    });
    expect(await getMessage(db, messages[0]?.id ?? '')).toEqual(messages[0]);
  });

  it("rejects when the conversation ends with the user's message", async () => {
    const { conversation, messages } = await seedConversation(db, {
      messages: [{}, { content: 'Answer' }, { content: 'Follow-up' }],
    });

    await expect(prepareRegenerate(db, conversation.id)).rejects.toMatchObject({
      reason: 'nothing-to-regenerate',
    });
    expect(await listMessages(db, conversation.id)).toEqual(messages);
  });

  it('rejects when the conversation is empty', async () => {
    const { conversation } = await seedConversation(db);

    await expect(prepareRegenerate(db, conversation.id)).rejects.toMatchObject({
      reason: 'nothing-to-regenerate',
    });
  });

  it('rejects when the conversation does not exist', async () => {
    await expect(prepareRegenerate(db, 'missing')).rejects.toMatchObject({
      reason: 'conversation-not-found',
    });
  });

  it('refuses while the reply is still streaming', async () => {
    const { conversation } = await seedConversation(db);
    const { assistantMessageId } = await sendUserMessage(db, conversation.id, 'Hi');
    await saveReplyProgress(db, assistantMessageId, 'Half');

    await expect(prepareRegenerate(db, conversation.id)).rejects.toMatchObject({ code: 'busy' });
    expect((await getMessage(db, assistantMessageId))?.content).toBe('Half');
  });
});

describe('markInterruptedReplies', () => {
  it('marks replies whose generator is gone incomplete, keeping their text', async () => {
    const { messages } = await seedConversation(db, {
      messages: [
        {},
        { content: 'Half a repl', status: 'streaming' },
        {},
        { content: 'Still going', status: 'streaming' },
      ],
    });
    const other = await seedConversation(db, {
      messages: [{}, { content: 'Done', status: 'complete' }],
    });
    const [, dead, , alive] = messages;

    const marked = await markInterruptedReplies(db, (id) => id === alive?.id);

    expect(marked).toEqual([dead?.id]);
    expect(await getMessage(db, dead?.id ?? '')).toMatchObject({
      content: 'Half a repl',
      status: 'incomplete',
    });
    expect(await getMessage(db, alive?.id ?? '')).toEqual(alive);
    expect(await listMessages(db, other.conversation.id)).toEqual(other.messages);
  });

  it('waits for an asynchronous answer', async () => {
    const { messages } = await seedConversation(db, {
      messages: [{}, { status: 'streaming' }],
    });
    const reply = messages[1];

    await markInterruptedReplies(db, async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return false;
    });

    expect((await getMessage(db, reply?.id ?? ''))?.status).toBe('incomplete');
  });

  it('leaves a reply alone that finished while the question was being answered', async () => {
    const { messages } = await seedConversation(db, {
      messages: [{}, { status: 'streaming' }],
    });
    const reply = messages[1];

    const marked = await markInterruptedReplies(db, async (id) => {
      await finishReply(db, id, { status: 'complete', content: 'Finished just in time' });
      return false;
    });

    expect(marked).toEqual([]);
    expect(await getMessage(db, reply?.id ?? '')).toMatchObject({
      status: 'complete',
      content: 'Finished just in time',
    });
  });

  it('asks nothing when no reply is streaming', async () => {
    await seedConversation(db, { messages: [{}, {}] });
    const isStillGenerating = vi.fn(() => false);

    expect(await markInterruptedReplies(db, isStillGenerating)).toEqual([]);
    expect(isStillGenerating).not.toHaveBeenCalled();
  });
});
