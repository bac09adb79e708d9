import { expect, test } from '@playwright/test';
import { PersonaApp } from './pages/persona-app';
import { APP_PORT, MODEL_SERVER } from './ports';

const APP_ORIGIN = `http://127.0.0.1:${APP_PORT}`;

/**
 * Every request a whole journey makes, from the page, its workers (the assistant worker and
 * wllama's nested one) and any service worker, goes to the app's own origin or to the model host
 * in use, and nowhere else; after a reload with the network off, everything comes from the
 * service worker and the engines' caches.
 */
test('a full journey contacts only the app and the model host in use', async ({
  page,
  context,
}) => {
  const requests: string[] = [];
  context.on('request', (request) => requests.push(request.url()));
  context.on('serviceworker', (worker) => {
    requests.push(`service worker ${worker.url()}`);
  });

  const app = new PersonaApp(page);
  await app.open();
  await app.addCustomGguf('models/tiny.gguf', 'Tiny');
  await app.loadModel('Tiny');
  await app.backToChat();
  await app.chatOnce('I just moved to Berlin.');
  await app.chatOnce('Tell me about trains.');

  await app.openProfile();
  const download = page.waitForEvent('download');
  await app.profileView.getByRole('button', { name: 'Export' }).click();
  expect((await download).suggestedFilename()).toMatch(/\.json$/);

  await app.reload();
  await app.openModels();
  await app.loadModel('Tiny');
  await app.backToChat();
  await app.chatOnce('And buses?');

  // Offline: the page, its workers and the engine come back from the service worker's cache and
  // the model from browser storage; not one request reaches a network.
  const offline: { url: string; fromServiceWorker: boolean }[] = [];
  const failed: string[] = [];
  context.on('response', (response) => {
    offline.push({ url: response.url(), fromServiceWorker: response.fromServiceWorker() });
  });
  context.on('requestfailed', (request) => failed.push(request.url()));
  await context.setOffline(true);
  await app.reload();
  await expect(app.modelBadge).toContainText('tiny.gguf · wasm', { timeout: 60_000 });
  await app.chatOnce('Still there without a network?');
  await expect(app.lastReply()).toHaveAttribute('data-status', 'complete');
  expect(failed).toEqual([]);
  const fetched = offline.filter((r) => /^https?:/.test(r.url));
  // Including what the workers load: the assistant worker's module and wllama's wasm.
  expect(fetched.some((r) => /\/assets\/assistant\.worker-[\w-]+\.js$/.test(r.url))).toBe(true);
  expect(fetched.some((r) => /\/assets\/wllama-[\w-]+\.wasm$/.test(r.url))).toBe(true);
  expect(fetched.filter((r) => !r.fromServiceWorker)).toEqual([]);

  const outside = requests
    .filter((url) => !url.startsWith('blob:') && !url.startsWith('data:'))
    .filter((url) => {
      const origin = new URL(url.replace(/^service worker /, '')).origin;
      return origin !== APP_ORIGIN && origin !== MODEL_SERVER;
    });
  expect(outside).toEqual([]);
  // The recording sees the workers' requests too: the weights are fetched by wllama's worker.
  expect(requests.some((url) => url.startsWith(`${MODEL_SERVER}/models/tiny.gguf`))).toBe(true);
  expect(requests.some((url) => /\/assets\/wllama-[\w-]+\.wasm$/.test(url))).toBe(true);
});
