import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  claimNextJob,
  completeJobWithoutChanges,
  ConflictError,
  DEFAULT_STALE_JOB_MS,
  enqueueOptimizeJob,
  failJob,
  getConversation,
  getJob,
  getProfile,
  listJobs,
  requeueJob,
  type Job,
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

async function conversations(count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push((await seedConversation(db)).conversation.id);
  return ids;
}

async function enqueue(ids: string[], now: number): Promise<Job> {
  const job = await enqueueOptimizeJob(db, ids, now);
  if (!job) throw new Error('expected a job');
  return job;
}

async function claim(now: number, options?: Parameters<typeof claimNextJob>[2]): Promise<Job> {
  const job = await claimNextJob(db, now, options);
  if (!job) throw new Error('expected a claim');
  return job;
}

describe('enqueueOptimizeJob', () => {
  it('queues a job for the conversations', async () => {
    const ids = await conversations(2);

    const job = await enqueue(ids, 1000);

    expect(job).toMatchObject({
      kind: 'optimize',
      status: 'queued',
      conversationIds: ids,
      createdAt: 1000,
      updatedAt: 1000,
      attempts: 0,
    });
    expect(await getJob(db, job.id)).toEqual(job);
  });

  it('does not queue a conversation already in a queued or running job', async () => {
    const [a, b, c] = await conversations(3);
    if (!a || !b || !c) throw new Error('seed');
    await enqueue([a], 1000);
    await claim(1001);
    await enqueue([b], 1002);

    expect(await enqueueOptimizeJob(db, [a, b], 1003)).toBeUndefined();
    const job = await enqueue([a, b, c, c], 1004);
    expect(job.conversationIds).toEqual([c]);
    expect(await db.jobs.count()).toBe(3);
  });

  it('queues a conversation again once its job is done', async () => {
    const [a] = await conversations(1);
    if (!a) throw new Error('seed');
    await enqueue([a], 1000);
    const running = await claim(1001);
    await completeJobWithoutChanges(db, running.id, [], { applied: 0, rejected: 0 });

    expect((await enqueue([a], 1002)).conversationIds).toEqual([a]);
  });

  it('leaves out conversations that no longer exist', async () => {
    const [a] = await conversations(1);
    if (!a) throw new Error('seed');

    expect(await enqueueOptimizeJob(db, ['deleted'])).toBeUndefined();
    expect((await enqueue(['deleted', a], 1000)).conversationIds).toEqual([a]);
  });
});

describe('claimNextJob', () => {
  it('claims the oldest queued job: running, one more attempt, a claim id', async () => {
    const [a, b] = await conversations(2);
    if (!a || !b) throw new Error('seed');
    const newer = await enqueue([b], 2000);
    const older = await enqueue([a], 1000);

    const claimed = await claim(3000);

    expect(claimed.id).toBe(older.id);
    expect(claimed).toMatchObject({ status: 'running', attempts: 1, updatedAt: 3000 });
    expect(claimed.claimId).toEqual(expect.any(String));
    expect(await getJob(db, claimed.id)).toEqual(claimed);
    expect((await getJob(db, newer.id))?.status).toBe('queued');
  });

  it('claims nothing when the queue is empty', async () => {
    expect(await claimNextJob(db, 1000)).toBeUndefined();
  });

  it('claims nothing while another runner’s job is live', async () => {
    const [a, b] = await conversations(2);
    if (!a || !b) throw new Error('seed');
    await enqueue([a], 1000);
    await enqueue([b], 1001);
    await claim(2000);

    expect(await claimNextJob(db, 2000 + DEFAULT_STALE_JOB_MS - 1)).toBeUndefined();
  });

  it('never hands the same job to two concurrent claims', async () => {
    const [a] = await conversations(1);
    if (!a) throw new Error('seed');
    await enqueue([a], 1000);

    const claims = await Promise.all([claimNextJob(db, 2000), claimNextJob(db, 2000)]);

    expect(claims.filter((job) => job !== undefined)).toHaveLength(1);
  });

  it('re-claims a running job gone stale, with a new claim id', async () => {
    const [a] = await conversations(1);
    if (!a) throw new Error('seed');
    await enqueue([a], 1000);
    const first = await claim(2000, { staleAfterMs: 500 });

    const second = await claim(2500, { staleAfterMs: 500 });

    expect(second.id).toBe(first.id);
    expect(second.attempts).toBe(2);
    expect(second.claimId).not.toBe(first.claimId);
    // The first runner's claim is gone: it can neither finish nor fail the job.
    await expect(
      completeJobWithoutChanges(
        db,
        first.id,
        [],
        { applied: 0, rejected: 0 },
        {
          claimId: first.claimId,
        },
      ),
    ).rejects.toBeInstanceOf(ConflictError);
    expect(await failJob(db, first.id, { code: 'unknown', message: 'x' }, [], first.claimId)).toBe(
      false,
    );
    expect((await getJob(db, first.id))?.status).toBe('running');
  });

  it('fails a stale job that has used up its attempts, and moves on', async () => {
    const [a, b] = await conversations(2);
    if (!a || !b) throw new Error('seed');
    const crashing = await enqueue([a], 1000);
    const next = await enqueue([b], 1001);
    await claim(2000, { staleAfterMs: 10, maxAttempts: 2 });
    await claim(3000, { staleAfterMs: 10, maxAttempts: 2 });

    const claimed = await claim(4000, { staleAfterMs: 10, maxAttempts: 2 });

    expect(claimed.id).toBe(next.id);
    const failed = await getJob(db, crashing.id);
    expect(failed?.status).toBe('failed');
    expect(failed?.error?.message).toMatch(/2 times/);
  });
});

describe('requeueJob', () => {
  it('puts a running job back in the queue and gives the attempt back', async () => {
    const [a] = await conversations(1);
    if (!a) throw new Error('seed');
    await enqueue([a], 1000);
    const job = await claim(2000);

    expect(await requeueJob(db, job.id, job.claimId, 2100)).toBe(true);

    const queued = await getJob(db, job.id);
    expect(queued).toMatchObject({ status: 'queued', attempts: 0, updatedAt: 2100 });
    expect(queued?.claimId).toBeUndefined();
    expect((await claim(2200)).id).toBe(job.id);
  });

  it('does nothing to a job that is not running', async () => {
    const [a] = await conversations(1);
    if (!a) throw new Error('seed');
    const job = await enqueue([a], 1000);

    expect(await requeueJob(db, job.id)).toBe(false);
    expect(await requeueJob(db, 'missing')).toBe(false);
    expect(await getJob(db, job.id)).toEqual(job);
  });
});

describe('failJob', () => {
  it('marks a running job failed with the error and the rejected changes', async () => {
    const [a] = await conversations(1);
    if (!a) throw new Error('seed');
    await enqueue([a], 1000);
    const job = await claim(2000);
    const error = { code: 'out-of-memory', message: 'Too big.', name: 'AppError' };
    const rejected = [{ reason: 'too-long' as const, detail: 'Value too long.', raw: 'x' }];

    expect(await failJob(db, job.id, error, rejected, job.claimId, 2100)).toBe(true);

    const failed = await getJob(db, job.id);
    expect(failed).toMatchObject({ status: 'failed', updatedAt: 2100 });
    // Only the fields we know are stored: not the error's name, not the raw model output.
    expect(failed?.error).toEqual({ code: 'out-of-memory', message: 'Too big.' });
    expect(failed?.rejected).toEqual([{ reason: 'too-long', detail: 'Value too long.' }]);
    expect(failed?.claimId).toBeUndefined();
  });

  it('does not fail a job that is not running', async () => {
    const [a] = await conversations(1);
    if (!a) throw new Error('seed');
    const job = await enqueue([a], 1000);

    expect(await failJob(db, job.id, { code: 'unknown', message: 'x' })).toBe(false);
    expect((await getJob(db, job.id))?.status).toBe('queued');
  });
});

describe('completeJobWithoutChanges', () => {
  it('marks the sessions learned and the job done together, without a revision', async () => {
    const a = await seedConversation(db, { conversation: { learnedUntil: 800 } });
    const b = await seedConversation(db);
    await enqueue([a.conversation.id, b.conversation.id], 1000);
    const job = await claim(2000);

    const done = await completeJobWithoutChanges(
      db,
      job.id,
      [
        { conversationId: a.conversation.id, learnedUntil: 400 },
        { conversationId: b.conversation.id, learnedUntil: 900 },
      ],
      { applied: 0, rejected: 1 },
      { rejected: [{ reason: 'unchanged', detail: 'Same value.' }], claimId: job.claimId },
    );

    expect(done).toMatchObject({ status: 'done', result: { applied: 0, rejected: 1 } });
    expect(await getJob(db, job.id)).toEqual(done);
    expect((await getConversation(db, a.conversation.id))?.learnedUntil).toBe(800);
    expect((await getConversation(db, b.conversation.id))?.learnedUntil).toBe(900);
    expect((await getProfile(db)).revision).toBe(0);
  });

  it('writes nothing for a job that is not running', async () => {
    const { conversation } = await seedConversation(db);
    const job = await enqueue([conversation.id], 1000);

    await expect(
      completeJobWithoutChanges(
        db,
        job.id,
        [{ conversationId: conversation.id, learnedUntil: 5 }],
        { applied: 0, rejected: 0 },
      ),
    ).rejects.toBeInstanceOf(ConflictError);
    expect((await getConversation(db, conversation.id))?.learnedUntil).toBe(0);
    await expect(
      completeJobWithoutChanges(db, 'missing', [], { applied: 0, rejected: 0 }),
    ).rejects.toMatchObject({ reason: 'job-not-found' });
  });
});

describe('listJobs', () => {
  it('lists newest first, up to the limit', async () => {
    const [a, b, c] = await conversations(3);
    if (!a || !b || !c) throw new Error('seed');
    const first = await enqueue([a], 1000);
    const second = await enqueue([b], 2000);
    const third = await enqueue([c], 3000);

    expect((await listJobs(db)).map((job) => job.id)).toEqual([third.id, second.id, first.id]);
    expect((await listJobs(db, { limit: 2 })).map((job) => job.id)).toEqual([third.id, second.id]);
  });
});
