import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { applyChanges, userSetChange } from '../../src/core/profile/apply';
import {
  commitRevision,
  createConversation,
  getProfile,
  listJobs,
  listPendingProposals,
  listRevisions,
  sendUserMessage,
  setSetting,
  type PersonaDatabase,
} from '../../src/db';
import { Assistant, type AssistantDeps } from '../../src/worker/assistant';
import { AppError } from '../../src/core/errors';
import { ScriptedEngine } from '../doubles/scripted-engine';
import { freshDatabase, makeWllamaSpec } from './factories';

const frames = () => () => undefined;

async function setup(deps: Partial<AssistantDeps> = {}) {
  const db = freshDatabase();
  const engine = new ScriptedEngine();
  const assistant = new Assistant({
    db,
    loadEngine: () => Promise.resolve(engine),
    schedule: frames,
    holdLock: (_name, work) => work(),
    tryLock: (_name, work) => work(),
    ...deps,
  });
  await assistant.models.load(makeWllamaSpec(), () => undefined);
  return { db, engine, assistant };
}

type Ctx = Awaited<ReturnType<typeof setup>>;

/**
 * Gives a caller that does not wait its turn the time to reach the engine (a request after the
 * `seen` ones) before the test goes on; one that waits makes no request, and the test goes on after `ms`.
 */
async function untilAnotherRequestOr(
  engine: ScriptedEngine,
  seen: number,
  ms: number,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (engine.requests.length <= seen && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** One finished session: the user says `text`, the scripted engine answers. */
async function chat(ctx: Ctx, text: string, reply = 'Noted.'): Promise<string> {
  const conversation = await createConversation(ctx.db);
  const sent = await sendUserMessage(ctx.db, conversation.id, text);
  ctx.engine.replies.push(reply);
  await ctx.assistant.chat.reply(
    { conversationId: conversation.id, messageId: sent.assistantMessageId },
    () => undefined,
  );
  // Let the background queue run that a reply triggers settle before the next step.
  await new Promise((resolve) => setTimeout(resolve, 0));
  return conversation.id;
}

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

async function fieldValue(db: PersonaDatabase, section: string, key: string) {
  const { profile } = await getProfile(db);
  return profile.sections.find((s) => s.name === section)?.fields[key];
}

describe('learning from conversations', () => {
  it('learns after k ended sessions, with evidence, and personalizes the next reply', async () => {
    const ctx = await setup();
    const first = await chat(ctx, 'I just moved to Berlin and I love it.');
    await chat(ctx, 'Recommend a book.');
    expect((await ctx.assistant.learning.schedule({ activeConversationId: null })).jobs).toBe(0);
    await chat(ctx, 'What should I cook tonight?');

    ctx.engine.replies.push(berlin);
    const outcome = await ctx.assistant.learning.schedule({ activeConversationId: null });
    expect(outcome).toMatchObject({ jobs: 1, applied: 1, failed: 0 });
    const location = await fieldValue(ctx.db, 'Demographics', 'Location');
    expect(location?.value).toBe('Berlin');
    expect(location?.source).toBe('learned');
    expect(location?.evidence[0]).toMatchObject({
      conversationId: first,
      quote: 'I just moved to Berlin',
    });
    const [revision] = await listRevisions(ctx.db);
    expect(revision?.summary).toContain('Location: Berlin');

    // The optimizer was asked for JSON constrained by the schema.
    const optimizerRequest = ctx.engine.requests.find((r) => r.jsonSchema);
    expect(optimizerRequest?.temperature).toBe(0);

    await chat(ctx, 'Any restaurants nearby?');
    const system = ctx.engine.requests.at(-1)?.messages[0]?.content ?? '';
    expect(system).toContain('Location: Berlin');
  });

  it('never reads a session twice', async () => {
    const ctx = await setup();
    for (const text of ['I just moved to Berlin', 'Hi', 'Hello']) await chat(ctx, text);
    ctx.engine.replies.push(berlin);
    await ctx.assistant.learning.schedule({ activeConversationId: null });
    const optimizerCalls = () => ctx.engine.requests.filter((r) => r.jsonSchema).length;
    expect(optimizerCalls()).toBe(1);
    await ctx.assistant.learning.schedule({ activeConversationId: null, force: true });
    expect(optimizerCalls()).toBe(1);
  });

  it('in review mode, queues the change instead of applying it', async () => {
    const ctx = await setup();
    await setSetting(ctx.db, 'learningMode', 'review');
    for (const text of ['I just moved to Berlin', 'Hi', 'Hello']) await chat(ctx, text);
    ctx.engine.replies.push(berlin);
    const outcome = await ctx.assistant.learning.schedule({ activeConversationId: null });
    expect(outcome.proposed).toBe(1);
    expect(await fieldValue(ctx.db, 'Demographics', 'Location')).toBeUndefined();
    const [proposal] = await listPendingProposals(ctx.db);
    expect(proposal?.change).toMatchObject({ op: 'set', key: 'Location', value: 'Berlin' });
  });

  it('retries invalid output once, then records the job as failed and changes nothing', async () => {
    const ctx = await setup();
    for (const text of ['I just moved to Berlin', 'Hi', 'Hello']) await chat(ctx, text);
    ctx.engine.replies.push('{"changes": [', 'not json at all');
    const outcome = await ctx.assistant.learning.schedule({ activeConversationId: null });
    expect(outcome.failed).toBe(1);
    expect(ctx.engine.requests.filter((r) => r.jsonSchema)).toHaveLength(2);
    const [job] = await listJobs(ctx.db);
    expect(job?.status).toBe('failed');
    expect(job?.error?.message).toMatch(/not valid/);
    expect((await getProfile(ctx.db)).revision).toBe(0);
  });

  it('does not learn from temporary conversations nor personalize them', async () => {
    const ctx = await setup();
    const temporary = await createConversation(ctx.db, { temporary: true });
    const sent = await sendUserMessage(ctx.db, temporary.id, 'I just moved to Berlin');
    await ctx.assistant.chat.reply(
      { conversationId: temporary.id, messageId: sent.assistantMessageId },
      () => undefined,
    );
    const outcome = await ctx.assistant.learning.schedule({
      activeConversationId: null,
      force: true,
    });
    expect(outcome.jobs).toBe(0);
  });

  it('keeps a user edit made while the model was thinking, and still learns', async () => {
    const ctx = await setup();
    for (const text of ['I just moved to Berlin', 'Hi', 'Hello']) await chat(ctx, text);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    ctx.engine.replies.push(berlin);
    ctx.engine.betweenTokens = () => gate;
    const running = ctx.assistant.learning.schedule({ activeConversationId: null });
    await new Promise((resolve) => setTimeout(resolve, 10));
    const { profile, revision } = await getProfile(ctx.db);
    const edit = applyChanges(profile, [userSetChange('Demographics', 'Occupation', 'nurse')], {
      actor: 'user',
      now: Date.now(),
    });
    await commitRevision(ctx.db, {
      expectedRevision: revision,
      profile: edit.profile,
      revision: {
        id: 'edit',
        createdAt: Date.now(),
        origin: 'user',
        changes: edit.applied,
        summary: 'Set Occupation',
      },
    });
    release();
    expect((await running).applied).toBe(1);
    expect((await fieldValue(ctx.db, 'Demographics', 'Occupation'))?.value).toBe('nurse');
    expect((await fieldValue(ctx.db, 'Demographics', 'Location'))?.value).toBe('Berlin');
    expect((await getProfile(ctx.db)).revision).toBe(2);
  });

  it('a chat request pre-empts a running update, which resumes afterwards', async () => {
    const ctx = await setup();
    for (const text of ['I just moved to Berlin', 'Hi', 'Hello']) await chat(ctx, text);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    // The interrupted run, the reply, then the same run again.
    ctx.engine.replies.push(berlin, 'Sure.', berlin);
    ctx.engine.betweenTokens = () => gate;
    const running = ctx.assistant.learning.schedule({ activeConversationId: null });
    await new Promise((resolve) => setTimeout(resolve, 10));
    const conversation = await createConversation(ctx.db);
    const sent = await sendUserMessage(ctx.db, conversation.id, 'Quick question');
    const reply = ctx.assistant.chat.reply(
      { conversationId: conversation.id, messageId: sent.assistantMessageId },
      () => undefined,
    );
    ctx.engine.betweenTokens = () => Promise.resolve();
    release();
    expect((await running).preempted).toBe(true);
    await reply;
    // The requeued job ran again after the reply, and learned.
    await expect
      .poll(() => fieldValue(ctx.db, 'Demographics', 'Location'))
      .toMatchObject({ value: 'Berlin' });
  });
});

describe('learning never loses a session (issue 12)', () => {
  const threeSessions = async (ctx: Ctx) => {
    for (const text of ['I just moved to Berlin', 'Hi', 'Hello']) await chat(ctx, text);
  };

  it('a job that meets a busy engine goes back to the queue and learns at the next run', async () => {
    const ctx = await setup();
    await threeSessions(ctx);
    ctx.engine.failNextGenerate = new AppError('busy', 'The model is already writing a reply.');
    const first = await ctx.assistant.learning.schedule({ activeConversationId: null });
    expect(first).toMatchObject({ failed: 0, waiting: 'reply' });
    expect((await listJobs(ctx.db)).map((job) => job.status)).toEqual(['queued']);

    ctx.engine.replies.push(berlin);
    const second = await ctx.assistant.learning.schedule({ activeConversationId: null });
    expect(second).toMatchObject({ jobs: 1, applied: 1, failed: 0, waiting: null });
    expect(await fieldValue(ctx.db, 'Demographics', 'Location')).toMatchObject({ value: 'Berlin' });
  });

  it('a model unloaded mid-run, or a lost GPU, requeues the job instead of failing it', async () => {
    const ctx = await setup();
    await threeSessions(ctx);
    ctx.engine.failNextGenerate = new AppError('device-lost', 'The GPU was reset.');
    await ctx.assistant.learning.schedule({ activeConversationId: null });
    await ctx.assistant.models.unload();
    const outcome = await ctx.assistant.learning.schedule({ activeConversationId: null });
    expect(outcome).toMatchObject({ jobs: 0, failed: 0, waiting: 'model' });
    const [job] = await listJobs(ctx.db);
    expect(job).toMatchObject({ status: 'queued', attempts: 0 });
  });

  it('does not start a job while a reply holds the engine', async () => {
    const ctx = await setup();
    await threeSessions(ctx);
    let release: () => void = () => undefined;
    ctx.engine.betweenTokens = () =>
      new Promise<void>((resolve) => {
        release = resolve;
      });
    const conversation = await createConversation(ctx.db);
    const sent = await sendUserMessage(ctx.db, conversation.id, 'A long question');
    ctx.engine.replies.push('A long answer.');
    const reply = ctx.assistant.chat.reply(
      { conversationId: conversation.id, messageId: sent.assistantMessageId },
      () => undefined,
    );
    await new Promise((resolve) => setTimeout(resolve, 10));
    const outcome = await ctx.assistant.learning.schedule({ activeConversationId: null });
    expect(outcome).toMatchObject({ jobs: 0, failed: 0, waiting: 'reply' });
    ctx.engine.betweenTokens = () => Promise.resolve();
    ctx.engine.replies.push(berlin);
    release();
    await reply;
    // The reply's end runs the queue.
    await expect
      .poll(() => fieldValue(ctx.db, 'Demographics', 'Location'))
      .toMatchObject({ value: 'Berlin' });
    expect((await listJobs(ctx.db)).filter((job) => job.status === 'failed')).toEqual([]);
  });

  it('takes over a crashed tab’s running job at once when the lock says its runner is gone', async () => {
    const ctx = await setup({ orphanedJobAfterMs: 0 });
    const conversationId = await chat(ctx, 'I just moved to Berlin');
    const now = Date.now();
    // What a tab killed mid-update leaves: a job marked running a moment ago.
    await ctx.db.jobs.add({
      id: 'orphan',
      kind: 'optimize',
      status: 'running',
      conversationIds: [conversationId],
      createdAt: now,
      updatedAt: now,
      attempts: 1,
      claimId: 'the-dead-tab',
    });
    ctx.engine.replies.push(berlin);
    const outcome = await ctx.assistant.learning.schedule({
      activeConversationId: conversationId,
    });
    expect(outcome).toMatchObject({ jobs: 1, applied: 1 });
    expect(await ctx.db.jobs.get('orphan')).toMatchObject({ status: 'done' });
  });

  it('a reply waits for a running update even after a second run found the lock taken (issue 9)', async () => {
    // Web Locks as the browser has them: a second request for a held lock is refused.
    const held = new Set<string>();
    const ctx = await setup({
      tryLock: async (name, work) => {
        if (held.has(name)) return null;
        held.add(name);
        try {
          return await work();
        } finally {
          held.delete(name);
        }
      },
    });
    await threeSessions(ctx);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    ctx.engine.replies.push(berlin, 'Sure.', berlin);
    ctx.engine.betweenTokens = () => gate;
    const before = ctx.engine.requests.length;
    const running = ctx.assistant.learning.schedule({ activeConversationId: null });
    // The update is at the engine, held there by the gate.
    await expect.poll(() => ctx.engine.requests.length).toBe(before + 1);
    // Another check runs the queue meanwhile (the worker's timer); the lock is taken, so it only
    // says so.
    expect(await ctx.assistant.learning.schedule({ activeConversationId: null })).toMatchObject({
      jobs: 0,
      waiting: 'another-update',
    });

    ctx.engine.betweenTokens = () => Promise.resolve();
    const conversation = await createConversation(ctx.db);
    const sent = await sendUserMessage(ctx.db, conversation.id, 'Quick question');
    const reply = ctx.assistant.chat.reply(
      { conversationId: conversation.id, messageId: sent.assistantMessageId },
      () => undefined,
    );
    // Long enough for a reply that does not wait to reach the engine the update still holds.
    await untilAnotherRequestOr(ctx.engine, before + 1, 200);
    release();
    await expect(reply).resolves.toMatchObject({ finishReason: 'stop' });
    expect((await running).preempted).toBe(true);
    await expect
      .poll(() => fieldValue(ctx.db, 'Demographics', 'Location'))
      .toMatchObject({ value: 'Berlin' });
    expect((await listJobs(ctx.db)).map((job) => job.status)).toEqual(['done']);
  });

  it('loading another model during an update puts its job back, and it learns on the new model (issue 9)', async () => {
    const ctx = await setup();
    await threeSessions(ctx);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    ctx.engine.replies.push(berlin, berlin);
    ctx.engine.betweenTokens = () => gate;
    const before = ctx.engine.requests.length;
    const running = ctx.assistant.learning.schedule({ activeConversationId: null });
    await expect.poll(() => ctx.engine.requests.length).toBe(before + 1);
    const other = { ...makeWllamaSpec(), id: 'other.gguf', label: 'Other' };
    const loading = ctx.assistant.models.load(other, () => undefined);
    ctx.engine.betweenTokens = () => Promise.resolve();
    release();
    await loading;
    expect(await running).toMatchObject({ preempted: true, failed: 0 });
    expect(ctx.engine.loaded?.id).toBe('other.gguf');
    await expect
      .poll(() => fieldValue(ctx.db, 'Demographics', 'Location'))
      .toMatchObject({ value: 'Berlin' });
    expect((await listJobs(ctx.db)).map((job) => [job.status, job.attempts])).toEqual([
      ['done', 1],
    ]);
  });

  it('says an update is queued behind a running one when another holds the lock', async () => {
    const ctx = await setup({ tryLock: () => Promise.resolve(null) });
    await threeSessions(ctx);
    const outcome = await ctx.assistant.learning.schedule({
      activeConversationId: null,
      force: true,
    });
    expect(outcome).toMatchObject({ jobs: 0, waiting: 'another-update' });
  });

  it('offers a failed job’s sessions again at the next run', async () => {
    const ctx = await setup();
    await threeSessions(ctx);
    ctx.engine.replies.push('{"changes": [', 'not json at all');
    expect((await ctx.assistant.learning.schedule({ activeConversationId: null })).failed).toBe(1);
    ctx.engine.replies.push(berlin);
    const again = await ctx.assistant.learning.schedule({ activeConversationId: null });
    expect(again).toMatchObject({ jobs: 1, applied: 1, failed: 0 });
    expect(await fieldValue(ctx.db, 'Demographics', 'Location')).toMatchObject({ value: 'Berlin' });
  });
});

describe('the worker decides when a session has ended (issue 9)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A session as the page makes one: open a conversation, say something, get a reply. */
  async function talk(ctx: Ctx, text: string): Promise<string> {
    const sent = await ctx.assistant.conversations.send(null, text);
    await ctx.assistant.conversations.setActive(sent.conversationId);
    ctx.engine.replies.push('Noted.');
    await ctx.assistant.chat.reply(
      { conversationId: sent.conversationId, messageId: sent.assistantMessageId },
      () => undefined,
    );
    return sent.conversationId;
  }

  it('learns by itself once k sessions have ended, never from the one on screen', async () => {
    const ctx = await setup({ learnEveryMs: 60_000 });
    await talk(ctx, 'I just moved to Berlin');
    await talk(ctx, 'Hi');
    await talk(ctx, 'Hello');
    await new Promise((resolve) => setTimeout(resolve, 10));
    console.log(
      JSON.stringify(await listJobs(ctx.db)),
      JSON.stringify(
        (await ctx.db.conversations.toArray()).map((c) => [c.id, c.updatedAt, c.learnedUntil]),
      ),
    );
    // Two sessions ended by switching, the third is on screen: k = 3 is not reached.
    expect(await listJobs(ctx.db)).toEqual([]);

    ctx.engine.replies.push(berlin);
    await ctx.assistant.conversations.setActive(null);
    await expect
      .poll(() => fieldValue(ctx.db, 'Demographics', 'Location'))
      .toMatchObject({ value: 'Berlin' });
  });

  it('a session on screen ends by idling, found by the worker’s own timer', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    let now = Date.now();
    const ctx = await setup({ learnEveryMs: 60_000, clock: () => now });
    await ctx.assistant.profile.updateSettings({ optimizeEvery: 1 });
    await talk(ctx, 'I just moved to Berlin');
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await listJobs(ctx.db)).toEqual([]);

    ctx.engine.replies.push(berlin);
    now += 31 * 60_000;
    vi.advanceTimersByTime(60_000);
    await expect
      .poll(() => fieldValue(ctx.db, 'Demographics', 'Location'))
      .toMatchObject({ value: 'Berlin' });
  });
});
