import { expect, test } from '@playwright/test';
import { createServer, type ViteDevServer } from 'vite';
import { DEV_SERVER_PORT } from './ports';

/**
 * `npm run dev` under its own Content Security Policy header: Vite's dev client injects component
 * styles as `<style>` elements and talks to the server over a websocket, which the production
 * policy forbids. The dev policy admits exactly those two; this proves the page and its worker run.
 */
test.describe('dev server', () => {
  let server: ViteDevServer | undefined;

  test.beforeAll(async () => {
    server = await createServer({
      logLevel: 'silent',
      server: { port: DEV_SERVER_PORT, strictPort: true, host: '127.0.0.1' },
    });
    await server.listen();
  });

  test.afterAll(async () => {
    await server?.close();
  });

  test('loads under the dev policy without a single violation', async ({ page }) => {
    await page.addInitScript(() => {
      const seen: string[] = [];
      (window as unknown as { __violations: string[] }).__violations = seen;
      document.addEventListener('securitypolicyviolation', (event) => {
        seen.push(`${event.effectiveDirective} ${event.blockedURI}`);
      });
    });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    const response = await page.goto(`http://127.0.0.1:${DEV_SERVER_PORT}/`);

    // The worker answered the device probe, and the dev client's websocket is up.
    await expect(page.getByTestId('webgpu-status')).toBeVisible({ timeout: 60_000 });
    await expect
      .poll(() =>
        page.evaluate(() => [...document.querySelectorAll('style')].some((s) => s.textContent)),
      )
      .toBe(true);
    await page.getByRole('button', { name: 'Privacy', exact: true }).click();
    await expect(page.getByRole('region', { name: 'Storage' })).toBeVisible();

    expect(
      await page.evaluate(() => (window as unknown as { __violations: string[] }).__violations),
    ).toEqual([]);
    expect(errors).toEqual([]);
    // Loosened for the dev client's styles only: scripts stay as strict as in production.
    const header = response?.headers()['content-security-policy'] ?? '';
    expect(header).toContain("script-src 'self' 'wasm-unsafe-eval';");
    expect(header).toContain("style-src 'self' 'unsafe-inline';");
  });
});
