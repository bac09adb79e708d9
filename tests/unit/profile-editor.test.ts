import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { getAllSettings, getProfile, listRevisions } from '../../src/db';
import { Assistant } from '../../src/worker/assistant';
import { ScriptedEngine } from '../doubles/scripted-engine';
import { freshDatabase } from './factories';

/** The worker's profile handlers, called in-process as the page calls them through Comlink. */
function setup() {
  const db = freshDatabase();
  const assistant = new Assistant({ db, loadEngine: () => Promise.resolve(new ScriptedEngine()) });
  return { db, profile: assistant.profile, data: assistant.data };
}

const valueOf = async (db: ReturnType<typeof freshDatabase>, section: string, key: string) =>
  (await getProfile(db)).profile.sections.find((s) => s.name === section)?.fields[key]?.value;

describe('profile edits in the worker (issue 9)', () => {
  it('stores each edit as a revision the user can undo, change by change', async () => {
    const { db, profile } = setup();
    expect(
      await profile.edit({
        kind: 'set',
        section: 'Demographics',
        key: 'Location',
        value: 'Lisbon',
      }),
    ).toEqual({ changed: true });
    await profile.edit({ kind: 'set', section: 'Preferences', key: 'Diet', value: 'vegan' });
    expect(await valueOf(db, 'Demographics', 'Location')).toBe('Lisbon');

    const [latest] = await listRevisions(db);
    expect(latest?.summary).toBe('Set Diet');
    await profile.edit({ kind: 'revert', revisionId: latest?.id ?? '', changeIndex: 0 });
    expect(await valueOf(db, 'Preferences', 'Diet')).toBeUndefined();
    expect(await valueOf(db, 'Demographics', 'Location')).toBe('Lisbon');
    expect((await listRevisions(db)).map((r) => r.summary)).toEqual([
      'Reverted Diet from #2',
      'Set Diet',
      'Set Location',
    ]);
  });

  it('says why an edit changed nothing, in words for the user', async () => {
    const { db, profile } = setup();
    await profile.edit({ kind: 'set', section: 'Demographics', key: 'Location', value: 'Lisbon' });
    const before = await listRevisions(db);
    const outcome = await profile.edit({ kind: 'revert', revisionId: 'gone' });
    expect(outcome).toEqual({
      changed: false,
      refused: 'Not changed: that history entry is no longer stored.',
    });
    const bad = await profile.edit({ kind: 'import', text: '{"not": "a profile"}' });
    expect(bad.changed).toBe(false);
    expect(bad.refused).toMatch(/^This file cannot be imported: .+ Nothing was changed\.$/u);
    expect(await listRevisions(db)).toEqual(before);
  });

  it('stores settings all or nothing, and refuses a value out of range', async () => {
    const { db, profile } = setup();
    await profile.updateSettings({ optimizeEvery: 5, learningMode: 'review' });
    await expect(
      profile.updateSettings({ optimizeEvery: 2, sessionIdleMinutes: 0 }),
    ).rejects.toMatchObject({ code: 'invalid-request' });
    const settings = await getAllSettings(db);
    expect(settings).toMatchObject({
      optimizeEvery: 5,
      learningMode: 'review',
      sessionIdleMinutes: 30,
    });
  });

  it('refuses edits while the data is being replaced', async () => {
    const { profile, data } = setup();
    await data.quiesce();
    await expect(
      profile.edit({ kind: 'set', section: 'Demographics', key: 'Location', value: 'Lisbon' }),
    ).rejects.toMatchObject({ code: 'busy' });
  });
});
