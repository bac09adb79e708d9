import { expect, test } from '@playwright/test';
import { PersonaApp } from './pages/persona-app';

const TINY = 'Tiny test model';

test.describe('chatting with a real model on the CPU engine', () => {
  test('without WebGPU: explains it and offers the CPU path', async ({ page }) => {
    const app = new PersonaApp(page);
    await app.open();
    // First run opens the model picker by itself.
    await expect(app.modelsView).toBeVisible();
    await expect(page.getByTestId('webgpu-status')).toContainText('No WebGPU');
    await expect(page.getByTestId('webgpu-status')).toContainText('CPU models can');
    const recommended = app.modelsView.locator('article.recommended');
    await expect(recommended).toContainText('CPU · wllama');
    await expect(recommended.getByRole('button', { name: 'Download and load' })).toBeEnabled();
    // GPU models are listed, marked and explained rather than hidden.
    const llama = app.modelsView.locator('article[data-model-id^="Llama-3.2-1B"]').first();
    await expect(llama).toContainText('Cannot run here');
    await expect(llama).toContainText('WebGPU');
    await expect(llama.getByRole('button', { name: 'Download and load' })).toBeDisabled();
  });

  test('load with progress, stream, stop, second conversation, reload', async ({ page }) => {
    const app = new PersonaApp(page);
    await app.open();
    await app.addCustomGguf('slow/tiny.gguf', TINY);

    await app.startLoading(TINY);
    await expect(app.loadProgress).toContainText('Downloading');
    await expect(app.loadProgress).toContainText(/\d+%/);
    await expect(app.loadProgress).toContainText(/of 1\.0 MB/);
    await expect(app.modelBadge).toContainText('tiny.gguf · wasm', { timeout: 60_000 });
    await app.backToChat();

    // Tokens stream into the page: the reply grows while it is still being generated.
    await app.typeAndSend('Hello there, who are you?');
    await expect(app.messages('user')).toHaveText([/Hello there, who are you\?/]);
    const reply = app.lastReply();
    await expect(reply).toHaveAttribute('data-status', 'streaming');
    // The first tokens replace the thinking indicator.
    await expect(reply.locator('.typing')).toHaveCount(0);
    const early = (await reply.locator('.content').innerText()).length;
    expect(early).toBeGreaterThan(0);
    await app.stopGenerating();
    await expect(reply).toHaveAttribute('data-status', 'stopped');
    const kept = await reply.locator('.content').innerText();
    expect(kept.length).toBeGreaterThanOrEqual(early);
    expect(kept.trim().length).toBeGreaterThan(0);
    await expect(reply).toContainText('Stopped.');

    // The conversation is titled from its first message.
    await expect(app.conversationList()).toHaveText(['Hello there, who are you?']);

    await app.startNewChat();
    await expect(app.messages()).toHaveCount(0);
    await app.typeAndSend('Tell me about **Markdown**');
    // Checked while it is on screen: the list renders only rows near its viewport, and a long
    // reply can push the question out of it.
    await expect(app.messages('user').locator('strong')).toHaveText('Markdown');
    await app.waitForReplyToFinish();
    await expect(app.lastReply()).toHaveAttribute('data-status', 'complete');
    const secondReply = await app.lastReply().locator('.content').innerText();
    expect(secondReply.trim().length).toBeGreaterThan(0);
    await expect(app.conversationList()).toHaveCount(2);

    await app.reload();
    await expect(app.conversationList()).toHaveText([
      'Tell me about **Markdown**',
      'Hello there, who are you?',
    ]);
    // The open conversation and the cached model come back by themselves.
    await expect(app.lastReply().locator('.content')).toHaveText(secondReply);
    await expect(app.modelBadge).toContainText('tiny.gguf · wasm', { timeout: 60_000 });
    await app.openConversation('Hello there, who are you?');
    await expect(app.messages()).toHaveCount(2);
    await expect(app.lastReply()).toHaveAttribute('data-status', 'stopped');
    await expect(app.lastReply().locator('.content')).toHaveText(kept);
  });
});
