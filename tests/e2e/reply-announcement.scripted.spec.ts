import { expect, test } from '@playwright/test';
import { PersonaApp } from './pages/persona-app';

/**
 * Screen readers hear a streaming reply politely and once, not token by token (issue 12): the
 * live region changes when the reply starts and when it ends, however many batches arrive.
 */
test('a streaming reply is announced politely, once it starts and once it is done', async ({
  page,
}) => {
  const app = new PersonaApp(page);
  await app.open();
  await app.addScriptedModel('slow', 'Slow');
  await app.loadModel('Slow');
  await app.backToChat();
  const announcer = page.getByTestId('reply-announcer');
  await expect(announcer).toHaveAttribute('aria-live', 'polite');
  await announcer.evaluate((el) => {
    const heard: string[] = [];
    (window as unknown as { __heard: string[] }).__heard = heard;
    new MutationObserver(() => {
      const text = el.textContent.trim();
      if (text !== '' && heard.at(-1) !== text) heard.push(text);
    }).observe(el, { childList: true, characterData: true, subtree: true });
  });

  await app.typeAndSend('Tell me a story');
  await app.waitForReplyToFinish();
  const reply = (await app.lastReply().locator('.content').textContent())?.trim() ?? '';
  expect(reply.split(/\s+/).length).toBeGreaterThan(3);
  const heard = await page.evaluate(() => (window as unknown as { __heard: string[] }).__heard);
  expect(heard).toEqual(['Persona is writing a reply.', `Persona replied: ${reply}`]);
});
