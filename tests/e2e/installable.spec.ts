import { expect, test } from '@playwright/test';
import { PersonaApp } from './pages/persona-app';

interface ManifestIcon {
  src: string;
  sizes: string;
  type?: string;
  purpose?: string;
}

interface Manifest {
  name: string;
  short_name: string;
  display: string;
  start_url: string;
  scope: string;
  theme_color: string;
  background_color: string;
  icons: ManifestIcon[];
}

/** Width and height from a PNG's header, to prove an icon is the size the manifest claims. */
function pngSize(bytes: Buffer): string {
  expect(bytes.subarray(1, 4).toString('ascii')).toBe('PNG');
  return `${bytes.readUInt32BE(16)}x${bytes.readUInt32BE(20)}`;
}

test.describe('installable', () => {
  test('the page links a valid manifest whose icons load', async ({ page, request }) => {
    const app = new PersonaApp(page);
    await app.open();
    const href = await page.locator('link[rel="manifest"]').getAttribute('href');
    expect(href).toBeTruthy();
    const manifestUrl = new URL(href ?? '', page.url()).href;
    const response = await request.get(manifestUrl);
    expect(response.ok()).toBe(true);
    const manifest = (await response.json()) as Manifest;

    expect(manifest.name).toBe('Persona');
    expect(manifest.short_name).toBe('Persona');
    expect(manifest.display).toBe('standalone');
    // Relative, so the app installs the same under any path; here it resolves to the app itself.
    expect(new URL(manifest.start_url, manifestUrl).href).toBe(new URL('/', page.url()).href);
    expect(new URL(manifest.scope, manifestUrl).href).toBe(new URL('/', page.url()).href);
    expect(manifest.theme_color).toMatch(/^#[0-9a-f]{6}$/i);
    expect(manifest.background_color).toMatch(/^#[0-9a-f]{6}$/i);

    const pngs = manifest.icons.filter((icon) => icon.type === 'image/png');
    const sizes = pngs.map((icon) => `${icon.sizes} ${icon.purpose ?? 'any'}`);
    expect(sizes).toEqual(
      expect.arrayContaining(['192x192 any', '512x512 any', '512x512 maskable']),
    );
    for (const icon of pngs) {
      const image = await request.get(new URL(icon.src, manifestUrl).href);
      expect(image.ok(), icon.src).toBe(true);
      expect(image.headers()['content-type']).toContain('image/png');
      expect(pngSize(await image.body())).toBe(icon.sizes);
    }
  });

  test('a service worker installs, says so, precaches the app and controls it after a reload', async ({
    page,
  }) => {
    const app = new PersonaApp(page);
    await app.open();
    // The first visit is not controlled: nothing swaps the code under the page that loaded it.
    expect(await page.evaluate(() => navigator.serviceWorker.controller)).toBeNull();
    await expect(page.getByTestId('app-update')).toHaveText(/Ready to work offline/);

    const script = await page.evaluate(async () => {
      const registration = await navigator.serviceWorker.ready;
      return registration.active?.scriptURL ?? '';
    });
    expect(new URL(script).pathname).toBe('/sw.js');
    // The worker has no document for a <meta> policy: where the server sends its header policy,
    // that covers the worker script too.
    const workerScript = await page.request.get(script);
    expect(workerScript.headers()['content-security-policy']).toContain("script-src 'self'");

    // The whole shell is in the precache, including what loads only later: the assistant
    // worker, both engines' code and wllama's wasm.
    const precached = await page.evaluate(async () => {
      const urls: string[] = [];
      for (const name of await caches.keys()) {
        if (!name.includes('precache')) continue;
        for (const request of await (await caches.open(name)).keys()) {
          urls.push(new URL(request.url).pathname);
        }
      }
      return urls;
    });
    for (const pattern of [
      /^\/index\.html$/,
      /^\/csp-bootstrap\.js$/,
      /^\/assets\/index-[\w-]+\.js$/,
      /^\/assets\/assistant\.worker-[\w-]+\.js$/,
      /^\/assets\/webllm-[\w-]+\.js$/,
      /^\/assets\/wllama-[\w-]+\.js$/,
      /^\/assets\/wllama-[\w-]+\.wasm$/,
      /^\/manifest\.webmanifest$/,
    ]) {
      expect(
        precached.some((path) => pattern.test(path)),
        String(pattern),
      ).toBe(true);
    }

    const reloaded = await page.reload();
    await expect(page.getByRole('heading', { name: 'Persona' })).toBeVisible();
    // The page now comes from the service worker's cache, still with the server's policy header.
    expect(reloaded?.fromServiceWorker()).toBe(true);
    expect(reloaded?.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(await page.evaluate(() => navigator.serviceWorker.controller?.scriptURL ?? null)).toBe(
      script,
    );
    // Said once, on the install: a visit that finds the app cached already stays quiet.
    await expect(page.getByTestId('app-update')).toHaveCount(0);
  });
});
