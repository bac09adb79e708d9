import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { STORED_DATA_MEASURE } from '../../src/core/storage/usage';
import { PersonaApp } from './pages/persona-app';

/**
 * Issue 11: a backup of any size restores. A history of 100,000 messages (a file of more than 50
 * million characters, which the old importer refused) goes out through "Export everything", is
 * erased, and comes back through "Import…" exactly. Needs no model, so it runs in the cpu project.
 */

const CONVERSATIONS = 2000;
const PER_CONVERSATION = 50;
const MESSAGES = CONVERSATIONS * PER_CONVERSATION;

/**
 * Writes the history straight into the app's database, as years of use would have left it:
 * deterministic text in every width of UTF-8, about 600 characters a message.
 */
async function seedHistory(
  page: Page,
  conversations = CONVERSATIONS,
  perConversation = PER_CONVERSATION,
): Promise<void> {
  await page.evaluate(
    async ({ conversations, perConversation }) => {
      const phrases = [
        'I walked along the river this morning and thought about the move. ',
        'Grüße aus Köln: the café on the corner still serves crêpes. ',
        '日本語のメッセージも保存されます。東京は雨でした。',
        'Emoji too 😀🎉 and symbols € ± → ✓ in the middle of a sentence. ',
        'Quotes "like this", a backslash \\ and a tab\tinside. ',
      ];
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const open = indexedDB.open('persona');
        open.onsuccess = () => {
          resolve(open.result);
        };
        open.onerror = () => {
          reject(open.error ?? new Error('cannot open the database'));
        };
      });
      const base = 1_600_000_000_000;
      for (let first = 0; first < conversations; first += 200) {
        const tx = db.transaction(['conversations', 'messages'], 'readwrite');
        for (let c = first; c < Math.min(first + 200, conversations); c++) {
          const id = `conversation-${String(c).padStart(5, '0')}`;
          const createdAt = base + c * 10_000_000;
          tx.objectStore('conversations').put({
            id,
            title: `Conversation ${c} über ${c % 7} Dinge`,
            createdAt,
            updatedAt: createdAt + perConversation * 1000,
            temporary: false,
            learnedUntil: c % 2 === 0 ? createdAt + perConversation * 1000 : 0,
          });
          for (let m = 0; m < perConversation; m++) {
            let content = `Message ${m} of ${id}: `;
            for (
              let p = (c + m) % phrases.length;
              content.length < 450 + ((c * 31 + m * 17) % 300);
              p++
            ) {
              content += phrases[p % phrases.length] ?? '';
            }
            const message: Record<string, unknown> = {
              id: `${id}-message-${String(m).padStart(3, '0')}`,
              conversationId: id,
              role: m % 2 === 0 ? 'user' : 'assistant',
              content,
              createdAt: createdAt + m * 1000,
              status: 'complete',
            };
            if (m % 2 === 1) {
              message.modelId = 'tiny';
              message.stats = {
                promptTokens: 100 + m,
                completionTokens: 50,
                tokensPerSecond: 12.5,
              };
            }
            tx.objectStore('messages').put(message);
          }
        }
        await new Promise<void>((resolve, reject) => {
          tx.oncomplete = () => {
            resolve();
          };
          tx.onerror = () => {
            reject(tx.error ?? new Error('write failed'));
          };
        });
      }
      db.close();
    },
    { conversations, perConversation },
  );
}

interface Fingerprint {
  conversations: number;
  messages: number;
  /** A hash of every row's JSON, in key order: equal only if every row is. */
  digest: string;
  /** Every 997th message, whole. */
  sample: unknown[];
}

/** Reads every conversation and message in the page and sums them up. */
function fingerprint(page: Page): Promise<Fingerprint> {
  return page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('persona');
      open.onsuccess = () => {
        resolve(open.result);
      };
      open.onerror = () => {
        reject(open.error ?? new Error('cannot open the database'));
      };
    });
    const all = (store: string) =>
      new Promise<unknown[]>((resolve, reject) => {
        const request = db.transaction(store).objectStore(store).getAll();
        request.onsuccess = () => {
          resolve(request.result);
        };
        request.onerror = () => {
          reject(request.error ?? new Error('read failed'));
        };
      });
    // FNV-1a over the JSON of each row, in primary-key order.
    let hash = 0x811c9dc5;
    const add = (rows: unknown[]) => {
      for (const row of rows) {
        const text = JSON.stringify(row);
        for (let i = 0; i < text.length; i++) {
          hash ^= text.charCodeAt(i);
          hash = Math.imul(hash, 0x01000193) >>> 0;
        }
      }
    };
    const conversations = await all('conversations');
    add(conversations);
    const messages = await all('messages');
    add(messages);
    db.close();
    return {
      conversations: conversations.length,
      messages: messages.length,
      digest: hash.toString(16),
      sample: messages.filter((_, i) => i % 997 === 0),
    };
  });
}

test.describe('backups at any size (issue 11)', () => {
  test('a history of 100,000 messages: the Storage view, then export, erase and import it back exactly', async ({
    page,
  }) => {
    test.setTimeout(10 * 60_000);
    const folder = mkdtempSync(join(tmpdir(), 'persona-large-backup-'));
    try {
      const app = new PersonaApp(page);
      await app.open();
      await seedHistory(page);
      await app.reload();
      const before = await fingerprint(page);
      expect([before.conversations, before.messages]).toEqual([CONVERSATIONS, MESSAGES]);

      // The Storage view's figures come from counts and a sample: no scan of 100,000 rows.
      let started = Date.now();
      await app.openPrivacy();
      const storage = page.getByRole('region', { name: 'Storage' });
      await expect(storage.getByRole('list', { name: 'Space by kind of data' })).toContainText(
        `Messages (${MESSAGES})`,
      );
      const storageViewMs = Date.now() - started;
      const measureMs = await page.evaluate(
        (name) => performance.getEntriesByName(name).at(-1)?.duration ?? -1,
        STORED_DATA_MEASURE,
      );
      // The worker's figures for 100,000 messages: the target is under a second; reading every
      // row, as before issue 11, took 6 s for the rows alone and 8 s with their JSON on a quiet
      // machine, several times that on a busy one. The bound leaves room for a busy shared
      // 2-core machine (1.5 to 4.4 s seen at a load average of 9 to 12) and still catches a scan.
      expect(measureMs).toBeGreaterThan(0);
      expect(measureMs).toBeLessThan(8000);
      await expect(storage.getByRole('list', { name: 'Largest conversations' })).toContainText(
        `(${PER_CONVERSATION} messages)`,
      );

      started = Date.now();
      const path = join(folder, 'backup.json');
      const name = await app.exportEverythingTo(path);
      const exportMs = Date.now() - started;
      expect(name).toMatch(/^persona-backup-\d{4}-\d{2}-\d{2}\.json$/);
      const text = readFileSync(path, 'utf8');
      expect(text.length).toBeGreaterThan(50_000_000);
      expect(text.startsWith('{"format":"persona-backup","version":1,')).toBe(true);
      const characters = text.length;

      await app.eraseEverything();
      expect((await fingerprint(page)).messages).toBe(0);

      started = Date.now();
      const asked = await app.importBackupFile(path);
      const importMs = Date.now() - started;
      expect(asked).toEqual([expect.stringContaining(`(${CONVERSATIONS} conversations`)]);
      const after = await fingerprint(page);
      expect(after).toEqual(before);
      await expect(page.getByRole('navigation', { name: 'Conversations' })).toContainText(
        `Conversation ${CONVERSATIONS - 1}`,
      );
      console.log(
        `large backup: ${MESSAGES} messages, ${characters} characters; Storage view ${storageViewMs} ms (data.measure ${Math.round(measureMs)} ms), export ${exportMs} ms, import (check, confirm, import, reload) ${importMs} ms`,
      );
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  test('where the browser can save to a chosen file, the export is written there chunk by chunk', async ({
    page,
  }) => {
    const app = new PersonaApp(page);
    await app.open();
    await seedHistory(page, 20, 10);
    await app.reload();
    const downloaded = JSON.parse((await app.exportEverything()).text) as Record<string, unknown>;
    await app.reload();
    await app.openPrivacy();
    // The picker stands in for the user's choice with a file in the origin-private file system,
    // which has the same `createWritable` as a file picked on disk.
    await page.evaluate(() => {
      Object.defineProperty(window, 'showSaveFilePicker', {
        configurable: true,
        value: async () =>
          (await navigator.storage.getDirectory()).getFileHandle('picked.json', { create: true }),
      });
    });
    await app.yourData.getByRole('button', { name: 'Export everything' }).click();
    const read = () =>
      page.evaluate(async () => {
        const root = await navigator.storage.getDirectory();
        const file = await (await root.getFileHandle('picked.json')).getFile();
        return file.text();
      });
    await expect.poll(async () => (await read()).endsWith('}\n'), { timeout: 60_000 }).toBe(true);
    const saved = JSON.parse(await read()) as Record<string, unknown>;
    delete saved.exportedAt;
    delete downloaded.exportedAt;
    expect(saved).toEqual(downloaded);
    await expect(app.yourData.getByRole('alert')).toHaveCount(0);
  });
});
