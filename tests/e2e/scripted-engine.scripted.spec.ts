import { expect, test } from '@playwright/test';
import { PersonaApp } from './pages/persona-app';

test('the end-to-end build runs the scripted engine and shows what the assistant was told', async ({
  page,
}) => {
  const app = new PersonaApp(page);
  await app.open();
  await app.addScriptedModel('echo', 'Echo');
  await app.loadModel('Echo');
  await app.backToChat();
  await app.typeAndSend('Hello');
  await app.waitForReplyToFinish();
  await expect(app.lastReply()).toContainText('I was told: You are Persona');
});
