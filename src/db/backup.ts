/**
 * "Your data is yours": everything Persona stores, out to one JSON file and back, at any size.
 *
 * - `writeBackup` reads every table in one read transaction, so the file is a consistent snapshot
 *   even while the worker is writing (a reply streaming, the optimizer committing), and hands the
 *   text on in chunks of about a megabyte, one row per line: it is never one string.
 * - The file is read as a stream (`BackupReader` over `JsonRowSplitter`): it is hostile, so every
 *   row is bounded (length, depth) before `JSON.parse` and rebuilt field by field from known
 *   properties only, so no untrusted key (such as `__proto__`) is ever assigned onto an object
 *   and nothing unknown reaches IndexedDB. There is no limit on the whole file (issue 11).
 * - `importBackupFile` replaces all data in one read-write transaction over every table, reading
 *   the file again inside it (`Dexie.waitFor` keeps the transaction open across each read) and
 *   writing rows in batches as they are checked: a failure part way (quota, a constraint, a file
 *   changed since it was checked) aborts it and the old data stays as it was.
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
 * and restores them itself after a successful import.
 */
import { Dexie, type Table } from 'dexie';
import { blobTextChunks } from '../core/backup/blob-text';
import { JsonRowError, JsonRowSplitter, type JsonRowHandler } from '../core/backup/json-rows';
import { AppError } from '../core/errors';
import { MAX_IMPORT_DEPTH } from '../core/profile/import-export';
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
export const MAX_BACKUP_ID_LENGTH = 128;
/** A message's text; a model reply is bounded by its context window, far below this. */
export const MAX_MESSAGE_CHARS = 1_000_000;
/**
 * One row (or the profile) as it stands in the file: a message at its longest, every character
 * escaped as `\uXXXX`, is about 6 million. The file as a whole has no limit (issue 11).
 */
export const MAX_BACKUP_ROW_CHARS = 8_000_000;
/** The app keeps a handful; a file with more is not one it wrote. */
export const MAX_ALLOWED_HOSTS = 1000;
/** Any other free text: error messages, summaries, model ids. */
const MAX_SHORT_TEXT = 10_000;
const MAX_URL_LENGTH = 2048;
/** Text handed on (export) or read (import) at a time: bounds memory, not the file. */
export const BACKUP_CHUNK_CHARS = 1 << 20;

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

/** The tables a backup fills, by the name of their list in the file. */
export type BackupTable =
  | 'conversations'
  | 'messages'
  | 'profile'
  | 'revisions'
  | 'proposals'
  | 'settings'
  | 'customModels';

/** What a checked file holds, without its rows. */
export interface BackupSummary {
  exportedAt: string;
  schemaVersion: number;
  rows: Record<BackupTable, number>;
  allowedHosts: string[];
}

export type BackupFileCheck = { ok: true; summary: BackupSummary } | { ok: false; error: string };

/**
 * Writes the backup file (a `Backup` as JSON) to `write` in chunks, without ever building it as
 * one string (an 89 MB history made a 6-second main-thread stall, issue 11). Tables are read in
 * one transaction, a page at a time by key, so a backup is one moment's data; `write` may be slow
 * (a file on disk) and the transaction is kept open while it works. Each row is on a line of its
 * own.
 *
 * Inside the transaction only Dexie's own promises are awaited, with loops written out rather
 * than in helpers: Dexie follows its transaction across `await` of its promises only, and a
 * read that lost it ran in a transaction of its own while this one committed early (Chromium;
 * fake-indexeddb does not show it).
 */
export async function writeBackup(
  db: PersonaDatabase,
  now: number,
  allowedHosts: readonly string[],
  write: (chunk: string) => void | Promise<void>,
): Promise<void> {
  const out = new ChunkedText(write);
  const head = {
    format: BACKUP_FORMAT,
    version: BACKUP_VERSION,
    exportedAt: new Date(now).toISOString(),
    schemaVersion: SCHEMA_VERSION,
  };
  const lists: [string, Table, string][] = [
    ['conversations', db.conversations, ':id'],
    ['messages', db.messages, ':id'],
    ['revisions', db.revisions, 'number'],
    ['proposals', db.proposals, ':id'],
    ['settings', db.settings, ':id'],
    ['customModels', db.customModels, ':id'],
  ];
  await db.transaction('r', db.tables, async () => {
    let pending = out.add(JSON.stringify(head).slice(0, -1));
    if (pending) await pending;
    for (const [name, table, index] of lists) {
      if (name === 'revisions') {
        const profile = await db.profile.get(PROFILE_ROW_ID);
        pending = out.add(`,\n"profile":${JSON.stringify(profile ?? null)}`);
        if (pending) await pending;
      }
      pending = out.add(`,\n${JSON.stringify(name)}:[`);
      if (pending) await pending;
      const keyPath = index === ':id' ? (table.schema.primKey.keyPath as string) : index;
      let first = true;
      let rows = (await table.orderBy(index).limit(EXPORT_PAGE_ROWS).toArray()) as Record<
        string,
        unknown
      >[];
      while (rows.length > 0) {
        for (const row of rows) {
          pending = out.add(`${first ? '\n' : ',\n'}${JSON.stringify(row)}`);
          first = false;
          if (pending) await pending;
        }
        const last = rows[rows.length - 1];
        if (rows.length < EXPORT_PAGE_ROWS || !last) break;
        rows = (await table
          .where(index)
          .above(last[keyPath])
          .limit(EXPORT_PAGE_ROWS)
          .toArray()) as Record<string, unknown>[];
      }
      pending = out.add(']');
      if (pending) await pending;
    }
    pending = out.add(`,\n"allowedHosts":${JSON.stringify(allowedHosts)}\n}\n`);
    if (pending) await pending;
    pending = out.flush();
    if (pending) await pending;
  });
}

/** Rows read at a time by the export: never a whole table in memory. */
const EXPORT_PAGE_ROWS = 500;

/** Gathers text into chunks of about `BACKUP_CHUNK_CHARS` and hands each on. */
class ChunkedText {
  readonly #write: (chunk: string) => void | Promise<void>;
  #parts: string[] = [];
  #size = 0;

  constructor(write: (chunk: string) => void | Promise<void>) {
    this.#write = write;
  }

  /** A promise to await (inside the transaction) only when a chunk went to a slow writer. */
  add(text: string): Promise<void> | undefined {
    this.#parts.push(text);
    this.#size += text.length;
    return this.#size >= BACKUP_CHUNK_CHARS ? this.flush() : undefined;
  }

  flush(): Promise<void> | undefined {
    if (this.#parts.length === 0) return undefined;
    const chunk = this.#parts.join('');
    this.#parts = [];
    this.#size = 0;
    const written = this.#write(chunk);
    // Not an IndexedDB request: `waitFor` keeps the transaction open meanwhile.
    return written ? Dexie.waitFor(written) : undefined;
  }
}

/** The backup file as parts of about a megabyte each, for a `Blob` (where no file can be written). */
export async function exportBackupParts(
  db: PersonaDatabase,
  now: number,
  allowedHosts: readonly string[] = [],
): Promise<string[]> {
  const parts: string[] = [];
  await writeBackup(db, now, allowedHosts, (chunk) => {
    parts.push(chunk);
  });
  return parts;
}

/** Clears every table in one transaction: the app starts as on first run. */
export async function wipeDatabase(db: PersonaDatabase): Promise<void> {
  await withStorageErrors(() =>
    db.transaction('rw', db.tables, async () => {
      await Promise.all(db.tables.map((table) => table.clear()));
    }),
  );
}

/** Thrown inside the validators only; the readers turn it into a result or an `AppError`. */
class BackupError extends Error {}

/** The words a refused file is refused with. */
function refusal(error: unknown): string | null {
  if (error instanceof BackupError) {
    return `This backup cannot be imported: ${asSentence(error.message)}`;
  }
  if (error instanceof JsonRowError) {
    if (error.kind === 'too-long') {
      return `This backup cannot be imported: ${asSentence(error.message)}`;
    }
    return error.message;
  }
  return null;
}

const ROW_LIMITS = { maxValueChars: MAX_BACKUP_ROW_CHARS, maxDepth: MAX_IMPORT_DEPTH };

/**
 * Checks a whole backup held as one string and returns its rows (tests and small files; the
 * worker streams files with `checkBackupFile` and `importBackupFile`).
 */
export function parseBackup(
  text: string,
  /** The ids of the built-in models, which no custom model may take (the caller knows the catalog). */
  builtInModelIds: readonly string[] = [],
): BackupParse {
  const tables: Record<BackupTable, unknown[]> = {
    conversations: [],
    messages: [],
    profile: [],
    revisions: [],
    proposals: [],
    settings: [],
    customModels: [],
  };
  const reader = new BackupReader(new Set(builtInModelIds));
  try {
    const splitter = new JsonRowSplitter(reader, ROW_LIMITS);
    splitter.push(text);
    splitter.end();
    const summary = reader.finish();
    for (const [table, rows] of reader.take()) tables[table].push(...rows);
    return {
      ok: true,
      backup: {
        format: BACKUP_FORMAT,
        version: BACKUP_VERSION,
        exportedAt: summary.exportedAt,
        schemaVersion: summary.schemaVersion,
        conversations: tables.conversations as Conversation[],
        messages: tables.messages as Message[],
        profile: (tables.profile[0] as ProfileRow | undefined) ?? null,
        revisions: tables.revisions as ProfileRevision[],
        proposals: tables.proposals as Proposal[],
        settings: tables.settings as SettingRow[],
        customModels: tables.customModels as CustomModel[],
        allowedHosts: summary.allowedHosts,
      },
    };
  } catch (error) {
    const words = refusal(error);
    if (words === null) throw error;
    return { ok: false, error: words };
  }
}

/**
 * Reads text chunk by chunk through a `BackupReader`, handing the checked rows to `write` after
 * each chunk, so what is held at once is one chunk, its rows and the ids seen so far. Inside a
 * transaction `read` and `write` must return Dexie promises (see `writeBackup` for why), and
 * nothing else is awaited here.
 */
async function readBackupStream(
  read: () => PromiseLike<IteratorResult<string>>,
  builtInModelIds: readonly string[],
  write: (batches: [BackupTable, unknown[]][]) => PromiseLike<unknown> | undefined,
): Promise<BackupSummary> {
  const reader = new BackupReader(new Set(builtInModelIds));
  const splitter = new JsonRowSplitter(reader, ROW_LIMITS);
  for (;;) {
    const next = await read();
    if (next.done) break;
    splitter.push(next.value);
    const written = write(reader.take());
    if (written) await written;
  }
  splitter.end();
  const summary = reader.finish();
  const written = write(reader.take());
  if (written) await written;
  return summary;
}

/** Reads and checks a backup file without writing anything (before the user confirms). */
export async function checkBackupFile(
  file: Blob,
  builtInModelIds: readonly string[] = [],
  chunkBytes = BACKUP_CHUNK_CHARS,
): Promise<BackupFileCheck> {
  const chunks = blobTextChunks(file, chunkBytes);
  try {
    const summary = await readBackupStream(
      () => chunks.next(),
      builtInModelIds,
      () => undefined,
    );
    return { ok: true, summary };
  } catch (error) {
    const words = refusal(error);
    if (words === null) throw error;
    return { ok: false, error: words };
  }
}

/**
 * Replaces everything stored with a backup file's rows, all or nothing: the tables are cleared and
 * filled in one transaction while the file is read and checked again (it may have changed since
 * `checkBackupFile`), a chunk's rows at a time. Reading a file is not an IndexedDB request, so
 * each read goes through `Dexie.waitFor`, which keeps the transaction open meanwhile.
 */
export async function importBackupFile(
  db: PersonaDatabase,
  file: Blob,
  builtInModelIds: readonly string[] = [],
  chunkBytes = BACKUP_CHUNK_CHARS,
): Promise<BackupSummary> {
  const chunks = blobTextChunks(file, chunkBytes);
  try {
    return await withStorageErrors(() =>
      db.transaction('rw', db.tables, async () => {
        await Dexie.Promise.all(db.tables.map((table) => table.clear()));
        return readBackupStream(
          () => Dexie.waitFor(chunks.next()),
          builtInModelIds,
          (batches) =>
            batches.length === 0
              ? undefined
              : Dexie.Promise.all(batches.map(([table, rows]) => db.table(table).bulkAdd(rows))),
        );
      }),
    );
  } catch (error) {
    const words = refusal(error);
    if (words === null) throw error;
    throw new AppError('invalid-request', words);
  }
}

const HEADER_KEYS = ['format', 'version', 'exportedAt', 'schemaVersion'] as const;
const LIST_KEYS = [
  'conversations',
  'messages',
  'revisions',
  'proposals',
  'settings',
  'customModels',
  'allowedHosts',
] as const;
const FILE_KEYS: readonly string[] = [...HEADER_KEYS, ...LIST_KEYS, 'profile'];

/**
 * Checks a backup file row by row as the splitter hands it over, with every rule of the whole-file
 * check it replaced: rows are rebuilt by the readers below, ids must be unique, every message's
 * conversation must be in the file (checked at the end when the message comes first), and the
 * profile's revision must be the newest. Holds the ids seen, never the rows once drained.
 */
class BackupReader implements JsonRowHandler {
  readonly #builtInIds: ReadonlySet<string>;
  readonly #seenKeys = new Set<string>();
  readonly #header = new Map<string, unknown>();
  #headerChecked = false;
  #exportedAt = '';
  #schemaVersion = 0;
  #pending = new Map<BackupTable, unknown[]>();
  readonly #rows: Record<BackupTable, number> = {
    conversations: 0,
    messages: 0,
    profile: 0,
    revisions: 0,
    proposals: 0,
    settings: 0,
    customModels: 0,
  };
  readonly #conversationIds = new Set<string>();
  readonly #messageIds = new Set<string>();
  /** Conversations messages named before the conversation itself was read: id → first index. */
  readonly #missingConversations = new Map<string, number>();
  readonly #revisionIds = new Set<string>();
  readonly #revisionNumbers = new Set<string>();
  #newestRevision = 0;
  #profileRevision: number | null = null;
  readonly #proposalIds = new Set<string>();
  readonly #settingKeys = new Set<string>();
  readonly #customModelIds = new Set<string>();
  readonly #customModelAddresses = new Set<string>();
  readonly #allowedHosts: string[] = [];
  readonly #hostSet = new Set<string>();

  constructor(builtInIds: ReadonlySet<string>) {
    this.#builtInIds = builtInIds;
  }

  notAnObject(): void {
    throw new BackupError('it is not a Persona backup file');
  }

  #seeKey(key: string): void {
    if (!FILE_KEYS.includes(key)) {
      throw new BackupError(
        `the file has an unexpected property ${JSON.stringify(key.slice(0, 40))}`,
      );
    }
    if (this.#seenKeys.has(key)) throw new BackupError(`the file has ${key} twice`);
    this.#seenKeys.add(key);
    if (!(HEADER_KEYS as readonly string[]).includes(key)) this.#checkHeader();
  }

  member(key: string, value: unknown): void {
    this.#seeKey(key);
    if ((HEADER_KEYS as readonly string[]).includes(key)) {
      this.#header.set(key, value);
      // A wrong format or a newer version is said first, as soon as it is read.
      if (key === 'format' && value !== BACKUP_FORMAT) {
        throw new BackupError('it is not a Persona backup file');
      }
      if (key === 'version' && typeof value === 'number' && value > BACKUP_VERSION) {
        this.#checkHeader();
      }
      return;
    }
    if (key === 'profile') {
      if (value === null) return;
      const row = readProfileRow(value);
      this.#profileRevision = row.revision;
      this.#add('profile', row);
      return;
    }
    throw new BackupError(`${key} must be a list`);
  }

  arrayStart(key: string): void {
    this.#seeKey(key);
    if (key === 'profile') throw new BackupError('profile must be an object');
    if ((HEADER_KEYS as readonly string[]).includes(key)) {
      // No header value is a list: the header check says which one is wrong.
      this.#header.set(key, []);
      this.#checkHeader();
    }
  }

  arrayEnd(): void {
    // Nothing: the checks that need a whole list run in `finish`.
  }

  row(key: string, index: number, value: unknown): void {
    const path = `${key}[${index}]`;
    switch (key) {
      case 'conversations': {
        const conversation = readConversation(value, path);
        once(this.#conversationIds, conversation.id, 'conversation id');
        this.#add(key, conversation);
        return;
      }
      case 'messages': {
        const message = readMessage(value, path);
        once(this.#messageIds, message.id, 'message id');
        if (
          !this.#conversationIds.has(message.conversationId) &&
          !this.#missingConversations.has(message.conversationId)
        ) {
          this.#missingConversations.set(message.conversationId, index);
        }
        this.#add(key, message);
        return;
      }
      case 'revisions': {
        const revision = readRevision(value, path);
        once(this.#revisionIds, revision.id, 'revision id');
        once(this.#revisionNumbers, String(revision.number), 'revision number');
        this.#newestRevision = Math.max(this.#newestRevision, revision.number);
        this.#add(key, revision);
        return;
      }
      case 'proposals': {
        const proposal = readProposal(value, path);
        once(this.#proposalIds, proposal.id, 'proposal id');
        this.#add(key, proposal);
        return;
      }
      case 'settings': {
        const setting = readSetting(value, path);
        once(this.#settingKeys, setting.key, 'setting');
        this.#add(key, setting);
        return;
      }
      case 'customModels': {
        const model = readCustomModel(value, path);
        once(this.#customModelIds, model.id, 'custom model id');
        // The Models and Lab views list custom and built-in models together by spec id: an id
        // that repeats, or a built-in's, would show two rows with one key and break the page.
        if (model.spec.id !== model.id) {
          throw new BackupError(`${path}.spec.id must be the model's id`);
        }
        if (this.#builtInIds.has(model.id)) {
          throw new BackupError(
            `${path}.id ${JSON.stringify(model.id)} is the id of a built-in model`,
          );
        }
        const address = model.spec.engine === 'wllama' ? model.spec.url : model.spec.modelUrl;
        once(this.#customModelAddresses, address, 'custom model address');
        this.#add(key, model);
        return;
      }
      case 'allowedHosts': {
        if (
          typeof value !== 'string' ||
          value.length > MAX_URL_LENGTH ||
          !ORIGIN_PATTERN.test(value)
        ) {
          throw new BackupError(`${path} is not a web origin`);
        }
        once(this.#hostSet, value, 'allowed host');
        if (this.#allowedHosts.length >= MAX_ALLOWED_HOSTS) {
          throw new BackupError(`allowedHosts has more than ${MAX_ALLOWED_HOSTS} entries`);
        }
        this.#allowedHosts.push(value);
        return;
      }
    }
  }

  #add(table: BackupTable, row: unknown): void {
    this.#rows[table]++;
    const rows = this.#pending.get(table);
    if (rows) rows.push(row);
    else this.#pending.set(table, [row]);
  }

  /** The rows checked since the last call, by table, in file order; forgets them. */
  take(): [BackupTable, unknown[]][] {
    const pending = [...this.#pending];
    this.#pending = new Map();
    return pending;
  }

  /** The format, version, export time and schema, in the order the whole-file check said them. */
  #checkHeader(): void {
    if (this.#headerChecked) return;
    this.#headerChecked = true;
    if (this.#header.get('format') !== BACKUP_FORMAT) {
      throw new BackupError('it is not a Persona backup file');
    }
    const version = this.#header.get('version');
    if (typeof version === 'number' && version > BACKUP_VERSION) {
      throw new BackupError(
        `it was made by a newer version of Persona (backup version ${String(version)}; this app reads version ${BACKUP_VERSION}). Update Persona and try again`,
      );
    }
    if (version !== BACKUP_VERSION) throw new BackupError('its version is not recognized');
    const header = Object.fromEntries(this.#header);
    const exportedAt = string(header, 'exportedAt', 'the file', 64);
    if (!isIsoDateTime(exportedAt)) {
      throw new BackupError('the file.exportedAt must be an ISO 8601 date and time');
    }
    const schemaVersion = integer(header, 'schemaVersion', 'the file', 1);
    if (schemaVersion > SCHEMA_VERSION) {
      throw new BackupError(
        `it was made by a newer version of Persona (database schema ${schemaVersion}; this app has ${SCHEMA_VERSION}). Update Persona and try again`,
      );
    }
    this.#exportedAt = exportedAt;
    this.#schemaVersion = schemaVersion;
  }

  /** The checks that need the whole file; call after the splitter's `end`. */
  finish(): BackupSummary {
    this.#checkHeader();
    for (const key of LIST_KEYS) {
      if (!this.#seenKeys.has(key)) throw new BackupError(`${key} must be a list`);
    }
    if (!this.#seenKeys.has('profile')) throw new BackupError('profile must be an object');
    for (const [conversationId, index] of this.#missingConversations) {
      if (!this.#conversationIds.has(conversationId)) {
        throw new BackupError(
          `messages[${index}] belongs to a conversation that is not in the file`,
        );
      }
    }
    // The next commit numbers its revision after the profile's: a mismatch would make every later
    // change collide with a stored revision number, so the profile could never change again.
    const profileRevision = this.#profileRevision ?? 0;
    if (profileRevision !== this.#newestRevision) {
      throw new BackupError(
        `the profile is at revision ${profileRevision} but the newest revision is ${this.#newestRevision}`,
      );
    }
    return {
      exportedAt: this.#exportedAt,
      schemaVersion: this.#schemaVersion,
      rows: { ...this.#rows },
      allowedHosts: [...this.#allowedHosts],
    };
  }
}

function once(seen: Set<string>, key: string, what: string): void {
  if (seen.has(key)) throw new BackupError(`the ${what} ${JSON.stringify(key)} appears twice`);
  seen.add(key);
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
