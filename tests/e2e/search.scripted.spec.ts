import AxeBuilder from '@axe-core/playwright';
import { expect, test } from '@playwright/test';
import { PersonaApp } from './pages/persona-app';

/**
 * Search over every conversation (issue 11). The history comes in through a backup import, as a
 * user's own would: rows written around the worker would never be indexed, and an import is
 * indexed in the background after the reload, as messages from before search existed are.
 */

const DAY = 86_400_000;
const START = Date.UTC(2024, 0, 1);
const FERRY = 'The ferry to Kastellorizo leaves at dawn, so pack the night before.';

interface Row {
  id: string;
  [key: string]: unknown;
}

/** 12 conversations of 40 messages; the oldest mentions a ferry deep inside, one is in Japanese. */
function history(): { text: string; ferryMessageId: string } {
  const conversations: Row[] = [];
  const messages: Row[] = [];
  let ferryMessageId = '';
  for (let c = 0; c < 12; c++) {
    const id = `conversation-${c}`;
    const at = START + c * DAY;
    const title = c === 0 ? 'Island hopping' : c === 11 ? '東京の週末' : `Everyday chat ${c}`;
    conversations.push({
      id,
      title,
      createdAt: at,
      updatedAt: at + 40_000,
      temporary: false,
      learnedUntil: 0,
    });
    for (let m = 0; m < 40; m++) {
      const user = m % 2 === 0;
      let content = user
        ? `Question ${m} about the weather and the garden, nothing special.`
        : `Answer ${m}: water the plants in the evening, when the soil is cool.`;
      if (c === 0 && m === 6) content = FERRY;
      if (c === 11 && m === 0) content = '週末に東京タワーへ行きたいです。';
      const messageId = `message-${c}-${m}`;
      if (c === 0 && m === 6) ferryMessageId = messageId;
      messages.push({
        id: messageId,
        conversationId: id,
        role: user ? 'user' : 'assistant',
        content,
        createdAt: at + m * 1000,
        status: 'complete',
      });
    }
  }
  const backup = {
    format: 'persona-backup',
    version: 1,
    exportedAt: new Date(START + 20 * DAY).toISOString(),
    schemaVersion: 3,
    conversations,
    messages,
    profile: null,
    revisions: [],
    proposals: [],
    settings: [],
    customModels: [],
    allowedHosts: [],
  };
  return { text: JSON.stringify(backup), ferryMessageId };
}

test('finds a message in an old conversation and opens the conversation at it', async ({
  page,
}) => {
  const app = new PersonaApp(page);
  await app.open();
  const { text, ferryMessageId } = history();
  await app.importBackup(text);

  // The newest conversation is open after the import; the ferry is in the oldest one.
  await app.searchConversations('kastel');
  // Indexing the import runs in the background after the reload: the result arrives with it.
  await expect(app.searchResults).toHaveCount(1, { timeout: 30_000 });
  const result = app.searchResults.first();
  await expect(result).toContainText('Island hopping');
  await expect(result).toContainText('ferry to Kastellorizo leaves');
  await expect(result.locator('mark')).toHaveText(['Kastellorizo']);

  await result.click();
  const message = app.highlightedMessage;
  await expect(message).toHaveAttribute('data-message-id', ferryMessageId);
  await expect(message).toContainText(FERRY);
  await expect(message).toBeInViewport();
  await expect(page.locator('li.active button.title')).toHaveText('Island hopping');
});

test('searches CJK, every word at once, and is operated by keyboard', async ({ page }) => {
  const app = new PersonaApp(page);
  await app.open();
  await app.importBackup(history().text);

  await app.searchConversations('東京');
  // The title and the first message of that conversation both say 東京.
  await expect(app.searchResults).toHaveCount(2, { timeout: 30_000 });
  await expect(app.searchResults.locator('mark').first()).toHaveText('東京');
  // Results with their marks pass axe like every other view (accessibility.spec.ts).
  const axe = await new AxeBuilder({ page }).include('nav').analyze();
  const serious = axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious.map((v) => `${v.id}: ${v.help}`)).toEqual([]);

  // Every word must be found: "garden" is in many messages, "ferry" in one, together in none.
  await app.searchConversations('garden ferry');
  await expect(page.getByRole('status').filter({ hasText: 'Nothing found' })).toBeVisible();
  await expect(app.searchResults).toHaveCount(0);

  // Keyboard: type, arrow down to the result, Enter opens it; Escape in the box clears it.
  await app.searchBox.fill('週末 東京タ');
  await expect(app.searchResults).toHaveCount(1);
  await app.searchBox.press('ArrowDown');
  await expect(app.searchResults.first()).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(app.highlightedMessage).toContainText('週末に東京タワーへ行きたいです。');

  await app.searchBox.focus();
  await app.searchBox.press('Escape');
  await expect(app.searchBox).toHaveValue('');
  await expect(app.searchResults).toHaveCount(0);
});
