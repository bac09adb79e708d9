import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { serveApp, type StaticApp } from '../fixtures/static-app-server';
import { PersonaApp } from './pages/persona-app';
import { STATIC_APP_PORT } from './ports';

const DIST = fileURLToPath(new URL('../../dist', import.meta.url));
const TINY = 'Tiny';

/**
 * The app is served by a server this test owns, so it can be switched off: after that, only the
 * service worker can bring the app back, and the network is off for everything else too.
 */
let server: StaticApp | null = null;

test.use({ baseURL: `http://127.0.0.1:${STATIC_APP_PORT}` });

test.beforeEach(async () => {
  server = await serveApp(DIST, STATIC_APP_PORT);
});

test.afterEach(async () => {
  await server?.close();
  server = null;
});

test('after one visit the app opens and chats with a cached model without any network', async ({
  page,
  context,
}) => {
  const app = new PersonaApp(page);
  await app.open();
  await expect(page.getByTestId('app-update')).toHaveText(/Ready to work offline/);
  await app.addCustomGguf('models/tiny.gguf', TINY);
  await app.loadModel(TINY);
  await app.backToChat();
  await app.chatOnce('Hello while online');

  await server?.close();
  server = null;
  await context.setOffline(true);
  const failed: string[] = [];
  context.on('requestfailed', (request) => failed.push(request.url()));

  await app.reload();
  expect(await page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
  // What was stored is still there: the conversation from before.
  await expect(app.conversationList()).toContainText(['Hello while online']);

  // The last model loads again by itself, from browser storage: the host it was downloaded from
  // is unreachable.
  await expect(app.modelBadge).toContainText('tiny.gguf · wasm', { timeout: 60_000 });
  await app.openModels();
  await expect(app.modelCard(TINY)).toContainText('In use');
  await expect(app.loadFailure).toHaveCount(0);
  await app.backToChat();
  await app.startNewChat();
  await app.typeAndSend('Hello while offline');
  await expect(app.lastReply()).toHaveAttribute('data-status', 'streaming');
  await app.waitForReplyToFinish();
  await expect(app.lastReply()).toHaveAttribute('data-status', 'complete');
  await expect(app.lastReply()).not.toBeEmpty();
  // Nothing needed the network: the page, its workers and the engine came from the caches.
  expect(failed).toEqual([]);
});
