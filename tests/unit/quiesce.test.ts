import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import {
  createConversation,
  getProfile,
  listNewestConversations,
  listJobs,
  listMessages,
  listRevisions,
  sendUserMessage,
  wipeDatabase,
} from '../../src/db';
import { Assistant } from '../../src/worker/assistant';
import { ScriptedEngine } from '../doubles/scripted-engine';
import { freshDatabase, makeWllamaSpec } from './factories';

async function setup() {
  const db = freshDatabase();
  const engine = new ScriptedEngine();
  const assistant = new Assistant({
    db,
    loadEngine: () => Promise.resolve(engine),
    schedule: () => () => undefined,
    holdLock: (_name, work) => work(),
    tryLock: (_name, work) => work(),
    // Writes the partial reply on every token, so a reply that kept running would show at once.
    persistEveryMs: 0,
  });
  await assistant.models.load(makeWllamaSpec(), () => undefined);
  return { db, engine, assistant };
}

/** A gate the scripted engine waits at between tokens until the test opens it. */
function gate() {
  let open: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { closed, open };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 10));

const berlin = JSON.stringify({
  changes: [
    {
      op: 'set',
      section: 'Demographics',
      key: 'Location',
      value: 'Berlin',
      evidence: 'I just moved to Berlin',
    },
  ],
});

describe('quiescing the worker before an import or erase', () => {
  it('stops a streaming reply, waits for its last write, and nothing lands in the erased database', async () => {
    const { db, engine, assistant } = await setup();
    const conversation = await createConversation(db);
    const sent = await sendUserMessage(db, conversation.id, 'Tell me a long story');
    engine.replies = ['once upon a time there was a very long story that never ended'];
    const held = gate();
    engine.betweenTokens = () => held.closed;
    const reply = assistant.chat.reply(
      { conversationId: conversation.id, messageId: sent.assistantMessageId },
      () => undefined,
    );
    await tick();

    const quiesced = assistant.data.quiesce();
    held.open();
    await quiesced;
    // The reply ended as stopped before quiesce resolved: its last write is already done.
    expect((await reply).finishReason).toBe('abort');
    const [, stored] = await listMessages(db, conversation.id);
    expect(stored?.status).toBe('stopped');

    await wipeDatabase(db);
    engine.betweenTokens = () => Promise.resolve();
    await tick();
    expect((await listNewestConversations(db, 100)).rows).toEqual([]);
    expect(await listMessages(db, conversation.id)).toEqual([]);
  });

  it('refuses new replies and profile updates until resumed', async () => {
    const { db, engine, assistant } = await setup();
    const conversation = await createConversation(db);
    const sent = await sendUserMessage(db, conversation.id, 'I just moved to Berlin');
    await assistant.data.quiesce();

    await expect(
      assistant.chat.reply(
        { conversationId: conversation.id, messageId: sent.assistantMessageId },
        () => undefined,
      ),
    ).rejects.toMatchObject({ code: 'busy' });
    engine.replies = [berlin];
    const outcome = await assistant.learning.schedule({ activeConversationId: null, force: true });
    expect(outcome.jobs).toBe(0);
    expect(await listJobs(db)).toEqual([]);

    // A failed import changed nothing: the worker takes work again.
    await assistant.data.resume();
    engine.replies = ['Welcome to Berlin.'];
    const answered = await assistant.chat.reply(
      { conversationId: conversation.id, messageId: sent.assistantMessageId },
      () => undefined,
    );
    expect(answered.finishReason).toBe('stop');
  });

  it('stops a running profile update; nothing it learned is written after the erase', async () => {
    const { db, engine, assistant } = await setup();
    const conversation = await createConversation(db);
    const sent = await sendUserMessage(db, conversation.id, 'I just moved to Berlin');
    engine.replies = ['Noted.'];
    await assistant.chat.reply(
      { conversationId: conversation.id, messageId: sent.assistantMessageId },
      () => undefined,
    );
    await tick();

    engine.replies = [berlin];
    const held = gate();
    engine.betweenTokens = () => held.closed;
    const learning = assistant.learning.schedule({ activeConversationId: null, force: true });
    // The update is at the engine (its request carries the output schema), held by the gate.
    await expect.poll(() => engine.requests.at(-1)?.jsonSchema).toBeDefined();

    const quiesced = assistant.data.quiesce();
    held.open();
    await quiesced;
    expect((await learning).preempted).toBe(true);

    await wipeDatabase(db);
    engine.betweenTokens = () => Promise.resolve();
    // The reply's own follow-up run of the queue, had it not been refused, would start here.
    await tick();
    expect(await listJobs(db)).toEqual([]);
    expect(await listRevisions(db)).toEqual([]);
    const { profile } = await getProfile(db);
    const location = profile.sections.find((s) => s.name === 'Demographics')?.fields.Location;
    expect(location).toBeUndefined();
  });
});
