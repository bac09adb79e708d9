/** User settings: one row per key, typed by `Settings`, with defaults for keys never set. */
import type { ModelSpec } from '../engine/engine';
import type { PersonaDatabase } from './database';
import type { SettingRow } from './records';
import { withStorageErrors } from './storage-errors';

export interface Settings {
  /** The model to load at start-up; null until the user picks one. */
  selectedModel: ModelSpec | null;
  /** The conversation shown when the app opens; null shows a new chat. */
  activeConversationId: string | null;
  /** Enter sends and Shift+Enter adds a line; when false, Ctrl/Cmd+Enter sends. */
  sendOnEnter: boolean;
}

export type SettingKey = keyof Settings;

export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze({
  selectedModel: null,
  activeConversationId: null,
  sendOnEnter: true,
});

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
};

/** The stored value, or its default. Safe to call inside `liveQuery` and transactions. */
export async function getSetting<K extends SettingKey>(
  db: PersonaDatabase,
  key: K,
): Promise<Settings[K]> {
  return valueOrDefault(key, await db.settings.get(key));
}

export async function setSetting<K extends SettingKey>(
  db: PersonaDatabase,
  key: K,
  value: Settings[K],
): Promise<void> {
  await withStorageErrors(() => db.settings.put({ key, value }));
}

/** Every setting, stored values over defaults. Safe to call inside `liveQuery`. */
export async function getAllSettings(db: PersonaDatabase): Promise<Settings> {
  const rows = new Map((await db.settings.toArray()).map((row) => [row.key, row]));
  return {
    selectedModel: valueOrDefault('selectedModel', rows.get('selectedModel')),
    activeConversationId: valueOrDefault('activeConversationId', rows.get('activeConversationId')),
    sendOnEnter: valueOrDefault('sendOnEnter', rows.get('sendOnEnter')),
  };
}

function valueOrDefault<K extends SettingKey>(key: K, row: SettingRow | undefined): Settings[K] {
  const isValid = VALIDATORS[key] as (value: unknown) => value is Settings[K];
  return row !== undefined && isValid(row.value) ? row.value : DEFAULT_SETTINGS[key];
}
