import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  addProposals,
  claimNextJob,
  commitRevision,
  ConflictError,
  enqueueOptimizeJob,
  getConversation,
  getJob,
  getProfile,
  listPendingProposals,
  resolveProposal,
  type Job,
  type PersonaDatabase,
} from '../../src/db';
import {
  freshDatabase,
  makeEvidence,
  makeProfile,
  makeRevision,
  makeSetChange,
  seedConversation,
} from './factories';

let db: PersonaDatabase;

beforeEach(() => {
  db = freshDatabase();
});

afterEach(async () => {
  await db.delete();
});

async function runningJobFor(conversationId: string): Promise<Job> {
  await enqueueOptimizeJob(db, [conversationId], 1000);
  const job = await claimNextJob(db, 2000);
  if (!job) throw new Error('expected a claim');
  return job;
}

describe('addProposals', () => {
  it('queues pending proposals, marks the sessions learned and the job done, at once', async () => {
    const { conversation } = await seedConversation(db, { messages: [{}] });
    const job = await runningJobFor(conversation.id);
    const evidence = makeEvidence({ conversationId: conversation.id });
    const changes = [
      makeSetChange({ key: 'Drink', value: 'Tea', evidence }),
      makeSetChange({ key: 'Food', value: 'Rice', evidence }),
      makeSetChange({ key: 'City', value: 'Porto', evidence }),
    ];

    const proposals = await addProposals(
      db,
      {
        jobId: job.id,
        claimId: job.claimId,
        processed: [{ conversationId: conversation.id, learnedUntil: 42 }],
        changes,
        result: { applied: 0, rejected: 1 },
        rejected: [{ reason: 'locked', detail: 'Name is locked.' }],
      },
      5000,
    );

    // In the optimizer's order, one group per run.
    expect(await listPendingProposals(db)).toEqual(proposals);
    expect(proposals.map((p) => p.change)).toEqual(changes);
    expect(proposals.every((p) => p.revisionGroup === job.id && p.status === 'pending')).toBe(true);
    expect((await getConversation(db, conversation.id))?.learnedUntil).toBe(42);
    const done = await getJob(db, job.id);
    expect(done?.status).toBe('done');
    expect(done?.result).toEqual({ applied: 0, rejected: 1, proposals: 3 });
    expect(done?.rejected).toEqual([{ reason: 'locked', detail: 'Name is locked.' }]);
    expect((await getProfile(db)).revision).toBe(0);
  });

  it('stores nothing when the job is no longer this runner’s', async () => {
    const { conversation } = await seedConversation(db);
    const job = await runningJobFor(conversation.id);

    await expect(
      addProposals(db, {
        jobId: job.id,
        claimId: 'someone-else',
        processed: [{ conversationId: conversation.id, learnedUntil: 42 }],
        changes: [makeSetChange()],
        result: { applied: 0, rejected: 0 },
      }),
    ).rejects.toBeInstanceOf(ConflictError);
    expect(await listPendingProposals(db)).toEqual([]);
    expect((await getConversation(db, conversation.id))?.learnedUntil).toBe(0);
  });

  it('drops evidence from a conversation deleted during the run', async () => {
    const { conversation } = await seedConversation(db);
    const job = await runningJobFor(conversation.id);

    const [proposal] = await addProposals(db, {
      jobId: job.id,
      processed: [],
      changes: [makeSetChange({ evidence: makeEvidence({ conversationId: 'deleted' }) })],
      result: { applied: 0, rejected: 0 },
    });

    expect(proposal?.change.evidence).toBeNull();
  });
});

describe('deciding proposals', () => {
  async function pending(count: number) {
    const { conversation } = await seedConversation(db);
    const job = await runningJobFor(conversation.id);
    return addProposals(db, {
      jobId: job.id,
      processed: [],
      changes: Array.from({ length: count }, () => makeSetChange()),
      result: { applied: 0, rejected: 0 },
    });
  }

  it('rejects one, leaving the others pending', async () => {
    const [a, b] = await pending(2);
    if (!a || !b) throw new Error('seed');

    await resolveProposal(db, a.id, 'rejected', 7000);

    expect(await listPendingProposals(db)).toEqual([b]);
    expect(await db.proposals.get(a.id)).toMatchObject({ status: 'rejected', resolvedAt: 7000 });
  });

  it('is a no-op deciding the same way twice, and a conflict the other way', async () => {
    const [a] = await pending(1);
    if (!a) throw new Error('seed');
    await resolveProposal(db, a.id, 'rejected', 7000);

    await resolveProposal(db, a.id, 'rejected', 8000);
    await expect(resolveProposal(db, a.id, 'accepted')).rejects.toMatchObject({
      reason: 'proposal-resolved',
    });
    expect(await db.proposals.get(a.id)).toMatchObject({ status: 'rejected', resolvedAt: 7000 });
    await expect(resolveProposal(db, 'missing', 'rejected')).rejects.toMatchObject({
      reason: 'proposal-not-found',
    });
  });

  it('accepts through a revision: the change and the decisions are stored together', async () => {
    const [a, b, c] = await pending(3);
    if (!a || !b || !c) throw new Error('seed');

    const revision = await commitRevision(db, {
      expectedRevision: 0,
      profile: makeProfile(),
      revision: makeRevision({ origin: 'review' }),
      proposalsResolved: [a.id],
      proposalsRejected: [b.id],
    });

    expect(await db.proposals.get(a.id)).toMatchObject({
      status: 'accepted',
      revisionId: revision.id,
    });
    expect((await db.proposals.get(b.id))?.status).toBe('rejected');
    expect(await listPendingProposals(db)).toEqual([c]);
  });

  it('refuses the whole revision when a proposal was decided in another tab', async () => {
    const [a, b] = await pending(2);
    if (!a || !b) throw new Error('seed');
    await resolveProposal(db, a.id, 'rejected');

    await expect(
      commitRevision(db, {
        expectedRevision: 0,
        profile: makeProfile(),
        revision: makeRevision({ origin: 'review' }),
        proposalsResolved: [a.id, b.id],
      }),
    ).rejects.toBeInstanceOf(ConflictError);
    expect((await getProfile(db)).revision).toBe(0);
    expect((await db.proposals.get(b.id))?.status).toBe('pending');
  });
});
