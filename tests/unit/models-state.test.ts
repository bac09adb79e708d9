import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/core/errors';
import type { DeviceInfo } from '../../src/core/models/device-info';
import type { LoadedModel, ModelSpec } from '../../src/engine/engine';
import type { AssistantClient, AssistantRemote } from '../../src/state/assistant-client';
import { personaReads } from '../../src/state/database-reads';
import { ModelsState } from '../../src/state/models.svelte';
import { freshDatabase, makeWllamaSpec } from './factories';

const device: DeviceInfo = {
  webgpu: { available: false, reason: 'none here' },
  wasm: { crossOriginIsolated: false, threads: 1, simd: true },
  deviceMemoryGB: 8,
  hardwareConcurrency: 4,
  storage: null,
};

/** An AssistantClient whose worker is a script: each load takes the next outcome. */
function fakeClient(outcomes: (LoadedModel | AppError)[]) {
  const loads: ModelSpec[] = [];
  /** What the engines hold: a model is cached once a load of it succeeded. */
  const cached: ModelSpec[] = [];
  let restarts = 0;
  const api = {
    device: { probe: () => Promise.resolve(device) },
    models: {
      load: (spec: ModelSpec) => {
        loads.push(spec);
        const next = outcomes.shift();
        if (!next) return Promise.reject(new AppError('unknown', 'no script left'));
        if (next instanceof AppError) return Promise.reject(next);
        if (!cached.some((c) => c.id === spec.id)) cached.push(spec);
        return Promise.resolve(next);
      },
      cancelLoad: () => Promise.resolve(),
      unload: () => Promise.resolve(),
      current: () => Promise.resolve(null),
      listCached: () =>
        Promise.resolve(cached.map((c) => ({ engine: c.engine, id: c.id, sizeBytes: 10 }))),
      deleteCached: () => Promise.resolve(),
    },
    chat: {
      reply: () => Promise.reject(new AppError('unknown', 'not used')),
      stop: () => Promise.resolve(),
    },
  } as unknown as AssistantRemote;
  const client = {
    get api() {
      return api;
    },
    restart: () => {
      restarts++;
    },
  } as unknown as AssistantClient;
  return { client, loads, restarts: () => restarts };
}

describe('ModelsState', () => {
  it('reports a download only when the model was not cached before its load', async () => {
    const spec = makeWllamaSpec();
    const loaded = { spec, contextWindow: 512, backend: 'wasm (1 thread)' };
    const { client } = fakeClient([new AppError('network', 'offline'), loaded, loaded]);
    const models = new ModelsState(personaReads(freshDatabase()), client);
    const downloaded: string[] = [];
    models.onDownloaded = (s) => downloaded.push(s.id);
    await models.load(spec);
    expect(downloaded).toEqual([]);
    await models.load(spec);
    expect(downloaded).toEqual([spec.id]);
    // Loaded again from the cache: nothing was downloaded.
    await models.load(spec);
    expect(downloaded).toEqual([spec.id]);
  });

  it('after a GPU device loss, restarts the worker and loads the model again', async () => {
    const spec = makeWllamaSpec();
    const loaded = { spec, contextWindow: 512, backend: 'webgpu' };
    const { client, loads, restarts } = fakeClient([loaded, loaded]);
    const models = new ModelsState(personaReads(freshDatabase()), client);
    await models.load(spec);
    await models.handleEngineError(new AppError('device-lost', 'GPU went away'));
    expect(restarts()).toBe(1);
    expect(loads.map((s) => s.id)).toEqual([spec.id, spec.id]);
    expect(models.loaded?.spec.id).toBe(spec.id);
    expect(models.notice).toMatch(/GPU was reset/);
  });

  it('keeps a failed load with its code for Retry, and a cancelled one without', async () => {
    const spec = makeWllamaSpec();
    const { client, loads } = fakeClient([
      new AppError('network', 'connection dropped'),
      new AppError('aborted', 'cancelled'),
    ]);
    const models = new ModelsState(personaReads(freshDatabase()), client);
    await models.load(spec);
    expect(models.failure?.error.code).toBe('network');
    await models.retry();
    expect(loads).toHaveLength(2);
    expect(models.failure).toBeNull();
    expect(models.loaded).toBeNull();
  });
});
