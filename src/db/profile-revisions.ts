/**
 * Profile revisions: every change to the dictionary is a numbered revision, written together with
 * the new profile and everything else the change settles, in one transaction.
 */
import type { Profile, ProfileRevision } from '../core/profile/types';
import type { PersonaDatabase } from './database';
import {
  appliedChangesWithoutEvidenceFrom,
  evidenceConversationIds,
  missingConversations,
  profileWithoutEvidenceFrom,
} from './evidence';
import { claimedJob, finishJob } from './jobs';
import { markConversationsProcessed, type ProcessedConversation } from './learned-until';
import { resolvePendingProposals } from './proposals';
import { PROFILE_ROW_ID, type JobRejection, type JobResult } from './records';
import { ConflictError, withStorageErrors } from './storage-errors';

export interface RevisionCommit {
  /** The revision the new profile was computed from (`getProfile(db).revision`). */
  expectedRevision: number;
  profile: Profile;
  /** Numbered here: current + 1. */
  revision: Omit<ProfileRevision, 'number'>;
  /** Sessions this revision learned from (optimizer runs). */
  processed?: readonly ProcessedConversation[];
  /** The job that produced it; marked done. */
  jobId?: string;
  /** The claim the runner holds (see `claimNextJob`); when given, it must still be the job's. */
  claimId?: string;
  /** Defaults to the number of changes applied and rejected; `revisionId` is always set. */
  jobResult?: JobResult;
  /** Why the validator dropped changes, kept on the job for the user to see. */
  jobRejected?: JobRejection[];
  /** Proposals this revision applies: marked accepted, with the revision's id. */
  proposalsResolved?: readonly string[];
  /** Proposals the user rejected in the same review step. */
  proposalsRejected?: readonly string[];
}

/**
 * Stores a new revision and the profile it produced, and settles what it depends on: sessions
 * marked learned (never backwards, deleted ones skipped), the job done with its result, proposals
 * decided. All in one transaction over profile, revisions, conversations, jobs and proposals,
 * so no tab ever sees half of it.
 *
 * Optimistic concurrency: throws `ConflictError('revision-changed')` (code `busy`), writing
 * nothing, when the profile is no longer at `expectedRevision` (another tab or the worker
 * committed first); read the profile again, recompute, retry. Also throws `ConflictError` when
 * the job is no longer this runner's or a proposal was already decided.
 *
 * Evidence pointing to a conversation deleted meanwhile is dropped, so a run that read it before
 * the user deleted it cannot bring the user's words back. Returns the stored revision.
 */
export async function commitRevision(
  db: PersonaDatabase,
  commit: RevisionCommit,
  now: number = Date.now(),
): Promise<ProfileRevision> {
  return withStorageErrors(() =>
    db.transaction(
      'rw',
      [db.profile, db.revisions, db.conversations, db.jobs, db.proposals],
      async () => {
        const current = (await db.profile.get(PROFILE_ROW_ID))?.revision ?? 0;
        if (current !== commit.expectedRevision) {
          throw new ConflictError(
            'revision-changed',
            `The profile changed meanwhile (it is at revision ${current}, not ${commit.expectedRevision}). Read it again and retry.`,
          );
        }
        // Checked before any write, though a throw would roll the writes back anyway: the
        // caller gets the most useful error first.
        const job =
          commit.jobId === undefined
            ? undefined
            : await claimedJob(db, commit.jobId, commit.claimId);

        const gone = await missingConversations(
          db,
          evidenceConversationIds(commit.profile, commit.revision.changes),
        );
        const revision: ProfileRevision = {
          id: commit.revision.id,
          number: current + 1,
          createdAt: commit.revision.createdAt,
          origin: commit.revision.origin,
          changes: appliedChangesWithoutEvidenceFrom(commit.revision.changes, gone),
          summary: commit.revision.summary,
        };
        // `number` is a unique index: should two writers ever get past the check above, the
        // second add fails and its whole transaction is rolled back.
        await db.revisions.add(revision);
        await db.profile.put({
          id: PROFILE_ROW_ID,
          profile: profileWithoutEvidenceFrom(commit.profile, gone),
          revision: revision.number,
        });
        await markConversationsProcessed(db, commit.processed ?? []);
        await resolvePendingProposals(
          db,
          commit.proposalsResolved ?? [],
          'accepted',
          now,
          revision.id,
        );
        await resolvePendingProposals(db, commit.proposalsRejected ?? [], 'rejected', now);
        if (job) {
          const result: JobResult = {
            applied: revision.changes.length,
            rejected: commit.jobRejected?.length ?? 0,
            ...commit.jobResult,
            revisionId: revision.id,
          };
          await finishJob(db, job, result, commit.jobRejected, now);
        }
        return revision;
      },
    ),
  );
}

/** Newest first. Safe to call inside `liveQuery`. */
export function listRevisions(db: PersonaDatabase): Promise<ProfileRevision[]> {
  return db.revisions.orderBy('number').reverse().toArray();
}

export function getRevision(db: PersonaDatabase, id: string): Promise<ProfileRevision | undefined> {
  return db.revisions.get(id);
}
