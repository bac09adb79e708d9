/**
 * `npm run bench:stream`: streaming throughput of the tiny GGUF through the raw engine (a worker
 * calling WllamaEngine directly) versus the whole app path (assistant worker, Comlink, batching,
 * IndexedDB writes, Svelte rendering of Markdown), measured in one run, alternating, in Chromium.
 * Also reports the longest main-thread task seen while the app streamed.
 *
 * Targets (issue #2): app/raw tokens per second >= 0.95; longest main-thread task < 50 ms.
 */
import { existsSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { build, preview } from 'vite';
import { launchBenchBrowser, startModelServer } from './bench-harness';
import { baseSystemPrompt } from '../../src/core/chat/system-prompt';
import { PersonaApp } from '../e2e/pages/persona-app';
import type { RawRunRequest, RawRunResult } from './raw-engine/raw.worker';

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const APP_PORT = 4273;
const RAW_PORT = 4274;
const MODEL_PORT = 4275;
const MODEL_URL = `http://127.0.0.1:${MODEL_PORT}/models/tiny.gguf`;
const PROMPT = 'Tell me a long story about a cat, a dog and the sun.';
const MAX_TOKENS = 1024;

/** How often the main-thread probe asks to run; a longer wait means a task was in the way. */
const PROBE_MS = 5;

interface BenchState {
  first: number | null;
  end: number | null;
  stalls: { at: number; ms: number }[];
}

interface AppRun {
  completionTokens: number;
  seconds: number;
  tokensPerSecond: number;
  longestTaskMs: number;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};

async function runRaw(page: Page): Promise<RawRunResult> {
  const request: RawRunRequest = {
    modelUrl: MODEL_URL,
    messages: [
      { role: 'system', content: baseSystemPrompt(new Date()) },
      { role: 'user', content: PROMPT },
    ],
    maxTokens: MAX_TOKENS,
  };
  return page.evaluate(
    (req) =>
      (window as unknown as { runRaw: (r: RawRunRequest) => Promise<RawRunResult> }).runRaw(req),
    request,
  );
}

/** Sends one message in a new chat and times it where the user sees it: in the DOM. */
async function runApp(app: PersonaApp): Promise<AppRun> {
  await app.startNewChat();
  // tsx compiles named functions with an `__name` helper that does not exist inside the page.
  await app.page.evaluate('window.__name = (fn) => fn');
  await app.page.evaluate((PROBE_MS) => {
    const w = window as unknown as { bench: BenchState };
    w.bench = { first: null, end: null, stalls: [] };
    // Headless Chromium reports no 'longtask' entries, so the main thread is probed instead: a
    // timer asks to run every 5 ms, and the longest wait beyond that is the longest task.
    let lastTick = performance.now();
    const probe = () => {
      const now = performance.now();
      w.bench.stalls.push({ at: now, ms: now - lastTick - PROBE_MS });
      lastTick = now;
      if (w.bench.end === null) setTimeout(probe, PROBE_MS);
    };
    setTimeout(probe, PROBE_MS);
    // Times the text the user sees: from the first token on screen to the last one. The
    // thinking indicator shown before the first token does not count as text.
    let lastLength = 0;
    let lastTextAt: number | null = null;
    const observer = new MutationObserver(() => {
      const reply = [...document.querySelectorAll('article.message[data-role="assistant"]')].at(-1);
      if (!reply || reply.querySelector('.typing')) return;
      const length = (reply.querySelector('.content')?.textContent ?? '').length;
      if (length !== lastLength) {
        lastLength = length;
        lastTextAt = performance.now();
        w.bench.first ??= lastTextAt;
      }
      if (reply.getAttribute('data-status') === 'complete') {
        w.bench.end = lastTextAt;
        observer.disconnect();
      }
    });
    observer.observe(document.body, {
      subtree: true,
      childList: true,
      characterData: true,
      attributes: true,
    });
  }, PROBE_MS);
  await app.typeAndSend(PROMPT);
  await app.waitForReplyToFinish();
  const meta = await app.lastReply().locator('.meta').innerText();
  const completionTokens = Number(/(\d+) tokens/.exec(meta)?.[1] ?? NaN);
  const timing = await app.page.evaluate(() => {
    const { bench } = window as unknown as { bench: BenchState };
    const first = bench.first ?? 0;
    const end = bench.end ?? 0;
    const during = bench.stalls.filter((s) => s.at >= first && s.at <= end);
    return { first, end, longest: Math.max(0, ...during.map((s) => s.ms)) };
  });
  if (process.env.BENCH_DEBUG) console.log(timing, meta);
  const seconds = (timing.end - timing.first) / 1000;
  return {
    completionTokens,
    seconds,
    tokensPerSecond: seconds > 0 ? (completionTokens - 1) / seconds : 0,
    longestTaskMs: timing.longest,
  };
}

async function main(): Promise<void> {
  if (!existsSync('dist/index.html')) throw new Error('Build the app first (npm run build).');
  await build({ configFile: 'tests/bench/vite.raw-engine.config.ts' });
  const appServer = await preview({
    preview: { port: APP_PORT, strictPort: true, host: '127.0.0.1' },
    logLevel: 'warn',
  });
  const rawServer = await preview({
    configFile: 'tests/bench/vite.raw-engine.config.ts',
    preview: { port: RAW_PORT, strictPort: true, host: '127.0.0.1' },
  });
  const modelServer = await startModelServer(MODEL_PORT);
  const browser = await launchBenchBrowser();
  try {
    const rawPage = await browser.newPage();
    await rawPage.goto(`http://127.0.0.1:${RAW_PORT}/`);
    const appPage = await browser.newPage({ baseURL: `http://127.0.0.1:${APP_PORT}` });
    const app = new PersonaApp(appPage, `http://127.0.0.1:${MODEL_PORT}`);
    await app.open();
    await app.addCustomGguf('models/tiny.gguf', 'Bench model');
    await app.loadModel('Bench model');
    await app.backToChat();

    // Warm-up: first runs pay for compilation and caches.
    await runRaw(rawPage);
    await runApp(app);
    const raw: RawRunResult[] = [];
    const viaApp: AppRun[] = [];
    for (let i = 0; i < RUNS; i++) {
      raw.push(await runRaw(rawPage));
      viaApp.push(await runApp(app));
    }

    const rawTps = median(raw.map((r) => r.tokensPerSecond));
    const appTps = median(viaApp.map((r) => r.tokensPerSecond));
    const longest = Math.max(...viaApp.map((r) => r.longestTaskMs));
    console.log(
      `\nStreaming benchmark: tiny GGUF on wllama (wasm, 1 thread), ${RUNS} alternating runs, up to ${MAX_TOKENS} tokens each`,
    );
    console.log('run  raw tokens  raw tok/s  app tokens  app tok/s  longest stall (ms)');
    raw.forEach((r, i) => {
      const a = viaApp[i];
      if (!a) return;
      console.log(
        `${String(i + 1).padStart(3)}  ${String(r.completionTokens).padStart(10)}  ${r.tokensPerSecond.toFixed(1).padStart(9)}  ${String(a.completionTokens).padStart(10)}  ${a.tokensPerSecond.toFixed(1).padStart(9)}  ${a.longestTaskMs.toFixed(0).padStart(17)}`,
      );
    });
    console.log(`\nmedian raw engine:  ${rawTps.toFixed(1)} tokens/s`);
    console.log(`median app path:    ${appTps.toFixed(1)} tokens/s`);
    console.log(`ratio app / raw:    ${(appTps / rawTps).toFixed(3)}   (target >= 0.95)`);
    console.log(
      `longest main-thread task while streaming: ${longest.toFixed(0)} ms   (target < 50 ms)`,
    );
  } finally {
    await browser.close();
    modelServer.kill();
    await Promise.all([appServer.close(), rawServer.close()]);
  }
}

await main();
