import 'fake-indexeddb/auto';
import type * as Comlink from 'comlink';
import { describe, expect, it } from 'vitest';
import type {
  BenchProgress,
  BenchRun,
  BenchSession,
  BenchSettings,
} from '../../src/core/bench/types';
import {
  createRun,
  deleteRun,
  openLabDatabase,
  saveSession,
  type LabDatabase,
} from '../../src/db/lab';
import type { ModelSpec } from '../../src/engine/engine';
import { labReads } from '../../src/state/database-reads';
import type { KnownModels } from '../../src/state/lab-models';
import { LabState } from '../../src/state/lab.svelte';
import type { LabApi, LabStartRequest } from '../../src/worker/contract';
import { makeWllamaSpec } from './factories';

const PERSONA = JSON.stringify({
  Name: 'Mara',
  Demographics: { Age: 34, Location: 'Berlin' },
  Preference: { Preferred_Format: 'short answers' },
});

const scene = (n: number) => ({
  scene_type: 'Travel planning',
  scene_desc: `Scene ${n}`,
  scene_context: 'Mara plans a weekend away.',
  expected_response: 'Suggests trains from Berlin.',
  personalized_query: 'Trains from Berlin to Prague for two vegetarians?',
  neutralized_query: `<neutralized_query>How do I get to Prague? (${n})</neutralized_query>`,
});

/** A file as `<input webkitdirectory>` gives it: its path below the picked folder's parent. */
function pickedFile(relativePath: string, text: string): File {
  const file = new File([text], relativePath.split('/').pop() ?? relativePath);
  Object.defineProperty(file, 'webkitRelativePath', { value: relativePath });
  return file;
}

const folder = (scenes: number) => [
  pickedFile('my-bench/mara/persona.json', PERSONA),
  pickedFile(
    'my-bench/mara/scenes.json',
    JSON.stringify(Array.from({ length: scenes }, (_, i) => scene(i))),
  ),
  pickedFile('my-bench/README.md', '# not part of the data'),
];

function makeRun(id: string, settings: BenchSettings, createdAt: number): BenchRun {
  return {
    id,
    createdAt,
    updatedAt: createdAt,
    appVersion: '0.1.0',
    datasetName: 'my-bench',
    dataset: { name: 'my-bench', personas: [] },
    roles: { assistant: 'tiny.gguf', simulator: 'tiny.gguf', judge: 'tiny.gguf' },
    settings,
    status: 'running',
    done: 0,
    total: 2,
    elapsedMs: 0,
  };
}

function makeSession(runId: string, sceneIndex: number, userTurns: number): BenchSession {
  return {
    runId,
    condition: 'none',
    personaId: 'mara',
    sceneIndex,
    turns: [],
    satisfied: true,
    userTurns,
    scores: { ok: true, value: { helpfulness: 6, personalization: 4, reason: 'fine' } },
    calls: [],
  };
}

/**
 * A worker-side lab that records what it was asked and, like the real runner, writes the run and
 * its sessions to the lab database while reporting progress.
 */
function fakeLab(db: LabDatabase) {
  const started: LabStartRequest[] = [];
  let stops = 0;
  const api = {
    start: async (request: LabStartRequest, onProgress: (p: BenchProgress) => void) => {
      started.push(request);
      const runId = `run-${started.length}`;
      await createRun(db, makeRun(runId, request.settings, started.length));
      const step = (done: number): BenchProgress => ({
        runId,
        status: done === 2 ? 'done' : 'running',
        done,
        total: 2,
        step: `none · Mara · scene ${done + 1}/2`,
        etaMs: done === 0 ? null : 1000,
      });
      onProgress(step(0));
      await saveSession(db, makeSession(runId, 0, 2), { done: 1 });
      onProgress(step(1));
      await saveSession(db, makeSession(runId, 1, 4), { done: 2, status: 'done' });
      return step(2);
    },
    resume: () => Promise.reject(new Error('nothing to resume')),
    stop: () => {
      stops++;
      return Promise.resolve();
    },
    // What the worker does (LabRunner.remove): the same database function.
    remove: (runId: string) => deleteRun(db, runId),
  };
  return {
    api: api as unknown as Comlink.Remote<LabApi>,
    started,
    stops: () => stops,
  };
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
};

let dbCount = 0;

function setUp(loaded: ModelSpec | null = makeWllamaSpec({ id: 'tiny.gguf' })) {
  const db = openLabDatabase(`lab-state-test-${++dbCount}`);
  const lab = fakeLab(db);
  const known: KnownModels = {
    custom: [{ label: 'Judge model', spec: makeWllamaSpec({ id: 'judge.gguf' }) }],
    cached: [],
    loaded,
  };
  const state = new LabState(
    labReads(db),
    () => lab.api,
    () => known,
  );
  return { db, lab, state };
}

describe('LabState', () => {
  it('loads a picked folder through the loader, named for the folder, ignoring non-JSON files', async () => {
    const { state } = setUp();
    await state.loadFolder(folder(3));
    expect(state.datasetError).toBeNull();
    expect(state.dataset?.dataset.name).toBe('my-bench');
    expect(state.dataset?.source).toContain('my-bench');
    const personas = state.dataset?.dataset.personas ?? [];
    expect(personas.map((p) => p.id)).toEqual(['mara']);
    expect(personas[0]?.scenes).toHaveLength(3);
    // The released files' tag-wrapped queries arrive unwrapped.
    expect(personas[0]?.scenes[0]?.neutralizedQuery).toBe('How do I get to Prague? (0)');
  });

  it('shows why a broken folder cannot be used, and cannot start', async () => {
    const { state } = setUp();
    await state.loadFolder([pickedFile('broken/mara/persona.json', '{ not json')]);
    expect(state.dataset).toBeNull();
    expect(state.datasetError).toMatch(/persona\.json/);
    expect(state.startBlocker).toBe('Load a dataset first.');
    await state.loadFolder([pickedFile('empty/notes.txt', 'hello')]);
    expect(state.datasetError).toMatch(/No \.json files/);
  });

  it('needs a model for every role: the one in use by default', async () => {
    const { state } = setUp(null);
    await state.loadFolder(folder(2));
    expect(state.startBlocker).toMatch(/Choose a model for the assistant/);
    state.roles.assistant = 'judge.gguf';
    state.roles.simulator = 'judge.gguf';
    state.roles.judge = 'judge.gguf';
    expect(state.startBlocker).toBeNull();
    state.toggleCondition('none', false);
    state.conditions = [];
    expect(state.startBlocker).toBe('Choose at least one condition.');
  });

  it('starts a run with the chosen roles and settings, follows its progress and reads its results', async () => {
    const { state, lab } = setUp();
    await state.loadFolder(folder(2));
    state.roles.judge = 'judge.gguf';
    state.toggleCondition('rag', false);
    state.toggleCondition('learned-k5', false);
    state.toggleCondition('rag', true);
    state.maxTurns = 2;
    state.sceneLimit = 2;
    state.seed = 7;
    await state.start();

    const request = lab.started[0];
    expect(request?.roles.assistant.id).toBe('tiny.gguf');
    expect(request?.roles.simulator.id).toBe('tiny.gguf');
    expect(request?.roles.judge.id).toBe('judge.gguf');
    expect(request?.settings).toEqual({
      // Always in the paper's order, whatever order they were ticked in.
      conditions: ['none', 'learned-k1', 'learned-k3', 'golden', 'rag'],
      maxTurns: 2,
      seed: 7,
      personaLimit: 0,
      sceneLimit: 2,
      stability: false,
    });
    expect(request?.dataset.personas[0]?.scenes).toHaveLength(2);
    expect(state.running).toBe(false);
    expect(state.progress?.status).toBe('done');
    expect(state.selectedRunId).toBe('run-1');
    await until(() => state.results?.sessions.length === 2);
    expect(state.results?.sessions.map((s) => s.userTurns)).toEqual([2, 4]);
    await until(() => state.runs.value.length === 1);
    expect(state.selectedRun?.status).toBe('done');
  });

  it('lists runs newest first and deletes one with its results', async () => {
    const { state } = setUp();
    await state.loadFolder(folder(2));
    await state.start();
    await state.start();
    await until(() => state.runs.value.length === 2);
    expect(state.runs.value.map((r) => r.id)).toEqual(['run-2', 'run-1']);
    state.select('run-1');
    await until(() => state.results?.runId === 'run-1');
    await state.remove('run-1');
    await until(() => state.runs.value.length === 1);
    expect(state.selectedRunId).toBeNull();
    expect(state.results).toBeNull();
  });

  it('reports a run that fails to start, and stops through the worker', async () => {
    const { state, lab } = setUp();
    await state.resume('run-x');
    expect(state.runError).toBe('nothing to resume');
    expect(state.running).toBe(false);
    await state.stop();
    expect(lab.stops()).toBe(1);
  });
});
