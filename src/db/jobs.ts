/**
 * The optimizer's job queue, persisted so learning survives a closed tab. Every open tab may run
 * the queue; claims are IndexedDB read-write transactions, which the browser runs one at a time
 * per store, so two tabs can never claim the same job.
 */
import type { PersonaDatabase } from './database';
import { markConversationsProcessed, type ProcessedConversation } from './learned-until';
import type { Job, JobRejection, JobResult, StoredError } from './records';
import { ConflictError, InvalidRequestError, withStorageErrors } from './storage-errors';

/** A running job not heard from for this long belongs to a tab that closed or crashed. */
export const DEFAULT_STALE_JOB_MS = 5 * 60_000;
/** Claims of one job that may end without it finishing before it is given up. */
export const DEFAULT_MAX_JOB_ATTEMPTS = 3;
export const DEFAULT_JOB_LIST_LIMIT = 20;

/**
 * Queues a job learning from the given conversations, leaving out those already in a queued or
 * running job (that job will read their new messages) and those deleted meanwhile. Returns the
 * new job, or undefined when nothing was left to queue.
 */
export async function enqueueOptimizeJob(
  db: PersonaDatabase,
  conversationIds: readonly string[],
  now: number = Date.now(),
): Promise<Job | undefined> {
  return withStorageErrors(() =>
    db.transaction('rw', [db.jobs, db.conversations], async () => {
      const active = await db.jobs.where('status').anyOf('queued', 'running').toArray();
      const taken = new Set(active.flatMap((job) => job.conversationIds));
      const candidates = [...new Set(conversationIds)].filter((id) => !taken.has(id));
      const stored = await db.conversations.bulkGet(candidates);
      const ids = candidates.filter((_, index) => stored[index] !== undefined);
      if (ids.length === 0) return undefined;
      const job: Job = {
        id: crypto.randomUUID(),
        kind: 'optimize',
        status: 'queued',
        conversationIds: ids,
        createdAt: now,
        updatedAt: now,
        attempts: 0,
      };
      await db.jobs.add(job);
      return job;
    }),
  );
}

export interface ClaimOptions {
  /**
   * Default `DEFAULT_STALE_JOB_MS`. Only where Web Locks are missing: with them, whoever gets the
   * optimizer lock knows a job still marked running is an orphan (`0`).
   */
  staleAfterMs?: number;
  /** Default `DEFAULT_MAX_JOB_ATTEMPTS`. */
  maxAttempts?: number;
}

/**
 * Claims the oldest job to run: queued → running, `attempts` + 1, a new `claimId`. A running job
 * whose `updatedAt` is stale is claimed again (its tab died); one that has used up its attempts
 * is failed instead, so a job that crashes its tab every time does not loop forever. Claims
 * nothing while another runner's job is live: every run rewrites the same profile, so two at
 * once would only conflict. Returns the claimed job or undefined.
 */
export async function claimNextJob(
  db: PersonaDatabase,
  now: number = Date.now(),
  {
    staleAfterMs = DEFAULT_STALE_JOB_MS,
    maxAttempts = DEFAULT_MAX_JOB_ATTEMPTS,
  }: ClaimOptions = {},
): Promise<Job | undefined> {
  return withStorageErrors(() =>
    db.transaction('rw', db.jobs, async () => {
      const running = await db.jobs.where('status').equals('running').toArray();
      const stale = running.filter((job) => now - job.updatedAt >= staleAfterMs);
      if (stale.length < running.length) return undefined;
      for (const job of stale.filter((candidate) => candidate.attempts >= maxAttempts)) {
        await db.jobs.put(
          endJob(job, now, {
            status: 'failed',
            error: {
              code: 'unknown',
              message: `Learning stopped ${job.attempts} times before it finished (the tab closed or crashed), so it was given up.`,
            },
          }),
        );
      }
      const queued = await db.jobs.where('status').equals('queued').toArray();
      const [next] = [...queued, ...stale.filter((job) => job.attempts < maxAttempts)].sort(
        (a, b) => a.createdAt - b.createdAt,
      );
      if (!next) return undefined;
      const claimed: Job = {
        ...next,
        status: 'running',
        attempts: next.attempts + 1,
        updatedAt: now,
        claimId: crypto.randomUUID(),
      };
      await db.jobs.put(claimed);
      return claimed;
    }),
  );
}

/**
 * Puts a running job back in the queue, e.g. when a chat request pre-empts the optimizer. The
 * attempt is given back: being pre-empted is not failing. False when the claim is lost.
 */
export async function requeueJob(
  db: PersonaDatabase,
  id: string,
  claimId?: string,
  now: number = Date.now(),
): Promise<boolean> {
  return updateRunning(db, id, claimId, ({ claimId: _claim, ...job }) => ({
    ...job,
    status: 'queued',
    attempts: Math.max(0, job.attempts - 1),
    updatedAt: now,
  }));
}

/**
 * Marks a running job failed, with the error and the changes it dropped (kept for the user to
 * see). False, writing nothing, when the job is not running or the claim was lost.
 */
export async function failJob(
  db: PersonaDatabase,
  id: string,
  error: StoredError,
  rejected?: JobRejection[],
  claimId?: string,
  now: number = Date.now(),
): Promise<boolean> {
  return updateRunning(db, id, claimId, (job) =>
    endJob(job, now, { status: 'failed', error: storedError(error), rejected }),
  );
}

/**
 * Finishes a run that changed nothing in the profile: marks the sessions learned and the job
 * done in one transaction, so a crash between them can neither lose the result nor learn the
 * same messages again. Throws `ConflictError` when the job is no longer this runner's.
 */
export async function completeJobWithoutChanges(
  db: PersonaDatabase,
  jobId: string,
  processed: readonly ProcessedConversation[],
  result: JobResult,
  { rejected, claimId }: { rejected?: JobRejection[]; claimId?: string } = {},
): Promise<Job> {
  return withStorageErrors(() =>
    db.transaction('rw', [db.jobs, db.conversations], async () => {
      const job = await claimedJob(db, jobId, claimId);
      await markConversationsProcessed(db, processed);
      return finishJob(db, job, result, rejected);
    }),
  );
}

/** Whether a job waits to run (queued, or marked running by a tab that may be gone). */
export async function hasPendingJobs(db: PersonaDatabase): Promise<boolean> {
  return (await db.jobs.where('status').anyOf('queued', 'running').count()) > 0;
}

/** Newest first. Safe to call inside `liveQuery`. */
export function listJobs(
  db: PersonaDatabase,
  { limit = DEFAULT_JOB_LIST_LIMIT }: { limit?: number } = {},
): Promise<Job[]> {
  return db.jobs.orderBy('createdAt').reverse().limit(limit).toArray();
}

export function getJob(db: PersonaDatabase, id: string): Promise<Job | undefined> {
  return db.jobs.get(id);
}

/**
 * The running job `id`, checked inside the caller's transaction before it writes the job's
 * results: a job that finished, failed, was requeued, or was re-claimed by another tab (another
 * `claimId`) is no longer this runner's to finish.
 */
export async function claimedJob(
  db: PersonaDatabase,
  id: string,
  claimId: string | undefined,
): Promise<Job> {
  const job = await db.jobs.get(id);
  if (!job) throw new InvalidRequestError('job-not-found', 'This learning job no longer exists.');
  if (job.status !== 'running' || (claimId !== undefined && job.claimId !== claimId)) {
    throw new ConflictError(
      'job-not-running',
      'This learning job was finished, stopped or taken over by another tab meanwhile.',
    );
  }
  return job;
}

/** Marks a job done with its result. Joins the caller's transaction. */
export async function finishJob(
  db: PersonaDatabase,
  job: Job,
  result: JobResult,
  rejected: JobRejection[] | undefined,
  now: number = Date.now(),
): Promise<Job> {
  const done = endJob(job, now, { status: 'done', result: { ...result }, rejected });
  await db.jobs.put(done);
  return done;
}

/**
 * Takes a deleted conversation out of queued jobs, and deletes those left with none. A running
 * job keeps its list: its runner already read the messages, and what it writes back is checked
 * against deleted conversations. Joins the caller's transaction, which must include `jobs`.
 */
export async function removeConversationFromQueuedJobs(
  db: PersonaDatabase,
  conversationId: string,
): Promise<void> {
  const queued = await db.jobs.where('status').equals('queued').toArray();
  for (const job of queued) {
    if (!job.conversationIds.includes(conversationId)) continue;
    const conversationIds = job.conversationIds.filter((id) => id !== conversationId);
    if (conversationIds.length === 0) await db.jobs.delete(job.id);
    else await db.jobs.update(job.id, { conversationIds });
  }
}

function endJob(
  { claimId: _claim, ...job }: Job,
  now: number,
  outcome: Pick<Job, 'status' | 'error' | 'result' | 'rejected'>,
): Job {
  const ended: Job = { ...job, status: outcome.status, updatedAt: now };
  if (outcome.error) ended.error = outcome.error;
  if (outcome.result) ended.result = outcome.result;
  // Only the fields we know: validator output may carry the raw, untrusted model text.
  if (outcome.rejected) {
    ended.rejected = outcome.rejected.map(({ reason, detail }) => ({ reason, detail }));
  }
  return ended;
}

const storedError = ({ code, message }: StoredError): StoredError => ({ code, message });

async function updateRunning(
  db: PersonaDatabase,
  id: string,
  claimId: string | undefined,
  update: (job: Job) => Job,
): Promise<boolean> {
  return withStorageErrors(() =>
    db.transaction('rw', db.jobs, async () => {
      const job = await db.jobs.get(id);
      if (job?.status !== 'running' || (claimId !== undefined && job.claimId !== claimId)) {
        return false;
      }
      await db.jobs.put(update(job));
      return true;
    }),
  );
}
