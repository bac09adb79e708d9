import { BenchProtocol, countUnits, personaUnitKey, sessionUnitKey } from '../core/bench/protocol';
import {
  BENCH_CONDITIONS,
  type BenchCall,
  type BenchProgress,
  type BenchRole,
  type BenchRun,
  type BenchRunStatus,
} from '../core/bench/types';
import { AppError } from '../core/errors';
import { DEFAULT_PROFILE_BUDGET_TOKENS } from '../core/profile/defaults';
import {
  createRun,
  deleteRun,
  forgetCalls,
  getRun,
  recordCall,
  runCalls,
  runPersonaResults,
  runSessions,
  savePersonaResult,
  saveSession,
  updateRun,
  type LabDatabase,
} from '../db/lab';
import type { Engine, EngineKind, LoadedModel, ModelSpec } from '../engine/engine';
import type { LabApi, LabStartRequest } from './contract';
import type { EngineLease } from './engine-lease';
import { LAB_LOCK } from './lock-names';

/**
 * The worker side of the PersonaBench lab (issue #5): loads the models for the run's roles, runs
 * the protocol (`core/bench/protocol.ts`) and stores everything in the lab's own database. It is
 * given no handle on the app's database, so a run cannot touch the user's profile or conversations.
 *
 * Engines: the lab loads its own engine instances through the app's engine loader, one per
 * distinct model (roles that name the same model share it), and keeps them all loaded for the
 * run, so no phase pays a reload. The memory cost is the sum of the distinct models' memory, on top
 * of the chat model if one is loaded; they are unloaded as soon as the run ends, stops or fails.
 *
 * The lab yields to everything else: each model call holds the engine's lease (issue 9), the
 * lowest-ranked role, so a reply, a model load or a profile update asks it to yield; the call in
 * flight is abandoned (it is not recorded) and made again once the engine is back, and the run
 * goes on by itself. `stop()` lets the call in flight finish and be recorded; `preempt()` (an
 * import or erase) abandons it and stops the run, which stays resumable.
 */

export interface LabRunnerDeps {
  /** The lab's database; opened lazily so a worker that never runs a benchmark never opens it. */
  db: () => LabDatabase;
  loadEngine: (kind: EngineKind) => Promise<Engine>;
  /** The app engine's lease: the lab's model calls take turns with the chat and learning. */
  lease: EngineLease;
  tryLock: <T>(name: string, work: () => Promise<T>) => Promise<T | null>;
  /** A monotonic clock for timing, in milliseconds. */
  now: () => number;
  /** Wall-clock time, in milliseconds since the epoch. */
  clock: () => number;
  appVersion: string;
  newId?: () => string;
}

/** Thrown inside a run to stop it; the run is stored as `stopped`. */
class StopRequested extends AppError {
  constructor() {
    super('aborted', 'The benchmark run was stopped.');
  }
}

interface ActiveRun {
  controller: AbortController;
  stopRequested: boolean;
  finished: Promise<unknown>;
}

/** Typed `unknown`, not `void`: through Comlink the callback returns a promise that may reject. */
type Progress = (progress: BenchProgress) => unknown;

export class LabRunner implements LabApi {
  readonly #deps: LabRunnerDeps;
  #active: ActiveRun | null = null;

  constructor(deps: LabRunnerDeps) {
    this.#deps = deps;
  }

  async start(request: LabStartRequest, onProgress: Progress): Promise<BenchProgress> {
    this.#refuseIfBusy();
    validateRequest(request);
    const { clock, appVersion } = this.#deps;
    const at = clock();
    const run: BenchRun = {
      id: this.#deps.newId?.() ?? crypto.randomUUID(),
      createdAt: at,
      updatedAt: at,
      appVersion,
      datasetName: request.dataset.name,
      dataset: request.dataset,
      roles: {
        assistant: request.roles.assistant.id,
        simulator: request.roles.simulator.id,
        judge: request.roles.judge.id,
      },
      roleSpecs: request.roles,
      settings: request.settings,
      status: 'running',
      done: 0,
      total: countUnits(request.dataset, request.settings),
      elapsedMs: 0,
    };
    await createRun(this.#deps.db(), run);
    return this.#work(run, onProgress);
  }

  async resume(runId: string, onProgress: Progress): Promise<BenchProgress> {
    this.#refuseIfBusy();
    const run = await getRun(this.#deps.db(), runId);
    if (!run) throw new AppError('invalid-request', 'This benchmark run no longer exists.');
    if (run.status === 'done') return progressOf(run, 'done', 'Done');
    return this.#work(run, onProgress);
  }

  /** Stops the run after the model call in flight, which is recorded; the run can be resumed. */
  async stop(): Promise<void> {
    const active = this.#active;
    if (!active) return;
    active.stopRequested = true;
    await active.finished;
  }

  /** Deletes a run and everything recorded for it. */
  async remove(runId: string): Promise<void> {
    await deleteRun(this.#deps.db(), runId);
  }

  /** The user wants the model now: abandon the call in flight and stop; the run stays resumable. */
  async preempt(): Promise<void> {
    const active = this.#active;
    if (!active) return;
    active.stopRequested = true;
    active.controller.abort();
    await active.finished;
  }

  #refuseIfBusy(): void {
    if (this.#active) {
      throw new AppError('busy', 'A benchmark run is already in progress. Stop it first.');
    }
  }

  async #work(run: BenchRun, onProgress: Progress): Promise<BenchProgress> {
    this.#refuseIfBusy();
    const active: ActiveRun = {
      controller: new AbortController(),
      stopRequested: false,
      finished: Promise.resolve(),
    };
    this.#active = active;
    const work = this.#deps.tryLock(LAB_LOCK, () => this.#locked(run, active, onProgress));
    active.finished = work.catch(() => undefined);
    try {
      const progress = await work;
      if (progress === null) {
        // Another tab holds the lab: a run this call just created waits, resumable, for its turn.
        if (run.done === 0 && run.status === 'running') {
          await updateRun(this.#deps.db(), run.id, { status: 'stopped' });
        }
        throw new AppError('busy', 'A benchmark run is in progress in another tab.');
      }
      return progress;
    } finally {
      if (this.#active === active) this.#active = null;
    }
  }

  async #locked(run: BenchRun, active: ActiveRun, onProgress: Progress): Promise<BenchProgress> {
    const { now } = this.#deps;
    const db = this.#deps.db();
    const specs = run.roleSpecs;
    if (!specs) {
      throw new AppError(
        'invalid-request',
        'This run does not record its models; start a new one.',
      );
    }
    const startedAt = now();
    const state = { done: run.done, elapsedBefore: run.elapsedMs, step: 'Starting' };
    const elapsed = (): number => state.elapsedBefore + (now() - startedAt);
    const report = (status: BenchRunStatus): BenchProgress => {
      const progress: BenchProgress = {
        runId: run.id,
        status,
        done: state.done,
        total: run.total,
        step: state.step,
        etaMs: state.done > 0 ? (elapsed() / state.done) * (run.total - state.done) : null,
      };
      // The callback is a Comlink proxy: a page that went away must not fail the run.
      const sent = onProgress(progress);
      if (sent instanceof Promise) void sent.catch(() => undefined);
      return progress;
    };
    const patch = () => ({ done: state.done, elapsedMs: elapsed(), updatedAt: this.#deps.clock() });

    // A failed run being resumed leaves its old reason behind.
    await updateRun(db, run.id, {
      status: 'running',
      error: undefined,
      updatedAt: this.#deps.clock(),
    });
    const loaded = new Map<string, { engine: Engine; model: LoadedModel }>();
    try {
      const roles = await this.#loadRoles(specs, loaded, active, (step) => {
        state.step = step;
        report('running');
      });
      const [recorded, sessions, results] = await Promise.all([
        runCalls(db, run.id),
        runSessions(db, run.id),
        runPersonaResults(db, run.id),
      ]);
      // Units are counted from what is stored, so a crash between a save and the count cannot skew it.
      state.done = sessions.length + results.length;
      const protocol = new BenchProtocol({
        run,
        contextWindows: {
          assistant: roles.assistant.model.contextWindow,
          simulator: roles.simulator.model.contextWindow,
          judge: roles.judge.model.contextWindow,
        },
        recorded,
        generate: async (role, request) => {
          const step = state.step;
          for (;;) {
            if (this.#deps.lease.holder !== null) {
              state.step = 'Paused: the model is busy with something that comes first';
              report('running');
            }
            const lease = await this.#deps.lease
              .acquire('lab', { signal: active.controller.signal })
              .catch(() => {
                throw new StopRequested();
              });
            if (state.step !== step) {
              state.step = step;
              report('running');
            }
            try {
              const started = now();
              const result = await roles[role].engine.generate(
                request,
                () => undefined,
                AbortSignal.any([active.controller.signal, lease.signal]),
              );
              if (active.controller.signal.aborted) throw new StopRequested();
              if (result.finishReason === 'abort') {
                // Asked to yield: the call is made again once the engine is back.
                if (lease.signal.aborted) continue;
                throw new StopRequested();
              }
              return { ...result, ms: Math.round(now() - started) };
            } catch (error) {
              if (error instanceof StopRequested || active.controller.signal.aborted) {
                throw new StopRequested();
              }
              // An engine may fail instead of stopping when asked to yield: the same.
              if (lease.signal.aborted) continue;
              throw error;
            } finally {
              lease.release();
            }
          }
        },
        record: (key: string, call: BenchCall) => recordCall(db, run.id, key, call),
        beforeCall: (step) => {
          if (active.stopRequested) throw new StopRequested();
          state.step = step;
          report('running');
        },
        storedSessions: new Set(
          sessions.map((s) => sessionUnitKey(s.condition, s.personaId, s.sceneIndex)),
        ),
        storedPersonaResults: new Set(results.map((r) => personaUnitKey(r.condition, r.personaId))),
        saveSession: async (session) => {
          state.done++;
          await saveSession(db, session, patch());
          report('running');
        },
        savePersonaResult: async (result) => {
          state.done++;
          await savePersonaResult(db, result, patch());
          report('running');
        },
        chainDone: (prefix) => forgetCalls(db, run.id, prefix),
        profileTokenBudget: DEFAULT_PROFILE_BUDGET_TOKENS,
      });
      await protocol.run();
      state.step = 'Done';
      await updateRun(db, run.id, { status: 'done', ...patch() });
      return report('done');
    } catch (error) {
      if (error instanceof StopRequested || active.stopRequested) {
        state.step = 'Stopped';
        await updateRun(db, run.id, { status: 'stopped', ...patch() });
        return report('stopped');
      }
      const failure = AppError.from(error);
      state.step = `Failed: ${failure.message}`;
      await updateRun(db, run.id, { status: 'failed', error: failure.message, ...patch() });
      report('failed');
      throw failure;
    } finally {
      await Promise.all([...loaded.values()].map(({ engine }) => engine.unload()));
    }
  }

  /** One engine per distinct model, shared by the roles that name it. */
  async #loadRoles(
    specs: Record<BenchRole, ModelSpec>,
    loaded: Map<string, { engine: Engine; model: LoadedModel }>,
    active: ActiveRun,
    onStep: (step: string) => void,
  ): Promise<Record<BenchRole, { engine: Engine; model: LoadedModel }>> {
    const roles = ['assistant', 'simulator', 'judge'] as const;
    const result: Partial<Record<BenchRole, { engine: Engine; model: LoadedModel }>> = {};
    for (const role of roles) {
      const spec = specs[role];
      let entry = loaded.get(spec.id);
      if (!entry) {
        if (active.stopRequested) throw new StopRequested();
        onStep(`Loading ${spec.id} (${role})`);
        const engine = await this.#deps.loadEngine(spec.engine);
        const model = await engine.load(spec, () => undefined, active.controller.signal);
        if (active.controller.signal.aborted) {
          await engine.unload();
          throw new StopRequested();
        }
        entry = { engine, model };
        loaded.set(spec.id, entry);
      }
      result[role] = entry;
    }
    const { assistant, simulator, judge } = result;
    if (!assistant || !simulator || !judge) throw new AppError('unknown', 'A role has no model.');
    return { assistant, simulator, judge };
  }
}

function progressOf(run: BenchRun, status: BenchRunStatus, step: string): BenchProgress {
  return { runId: run.id, status, done: run.done, total: run.total, step, etaMs: 0 };
}

/** The request crosses from the UI: check what the protocol relies on before creating a run. */
function validateRequest(request: LabStartRequest): void {
  const { dataset, settings } = request;
  const fail = (message: string): never => {
    throw new AppError('invalid-request', message);
  };
  if (dataset.personas.length === 0) fail('The dataset has no personas.');
  if (dataset.personas.some((p) => p.scenes.length === 0)) fail('A persona has no scenes.');
  if (new Set(dataset.personas.map((p) => p.id)).size !== dataset.personas.length) {
    fail('Two personas share an id.');
  }
  if (settings.conditions.length === 0) fail('Choose at least one condition.');
  if (settings.conditions.some((c) => !(BENCH_CONDITIONS as readonly string[]).includes(c))) {
    fail('Unknown condition.');
  }
  if (new Set(settings.conditions).size !== settings.conditions.length) {
    fail('A condition is listed twice.');
  }
  if (!Number.isInteger(settings.maxTurns) || settings.maxTurns < 1 || settings.maxTurns > 20) {
    fail('Turns per session must be a whole number from 1 to 20.');
  }
  if (!Number.isInteger(settings.seed)) fail('The seed must be a whole number.');
}
