import 'fake-indexeddb/auto';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { listJobs, type PersonaDatabase } from '../../src/db';
import { Assistant } from '../../src/worker/assistant';
import { replyLockName } from '../../src/worker/lock-names';
import { ScriptedEngine } from '../doubles/scripted-engine';
import { freshDatabase, makeWllamaSpec } from './factories';

/**
 * Issue 9's model-based test: random interleavings of what a user and the worker's own learning
 * do at once (send, stop, load, unload, learn, import), on a scripted engine that refuses a second
 * generation while one runs, with Web Locks that really exclude. Whatever the order, every job
 * ends done or queued (a pre-emption never fails one), no reply meets a busy engine, and every
 * reply ends complete, stopped or failed with the text it streamed stored.
 */

type Command =
  | { kind: 'send'; conversation: number }
  | { kind: 'stop' }
  | { kind: 'load'; model: number }
  | { kind: 'unload' }
  | { kind: 'learn' }
  | { kind: 'import' };

const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('send'), conversation: fc.nat(2) }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'stop' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('load'), model: fc.nat(1) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'unload' as const }) },
  { weight: 3, arbitrary: fc.constant({ kind: 'learn' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'import' as const }) },
);

/** A command and how many macrotasks pass before the next one starts (0: at once). */
const step = fc.record({ command, gap: fc.nat(3) });

const macrotask = () =>
  new Promise<void>((resolve) => {
    setTimeout(resolve, 0);
  });

/** Web Locks as the browser has them: one holder per name, `ifAvailable` refused when held. */
function excludingLocks() {
  const held = new Map<string, Promise<void>>();
  const run = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    let free: () => void = () => undefined;
    held.set(
      name,
      new Promise<void>((resolve) => {
        free = resolve;
      }),
    );
    try {
      return await work();
    } finally {
      held.delete(name);
      free();
    }
  };
  return {
    isReplyAlive: (messageId: string) => Promise.resolve(held.has(replyLockName(messageId))),
    tryLock: <T>(name: string, work: () => Promise<T>): Promise<T | null> =>
      held.has(name) ? Promise.resolve(null) : run(name, work),
    holdLock: async <T>(name: string, work: () => Promise<T>): Promise<T> => {
      for (let waiting = held.get(name); waiting; waiting = held.get(name)) await waiting;
      return run(name, work);
    },
  };
}

const first = makeWllamaSpec({ id: 'a.gguf' });
const specs = [first, makeWllamaSpec({ id: 'b.gguf' })];

async function play(steps: readonly { command: Command; gap: number }[]): Promise<void> {
  const db = freshDatabase();
  const engine = new ScriptedEngine();
  engine.respond = (request) =>
    request.jsonSchema ? '{"changes": []}' : 'Tea is a fine choice for a quiet evening.';
  // Every token is a macrotask, so replies and updates overlap with the commands around them.
  engine.betweenTokens = macrotask;
  const assistant = new Assistant({
    db,
    loadEngine: () => Promise.resolve(engine),
    schedule: () => () => undefined,
    persistEveryMs: 0,
    ...excludingLocks(),
  });
  await assistant.models.load(first, () => undefined);

  const conversations: (string | null)[] = [null, null, null];
  const streamed = new Map<string, string>();
  const running: Promise<unknown>[] = [];
  const perform = async (c: Command): Promise<unknown> => {
    switch (c.kind) {
      case 'send': {
        const sent = await assistant.conversations.send(
          conversations[c.conversation] ?? null,
          'I like tea in the evening.',
        );
        conversations[c.conversation] = sent.conversationId;
        streamed.set(sent.assistantMessageId, '');
        return assistant.chat.reply(
          { conversationId: sent.conversationId, messageId: sent.assistantMessageId },
          (update) => {
            streamed.set(update.messageId, (streamed.get(update.messageId) ?? '') + update.delta);
          },
        );
      }
      case 'stop':
        return assistant.chat.stop();
      case 'load':
        return assistant.models.load(specs[c.model] ?? first, () => undefined);
      case 'unload':
        return assistant.models.unload();
      case 'learn':
        return assistant.learning.schedule({ activeConversationId: null, force: true });
      case 'import': {
        // What the Your data page does: quiesce, check the file, import, and (here, instead of
        // the reload that follows) resume.
        await assistant.data.quiesce();
        try {
          const blob = await assistant.data.exportBackup([]);
          const checked = await assistant.data.checkBackup(
            new File([blob], 'backup.json'),
            specs.map((s) => s.id),
          );
          if (checked.ok) await assistant.data.importBackup(checked.token);
        } finally {
          await assistant.data.resume();
        }
        return undefined;
      }
    }
  };
  for (const { command: c, gap } of steps) {
    // Refusals (a reply still streaming, data being replaced, no model) are answers, not failures.
    running.push(perform(c).catch(() => undefined));
    for (let i = 0; i < gap; i++) await macrotask();
  }
  await Promise.all(running);
  // Learning the commands set off in the background stops here too, its job back in the queue.
  await assistant.data.quiesce();
  await checkEnding(db, streamed);
  await assistant.data.resume();
  // With a model loaded and nothing else running, the queue drains: nothing was lost.
  await assistant.models.load(first, () => undefined);
  // (The load's release already runs the queue; a second run may find it running.)
  await assistant.learning.schedule({ activeConversationId: null });
  await vi.waitFor(async () => {
    const jobs = await listJobs(db);
    expect(jobs.filter((job) => job.status !== 'done')).toEqual([]);
  });
  db.close();
}

async function checkEnding(db: PersonaDatabase, streamed: Map<string, string>): Promise<void> {
  const jobs = await listJobs(db);
  // Queued or done; never failed by a pre-emption, never left running.
  expect(jobs.filter((job) => job.status === 'failed' || job.status === 'running')).toEqual([]);
  const replies = (await db.messages.toArray()).filter((m) => m.role === 'assistant');
  for (const reply of replies) {
    expect(reply.status).not.toBe('streaming');
    // Only a missing model may fail a reply here: a busy engine means two users at once.
    if (reply.status === 'error') expect(reply.error?.code).toBe('no-model-loaded');
    else expect(reply.content).toBe(streamed.get(reply.id));
  }
}

describe('one engine shared by replies, loads, learning and imports (issue 9)', () => {
  it('ends every interleaving with every job done or queued and every reply stored', async () => {
    await fc.assert(fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 8 }), play), {
      numRuns: 1000,
      timeout: 5_000,
    });
  }, 600_000);
});
