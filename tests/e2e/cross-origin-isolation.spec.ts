import { fileURLToPath } from 'node:url';
import { expect, test, type Page } from '@playwright/test';
import { chooseWasmThreads } from '../../src/core/wasm-threads';
import { serveApp, type StaticApp } from '../fixtures/static-app-server';
import { PersonaApp } from './pages/persona-app';
import { STATIC_APP_PORT } from './ports';

const DIST = fileURLToPath(new URL('../../dist', import.meta.url));
const TINY = 'Tiny';

/** The threads the engine must use on this machine once the page is isolated. */
async function expectedThreads(page: Page): Promise<number> {
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  return chooseWasmThreads({ hardwareConcurrency: cores, crossOriginIsolated: true });
}

/** Loads the tiny model, checks the thread count it runs with, and chats once on it. */
async function loadAndChat(app: PersonaApp, threads: number): Promise<void> {
  await app.addCustomGguf('models/tiny.gguf', TINY);
  await app.loadModel(TINY);
  const mode = threads === 1 ? 'wasm (1 thread)' : `wasm (${threads} threads)`;
  await expect(app.modelBadge).toContainText(`tiny.gguf · ${mode}`);
  await app.backToChat();
  await app.chatOnce('Hello on every core');
  await expect(app.lastReply()).not.toBeEmpty();
}

test.describe('vite preview', () => {
  test('sends the isolation headers, so the CPU engine runs on several threads', async ({
    page,
  }) => {
    const app = new PersonaApp(page);
    const response = await page.goto('/');
    expect(response?.headers()['cross-origin-opener-policy']).toBe('same-origin');
    expect(response?.headers()['cross-origin-embedder-policy']).toBe('require-corp');
    await expect(page.getByRole('heading', { name: 'Persona' })).toBeVisible();
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);

    // On a machine of 2 cores the app chooses 1 thread even here (a core is left free);
    // threads.scripted.spec.ts runs the engine multi-threaded whatever the machine.
    const threads = await expectedThreads(page);
    await app.openModels();
    await expect(page.getByTestId('wasm-status')).toContainText(
      `CPU engine (WebAssembly SIMD): ${threads} thread`,
    );
    await expect(page.getByTestId('wasm-status')).not.toContainText('not cross-origin isolated');
    // The model is fetched cross-origin (CORS) under require-corp, from a blob worker inside a
    // blob worker: all of it must keep working.
    await loadAndChat(app, threads);
  });
});

test.describe('a static host without headers', () => {
  let server: StaticApp | null = null;

  test.use({ baseURL: `http://127.0.0.1:${STATIC_APP_PORT}` });

  test.beforeEach(async () => {
    server = await serveApp(DIST, STATIC_APP_PORT);
  });

  test.afterEach(async () => {
    await server?.close();
    server = null;
  });

  test('is isolated from the second load on, once the service worker serves the page', async ({
    page,
  }) => {
    const app = new PersonaApp(page);
    await app.open();
    // The first load comes from the host, which sends no isolation headers.
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
    await expect(page.getByTestId('app-update')).toHaveText(/Ready to work offline/);

    const reloaded = await page.reload();
    await expect(page.getByRole('heading', { name: 'Persona' })).toBeVisible();
    expect(reloaded?.fromServiceWorker()).toBe(true);
    expect(reloaded?.headers()['cross-origin-embedder-policy']).toBe('require-corp');
    // The worker adds headers; it keeps the ones the host sent.
    expect(reloaded?.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    await loadAndChat(app, await expectedThreads(page));
  });

  test('without the service worker the app stays single-threaded, and says why', async ({
    browser,
  }) => {
    const context = await browser.newContext({
      baseURL: `http://127.0.0.1:${STATIC_APP_PORT}`,
      serviceWorkers: 'block',
    });
    try {
      const page = await context.newPage();
      const app = new PersonaApp(page);
      await app.open();
      await app.reload();
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
      await app.openModels();
      await expect(page.getByTestId('wasm-status')).toContainText('1 thread');
      await expect(page.getByTestId('wasm-status')).toContainText('not cross-origin isolated');
      await loadAndChat(app, 1);
    } finally {
      await context.close();
    }
  });
});
