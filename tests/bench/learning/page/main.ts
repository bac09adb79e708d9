import type { LearningProgress, LearningRequest, LearningResult, WorkerMessage } from './protocol';

/** Called by `npm run bench:learning` through Playwright; progress goes to `window.onProgress`. */
function runLearning(request: LearningRequest): Promise<LearningResult> {
  const worker = new Worker(new URL('./learning.worker.ts', import.meta.url), { type: 'module' });
  const report = (window as unknown as { onProgress?: (p: LearningProgress) => void }).onProgress;
  return new Promise((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<WorkerMessage>) => {
      const message = event.data;
      if (message.type === 'progress') report?.(message.progress);
      else {
        worker.terminate();
        if (message.type === 'done') resolve(message.result);
        else reject(new Error(message.error));
      }
    };
    worker.onerror = (event) => {
      worker.terminate();
      reject(new Error(event.message));
    };
    worker.postMessage(request);
  });
}

Object.assign(window, { runLearning });
