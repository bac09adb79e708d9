import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test, type Page } from '@playwright/test';
import { serveApp, type StaticApp } from '../fixtures/static-app-server';
import { PersonaApp } from './pages/persona-app';
import { STATIC_APP_PORT } from './ports';

const DIST = fileURLToPath(new URL('../../dist', import.meta.url));
const NEW_VERSION_MARK = '<meta name="persona-test-version" content="2" />';

/** A deployed copy of the build that the test can replace with a new version. */
let folder = '';
let server: StaticApp | null = null;

test.use({ baseURL: `http://127.0.0.1:${STATIC_APP_PORT}` });

test.beforeEach(async () => {
  folder = mkdtempSync(join(tmpdir(), 'persona-update-'));
  cpSync(DIST, folder, { recursive: true });
  server = await serveApp(folder, STATIC_APP_PORT);
});

test.afterEach(async () => {
  await server?.close();
  server = null;
  rmSync(folder, { recursive: true, force: true });
});

/**
 * Deploys "version 2": a changed page, and a service worker whose precache list names the new
 * page revision, as a real rebuild would.
 */
function deployNewVersion(): void {
  const indexPath = join(folder, 'index.html');
  const page = readFileSync(indexPath, 'utf8').replace('<head>', `<head>\n    ${NEW_VERSION_MARK}`);
  writeFileSync(indexPath, page);
  const revision = createHash('md5').update(page).digest('hex');
  const swPath = join(folder, 'sw.js');
  const worker = readFileSync(swPath, 'utf8');
  const updated = worker.replace(/(\{url:"index\.html",revision:")[0-9a-f]+(")/, `$1${revision}$2`);
  expect(updated).not.toBe(worker);
  writeFileSync(swPath, updated);
}

/** Which version the page now running was loaded from. */
function runningVersion(page: Page): Promise<number> {
  return page
    .locator('meta[name="persona-test-version"]')
    .count()
    .then((n) => (n > 0 ? 2 : 1));
}

test('a new version waits for Reload, then takes over; other tabs are told, not reloaded', async ({
  page,
  context,
}) => {
  const app = new PersonaApp(page);
  await app.open();
  await expect(page.getByTestId('app-update')).toHaveText(/Ready to work offline/);
  await app.reload();
  expect(await page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);

  // A second tab, with a marker that a reload would wipe.
  const other = await context.newPage();
  const otherApp = new PersonaApp(other);
  await otherApp.open();
  await other.evaluate(() => {
    (window as Window & { untouched?: boolean }).untouched = true;
  });

  // Stand-ins for downloaded models: WebLLM's Cache Storage and wllama's private files.
  await page.evaluate(async () => {
    await (await caches.open('webllm/model')).put('/model-shard.bin', new Response('weights'));
    const root = await navigator.storage.getDirectory();
    const folder = await root.getDirectoryHandle('cache', { create: true });
    await folder.getFileHandle('model.gguf', { create: true });
  });

  deployNewVersion();
  // The check an open tab makes every hour (a navigation makes it too).
  await page.evaluate(async () => {
    const registration = await navigator.serviceWorker.getRegistration();
    await registration?.update();
  });

  const prompt = page.getByTestId('app-update');
  await expect(prompt).toHaveText(/Update available\s*·\s*Reload/);
  await expect(other.getByTestId('app-update')).toHaveText(/Update available/);
  // Installed but not in control: the running pages and what the worker serves stay version 1.
  const served = await page.evaluate(async () => (await fetch('/index.html')).text());
  expect(served).not.toContain('persona-test-version');
  expect(await runningVersion(page)).toBe(1);

  await Promise.all([
    page.waitForEvent('load'),
    prompt.getByRole('button', { name: 'Reload' }).click(),
  ]);
  await expect(page.getByRole('heading', { name: 'Persona' })).toBeVisible();
  expect(await runningVersion(page)).toBe(2);
  await expect(page.getByTestId('app-update')).toHaveCount(0);
  expect(
    await page.evaluate(async () => {
      const registration = await navigator.serviceWorker.getRegistration();
      return {
        controlled: navigator.serviceWorker.controller !== null,
        waiting: registration?.waiting ?? null,
      };
    }),
  ).toEqual({ controlled: true, waiting: null });

  // Activating the new version cleared only the old precache entries, not the models.
  expect(
    await page.evaluate(async () => {
      const shard = await (await caches.open('webllm/model')).match('/model-shard.bin');
      const folder = await (await navigator.storage.getDirectory()).getDirectoryHandle('cache');
      await folder.getFileHandle('model.gguf');
      return shard ? await shard.text() : null;
    }),
  ).toBe('weights');

  // The other tab may be mid-reply: it keeps running and offers the reload instead.
  await expect(other.getByTestId('app-update')).toHaveText(
    /Persona was updated in another tab\s*·\s*Reload/,
  );
  expect(await other.evaluate(() => (window as Window & { untouched?: boolean }).untouched)).toBe(
    true,
  );
  await Promise.all([
    other.waitForEvent('load'),
    other.getByTestId('app-update').getByRole('button', { name: 'Reload' }).click(),
  ]);
  expect(await runningVersion(other)).toBe(2);
});
