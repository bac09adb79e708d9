import { expect, test, type Page } from '@playwright/test';
import { PersonaApp } from './pages/persona-app';

/**
 * What a closed tab keeps of a reply on screen (issue 12). A reply streams at about 25 pieces a
 * second (`steady.json`); the tab is closed at moments after its first text appears, and the
 * stored reply is compared with what was on screen. Before issue 12 the reply was stored only
 * every 500 ms, so a close within that window kept an empty reply and a later one lagged behind
 * the screen; now the first text is stored at once and then every 200 ms. The save the page
 * asks for on pagehide does not land when Chromium closes a tab (measured: the worker and the
 * page's own IndexedDB write are stopped first), so the periodic save bounds what is lost.
 */
const CLOSE_AFTER_MS = [60, 250, 800];

async function readyToChat(page: Page): Promise<PersonaApp> {
  const app = new PersonaApp(page);
  await app.open();
  await app.openModels();
  if (!(await app.modelCard('Steady').textContent())?.includes('In use')) {
    await app.loadModel('Steady');
  }
  await app.backToChat();
  await app.startNewChat();
  return app;
}

/** Starts a reply and returns its id once its first text is on screen. */
async function replyOnScreen(app: PersonaApp): Promise<string> {
  await app.typeAndSend('Tell me everything');
  await expect(app.lastReply().locator('.content')).toContainText('I was told');
  return (await app.lastReply().getAttribute('data-message-id')) ?? '';
}

async function shownLength(app: PersonaApp): Promise<number> {
  return (await app.lastReply().locator('.content').textContent())?.trim().length ?? 0;
}

async function storedLength(page: Page, messageId: string): Promise<number> {
  return page.evaluate(
    (id) =>
      new Promise<number>((resolve, reject) => {
        const open = indexedDB.open('persona');
        open.onerror = () => {
          reject(open.error ?? new Error('cannot open'));
        };
        open.onsuccess = () => {
          const get = open.result.transaction('messages').objectStore('messages').get(id);
          get.onsuccess = () => {
            const row = get.result as { content: string } | undefined;
            open.result.close();
            resolve(row?.content.trim().length ?? -1);
          };
        };
      }),
    messageId,
  );
}

test('closing the tab while a reply streams keeps the text that was shown, but the last moment', async ({
  context,
}) => {
  test.setTimeout(180_000);
  const setup = await context.newPage();
  const first = new PersonaApp(setup);
  await first.open();
  await first.addScriptedModel('steady', 'Steady');
  await setup.close();

  const seen: string[] = [];
  for (const waitMs of CLOSE_AFTER_MS) {
    const page = await context.newPage();
    const app = await readyToChat(page);
    const messageId = await replyOnScreen(app);
    await page.waitForTimeout(waitMs);
    const shown = await shownLength(app);
    await page.close({ runBeforeUnload: true });
    const reader = await context.newPage();
    await new PersonaApp(reader).open();
    const stored = await storedLength(reader, messageId);
    await reader.close();
    seen.push(`closed ${waitMs} ms after the first text: ${shown} shown, ${stored} stored`);
    // Never an empty reply once text was shown, and at most about 200 ms of pieces behind.
    expect(stored, seen.at(-1)).toBeGreaterThan(0);
    expect(shown - stored, seen.at(-1)).toBeLessThan(80);
  }
  test.info().annotations.push({ type: 'close window', description: seen.join('; ') });
});
