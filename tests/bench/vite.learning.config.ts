import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/** Builds the page `npm run bench:learning` runs the optimizer in. */
export default defineConfig({
  root: fileURLToPath(new URL('./learning/page', import.meta.url)),
  base: './',
  worker: { format: 'es' },
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../../bench-results/learning-page', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
  },
});
