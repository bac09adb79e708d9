import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { emptyProfile } from '../../src/core/profile/defaults';
import {
  commitRevision,
  ConflictError,
  getConversation,
  getJob,
  getProfile,
  getRevision,
  listRevisions,
  type PersonaDatabase,
  type RevisionCommit,
} from '../../src/db';
import {
  freshDatabase,
  makeAppliedSet,
  makeEvidence,
  makeField,
  makeProfile,
  makeRevision,
  seedConversation,
} from './factories';

let db: PersonaDatabase;

beforeEach(() => {
  db = freshDatabase();
});

afterEach(async () => {
  await db.delete();
});

/** Commits one learned field at the current revision. */
async function learn(key: string, value: string, extra: Partial<RevisionCommit> = {}) {
  const { profile, revision } = await getProfile(db);
  const field = makeField({ value });
  const next = {
    ...profile,
    sections: profile.sections.map((section) =>
      section.name === 'Preferences'
        ? { ...section, fields: { ...section.fields, [key]: field } }
        : section,
    ),
  };
  return commitRevision(db, {
    expectedRevision: revision,
    profile: next,
    revision: makeRevision({ changes: [makeAppliedSet('Preferences', key, field)] }),
    ...extra,
  });
}

describe('getProfile', () => {
  it('is the empty profile at revision 0 before anything is stored', async () => {
    const { profile, revision } = await getProfile(db);

    expect(revision).toBe(0);
    expect(profile.sections.map((s) => s.name)).toEqual([
      'Demographics',
      'Personality',
      'Patterns',
      'Preferences',
    ]);
    expect(profile.sections.every((s) => s.builtIn && Object.keys(s.fields).length === 0)).toBe(
      true,
    );
    expect(profile).toEqual(emptyProfile(0));
  });
});

describe('commitRevision', () => {
  it('numbers revisions from 1 and stores the profile with them', async () => {
    const first = await learn('Drink', 'Tea');
    const second = await learn('Food', 'Rice');

    expect(first.number).toBe(1);
    expect(second.number).toBe(2);
    const { profile, revision } = await getProfile(db);
    expect(revision).toBe(2);
    expect(profile.sections[3]?.fields.Food?.value).toBe('Rice');
    expect(profile.sections[3]?.fields.Drink?.value).toBe('Tea');
    expect(await getRevision(db, first.id)).toEqual(first);
  });

  it('lists revisions newest first', async () => {
    const first = await learn('Drink', 'Tea');
    const second = await learn('Food', 'Rice');

    expect((await listRevisions(db)).map((r) => r.id)).toEqual([second.id, first.id]);
  });

  it('refuses a commit based on an older revision, writing nothing', async () => {
    const stale = await getProfile(db);
    await learn('Drink', 'Tea');

    const attempt = commitRevision(db, {
      expectedRevision: stale.revision,
      profile: makeProfile({ Preferences: { Drink: makeField({ value: 'Coffee' }) } }),
      revision: makeRevision(),
    });

    await expect(attempt).rejects.toBeInstanceOf(ConflictError);
    await expect(attempt).rejects.toMatchObject({ code: 'busy', reason: 'revision-changed' });
    const { profile, revision } = await getProfile(db);
    expect(revision).toBe(1);
    expect(profile.sections[3]?.fields.Drink?.value).toBe('Tea');
    expect(await listRevisions(db)).toHaveLength(1);
  });

  it('lets only one of two racing writers at the same revision win', async () => {
    const { revision } = await getProfile(db);
    const commit = (value: string) =>
      commitRevision(db, {
        expectedRevision: revision,
        profile: makeProfile({ Preferences: { Drink: makeField({ value }) } }),
        revision: makeRevision(),
      });

    const results = await Promise.allSettled([commit('Tea'), commit('Coffee')]);

    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(await listRevisions(db)).toHaveLength(1);
    expect((await getProfile(db)).revision).toBe(1);
  });

  it('rolls everything back when one part fails', async () => {
    const { conversation } = await seedConversation(db, { messages: [{}, {}] });
    const first = await learn('Drink', 'Tea');

    // A revision id that is taken makes the add fail after the checks passed.
    const attempt = learn('Food', 'Rice', {
      revision: makeRevision({ id: first.id }),
      processed: [{ conversationId: conversation.id, learnedUntil: 99 }],
    });

    await expect(attempt).rejects.toThrow();
    expect((await getProfile(db)).revision).toBe(1);
    expect((await getProfile(db)).profile.sections[3]?.fields.Food).toBeUndefined();
    expect((await getConversation(db, conversation.id))?.learnedUntil).toBe(0);
  });

  it('marks the sessions learned, never backwards, skipping deleted ones', async () => {
    const a = await seedConversation(db, { conversation: { learnedUntil: 500 } });
    const b = await seedConversation(db);
    const bUpdatedAt = b.conversation.updatedAt;

    await learn('Drink', 'Tea', {
      processed: [
        { conversationId: a.conversation.id, learnedUntil: 300 },
        { conversationId: b.conversation.id, learnedUntil: 700 },
        { conversationId: 'deleted-meanwhile', learnedUntil: 900 },
      ],
    });

    expect((await getConversation(db, a.conversation.id))?.learnedUntil).toBe(500);
    const storedB = await getConversation(db, b.conversation.id);
    expect(storedB?.learnedUntil).toBe(700);
    // Learning is not activity: the conversation list order stays.
    expect(storedB?.updatedAt).toBe(bUpdatedAt);
    expect(await getConversation(db, 'deleted-meanwhile')).toBeUndefined();
  });

  it('drops evidence from conversations deleted while the optimizer ran', async () => {
    const kept = await seedConversation(db, { messages: [{}] });
    const keptEvidence = makeEvidence({ conversationId: kept.conversation.id });
    const goneEvidence = makeEvidence({ conversationId: 'deleted-meanwhile' });
    const field = makeField({ value: 'Tea', evidence: [goneEvidence, keptEvidence] });

    const stored = await commitRevision(db, {
      expectedRevision: 0,
      profile: makeProfile({ Preferences: { Drink: field } }),
      revision: makeRevision({ changes: [makeAppliedSet('Preferences', 'Drink', field)] }),
    });

    const { profile } = await getProfile(db);
    expect(profile.sections[3]?.fields.Drink?.evidence).toEqual([keptEvidence]);
    expect(stored.changes[0]?.after?.evidence).toEqual([keptEvidence]);
    expect(stored.changes[0]?.evidence).toBeNull();
    expect(await getRevision(db, stored.id)).toEqual(stored);
  });
});

describe('commitRevision with a job', () => {
  async function runningJob(claimId = 'claim-1') {
    const id = crypto.randomUUID();
    await db.jobs.add({
      id,
      kind: 'optimize',
      status: 'running',
      conversationIds: [],
      createdAt: 1,
      updatedAt: 1,
      attempts: 1,
      claimId,
    });
    return id;
  }

  it('marks the job done with its result and the revision', async () => {
    const jobId = await runningJob();

    const revision = await learn('Drink', 'Tea', {
      jobId,
      claimId: 'claim-1',
      jobRejected: [{ reason: 'locked', detail: 'Name is locked.' }],
    });

    const job = await getJob(db, jobId);
    expect(job?.status).toBe('done');
    expect(job?.result).toEqual({ applied: 1, rejected: 1, revisionId: revision.id });
    expect(job?.rejected).toEqual([{ reason: 'locked', detail: 'Name is locked.' }]);
    expect(job?.claimId).toBeUndefined();
  });

  it('refuses, writing nothing, when the job is no longer this runner’s', async () => {
    const jobId = await runningJob('claim-2');
    const { conversation } = await seedConversation(db);

    const attempt = learn('Drink', 'Tea', {
      jobId,
      claimId: 'claim-1',
      processed: [{ conversationId: conversation.id, learnedUntil: 50 }],
    });

    await expect(attempt).rejects.toMatchObject({ reason: 'job-not-running' });
    expect((await getProfile(db)).revision).toBe(0);
    expect((await getJob(db, jobId))?.status).toBe('running');
    expect((await getConversation(db, conversation.id))?.learnedUntil).toBe(0);
  });

  it('refuses a job that is already done', async () => {
    const jobId = await runningJob();
    await learn('Drink', 'Tea', { jobId });

    await expect(learn('Food', 'Rice', { jobId })).rejects.toBeInstanceOf(ConflictError);
    expect((await getProfile(db)).revision).toBe(1);
  });
});
