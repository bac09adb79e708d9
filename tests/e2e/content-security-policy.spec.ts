import { expect, test, type Page, type Worker } from '@playwright/test';
import { PersonaApp } from './pages/persona-app';
import { E2E_APP_PORT, MODEL_SERVER } from './ports';

/** Another origin that really answers, so only the policy can stop a request to it. */
const OTHER_ORIGIN = `http://127.0.0.1:${E2E_APP_PORT}`;

/** Fetches `url` from the page and reports the outcome and the violation event, if any. */
function fetchFromPage(page: Page, url: string): Promise<{ outcome: string; violation: string }> {
  return page.evaluate(async (url) => {
    const violation = new Promise<string>((resolve) => {
      document.addEventListener(
        'securitypolicyviolation',
        (event) => {
          resolve(`${event.effectiveDirective} ${event.blockedURI}`);
        },
        { once: true },
      );
      setTimeout(() => {
        resolve('none');
      }, 2000);
    });
    const outcome = await fetch(url).then(
      () => 'loaded',
      () => 'blocked',
    );
    return { outcome, violation: await violation };
  }, url);
}

function fetchFromWorker(worker: Worker, url: string): Promise<string> {
  return worker.evaluate(
    (url) =>
      fetch(url).then(
        () => 'loaded',
        () => 'blocked',
      ),
    url,
  );
}

/** The assistant worker: started from a blob URL so that it inherits the page's policy. */
async function assistantWorker(page: Page): Promise<Worker> {
  await expect.poll(() => page.workers().some((w) => w.url().startsWith('blob:'))).toBe(true);
  const worker = page.workers().find((w) => w.url().startsWith('blob:'));
  if (!worker) throw new Error('no assistant worker');
  return worker;
}

test.describe('content security policy', () => {
  test('blocks un-allowed origins in the page and its worker; an added model host works', async ({
    page,
  }) => {
    const policyMessages: string[] = [];
    page.on('console', (message) => {
      if (message.text().includes('Content Security Policy')) policyMessages.push(message.text());
    });
    const app = new PersonaApp(page);
    const response = await page.goto('/');
    expect(response?.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
    await expect(page.getByRole('heading', { name: 'Persona' })).toBeVisible();

    const policy = await page
      .locator('meta[http-equiv="Content-Security-Policy"]')
      .getAttribute('content');
    expect(policy).toContain("default-src 'self'");
    expect(policy).toContain("script-src 'self' 'wasm-unsafe-eval'");
    expect(policy).toContain("style-src 'self';");
    expect(policy).not.toContain(MODEL_SERVER);

    // The model server is not allowed until a model from it is added.
    expect(await fetchFromPage(page, `${MODEL_SERVER}/health`)).toEqual({
      outcome: 'blocked',
      violation: `connect-src ${MODEL_SERVER}/health`,
    });
    expect(await fetchFromWorker(await assistantWorker(page), `${MODEL_SERVER}/health`)).toBe(
      'blocked',
    );

    // No inline script runs, whoever inserts it.
    const inlineRan = await page.evaluate(() => {
      const script = document.createElement('script');
      script.textContent = 'document.body.dataset.inline = "ran"';
      document.body.append(script);
      return document.body.dataset.inline === 'ran';
    });
    expect(inlineRan).toBe(false);

    await app.addCustomGguf('models/tiny.gguf', 'Tiny');
    expect(await app.allowedHosts()).toEqual([MODEL_SERVER]);
    await app.loadModel('Tiny');
    await app.backToChat();
    await app.typeAndSend('Hello');
    await app.waitForReplyToFinish();
    await expect(app.lastReply()).toHaveAttribute('data-status', 'complete');

    // The added host is allowed now; any other origin still is not, from the page or the worker.
    expect((await fetchFromPage(page, `${MODEL_SERVER}/health`)).outcome).toBe('loaded');
    expect(await fetchFromPage(page, `${OTHER_ORIGIN}/`)).toEqual({
      outcome: 'blocked',
      violation: `connect-src ${OTHER_ORIGIN}/`,
    });
    expect(await fetchFromWorker(await assistantWorker(page), `${OTHER_ORIGIN}/`)).toBe('blocked');

    // The app itself never tripped the policy: every message is from the probes above.
    const unexpected = policyMessages.filter(
      (m) => !m.includes(MODEL_SERVER) && !m.includes(OTHER_ORIGIN) && !m.includes('inline'),
    );
    expect(unexpected).toEqual([]);
  });

  test('the Privacy view lists the allowed hosts and removes an added one', async ({ page }) => {
    const app = new PersonaApp(page);
    await app.open();
    await app.addCustomGguf('models/tiny.gguf', 'Tiny');
    await page.getByRole('button', { name: 'Privacy', exact: true }).click();
    const privacy = page.getByRole('region', { name: 'Privacy' });
    await expect(privacy.getByRole('list', { name: 'Allowed hosts' })).toContainText(
      'https://huggingface.co',
    );
    await expect(privacy.getByRole('list', { name: 'Allowed hosts' })).toContainText(
      'https://raw.githubusercontent.com',
    );
    const added = privacy.getByRole('list', { name: 'Hosts you added' });
    await expect(added).toContainText(MODEL_SERVER);

    page.once('dialog', (dialog) => void dialog.accept());
    await Promise.all([
      page.waitForEvent('load'),
      added.getByRole('button', { name: `Remove ${MODEL_SERVER}` }).click(),
    ]);
    await expect(page.getByRole('region', { name: 'Privacy' })).toContainText('Hosts you added');
    await expect(page.getByRole('list', { name: 'Hosts you added' })).toBeHidden();
    expect(await app.allowedHosts()).toEqual([]);
    expect((await fetchFromPage(page, `${MODEL_SERVER}/health`)).outcome).toBe('blocked');
  });
});
