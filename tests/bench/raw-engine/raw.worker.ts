/**
 * The baseline of `npm run bench:stream`: the wllama engine alone in a worker, no Comlink, no
 * database, no UI. Tokens per second are measured where the text arrives, as in the app.
 */
import { WllamaEngine } from '../../../src/engine/wllama';
import type { ChatMessage } from '../../../src/engine/engine';

export interface RawRunRequest {
  modelUrl: string;
  messages: ChatMessage[];
  maxTokens: number;
}

export interface RawRunResult {
  completionTokens: number;
  seconds: number;
  tokensPerSecond: number;
}

const engine = new WllamaEngine();
let loadedUrl: string | null = null;

self.onmessage = async (event: MessageEvent<RawRunRequest>) => {
  const { modelUrl, messages, maxTokens } = event.data;
  if (loadedUrl !== modelUrl) {
    await engine.load(
      { engine: 'wllama', id: 'bench.gguf', url: modelUrl },
      () => undefined,
      new AbortController().signal,
    );
    loadedUrl = modelUrl;
  }
  // An object, not a local: TypeScript cannot see the callback assign a local.
  const timing: { first: number | null } = { first: null };
  const result = await engine.generate(
    { messages, maxTokens, temperature: 0.7 },
    () => {
      timing.first ??= performance.now();
    },
    new AbortController().signal,
  );
  const seconds = (performance.now() - (timing.first ?? performance.now())) / 1000;
  const reply: RawRunResult = {
    completionTokens: result.completionTokens,
    seconds,
    tokensPerSecond: seconds > 0 ? (result.completionTokens - 1) / seconds : 0,
  };
  self.postMessage(reply);
};
