import { readFileSync } from 'node:fs';
import { defineConfig, type Plugin } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { bootstrapScript, headerPolicy } from './src/core/security/csp.ts';

const BOOTSTRAP_FILE = 'csp-bootstrap.js';

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

/** Recorded with every benchmark run, so results can be traced to the build that made them. */
const appVersion = (
  JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

export default defineConfig({
  plugins: [svelte(), contentSecurityPolicy()],
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
