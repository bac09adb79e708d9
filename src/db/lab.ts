/**
 * The PersonaBench lab's own IndexedDB database (issue #5). It is separate from the app's
 * `persona` database on purpose: a benchmark run must never read or write the user's profile or
 * conversations, and deleting runs must never risk them.
 *
 * Every model call is stored as soon as it completes, keyed by its position in the protocol, so a
 * stopped or crashed run is resumed by replaying those calls instead of calling the model again.
 * Same rules as `database.ts`: the name and table names never change without a migration, and
 * schema versions are only appended.
 */
import { Dexie, type Table } from 'dexie';
import {
  BENCH_CONDITIONS,
  type BenchCall,
  type BenchCondition,
  type BenchPersonaResult,
  type BenchRun,
  type BenchSession,
} from '../core/bench/types';
import { AppError } from '../core/errors';
import { withStorageErrors } from './storage-errors';

export const LAB_DB_NAME = 'persona-lab';

export const LAB_TABLES = {
  runs: 'runs',
  sessions: 'sessions',
  personaResults: 'personaResults',
  calls: 'calls',
} as const;

/** One recorded model call; `key` names its position (condition, persona, scene, call, attempt). */
export interface StoredCall {
  runId: string;
  key: string;
  call: BenchCall;
}

export const LAB_SCHEMA_VERSIONS: readonly {
  version: number;
  stores: Record<string, string | null>;
}[] = [
  {
    version: 1,
    stores: {
      [LAB_TABLES.runs]: 'id, createdAt',
      [LAB_TABLES.sessions]: '[runId+condition+personaId+sceneIndex], runId',
      [LAB_TABLES.personaResults]: '[runId+condition+personaId], runId',
      [LAB_TABLES.calls]: '[runId+key], runId',
    },
  },
];

export class LabDatabase extends Dexie {
  runs!: Table<BenchRun, string>;
  sessions!: Table<BenchSession, [string, BenchCondition, string, number]>;
  personaResults!: Table<BenchPersonaResult, [string, BenchCondition, string]>;
  calls!: Table<StoredCall, [string, string]>;

  constructor(name: string = LAB_DB_NAME) {
    super(name);
    for (const { version, stores } of LAB_SCHEMA_VERSIONS) this.version(version).stores(stores);
  }
}

/** Opens (lazily, on first use) the lab's database; tests pass a unique name each. */
export function openLabDatabase(name: string = LAB_DB_NAME): LabDatabase {
  return new LabDatabase(name);
}

/** Every run, newest first. */
export async function listRuns(db: LabDatabase): Promise<BenchRun[]> {
  return db.runs.orderBy('createdAt').reverse().toArray();
}

export async function getRun(db: LabDatabase, id: string): Promise<BenchRun | undefined> {
  return db.runs.get(id);
}

const conditionOrder = (condition: BenchCondition): number => BENCH_CONDITIONS.indexOf(condition);

/** Personas in the order of the run's dataset; ids the dataset does not know go last. */
function personaOrder(run: BenchRun | undefined): (id: string) => number {
  const order = new Map(run?.dataset.personas.map((p, i) => [p.id, i]) ?? []);
  return (id) => order.get(id) ?? Number.MAX_SAFE_INTEGER;
}

/** A run's sessions, ordered by condition (as in BENCH_CONDITIONS), persona (dataset order), scene. */
export async function runSessions(db: LabDatabase, runId: string): Promise<BenchSession[]> {
  const [run, sessions] = await Promise.all([
    db.runs.get(runId),
    db.sessions.where('runId').equals(runId).toArray(),
  ]);
  const persona = personaOrder(run);
  return sessions.sort(
    (a, b) =>
      conditionOrder(a.condition) - conditionOrder(b.condition) ||
      persona(a.personaId) - persona(b.personaId) ||
      a.sceneIndex - b.sceneIndex,
  );
}

/** A run's persona results (learned conditions), ordered by condition then persona. */
export async function runPersonaResults(
  db: LabDatabase,
  runId: string,
): Promise<BenchPersonaResult[]> {
  const [run, results] = await Promise.all([
    db.runs.get(runId),
    db.personaResults.where('runId').equals(runId).toArray(),
  ]);
  const persona = personaOrder(run);
  return results.sort(
    (a, b) =>
      conditionOrder(a.condition) - conditionOrder(b.condition) ||
      persona(a.personaId) - persona(b.personaId),
  );
}

/** Deletes a run with everything it recorded, in one transaction. */
export async function deleteRun(db: LabDatabase, runId: string): Promise<void> {
  await withStorageErrors(() =>
    db.transaction('rw', [db.runs, db.sessions, db.personaResults, db.calls], async () => {
      await db.sessions.where('runId').equals(runId).delete();
      await db.personaResults.where('runId').equals(runId).delete();
      await db.calls.where('runId').equals(runId).delete();
      await db.runs.delete(runId);
    }),
  );
}

// Writes used by the lab runner (worker side).

export async function createRun(db: LabDatabase, run: BenchRun): Promise<void> {
  await withStorageErrors(() => db.runs.add(run));
}

export type RunPatch = Partial<
  Pick<BenchRun, 'status' | 'error' | 'done' | 'total' | 'elapsedMs' | 'updatedAt'>
>;

export async function updateRun(db: LabDatabase, runId: string, patch: RunPatch): Promise<void> {
  await withStorageErrors(() => db.runs.update(runId, patch));
}

/** A run deleted while it was working must not leave orphan rows behind: its writes fail instead. */
async function requireRun(db: LabDatabase, runId: string): Promise<void> {
  if ((await db.runs.get(runId)) === undefined) {
    throw new AppError('invalid-request', 'This benchmark run was deleted.');
  }
}

/** Stores one model call the moment it completes. */
export async function recordCall(
  db: LabDatabase,
  runId: string,
  key: string,
  call: BenchCall,
): Promise<void> {
  await withStorageErrors(() =>
    db.transaction('rw', [db.calls, db.runs], async () => {
      await requireRun(db, runId);
      await db.calls.put({ runId, key, call });
    }),
  );
}

/**
 * Forgets the recorded calls under a key prefix (one persona's chain under one condition) once
 * its sessions and result are stored: they hold a copy of every call, and a finished chain is
 * never replayed, so keeping both would only double the run's size.
 */
export async function forgetCalls(db: LabDatabase, runId: string, prefix: string): Promise<void> {
  await withStorageErrors(() =>
    db.calls
      .where('[runId+key]')
      .between([runId, prefix], [runId, `${prefix}\uffff`])
      .delete(),
  );
}

/** Every call a run recorded, by position key: what a resume replays. */
export async function runCalls(db: LabDatabase, runId: string): Promise<Map<string, BenchCall>> {
  const rows = await db.calls.where('runId').equals(runId).toArray();
  return new Map(rows.map((row) => [row.key, row.call]));
}

/** A finished session and the run's progress, together: a crash cannot count it without storing it. */
export async function saveSession(
  db: LabDatabase,
  session: BenchSession,
  patch: RunPatch,
): Promise<void> {
  await withStorageErrors(() =>
    db.transaction('rw', [db.sessions, db.runs], async () => {
      await requireRun(db, session.runId);
      await db.sessions.put(session);
      await db.runs.update(session.runId, patch);
    }),
  );
}

/** A persona's final judgement and the run's progress, together. */
export async function savePersonaResult(
  db: LabDatabase,
  result: BenchPersonaResult,
  patch: RunPatch,
): Promise<void> {
  await withStorageErrors(() =>
    db.transaction('rw', [db.personaResults, db.runs], async () => {
      await requireRun(db, result.runId);
      await db.personaResults.put(result);
      await db.runs.update(result.runId, patch);
    }),
  );
}
