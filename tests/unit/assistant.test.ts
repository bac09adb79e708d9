import 'fake-indexeddb/auto';
import { beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../src/core/errors';
import {
  createConversation,
  finishReply,
  getAllSettings,
  getConversation,
  listMessages,
  sendUserMessage,
  type PersonaDatabase,
} from '../../src/db';
import type { Schedule } from '../../src/core/chat/stream-batcher';
import { Assistant } from '../../src/worker/assistant';
import { replyLockName } from '../../src/worker/lock-names';
import type { StreamUpdate } from '../../src/worker/contract';
import { ScriptedEngine } from '../doubles/scripted-engine';
import { freshDatabase, makeWllamaSpec, seedConversation } from './factories';

/** Frames that never fire by themselves: batches leave only when the assistant flushes. */
const heldFrames: Schedule = () => () => undefined;

function setup() {
  const db = freshDatabase();
  const engine = new ScriptedEngine();
  const locks: string[] = [];
  const assistant = new Assistant({
    db,
    loadEngine: () => Promise.resolve(engine),
    schedule: heldFrames,
    holdLock: async (name, work) => {
      locks.push(name);
      return work();
    },
  });
  return { db, engine, assistant, locks };
}

async function conversationWithQuestion(db: PersonaDatabase, text: string) {
  const conversation = await createConversation(db);
  const sent = await sendUserMessage(db, conversation.id, text);
  return { conversationId: conversation.id, messageId: sent.assistantMessageId };
}

describe('Assistant', () => {
  let ctx: ReturnType<typeof setup>;
  beforeEach(() => {
    ctx = setup();
  });

  it('remembers a loaded model as the one to bring back next time', async () => {
    const spec = makeWllamaSpec();
    await ctx.assistant.models.load(spec, () => undefined);
    expect((await getAllSettings(ctx.db)).selectedModel).toEqual(spec);
  });

  it('deleting a model while it loads cancels the load: nothing is in use without its files', async () => {
    const spec = makeWllamaSpec();
    let finish: (() => void) | null = null;
    ctx.engine.beforeLoadEnds = () =>
      new Promise<void>((resolve) => {
        finish = resolve;
      });
    const loading = ctx.assistant.models.load(spec, () => undefined);
    // The engine is reading the model's files.
    await expect.poll(() => finish !== null).toBe(true);
    await ctx.assistant.models.deleteCached(spec);
    (finish as (() => void) | null)?.();
    await expect(loading).rejects.toMatchObject({ code: 'aborted' });
    expect(await ctx.assistant.models.current()).toBeNull();
  });

  it('refuses to reply before a model is loaded', async () => {
    const request = await conversationWithQuestion(ctx.db, 'Hello?');
    await expect(ctx.assistant.chat.reply(request, () => undefined)).rejects.toMatchObject({
      code: 'no-model-loaded',
    });
  });

  it('streams a reply in batches, stores it, and holds the reply lock meanwhile', async () => {
    await ctx.assistant.models.load(makeWllamaSpec(), () => undefined);
    ctx.engine.replies = ['Berlin has great vegetarian food.'];
    const request = await conversationWithQuestion(ctx.db, 'Where should I eat?');
    const updates: StreamUpdate[] = [];
    const outcome = await ctx.assistant.chat.reply(request, (u) => updates.push(u));

    // Frames never fired, so everything arrives as one flushed batch instead of one per token.
    expect(updates).toEqual([
      { messageId: request.messageId, delta: 'Berlin has great vegetarian food.' },
    ]);
    expect(outcome.finishReason).toBe('stop');
    expect(ctx.locks).toEqual([replyLockName(request.messageId)]);
    const stored = await listMessages(ctx.db, request.conversationId);
    expect(stored.map((m) => [m.role, m.content, m.status])).toEqual([
      ['user', 'Where should I eat?', 'complete'],
      ['assistant', 'Berlin has great vegetarian food.', 'complete'],
    ]);
    const prompt = ctx.engine.requests[0]?.messages ?? [];
    expect(prompt.map((m) => m.role)).toEqual(['system', 'user']);
    expect(prompt[1]?.content).toBe('Where should I eat?');
  });

  it('keeps the partial reply when stopped', async () => {
    await ctx.assistant.models.load(makeWllamaSpec(), () => undefined);
    ctx.engine.replies = ['one two three four five six'];
    let tokens = 0;
    ctx.engine.betweenTokens = async () => {
      tokens++;
      if (tokens === 3) await ctx.assistant.chat.stop();
    };
    const request = await conversationWithQuestion(ctx.db, 'Count for me');
    const outcome = await ctx.assistant.chat.reply(request, () => undefined);
    expect(outcome.finishReason).toBe('abort');
    const reply = (await listMessages(ctx.db, request.conversationId)).at(-1);
    expect(reply?.status).toBe('stopped');
    expect(reply?.content).toBe('one two ');
  });

  it('marks a reply that ran into the length limit as cut off, not as finished by the model', async () => {
    // A quarter of the window is the reply's share: 100 tokens here.
    ctx.engine.contextWindow = 400;
    await ctx.assistant.models.load(makeWllamaSpec(), () => undefined);
    ctx.engine.replies = ['la '.repeat(300), 'Short answer.'];
    const request = await conversationWithQuestion(ctx.db, 'Sing');
    const outcome = await ctx.assistant.chat.reply(request, () => undefined);
    expect(outcome.finishReason).toBe('length');
    const cut = (await listMessages(ctx.db, request.conversationId)).at(-1);
    expect(cut).toMatchObject({ status: 'complete', cutOff: true, content: 'la '.repeat(100) });

    // The next ending of the same message replaces the mark.
    const again = await ctx.assistant.chat.reply(request, () => undefined);
    expect(again.finishReason).toBe('stop');
    const reply = (await listMessages(ctx.db, request.conversationId)).at(-1);
    expect(reply?.content).toBe('Short answer.');
    expect(reply?.cutOff).toBeUndefined();
  });

  it('records a failed reply with its error code and rethrows it typed', async () => {
    await ctx.assistant.models.load(makeWllamaSpec(), () => undefined);
    ctx.engine.failNextGenerate = new AppError('device-lost', 'GPU went away');
    const request = await conversationWithQuestion(ctx.db, 'Hi');
    await expect(ctx.assistant.chat.reply(request, () => undefined)).rejects.toMatchObject({
      code: 'device-lost',
    });
    const reply = (await listMessages(ctx.db, request.conversationId)).at(-1);
    expect(reply?.status).toBe('error');
    expect(reply?.error).toEqual({ code: 'device-lost', message: 'GPU went away' });
  });

  it('counts nothing for a conversation that clearly fits the window', async () => {
    await ctx.assistant.models.load(makeWllamaSpec(), () => undefined);
    ctx.engine.replies = ['first answer', 'second answer'];
    const conversation = await createConversation(ctx.db);
    for (const text of ['first question', 'second question']) {
      const sent = await sendUserMessage(ctx.db, conversation.id, text);
      await ctx.assistant.chat.reply(
        { conversationId: conversation.id, messageId: sent.assistantMessageId },
        () => undefined,
      );
    }
    expect(ctx.engine.counted).toEqual([]);
    expect(
      ctx.engine.requests
        .at(-1)
        ?.messages.map((m) => m.content)
        .slice(1),
    ).toEqual(['first question', 'first answer', 'second question']);
  });

  it('counts each text at most once, not the whole conversation on every reply', async () => {
    // Small enough that the system prompt's bound alone overshoots it, so counting is needed.
    ctx.engine.contextWindow = 200;
    await ctx.assistant.models.load(makeWllamaSpec(), () => undefined);
    ctx.engine.replies = ['first answer', 'second answer'];
    const conversation = await createConversation(ctx.db);
    for (const text of ['first question', 'second question']) {
      const sent = await sendUserMessage(ctx.db, conversation.id, text);
      await ctx.assistant.chat.reply(
        { conversationId: conversation.id, messageId: sent.assistantMessageId },
        () => undefined,
      );
    }
    const counts = (text: string) => ctx.engine.counted.filter((t) => t === text).length;
    expect(counts('first question')).toBe(1);
    // The second prompt starts where the first did and fits by the bounds of its new texts:
    // counting them would only have taken the place of the prompt the model has cached.
    expect(counts('first answer')).toBeLessThanOrEqual(1);
    expect(counts('second question')).toBeLessThanOrEqual(1);
  });

  it('leaves old turns out of the prompt, not the conversation, and says so', async () => {
    ctx.engine.contextWindow = 120;
    await ctx.assistant.models.load(makeWllamaSpec(), () => undefined);
    const conversation = await createConversation(ctx.db);
    const long = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ');
    for (const text of [long, long, 'short question']) {
      const sent = await sendUserMessage(ctx.db, conversation.id, text);
      await ctx.assistant.chat.reply(
        { conversationId: conversation.id, messageId: sent.assistantMessageId },
        () => undefined,
      );
    }
    const last = (await listMessages(ctx.db, conversation.id)).at(-1);
    expect(last?.droppedTurns).toBeGreaterThan(0);
    expect(await listMessages(ctx.db, conversation.id)).toHaveLength(6);
    const prompt = ctx.engine.requests.at(-1)?.messages ?? [];
    expect(prompt.at(-1)?.content).toBe('short question');
    expect(prompt.some((m) => m.content === long)).toBe(false);
  });

  it('starts the next prompt of a long conversation where the last one started, so the model reads only what is new (issue 10)', async () => {
    ctx.engine.contextWindow = 400;
    await ctx.assistant.models.load(makeWllamaSpec(), () => undefined);
    const { conversation } = await seedConversation(ctx.db, {
      messages: Array.from({ length: 60 }, (_, i) => ({ content: `turn ${i} `.repeat(10) })),
    });
    ctx.engine.replies = ['one', 'two', 'three'];
    for (const text of ['first question', 'second question', 'third question']) {
      const sent = await sendUserMessage(ctx.db, conversation.id, text);
      await ctx.assistant.chat.reply(
        { conversationId: conversation.id, messageId: sent.assistantMessageId },
        () => undefined,
      );
    }
    const [first, second, third] = ctx.engine.requests.map((r) => r.messages);
    // Some history was left out, and each later prompt begins with the whole earlier one.
    expect(first?.length).toBeLessThan(60);
    expect(second?.slice(0, first?.length)).toEqual(first);
    expect(third?.slice(0, second?.length)).toEqual(second);
    const countedLater = ctx.engine.counted.filter((t) => /second|third|^one$|^two$/.test(t));
    expect(countedLater).toEqual([]);
  });

  it('builds the prompt from the tail of a long conversation and counts every older message as left out (issue 11)', async () => {
    ctx.engine.contextWindow = 400;
    await ctx.assistant.models.load(makeWllamaSpec(), () => undefined);
    const { conversation, messages } = await seedConversation(ctx.db, {
      messages: Array.from({ length: 2000 }, (_, i) => ({ content: `turn ${i} `.repeat(20) })),
    });
    const sent = await sendUserMessage(ctx.db, conversation.id, 'newest question');
    const read: number[] = [];
    // Middleware joins the stack when the database opens.
    ctx.db.close();
    ctx.db.use({
      stack: 'dbcore',
      name: 'count-message-reads',
      create: (down) => ({
        ...down,
        table: (name) => {
          const table = down.table(name);
          if (name !== 'messages') return table;
          return {
            ...table,
            openCursor: async (request) => {
              const cursor = await table.openCursor(request);
              if (cursor) {
                const start = cursor.start.bind(cursor);
                cursor.start = (onNext) =>
                  start(() => {
                    read.push(1);
                    onNext();
                  });
              }
              return cursor;
            },
            query: async (request) => {
              const result = await table.query(request);
              read.push(result.result.length);
              return result;
            },
          };
        },
      }),
    });
    await ctx.db.open();
    // Read when the prompt is complete: learning may read the conversation after the reply.
    let readForPrompt = 0;
    ctx.engine.respond = () => {
      readForPrompt = read.reduce((sum, n) => sum + n, 0);
      return 'an answer';
    };
    await ctx.assistant.chat.reply(
      { conversationId: conversation.id, messageId: sent.assistantMessageId },
      () => undefined,
    );
    const prompt = ctx.engine.requests.at(-1)?.messages ?? [];
    expect(prompt.at(-1)?.content).toBe('newest question');
    expect(prompt.at(-2)?.content).toBe(messages.at(-1)?.content);
    const keptTurns = prompt.length - 1;
    const last = (await listMessages(ctx.db, conversation.id)).at(-1);
    expect(last?.droppedTurns).toBe(2001 - keptTurns);
    // Far from the 2,000 stored: only what could fit the 400-token window was read.
    expect(readForPrompt).toBeGreaterThan(0);
    expect(readForPrompt).toBeLessThan(200);
  });

  it('a full disk while a reply streams ends the reply as an error, never left streaming (issue 12)', async () => {
    // The disk fills once a stored reply would pass 5 characters: the progress saves and the
    // final text fail as they would in the browser, a write that does not grow the row passes.
    const { db, engine } = ctx;
    db.use({
      stack: 'dbcore',
      name: 'full-disk',
      create: (down) => ({
        ...down,
        table: (name) => {
          const table = down.table(name);
          if (name !== 'messages') return table;
          return {
            ...table,
            mutate: (request) =>
              request.type === 'put' &&
              request.values.some((row: { content?: string }) => (row.content ?? '').length > 5)
                ? Promise.reject(
                    new DOMException('The quota has been exceeded.', 'QuotaExceededError'),
                  )
                : table.mutate(request),
          };
        },
      }),
    });
    const assistant = new Assistant({
      db,
      loadEngine: () => Promise.resolve(engine),
      schedule: heldFrames,
      holdLock: (_name, work) => work(),
      persistEveryMs: 0,
    });
    await assistant.models.load(makeWllamaSpec(), () => undefined);
    engine.replies = ['A reply far longer than what still fits.'];
    const request = await conversationWithQuestion(db, 'Hello?');
    await expect(assistant.chat.reply(request, () => undefined)).rejects.toMatchObject({
      code: 'quota-exceeded',
    });
    const reply = (await listMessages(db, request.conversationId)).at(-1);
    expect(reply?.status).toBe('error');
    expect(reply?.error?.code).toBe('quota-exceeded');
    expect(reply?.content.length).toBeLessThanOrEqual(5);
    // The conversation takes the next message.
    await expect(sendUserMessage(db, request.conversationId, 'Again')).resolves.toBeDefined();
  });

  it('stores the first text at once, and all of it when the page asks before hiding (issue 12)', async () => {
    const { db, engine } = ctx;
    // A clock that never moves: no periodic save falls due, only the first and the asked one.
    const assistant = new Assistant({
      db,
      loadEngine: () => Promise.resolve(engine),
      schedule: heldFrames,
      holdLock: (_name, work) => work(),
      now: () => 0,
    });
    await assistant.models.load(makeWllamaSpec(), () => undefined);
    const gates: (() => void)[] = [];
    engine.betweenTokens = () =>
      new Promise<void>((resolve) => {
        gates.push(resolve);
      });
    engine.replies = ['One two three four'];
    const request = await conversationWithQuestion(db, 'Count');
    const reply = assistant.chat.reply(request, () => undefined);
    const stored = async () =>
      (await listMessages(db, request.conversationId)).at(-1)?.content ?? '';
    const nextToken = async () => {
      await expect.poll(() => gates.length).toBeGreaterThan(0);
      gates.shift()?.();
    };
    await nextToken();
    await expect.poll(stored).toBe('One ');
    await nextToken();
    await nextToken();
    await expect.poll(() => gates.length).toBeGreaterThan(0);
    expect(await stored()).toBe('One ');
    await assistant.chat.saveProgress();
    expect(await stored()).toBe('One two three ');
    engine.betweenTokens = () => Promise.resolve();
    gates.shift()?.();
    await reply;
    expect(await stored()).toBe('One two three four');
  });
});

describe('Assistant conversations: the worker writes them (issue 9)', () => {
  let ctx: ReturnType<typeof setup>;
  beforeEach(() => {
    ctx = setup();
  });

  it('sends into the conversation given, or starts one when it is not stored', async () => {
    const { conversations } = ctx.assistant;
    const first = await conversations.send(null, 'Hello');
    await finishReply(ctx.db, first.assistantMessageId, { status: 'complete', content: 'Hi' });
    const again = await conversations.send(first.conversationId, 'And again');
    expect(again.conversationId).toBe(first.conversationId);
    // Deleted in another tab, or left out of an import: a new conversation, not a refusal.
    const elsewhere = await conversations.send('gone', 'Still there?');
    expect(elsewhere.conversationId).not.toBe(first.conversationId);
    const stored = await listMessages(ctx.db, first.conversationId);
    expect(stored.map((m) => [m.role, m.content, m.status])).toEqual([
      ['user', 'Hello', 'complete'],
      ['assistant', 'Hi', 'complete'],
      ['user', 'And again', 'complete'],
      ['assistant', '', 'streaming'],
    ]);
  });

  it('refuses every change while the data is being replaced, and takes them again after', async () => {
    const { conversations, data } = ctx.assistant;
    const { conversationId } = await conversations.send(null, 'Hello');
    await data.quiesce();
    await expect(conversations.send(conversationId, 'Now?')).rejects.toMatchObject({
      code: 'busy',
    });
    await expect(conversations.rename(conversationId, 'New name')).rejects.toMatchObject({
      code: 'busy',
    });
    await expect(conversations.remove(conversationId)).rejects.toMatchObject({ code: 'busy' });
    await data.resume();
    await conversations.rename(conversationId, 'New name');
    expect((await getConversation(ctx.db, conversationId))?.title).toBe('New name');
  });

  it('unloads the model after an erase without a resume (the page reloads), and refuses a load meanwhile', async () => {
    const { data, models } = ctx.assistant;
    await data.quiesce();
    await data.eraseDatabases();
    // What "Erase everything" does next, before the reload that never resumes the worker.
    const unloaded = await Promise.race([
      models.unload().then(() => 'unloaded'),
      new Promise((resolve) => {
        setTimeout(() => {
          resolve('still waiting');
        }, 500);
      }),
    ]);
    expect(unloaded).toBe('unloaded');
    await expect(models.load(makeWllamaSpec(), () => undefined)).rejects.toMatchObject({
      code: 'busy',
    });
  });

  it('marks a reply nobody writes any more as incomplete, and leaves a live one alone', async () => {
    const db = freshDatabase();
    const alive = new Set<string>();
    const assistant = new Assistant({
      db,
      loadEngine: () => Promise.resolve(new ScriptedEngine()),
      isReplyAlive: (id) => Promise.resolve(alive.has(id)),
    });
    const orphan = await assistant.conversations.send(null, 'One');
    const live = await assistant.conversations.send(null, 'Two');
    alive.add(live.assistantMessageId);
    await assistant.conversations.recoverInterrupted();
    const statusOf = async (sent: { conversationId: string }) =>
      (await listMessages(db, sent.conversationId)).at(-1)?.status;
    expect(await statusOf(orphan)).toBe('incomplete');
    expect(await statusOf(live)).toBe('streaming');
  });
});
