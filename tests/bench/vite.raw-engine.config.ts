import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { ISOLATION_HEADERS } from '../../src/core/security/isolation.ts';

/**
 * Builds the raw-engine page used as the baseline by `npm run bench:stream` and `bench:cpu`.
 * Served cross-origin isolated like the app, so the engine gets the same threads there.
 */
export default defineConfig({
  root: fileURLToPath(new URL('./raw-engine', import.meta.url)),
  base: './',
  worker: { format: 'es' },
  logLevel: 'warn',
  preview: { headers: { ...ISOLATION_HEADERS } },
  build: {
    outDir: fileURLToPath(new URL('../../bench-results/raw-engine', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
  },
});
