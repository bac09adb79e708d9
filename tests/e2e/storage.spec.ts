import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { PersonaApp } from './pages/persona-app';

const TINY = 'Tiny';

/** Counts the app's calls to `navigator.storage.persist()` in the tab, across reloads. */
async function countPersistRequests(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const original = Object.getOwnPropertyDescriptor(StorageManager.prototype, 'persist')
      ?.value as (this: StorageManager) => Promise<boolean>;
    StorageManager.prototype.persist = function (this: StorageManager) {
      const calls = Number(sessionStorage.getItem('test.persistCalls') ?? 0) + 1;
      sessionStorage.setItem('test.persistCalls', String(calls));
      return original.call(this);
    };
  });
}

const persistRequests = (page: Page): Promise<number> =>
  page.evaluate(() => Number(sessionStorage.getItem('test.persistCalls') ?? 0));

test.describe('storage', () => {
  test('asks once for persistent storage after the first download; the storage view shows quota, data and models', async ({
    page,
  }) => {
    await countPersistRequests(page);
    const app = new PersonaApp(page);
    await app.open();
    await app.addCustomGguf('models/tiny.gguf', TINY);
    expect(await persistRequests(page)).toBe(0);
    await app.loadModel(TINY);

    // Playwright's browser context is off the record, where Chromium never grants it.
    const onModels = app.modelsView.getByRole('status', { name: 'Persistent storage' });
    await expect(onModels).toContainText('Persistent storage: not granted.');
    await expect(onModels).toContainText('models and profile alike');
    await expect(onModels.getByRole('button', { name: 'Ask again' })).toBeVisible();
    expect(await persistRequests(page)).toBe(1);

    await app.backToChat();
    await app.typeAndSend('Hello storage');
    await app.waitForReplyToFinish();

    await app.openPrivacy();
    const storage = page.getByRole('region', { name: 'Storage' });
    await expect(storage.getByTestId('browser-quota')).toContainText(
      /uses [\d.]+ [kMG]?B of the [\d.]+ [kMGT]?B the\s+browser lets it use/,
    );
    await expect(storage.getByTestId('browser-quota')).toContainText('estimates');
    await expect(storage.getByRole('list', { name: 'Space by kind of data' })).toContainText(
      'Messages (2)',
    );
    await expect(storage.getByRole('list', { name: 'Largest conversations' })).toContainText(
      'Hello storage (2 messages)',
    );
    const files = storage.getByRole('list', { name: 'Downloaded model files' });
    await expect(files).toContainText(TINY);
    await expect(files).toContainText('1.0 MB');
    await expect(storage.getByRole('status', { name: 'Persistent storage' })).toContainText(
      'not granted',
    );

    // A reload brings the model back from the cache: no download, so no second request.
    await app.reload();
    // Loaded, not loading: "Loading tiny.gguf…" names the model too.
    await expect(app.modelBadge).toContainText('tiny.gguf ·', { timeout: 60_000 });
    expect(await persistRequests(page)).toBe(1);
    // The button asks again whenever the user wants.
    await app.openPrivacy();
    await storage.getByRole('button', { name: 'Ask again' }).click();
    await expect.poll(() => persistRequests(page)).toBe(2);

    // Deleting the model from the storage view frees its files.
    page.once('dialog', (dialog) => void dialog.accept());
    await files.getByRole('button', { name: `Delete ${TINY}` }).click();
    await expect(files).toHaveCount(0);
    await expect(storage).toContainText('Downloaded models None.');
    await app.openModels();
    await expect(
      app.modelCard(TINY).getByRole('button', { name: 'Download and load' }),
    ).toBeVisible();
  });

  test('when the browser grants persistent storage, both views say so', async ({
    playwright,
  }, testInfo) => {
    // A profile on disk: an off-the-record context never persists, whatever it is granted.
    const dir = mkdtempSync(join(tmpdir(), 'persona-persist-'));
    const context = await playwright.chromium.launchPersistentContext(dir, {
      ...testInfo.project.use.launchOptions,
      baseURL: testInfo.project.use.baseURL,
    });
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      const app = new PersonaApp(page);
      await app.open();
      await app.addCustomGguf('models/tiny.gguf', TINY);
      await app.loadModel(TINY);
      const onModels = app.modelsView.getByRole('status', { name: 'Persistent storage' });
      // Chromium judges a site this new not engaging enough, and says no without a prompt.
      await expect(onModels).toContainText('Persistent storage: not granted.');

      // What installing or bookmarking the app would earn it, granted here directly.
      const cdp = await context.newCDPSession(page);
      await cdp.send('Browser.setPermission', {
        permission: { name: 'persistent-storage' },
        setting: 'granted',
        origin: new URL(page.url()).origin,
      });
      await onModels.getByRole('button', { name: 'Ask again' }).click();
      await expect(onModels).toContainText('Persistent storage: granted.');
      await expect(onModels.getByRole('button')).toHaveCount(0);
      await app.openPrivacy();
      await expect(
        page
          .getByRole('region', { name: 'Storage' })
          .getByRole('status', { name: 'Persistent storage' }),
      ).toContainText('Persistent storage: granted.');
    } finally {
      await context.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
