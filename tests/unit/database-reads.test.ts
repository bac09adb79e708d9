import 'fake-indexeddb/auto';
import { describe, expect, it, vi } from 'vitest';
import type { ProfileRevision } from '../../src/core/profile/types';
import { addCustomModel, DEFAULT_SETTINGS } from '../../src/db';
import { openLabDatabase } from '../../src/db/lab';
import type { AssistantClient } from '../../src/state/assistant-client';
import { labReads, personaReads, type ProfileReads } from '../../src/state/database-reads';
import { ProfileState } from '../../src/state/profile.svelte';
import { freshDatabase, makeProfile, makeRevision, makeWllamaSpec } from './factories';

describe('personaReads', () => {
  it('reads an empty database as the app starts with it', async () => {
    const reads = personaReads(freshDatabase());
    expect((await reads.profile()).revision).toBe(0);
    expect(await reads.settings()).toEqual(DEFAULT_SETTINGS);
    expect(await reads.revisions()).toEqual([]);
    expect(await reads.pendingProposals()).toEqual([]);
    expect(await reads.recentJobs(10)).toEqual([]);
    expect(await reads.customModels()).toEqual([]);
  });

  it('sees what the worker wrote', async () => {
    const db = freshDatabase();
    const spec = makeWllamaSpec({ id: 'mine.gguf' });
    await addCustomModel(db, { id: spec.id, label: 'Mine', spec });
    const models = await personaReads(db).customModels();
    expect(models.map((m) => m.label)).toEqual(['Mine']);
  });

  it('offers no way to write', () => {
    const reads = personaReads(freshDatabase()) as unknown as Record<string, unknown>;
    expect(Object.keys(reads).sort()).toEqual([
      'customModels',
      'pendingProposals',
      'profile',
      'recentJobs',
      'revisions',
      'settings',
    ]);
  });
});

describe('labReads', () => {
  it('reads an empty lab database', async () => {
    const reads = labReads(openLabDatabase(`database-reads-test-${crypto.randomUUID()}`));
    expect(await reads.runs()).toEqual([]);
    expect(await reads.runSessions('none')).toEqual([]);
    expect(await reads.runPersonaResults('none')).toEqual([]);
  });
});

describe('ProfileState on a read interface', () => {
  it('needs no database: it shows what the reads return', async () => {
    const learned: ProfileRevision = { ...makeRevision({ origin: 'optimizer' }), number: 3 };
    const profile = makeProfile();
    const reads: ProfileReads = {
      profile: () => Promise.resolve({ profile, revision: 3 }),
      revisions: () => Promise.resolve([learned]),
      pendingProposals: () => Promise.resolve([]),
      recentJobs: () => Promise.resolve([]),
      settings: () => Promise.resolve({ ...DEFAULT_SETTINGS, optimizeEvery: 7 }),
    };
    const state = new ProfileState(reads, {} as unknown as AssistantClient);
    await state.init();
    await vi.waitFor(() => {
      expect(state.current.value?.revision).toBe(3);
      expect(state.revisions.value).toEqual([learned]);
      expect(state.settings.value.optimizeEvery).toBe(7);
    });
    // What was learned before the app started is not announced again.
    expect(state.unseenLearned).toEqual([]);
  });
});
