/**
 * "Your data is yours": everything Persona stores, out to one JSON file and back.
 *
 * - `exportBackupParts` reads every table in one read transaction, so the file is a consistent
 *   snapshot even while the worker is writing (a reply streaming, the optimizer committing).
 * - `parseBackup` treats the file as hostile: size and depth are bounded before `JSON.parse`, and
 *   every row is rebuilt field by field from known properties only, so no untrusted key (such as
 *   `__proto__`) is ever assigned onto an object and nothing unknown reaches IndexedDB.
 * - `importEverything` replaces all data in one read-write transaction over every table: a
 *   failure part way (quota, a constraint) aborts it and the old data stays as it was.
 *
 * Optimizer jobs are left out of the file: they are running state owned by one tab's worker (a
 * claim, a heartbeat), meaningless on another device. Conversations keep `learnedUntil`, so after
 * an import only messages that were never learned from are learned again. An import clears the
 * jobs table too, so no stale claim survives.
 *
 * The search index is left out too: it is derived from the messages and titles. An import clears
 * it with everything else (`searchProgress` included), and the worker indexes the imported rows in
 * the background (`backfillSearchIndex`), so the import's one transaction stays as short as the
 * rows it writes.
 *
 * The user's allowed hosts live in localStorage (the start-up script reads them synchronously),
 * which this module cannot reach: the worker uses it too. The caller passes them in on export
 * and restores `backup.allowedHosts` itself after a successful import.
 */
import { jsonDepth, MAX_IMPORT_DEPTH } from '../core/profile/import-export';
import { MAX_QUOTE_LENGTH } from '../core/profile/defaults';
import { isPlainObject, ownValue, validateField, validateProfile } from '../core/profile/validate';
import type {
  AppliedChange,
  Evidence,
  ProfileChange,
  ProfileField,
  RevisionOrigin,
} from '../core/profile/types';
import { ORIGIN_PATTERN } from '../core/security/csp';
import { isIsoDateTime, isTimestamp, TIMESTAMP_RULE } from '../core/timestamp';
import type { ModelSpec } from '../engine/engine';
import { MAX_LABEL_LENGTH } from './custom-models';
import { MAX_TITLE_LENGTH, normalizeTitle } from './conversations';
import { asSentence } from '../core/format';
import { SCHEMA_VERSION, type PersonaDatabase } from './database';
import {
  PROFILE_ROW_ID,
  type Conversation,
  type CustomModel,
  type Message,
  type MessageRole,
  type MessageStatus,
  type ProfileRevision,
  type ProfileRow,
  type Proposal,
  type ProposalStatus,
  type ReplyStats,
  type SettingRow,
  type StoredError,
} from './records';
import { DEFAULT_SETTINGS, isValidSetting, type SettingKey } from './settings';
import { withStorageErrors } from './storage-errors';

export const BACKUP_FORMAT = 'persona-backup';
export const BACKUP_VERSION = 1;
/**
 * The file is read as one string, and JavaScript engines refuse strings past about 512 million
 * characters; a backup of 100,000 messages is about 89 million (issue 11: the old limit of 50
 * million refused people's own backups). Hostile files are held back by the per-row and per-field
 * bounds below, not by their total size.
 */
export const MAX_BACKUP_CHARS = 400_000_000;
export const MAX_BACKUP_ID_LENGTH = 128;
/** A message's text; a model reply is bounded by its context window, far below this. */
export const MAX_MESSAGE_CHARS = 1_000_000;
/** Any other free text: error messages, summaries, model ids. */
const MAX_SHORT_TEXT = 10_000;
const MAX_URL_LENGTH = 2048;

export interface Backup {
  format: typeof BACKUP_FORMAT;
  version: typeof BACKUP_VERSION;
  /** ISO 8601. */
  exportedAt: string;
  /** The IndexedDB schema the rows were read with, for a future importer that must convert. */
  schemaVersion: number;
  conversations: Conversation[];
  messages: Message[];
  /** The single profile row, or null when nothing was ever learned or set. */
  profile: ProfileRow | null;
  revisions: ProfileRevision[];
  proposals: Proposal[];
  settings: SettingRow[];
  customModels: CustomModel[];
  /** Origins the user allowed for their own model servers (kept in localStorage). */
  allowedHosts: string[];
}

export type BackupParse = { ok: true; backup: Backup } | { ok: false; error: string };

/**
 * The backup file (a `Backup` as JSON) as parts, one per row, without ever building it as one
 * string (an 89 MB history made a 6-second main-thread stall, issue 11). Tables
 * are read in one transaction, the messages row by row, so a backup is one moment's data.
 */
/** What a file over `maxChars` is told. */
export function tooLarge(maxChars = MAX_BACKUP_CHARS): string {
  return `The file is too large (more than ${(maxChars / 1_000_000).toLocaleString('en')} million characters).`;
}

export async function exportBackupParts(
  db: PersonaDatabase,
  now: number,
  allowedHosts: readonly string[] = [],
): Promise<string[]> {
  return db.transaction('r', db.tables, async () => {
    const parts: string[] = [];
    const head = {
      format: BACKUP_FORMAT,
      version: BACKUP_VERSION,
      exportedAt: new Date(now).toISOString(),
      schemaVersion: SCHEMA_VERSION,
    };
    parts.push(JSON.stringify(head).slice(0, -1));
    const array = async (name: string, rows: (each: (row: unknown) => void) => Promise<void>) => {
      parts.push(`,\n${JSON.stringify(name)}:[`);
      let first = true;
      await rows((row) => {
        parts.push(`${first ? '\n' : ',\n'}${JSON.stringify(row)}`);
        first = false;
      });
      parts.push(']');
    };
    await array('conversations', (each) => db.conversations.each(each));
    await array('messages', (each) => db.messages.each(each));
    const profile = await db.profile.get(PROFILE_ROW_ID);
    parts.push(`,\n"profile":${JSON.stringify(profile ?? null)}`);
    await array('revisions', (each) => db.revisions.orderBy('number').each(each));
    await array('proposals', (each) => db.proposals.each(each));
    await array('settings', (each) => db.settings.each(each));
    await array('customModels', (each) => db.customModels.each(each));
    parts.push(`,\n"allowedHosts":${JSON.stringify(allowedHosts)}\n}\n`);
    return parts;
  });
}

/**
 * Replaces everything stored with the backup's rows, all or nothing. The caller reloads the page
 * afterwards: every view and the worker hold state read from the old data.
 */
export async function importEverything(db: PersonaDatabase, backup: Backup): Promise<void> {
  await withStorageErrors(() =>
    db.transaction('rw', db.tables, async () => {
      await Promise.all(db.tables.map((table) => table.clear()));
      await db.conversations.bulkAdd(backup.conversations);
      await db.messages.bulkAdd(backup.messages);
      if (backup.profile) await db.profile.add(backup.profile);
      await db.revisions.bulkAdd(backup.revisions);
      await db.proposals.bulkAdd(backup.proposals);
      await db.settings.bulkAdd(backup.settings);
      await db.customModels.bulkAdd(backup.customModels);
    }),
  );
}

/** Clears every table in one transaction: the app starts as on first run. */
export async function wipeDatabase(db: PersonaDatabase): Promise<void> {
  await withStorageErrors(() =>
    db.transaction('rw', db.tables, async () => {
      await Promise.all(db.tables.map((table) => table.clear()));
    }),
  );
}

/** Thrown inside the validators only; `parseBackup` turns it into a result. */
class BackupError extends Error {}

/** Checks the text and every row; returns a fresh backup holding only known properties. */
export function parseBackup(
  text: string,
  /** The ids of the built-in models, which no custom model may take (the caller knows the catalog). */
  builtInModelIds: readonly string[] = [],
  maxChars = MAX_BACKUP_CHARS,
): BackupParse {
  if (text.length > maxChars) return fail(tooLarge(maxChars));
  if (jsonDepth(text) > MAX_IMPORT_DEPTH) return fail('The file is nested too deeply.');
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch {
    return fail('The file is not valid JSON.');
  }
  try {
    return { ok: true, backup: readBackup(root, new Set(builtInModelIds)) };
  } catch (error) {
    if (error instanceof BackupError) {
      return fail(`This backup cannot be imported: ${asSentence(error.message)}`);
    }
    throw error;
  }
}

const fail = (error: string): BackupParse => ({ ok: false, error });

function readBackup(root: unknown, builtInIds: ReadonlySet<string>): Backup {
  if (!isPlainObject(root) || ownValue(root, 'format') !== BACKUP_FORMAT) {
    throw new BackupError('it is not a Persona backup file');
  }
  const version = ownValue(root, 'version');
  if (typeof version === 'number' && version > BACKUP_VERSION) {
    throw new BackupError(
      `it was made by a newer version of Persona (backup version ${String(version)}; this app reads version ${BACKUP_VERSION}). Update Persona and try again`,
    );
  }
  if (version !== BACKUP_VERSION) throw new BackupError('its version is not recognized');
  const object = record(root, 'the file', [
    'format',
    'version',
    'exportedAt',
    'schemaVersion',
    'conversations',
    'messages',
    'profile',
    'revisions',
    'proposals',
    'settings',
    'customModels',
    'allowedHosts',
  ]);
  const exportedAt = string(object, 'exportedAt', 'the file', 64);
  if (!isIsoDateTime(exportedAt)) {
    throw new BackupError('the file.exportedAt must be an ISO 8601 date and time');
  }
  const schemaVersion = integer(object, 'schemaVersion', 'the file', 1);
  if (schemaVersion > SCHEMA_VERSION) {
    throw new BackupError(
      `it was made by a newer version of Persona (database schema ${schemaVersion}; this app has ${SCHEMA_VERSION}). Update Persona and try again`,
    );
  }

  const conversations = list(object, 'conversations', readConversation);
  unique(conversations, (c) => c.id, 'conversation id');
  const conversationIds = new Set(conversations.map((c) => c.id));
  const messages = list(object, 'messages', readMessage);
  unique(messages, (m) => m.id, 'message id');
  messages.forEach((message, i) => {
    if (!conversationIds.has(message.conversationId)) {
      throw new BackupError(`messages[${i}] belongs to a conversation that is not in the file`);
    }
  });

  const profileValue = ownValue(object, 'profile');
  const profile = profileValue === null ? null : readProfileRow(profileValue);
  const revisions = list(object, 'revisions', readRevision);
  unique(revisions, (r) => r.id, 'revision id');
  unique(revisions, (r) => String(r.number), 'revision number');
  // The next commit numbers its revision after the profile's: a mismatch would make every later
  // change collide with a stored revision number, so the profile could never change again.
  const newest = revisions.reduce((max, r) => Math.max(max, r.number), 0);
  if ((profile?.revision ?? 0) !== newest) {
    throw new BackupError(
      `the profile is at revision ${profile?.revision ?? 0} but the newest revision is ${newest}`,
    );
  }
  const proposals = list(object, 'proposals', readProposal);
  unique(proposals, (p) => p.id, 'proposal id');
  const settings = list(object, 'settings', readSetting);
  unique(settings, (s) => s.key, 'setting');
  const customModels = list(object, 'customModels', readCustomModel);
  unique(customModels, (m) => m.id, 'custom model id');
  // The Models and Lab views list custom and built-in models together by spec id: an id that
  // repeats, or a built-in's, would show two rows with one key and break the page.
  customModels.forEach((model, i) => {
    if (model.spec.id !== model.id) {
      throw new BackupError(`customModels[${i}].spec.id must be the model's id`);
    }
    if (builtInIds.has(model.id)) {
      throw new BackupError(
        `customModels[${i}].id ${JSON.stringify(model.id)} is the id of a built-in model`,
      );
    }
  });
  unique(
    customModels,
    (m) => (m.spec.engine === 'wllama' ? m.spec.url : m.spec.modelUrl),
    'custom model address',
  );
  const allowedHosts = list(object, 'allowedHosts', (value, path) => {
    if (typeof value !== 'string' || value.length > MAX_URL_LENGTH || !ORIGIN_PATTERN.test(value)) {
      throw new BackupError(`${path} is not a web origin`);
    }
    return value;
  });
  unique(allowedHosts, (host) => host, 'allowed host');

  return {
    format: BACKUP_FORMAT,
    version: BACKUP_VERSION,
    exportedAt,
    schemaVersion,
    conversations,
    messages,
    profile,
    revisions,
    proposals,
    settings,
    customModels,
    allowedHosts,
  };
}

/** A plain object whose own keys are all known: anything else (`__proto__` too) is refused. */
function record(value: unknown, path: string, keys: readonly string[]): Record<string, unknown> {
  if (!isPlainObject(value)) throw new BackupError(`${path} must be an object`);
  for (const key of Object.keys(value)) {
    if (!keys.includes(key)) {
      throw new BackupError(
        `${path} has an unexpected property ${JSON.stringify(key.slice(0, 40))}`,
      );
    }
  }
  return value;
}

function list<T>(
  object: Record<string, unknown>,
  key: string,
  read: (value: unknown, path: string) => T,
): T[] {
  const value = ownValue(object, key);
  if (!Array.isArray(value)) throw new BackupError(`${key} must be a list`);
  return value.map((item, i) => read(item, `${key}[${i}]`));
}

function unique<T>(items: readonly T[], keyOf: (item: T) => string, what: string): void {
  const seen = new Set<string>();
  for (const item of items) {
    const key = keyOf(item);
    if (seen.has(key)) throw new BackupError(`the ${what} ${JSON.stringify(key)} appears twice`);
    seen.add(key);
  }
}

function string(object: object, key: string, path: string, maxLength: number): string {
  const value = ownValue(object, key);
  if (typeof value !== 'string') throw new BackupError(`${path}.${key} must be text`);
  if (value.length > maxLength) {
    throw new BackupError(`${path}.${key} is longer than ${maxLength} characters`);
  }
  return value;
}

const id = (object: object, key: string, path: string): string => {
  const value = string(object, key, path, MAX_BACKUP_ID_LENGTH);
  if (value === '') throw new BackupError(`${path}.${key} is empty`);
  return value;
};

/**
 * A title the app itself could have stored: one line, single spaces, no control or
 * text-direction characters, not too long. Anything else would be changed on the way in, and a
 * round trip must be exact.
 */
function title(object: object, path: string): string {
  const value = string(object, 'title', path, MAX_TITLE_LENGTH * 2);
  let normalized: string;
  try {
    normalized = normalizeTitle(value);
  } catch (error) {
    throw new BackupError(`${path}.title: ${(error as Error).message.replace(/\.$/u, '')}`);
  }
  if (normalized !== value) {
    throw new BackupError(`${path}.title has leading, trailing or repeated spaces or line breaks`);
  }
  return value;
}

/** A model's name as the Models view stores it: 1 to MAX_LABEL_LENGTH characters on one line. */
function label(object: object, path: string): string {
  const value = string(object, 'label', path, MAX_LABEL_LENGTH * 2);
  const clean = value.replace(/\s+/g, ' ').trim();
  if (clean === '' || clean !== value || Array.from(value).length > MAX_LABEL_LENGTH) {
    throw new BackupError(
      `${path}.label must be a name of 1 to ${MAX_LABEL_LENGTH} characters on one line`,
    );
  }
  return value;
}

/** A time in milliseconds since the epoch that every date function accepts. */
function timestamp(object: object, key: string, path: string): number {
  const value = ownValue(object, key);
  if (!isTimestamp(value)) throw new BackupError(`${path}.${key} ${TIMESTAMP_RULE}`);
  return value;
}

/** A finite amount that cannot be negative, e.g. megabytes. */
function amount(object: object, key: string, path: string): number {
  const value = ownValue(object, key);
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new BackupError(`${path}.${key} must be a number of at least 0`);
  }
  return value;
}

function integer(object: object, key: string, path: string, min: number): number {
  const value = ownValue(object, key);
  if (!Number.isSafeInteger(value) || (value as number) < min) {
    throw new BackupError(`${path}.${key} must be a whole number of at least ${min}`);
  }
  return value as number;
}

function boolean(object: object, key: string, path: string): boolean {
  const value = ownValue(object, key);
  if (typeof value !== 'boolean') throw new BackupError(`${path}.${key} must be true or false`);
  return value;
}

function oneOf<T extends string>(
  object: object,
  key: string,
  path: string,
  allowed: readonly T[],
): T {
  const value = ownValue(object, key);
  if (!allowed.includes(value as T)) {
    throw new BackupError(`${path}.${key} must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}

/** Whether an optional property is present: `undefined` counts as absent, as in IndexedDB. */
const has = (object: object, key: string): boolean => ownValue(object, key) !== undefined;

function readConversation(value: unknown, path: string): Conversation {
  const row = record(value, path, [
    'id',
    'title',
    'createdAt',
    'updatedAt',
    'temporary',
    'learnedUntil',
  ]);
  return {
    id: id(row, 'id', path),
    title: title(row, path),
    createdAt: timestamp(row, 'createdAt', path),
    updatedAt: timestamp(row, 'updatedAt', path),
    temporary: boolean(row, 'temporary', path),
    learnedUntil: timestamp(row, 'learnedUntil', path),
  };
}

const ROLES: readonly MessageRole[] = ['user', 'assistant'];
const STATUSES: readonly MessageStatus[] = [
  'complete',
  'streaming',
  'incomplete',
  'stopped',
  'error',
];

function readMessage(value: unknown, path: string): Message {
  const row = record(value, path, [
    'id',
    'conversationId',
    'role',
    'content',
    'createdAt',
    'status',
    'error',
    'modelId',
    'droppedTurns',
    'cutOff',
    'stats',
  ]);
  const message: Message = {
    id: id(row, 'id', path),
    conversationId: id(row, 'conversationId', path),
    role: oneOf(row, 'role', path, ROLES),
    content: string(row, 'content', path, MAX_MESSAGE_CHARS),
    createdAt: timestamp(row, 'createdAt', path),
    status: oneOf(row, 'status', path, STATUSES),
  };
  if (has(row, 'error')) message.error = readStoredError(ownValue(row, 'error'), `${path}.error`);
  if (has(row, 'modelId')) message.modelId = string(row, 'modelId', path, MAX_SHORT_TEXT);
  if (has(row, 'droppedTurns')) message.droppedTurns = integer(row, 'droppedTurns', path, 0);
  if (has(row, 'cutOff')) message.cutOff = boolean(row, 'cutOff', path);
  if (has(row, 'stats')) message.stats = readStats(ownValue(row, 'stats'), `${path}.stats`);
  return message;
}

function readStoredError(value: unknown, path: string): StoredError {
  const row = record(value, path, ['code', 'message']);
  return {
    code: string(row, 'code', path, MAX_BACKUP_ID_LENGTH),
    message: string(row, 'message', path, MAX_SHORT_TEXT),
  };
}

function readStats(value: unknown, path: string): ReplyStats {
  const row = record(value, path, ['promptTokens', 'completionTokens', 'tokensPerSecond']);
  return {
    promptTokens: integer(row, 'promptTokens', path, 0),
    completionTokens: integer(row, 'completionTokens', path, 0),
    tokensPerSecond: amount(row, 'tokensPerSecond', path),
  };
}

function readProfileRow(value: unknown): ProfileRow {
  const row = record(value, 'profile', ['id', 'profile', 'revision']);
  if (ownValue(row, 'id') !== PROFILE_ROW_ID) throw new BackupError('profile.id is not "current"');
  const validated = validateProfile(ownValue(row, 'profile'));
  if (!validated.ok) throw new BackupError(`the profile is invalid: ${validated.error}`);
  return {
    id: PROFILE_ROW_ID,
    profile: validated.profile,
    revision: integer(row, 'revision', 'profile', 0),
  };
}

function readEvidence(value: unknown, path: string): Evidence | null {
  if (value === null) return null;
  const row = record(value, path, ['conversationId', 'messageId', 'quote']);
  return {
    conversationId: id(row, 'conversationId', path),
    messageId: id(row, 'messageId', path),
    quote: string(row, 'quote', path, MAX_QUOTE_LENGTH),
  };
}

function readFieldOrNull(value: unknown, path: string): ProfileField | null {
  if (value === null) return null;
  const field = validateField(value, path);
  if (!field.ok) throw new BackupError(field.error);
  return field.value;
}

const ORIGINS: readonly RevisionOrigin[] = ['optimizer', 'user', 'review', 'revert', 'import'];
const OPS: readonly ('set' | 'remove')[] = ['set', 'remove'];

function readAppliedChange(value: unknown, path: string): AppliedChange {
  const row = record(value, path, ['op', 'section', 'key', 'before', 'after', 'evidence']);
  return {
    op: oneOf(row, 'op', path, OPS),
    section: string(row, 'section', path, MAX_SHORT_TEXT),
    key: string(row, 'key', path, MAX_SHORT_TEXT),
    before: readFieldOrNull(ownValue(row, 'before'), `${path}.before`),
    after: readFieldOrNull(ownValue(row, 'after'), `${path}.after`),
    evidence: readEvidence(ownValue(row, 'evidence'), `${path}.evidence`),
  };
}

function readRevision(value: unknown, path: string): ProfileRevision {
  const row = record(value, path, ['id', 'number', 'createdAt', 'origin', 'changes', 'summary']);
  return {
    id: id(row, 'id', path),
    number: integer(row, 'number', path, 1),
    createdAt: timestamp(row, 'createdAt', path),
    origin: oneOf(row, 'origin', path, ORIGINS),
    changes: list(row, 'changes', (change, i) => readAppliedChange(change, `${path}.${i}`)),
    summary: string(row, 'summary', path, MAX_SHORT_TEXT),
  };
}

const PROPOSAL_STATUSES: readonly ProposalStatus[] = ['pending', 'accepted', 'rejected'];

function readProfileChange(value: unknown, path: string): ProfileChange {
  const row = record(value, path, ['op', 'section', 'key', 'value', 'evidence']);
  const op = oneOf(row, 'op', path, OPS);
  const section = string(row, 'section', path, MAX_SHORT_TEXT);
  const key = string(row, 'key', path, MAX_SHORT_TEXT);
  const evidence = readEvidence(ownValue(row, 'evidence'), `${path}.evidence`);
  if (op === 'remove') return { op, section, key, evidence };
  return { op, section, key, value: string(row, 'value', path, MAX_SHORT_TEXT), evidence };
}

function readProposal(value: unknown, path: string): Proposal {
  const row = record(value, path, [
    'id',
    'revisionGroup',
    'change',
    'createdAt',
    'status',
    'resolvedAt',
    'revisionId',
  ]);
  const proposal: Proposal = {
    id: id(row, 'id', path),
    revisionGroup: id(row, 'revisionGroup', path),
    change: readProfileChange(ownValue(row, 'change'), `${path}.change`),
    createdAt: timestamp(row, 'createdAt', path),
    status: oneOf(row, 'status', path, PROPOSAL_STATUSES),
  };
  if (has(row, 'resolvedAt')) proposal.resolvedAt = timestamp(row, 'resolvedAt', path);
  if (has(row, 'revisionId')) proposal.revisionId = id(row, 'revisionId', path);
  return proposal;
}

const isSettingKey = (key: string): key is SettingKey => Object.hasOwn(DEFAULT_SETTINGS, key);

function readSetting(value: unknown, path: string): SettingRow {
  const row = record(value, path, ['key', 'value']);
  const key = string(row, 'key', path, MAX_BACKUP_ID_LENGTH);
  if (!isSettingKey(key)) throw new BackupError(`${path} is an unknown setting`);
  const settingValue = ownValue(row, 'value');
  if (!isValidSetting(key, settingValue)) {
    throw new BackupError(`${path}: the setting "${key}" cannot take that value`);
  }
  // A model selection is rebuilt from known properties like every other row.
  if (key === 'selectedModel' && settingValue !== null) {
    return { key, value: readSpec(settingValue, `${path}.value`) };
  }
  return { key, value: settingValue };
}

function url(object: object, key: string, path: string): string {
  const value = string(object, key, path, MAX_URL_LENGTH);
  if (!/^https?:\/\//.test(value)) throw new BackupError(`${path}.${key} must be a web address`);
  return value;
}

function readSpec(value: unknown, path: string): ModelSpec {
  if (!isPlainObject(value)) throw new BackupError(`${path} must be an object`);
  const engine = ownValue(value, 'engine');
  if (engine === 'wllama') {
    const row = record(value, path, ['engine', 'id', 'url', 'contextWindow']);
    const spec: ModelSpec = { engine, id: id(row, 'id', path), url: url(row, 'url', path) };
    if (has(row, 'contextWindow')) spec.contextWindow = integer(row, 'contextWindow', path, 1);
    return spec;
  }
  if (engine === 'webllm') {
    const row = record(value, path, [
      'engine',
      'id',
      'modelUrl',
      'modelLibUrl',
      'requiresShaderF16',
      'contextWindow',
      'vramRequiredMB',
    ]);
    const spec: ModelSpec = {
      engine,
      id: id(row, 'id', path),
      modelUrl: url(row, 'modelUrl', path),
      modelLibUrl: url(row, 'modelLibUrl', path),
      requiresShaderF16: boolean(row, 'requiresShaderF16', path),
    };
    if (has(row, 'contextWindow')) spec.contextWindow = integer(row, 'contextWindow', path, 1);
    if (has(row, 'vramRequiredMB')) spec.vramRequiredMB = amount(row, 'vramRequiredMB', path);
    return spec;
  }
  throw new BackupError(`${path}.engine must be webllm or wllama`);
}

function readCustomModel(value: unknown, path: string): CustomModel {
  const row = record(value, path, ['id', 'label', 'spec', 'addedAt']);
  return {
    id: id(row, 'id', path),
    label: label(row, path),
    spec: readSpec(ownValue(row, 'spec'), `${path}.spec`),
    addedAt: timestamp(row, 'addedAt', path),
  };
}
