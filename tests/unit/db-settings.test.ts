import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_SETTINGS,
  getAllSettings,
  getSetting,
  InvalidRequestError,
  isValidSetting,
  setSetting,
  type PersonaDatabase,
  type Settings,
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
      optimizeEvery: 3,
      sessionIdleMinutes: 30,
      learningMode: 'auto',
      personalization: true,
      profileTokenBudget: 512,
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

describe('learning settings', () => {
  it('reads back values within range, bounds included', async () => {
    await setSetting(db, 'optimizeEvery', 1);
    await setSetting(db, 'sessionIdleMinutes', 1440);
    await setSetting(db, 'learningMode', 'review');
    await setSetting(db, 'personalization', false);
    await setSetting(db, 'profileTokenBudget', 64);

    expect(await getAllSettings(db)).toEqual({
      ...DEFAULT_SETTINGS,
      optimizeEvery: 1,
      sessionIdleMinutes: 1440,
      learningMode: 'review',
      personalization: false,
      profileTokenBudget: 64,
    });
  });

  const invalid: [keyof Settings, unknown][] = [
    ['optimizeEvery', 0],
    ['optimizeEvery', 11],
    ['optimizeEvery', 2.5],
    ['sessionIdleMinutes', 0],
    ['sessionIdleMinutes', 1441],
    ['sessionIdleMinutes', Number.NaN],
    ['profileTokenBudget', 63],
    ['profileTokenBudget', 4097],
    ['profileTokenBudget', '512'],
    ['learningMode', 'manual'],
    ['personalization', 'yes'],
  ];

  it.each(invalid)('refuses to store %s = %s', async (key, value) => {
    expect(isValidSetting(key, value)).toBe(false);
    await expect(setSetting(db, key, value as never)).rejects.toBeInstanceOf(InvalidRequestError);
    expect(await db.settings.count()).toBe(0);
  });

  it.each(invalid)('reads a stored %s = %s as the default', async (key, value) => {
    await db.settings.put({ key, value });

    expect(await getSetting(db, key)).toEqual(DEFAULT_SETTINGS[key]);
  });

  it('says the range in the error', async () => {
    await expect(setSetting(db, 'optimizeEvery', 12)).rejects.toThrow(/1 to 10/);
  });
});
