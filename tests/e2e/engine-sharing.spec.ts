import { expect, test, type Page } from '@playwright/test';
import { PersonaApp } from './pages/persona-app';

/**
 * One engine, shared by replies, model loads and learning (issue 9), on the tiny GGUF with the real
 * wllama engine: whatever asks for the model while a profile update runs, the update yields and its
 * job is done later, never failed, and nothing the user sees is lost.
 */

interface StoredJob {
  status: 'queued' | 'running' | 'done' | 'failed';
  error?: { message: string };
}

const jobStatuses = async (app: PersonaApp): Promise<string[]> =>
  (await app.storedRows<StoredJob>('jobs')).map((job) => job.status);

/** Three ended sessions: the third "New chat" queues a profile update, and the worker runs it. */
async function threeSessions(app: PersonaApp): Promise<void> {
  await app.chatOnce('I just moved to Berlin.');
  await app.chatOnce('I am a nurse and I work night shifts.');
  await app.chatOnce('I prefer short answers with code first.');
  await app.startNewChat();
}

async function everyJobDone(app: PersonaApp): Promise<void> {
  // Done, every one: never failed by a yield, never left queued or running.
  await expect
    .poll(async () => (await jobStatuses(app)).filter((status) => status !== 'done'), {
      timeout: 120_000,
      intervals: [250],
    })
    .toEqual([]);
  expect((await jobStatuses(app)).length).toBeGreaterThan(0);
}

async function openWithTiny(page: Page, name: string): Promise<PersonaApp> {
  const app = new PersonaApp(page);
  await app.open();
  await app.addCustomGguf('models/tiny.gguf', name);
  await app.loadModel(name);
  await app.backToChat();
  return app;
}

test('loading another model while the profile updates loses no job', async ({ page }) => {
  test.setTimeout(240_000);
  const app = await openWithTiny(page, 'Tiny');
  await app.addCustomGguf('slow/tiny.gguf', 'Tiny again');
  await app.backToChat();
  await threeSessions(app);
  await expect
    .poll(() => jobStatuses(app), { timeout: 60_000, intervals: [20] })
    .toEqual(['running']);

  await app.openModels();
  await app.loadModel('Tiny again');
  // The update yielded to the load (its job back in the queue, not failed) and ran on the new model.
  await everyJobDone(app);
  await app.openProfile();
  await expect(app.profileView.getByTestId('last-learning')).not.toContainText(/failed|running/);
});

test('two tabs: one chats while the other learns, and both finish', async ({ page, context }) => {
  test.setTimeout(300_000);
  const learner = await openWithTiny(page, 'Tiny');
  const other = await context.newPage();
  const chatter = new PersonaApp(other);
  await chatter.open();
  // The model the first tab loaded is remembered: the second tab loads it by itself.
  await expect(chatter.modelBadge).toContainText('·', { timeout: 60_000 });

  await threeSessions(learner);
  await expect
    .poll(() => jobStatuses(learner), { timeout: 60_000, intervals: [20] })
    .toEqual(['running']);
  // The other tab's worker has its own engine: its replies do not wait for the update, and its
  // own learning checks leave the queue to the tab that holds it.
  await chatter.typeAndSend('What should I cook tonight?');
  await chatter.waitForReplyToFinish();
  await expect(chatter.lastReply()).toHaveAttribute('data-status', 'complete');
  await chatter.startNewChat();
  await chatter.typeAndSend('And tomorrow?');
  await chatter.waitForReplyToFinish();
  await expect(chatter.lastReply()).toHaveAttribute('data-status', 'complete');

  await everyJobDone(learner);
  const replies = (await learner.storedRows<{ role: string; status: string }>('messages')).filter(
    (message) => message.role === 'assistant',
  );
  expect(replies.map((reply) => reply.status)).toEqual(replies.map(() => 'complete'));
});
