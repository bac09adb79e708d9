import { expect, test, type Page } from '@playwright/test';
import { PersonaApp } from './pages/persona-app';

/** The app with the scripted engine that learns "Location: Berlin" from "I just moved to Berlin". */
async function appWithBerlinScript(page: Page): Promise<PersonaApp> {
  const app = new PersonaApp(page);
  await app.open();
  await app.addScriptedModel('berlin', 'Scripted');
  await app.loadModel('Scripted');
  await app.backToChat();
  return app;
}

/** Three sessions (the default k); starting a fourth ends the third, which triggers learning. */
async function threeSessions(app: PersonaApp): Promise<void> {
  await app.chatOnce('I just moved to Berlin and the flat is still full of boxes.');
  await app.chatOnce('Can you recommend restaurants?');
  await app.chatOnce('Thanks, that is all for today.');
  await app.startNewChat();
}

test.describe('life-long personalization', () => {
  test('learns from past sessions with evidence, personalizes replies, and can undo', async ({
    page,
  }) => {
    const app = await appWithBerlinScript(page);
    await app.chatOnce('I just moved to Berlin and the flat is still full of boxes.');
    await app.chatOnce('Can you recommend restaurants?');
    // Two ended sessions are fewer than k = 3: nothing is learned yet.
    await app.startNewChat();
    await expect(app.learnedNotice).toBeHidden();
    await app.typeAndSend('Thanks, that is all for today.');
    await app.waitForReplyToFinish();
    await app.startNewChat();

    await expect(app.learnedNotice).toContainText('Persona learned 1 thing: Location: Berlin');

    // The next reply's prompt carries the profile (the scripted engine echoes its prompt).
    await app.typeAndSend('Where should I eat tonight?');
    await app.waitForReplyToFinish();
    await expect(app.lastReply()).toContainText('Demographics: Location: Berlin');

    await app.openProfile();
    const location = app.profileField('Demographics', 'Location');
    await expect(location).toContainText('Berlin');
    await expect(location).toContainText('learned');
    await expect(location).toContainText('“I just moved to Berlin”');
    // The evidence links to the message it came from.
    await location.getByRole('button', { name: '“I just moved to Berlin”' }).click();
    await expect(page.locator('article.message.highlighted')).toContainText(
      'I just moved to Berlin and the flat is still full of boxes.',
    );

    await app.learnedNotice.getByRole('button', { name: 'Undo' }).click();
    await app.openProfile();
    await expect(app.profileField('Demographics', 'Location')).toHaveCount(0);
    await app.openProfileTab('History');
    await expect(app.profileView.getByRole('list', { name: 'Profile history' })).toContainText(
      'Undid #1',
    );
  });

  test('a locked field is never changed by learning', async ({ page }) => {
    const app = await appWithBerlinScript(page);
    await app.openProfile();
    const demographics = app.profileView.getByRole('form', { name: 'Add to Demographics' });
    await demographics.getByLabel('Field').fill('Location');
    await demographics.getByLabel('Value').fill('Lisbon');
    await demographics.getByRole('button', { name: 'Add' }).click();
    const location = app.profileField('Demographics', 'Location');
    await expect(location).toContainText('set by you');
    await location.getByRole('button', { name: 'Lock Location' }).click();
    await expect(location).toContainText('locked');

    await threeSessions(app);
    await app.openProfile();
    await expect(app.profileView.getByTestId('last-learning')).toContainText('dropped 1');
    await expect(app.profileField('Demographics', 'Location')).toContainText('Lisbon');
  });

  test('in review mode, learned changes wait for the user', async ({ page }) => {
    const app = await appWithBerlinScript(page);
    await app.openProfileTab('Settings');
    await app.profileView.getByLabel('When Persona learns something').selectOption('review');

    await threeSessions(app);
    await expect(app.page.getByRole('button', { name: 'Profile (1 to review)' })).toBeVisible();
    await expect(app.learnedNotice).toBeHidden();
    await app.openProfile();
    await expect(app.profileField('Demographics', 'Location')).toHaveCount(0);
    await app.openProfileTab('Review');
    const queue = app.profileView.getByRole('list', { name: 'Waiting for review' });
    await expect(queue).toContainText('Demographics › Location: “Berlin”');
    await queue.getByRole('button', { name: 'Accept' }).click();
    await expect(queue).toBeHidden();
    await app.openProfileTab('Profile');
    await expect(app.profileField('Demographics', 'Location')).toContainText('Berlin');
  });
});

test.describe('profile ownership', () => {
  test('deleting a conversation offers to forget what was learned only from it', async ({
    page,
  }) => {
    const app = await appWithBerlinScript(page);
    await threeSessions(app);
    await expect(app.learnedNotice).toContainText('Location: Berlin');
    const dialogs = await app.deleteConversation('I just moved to Berlin and the flat is still…', {
      forgetLearned: true,
    });
    expect(dialogs[1]).toContain('Persona learned Location only from this conversation');
    await app.openProfile();
    await expect(app.profileField('Demographics', 'Location')).toHaveCount(0);
  });

  test('imports a PersonaBench persona, and refuses a hostile file without changing anything', async ({
    page,
  }) => {
    const app = await appWithBerlinScript(page);
    await app.openProfile();
    const input = app.profileView.getByLabel('Import a profile file');
    page.once('dialog', (dialog) => void dialog.accept());
    await input.setInputFiles('tests/fixtures/profiles/personabench-persona.json');
    await expect(app.profileField('Demographics', 'Nationality')).toContainText('中国');
    await expect(app.profileField('Preferences', 'Formats')).toContainText('先给代码，再解释');
    const before = await app.profileView.getByRole('region', { name: 'Demographics' }).innerText();

    page.once('dialog', (dialog) => void dialog.accept());
    await input.setInputFiles('tests/fixtures/profiles/hostile.json');
    await expect(app.profileView.getByRole('alert')).toContainText('cannot be imported');
    await expect(app.profileView.getByRole('alert')).toContainText('Nothing was changed');
    await expect(app.profileView.getByRole('region', { name: 'Demographics' })).toHaveText(before);
    // The import ran in the page: nothing reached Object.prototype.
    expect(await page.evaluate(() => Object.hasOwn(Object.prototype, 'polluted'))).toBe(false);
  });
});
