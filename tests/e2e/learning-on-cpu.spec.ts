import { expect, test } from '@playwright/test';
import { PersonaApp } from './pages/persona-app';

test('the optimizer runs for real on the tiny model and its output is validated', async ({
  page,
}) => {
  const app = new PersonaApp(page);
  await app.open();
  await app.addCustomGguf('models/tiny.gguf', 'Tiny');
  await app.loadModel('Tiny');
  await app.backToChat();
  await app.chatOnce('I just moved to Berlin.');
  await app.chatOnce('I am a nurse and I work night shifts.');
  await app.chatOnce('I prefer short answers with code first.');
  // Ending the third session triggers a real, schema-constrained optimizer run.
  await app.startNewChat();

  await app.openProfile();
  const status = app.profileView.getByTestId('last-learning');
  // Random weights propose random changes: each is either applied as a revision or dropped with
  // its reason; a run that produced nothing valid is recorded as failed, with the reason.
  await expect(status).toContainText(/learned \d+|dropped \d+|did not change anything: .+/, {
    timeout: 60_000,
  });
  await expect(status).not.toContainText('running');
  const text = await status.innerText();
  const learned = Number(/learned (\d+)/.exec(text)?.[1] ?? 0);
  await app.openProfileTab('History');
  const history = app.profileView.getByRole('list', { name: 'Profile history' });
  if (learned > 0) await expect(history.locator(':scope > li')).toHaveCount(1);
  else await expect(history).toHaveCount(0);

  // The app keeps working: the profile page renders, and chat still replies.
  await app.openProfileTab('Profile');
  await expect(app.profileView.getByRole('region', { name: 'Demographics' })).toBeVisible();
  await app.startNewChat();
  await app.typeAndSend('Hello again');
  await app.waitForReplyToFinish();
  await expect(app.lastReply()).toHaveAttribute('data-status', 'complete');
});
