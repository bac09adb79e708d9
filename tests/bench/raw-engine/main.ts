import type { RawRunRequest, RawRunResult } from './raw.worker';

const worker = new Worker(new URL('./raw.worker.ts', import.meta.url), { type: 'module' });

/** Called by the bench script through Playwright. */
function runRaw(request: RawRunRequest): Promise<RawRunResult> {
  return new Promise((resolve) => {
    worker.onmessage = (event: MessageEvent<RawRunResult>) => {
      resolve(event.data);
    };
    worker.postMessage(request);
  });
}

Object.assign(window, { runRaw });
