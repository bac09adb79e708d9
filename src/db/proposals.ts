/** The review queue: changes the optimizer proposed in review mode, for the user to decide. */
import type { ProfileChange } from '../core/profile/types';
import type { PersonaDatabase } from './database';
import {
  changeWithoutEvidenceFrom,
  evidenceConversationIds,
  missingConversations,
} from './evidence';
import { claimedJob, finishJob } from './jobs';
import { markConversationsProcessed, type ProcessedConversation } from './learned-until';
import type { JobRejection, JobResult, Proposal, ProposalStatus } from './records';
import { ConflictError, InvalidRequestError, withStorageErrors } from './storage-errors';

export interface ProposalBatch {
  /** The run that proposed them; becomes each proposal's `revisionGroup`. */
  jobId: string;
  /** The claim the runner holds (see `claimNextJob`). */
  claimId?: string;
  processed: readonly ProcessedConversation[];
  /** Validated changes, in the order the optimizer gave them. */
  changes: readonly ProfileChange[];
  /** `proposals` is set to the number stored. */
  result: JobResult;
  rejected?: JobRejection[];
}

/**
 * Finishes a review-mode run: queues its changes as pending proposals, marks the sessions
 * learned and the job done, in one transaction so the run is recorded whole or not at all.
 * Evidence from a conversation deleted during the run is dropped. Throws `ConflictError` when
 * the job is no longer this runner's.
 */
export async function addProposals(
  db: PersonaDatabase,
  { jobId, claimId, processed, changes, result, rejected }: ProposalBatch,
  now: number = Date.now(),
): Promise<Proposal[]> {
  return withStorageErrors(() =>
    db.transaction('rw', [db.proposals, db.jobs, db.conversations], async () => {
      const job = await claimedJob(db, jobId, claimId);
      const gone = await missingConversations(db, evidenceConversationIds(null, changes));
      const proposals = changes.map((change, index): Proposal => ({
        id: crypto.randomUUID(),
        revisionGroup: jobId,
        change: changeWithoutEvidenceFrom(change, gone),
        // The queue sorts by createdAt; one millisecond apart keeps the optimizer's order.
        createdAt: now + index,
        status: 'pending',
      }));
      await db.proposals.bulkAdd(proposals);
      await markConversationsProcessed(db, processed);
      await finishJob(db, job, { ...result, proposals: proposals.length }, rejected, now);
      return proposals;
    }),
  );
}

/** Pending proposals, oldest first. Safe to call inside `liveQuery`. */
export async function listPendingProposals(db: PersonaDatabase): Promise<Proposal[]> {
  const pending = await db.proposals.where('status').equals('pending').toArray();
  return pending.sort((a, b) => a.createdAt - b.createdAt);
}

export type ProposalDecision = Exclude<ProposalStatus, 'pending'>;

/**
 * Records the user's decision on one proposal without touching the profile. Accepting a change
 * that must be applied goes through `commitRevision({proposalsResolved})` instead, so the change
 * and the decision are stored together; this accepts only what needs no revision (a change the
 * profile already holds). Deciding again the same way is a no-op; the other way, a conflict.
 */
export async function resolveProposal(
  db: PersonaDatabase,
  id: string,
  decision: ProposalDecision,
  now: number = Date.now(),
): Promise<void> {
  await withStorageErrors(() =>
    db.transaction('rw', db.proposals, async () => {
      const proposal = await db.proposals.get(id);
      if (proposal?.status === decision) return;
      await resolvePendingProposals(db, [id], decision, now);
    }),
  );
}

/**
 * Marks proposals decided, after checking all are still pending: a proposal decided in another
 * tab must not be decided again. Joins the caller's transaction, which must include `proposals`.
 */
export async function resolvePendingProposals(
  db: PersonaDatabase,
  ids: readonly string[],
  decision: ProposalDecision,
  now: number,
  revisionId?: string,
): Promise<void> {
  const proposals = await db.proposals.bulkGet([...ids]);
  const decided: Proposal[] = [];
  for (const proposal of proposals) {
    if (!proposal) {
      throw new InvalidRequestError('proposal-not-found', 'This proposal no longer exists.');
    }
    if (proposal.status !== 'pending') {
      throw new ConflictError(
        'proposal-resolved',
        'This proposal was already accepted or rejected, perhaps in another tab.',
      );
    }
    decided.push({
      ...proposal,
      status: decision,
      resolvedAt: now,
      ...(revisionId === undefined ? {} : { revisionId }),
    });
  }
  await db.proposals.bulkPut(decided);
}
