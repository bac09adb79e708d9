import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { BENCH_CONDITIONS, type BenchSession } from '../../src/core/bench/types';
import { PersonaApp } from './pages/persona-app';
import { PersonaLab, type LabRunSettings } from './pages/persona-lab';

/** Random weights, tiny limits: the numbers are meaningless, the machinery is real. */
const ONE_PERSONA: Omit<LabRunSettings, 'conditions'> = {
  personas: 1,
  scenes: 3,
  maxTurns: 1,
  seed: 1,
  stability: false,
};

/** Everything in the app's own database, store by store, to compare before and after a run. */
function snapshotUserData(page: Page): Promise<Record<string, unknown[]>> {
  return page.evaluate(
    () =>
      new Promise<Record<string, unknown[]>>((resolve, reject) => {
        const open = indexedDB.open('persona');
        open.onerror = () => {
          reject(open.error ?? new Error('cannot open the database'));
        };
        open.onsuccess = () => {
          const db = open.result;
          const names = [...db.objectStoreNames];
          const tx = db.transaction(names, 'readonly');
          const out: Record<string, unknown[]> = {};
          for (const name of names) {
            const request = tx.objectStore(name).getAll();
            request.onsuccess = () => {
              out[name] = request.result as unknown[];
            };
          }
          tx.oncomplete = () => {
            db.close();
            resolve(out);
          };
          tx.onerror = () => {
            reject(tx.error ?? new Error('read failed'));
          };
        };
      }),
  );
}

async function readDownload(lab: PersonaLab, what: 'JSON' | 'CSV'): Promise<string> {
  const path = await (await lab.download(what)).path();
  return readFile(path, 'utf8');
}

const sessionKey = (s: BenchSession) => `${s.condition}/${s.personaId}/${s.sceneIndex}`;

async function openLabWithTinyModel(page: Page): Promise<{ app: PersonaApp; lab: PersonaLab }> {
  const app = new PersonaApp(page);
  await app.open();
  await app.addCustomGguf('models/tiny.gguf', 'Tiny');
  await app.loadModel('Tiny');
  await app.backToChat();
  // The user's own life in the app: one conversation, whose reply has finished.
  await app.chatOnce('I just moved to Berlin and I like short answers.');
  const lab = new PersonaLab(page);
  await lab.open();
  await lab.useShippedDataset();
  await expect(lab.datasetSummary).toContainText(/persona-en: \d+\s+personas/);
  return { app, lab };
}

test('one persona × 3 sessions runs through every condition in the Lab, and the user’s data is untouched', async ({
  page,
}) => {
  test.setTimeout(360_000);
  const { app, lab } = await openLabWithTinyModel(page);
  const before = await snapshotUserData(page);

  await lab.configure({ ...ONE_PERSONA, conditions: BENCH_CONDITIONS });
  await lab.startButton.click();
  await expect(lab.progress).toBeVisible();
  await expect(lab.status).toHaveAttribute('data-status', 'done', { timeout: 300_000 });
  await expect(lab.runError).toHaveCount(0);

  // The paper's Table 1: a row per condition, with the paper's GPT-4o rows for reference.
  await expect(lab.conditionRows()).toHaveCount(BENCH_CONDITIONS.length);
  for (const condition of BENCH_CONDITIONS) {
    await expect(
      lab.resultsTable.locator(`tr[data-condition="${condition}"] td`).nth(5),
    ).toHaveText('3');
  }
  await expect(lab.resultsTable).toContainText('GPT-4o · learned, k = 3');
  await expect(lab.view.getByRole('img', { name: /User utterances per session/ })).toBeVisible();

  // Every session, with every model call it made, is in the downloads.
  const json = JSON.parse(await readDownload(lab, 'JSON')) as { sessions: BenchSession[] };
  expect(json.sessions).toHaveLength(BENCH_CONDITIONS.length * 3);
  expect(new Set(json.sessions.map(sessionKey)).size).toBe(json.sessions.length);
  for (const session of json.sessions) {
    const roles = session.calls.map((c) => c.role);
    expect(roles).toContain('assistant');
    expect(roles).toContain('simulator');
    expect(roles).toContain('judge');
    for (const call of session.calls) expect(call.messages.length).toBeGreaterThan(0);
  }
  const csv = (await readDownload(lab, 'CSV')).trim().split(/\r?\n/);
  expect(csv).toHaveLength(1 + BENCH_CONDITIONS.length * 3);

  // The lab never touched the user's conversations, messages, profile or settings.
  expect(await snapshotUserData(page)).toEqual(before);
  await expect(app.conversationList()).toHaveCount(1);
});

test('a stopped run resumes where it stopped, and lists every session exactly once', async ({
  page,
}) => {
  test.setTimeout(240_000);
  const { lab } = await openLabWithTinyModel(page);
  const conditions = ['none', 'learned-k1'] as const;
  await lab.configure({ ...ONE_PERSONA, conditions });
  await lab.startButton.click();
  await expect.poll(() => lab.stepsDone(), { timeout: 120_000 }).toBeGreaterThanOrEqual(2);
  await lab.stopButton.click();
  await expect(lab.status).toHaveAttribute('data-status', 'stopped', { timeout: 120_000 });
  const doneAtStop = await lab.stepsDone();
  await expect(lab.pastRuns).toHaveCount(1);

  // A reload in between: everything the run needs comes back from the lab database.
  await page.reload();
  await lab.open();
  await expect(lab.pastRuns.first()).toHaveAttribute('data-status', 'stopped');
  await lab.resumeNewest();
  await expect(lab.status).toHaveAttribute('data-status', 'done', { timeout: 180_000 });
  expect(await lab.stepsDone()).toBeGreaterThan(doneAtStop);
  await expect(lab.pastRuns).toHaveCount(1);

  const json = JSON.parse(await readDownload(lab, 'JSON')) as { sessions: BenchSession[] };
  const keys = json.sessions.map(sessionKey).sort();
  const expected = conditions.flatMap((c) =>
    [0, 1, 2].map((i) => `${c}/${json.sessions[0]?.personaId}/${i}`),
  );
  expect(keys).toEqual(expected.sort());
});

test('a dataset folder the user picks loads like the shipped set; a broken one is refused with the reason', async ({
  page,
}) => {
  const app = new PersonaApp(page);
  await app.open();
  const lab = new PersonaLab(page);
  await lab.open();
  await lab.useShippedDataset();
  await expect(lab.datasetSummary).toContainText('from persona-en (shipped');
  const shipped = (await lab.datasetSummary.innerText()).split(' from ')[0];

  await lab.pickDatasetFolder('public/personabench/persona-en');
  await expect(lab.datasetSummary).toContainText('from folder');
  expect((await lab.datasetSummary.innerText()).split(' from ')[0]).toBe(shipped);

  const work = await mkdtemp(join(tmpdir(), 'lab-dataset-'));
  try {
    await mkdir(join(work, 'broken', 'mara'), { recursive: true });
    await writeFile(join(work, 'broken', 'mara', 'persona.json'), '{ "Name": "Mara", ');
    await lab.pickDatasetFolder(join(work, 'broken'));
    await expect(lab.datasetError).toContainText('mara/persona.json');
    await expect(lab.datasetSummary).toHaveCount(0);
    await expect(lab.startButton).toBeDisabled();
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});
