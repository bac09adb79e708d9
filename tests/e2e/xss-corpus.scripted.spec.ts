import { expect, test } from '@playwright/test';
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
