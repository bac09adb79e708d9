import { expect, test, type Page } from '@playwright/test';
import { PersonaApp } from './pages/persona-app';

async function appWithTinyModel(page: Page): Promise<PersonaApp> {
  const app = new PersonaApp(page);
  await app.open();
  await app.addCustomGguf('models/tiny.gguf', 'Tiny');
  await app.loadModel('Tiny');
  await app.backToChat();
  return app;
}

/** The newest assistant message as stored in IndexedDB, read the way any page script could. */
function storedReply(page: Page): Promise<{ status: string; hasText: boolean } | null> {
  return page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open('persona');
        open.onerror = () => {
          reject(open.error ?? new Error('cannot open the database'));
        };
        open.onsuccess = () => {
          const all = open.result.transaction('messages').objectStore('messages').getAll();
          all.onsuccess = () => {
            const replies = (
              all.result as { role: string; status: string; content: string; createdAt: number }[]
            )
              .filter((m) => m.role === 'assistant')
              .sort((a, b) => a.createdAt - b.createdAt);
            const last = replies.at(-1);
            open.result.close();
            resolve(last ? { status: last.status, hasText: last.content.length > 0 } : null);
          };
        };
      }),
  );
}

test.describe('conversations', () => {
  test('rename, delete, and regenerate the last reply', async ({ page }) => {
    const app = await appWithTinyModel(page);
    await app.typeAndSend('First question');
    await app.waitForReplyToFinish();
    const first = await app.lastReply().locator('.content').innerText();

    await app.lastReply().getByRole('button', { name: 'Regenerate' }).click();
    await app.waitForReplyToFinish();
    // Replaced, not added (a long reply may hide the question from the rendered rows).
    await expect.poll(() => app.storedMessageCount()).toBe(2);
    await expect(app.lastReply()).toHaveAttribute('data-status', 'complete');
    // Sampling is random per reply, so a regenerated reply reads differently.
    await expect(app.lastReply().locator('.content')).not.toHaveText(first);

    await page.getByRole('button', { name: 'Rename First question' }).click();
    await page.getByRole('textbox', { name: 'Conversation title' }).fill('Renamed chat');
    await page.getByRole('textbox', { name: 'Conversation title' }).press('Enter');
    await expect(app.conversationList()).toHaveText(['Renamed chat']);

    await app.startNewChat();
    await app.typeAndSend('Second chat');
    await app.waitForReplyToFinish();
    await expect(app.conversationList()).toHaveText(['Second chat', 'Renamed chat']);

    await app.deleteConversation('Renamed chat');
    await expect(app.conversationList()).toHaveText(['Second chat']);
    await app.reload();
    await expect(app.conversationList()).toHaveText(['Second chat']);
  });

  test('a reply cut off by a closed tab is kept and marked incomplete', async ({
    page,
    context,
  }) => {
    const app = await appWithTinyModel(page);
    await app.typeAndSend('Write a very long story');
    const reply = app.lastReply();
    await expect(reply).toHaveAttribute('data-status', 'streaming');
    // Partial text is saved every half second while streaming: close the tab as soon as some is.
    await expect
      .poll(() => storedReply(page), { intervals: [50], timeout: 20_000 })
      .toMatchObject({ status: 'streaming', hasText: true });
    await page.close({ runBeforeUnload: false });

    const reopened = new PersonaApp(await context.newPage());
    await reopened.open();
    const kept = reopened.lastReply();
    await expect(kept).toHaveAttribute('data-status', 'incomplete');
    await expect(kept).toContainText('Incomplete: this reply was interrupted');
    expect((await kept.locator('.content').innerText()).length).toBeGreaterThan(0);
  });

  test('older turns leave the prompt, not the conversation, with a visible note', async ({
    page,
  }) => {
    const app = await appWithTinyModel(page);
    // About 2000 tokens each: one fits the 4096-token window with room for a reply, two do not.
    const long = (n: number, words: number) =>
      Array.from({ length: words }, (_, i) => `the ${['cat', 'dog', 'sun'][i % 3]} ${n}`).join(' ');
    await app.typeAndSend(long(1, 500));
    await app.waitForReplyToFinish();
    await expect(app.lastReply()).toHaveAttribute('data-status', 'complete');
    await expect(app.lastReply().getByRole('note')).toHaveCount(0);
    await app.typeAndSend(long(2, 500));
    await app.waitForReplyToFinish();
    await expect(app.lastReply()).toHaveAttribute('data-status', 'complete');
    const note = app.lastReply().getByRole('note');
    await expect(note).toContainText('left out of the prompt');
    await expect(note).toContainText('still in this conversation');
    await expect.poll(() => app.storedMessageCount()).toBe(4);

    // A single message longer than the whole window is refused with a clear reason.
    await app.typeAndSend(long(3, 2000));
    await app.waitForReplyToFinish();
    await expect(app.lastReply()).toHaveAttribute('data-status', 'error');
    await expect(app.lastReply()).toContainText('Your message is too long for this model');
    await expect.poll(() => app.storedMessageCount()).toBe(6);
  });
});
