import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_SETTINGS,
  getAllSettings,
  getSetting,
  setSetting,
  type PersonaDatabase,
} from '../../src/db';
import { freshDatabase, makeWebLLMSpec, makeWllamaSpec } from './factories';

let db: PersonaDatabase;

beforeEach(() => {
  db = freshDatabase();
});

afterEach(async () => {
  await db.delete();
});

describe('settings', () => {
  it('reads defaults before anything is stored', async () => {
    expect(DEFAULT_SETTINGS).toEqual({
      selectedModel: null,
      activeConversationId: null,
      sendOnEnter: true,
    });
    expect(await getAllSettings(db)).toEqual(DEFAULT_SETTINGS);
    expect(await getSetting(db, 'sendOnEnter')).toBe(true);
    expect(await getSetting(db, 'selectedModel')).toBeNull();
  });

  it('reads back what was stored, key by key', async () => {
    const spec = makeWebLLMSpec();

    await setSetting(db, 'selectedModel', spec);
    await setSetting(db, 'activeConversationId', 'c-1');
    await setSetting(db, 'sendOnEnter', false);

    expect(await getSetting(db, 'selectedModel')).toEqual(spec);
    expect(await getSetting(db, 'activeConversationId')).toBe('c-1');
    expect(await getSetting(db, 'sendOnEnter')).toBe(false);
  });

  it('merges stored values over the defaults', async () => {
    const spec = makeWllamaSpec();
    await setSetting(db, 'selectedModel', spec);

    expect(await getAllSettings(db)).toEqual({ ...DEFAULT_SETTINGS, selectedModel: spec });
  });

  it('overwrites a value, and stores null', async () => {
    await setSetting(db, 'activeConversationId', 'c-1');
    await setSetting(db, 'activeConversationId', null);

    expect(await getSetting(db, 'activeConversationId')).toBeNull();
    expect(await db.settings.count()).toBe(1);
  });

  it('does not let callers change the defaults', () => {
    expect(Object.isFrozen(DEFAULT_SETTINGS)).toBe(true);
  });

  it('reads a stored value of the wrong shape as the default', async () => {
    await db.settings.bulkPut([
      { key: 'sendOnEnter', value: 'yes' },
      { key: 'selectedModel', value: { engine: 'other', id: 'x' } },
      { key: 'activeConversationId', value: 42 },
    ]);

    expect(await getSetting(db, 'sendOnEnter')).toBe(true);
    expect(await getSetting(db, 'selectedModel')).toBeNull();
    expect(await getAllSettings(db)).toEqual(DEFAULT_SETTINGS);
  });

  it('ignores rows for keys it does not know', async () => {
    await db.settings.put({ key: 'retiredSetting', value: 'old' });

    expect(await getAllSettings(db)).toEqual(DEFAULT_SETTINGS);
  });
});
