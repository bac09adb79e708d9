import { fileURLToPath } from 'node:url';
import { defineConfig, mergeConfig, type Plugin } from 'vite';
import base from '../../vite.config.ts';

const realLoader = fileURLToPath(new URL('../../src/worker/engine-loader.ts', import.meta.url));
const testLoader = fileURLToPath(new URL('../doubles/e2e-engine-loader.ts', import.meta.url));

/**
 * The app as built for end-to-end tests that need a scripted engine: identical to the production
 * build except that the worker's engine loader also knows the scripted test double. It goes to
 * `dist-e2e/`, so the production bundle in `dist/` never contains test code.
 */
function scriptedEngineLoader(): Plugin {
  return {
    name: 'persona-e2e-scripted-engine',
    enforce: 'pre',
    async resolveId(source, importer, options) {
      // The test loader itself imports the real one; only the worker's import is redirected.
      if (importer === testLoader) return null;
      const resolved = await this.resolve(source, importer, { ...options, skipSelf: true });
      return resolved?.id === realLoader ? testLoader : null;
    },
  };
}

export default mergeConfig(
  base,
  defineConfig({
    plugins: [scriptedEngineLoader()],
    worker: { plugins: () => [scriptedEngineLoader()] },
    build: { outDir: 'dist-e2e', emptyOutDir: true },
  }),
);
