import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/** Builds the raw-engine page used as the baseline by `npm run bench:stream`. */
export default defineConfig({
  root: fileURLToPath(new URL('./raw-engine', import.meta.url)),
  base: './',
  worker: { format: 'es' },
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../../bench-results/raw-engine', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
  },
});
