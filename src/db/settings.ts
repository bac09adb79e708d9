/** User settings: one row per key, typed by `Settings`, with defaults for keys never set. */
import { DEFAULT_PROFILE_BUDGET_TOKENS } from '../core/profile/defaults';
import type { ModelSpec } from '../engine/engine';
import type { PersonaDatabase } from './database';
import type { SettingRow } from './records';
import { InvalidRequestError, withStorageErrors } from './storage-errors';

export type LearningMode = 'auto' | 'review';

export interface Settings {
  /** The model to load at start-up; null until the user picks one. */
  selectedModel: ModelSpec | null;
  /** The conversation shown when the app opens; null shows a new chat. */
  activeConversationId: string | null;
  /** Enter sends and Shift+Enter adds a line; when false, Ctrl/Cmd+Enter sends. */
  sendOnEnter: boolean;
  /** k: the optimizer runs once this many sessions have ended unlearned. Integer, 1 to 10. */
  optimizeEvery: number;
  /** A session ends after this many minutes without a message. Integer, 1 to 1440. */
  sessionIdleMinutes: number;
  /** `auto` applies validated changes at once; `review` queues them as proposals. */
  learningMode: LearningMode;
  /** When false, the profile is neither learned nor put in prompts. */
  personalization: boolean;
  /** Most tokens the rendered profile may take in a prompt. Integer, 64 to 4096. */
  profileTokenBudget: number;
}

export type SettingKey = keyof Settings;

export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze({
  selectedModel: null,
  activeConversationId: null,
  sendOnEnter: true,
  optimizeEvery: 3,
  sessionIdleMinutes: 30,
  learningMode: 'auto',
  personalization: true,
  profileTokenBudget: DEFAULT_PROFILE_BUDGET_TOKENS,
});

/** Inclusive bounds of the integer settings, for validation and for the settings form. */
export const SETTING_RANGES = Object.freeze({
  optimizeEvery: Object.freeze({ min: 1, max: 10 }),
  sessionIdleMinutes: Object.freeze({ min: 1, max: 1440 }),
  profileTokenBudget: Object.freeze({ min: 64, max: 4096 }),
});

type RangedKey = keyof typeof SETTING_RANGES;

const isIntegerIn =
  (key: RangedKey) =>
  (value: unknown): value is number =>
    Number.isInteger(value) &&
    (value as number) >= SETTING_RANGES[key].min &&
    (value as number) <= SETTING_RANGES[key].max;

const isModelSpec = (value: unknown): value is ModelSpec => {
  if (typeof value !== 'object' || value === null) return false;
  const { engine, id } = value as { engine?: unknown; id?: unknown };
  return (engine === 'webllm' || engine === 'wllama') && typeof id === 'string';
};

/**
 * Rows can outlive the code that wrote them (an older app version, a hand-edited export), so a
 * stored value of the wrong shape reads as the default instead of breaking the app.
 */
const VALIDATORS: { [K in SettingKey]: (value: unknown) => value is Settings[K] } = {
  selectedModel: (value): value is ModelSpec | null => value === null || isModelSpec(value),
  activeConversationId: (value): value is string | null =>
    value === null || typeof value === 'string',
  sendOnEnter: (value): value is boolean => typeof value === 'boolean',
  optimizeEvery: isIntegerIn('optimizeEvery'),
  sessionIdleMinutes: isIntegerIn('sessionIdleMinutes'),
  learningMode: (value): value is LearningMode => value === 'auto' || value === 'review',
  personalization: (value): value is boolean => typeof value === 'boolean',
  profileTokenBudget: isIntegerIn('profileTokenBudget'),
};

/** Whether `value` may be stored under `key`; the settings form can check before saving. */
export function isValidSetting<K extends SettingKey>(key: K, value: unknown): value is Settings[K] {
  return (VALIDATORS[key] as (value: unknown) => boolean)(value);
}

/** The stored value, or its default. Safe to call inside `liveQuery` and transactions. */
export async function getSetting<K extends SettingKey>(
  db: PersonaDatabase,
  key: K,
): Promise<Settings[K]> {
  return valueOrDefault(key, await db.settings.get(key));
}

/**
 * Stores a setting. Rejects a value its validator refuses (a number out of range, a fraction),
 * because it would read back as the default and the user's choice would silently vanish.
 */
export async function setSetting<K extends SettingKey>(
  db: PersonaDatabase,
  key: K,
  value: Settings[K],
): Promise<void> {
  if (!isValidSetting(key, value)) {
    throw new InvalidRequestError('invalid-setting', invalidSettingMessage(key));
  }
  await withStorageErrors(() => db.settings.put({ key, value }));
}

/**
 * Stores several settings at once, all or none: every value is checked before any is written, and
 * the writes share one transaction.
 */
export async function setSettings(db: PersonaDatabase, change: Partial<Settings>): Promise<void> {
  const rows: SettingRow[] = [];
  for (const key of Object.keys(change) as SettingKey[]) {
    const value = change[key];
    if (value === undefined) continue;
    if (!Object.hasOwn(VALIDATORS, key)) {
      throw new InvalidRequestError('invalid-setting', `There is no setting called ${key}.`);
    }
    if (!isValidSetting(key, value)) {
      throw new InvalidRequestError('invalid-setting', invalidSettingMessage(key));
    }
    rows.push({ key, value });
  }
  if (rows.length === 0) return;
  await withStorageErrors(() => db.settings.bulkPut(rows));
}

/** Every setting, stored values over defaults. Safe to call inside `liveQuery`. */
export async function getAllSettings(db: PersonaDatabase): Promise<Settings> {
  const rows = new Map((await db.settings.toArray()).map((row) => [row.key, row]));
  return {
    selectedModel: valueOrDefault('selectedModel', rows.get('selectedModel')),
    activeConversationId: valueOrDefault('activeConversationId', rows.get('activeConversationId')),
    sendOnEnter: valueOrDefault('sendOnEnter', rows.get('sendOnEnter')),
    optimizeEvery: valueOrDefault('optimizeEvery', rows.get('optimizeEvery')),
    sessionIdleMinutes: valueOrDefault('sessionIdleMinutes', rows.get('sessionIdleMinutes')),
    learningMode: valueOrDefault('learningMode', rows.get('learningMode')),
    personalization: valueOrDefault('personalization', rows.get('personalization')),
    profileTokenBudget: valueOrDefault('profileTokenBudget', rows.get('profileTokenBudget')),
  };
}

function invalidSettingMessage(key: SettingKey): string {
  if (key in SETTING_RANGES) {
    const { min, max } = SETTING_RANGES[key as RangedKey];
    return `The setting "${key}" must be a whole number from ${min} to ${max}.`;
  }
  return `The setting "${key}" cannot take that value.`;
}

function valueOrDefault<K extends SettingKey>(key: K, row: SettingRow | undefined): Settings[K] {
  const isValid = VALIDATORS[key] as (value: unknown) => value is Settings[K];
  return row !== undefined && isValid(row.value) ? row.value : DEFAULT_SETTINGS[key];
}
