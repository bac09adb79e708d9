import { expect, test } from '@playwright/test';
import { MODEL_SERVER } from './ports';
import { PersonaApp } from './pages/persona-app';

// Runs in the 'webgpu' project: Chromium with --enable-unsafe-webgpu exposes SwiftShader, a real
// WebGPU adapter on the CPU, without shader-f16.
test.describe('on a WebGPU browser', () => {
  test('detects the adapter and offers the f32 build of each GPU model', async ({ page }) => {
    const app = new PersonaApp(page);
    await app.open();
    const status = page.getByTestId('webgpu-status');
    await expect(status).toContainText('WebGPU available');
    await expect(status).toContainText('16-bit shaders (shader-f16): no');
    const llama = app.modelsView.getByRole('article', { name: 'Llama 3.2 1B Instruct' });
    await expect(llama).toHaveAttribute('data-model-id', 'Llama-3.2-1B-Instruct-q4f32_1-MLC');
    await expect(llama).not.toContainText('Cannot run here');
    // Every GPU model is offered in its q4f32 build, none needs shader-f16 here.
    const gpuModels = app.modelsView.locator('.grid article[data-model-id$="-MLC"]');
    await expect(gpuModels.first()).toBeVisible();
    for (const id of await gpuModels.evaluateAll((cards) =>
      cards.map((c) => c.getAttribute('data-model-id') ?? ''),
    )) {
      expect(id).toContain('q4f32_1');
    }
  });

  test('a model missing from its server fails with a clear message and can be retried', async ({
    page,
  }) => {
    const app = new PersonaApp(page);
    await app.open();
    await app.addCustomMlcModel(
      'models/no-such-model-MLC/resolve/main/',
      'models/no-such-model-MLC/model-webgpu.wasm',
      'Self-hosted Llama',
    );
    const requests: string[] = [];
    page.on('request', (request) => {
      if (request.url().startsWith(MODEL_SERVER)) requests.push(request.url());
    });

    await app.startLoading('Self-hosted Llama');
    await expect(app.loadFailure).toContainText('Could not load Self-hosted Llama', {
      timeout: 60_000,
    });
    await expect(app.loadFailure).toContainText(/not found|404/i);
    await expect(app.loadFailure).toContainText('Check the URL');
    expect(requests.some((url) => url.includes('no-such-model-MLC'))).toBe(true);
    await expect(app.modelBadge).toHaveText(/No model loaded/);

    const before = requests.length;
    await app.loadFailure.getByRole('button', { name: 'Retry' }).click();
    await expect(app.loadFailure).toContainText('Could not load Self-hosted Llama', {
      timeout: 60_000,
    });
    // The retry really went back to the server rather than replaying the old error.
    expect(requests.length).toBeGreaterThan(before);
  });
});
