import { expect, test } from '@playwright/test';
import { PersonaApp } from './pages/persona-app';

/**
 * Data the app did not write itself (an older version, a damaged backup, another tool) must
 * never blank a page: the broken row says so and offers a way out, the rest of the view still
 * renders, and the user can still take their data with them (issue 12).
 */

const NOW = 1_700_000_000_000;
const conversation = {
  id: 'c-broken',
  title: 'Broken things',
  createdAt: NOW,
  updatedAt: NOW,
  temporary: false,
  learnedUntil: 0,
};
const message = (id: string, content: string, extra: object = {}) => ({
  id,
  conversationId: conversation.id,
  role: 'assistant',
  content,
  createdAt: NOW + Number(id.replace(/\D/g, '')),
  status: 'complete',
  ...extra,
});
const learned = (value: string, evidence: unknown) => ({
  value,
  updatedAt: NOW,
  source: 'learned',
  locked: false,
  evidence,
});
const quote = (messageId: string, text: string) => ({
  conversationId: conversation.id,
  messageId,
  quote: text,
});

test('a broken row in the chat or the profile leaves the rest of the view and the export', async ({
  page,
}) => {
  const errors: string[] = [];
  page.on('console', (entry) => {
    if (entry.type() === 'error') errors.push(entry.text());
  });
  const app = new PersonaApp(page);
  await app.open();
  await app.putStoredRows('conversations', [conversation]);
  await app.putStoredRows('messages', [
    message('m1', 'The first reply is fine.'),
    // Stats without their numbers: rendering the reply's speed throws.
    message('m2', 'This reply is damaged.', { stats: {} }),
    message('m3', 'The last reply is fine too.'),
  ]);
  await app.putStoredRows('profile', [
    {
      id: 'current',
      revision: 0,
      profile: {
        updatedAt: NOW,
        sections: [
          {
            name: 'Demographics',
            builtIn: true,
            fields: {
              // The profile the optimizer could write before issue 12: two quotes of one message.
              Location: learned('Lisbon', [
                quote('m1', 'I live in Lisbon'),
                quote('m1', 'Lisbon is my home'),
              ]),
              // Evidence that is not a list: the row cannot be drawn.
              Occupation: learned('Nurse', { length: 1 }),
              Age: learned('34', []),
            },
          },
          {
            name: 'Preferences',
            builtIn: true,
            fields: { Styles: { ...learned('Short answers', []), source: 'user' } },
          },
        ],
      },
    },
  ]);
  await app.reload();

  await app.openConversation('Broken things');
  const chat = page.locator('main');
  await expect(chat.getByText('The first reply is fine.')).toBeVisible();
  await expect(chat.getByText('The last reply is fine too.')).toBeVisible();
  await expect(chat.getByTestId('render-error')).toHaveText(/This message could not be shown/);
  await expect(page.getByRole('textbox', { name: 'Message' })).toBeVisible();

  await app.openProfile();
  const demographics = page.getByRole('region', { name: 'Demographics' });
  await expect(demographics.getByRole('listitem', { name: 'Location' })).toContainText('Lisbon');
  await expect(demographics.getByRole('button', { name: '“I live in Lisbon”' })).toBeVisible();
  await expect(demographics.getByRole('listitem', { name: 'Age' })).toContainText('34');
  const broken = demographics.getByTestId('render-error');
  await expect(broken).toHaveText(/The field Occupation could not be shown/);
  await expect(page.getByRole('region', { name: 'Preferences' })).toContainText('Short answers');
  expect(errors.some((text) => text.includes('Persona: The field Occupation'))).toBe(true);

  // The way out works: forgetting the broken field removes it and the page is whole again.
  await broken.getByRole('button', { name: 'Forget it' }).click();
  await expect(demographics.getByTestId('render-error')).toHaveCount(0);
  await expect(demographics.getByRole('listitem', { name: 'Age' })).toBeVisible();

  const exported = await app.exportEverything();
  const backup = JSON.parse(exported.text) as { messages: unknown[] };
  expect(backup.messages).toHaveLength(3);
});
