import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { serveApp } from '../fixtures/static-app-server';
import { PersonaApp } from './pages/persona-app';
import { STATIC_APP_PORT } from './ports';

/**
 * The engine on several threads, whatever this machine's core count: the end-to-end build's
 * engine loader honours a `threads=N` query on a GGUF URL (tests/doubles/e2e-engine-loader.ts).
 */
const DIST_E2E = fileURLToPath(new URL('../../dist-e2e', import.meta.url));
const TWO_THREADS = 'models/tiny.gguf?threads=2';

async function chatOnTwoThreads(app: PersonaApp, mode: string): Promise<void> {
  await app.addCustomGguf(TWO_THREADS, 'Tiny on two');
  await app.loadModel('Tiny on two');
  await expect(app.modelBadge).toContainText(`· ${mode}`);
  await app.backToChat();
  await app.chatOnce('Hello from two threads');
  await expect(app.lastReply()).toHaveAttribute('data-status', 'complete');
  await expect(app.lastReply()).not.toBeEmpty();
}

test('in the isolated app the tiny model runs and replies on two threads', async ({ page }) => {
  const app = new PersonaApp(page);
  await app.open();
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  // llama.cpp's pthreads start from blob URLs inside wllama's worker inside the assistant
  // worker: all of them must load under COEP and the Content Security Policy.
  await chatOnTwoThreads(app, 'wasm (2 threads)');
});

test('where isolation is off, the same request falls back to one thread', async ({ browser }) => {
  const server = await serveApp(DIST_E2E, STATIC_APP_PORT);
  const context = await browser.newContext({
    baseURL: server.origin,
    serviceWorkers: 'block',
  });
  try {
    const page = await context.newPage();
    const app = new PersonaApp(page);
    await app.open();
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
    await chatOnTwoThreads(app, 'wasm (1 thread)');
  } finally {
    await context.close();
    await server.close();
  }
});
