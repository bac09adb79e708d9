import { countsAsTurn } from '../core/chat/context-window';
import { AppError } from '../core/errors';
import { applyOptimizerOutput } from '../core/optimizer/apply-output';
import { proposeProfileChanges } from '../core/optimizer/propose';
import { findEndedSessions, learnedThrough, sessionsForJob } from '../core/optimizer/schedule';
import type { OptimizerSession } from '../core/optimizer/transcript';
import type { AppliedChange, ProfileChange } from '../core/profile/types';
import {
  ConflictError,
  addProposals,
  claimNextJob,
  commitRevision,
  completeJobWithoutChanges,
  enqueueOptimizeJob,
  failJob,
  getAllSettings,
  hasPendingJobs,
  getProfile,
  getConversations,
  listConversationsActiveAfter,
  listMessagesSince,
  requeueJob,
  type Job,
  type JobRejection,
  type PersonaDatabase,
  type ProcessedConversation,
} from '../db';
import type { Engine, LoadedModel } from '../engine/engine';
import type { LearningOutcome, LearningWait, ScheduleRequest } from './contract';
import type { EngineLease, LeaseRole } from './engine-lease';
import { OPTIMIZER_LOCK } from './lock-names';

/** Sessions one run reads at most, so a long absence does not make one huge prompt. */
const MAX_SESSIONS_PER_JOB = 6;

export interface ProfileOptimizerDeps {
  db: PersonaDatabase;
  /** The engine and model in use now, or null when none is loaded. */
  engine: () => { engine: Engine; loaded: LoadedModel } | null;
  /** The engine's one lease: a job runs only while it holds it, and yields when asked. */
  lease: EngineLease;
  /** Runs `work` under an exclusive lock if nobody holds it; resolves null if someone does. */
  tryLock: <T>(name: string, work: () => Promise<T>) => Promise<T | null>;
  now: () => number;
  /**
   * How long a running job must be silent before another run takes it over. Runs hold the
   * `persona-optimizer` Web Lock, which the browser releases when a tab closes or crashes: whoever
   * gets the lock knows a job still marked running is an orphan and may take it at once (0).
   * Without Web Locks only the job's age can tell.
   */
  orphanedAfterMs?: number;
}

/** What one job's run did. */
interface RunResult {
  applied: number;
  proposed: number;
  rejected: number;
  failed: boolean;
  revisionId?: string;
}

const emptyOutcome = (): LearningOutcome => ({
  jobs: 0,
  applied: 0,
  proposed: 0,
  rejected: 0,
  failed: 0,
  preempted: false,
  revisionIds: [],
  waiting: null,
});

/**
 * The optimizer of AI PERSONA run for real: reads the sessions a persisted job names, asks the
 * loaded model for schema-constrained changes, validates them, and stores the result as one
 * revision (or as proposals in review mode). Each job holds the engine's lease; when a reply or a
 * model load asks for the engine, the job goes back to the queue and nothing is stored half-way.
 */
export class ProfileOptimizer {
  readonly #deps: ProfileOptimizerDeps;
  #paused = false;
  /**
   * Every conversation active up to this time is learned from or temporary, so a check reads only
   * those active after it (issue 11). Forgotten when the data is replaced.
   */
  #learnedThrough = -Infinity;
  /** Every schedule or run still going, so `pause` can wait for its last write. */
  readonly #inFlight = new Set<Promise<unknown>>();

  constructor(deps: ProfileOptimizerDeps) {
    this.#deps = deps;
  }

  /**
   * Refuses new runs until `resume`, resolving once nothing of the optimizer can write any more:
   * an import or erase is about to replace the database (and has asked a running job to yield
   * through the engine's lease).
   */
  async pause(): Promise<void> {
    this.#paused = true;
    // A settled task may have started another (a schedule runs the queue): wait until none is left.
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  resume(): void {
    this.#paused = false;
    this.#learnedThrough = -Infinity;
  }

  #isPaused(): boolean {
    return this.#paused;
  }

  /** Queues the sessions that have ended (all unprocessed ones when `force`), then runs the queue. */
  schedule(request: ScheduleRequest): Promise<LearningOutcome> {
    return this.#track(() => this.#schedule(request));
  }

  #track<T>(work: () => Promise<T>): Promise<T> {
    const running = work();
    this.#inFlight.add(running);
    const forget = () => this.#inFlight.delete(running);
    running.then(forget, forget);
    return running;
  }

  async #schedule(request: ScheduleRequest): Promise<LearningOutcome> {
    if (this.#paused) return emptyOutcome();
    const { db, now } = this.#deps;
    const settings = await getAllSettings(db);
    if (!settings.personalization && !request.force) return emptyOutcome();
    const since = this.#learnedThrough;
    const states = (await listConversationsActiveAfter(db, since)).map((c) => ({
      id: c.id,
      temporary: c.temporary,
      lastMessageAt: c.updatedAt,
      learnedUntil: c.learnedUntil,
    }));
    // Not moved while paused: the data read may be the data being replaced.
    if (!this.#isPaused() && this.#learnedThrough === since) {
      this.#learnedThrough = learnedThrough(states, since);
    }
    const decision = findEndedSessions(states, {
      k: request.force ? 1 : settings.optimizeEvery,
      idleMs: settings.sessionIdleMinutes * 60_000,
      now: now(),
      // "Update profile now" learns from the open conversation too.
      activeConversationId: request.force ? null : request.activeConversationId,
    });
    // Paused while the settings and conversations were read: queue nothing. (A call, because
    // TypeScript keeps the field narrowed to false across the awaits above.)
    if (this.#isPaused()) return emptyOutcome();
    if (decision.shouldOptimize) {
      let pending = decision.ended;
      while (pending.length > 0) {
        const batch = sessionsForJob(pending, MAX_SESSIONS_PER_JOB);
        await enqueueOptimizeJob(db, batch, now());
        pending = pending.slice(batch.length);
      }
    }
    return this.runPending();
  }

  /** Runs queued jobs one by one until the queue is empty, a reply pre-empts, or no model is loaded. */
  async runPending(): Promise<LearningOutcome> {
    if (this.#paused) return emptyOutcome();
    const run = this.#track(() => this.#deps.tryLock(OPTIMIZER_LOCK, () => this.#drain()));
    // Someone holds the lock: an update is running, and it drains the queue after its job.
    return (await run) ?? { ...emptyOutcome(), waiting: 'another-update' };
  }

  async #drain(): Promise<LearningOutcome> {
    const { db, now } = this.#deps;
    const outcome = emptyOutcome();
    for (;;) {
      if (this.#paused || !(await hasPendingJobs(db))) break;
      if (!this.#deps.engine()) {
        outcome.waiting = 'model';
        break;
      }
      // Background work: it takes the engine from the lab, never from a reply or a model load,
      // and never queues behind them (their release runs the queue again).
      const lease = await this.#deps.lease.acquire('learning', { wait: false });
      if (!lease) {
        outcome.waiting = waitingFor(this.#deps.lease.holder);
        break;
      }
      const current = this.#deps.engine();
      if (!current) {
        lease.release();
        outcome.waiting = 'model';
        break;
      }
      const job = await claimNextJob(db, now(), { staleAfterMs: this.#deps.orphanedAfterMs });
      if (!job) {
        lease.release();
        break;
      }
      outcome.jobs++;
      try {
        const ran = await this.#run(job, current, lease.signal);
        outcome.applied += ran.applied;
        outcome.proposed += ran.proposed;
        outcome.rejected += ran.rejected;
        if (ran.revisionId) outcome.revisionIds.push(ran.revisionId);
        if (ran.failed) outcome.failed++;
      } catch (error) {
        // Only the model's answer can fail a job (see #run). Anything else (a pre-emption, a busy
        // or unloaded engine, a lost GPU, a full disk) says nothing about the sessions: the job
        // goes back to the queue and runs when the engine is free again, so no session is lost.
        await requeueJob(db, job.id, job.claimId, now());
        if (lease.signal.aborted) {
          outcome.preempted = true;
        } else {
          console.warn('Persona: a profile update was put back in the queue:', error);
        }
        outcome.waiting = this.#deps.engine() ? 'reply' : 'model';
        break;
      } finally {
        lease.release();
      }
    }
    return outcome;
  }

  async #run(
    job: Job,
    { engine, loaded }: { engine: Engine; loaded: LoadedModel },
    signal: AbortSignal,
  ): Promise<RunResult> {
    const { db, now } = this.#deps;
    const settings = await getAllSettings(db);
    const { profile, revision } = await getProfile(db);
    const sessions = await this.#sessions(job.conversationIds);
    if (sessions.every((s) => s.messages.length === 0)) {
      await completeJobWithoutChanges(
        db,
        job.id,
        [],
        { applied: 0, rejected: 0 },
        { claimId: job.claimId },
      );
      return { applied: 0, proposed: 0, rejected: 0, failed: false };
    }
    // A pre-empting chat request aborts the signal; `#drain` sees it and requeues the job.
    const { prompt, outcome, text } = await proposeProfileChanges(
      {
        profile,
        sessions,
        contextWindow: loaded.contextWindow,
        profileTokenBudget: settings.profileTokenBudget,
        now: now(),
      },
      async (request) => {
        const generated = await engine.generate(request, () => undefined, signal);
        if (signal.aborted) throw new AppError('aborted', 'Pre-empted by a chat request.');
        return generated;
      },
    );
    const processed = prompt.processed.map((p) => ({
      conversationId: p.conversationId,
      learnedUntil: p.until,
    }));
    if (!outcome.ok) {
      await failJob(
        db,
        job.id,
        { code: 'invalid-request', message: `The model's answer was not valid: ${outcome.error}` },
        [],
        job.claimId,
        now(),
      );
      return { applied: 0, proposed: 0, rejected: 0, failed: true };
    }
    const rejected = outcome.rejected.map((r) => ({ reason: r.reason, detail: r.detail }));

    if (outcome.applied.length === 0) return this.#finishWithoutChanges(job, processed, rejected);

    if (settings.learningMode === 'review') {
      const changes = outcome.applied.map(toProposedChange);
      await addProposals(db, {
        jobId: job.id,
        claimId: job.claimId,
        processed,
        changes,
        result: { applied: 0, rejected: rejected.length },
        rejected,
      });
      return { applied: 0, proposed: changes.length, rejected: rejected.length, failed: false };
    }

    // Optimistic: if the user edited the profile while the model was thinking, the same answer
    // is applied once more to the profile as it is now, so their edit wins where the two disagree.
    let base = { profile, revision };
    let result = { profile: outcome.profile, applied: outcome.applied, rejected };
    for (let attempt = 0; ; attempt++) {
      if (result.applied.length === 0) {
        return this.#finishWithoutChanges(job, processed, result.rejected);
      }
      try {
        const stored = await commitRevision(db, {
          expectedRevision: base.revision,
          profile: result.profile,
          revision: {
            id: crypto.randomUUID(),
            createdAt: now(),
            origin: 'optimizer',
            changes: result.applied,
            summary: learnedSummary(result.applied),
          },
          processed,
          jobId: job.id,
          claimId: job.claimId,
          jobRejected: result.rejected,
        });
        return {
          applied: result.applied.length,
          proposed: 0,
          rejected: result.rejected.length,
          failed: false,
          revisionId: stored.id,
        };
      } catch (error) {
        if (!(error instanceof ConflictError) || attempt > 0) throw error;
        base = await getProfile(db);
        const again = applyOptimizerOutput(text, { profile: base.profile, sessions, now: now() });
        result = again.ok
          ? {
              profile: again.profile,
              applied: again.applied,
              rejected: again.rejected.map((r) => ({ reason: r.reason, detail: r.detail })),
            }
          : { ...result, applied: [] };
      }
    }
  }

  async #finishWithoutChanges(
    job: Job,
    processed: ProcessedConversation[],
    rejected: JobRejection[],
  ): Promise<RunResult> {
    await completeJobWithoutChanges(
      this.#deps.db,
      job.id,
      processed,
      { applied: 0, rejected: rejected.length },
      { rejected, claimId: job.claimId },
    );
    return { applied: 0, proposed: 0, rejected: rejected.length, failed: false };
  }

  async #sessions(conversationIds: readonly string[]): Promise<OptimizerSession[]> {
    const { db } = this.#deps;
    const conversations = await getConversations(db, conversationIds);
    const sessions: OptimizerSession[] = [];
    for (const [i, id] of conversationIds.entries()) {
      const conversation = conversations[i];
      if (!conversation || conversation.temporary) continue;
      const messages = await listMessagesSince(db, id, conversation.learnedUntil);
      sessions.push({
        conversationId: id,
        messages: messages
          .filter(countsAsTurn)
          .map((m) => ({ id: m.id, role: m.role, content: m.content, createdAt: m.createdAt })),
      });
    }
    return sessions;
  }
}

/** Why a job could not take the engine, in the words "Update profile now" uses. */
function waitingFor(holder: LeaseRole | null): LearningWait {
  if (holder === 'learning') return 'another-update';
  return holder === 'model' ? 'model' : 'reply';
}

/** What an applied change proposes, so review mode can show it and apply it on acceptance. */
function toProposedChange(change: AppliedChange): ProfileChange {
  return change.after === null
    ? { op: 'remove', section: change.section, key: change.key, evidence: change.evidence }
    : {
        op: 'set',
        section: change.section,
        key: change.key,
        value: change.after.value,
        evidence: change.evidence,
      };
}

function learnedSummary(applied: readonly AppliedChange[]): string {
  const things = applied.map((c) =>
    c.after === null ? `forgot ${c.key}` : `${c.key}: ${c.after.value}`,
  );
  return `Learned ${applied.length} ${applied.length === 1 ? 'thing' : 'things'}: ${things.join('; ')}`;
}
