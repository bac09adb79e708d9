import { expect, test, type Page } from '@playwright/test';
import { PersonaApp } from './pages/persona-app';

/**
 * Known XSS payloads. Each one, if it ran, would set `window.__xss` or open a dialog. They reach
 * the page as user input (messages, profile values) and as model output: the scripted engine
 * echoes its system prompt, which carries the profile values.
 */
const CORPUS = [
  '<script>window.__xss = "script"</script>',
  '<img src=x onerror="window.__xss = \'img\'">',
  '<svg onload="window.__xss = \'svg\'"><circle r="1"/></svg>',
  '<svg><script>window.__xss = "svg-script"</script></svg>',
  '[click me](javascript:window.__xss="link")',
  '<a href="javascript:window.__xss=\'a\'">a link</a>',
  '<a href="jav&#x09;ascript:alert(1)">encoded</a>',
  '![image](javascript:alert("img-md"))',
  '<iframe src="javascript:alert(1)"></iframe>',
  '<details open ontoggle="alert(\'toggle\')">x</details>',
  '<math><mtext><table><mglyph><style><img src=x onerror=alert("mxss")></style></mglyph></table></mtext></math>',
  '```html\n<script>alert("fenced")</script>\n<img src=x onerror=alert(1)>\n```',
  '<form action="javascript:alert(1)"><button>go</button></form>',
  '<div style="background:url(javascript:alert(1))" onclick="alert(1)">styled</div>',
];

const PROFILE_PAYLOADS = [
  '<img src=x onerror="window.__xss=\'profile\'">',
  '[link](javascript:alert("profile-link"))',
  '<svg onload=alert("profile-svg")>',
];

test('no payload from messages, model output or profile values ever executes', async ({ page }) => {
  const dialogs: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  const app = new PersonaApp(page);
  await app.showEveryMessage();
  await app.open();
  await app.addScriptedModel('berlin', 'Scripted');
  await app.loadModel('Scripted');
  await app.backToChat();
  await expect(app.composer).toBeVisible();

  // Payloads in profile values, entered on the profile page.
  await app.openProfile();
  const form = app.profileView.getByRole('form', { name: 'Add to Demographics' });
  for (const [i, payload] of PROFILE_PAYLOADS.entries()) {
    await form.getByLabel('Field').fill(`Field ${i + 1}`);
    await form.getByLabel('Value').fill(payload);
    await form.getByRole('button', { name: 'Add' }).click();
    // Shown as text, exactly as typed.
    await expect(app.profileField('Demographics', `Field ${i + 1}`)).toContainText(payload);
  }

  await page.getByRole('button', { name: /^Profile/ }).click();
  await app.startNewChat();
  for (const [i, payload] of CORPUS.entries()) {
    await app.typeAndSend(payload);
    // Wait for this turn's reply to exist before waiting for it to finish.
    await expect(app.messages('assistant')).toHaveCount(i + 1);
    await app.waitForReplyToFinish();
  }
  // The reply echoes the system prompt: the profile payloads came back as model output.
  await expect(app.lastReply()).toContainText('Field 1');
  await expect(app.messages('user')).toHaveCount(CORPUS.length);

  // Reload: stored payloads are rendered again from IndexedDB.
  await app.reload();
  await expect(app.messages('user')).toHaveCount(CORPUS.length);

  const findings = await page.evaluate(() => {
    const all = [...document.querySelectorAll('*')];
    // Message bodies only: the app's own composer is a form.
    const bodies = [...document.querySelectorAll('article.message')];
    return {
      xss: (window as unknown as { __xss?: unknown }).__xss ?? null,
      handlers: all.flatMap((el) =>
        [...el.attributes].filter((a) => /^on/i.test(a.name)).map((a) => `${el.tagName} ${a.name}`),
      ),
      dangerousTags: bodies.flatMap((body) =>
        [
          ...body.querySelectorAll('script, iframe, img, svg, math, form, object, embed, style'),
        ].map((el) => el.tagName),
      ),
      styled: bodies.flatMap((body) => [...body.querySelectorAll('[style]')]).length,
      links: [...document.querySelectorAll('article.message a')].map((a) => ({
        href: a.getAttribute('href') ?? '',
        rel: a.getAttribute('rel'),
      })),
    };
  });
  expect(findings.xss).toBeNull();
  expect(dialogs).toEqual([]);
  expect(findings.handlers).toEqual([]);
  expect(findings.dangerousTags).toEqual([]);
  expect(findings.styled).toBe(0);
  for (const link of findings.links) {
    expect(link.href).not.toMatch(/^\s*(javascript|data|vbscript):/i);
    expect(link.rel).toBe('noopener noreferrer');
  }
  // The fenced code is shown as code, not markup.
  await expect(page.locator('article.message pre code').first()).toContainText(
    '<script>alert("fenced")</script>',
  );
});

/** The payloads that fit where a backup allows one line of at most 120 characters (titles). */
const ONE_LINE = CORPUS.filter((p) => !p.includes('\n') && p.length <= 120);
const payload = (i: number): string => ONE_LINE[i % ONE_LINE.length] ?? '';

interface Row extends Record<string, unknown> {
  id: string;
}

/** Puts a payload into every text a user sees: titles, messages, values, quotes, summaries. */
function poison(text: string): string {
  const backup = JSON.parse(text) as {
    conversations: (Row & { title: string })[];
    messages: (Row & { conversationId: string; content: string; createdAt: number })[];
    profile: { profile: { sections: { fields: Record<string, Record<string, unknown>> }[] } };
    revisions: {
      summary: string;
      changes: { after: { value: string } | null; evidence: { quote: string } | null }[];
    }[];
  };
  let n = 0;
  for (const conversation of backup.conversations) conversation.title = payload(n++);
  // Every payload as a message of the first conversation, alternating user and assistant.
  const first = backup.messages[0];
  if (!first) throw new Error('the backup has no messages');
  CORPUS.forEach((content, i) => {
    backup.messages.push({
      ...first,
      id: `xss-message-${i}`,
      role: i % 2 === 0 ? 'user' : 'assistant',
      content,
      createdAt: first.createdAt + 1000 + i,
      status: 'complete',
    });
  });
  for (const message of backup.messages) {
    if (!message.id.startsWith('xss-')) message.content = payload(n++);
  }
  for (const section of backup.profile.profile.sections) {
    for (const field of Object.values(section.fields)) {
      field.value = payload(n++);
      for (const evidence of field.evidence as { quote: string }[]) evidence.quote = payload(n++);
    }
  }
  const demographics = backup.profile.profile.sections[0];
  const location = demographics?.fields.Location;
  if (!demographics || !location) throw new Error('the backup learned no Location');
  ONE_LINE.forEach((value, i) => {
    demographics.fields[`Poisoned ${i + 1}`] = { ...location, value, evidence: [] };
  });
  for (const revision of backup.revisions) {
    revision.summary = payload(n++);
    for (const change of revision.changes) {
      if (change.after) change.after.value = payload(n++);
      if (change.evidence) change.evidence.quote = payload(n++);
    }
  }
  return JSON.stringify(backup);
}

/** What a payload that ran would leave in the page. */
async function traces(page: Page) {
  return page.evaluate(() => {
    const all = [...document.querySelectorAll('*')];
    const urlAttributes = ['href', 'src', 'action', 'formaction', 'xlink:href', 'data'];
    return {
      xss: (window as unknown as { __xss?: unknown }).__xss ?? null,
      handlers: all.flatMap((el) =>
        [...el.attributes].filter((a) => /^on/i.test(a.name)).map((a) => `${el.tagName} ${a.name}`),
      ),
      scriptUrls: all.flatMap((el) =>
        urlAttributes
          .map((name) => el.getAttribute(name) ?? '')
          .filter((value) => /^\s*(javascript|vbscript|data):/i.test(value))
          .map((value) => `${el.tagName} ${value}`),
      ),
      injected: [
        ...document.querySelectorAll(
          'main iframe, main object, main embed, main svg script, main math',
        ),
      ].map((el) => el.tagName),
      // The app's own scripts are in <head>; a script element anywhere in the body was injected.
      bodyScripts: document.body.querySelectorAll('script').length,
    };
  });
}

async function expectClean(page: Page, dialogs: string[], where: string): Promise<void> {
  const found = await traces(page);
  expect(found.xss, where).toBeNull();
  expect(dialogs, where).toEqual([]);
  expect(found.handlers, where).toEqual([]);
  expect(found.scriptUrls, where).toEqual([]);
  expect(found.injected, where).toEqual([]);
  expect(found.bodyScripts, where).toBe(0);
}

test('no payload inside an imported backup executes on the chat, profile or settings pages', async ({
  page,
}) => {
  const app = new PersonaApp(page);
  await app.open();
  await app.addScriptedModel('berlin', 'Scripted');
  await app.loadModel('Scripted');
  await app.backToChat();
  // Three sessions and a fourth opened: the profile learns Location with evidence, one revision.
  await app.chatOnce('I just moved to Berlin and the flat is still full of boxes.');
  await app.chatOnce('Can you recommend restaurants?');
  await app.chatOnce('Thanks, that is all for today.');
  await app.startNewChat();
  await expect(app.learnedNotice).toContainText('Location: Berlin');
  const { text } = await app.exportEverything();

  // Dialogs are watched from here on; the import's own confirmation is answered by importBackup.
  const poisoned = poison(text);
  expect(await app.importBackup(poisoned)).toHaveLength(1);
  const dialogs: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await app.showEveryMessage();

  // Chat: every conversation, titles in the list, every message rendered.
  const titles = app.conversationList();
  await expect(titles).toHaveCount(4);
  let sawCorpus = false;
  for (let i = 0; i < 4; i++) {
    await titles.nth(i).click();
    // The fourth conversation was opened but never written in: it shows the empty chat.
    const shown = app
      .messages()
      .or(page.getByRole('heading', { name: 'What can I help with?' }))
      .first();
    await expect(shown).toBeVisible();
    await expectClean(page, dialogs, `conversation ${i + 1}`);
    if ((await app.messages().count()) > 2) {
      sawCorpus = true;
      // Every payload rendered (its own two messages and the corpus), the fenced code as code.
      await expect(app.messages()).toHaveCount(2 + CORPUS.length);
      await expect(page.locator('article.message pre code').first()).toContainText(
        '<script>alert("fenced")</script>',
      );
    }
  }
  expect(sawCorpus).toBe(true);
  await expect(titles.first()).toHaveText(/<|\[/);
  await expectClean(page, dialogs, 'chat');

  // Profile: values and evidence quotes, then the history with summaries and quotes.
  await app.openProfile();
  await expect(app.profileField('Demographics', 'Poisoned 2')).toContainText(
    '<img src=x onerror="window.__xss = \'img\'">',
  );
  await expectClean(page, dialogs, 'profile');
  await app.openProfileTab('History');
  await expect(app.profileView.getByRole('list', { name: 'Profile history' })).toContainText('<');
  await expectClean(page, dialogs, 'profile history');

  // Settings: the storage view lists conversations by title.
  await app.openPrivacy();
  await expect(page.getByRole('list', { name: 'Largest conversations' })).toContainText('<');
  await expectClean(page, dialogs, 'privacy');

  // And once more from a cold start, everything rendered from IndexedDB.
  await app.reload();
  await expectClean(page, dialogs, 'after reload');
});
