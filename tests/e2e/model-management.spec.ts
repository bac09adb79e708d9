import { expect, test } from '@playwright/test';
import { PersonaApp } from './pages/persona-app';

test.describe('managing models', () => {
  test('cancel a download, then load it', async ({ page }) => {
    const app = new PersonaApp(page);
    await app.open();
    await app.addCustomGguf('slow/tiny.gguf', 'Slow model');
    await app.startLoading('Slow model');
    await expect(app.loadProgress).toContainText('Downloading');
    await app.loadProgress.getByRole('button', { name: 'Cancel' }).click();
    await expect(app.loadProgress).toBeHidden();
    await expect(app.loadFailure).toBeHidden();
    await expect(app.modelBadge).toHaveText(/No model loaded/);
    await expect(app.modelCard('Slow model')).not.toContainText('Downloaded');

    await app.loadModel('Slow model');
    await expect(app.modelCard('Slow model')).toContainText('Downloaded');
  });

  test('a dropped connection says so, and Retry finishes the download', async ({ page }) => {
    const app = new PersonaApp(page);
    await app.open();
    await app.addCustomGguf(`flaky/${crypto.randomUUID()}/tiny.gguf`, 'Flaky model');
    await app.startLoading('Flaky model');
    await expect(app.loadFailure).toContainText('Could not load Flaky model');
    await expect(app.loadFailure).toContainText('Check your connection');
    await app.loadFailure.getByRole('button', { name: 'Retry' }).click();
    await expect(app.modelBadge).toContainText('tiny.gguf · wasm', { timeout: 60_000 });
    await expect(app.loadFailure).toBeHidden();
  });

  test('downloaded models are listed with their size and deleted one by one', async ({ page }) => {
    const app = new PersonaApp(page);
    await app.open();
    await app.addCustomGguf('models/tiny.gguf', 'First copy');
    await app.addCustomGguf('models/tiny.gguf?copy=2', 'Second copy');
    await app.loadModel('First copy');
    await app.loadModel('Second copy');

    const downloaded = page.getByRole('list', { name: 'Downloaded models' }).getByRole('listitem');
    await expect(downloaded).toHaveCount(2);
    await expect(downloaded.first()).toContainText('1.0 MB');
    const storage = page.getByText(/^Storage: .* used of .* available/);
    await expect(storage).toBeVisible();

    await app.modelCard('First copy').getByRole('button', { name: 'Delete download' }).click();
    await expect(downloaded).toHaveCount(1);
    await expect(downloaded).toContainText('Second copy');
    await expect(app.modelCard('First copy')).not.toContainText('Downloaded');
    // The other model is untouched and still in use.
    await expect(app.modelCard('Second copy')).toContainText('In use');
  });
});
