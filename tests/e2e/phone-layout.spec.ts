import { expect, test, type Page } from '@playwright/test';
import { PersonaApp } from './pages/persona-app';

/**
 * A real small-screen layout (issue 12): at 390 px the conversation list is a drawer behind a
 * menu button, the composer stays at the bottom, and nothing overflows sideways.
 */
test.use({ viewport: { width: 390, height: 844 }, hasTouch: true });

const NOW = 1_700_000_000_000;

async function overflow(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const wide = [...document.querySelectorAll('body *')].filter((el) => {
      const box = el.getBoundingClientRect();
      const style = getComputedStyle(el);
      // What is moved off screen on purpose (the closed drawer, visually hidden text) is not seen.
      if (style.visibility === 'hidden' || box.width === 0 || box.height <= 1) return false;
      if (el.closest('[style*="visibility: hidden"], .visually-hidden')) return false;
      return box.right > width + 1 || box.left < -1;
    });
    const page = document.documentElement.scrollWidth > width ? ['the page scrolls sideways'] : [];
    return [
      ...page,
      ...wide
        .slice(0, 5)
        .map((el) => `${el.tagName}.${el.className} ${el.textContent.slice(0, 30)}`),
    ];
  });
}

test('chat, profile and models fit a phone, with the conversations in a drawer', async ({
  page,
}) => {
  const app = new PersonaApp(page);
  await app.open();
  await app.putStoredRows('conversations', [
    {
      id: 'c1',
      title: 'Moving to Berlin',
      createdAt: NOW,
      updatedAt: NOW,
      temporary: false,
      learnedUntil: 0,
    },
  ]);
  await app.putStoredRows('messages', [
    {
      id: 'm1',
      conversationId: 'c1',
      role: 'user',
      content: `A long unbroken word: ${'x'.repeat(200)} and a table:\n\n| a | b |\n|---|---|\n| ${'wide '.repeat(30)} | c |`,
      createdAt: NOW,
      status: 'complete',
    },
  ]);
  await app.reload();

  // Models first (nothing chosen yet).
  await expect(app.modelsView).toBeVisible();
  expect(await overflow(page)).toEqual([]);

  const conversations = page.getByRole('navigation', { name: 'Conversations' });
  const menu = page.getByRole('button', { name: 'Conversations and pages' });
  await expect(conversations).toBeHidden();
  await menu.click();
  await expect(menu).toHaveAttribute('aria-expanded', 'true');
  await expect(conversations).toBeVisible();
  await conversations.getByRole('button', { name: 'Moving to Berlin', exact: true }).click();
  await expect(conversations).toBeHidden();
  await expect(page.getByText('A long unbroken word')).toBeVisible();
  expect(await overflow(page)).toEqual([]);
  const composer = await page.getByRole('textbox', { name: 'Message' }).boundingBox();
  expect(composer).not.toBeNull();
  expect((composer?.y ?? 0) + (composer?.height ?? 0)).toBeGreaterThan(844 - 120);

  // Escape closes the drawer and gives focus back to the menu button.
  await menu.click();
  await expect(conversations).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(conversations).toBeHidden();
  await expect(menu).toBeFocused();

  await menu.click();
  await page.getByRole('button', { name: /^Profile/ }).click();
  await expect(app.profileView).toBeVisible();
  await expect(conversations).toBeHidden();
  expect(await overflow(page)).toEqual([]);

  await menu.click();
  await page.getByRole('button', { name: 'Models', exact: true }).click();
  await expect(app.modelsView).toBeVisible();
  await expect(conversations).toBeHidden();
  expect(await overflow(page)).toEqual([]);
});
