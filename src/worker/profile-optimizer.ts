import { AppError } from '../core/errors';
import { applyOptimizerOutput } from '../core/optimizer/apply-output';
import { proposeProfileChanges } from '../core/optimizer/propose';
import { findEndedSessions, sessionsForJob } from '../core/optimizer/schedule';
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
  getProfile,
  listConversations,
  listMessagesSince,
  requeueJob,
  type Job,
  type JobRejection,
  type PersonaDatabase,
  type ProcessedConversation,
} from '../db';
import type { Engine, LoadedModel } from '../engine/engine';
import type { LearningOutcome, ScheduleRequest } from './contract';

/** Sessions one run reads at most, so a long absence does not make one huge prompt. */
const MAX_SESSIONS_PER_JOB = 6;
/** Only one tab's worker runs the optimizer at a time; the others leave the queue to it. */
export const OPTIMIZER_LOCK = 'persona-optimizer';

export interface ProfileOptimizerDeps {
  db: PersonaDatabase;
  /** The engine and model in use now, or null when none is loaded. */
  engine: () => { engine: Engine; loaded: LoadedModel } | null;
  /** Runs `work` under an exclusive lock if nobody holds it; resolves null if someone does. */
  tryLock: <T>(name: string, work: () => Promise<T>) => Promise<T | null>;
  now: () => number;
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
});

/**
 * The optimizer of AI PERSONA run for real: reads the sessions a persisted job names, asks the
 * loaded model for schema-constrained changes, validates them, and stores the result as one
 * revision (or as proposals in review mode). A chat request pre-empts it; the job goes back to
 * the queue and nothing is stored half-way.
 */
export class ProfileOptimizer {
  readonly #deps: ProfileOptimizerDeps;
  #running: AbortController | null = null;
  #draining: Promise<unknown> = Promise.resolve();

  constructor(deps: ProfileOptimizerDeps) {
    this.#deps = deps;
  }

  /**
   * Stops a run in progress so a chat reply gets the engine, and waits until the engine is free;
   * the job goes back to the queue.
   */
  async preempt(): Promise<void> {
    this.#running?.abort();
    await this.#draining;
  }

  /** Queues the sessions that have ended (all unprocessed ones when `force`), then runs the queue. */
  async schedule(request: ScheduleRequest): Promise<LearningOutcome> {
    const { db, now } = this.#deps;
    const settings = await getAllSettings(db);
    if (!settings.personalization && !request.force) return emptyOutcome();
    const conversations = await listConversations(db);
    const decision = findEndedSessions(
      conversations.map((c) => ({
        id: c.id,
        temporary: c.temporary,
        lastMessageAt: c.updatedAt,
        learnedUntil: c.learnedUntil,
      })),
      {
        k: request.force ? 1 : settings.optimizeEvery,
        idleMs: settings.sessionIdleMinutes * 60_000,
        now: now(),
        // "Update profile now" learns from the open conversation too.
        activeConversationId: request.force ? null : request.activeConversationId,
      },
    );
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
    const run = this.#deps.tryLock(OPTIMIZER_LOCK, () => this.#drain());
    this.#draining = run.catch(() => undefined);
    return (await run) ?? emptyOutcome();
  }

  async #drain(): Promise<LearningOutcome> {
    const { db, now } = this.#deps;
    const outcome = emptyOutcome();
    for (;;) {
      const current = this.#deps.engine();
      if (!current) break;
      const job = await claimNextJob(db, now());
      if (!job) break;
      outcome.jobs++;
      const controller = new AbortController();
      this.#running = controller;
      try {
        const ran = await this.#run(job, current, controller.signal);
        outcome.applied += ran.applied;
        outcome.proposed += ran.proposed;
        outcome.rejected += ran.rejected;
        if (ran.revisionId) outcome.revisionIds.push(ran.revisionId);
        if (ran.failed) outcome.failed++;
      } catch (error) {
        if (controller.signal.aborted) {
          await requeueJob(db, job.id, job.claimId, now());
          outcome.preempted = true;
          break;
        }
        const appError = error instanceof AppError ? error : new AppError('unknown', String(error));
        await failJob(
          db,
          job.id,
          { code: appError.code, message: appError.message },
          [],
          job.claimId,
          now(),
        );
        outcome.failed++;
      } finally {
        this.#running = null;
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
    const conversations = new Map((await listConversations(db)).map((c) => [c.id, c]));
    const sessions: OptimizerSession[] = [];
    for (const id of conversationIds) {
      const conversation = conversations.get(id);
      if (!conversation || conversation.temporary) continue;
      const messages = await listMessagesSince(db, id, conversation.learnedUntil);
      sessions.push({
        conversationId: id,
        messages: messages
          .filter(
            (m) => m.status !== 'error' && m.status !== 'streaming' && m.content.trim() !== '',
          )
          .map((m) => ({ id: m.id, role: m.role, content: m.content, createdAt: m.createdAt })),
      });
    }
    return sessions;
  }
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

export function learnedSummary(applied: readonly AppliedChange[]): string {
  const things = applied.map((c) =>
    c.after === null ? `forgot ${c.key}` : `${c.key}: ${c.after.value}`,
  );
  return `Learned ${applied.length} ${applied.length === 1 ? 'thing' : 'things'}: ${things.join('; ')}`;
}
