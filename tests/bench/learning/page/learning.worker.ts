/**
 * Runs the learning benchmark in a worker, as the app runs its optimizer: the app's wllama
 * adapter and the app's optimizer step (`runner.ts` calls `proposeProfileChanges`), nothing else.
 */
import { WllamaEngine } from '../../../../src/engine/wllama';
import type { ProposeGenerate } from '../../../../src/core/optimizer/propose';
import { perfectGenerate } from '../ceiling';
import { runUser, type GenerateFactory, type UpdateRecord, type UserRun } from '../runner';
import type { LearningRequest, LearningResult, WorkerMessage } from './protocol';

const post = (message: WorkerMessage): void => {
  self.postMessage(message);
};

/** Contexts for the scripted optimizer, which has no window of its own. */
const CEILING_CONTEXT = 8192;

async function run(request: LearningRequest): Promise<LearningResult> {
  let makeGenerate: GenerateFactory = perfectGenerate;
  let backend = 'scripted';
  let contextWindow = request.contextWindow ?? CEILING_CONTEXT;
  let loadSeconds = 0;
  if (request.optimizer.kind === 'gguf') {
    const engine = new WllamaEngine();
    const started = performance.now();
    const loaded = await engine.load(
      {
        engine: 'wllama',
        id: 'bench.gguf',
        url: request.optimizer.url,
        ...(request.contextWindow === undefined ? {} : { contextWindow: request.contextWindow }),
      },
      () => undefined,
      new AbortController().signal,
    );
    loadSeconds = (performance.now() - started) / 1000;
    backend = loaded.backend;
    contextWindow = loaded.contextWindow;
    const generate: ProposeGenerate = (generateRequest) =>
      engine.generate(generateRequest, () => undefined, new AbortController().signal);
    makeGenerate = () => generate;
  }
  const runs: UserRun[] = [];
  for (const user of request.users) {
    const onUpdate = (record: UpdateRecord, index: number, updates: number): void => {
      post({
        type: 'progress',
        progress: {
          userId: user.id,
          update: index + 1,
          updates,
          seconds: record.seconds,
          applied: record.applied.length,
          rejected: record.rejected.length,
          ...(record.error === undefined ? {} : { error: record.error }),
          attempts: record.attempts.map(
            ({ finishReason, completionTokens, promptTokens, text }) => ({
              finishReason,
              completionTokens,
              promptTokens,
              text: text.slice(0, 400),
            }),
          ),
        },
      });
    };
    runs.push(await runUser(user, makeGenerate, { k: request.k, contextWindow, onUpdate }));
  }
  return { runs, backend, contextWindow, loadSeconds };
}

self.onmessage = (event: MessageEvent<LearningRequest>) => {
  run(event.data).then(
    (result) => {
      post({ type: 'done', result });
    },
    (error: unknown) => {
      post({ type: 'failed', error: error instanceof Error ? error.message : String(error) });
    },
  );
};
