import { expect, test } from '@playwright/test';
import { PersonaApp } from './pages/persona-app';

/**
 * A 1,000,000-character message (the most a backup allows) blocked the page for 15 s when its
 * conversation was opened (issue 12). The main thread's longest task while opening it must stay
 * short enough that the page answers; generous for two shared cores, far below the 15 s seen.
 */
const MAX_BLOCKED_MS = 1_500;

test('opening a conversation with a million-character message does not freeze the page', async ({
  page,
}) => {
  await page.addInitScript(() => {
    const record = window as unknown as { __longest: number };
    record.__longest = 0;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        record.__longest = Math.max(record.__longest, entry.duration);
      }
    }).observe({ type: 'longtask', buffered: true });
  });
  const app = new PersonaApp(page);
  await app.open();
  const now = Date.now();
  await app.putStoredRows('conversations', [
    {
      id: 'c-long',
      title: 'Long',
      createdAt: now,
      updatedAt: now,
      temporary: false,
      learnedUntil: 0,
    },
  ]);
  const huge = `# Not a heading\n${'All work and no play. '.repeat(45_455)}`.slice(0, 1_000_000);
  await app.putStoredRows('messages', [
    {
      id: 'm-long',
      conversationId: 'c-long',
      role: 'user',
      content: huge,
      createdAt: now,
      status: 'complete',
    },
  ]);
  await app.reload();
  const longest = () => page.evaluate(() => (window as unknown as { __longest: number }).__longest);
  await page.evaluate(() => {
    (window as unknown as { __longest: number }).__longest = 0;
  });

  await app.openConversation('Long');
  const showAll = page.getByRole('button', { name: /Show the whole message \(990,000 more/ });
  await expect(showAll).toBeVisible();
  await expect(page.locator('article.message .plain')).toContainText('# Not a heading');
  const blocked = await longest();
  test.info().annotations.push({ type: 'longest task (ms)', description: String(blocked) });
  expect(blocked).toBeLessThan(MAX_BLOCKED_MS);

  await showAll.click();
  await expect(showAll).toBeHidden();
  expect(await page.locator('article.message .plain').evaluate((el) => el.textContent.length)).toBe(
    1_000_000,
  );
});
