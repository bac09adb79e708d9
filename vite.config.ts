import { readFileSync } from 'node:fs';
import { defineConfig, type Plugin } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { VitePWA } from 'vite-plugin-pwa';
import { bootstrapScript, headerPolicy } from './src/core/security/csp.ts';
import { ISOLATION_HEADERS, isolationServiceWorkerScript } from './src/core/security/isolation.ts';

const BOOTSTRAP_FILE = 'csp-bootstrap.js';
const ISOLATION_SW_FILE = 'sw-isolation.js';

/**
 * Puts the Content Security Policy on every page: a start-up script (first in `<head>`, before
 * any other resource) writes it as a `<meta>` policy including the user's allowed origins, and the
 * dev and preview servers also send it as an HTTP header.
 */
function contentSecurityPolicy(): Plugin {
  let dev = false;
  return {
    name: 'persona-content-security-policy',
    config: () => ({
      server: { headers: { 'Content-Security-Policy': headerPolicy(true) } },
      preview: { headers: { 'Content-Security-Policy': headerPolicy(false) } },
    }),
    configResolved(config) {
      dev = config.command === 'serve';
    },
    configureServer(server) {
      server.middlewares.use(`/${BOOTSTRAP_FILE}`, (_req, res) => {
        res.setHeader('Content-Type', 'text/javascript');
        res.end(bootstrapScript(true));
      });
    },
    generateBundle() {
      this.emitFile({ type: 'asset', fileName: BOOTSTRAP_FILE, source: bootstrapScript(dev) });
    },
    transformIndexHtml: () => [
      { tag: 'script', attrs: { src: `/${BOOTSTRAP_FILE}` }, injectTo: 'head-prepend' },
    ],
  };
}

/**
 * Cross-origin isolation (`src/core/security/isolation.ts`), which wllama needs for threads: the
 * dev and preview servers send the headers, and for static hosts that send none the service
 * worker adds them to the pages it serves, so the app is isolated from its second load on.
 */
function crossOriginIsolation(): Plugin {
  return {
    name: 'persona-cross-origin-isolation',
    config: () => ({
      server: { headers: { ...ISOLATION_HEADERS } },
      preview: { headers: { ...ISOLATION_HEADERS } },
    }),
    generateBundle() {
      this.emitFile({
        type: 'asset',
        fileName: ISOLATION_SW_FILE,
        source: isolationServiceWorkerScript(),
      });
    },
  };
}

/**
 * The installable, offline app: a web app manifest and a Workbox service worker that precaches
 * the whole app shell (page, scripts, the assistant worker, both engines' runtimes and wasm).
 * Model weights are not precached or cached at run time: the engines keep them in their own
 * caches (WebLLM in Cache Storage `webllm/*`, wllama in the origin-private file system), which
 * Workbox never touches; only its own outdated precaches are removed when a new version activates.
 * `src/state/app-update.svelte.ts` registers it; a new version waits until the user reloads.
 */
function installableApp(): Plugin[] {
  return VitePWA({
    registerType: 'prompt',
    // Registered by the app itself (src/main.ts), which owns the update prompt.
    injectRegister: false,
    // The glob below already precaches every icon; listing them again would only duplicate.
    includeManifestIcons: false,
    manifest: {
      name: 'Persona',
      short_name: 'Persona',
      description:
        'A private assistant that runs on your device, gets to know you, and works offline.',
      // Relative to the manifest, so the app installs the same under any path it is served from.
      start_url: './',
      scope: './',
      id: './',
      display: 'standalone',
      // The header colour of index.html and the light page background of src/ui/theme.css.
      theme_color: '#1f2937',
      background_color: '#f7f7f8',
      icons: [
        { src: 'pwa-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
        { src: 'pwa-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
        { src: 'pwa-maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        { src: 'icon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any' },
      ],
    },
    workbox: {
      // The Lab's shipped PersonaBench set is data the app fetches, so it is part of the shell.
      globPatterns: ['**/*.{js,css,html,wasm,svg,png,webmanifest}', 'personabench/**/*.json'],
      // Part of the worker itself (the browser keeps imported scripts with it), not of the page.
      globIgnores: [ISOLATION_SW_FILE],
      // Runs before Workbox registers its routes, so its fetch listener sees navigations first.
      importScripts: [ISOLATION_SW_FILE],
      // The WebLLM runtime chunk and wllama's wasm are several MB each; without this Workbox
      // would leave them out and the app could not start an engine offline.
      maximumFileSizeToCacheInBytes: 32 * 1024 * 1024,
      navigateFallback: 'index.html',
      cleanupOutdatedCaches: true,
      // Deliberately no runtimeCaching: model hosts are never routed through the service worker.
    },
  });
}

/** Recorded with every benchmark run, so results can be traced to the build that made them. */
const appVersion = (
  JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

export default defineConfig({
  plugins: [svelte(), contentSecurityPolicy(), crossOriginIsolation(), installableApp()],
  define: { __APP_VERSION__: JSON.stringify(appVersion) },
  worker: { format: 'es' },
  build: {
    target: 'es2022',
    // The WebLLM runtime is a single multi-megabyte module; splitting it gains nothing.
    chunkSizeWarningLimit: 8000,
  },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
});
