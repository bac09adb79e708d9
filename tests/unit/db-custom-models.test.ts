import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  addCustomModel,
  getSetting,
  listCustomModels,
  removeCustomModel,
  setSetting,
  type PersonaDatabase,
} from '../../src/db';
import { freshDatabase, makeWebLLMSpec, makeWllamaSpec } from './factories';

let db: PersonaDatabase;

beforeEach(() => {
  db = freshDatabase();
});

afterEach(async () => {
  vi.useRealTimers();
  await db.delete();
});

describe('custom models', () => {
  it('adds models and lists them in the order they were added', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const first = makeWllamaSpec();
    const second = makeWebLLMSpec();
    vi.setSystemTime(2_000);
    await addCustomModel(db, { id: second.id, label: 'Second', spec: second });
    vi.setSystemTime(1_000);
    await addCustomModel(db, { id: first.id, label: ' First  model ', spec: first });

    expect(await listCustomModels(db)).toEqual([
      { id: first.id, label: 'First model', spec: first, addedAt: 1_000 },
      { id: second.id, label: 'Second', spec: second, addedAt: 2_000 },
    ]);
  });

  it('rejects an id that was already added and keeps the first', async () => {
    const spec = makeWllamaSpec();
    const original = await addCustomModel(db, { id: spec.id, label: 'Original', spec });

    await expect(
      addCustomModel(db, { id: spec.id, label: 'Copy', spec: { ...spec, url: 'https://x/y' } }),
    ).rejects.toMatchObject({ name: 'InvalidRequestError', reason: 'duplicate-model' });
    expect(await listCustomModels(db)).toEqual([original]);
  });

  it('rejects an empty label', async () => {
    const spec = makeWllamaSpec();

    await expect(addCustomModel(db, { id: spec.id, label: '  ', spec })).rejects.toMatchObject({
      reason: 'invalid-label',
    });
    expect(await listCustomModels(db)).toEqual([]);
  });

  it('removes a model', async () => {
    const kept = makeWllamaSpec();
    const removed = makeWllamaSpec();
    await addCustomModel(db, { id: kept.id, label: 'Kept', spec: kept });
    await addCustomModel(db, { id: removed.id, label: 'Removed', spec: removed });

    await removeCustomModel(db, removed.id);

    expect((await listCustomModels(db)).map((m) => m.id)).toEqual([kept.id]);
  });

  it('unselects the model it removes', async () => {
    const spec = makeWebLLMSpec();
    await addCustomModel(db, { id: spec.id, label: 'Mine', spec });
    await setSetting(db, 'selectedModel', spec);

    await removeCustomModel(db, spec.id);

    expect(await getSetting(db, 'selectedModel')).toBeNull();
  });

  it('keeps the selection when another model is removed', async () => {
    const selected = makeWebLLMSpec();
    const other = makeWllamaSpec();
    await addCustomModel(db, { id: other.id, label: 'Other', spec: other });
    await setSetting(db, 'selectedModel', selected);

    await removeCustomModel(db, other.id);

    expect(await getSetting(db, 'selectedModel')).toEqual(selected);
  });
});
