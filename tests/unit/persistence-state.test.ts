import { describe, expect, it } from 'vitest';
import {
  PERSISTENCE_ASKED_KEY,
  PersistenceState,
  type PersistentStorageLike,
} from '../../src/state/persistence.svelte';

/** A browser that answers persist() with `grant`, and remembers a grant. */
function browser(grant: boolean) {
  let persisted = false;
  let requests = 0;
  const storage: PersistentStorageLike = {
    persisted: () => Promise.resolve(persisted),
    persist: () => {
      requests++;
      if (grant) persisted = true;
      return Promise.resolve(persisted);
    },
  };
  const memory = new Map<string, string>();
  const localStorageLike = {
    getItem: (key: string) => memory.get(key) ?? null,
    setItem: (key: string, value: string) => void memory.set(key, value),
  };
  return { storage, memory, localStorageLike, requests: () => requests };
}

describe('PersistenceState', () => {
  it('asks after the first download and shows the grant', async () => {
    const b = browser(true);
    const state = new PersistenceState(b.storage, b.localStorageLike);
    expect(await state.refresh()).toBe('not-persisted');
    await state.afterDownload();
    expect(b.requests()).toBe(1);
    expect(state.lastAnswer).toBe('granted');
    expect(state.status).toBe('persisted');
  });

  it('asks by itself only once per browser, but the button asks again', async () => {
    const b = browser(false);
    const state = new PersistenceState(b.storage, b.localStorageLike);
    await state.afterDownload();
    expect(state.lastAnswer).toBe('denied');
    expect(state.status).toBe('not-persisted');
    expect(b.memory.has(PERSISTENCE_ASKED_KEY)).toBe(true);

    // Another download, even after a reload (a new state over the same memory), does not ask;
    // the reloaded page still knows the answer.
    await state.afterDownload();
    const reloaded = new PersistenceState(b.storage, b.localStorageLike);
    await reloaded.afterDownload();
    expect(b.requests()).toBe(1);
    expect(reloaded.lastAnswer).toBe('denied');

    await state.ask();
    expect(b.requests()).toBe(2);
    expect(state.lastAnswer).toBe('denied');
  });

  it('does not ask when storage is already persistent', async () => {
    const b = browser(true);
    await b.storage.persist?.();
    const state = new PersistenceState(b.storage, b.localStorageLike);
    await state.afterDownload();
    expect(b.requests()).toBe(1);
    expect(state.status).toBe('persisted');
    expect(state.lastAnswer).toBeNull();
  });

  it('reports a browser without the API as unsupported and never asks it', async () => {
    const b = browser(true);
    const state = new PersistenceState({}, b.localStorageLike);
    await state.afterDownload();
    await state.ask();
    expect(state.status).toBe('unsupported');
    expect(state.lastAnswer).toBeNull();
    expect(b.memory.size).toBe(0);
  });
});
