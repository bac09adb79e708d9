import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  addProposals,
  claimNextJob,
  commitRevision,
  deleteConversation,
  enqueueOptimizeJob,
  fieldsEvidencedOnlyBy,
  fieldsLearnedOnlyFrom,
  getJob,
  getProfile,
  getRevision,
  listPendingProposals,
  type PersonaDatabase,
} from '../../src/db';
import {
  freshDatabase,
  makeAppliedSet,
  makeEvidence,
  makeField,
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

/** Two conversations and a profile learned from them: one field from each alone, one shared. */
async function learnedFromTwo() {
  const a = (await seedConversation(db, { messages: [{}] })).conversation.id;
  const b = (await seedConversation(db, { messages: [{}] })).conversation.id;
  const fromA = makeEvidence({ conversationId: a });
  const fromB = makeEvidence({ conversationId: b });
  const onlyA = makeField({ value: 'Tea', evidence: [fromA] });
  const shared = makeField({ value: 'Porto', evidence: [fromB, fromA] });
  const onlyB = makeField({ value: 'Rice', evidence: [fromB] });
  const userSet = makeField({ value: 'Ana', source: 'user', evidence: [] });
  const revision = await commitRevision(db, {
    expectedRevision: 0,
    profile: makeProfile({
      Demographics: { Name: userSet, City: shared },
      Preferences: { Drink: onlyA, Food: onlyB },
    }),
    revision: makeRevision({
      changes: [
        makeAppliedSet('Preferences', 'Drink', onlyA),
        makeAppliedSet('Demographics', 'City', shared),
      ],
    }),
  });
  return { a, b, fromA, fromB, revision };
}

describe('fieldsLearnedOnlyFrom', () => {
  it('lists the fields whose evidence all comes from the conversation', async () => {
    const { a, b } = await learnedFromTwo();

    expect(await fieldsLearnedOnlyFrom(db, a)).toEqual([{ section: 'Preferences', key: 'Drink' }]);
    expect(await fieldsLearnedOnlyFrom(db, b)).toEqual([{ section: 'Preferences', key: 'Food' }]);
    expect(await fieldsLearnedOnlyFrom(db, 'other')).toEqual([]);
  });

  it('never lists fields without evidence', () => {
    const profile = makeProfile({ Preferences: { Drink: makeField({ evidence: [] }) } });

    expect(fieldsEvidencedOnlyBy(profile, 'any')).toEqual([]);
  });
});

describe('deleteConversation and evidence', () => {
  it('strips its evidence from every field, keeping values and the revision number', async () => {
    const { a, fromB } = await learnedFromTwo();
    const before = await getProfile(db);

    await deleteConversation(db, a);

    const { profile, revision } = await getProfile(db);
    expect(revision).toBe(before.revision);
    expect(profile.updatedAt).toBe(before.profile.updatedAt);
    const [demographics, , , preferences] = profile.sections;
    expect(preferences?.fields.Drink).toMatchObject({ value: 'Tea', evidence: [] });
    expect(demographics?.fields.City).toMatchObject({ value: 'Porto', evidence: [fromB] });
    expect(preferences?.fields.Food?.evidence).toEqual([fromB]);
    expect(demographics?.fields.Name?.value).toBe('Ana');
  });

  it('strips its quotes from the revision history', async () => {
    const { a, fromB, revision } = await learnedFromTwo();

    await deleteConversation(db, a);

    const stored = await getRevision(db, revision.id);
    expect(stored?.number).toBe(revision.number);
    expect(stored?.changes[0]).toMatchObject({ key: 'Drink', evidence: null });
    expect(stored?.changes[0]?.after?.evidence).toEqual([]);
    expect(stored?.changes[1]?.after?.evidence).toEqual([fromB]);
    expect(stored?.changes[1]?.evidence).toEqual(fromB);
  });

  it('rejects pending proposals that rested on it, and leaves the others', async () => {
    const { a, b } = await learnedFromTwo();
    await enqueueOptimizeJob(db, [a, b]);
    const job = await claimNextJob(db);
    if (!job) throw new Error('expected a claim');
    const [fromA, fromB] = await addProposals(db, {
      jobId: job.id,
      processed: [],
      changes: [
        makeSetChange({ evidence: makeEvidence({ conversationId: a }) }),
        makeSetChange({ evidence: makeEvidence({ conversationId: b }) }),
      ],
      result: { applied: 0, rejected: 0 },
    });

    await deleteConversation(db, a);

    expect(await listPendingProposals(db)).toEqual([fromB]);
    const rejected = await db.proposals.get(fromA?.id ?? '');
    expect(rejected?.status).toBe('rejected');
    expect(rejected?.change.evidence).toBeNull();
  });

  it('takes it out of queued jobs, deleting a job left with none', async () => {
    const { a, b } = await learnedFromTwo();
    const alone = await enqueueOptimizeJob(db, [a]);
    await db.jobs.add({
      id: 'both',
      kind: 'optimize',
      status: 'queued',
      conversationIds: [b, a],
      createdAt: 1,
      updatedAt: 1,
      attempts: 0,
    });

    await deleteConversation(db, a);

    expect(await getJob(db, alone?.id ?? '')).toBeUndefined();
    expect((await getJob(db, 'both'))?.conversationIds).toEqual([b]);
  });

  it('leaves evidence alone when nothing else is deleted', async () => {
    const { b } = await learnedFromTwo();
    await deleteConversation(db, 'never-existed');

    expect(await fieldsLearnedOnlyFrom(db, b)).toEqual([{ section: 'Preferences', key: 'Food' }]);
  });
});
