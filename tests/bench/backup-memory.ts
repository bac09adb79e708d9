/**
 * `npm run bench:backup-memory`: how much JavaScript memory reading a large backup takes, the
 * streaming reader (`checkBackupFile`, which the import runs again inside its transaction) against
 * the whole-file read it replaced (`Blob.text()` + `JSON.parse`). Node, not the browser: the
 * reader is the same code, and Node reports its heap exactly (`--expose-gc`; sampled every 10 ms,
 * and every 50 ms after a forced collection, which gives what is still reachable; the timing
 * includes those collections). Each mode runs in a process of its own.
 *
 *   npm run bench:backup-memory            # 100,000 messages, about 90 MB
 *   BACKUP_MESSAGES=300000 npm run bench:backup-memory
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, openAsBlob, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { checkBackupFile } from '../../src/db/backup';

const MESSAGES = Number(process.env.BACKUP_MESSAGES ?? 100_000);
const PER_CONVERSATION = 50;

/** Writes a backup as the exporter lays it out: one row per line, messages of ~800 characters. */
async function writeHistory(path: string): Promise<void> {
  const out = createWriteStream(path);
  const put = async (text: string) => {
    if (!out.write(text)) await once(out, 'drain');
  };
  const base = 1_600_000_000_000;
  const conversations = Math.ceil(MESSAGES / PER_CONVERSATION);
  await put(
    `{"format":"persona-backup","version":1,"exportedAt":"2026-12-02T09:00:00.000Z","schemaVersion":2,\n"conversations":[`,
  );
  for (let c = 0; c < conversations; c++) {
    const row = {
      id: `c${c}`,
      title: `Conversation ${c}`,
      createdAt: base + c,
      updatedAt: base + c,
      temporary: false,
      learnedUntil: 0,
    };
    await put(`${c === 0 ? '\n' : ',\n'}${JSON.stringify(row)}`);
  }
  await put('],\n"messages":[');
  const text = 'Grüße aus Köln, 日本語 and 😀 in a message of some length. '.repeat(14);
  for (let m = 0; m < MESSAGES; m++) {
    const row = {
      id: `m${m}`,
      conversationId: `c${Math.floor(m / PER_CONVERSATION)}`,
      role: m % 2 === 0 ? 'user' : 'assistant',
      content: `${m}: ${text}`,
      createdAt: base + m,
      status: 'complete',
    };
    await put(`${m === 0 ? '\n' : ',\n'}${JSON.stringify(row)}`);
  }
  await put(
    '],\n"profile":null,\n"revisions":[],\n"proposals":[],\n"settings":[],\n"customModels":[],\n"allowedHosts":[]\n}\n',
  );
  out.end();
  await once(out, 'finish');
}

const gc = (globalThis as { gc?: () => void }).gc;
const heap = () => process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;

async function measure(mode: string, path: string): Promise<void> {
  if (!gc) throw new Error('run with node --expose-gc');
  gc();
  const baseline = heap();
  let peak = baseline;
  let live = baseline;
  let samples = 0;
  const sample = () => {
    peak = Math.max(peak, heap());
    // Every fifth sample, what is still reachable (garbage not yet collected counts above).
    if (++samples % 5 === 0) {
      gc();
      live = Math.max(live, heap());
    }
  };
  const timer = setInterval(sample, 10);
  const started = performance.now();
  const blob = await openAsBlob(path);
  let rows: number;
  if (mode === 'whole') {
    const text = await blob.text();
    samples = 4;
    sample();
    const parsed = JSON.parse(text) as { messages: unknown[] };
    samples = 4;
    sample();
    rows = parsed.messages.length;
  } else {
    const checked = await checkBackupFile(blob);
    if (!checked.ok) throw new Error(checked.error);
    rows = checked.summary.rows.messages;
  }
  const ms = performance.now() - started;
  sample();
  clearInterval(timer);
  const mb = (bytes: number) => (bytes / 1_000_000).toFixed(1);
  console.log(
    `${mode.padEnd(6)} ${rows} messages: ${ms.toFixed(0)} ms; above the baseline, peak heap ${mb(peak - baseline)} MB, peak reachable ${mb(live - baseline)} MB`,
  );
}

const [, , mode, path] = process.argv;
if (mode && path) {
  await measure(mode, path);
} else {
  const folder = mkdtempSync(join(tmpdir(), 'persona-backup-memory-'));
  try {
    const file = join(folder, 'backup.json');
    await writeHistory(file);
    console.log(`backup of ${MESSAGES} messages: ${(statSync(file).size / 1e6).toFixed(1)} MB`);
    for (const which of ['stream', 'whole']) {
      execFileSync(
        process.execPath,
        ['--expose-gc', '--import', 'tsx', process.argv[1] ?? '', which, file],
        { stdio: 'inherit' },
      );
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
