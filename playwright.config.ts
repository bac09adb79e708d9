import { chromium, defineConfig, devices } from '@playwright/test';
import { APP_PORT, E2E_APP_PORT, MODEL_SERVER_PORT } from './tests/e2e/ports';
import { chooseChromium } from './tests/tools/chromium';

/**
 * End-to-end tests run the built app in real Chromium. Debian's `/usr/bin/chromium` is used when
 * present (CI installs it); otherwise Playwright's own browser, where one is installed.
 */
const choice = chooseChromium(chromium.executablePath());
// Without any Chromium the launch would fail obscurely in every test: say what to do instead.
if (!choice.found) throw new Error(choice.advice);
const executablePath = choice.executablePath;

const baseArgs = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export default defineConfig({
  testDir: 'tests/e2e',
  // Two cores and a real model engine per page: parallel pages only slow each other down.
  workers: 1,
  fullyParallel: false,
  timeout: 90_000,
  expect: { timeout: 20_000 },
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${APP_PORT}`,
    trace: 'retain-on-failure',
  },
  projects: [
    {
      name: 'webgpu',
      testMatch: /webgpu\.spec\.ts$/,
      use: {
        ...devices['Desktop Chrome'],
        launchOptions: { executablePath, args: [...baseArgs, '--enable-unsafe-webgpu'] },
      },
    },
    {
      // The end-to-end build (dist-e2e), whose worker also knows the scripted test engine.
      name: 'scripted',
      testMatch: /scripted\.spec\.ts$/,
      use: {
        ...devices['Desktop Chrome'],
        baseURL: `http://127.0.0.1:${E2E_APP_PORT}`,
        launchOptions: { executablePath, args: baseArgs },
      },
    },
    {
      name: 'cpu',
      testIgnore: /(webgpu|scripted)\.spec\.ts$/,
      use: {
        ...devices['Desktop Chrome'],
        launchOptions: { executablePath, args: baseArgs },
      },
    },
  ],
  webServer: [
    {
      command: `npx vite preview --host 127.0.0.1 --port ${APP_PORT} --strictPort`,
      url: `http://127.0.0.1:${APP_PORT}`,
      reuseExistingServer: !process.env.CI,
    },
    {
      command: `npx vite preview --config tests/e2e/vite.e2e.config.ts --host 127.0.0.1 --port ${E2E_APP_PORT} --strictPort`,
      url: `http://127.0.0.1:${E2E_APP_PORT}`,
      reuseExistingServer: !process.env.CI,
    },
    {
      command: `npx tsx tests/fixtures/model-server.ts --port ${MODEL_SERVER_PORT}`,
      url: `http://127.0.0.1:${MODEL_SERVER_PORT}/health`,
      reuseExistingServer: !process.env.CI,
    },
  ],
});
