import { expect, test } from '@playwright/test';
import { MAX_REPLY_TOKENS } from '../../src/core/chat/system-prompt';
import { SMOLLM2_FILE } from '../fixtures/fetch-smollm2';
import { PersonaApp } from './pages/persona-app';

/**
 * The app with a real instruction-tuned model: SmolLM2-135M-Instruct (`npm run fixtures:real`),
 * served like a self-hosted GGUF and loaded through the custom-model path. It is weak but real:
 * these tests check what a real model does and the random-weight test model cannot (answer on
 * topic, stop by itself) and that learning and personalization run on its actual output. How
 * *well* it learns is measured by `npm run bench:learning`, not asserted here.
 */
const SMOLLM2 = 'SmolLM2 135M';
/** A real model on one CPU thread, next to the rest of the suite on two cores: minutes, not seconds. */
const REPLY_TIMEOUT = 180_000;

test.describe.configure({ timeout: 900_000 });

async function appWithSmolLM2(page: import('@playwright/test').Page): Promise<PersonaApp> {
  const app = new PersonaApp(page);
  await app.open();
  await app.addCustomGguf(`models/${SMOLLM2_FILE}`, SMOLLM2);
  await app.loadModel(SMOLLM2);
  await app.backToChat();
  return app;
}

/** Words of letters only, as a share of all whitespace-separated words. */
function wordShare(text: string): number {
  const words = text.split(/\s+/u).filter((w) => w !== '');
  const plain = words.filter((w) => /^[\p{L}'’-]+[.,!?:;]?$/u.test(w));
  return words.length === 0 ? 0 : plain.length / words.length;
}

test('a real model answers on topic, stops by itself, and can be stopped and regenerated', async ({
  page,
}) => {
  const app = await appWithSmolLM2(page);
  await expect(app.modelBadge).toContainText('wasm');

  await app.typeAndSend('What is the capital of France?');
  // A sampled reply of a 135M model still loops now and then, even with the repeat penalty (2 in
  // 48 replies, `npm run bench:repetition`). Such a reply must say it was cut off, and Regenerate
  // samples another; three loops in a row would be a regression worth failing on.
  const reply = app.lastReply();
  const cutOff = reply.getByText('Cut off: the reply reached the length limit');
  for (let attempt = 1; ; attempt++) {
    await app.waitForReplyToFinish(REPLY_TIMEOUT);
    if ((await cutOff.count()) === 0) break;
    expect(attempt, 'three replies in a row ran into the length limit').toBeLessThan(3);
    await reply.getByRole('button', { name: 'Regenerate' }).click();
    await expect(reply).toHaveAttribute('data-status', 'streaming');
  }
  // It ended with the model's own stop token: complete, not cut off at the token limit.
  await expect(reply).toHaveAttribute('data-status', 'complete');
  const text = await reply.locator('.content').innerText();
  // Properties a language model has and random weights do not: it answers about France, in
  // words and sentences. (The random test model has no "France" in its vocabulary.)
  expect(text).toMatch(/France|Paris/u);
  expect(wordShare(text)).toBeGreaterThan(0.7);
  const tokens = Number(/(\d+) tokens/u.exec(await reply.locator('.meta').innerText())?.[1]);
  expect(tokens).toBeGreaterThan(1);
  expect(tokens).toBeLessThan(MAX_REPLY_TOKENS);

  // Stop keeps what was written; Regenerate writes the reply again.
  await app.startNewChat();
  await app.typeAndSend('Write a long story about a dragon who learns to bake bread.');
  const story = app.lastReply();
  await expect(story.locator('.content')).toHaveText(/\w+ \w+ \w+/u, { timeout: REPLY_TIMEOUT });
  await app.stopGenerating();
  await expect(story).toHaveAttribute('data-status', 'stopped');
  const kept = await story.locator('.content').innerText();
  expect(kept.trim().length).toBeGreaterThan(0);
  await story.getByRole('button', { name: 'Regenerate' }).click();
  await expect(app.lastReply().locator('.content')).toHaveText(/\w+ \w+ \w+/u, {
    timeout: REPLY_TIMEOUT,
  });
  await app.stopGenerating();
  await expect(app.lastReply()).toHaveAttribute('data-status', 'stopped');
  await expect(app.messages()).toHaveCount(2);
});

test('learning runs on the real model: what lands is grounded in the user’s words, what is dropped says why', async ({
  page,
}) => {
  const app = await appWithSmolLM2(page);
  const said = [
    'I live in Lisbon and I work as a nurse.',
    "I'm vegan. What should I cook tonight?",
    'Please keep your answers short.',
  ];
  for (const text of said) {
    await app.startNewChat();
    await app.typeAndSend(text);
    await app.waitForReplyToFinish(REPLY_TIMEOUT);
  }
  // Ending the third session queues a real, schema-constrained optimizer run on SmolLM2.
  await app.startNewChat();
  await app.openProfile();
  const status = app.profileView.getByTestId('last-learning');
  // One update, or two when the first answer is cut off and retried: 2 to 5 minutes here, alone.
  await expect(status).toContainText(/learned \d+|did not change anything: .+/u, {
    timeout: 600_000,
  });
  const outcome = await status.innerText();
  const learned = Number(/learned (\d+)/u.exec(outcome)?.[1] ?? 0);
  const dropped = Number(/dropped (\d+)/u.exec(outcome)?.[1] ?? 0);
  if (dropped > 0) {
    // Every dropped change is reported with its reason.
    expect(outcome).toMatch(/dropped \d+ \(.+\)/u);
  }

  // Every value that landed carries a quote of the user's own words (the validation the app
  // applies to model output), and links to the message it came from.
  const quotes = app.profileView.locator('button.quote');
  await expect(quotes).toHaveCount(learned > 0 ? await quotes.count() : 0);
  const normalise = (t: string) => t.toLowerCase().replace(/[’']/gu, "'").replace(/\s+/gu, ' ');
  for (const quote of await quotes.allInnerTexts()) {
    const words = normalise(quote.replace(/^“|”$/gu, ''));
    expect(said.some((text) => normalise(text).includes(words))).toBe(true);
  }
  if (learned > 0) {
    expect(await quotes.count()).toBeGreaterThan(0);
    await app.openProfileTab('History');
    await expect(
      app.profileView.getByRole('list', { name: 'Profile history' }).locator(':scope > li'),
    ).toHaveCount(1);
  }
});

test('a reply is generated from a prompt that carries the profile', async ({ page }) => {
  const app = await appWithSmolLM2(page);
  await app.addProfileField('Preferences', 'Diet', 'vegan');
  await app.addProfileField('Demographics', 'Location', 'Lisbon');
  await app.startNewChat();
  await app.typeAndSend('Suggest a dinner for tonight.');
  await app.waitForReplyToFinish(REPLY_TIMEOUT);
  const reply = app.lastReply();
  await expect(reply).toHaveAttribute('data-status', 'complete');
  const prompt = await app.showPrompt(reply);
  const system = prompt.locator('[data-role="system"] pre');
  await expect(system).toContainText('Diet: vegan');
  await expect(system).toContainText('Location: Lisbon');
  await expect(prompt.locator('[data-role="user"] pre').last()).toHaveText(
    'Suggest a dinner for tonight.',
  );

  // A temporary chat is not personalized: its prompt has no profile.
  await app.page.getByRole('button', { name: '+ Temporary chat' }).click();
  await app.typeAndSend('Suggest a dinner for tonight.');
  await app.waitForReplyToFinish(REPLY_TIMEOUT);
  const temporary = await app.showPrompt(app.lastReply());
  await expect(temporary.locator('[data-role="system"] pre')).not.toContainText('vegan');
});
