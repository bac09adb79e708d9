/**
 * The worker's backup commands (issue 11): the file written chunk by chunk to a slow writer is the
 * downloadable one, and a checked file is imported only with its token and only while quiesced.
 */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/core/errors';
import { PROFILE_ROW_ID } from '../../src/db';
import { Assistant } from '../../src/worker/assistant';
import { ScriptedEngine } from '../doubles/scripted-engine';
import { freshDatabase, makeProfile, seedConversation } from './factories';

const NOW = 1_700_000_500_000;

async function setup() {
  const db = freshDatabase();
  for (let i = 0; i < 3; i++) {
    await seedConversation(db, {
      conversation: { title: `Conversation ${i}` },
      messages: [{ content: 'ü'.repeat(400_000) }, { content: `Reply ${i} 😀` }],
    });
  }
  await db.profile.add({ id: PROFILE_ROW_ID, profile: makeProfile({}), revision: 0 });
  const engine = new ScriptedEngine();
  const assistant = new Assistant({
    db,
    loadEngine: () => Promise.resolve(engine),
    clock: () => NOW,
  });
  return { db, assistant };
}

describe('data: backups in the worker', () => {
  it('writes the same file to a slow writer, chunk by chunk, as the download holds', async () => {
    const { assistant } = await setup();
    const chunks: string[] = [];
    await assistant.data.exportBackupTo(['http://127.0.0.1:4174'], async (chunk) => {
      // A disk that takes its time: the export's read transaction must outlive each write.
      await new Promise((resolve) => setTimeout(resolve, 5));
      chunks.push(chunk);
    });
    expect(chunks.length).toBeGreaterThan(1);
    const blob = await assistant.data.exportBackup(['http://127.0.0.1:4174']);
    expect(chunks.join('')).toBe(await blob.text());
  });

  it('imports a checked file with its token, only while quiesced, and forgets it after', async () => {
    const { assistant: source } = await setup();
    const file = await source.data.exportBackup([]);
    const { db, assistant } = await setup();
    await db.conversations.clear();
    await db.messages.clear();

    const checked = await assistant.data.checkBackup(file, []);
    expect(checked).toMatchObject({ ok: true, conversations: 3 });
    if (!checked.ok) return;
    await expect(assistant.data.importBackup(checked.token)).rejects.toThrow(/must be stopped/);
    await assistant.data.quiesce();
    await expect(assistant.data.importBackup('another')).rejects.toBeInstanceOf(AppError);
    expect(await assistant.data.importBackup(checked.token)).toEqual([]);
    expect(await db.messages.count()).toBe(6);
    await expect(assistant.data.importBackup(checked.token)).rejects.toThrow(/Choose the backup/);

    const refused = await assistant.data.checkBackup(new Blob(['{"format":"x"}']), []);
    expect(refused).toEqual({
      ok: false,
      error: 'This backup cannot be imported: it is not a Persona backup file.',
    });
  });
});
