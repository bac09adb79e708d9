/**
 * `npm run bench:scale` (issue 11): how Persona behaves with a lifetime of conversations. Builds
 * histories (empty; 10k messages in 200 conversations; 100k in 2,000; the same with the open
 * conversation holding 5,000 messages; a 60-field profile with 500 revisions), imports each once
 * into its own Chromium profile through the Privacy page (the app's own import into its own
 * database), and then, alternating between histories run after run, starts the built app and
 * measures what a user waits for. Prints min/median/max and ratios to the empty database of the
 * same run, and writes everything to `bench-results/`. It asserts nothing: figures, not a test.
 *
 * Only what a user sees is used (page objects, roles, labels) and the backup file format, so the
 * windowed lists and streaming backups being built beside it do not break it.
 *
 *   BENCH_SCALE=0.02 npm run bench:scale   # a quick run at 2% of the sizes
 *   BENCH_RUNS=5                           # repetitions (default 3)
 *   BENCH_ONLY=empty,10k                   # some histories only
 *   BENCH_REUSE=1                          # keep the profiles a previous run set up
 *   BENCH_ROUND_TRIP=0                     # skip export → erase → import
 *   BENCH_REINDEX=0                        # round trip without waiting for the re-indexing
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { expect, type BrowserContext, type Page } from '@playwright/test';
import { preview } from 'vite';
import { PersonaApp } from '../e2e/pages/persona-app';
import { launchBenchProfile, startModelServer } from './bench-harness';
import { RARE_WORD, SHORT_TITLE, writeHistory, type HistorySpec } from './scale/history';

const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const PORT = Number(process.env.BENCH_PORT ?? 4283);
const APP_URL = `http://127.0.0.1:${PORT}`;
const MODEL_PORT = PORT + 2;
const MODEL_NAME = 'Bench model';
/** The search box waits this long after the last keystroke before asking the worker. */
const SEARCH_DEBOUNCE_MS = 150;
/** After the first screen is usable, how long start-up work (model load, indexing) is watched. */
const SETTLE_MS = 3_000;
const PROBE_MS = 5;
const REUSE = process.env.BENCH_REUSE === '1';
const ROUND_TRIP = process.env.BENCH_ROUND_TRIP !== '0';
const REINDEX = process.env.BENCH_REINDEX !== '0';

/** Names this invocation's messages apart from those an earlier one left in a kept profile. */
const STAMP = Date.now().toString(36);

const scaled = (n: number): number => Math.max(2, Math.round((n * SCALE) / 2) * 2);

const HISTORIES: HistorySpec[] = [
  { name: 'empty', conversations: 0, messages: 0, openConversationMessages: 0, profile: false },
  {
    name: '10k',
    conversations: Math.max(3, Math.round(200 * SCALE)),
    messages: scaled(10_000),
    openConversationMessages: 0,
    profile: false,
  },
  {
    name: '100k',
    conversations: Math.max(3, Math.round(2_000 * SCALE)),
    messages: scaled(100_000),
    openConversationMessages: 0,
    profile: false,
  },
  {
    name: '100k+5000 open',
    conversations: Math.max(3, Math.round(2_000 * SCALE)),
    messages: scaled(100_000),
    openConversationMessages: scaled(5_000),
    profile: false,
  },
  {
    name: 'profile 500 rev',
    conversations: 0,
    messages: 0,
    openConversationMessages: 0,
    profile: true,
  },
].filter((h) => !process.env.BENCH_ONLY || process.env.BENCH_ONLY.split(',').includes(h.name));

const SEARCHES = [RARE_WORD, 'water', 'gard', 'water evening', '東京'];

type Figures = Record<string, number | null>;

interface PageProbe {
  stalls: { at: number; ms: number }[];
  longTasks: { at: number; ms: number }[];
  interactiveAt: number | null;
  timer: { start: number | null; end: number | null } | null;
}

/** Installed before any script of the page: the main-thread probe and the "interactive" check. */
function probeScript({ probeMs, expectMessages }: { probeMs: number; expectMessages: boolean }) {
  const w = window as unknown as { __probe: PageProbe };
  w.__probe = { stalls: [], longTasks: [], interactiveAt: null, timer: null };
  const probe = w.__probe;
  // Headless Chromium reports few 'longtask' entries, so a timer that asks to run every 5 ms
  // measures the main thread too: the longest wait beyond that is the longest task.
  let last = performance.now();
  const tick = () => {
    const now = performance.now();
    probe.stalls.push({ at: now, ms: Math.max(0, now - last - probeMs) });
    last = now;
    setTimeout(tick, probeMs);
  };
  setTimeout(tick, probeMs);
  try {
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries())
        probe.longTasks.push({ at: entry.startTime, ms: entry.duration });
    }).observe({ type: 'longtask', buffered: true });
  } catch {
    // not supported
  }
  // Usable: the conversation list with its search box, the composer, and the open conversation's
  // messages (or the welcome of an empty chat) on screen.
  const usable = () =>
    document.querySelector('input[type="search"]') !== null &&
    document.querySelector('textarea') !== null &&
    (expectMessages
      ? document.querySelector('[data-message-id]') !== null
      : document.querySelector('[data-message-id]') !== null ||
        /What can I help with/.test(document.body.textContent));
  const check = () => {
    if (probe.interactiveAt === null && usable()) probe.interactiveAt = performance.now();
    if (probe.interactiveAt === null) requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
}

interface DoneWhen {
  /** Any of these selectors present (with `text` in it when given) ends the timing. */
  any: { css: string; text?: string; notText?: string }[];
  /** What starts it: the next click or keydown (Enter), or the next input event. */
  on: 'click' | 'keydown' | 'input';
}

/** Starts a timer at the user's next action, stopped when `done` holds. */
async function arm(page: Page, done: DoneWhen): Promise<void> {
  await page.evaluate((done) => {
    const w = window as unknown as { __probe: PageProbe };
    const timer = { start: null as number | null, end: null as number | null };
    w.__probe.timer = timer;
    const holds = () =>
      done.any.some(({ css, text, notText }) =>
        [...document.querySelectorAll(css)].some((el) => {
          const content = el.textContent;
          return (
            (text === undefined || content.includes(text)) &&
            (notText === undefined || !content.includes(notText))
          );
        }),
      );
    const observer = new MutationObserver(() => {
      if (timer.start !== null && timer.end === null && holds()) {
        timer.end = performance.now();
        observer.disconnect();
      }
    });
    document.addEventListener(
      done.on,
      (event) => {
        if (done.on === 'keydown' && (event as KeyboardEvent).key !== 'Enter') return;
        timer.start ??= performance.now();
      },
      { capture: true },
    );
    observer.observe(document.body, {
      subtree: true,
      childList: true,
      characterData: true,
      attributes: true,
    });
  }, done);
}

async function elapsed(page: Page, timeout = 120_000): Promise<number> {
  await page.waitForFunction(
    () => (window as unknown as { __probe: PageProbe }).__probe.timer?.end != null,
    undefined,
    { timeout, polling: 50 },
  );
  return page.evaluate(() => {
    const { timer } = (window as unknown as { __probe: PageProbe }).__probe;
    return (timer?.end ?? 0) - (timer?.start ?? 0);
  });
}

async function longestStall(page: Page, from: number, to: number): Promise<number> {
  return page.evaluate(
    ({ from, to }) => {
      const { stalls, longTasks } = (window as unknown as { __probe: PageProbe }).__probe;
      const within = [...stalls, ...longTasks].filter((s) => s.at >= from && s.at <= to);
      return Math.max(0, ...within.map((s) => s.ms));
    },
    { from, to },
  );
}

const now = (page: Page) => page.evaluate(() => performance.now());

/** The model badge says a model is in use. */
async function waitForModel(app: PersonaApp): Promise<void> {
  await expect(app.modelBadge).toContainText('·', { timeout: 120_000 });
}

/** Waits until the search index has caught up with an import (it runs in the background). */
async function waitForIndex(app: PersonaApp): Promise<number> {
  const started = Date.now();
  await app.searchConversations(RARE_WORD);
  const status = app.page.getByRole('search').getByRole('status');
  // The box asks again every second while indexing runs, and says so until it is done.
  await expect
    .poll(async () => status.innerText(), { timeout: 3_600_000, intervals: [250] })
    .toMatch(/^(?!Searching)(?!.*still being indexed)/);
  await app.searchBox.fill('');
  return Date.now() - started;
}

/** Imports the history into a fresh profile and loads the bench model there. */
async function setUp(history: HistorySpec, dir: string, file: string): Promise<Figures> {
  rmSync(dir, { recursive: true, force: true });
  const context = await launchBenchProfile(dir, APP_URL);
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const app = new PersonaApp(page, `http://127.0.0.1:${MODEL_PORT}`);
    await app.open();
    const figures: Figures = { importMs: null, indexMs: null };
    if (history.conversations > 0 || history.profile) {
      await writeHistory(history, file);
      const started = Date.now();
      await app.importBackup({ path: file });
      figures.importMs = Date.now() - started;
      figures.indexMs = await waitForIndex(app);
    }
    await app.addCustomGguf('models/tiny.gguf', MODEL_NAME);
    await app.loadModel(MODEL_NAME);
    await app.backToChat();
    return figures;
  } finally {
    await context.close();
  }
}

/** Sends `text` and times the user's own message on screen and the reply's first text. */
async function timeSend(app: PersonaApp, text: string): Promise<{ own: number; first: number }> {
  const { page } = app;
  const previousReply = await app
    .lastReply()
    .getAttribute('data-message-id', { timeout: 1_000 })
    .catch(() => null);
  await arm(page, { on: 'keydown', any: [{ css: 'article.message[data-role="user"]', text }] });
  await app.typeAndSend(text);
  const own = await elapsed(page);
  // The first text of the new reply on screen, from the Enter that sent the message.
  const first = await page.evaluate(
    async ({ previousReply, timeout }) => {
      const w = window as unknown as { __probe: PageProbe };
      const sentAt = w.__probe.timer?.start ?? performance.now();
      return new Promise<number>((resolve, reject) => {
        const check = () => {
          const reply = [...document.querySelectorAll('article.message[data-role="assistant"]')].at(
            -1,
          );
          const content = reply?.querySelector('.content')?.textContent.trim() ?? '';
          const isNew = reply && reply.getAttribute('data-message-id') !== previousReply;
          if (isNew && !reply.querySelector('.typing') && content !== '') {
            resolve(performance.now() - sentAt);
          } else if (isNew && reply.getAttribute('data-status') === 'error') {
            // No text to time: the reply failed (recorded as -1, left out of the figures).
            resolve(-1);
          } else if (performance.now() - sentAt > timeout) reject(new Error('no first token'));
          else requestAnimationFrame(check);
        };
        check();
      });
    },
    { previousReply, timeout: 120_000 },
  );
  await app.stopGenerating().catch(() => undefined);
  await app.waitForReplyToFinish(120_000);
  return { own, first: first < 0 ? NaN : first };
}

/** One start of the app on a history, and every journey measured in it. */
async function measure(history: HistorySpec, dir: string, run: number): Promise<Figures> {
  const context: BrowserContext = await launchBenchProfile(dir, APP_URL);
  const expectMessages = history.conversations > 0;
  // tsx compiles named functions with an `__name` helper that does not exist inside the page.
  await context.addInitScript('window.__name = (fn) => fn');
  await context.addInitScript(probeScript, { probeMs: PROBE_MS, expectMessages });
  const figures: Figures = {};
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const app = new PersonaApp(page, `http://127.0.0.1:${MODEL_PORT}`);
    await page.goto('/');
    await page.waitForFunction(
      () => (window as unknown as { __probe: PageProbe }).__probe.interactiveAt !== null,
      undefined,
      { timeout: 300_000, polling: 50 },
    );
    const interactiveAt = await page.evaluate(
      () => (window as unknown as { __probe: PageProbe }).__probe.interactiveAt ?? 0,
    );
    figures.interactiveMs = interactiveAt;
    await page.waitForTimeout(SETTLE_MS);
    figures.loadStallMs = await longestStall(page, 0, await now(page));
    figures.domNodes = await page.evaluate(() => document.getElementsByTagName('*').length);
    const cdp = await context.newCDPSession(page);
    await cdp.send('HeapProfiler.collectGarbage');
    const heap = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
    figures.heapMB = heap.usedSize / 1_048_576;

    // The Storage view: from the click to its figures.
    let from = await now(page);
    await arm(page, {
      on: 'click',
      any: [
        { css: '[aria-label="Space by kind of data"]' },
        { css: 'section', text: 'Nothing stored yet.' },
      ],
    });
    await page.getByRole('button', { name: 'Privacy', exact: true }).click();
    figures.storageViewMs = await elapsed(page, 600_000);
    figures.storageStallMs = await longestStall(page, from, await now(page));

    // The profile's History tab: from the click to the list (or its empty state).
    await app.openProfile();
    from = await now(page);
    await arm(page, {
      on: 'click',
      any: [{ css: '[aria-label="Profile history"] li' }, { css: 'p', text: 'No changes yet.' }],
    });
    await app.profileView.getByRole('tab', { name: /^History/ }).click();
    figures.historyTabMs = await elapsed(page);
    figures.historyStallMs = await longestStall(page, from, await now(page));
    // Back to the conversation open at start-up (or a new chat on an empty history).
    const current = page
      .getByRole('navigation', { name: 'Conversations' })
      .locator('[aria-current="page"]');
    // Its title, to open it again at the end: the next start must open the same conversation.
    const startTitle = (await current.count()) > 0 ? await current.innerText() : null;
    if (startTitle !== null) await current.click();
    else await app.startNewChat();

    // Search: from the keystroke to the results (or "Nothing found") on screen.
    from = await now(page);
    for (const query of SEARCHES) {
      await app.searchBox.fill('');
      await arm(page, {
        on: 'input',
        any: [{ css: '[role="search"] [role="status"]', notText: 'Searching' }],
      });
      await app.searchBox.fill(query);
      const ms = await elapsed(page);
      figures[`search "${query}" ms`] = ms - SEARCH_DEBOUNCE_MS;
      figures[`search "${query}" hits`] = await app.searchResults.count();
    }
    await app.searchBox.fill('');
    figures.searchStallMs = await longestStall(page, from, await now(page));

    // Sending: in the conversation open at start-up, in a 2-message one, and in a new chat.
    await waitForModel(app);
    if (history.conversations > 0) {
      from = await now(page);
      const open = await timeSend(app, `Run ${run} ${STAMP}: a question in the open conversation.`);
      figures.sendOpenOwnMs = open.own;
      figures.sendOpenFirstTokenMs = open.first;
      figures.sendOpenStallMs = await longestStall(page, from, await now(page));
      await app.openConversation(SHORT_TITLE);
      await expect(app.messages().first()).toBeVisible();
      const short = await timeSend(app, `Run ${run} ${STAMP}: a question in a short conversation.`);
      figures.sendShortOwnMs = short.own;
      figures.sendShortFirstTokenMs = short.first;
    }
    await app.startNewChat();
    from = await now(page);
    const fresh = await timeSend(app, `Run ${run} ${STAMP}: hello in a new chat.`);
    figures.newChatOwnMs = fresh.own;
    figures.newChatFirstTokenMs = fresh.first;
    figures.newChatStallMs = await longestStall(page, from, await now(page));
    if (startTitle !== null) {
      await app.openConversation(startTitle);
      await expect(app.messages().first()).toBeVisible();
      // Stored before the browser closes: the next start opens it again.
      await expect.poll(() => storedOpenTitle(page)).toBe(startTitle);
    }
    return figures;
  } finally {
    await context.close();
  }
}

/** Export → erase → import → export again: the same file (but its time) means restored exactly. */
async function roundTrip(dir: string, file: string): Promise<Figures> {
  const context = await launchBenchProfile(dir, APP_URL);
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const app = new PersonaApp(page, `http://127.0.0.1:${MODEL_PORT}`);
    await app.open();
    let started = Date.now();
    const before = await app.exportEverything();
    const exportMs = Date.now() - started;
    writeFileSync(file, before.text);
    started = Date.now();
    await app.eraseEverything();
    const eraseMs = Date.now() - started;
    started = Date.now();
    await app.importBackup({ path: file });
    const importMs = Date.now() - started;
    // Exported again at once: the restored rows are what is compared; the index, rebuilt in the
    // background, is not in a backup (and takes minutes at 100k messages).
    const after = await app.exportEverything();
    const indexMs = REINDEX ? await waitForIndex(app) : null;
    writeFileSync(file.replace(/\.json$/, '-after.json'), after.text);
    const withoutTime = (text: string) => text.replace(/"exportedAt":"[^"]*"/, '');
    // Which parts differ, when any (the worker could learn from the bench's own chats between the
    // exports, moving conversations' `learnedUntil`: it says which).
    const parts = (text: string) => JSON.parse(text) as Record<string, unknown>;
    const [was, is] = [parts(before.text), parts(after.text)];
    const differing = Object.keys(was).filter(
      (key) => key !== 'exportedAt' && !isDeepStrictEqual(was[key], is[key]),
    );
    if (differing.length > 0)
      console.log(`round trip: these parts differ: ${differing.join(', ')}`);
    return {
      exportMs,
      exportMB: Buffer.byteLength(before.text) / 1_000_000,
      eraseMs,
      importMs,
      reindexMs: indexMs,
      // Every row and value equal (key order inside a row may differ: the app writes fields in
      // the order of the code that stored them, an import in the order of the backup's parser).
      restoredExactly: differing.length === 0 ? 1 : 0,
      sameText: withoutTime(before.text) === withoutTime(after.text) ? 1 : 0,
    };
  } finally {
    await context.close();
  }
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};

interface Summary {
  min: number;
  median: number;
  max: number;
}

function summarize(runs: Figures[]): Record<string, Summary> {
  const keys = [...new Set(runs.flatMap((r) => Object.keys(r)))];
  return Object.fromEntries(
    keys.map((key) => {
      const values = runs
        .map((r) => r[key])
        .filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
      return [key, { min: Math.min(...values), median: median(values), max: Math.max(...values) }];
    }),
  );
}

/** Reads the app's database from the page, as the app stored it (never writes). */
const READ_STORED = `(store, key) => new Promise((resolve, reject) => {
  const open = indexedDB.open('persona');
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const db = open.result;
    const get = db.transaction(store).objectStore(store).get(key);
    get.onerror = () => reject(get.error);
    get.onsuccess = () => { db.close(); resolve(get.result ?? null); };
  };
})`;

async function storedTitle(page: Page, conversationId: string): Promise<string | null> {
  return page.evaluate(
    `(${READ_STORED})('conversations', ${JSON.stringify(conversationId)}).then((c) => c && c.title)`,
  );
}

/** The title of the conversation the app has stored as the one open. */
async function storedOpenTitle(page: Page): Promise<string | null> {
  const id = await page.evaluate(
    `(${READ_STORED})('settings', 'activeConversationId').then((s) => s && s.value)`,
  );
  return typeof id === 'string' ? storedTitle(page, id) : null;
}

/**
 * A kept profile's service worker still serves the build it precached: without this, a rebuilt
 * app would be measured as the old one. Drops it and its caches, then lets the current build's
 * worker install and take over, as a returning user's browser holds it.
 */
async function installCurrentBuild(history: HistorySpec, profile: string): Promise<void> {
  const context = await launchBenchProfile(profile, APP_URL);
  try {
    const page = await context.newPage();
    await page.goto(APP_URL);
    await page.evaluate(
      `(async () => {
        for (const r of await navigator.serviceWorker.getRegistrations()) await r.unregister();
        for (const key of await caches.keys()) await caches.delete(key);
      })()`,
    );
    await page.reload();
    await page.evaluate('navigator.serviceWorker.ready.then(() => undefined)');
    // An interrupted run may have left another conversation open: the history's own again.
    if (history.conversations > 0) {
      const title = await storedTitle(page, `bench-conversation-${history.conversations - 1}`);
      if (title === null) throw new Error(`${history.name}: the open conversation is gone.`);
      const app = new PersonaApp(page, `http://127.0.0.1:${MODEL_PORT}`);
      await app.openConversation(title);
      await expect.poll(() => storedOpenTitle(page)).toBe(title);
    }
  } finally {
    await context.close();
  }
}

const fmt = (n: number): string =>
  Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2);

async function main(): Promise<void> {
  if (!existsSync('dist/index.html')) throw new Error('Build the app first (npm run build).');
  const root = join(tmpdir(), 'persona-bench-scale');
  mkdirSync(root, { recursive: true });
  const server = await preview({
    preview: { port: PORT, strictPort: true, host: '127.0.0.1' },
    logLevel: 'warn',
  });
  const modelServer = await startModelServer(MODEL_PORT);
  const setup: Record<string, Figures> = {};
  const runs: Record<string, Figures[]> = {};
  const trips: Record<string, Figures> = {};
  try {
    for (const history of HISTORIES) {
      const t = Date.now();
      // Indexing an imported 100k history takes minutes: a later run may keep the profiles.
      if (REUSE && existsSync(join(root, history.name))) {
        await installCurrentBuild(history, join(root, history.name));
        setup[history.name] = { reused: 1 };
        runs[history.name] = [];
        continue;
      }
      setup[history.name] = await setUp(
        history,
        join(root, history.name),
        join(root, `${history.name}.json`),
      );
      console.log(
        `set up ${history.name} in ${((Date.now() - t) / 1000).toFixed(1)} s`,
        setup[history.name],
      );
      runs[history.name] = [];
    }
    for (let run = 1; run <= RUNS; run++) {
      // Alternating: each run goes through every history, so a slow moment of the machine
      // touches all of them alike.
      for (const history of HISTORIES) {
        const figures = await measure(history, join(root, history.name), run);
        runs[history.name]?.push(figures);
        console.log(`run ${run} ${history.name}`, JSON.stringify(figures));
      }
    }
    for (const history of HISTORIES) {
      if (history.conversations === 0 || !ROUND_TRIP) continue;
      trips[history.name] = await roundTrip(
        join(root, history.name),
        join(root, `${history.name}-export.json`),
      );
      console.log(`round trip ${history.name}`, trips[history.name]);
    }
  } finally {
    modelServer.kill();
    await server.close();
  }

  const summaries = Object.fromEntries(
    Object.entries(runs).map(([name, figures]) => [name, summarize(figures)]),
  );
  const base = summaries.empty;
  const columns: [string, string][] = [
    ['interactiveMs', 'interactive after load'],
    ['loadStallMs', 'longest stall (load)'],
    ['domNodes', 'DOM nodes'],
    ['heapMB', 'JS heap MB'],
    ['storageViewMs', 'Storage view'],
    ['historyTabMs', 'History tab'],
    ['newChatFirstTokenMs', 'first token, new chat'],
  ];
  console.log(
    `\nScale benchmark: ${RUNS} alternating runs, scale ${SCALE}; median (ratio to empty) [min–max]; times in ms`,
  );
  for (const [key, label] of columns) {
    console.log(`\n${label}`);
    for (const [name, summary] of Object.entries(summaries)) {
      const s = summary[key];
      if (!s || !Number.isFinite(s.median)) continue;
      const ratio = base?.[key]?.median ? ` (${(s.median / base[key].median).toFixed(2)}×)` : '';
      console.log(
        `  ${name.padEnd(18)} ${fmt(s.median).padStart(8)}${ratio.padEnd(10)} [${fmt(s.min)}–${fmt(s.max)}]`,
      );
    }
  }
  console.log(
    '\nsending in the conversation open at start-up vs a 2-message one (ms): own message on screen, first token',
  );
  for (const [name, summary] of Object.entries(summaries)) {
    for (const [what, openKey, shortKey] of [
      ['own message', 'sendOpenOwnMs', 'sendShortOwnMs'],
      ['first token', 'sendOpenFirstTokenMs', 'sendShortFirstTokenMs'],
    ] as const) {
      const open = summary[openKey];
      const short = summary[shortKey];
      if (!open || !short) continue;
      console.log(
        `  ${name.padEnd(18)} ${what.padEnd(12)} open ${fmt(open.median)} [${fmt(open.min)}–${fmt(open.max)}]  short ${fmt(short.median)} [${fmt(short.min)}–${fmt(short.max)}]  ratio ${(open.median / short.median).toFixed(2)}×`,
      );
    }
  }
  console.log(
    `\nsearch: keystroke to results on screen, less the ${SEARCH_DEBOUNCE_MS} ms debounce (ms, hits)`,
  );
  for (const [name, summary] of Object.entries(summaries)) {
    const cells = SEARCHES.map((q) => {
      const s = summary[`search "${q}" ms`];
      const hits = summary[`search "${q}" hits`];
      return s
        ? `"${q}" ${fmt(s.median)} [${fmt(s.min)}–${fmt(s.max)}] (${hits?.median ?? 0})`
        : '';
    });
    console.log(`  ${name.padEnd(18)} ${cells.join('  ')}`);
  }
  console.log('\nlongest main-thread stall per journey (max over runs, ms)');
  for (const [name, summary] of Object.entries(summaries)) {
    const keys = [
      'loadStallMs',
      'storageStallMs',
      'historyStallMs',
      'searchStallMs',
      'sendOpenStallMs',
      'newChatStallMs',
    ];
    console.log(
      `  ${name.padEnd(18)} ${keys.map((k) => `${k.replace('StallMs', '')} ${summary[k] ? fmt(summary[k].max) : '–'}`).join('  ')}`,
    );
  }
  console.log(
    '\nset-up (import through the Privacy page, then background indexing) and round trips',
  );
  for (const history of HISTORIES) {
    console.log(
      `  ${history.name.padEnd(18)} set-up ${JSON.stringify(setup[history.name])}  round trip ${JSON.stringify(trips[history.name] ?? null)}`,
    );
  }

  mkdirSync('bench-results', { recursive: true });
  const out = join('bench-results', `scale-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    out,
    JSON.stringify(
      {
        scale: SCALE,
        runs: RUNS,
        histories: HISTORIES,
        setup,
        raw: runs,
        summaries,
        roundTrips: trips,
      },
      null,
      2,
    ),
  );
  console.log(`\nwrote ${out}`);
}

await main();
