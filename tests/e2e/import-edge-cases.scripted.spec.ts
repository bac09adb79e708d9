import { expect, test } from '@playwright/test';
import { PersonaApp } from './pages/persona-app';

/**
 * Backups the app did not write itself (issue 12): an impossible time is refused with the path
 * of the bad value, and a file that leaves out the conversation that was open still lets the user
 * write at once.
 */

interface BackupFile {
  conversations: { id: string; createdAt: number; title: string }[];
  messages: { conversationId: string }[];
  settings: { key: string; value: unknown }[];
}

async function appWithOneChat(page: import('@playwright/test').Page): Promise<PersonaApp> {
  const app = new PersonaApp(page);
  await app.open();
  await app.addScriptedModel('berlin', 'Scripted');
  await app.loadModel('Scripted');
  await app.backToChat();
  await app.chatOnce('Hello there');
  return app;
}

test('a backup with a time no date can hold is refused with its path, and nothing changes', async ({
  page,
}) => {
  const app = await appWithOneChat(page);
  const { text } = await app.exportEverything();
  const backup = JSON.parse(text) as BackupFile;
  const [first] = backup.conversations;
  if (!first) throw new Error('the export holds no conversation');
  first.createdAt = 1e20;

  expect(await app.importBackup(JSON.stringify(backup), { accept: false })).toEqual([]);
  const refusal = app.yourData.getByRole('alert');
  await expect(refusal).toContainText('conversations[0].createdAt');
  await expect(refusal).toContainText('Nothing was changed');
  // "Update profile now" still works on what is stored (it failed with "Invalid time value").
  await app.openProfile();
  const updateNow = app.profileView.getByRole('button', { name: 'Update profile now' });
  await updateNow.click();
  await expect(updateNow).toBeEnabled();
  await expect(app.profileView).not.toContainText('Invalid time');
  await expect(app.conversationList()).toHaveCount(1);
});

test('the first message after importing a file without the open conversation starts a new one', async ({
  page,
}) => {
  const app = await appWithOneChat(page);
  await app.chatOnce('This one is not in the file');
  const { text } = await app.exportEverything();
  const backup = JSON.parse(text) as BackupFile;
  const open = backup.settings.find((setting) => setting.key === 'activeConversationId');
  if (typeof open?.value !== 'string') throw new Error('no conversation was open');
  const gone = open.value;
  backup.conversations = backup.conversations.filter((c) => c.id !== gone);
  backup.messages = backup.messages.filter((m) => m.conversationId !== gone);

  await app.importBackup(JSON.stringify(backup));
  await expect(app.conversationList()).toHaveCount(1);
  await app.openModels();
  await app.loadModel('Scripted');
  await app.backToChat();
  await app.typeAndSend('Is anyone there?');
  await app.waitForReplyToFinish();
  await expect(app.lastReply()).toHaveAttribute('data-status', 'complete');
  await expect(page.getByText('no longer exists')).toHaveCount(0);
  await expect(app.conversationList()).toHaveCount(2);
});
