/**
 * What the browser benchmarks share: the local model server (the fixtures served like a
 * self-hosted model host) and a headless Chromium, Debian's when present.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext } from '@playwright/test';

async function waitForServer(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up`);
}

/** Starts `tests/fixtures/model-server.ts` on `port` and resolves once it answers. */
export async function startModelServer(port: number): Promise<ChildProcess> {
  const server = spawn(
    process.execPath,
    ['--import', 'tsx', 'tests/fixtures/model-server.ts', '--port', String(port)],
    { stdio: 'ignore' },
  );
  try {
    await waitForServer(`http://127.0.0.1:${port}/health`);
  } catch (error) {
    server.kill();
    throw error;
  }
  return server;
}

export function launchBenchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined,
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

/**
 * A Chromium with its own profile folder: what it stores (IndexedDB, the service worker, model
 * files) stays there between launches, so a history is imported once and each launch is a start
 * of the app as a returning user has it.
 */
export function launchBenchProfile(userDataDir: string, baseURL: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined,
    baseURL,
    acceptDownloads: true,
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      '--enable-precise-memory-info',
    ],
  });
}
