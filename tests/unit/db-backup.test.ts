/**
 * Whole-device backup: a round trip restores every table exactly, and a hostile or broken file
 * is refused with words the user can act on and leaves the stored data untouched.
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BACKUP_CHUNK_CHARS,
  BACKUP_VERSION,
  exportBackupParts,
  importBackupFile,
  MAX_BACKUP_ROW_CHARS,
  parseBackup,
  PROFILE_ROW_ID,
  wipeDatabase,
  type Backup,
  type PersonaDatabase,
} from '../../src/db';
import {
  freshDatabase,
  makeAppliedSet,
  makeConversation,
  makeEvidence,
  makeField,
  makeMessage,
  makeProfile,
  makeRevision,
  makeSetChange,
  makeWebLLMSpec,
  makeWllamaSpec,
} from './factories';
import { catalogSpecs } from '../../src/core/models/catalog';

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

/** A database with a row in every table, including optional properties. */
async function seeded(): Promise<PersonaDatabase> {
  const db = database();
  const conversation = makeConversation({ title: 'Moving', learnedUntil: 1_700_000_001_000 });
  const user = makeMessage({ conversationId: conversation.id, content: 'I moved to Berlin' });
  const reply = makeMessage({
    conversationId: conversation.id,
    role: 'assistant',
    status: 'error',
    error: { code: 'engine', message: 'Out of memory' },
    modelId: 'tiny',
    droppedTurns: 2,
    cutOff: true,
    stats: { promptTokens: 10, completionTokens: 5, tokensPerSecond: 12.5 },
  });
  const field = makeField({
    value: 'Berlin',
    source: 'learned',
    evidence: [makeEvidence({ conversationId: conversation.id, messageId: user.id })],
  });
  const wllama = makeWllamaSpec();
  await db.conversations.add(conversation);
  await db.messages.bulkAdd([user, reply]);
  await db.profile.add({
    id: PROFILE_ROW_ID,
    profile: makeProfile({ Demographics: { Location: field } }),
    revision: 1,
  });
  await db.revisions.add({
    ...makeRevision({ changes: [makeAppliedSet('Demographics', 'Location', field)] }),
    number: 1,
  });
  await db.proposals.add({
    id: 'p1',
    revisionGroup: 'job-1',
    change: makeSetChange(),
    createdAt: NOW,
    status: 'accepted',
    resolvedAt: NOW + 1,
    revisionId: 'r1',
  });
  await db.settings.bulkAdd([
    { key: 'selectedModel', value: wllama },
    { key: 'optimizeEvery', value: 5 },
  ]);
  await db.customModels.bulkAdd([
    { id: wllama.id, label: 'Tiny', spec: wllama, addedAt: NOW },
    {
      id: 'web',
      label: 'Web',
      spec: makeWebLLMSpec({ id: 'web', vramRequiredMB: 12.5 }),
      addedAt: NOW,
    },
  ]);
  await db.jobs.add({
    id: 'job-1',
    kind: 'optimize',
    status: 'running',
    conversationIds: [conversation.id],
    createdAt: NOW,
    updatedAt: NOW,
    attempts: 1,
  });
  return db;
}

/** Every table's rows (jobs included, to see that an import leaves none behind). */
async function snapshot(db: PersonaDatabase): Promise<Record<string, unknown[]>> {
  const entries = await Promise.all(
    db.tables.map(async (table) => [table.name, await table.toArray()] as const),
  );
  return Object.fromEntries(entries);
}

function parsed(text: string): Backup {
  const result = parseBackup(text);
  if (!result.ok) throw new Error(result.error);
  return result.backup;
}

/** The backup file exactly as the worker writes it. */
async function exportText(db: PersonaDatabase, hosts = ['http://127.0.0.1:4174']): Promise<string> {
  return new Blob(await exportBackupParts(db, NOW, hosts)).text();
}

async function exported(): Promise<{ db: PersonaDatabase; backup: Backup; text: string }> {
  const db = await seeded();
  const text = await exportText(db);
  return { db, backup: parsed(text), text };
}

describe('exportBackupParts (issue 11)', () => {
  it('writes the file in chunks of about a megabyte, one row per line, never as one string', async () => {
    const db = await seeded();
    const [conversation] = await db.conversations.toArray();
    const content = 'ü'.repeat(300_000);
    await db.messages.bulkAdd(
      Array.from({ length: 10 }, () =>
        makeMessage({ conversationId: conversation?.id ?? '', content }),
      ),
    );
    const parts = await exportBackupParts(db, NOW);
    expect(parts.length).toBeGreaterThan(2);
    for (const part of parts) expect(part.length).toBeLessThan(BACKUP_CHUNK_CHARS + 400_000);
    const text = await new Blob(parts).text();
    expect(parsed(text).messages).toHaveLength(await db.messages.count());
    // Each message on a line of its own: a reader can split rows without a JSON library.
    const lines = text.split('\n');
    expect(lines.filter((line) => line.includes('"role":'))).toHaveLength(12);
  });

  it('writes an empty database as a backup that imports', async () => {
    const text = await exportText(database(), []);
    expect(parsed(text)).toMatchObject({ conversations: [], messages: [], profile: null });
  });
});

describe('exportBackupParts and importBackupFile', () => {
  it('round trips every table exactly, jobs left out', async () => {
    const { db, text } = await exported();
    const before = await snapshot(db);
    const target = database();
    await target.jobs.add({ ...(before.jobs?.[0] as object), id: 'other' } as never);
    const summary = await importBackupFile(target, new Blob([text]));
    expect(summary.allowedHosts).toEqual(['http://127.0.0.1:4174']);
    expect(await snapshot(target)).toEqual({ ...before, jobs: [] });
    // And a second export reads the same rows back.
    const again = await exportText(target, summary.allowedHosts);
    expect(JSON.parse(again)).toEqual(JSON.parse(text));
  });

  it('replaces existing data rather than merging', async () => {
    const { text } = await exported();
    const target = database();
    await target.conversations.add(makeConversation({ title: 'Old' }));
    await importBackupFile(target, new Blob([text]));
    expect((await target.conversations.toArray()).map((c) => c.title)).toEqual(['Moving']);
  });

  it('is all or nothing: a failure part way leaves the old data intact', async () => {
    const { backup } = await exported();
    const target = await seeded();
    const before = await snapshot(target);
    // Two messages with one id: the tables are already cleared and the conversations written
    // when the second message is refused (more cases in backup-stream.test.ts).
    const [message] = backup.messages;
    if (!message) throw new Error('seed has messages');
    const broken: Backup = { ...backup, messages: [message, message] };
    await expect(importBackupFile(target, new Blob([JSON.stringify(broken)]))).rejects.toThrow(
      /appears twice/,
    );
    expect(await snapshot(target)).toEqual(before);
  });

  it('wipeDatabase empties every table', async () => {
    const db = await seeded();
    await wipeDatabase(db);
    const after = await snapshot(db);
    expect(Object.values(after).every((rows) => rows.length === 0)).toBe(true);
  });
});

describe('parseBackup refuses hostile files', () => {
  async function refused(mutate: (file: Record<string, unknown>) => unknown): Promise<string> {
    const { text } = await exported();
    const file = JSON.parse(text) as Record<string, unknown>;
    const changed = mutate(file);
    const result = parseBackup(typeof changed === 'string' ? changed : JSON.stringify(file));
    expect(result.ok).toBe(false);
    return result.ok ? '' : result.error;
  }

  const first = (file: Record<string, unknown>, key: string): Record<string, unknown> =>
    (file[key] as Record<string, unknown>[])[0] ?? {};

  it('malformed JSON', async () => {
    expect(await refused(() => '{"format": "persona-backup",')).toMatch(/not valid JSON/);
  });

  it('another format', async () => {
    expect(await refused(() => JSON.stringify({ format: 'persona-profile', version: 1 }))).toMatch(
      /not a Persona backup/,
    );
  });

  it('a newer version', async () => {
    const error = await refused((file) => {
      file.version = BACKUP_VERSION + 98;
    });
    expect(error).toMatch(/newer version of Persona/);
  });

  it('an oversized row, with its path; the file as a whole has no limit (issue 11)', async () => {
    const error = await refused((file) => {
      first(file, 'messages').content = 'x'.repeat(MAX_BACKUP_ROW_CHARS);
    });
    expect(error).toBe(
      `This backup cannot be imported: messages[0] is longer than ${MAX_BACKUP_ROW_CHARS} characters.`,
    );
  });

  it('a depth bomb', async () => {
    expect(await refused(() => `${'['.repeat(10_000)}${']'.repeat(10_000)}`)).toMatch(
      /nested too deeply/,
    );
  });

  it('prototype keys, at the top and in a row', async () => {
    expect(
      await refused((file) => JSON.stringify(file).replace('{', '{"__proto__":{"polluted":1},')),
    ).toMatch(/unexpected property "__proto__"/);
    expect(
      await refused((file) =>
        JSON.stringify(file).replace('"title":', '"constructor":{"prototype":{}},"title":'),
      ),
    ).toMatch(/unexpected property "constructor"/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('a message whose conversation is not in the file', async () => {
    const error = await refused((file) => {
      first(file, 'messages').conversationId = 'elsewhere';
    });
    expect(error).toMatch(/conversation that is not in the file/);
  });

  it('a wrong enum value', async () => {
    expect(
      await refused((file) => {
        first(file, 'messages').role = 'system';
      }),
    ).toMatch(/role must be one of user, assistant/);
    expect(
      await refused((file) => {
        first(file, 'messages').status = 'done';
      }),
    ).toMatch(/status must be one of/);
  });

  it('huge strings and ids', async () => {
    expect(
      await refused((file) => {
        first(file, 'conversations').id = 'x'.repeat(129);
      }),
    ).toMatch(/longer than 128/);
    expect(
      await refused((file) => {
        first(file, 'messages').content = 'x'.repeat(1_000_001);
      }),
    ).toMatch(/longer than 1000000/);
  });

  it('non-finite or missing timestamps, unknown settings, bad specs, bad profiles', async () => {
    expect(
      await refused((file) => {
        delete first(file, 'conversations').createdAt;
      }),
    ).toMatch(/conversations\[0\]\.createdAt must be a time in milliseconds/);
    expect(
      await refused((file) => {
        (file.settings as unknown[]).push({ key: 'telemetry', value: true });
      }),
    ).toMatch(/unknown setting/);
    expect(
      await refused((file) => {
        (file.settings as unknown[]).push({ key: 'sendOnEnter', value: 'yes' });
      }),
    ).toMatch(/cannot take that value/);
    expect(
      await refused((file) => {
        (first(file, 'customModels').spec as Record<string, unknown>).url = 'javascript:alert(1)';
      }),
    ).toMatch(/web address/);
    expect(
      await refused((file) => {
        (file.profile as Record<string, unknown>).profile = { sections: 'no' };
      }),
    ).toMatch(/profile is invalid/);
    expect(
      await refused((file) => {
        (first(file, 'revisions').changes as Record<string, unknown>[]).push({ op: 'rename' });
      }),
    ).toMatch(/op must be one of set, remove/);
    expect(
      await refused((file) => {
        (file.profile as Record<string, unknown>).revision = 0;
      }),
    ).toMatch(/profile is at revision 0 but the newest revision is 1/);
    expect(
      await refused((file) => {
        file.allowedHosts = ['https://evil.example/path'];
      }),
    ).toMatch(/not a web origin/);
  });

  it('custom models that share an id or an address, or take a built-in id (issue 12)', async () => {
    expect(
      await refused((file) => {
        const models = file.customModels as Record<string, unknown>[];
        models.push({
          ...models[0],
          id: 'copy',
          spec: { ...(models[0]?.spec as object), id: 'web' },
        });
      }),
    ).toMatch(/customModels\[2\]\.spec\.id must be the model's id/);
    const builtIn = catalogSpecs()[0]?.id ?? '';
    const { text } = await exported();
    const file = JSON.parse(text) as Record<string, unknown>;
    const model = first(file, 'customModels');
    model.id = builtIn;
    (model.spec as Record<string, unknown>).id = builtIn;
    const takesBuiltIn = parseBackup(
      JSON.stringify(file),
      catalogSpecs().map((spec) => spec.id),
    );
    expect(takesBuiltIn.ok ? '' : takesBuiltIn.error).toMatch(
      /customModels\[0\]\.id .* is the id of a built-in model/,
    );
    expect(
      await refused((file) => {
        const models = file.customModels as Record<string, unknown>[];
        models.push({
          ...models[0],
          id: 'again',
          spec: { ...(models[0]?.spec as object), id: 'again' },
        });
      }),
    ).toMatch(/custom model address .* appears twice/);
  });

  it('timestamps a date cannot hold, an unparseable export time, negative speeds (issue 12)', async () => {
    expect(
      await refused((file) => {
        first(file, 'messages').createdAt = 1e20;
      }),
    ).toMatch(/: messages\[0\]\.createdAt must be a time in milliseconds since 1970/);
    expect(
      await refused((file) => {
        first(file, 'conversations').learnedUntil = 8.64e15 + 1;
      }),
    ).toMatch(/conversations\[0\]\.learnedUntil must be a time/);
    expect(
      await refused((file) => {
        file.exportedAt = 'last Tuesday';
      }),
    ).toMatch(/exportedAt must be an ISO 8601 date and time/);
    expect(
      await refused((file) => {
        const profile = (file.profile as { profile: { sections: { fields: object }[] } }).profile;
        const fields = profile.sections.find((s) => Object.keys(s.fields).length > 0)?.fields;
        (Object.values(fields ?? {})[0] as Record<string, unknown>).updatedAt = 1e300;
      }),
    ).toMatch(/profile\.sections\[\d+\]\.fields\["Location"\]\.updatedAt must be a time/);
    expect(
      await refused((file) => {
        (file.messages as Record<string, unknown>[])[1] = {
          ...(file.messages as Record<string, unknown>[])[1],
          stats: { promptTokens: 1, completionTokens: 1, tokensPerSecond: -3 },
        };
      }),
    ).toMatch(/messages\[1\]\.stats\.tokensPerSecond must be a number of at least 0/);
  });

  it('anything the app would have changed on the way in, so a round trip stays exact (issue 12)', async () => {
    expect(
      await refused((file) => {
        file.allowedHosts = ['http://127.0.0.1:4174', 'http://127.0.0.1:4174'];
      }),
    ).toMatch(/the allowed host "http:\/\/127\.0\.0\.1:4174" appears twice/);
    expect(
      await refused((file) => {
        first(file, 'customModels').label = ' ';
      }),
    ).toMatch(/customModels\[0\]\.label must be a name of 1 to 120 characters on one line/);
    expect(
      await refused((file) => {
        first(file, 'conversations').title = 'Invoice \u202Egpj.exe';
      }),
    ).toMatch(
      /conversations\[0\]\.title: A conversation title cannot hold control or text-direction characters\.$/,
    );
    expect(
      await refused((file) => {
        first(file, 'conversations').title = 'two\u0007bells';
      }),
    ).toMatch(/conversations\[0\]\.title: .*control/);
    expect(
      await refused((file) => {
        first(file, 'conversations').title = 'Moving  house';
      }),
    ).toMatch(/conversations\[0\]\.title has leading, trailing or repeated spaces/);
    expect(
      await refused((file) => {
        file.schemaVersion = 99;
      }),
    ).toMatch(/newer version of Persona \(database schema 99; this app has \d+\)/);
  });

  it('ends every refusal with one full stop', async () => {
    const error = await refused((file) => {
      (file.profile as Record<string, unknown>).profile = {
        updatedAt: 0,
        sections: Array.from({ length: 13 }, (_, i) => ({
          name: `S${i}`,
          builtIn: false,
          fields: {},
        })),
      };
    });
    expect(error).toMatch(/more than 12 sections\.$/);
    expect(error).not.toMatch(/\.\./);
  });

  it('a refused file changes nothing stored', async () => {
    const db = await seeded();
    const before = await snapshot(db);
    const result = parseBackup('{"format":"persona-backup","version":99}');
    expect(result.ok).toBe(false);
    expect(await snapshot(db)).toEqual(before);
  });
});
