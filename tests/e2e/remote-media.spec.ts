import { expect, test } from '@playwright/test';
import { PersonaApp } from './pages/persona-app';

/**
 * Markup that would load something from another host by itself (media, their sources and
 * posters, a table background) is removed by the sanitizer, whatever the Content Security Policy
 * would have blocked: nothing leaves the device unasked must not rest on one wall (issue 12).
 */
const THIRD_PARTY = 'https://tracker.example';
const PAYLOADS = [
  `<video src="${THIRD_PARTY}/v.mp4" poster="${THIRD_PARTY}/poster.png" controls></video>`,
  `<audio src="${THIRD_PARTY}/a.mp3" controls></audio>`,
  `<video><source src="${THIRD_PARTY}/s.mp4" srcset="${THIRD_PARTY}/s2.mp4"><track src="${THIRD_PARTY}/t.vtt"></video>`,
  `<picture><source srcset="${THIRD_PARTY}/p.webp"></picture>`,
  `<table background="${THIRD_PARTY}/bg.png"><tr><td background="${THIRD_PARTY}/td.png">cell</td></tr></table>`,
  `<object data="${THIRD_PARTY}/o.swf"></object><embed src="${THIRD_PARTY}/e.swf">`,
  `<svg><image href="${THIRD_PARTY}/i.svg"></image><use xlink:href="${THIRD_PARTY}/u.svg#x"></use></svg>`,
  `<link rel="stylesheet" href="${THIRD_PARTY}/l.css"><a ping="${THIRD_PARTY}/ping" href="https://example.org/">a link</a>`,
  `<div style="background:url(${THIRD_PARTY}/css.png)">styled</div>`,
];

test('a reply or an imported message cannot make the page fetch remote media', async ({ page }) => {
  const requested: string[] = [];
  page.on('request', (request) => {
    if (request.url().startsWith(THIRD_PARTY)) requested.push(request.url());
  });
  const app = new PersonaApp(page);
  await app.open();
  const now = Date.now();
  await app.putStoredRows('conversations', [
    {
      id: 'c-media',
      title: 'Media',
      createdAt: now,
      updatedAt: now,
      temporary: false,
      learnedUntil: 0,
    },
  ]);
  await app.putStoredRows(
    'messages',
    PAYLOADS.map((content, i) => ({
      id: `m${i}`,
      conversationId: 'c-media',
      role: i % 2 === 0 ? 'assistant' : 'user',
      content: `Payload ${i}\n\n${content}`,
      createdAt: now + i,
      status: 'complete',
    })),
  );
  await app.reload();
  await app.openConversation('Media');
  const messages = page.locator('article.message');
  await expect(messages).toHaveCount(PAYLOADS.length);
  await expect(page.getByText('cell')).toBeVisible();
  await expect(page.getByRole('link', { name: 'a link' })).toBeVisible();

  const loaders = await page
    .locator('article.message .content')
    .evaluateAll((contents) =>
      contents.flatMap((content) =>
        [...content.querySelectorAll('*')].flatMap((el) => [
          ...(/^(VIDEO|AUDIO|SOURCE|TRACK|PICTURE|OBJECT|EMBED|SVG|IMAGE|LINK|IMG)$/i.test(
            el.tagName,
          )
            ? [el.tagName]
            : []),
          ...[...el.attributes]
            .filter(
              (a) =>
                /^(src|srcset|poster|background|data|ping|style|xlink:href)$/i.test(a.name) ||
                (a.name === 'href' && el.tagName !== 'A'),
            )
            .map((a) => `${el.tagName} ${a.name}`),
        ]),
      ),
    );
  expect(loaders).toEqual([]);
  expect(requested).toEqual([]);
});
