/**
 * Backups read as a stream (issue 11): a file is read in pieces of any size, with characters
 * split between pieces, checked row by row, and imported all or nothing in one transaction.
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { blobTextChunks } from '../../src/core/backup/blob-text';
import {
  checkBackupFile,
  exportBackupParts,
  importBackupFile,
  PROFILE_ROW_ID,
  type PersonaDatabase,
} from '../../src/db';
import { AppError } from '../../src/core/errors';
import {
  freshDatabase,
  makeAppliedSet,
  makeConversation,
  makeField,
  makeProfile,
  makeRevision,
  seedConversation,
} from './factories';

const NOW = 1_700_000_500_000;
const opened: PersonaDatabase[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((db) => db.delete()));
});

function database(): PersonaDatabase {
  const db = freshDatabase();
  opened.push(db);
  return db;
}

/** Text in every width of UTF-8: 1, 2, 3 and 4 bytes (a surrogate pair in JavaScript). */
const MIXED = 'a ä € 😀 日本語 "quoted" \\ back\nslash ';

async function history(): Promise<PersonaDatabase> {
  const db = database();
  for (let c = 0; c < 3; c++) {
    await seedConversation(db, {
      conversation: { title: `Conversation ${c} ✓` },
      messages: Array.from({ length: 6 }, (_, i) => ({ content: `${MIXED}${c}.${i}` })),
    });
  }
  const field = makeField({ value: 'Berlin' });
  await db.profile.add({
    id: PROFILE_ROW_ID,
    profile: makeProfile({ Demographics: { Location: field } }),
    revision: 1,
  });
  await db.revisions.add({
    ...makeRevision({ changes: [makeAppliedSet('Demographics', 'Location', field)] }),
    number: 1,
  });
  await db.settings.add({ key: 'optimizeEvery', value: 5 });
  return db;
}

async function snapshot(db: PersonaDatabase): Promise<Record<string, unknown[]>> {
  const entries = await Promise.all(
    db.tables.map(async (table) => [table.name, await table.toArray()] as const),
  );
  return Object.fromEntries(entries);
}

const fileOf = async (db: PersonaDatabase, hosts: string[] = []): Promise<Blob> =>
  new Blob(await exportBackupParts(db, NOW, hosts), { type: 'application/json' });

/** The file's JSON changed by `mutate`, as one line (the layout does not matter to the reader). */
async function changed(
  db: PersonaDatabase,
  mutate: (file: Record<string, unknown[]>) => void,
): Promise<Blob> {
  const file = JSON.parse(await (await fileOf(db)).text()) as Record<string, unknown[]>;
  mutate(file);
  return new Blob([JSON.stringify(file)]);
}

describe('blobTextChunks', () => {
  it('decodes characters split between reads whole', async () => {
    const text = MIXED.repeat(20);
    const blob = new Blob([text]);
    for (const size of [1, 2, 3, 5, 64]) {
      const pieces: string[] = [];
      for await (const piece of blobTextChunks(blob, size)) pieces.push(piece);
      expect(pieces.join(''), `reads of ${size} bytes`).toBe(text);
      if (size < 4) expect(pieces.length).toBeGreaterThan(50);
    }
  });
});

describe('checkBackupFile and importBackupFile', () => {
  it('round trips exactly, whatever the size of the reads', async () => {
    const source = await history();
    const before = await snapshot(source);
    const file = await fileOf(source, ['http://127.0.0.1:4174']);
    // Reads of 1 to 7 bytes split rows, keys, escapes and multi-byte characters everywhere.
    for (const size of [1, 3, 7, 4096]) {
      const target = database();
      await target.conversations.add(makeConversation({ title: 'Replaced' }));
      const checked = await checkBackupFile(file, [], size);
      expect(checked).toMatchObject({
        ok: true,
        summary: { rows: { conversations: 3, messages: 18, revisions: 1, profile: 1 } },
      });
      const summary = await importBackupFile(target, file, [], size);
      expect(summary.allowedHosts).toEqual(['http://127.0.0.1:4174']);
      expect(await snapshot(target), `reads of ${size} bytes`).toEqual({ ...before, jobs: [] });
    }
  });

  it('imports the pretty-printed files of older versions, and rows in any order', async () => {
    const source = await history();
    const before = await snapshot(source);
    const file = JSON.parse(await (await fileOf(source)).text()) as Record<string, unknown>;
    // Issue 11: the app once wrote `JSON.stringify(backup, null, 2)`.
    const pretty = new Blob([JSON.stringify(file, null, 2)]);
    const target = database();
    await importBackupFile(target, pretty, [], 100);
    expect(await snapshot(target)).toEqual({ ...before, jobs: [] });
    // Messages before their conversations: checked at the end instead.
    const { messages, ...rest } = file;
    const reordered = new Blob([JSON.stringify({ messages, ...rest })]);
    expect((await checkBackupFile(reordered)).ok).toBe(false);
    const { format, version, exportedAt, schemaVersion, ...lists } = rest;
    const headFirst = { format, version, exportedAt, schemaVersion, messages, ...lists };
    const again = database();
    await importBackupFile(again, new Blob([JSON.stringify(headFirst)]));
    expect(await again.messages.count()).toBe(18);
  });

  it('refuses hostile rows with their path, wherever they are in the file', async () => {
    const source = await history();
    const refusal = async (mutate: (file: Record<string, unknown[]>) => void) => {
      const checked = await checkBackupFile(await changed(source, mutate), [], 5);
      return checked.ok ? '' : checked.error;
    };
    expect(
      await refusal((file) => {
        (file.messages?.[17] as Record<string, unknown>).role = 'system';
      }),
    ).toBe('This backup cannot be imported: messages[17].role must be one of user, assistant.');
    expect(
      await refusal((file) => {
        (file.messages?.[9] as Record<string, unknown>).conversationId = 'elsewhere';
      }),
    ).toMatch(/messages\[9\] belongs to a conversation that is not in the file/);
    expect(
      await refusal((file) => {
        file.messages?.push(file.messages[3]);
      }),
    ).toMatch(/the message id .* appears twice/);
    expect(
      await refusal((file) => {
        Object.defineProperty(file.conversations?.[2], '__proto__', {
          value: { polluted: 1 },
          enumerable: true,
        });
      }),
    ).toMatch(/conversations\[2\] has an unexpected property "__proto__"/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('an import that fails midway changes nothing', async () => {
    const source = await history();
    const target = await history();
    const before = await snapshot(target);
    // The last message is bad: by then the tables were cleared and most rows were written.
    const bad = await changed(source, (file) => {
      (file.messages?.[17] as Record<string, unknown>).createdAt = 'yesterday';
    });
    const error: unknown = await importBackupFile(target, bad, [], 64).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).message).toMatch(/messages\[17\]\.createdAt must be a time/);
    expect(await snapshot(target)).toEqual(before);
    // A file cut short (changed on disk since it was checked) likewise.
    const whole = await (await fileOf(source)).text();
    const cutShort = new Blob([whole.slice(0, Math.floor(whole.length * 0.7))]);
    await expect(importBackupFile(target, cutShort, [], 64)).rejects.toThrow(/not valid JSON/);
    expect(await snapshot(target)).toEqual(before);
  });

  it('a failure of the database part way (a write it refuses) changes nothing', async () => {
    const source = await history();
    const target = await history();
    const before = await snapshot(target);
    const file = await fileOf(source);
    // As a full disk would: the 12th message written is refused, after many batches went in.
    let written = 0;
    target.messages.hook('creating', () => {
      if (++written === 12) throw new Error('disk full');
    });
    await expect(importBackupFile(target, file, [], 64)).rejects.toThrow(/disk full/);
    expect(written).toBe(12);
    expect(await snapshot(target)).toEqual(before);
  });
});
