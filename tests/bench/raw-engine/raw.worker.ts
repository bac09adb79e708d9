/**
 * The baseline of `npm run bench:stream` and the engine half of `npm run bench:cpu`: the wllama
 * engine alone in a worker, no Comlink, no database, no UI. Tokens per second are measured where
 * the text arrives, as in the app; llama.cpp's own prefill and decode timings come along.
 */
import { WllamaEngine } from '../../../src/engine/wllama';
import type { ChatMessage } from '../../../src/engine/engine';

export interface RawRunRequest {
  modelUrl: string;
  messages: ChatMessage[];
  maxTokens: number;
  /** llama.cpp threads; absent, the engine chooses for this device as in the app. */
  threads?: number;
  temperature?: number;
}

export interface RawRunResult {
  completionTokens: number;
  seconds: number;
  tokensPerSecond: number;
  promptTokens: number;
  cachedPromptTokens: number | null;
  prefillTokensPerSecond: number | null;
  decodeTokensPerSecond: number | null;
  /** From the request to the first piece of text, in milliseconds. */
  firstTokenMs: number;
  /** What ran it, as the app's model badge says, e.g. `wasm (2 threads)`. */
  backend: string;
}

/** One engine per thread setting, so runs can alternate without reloading the model. */
const engines = new Map<string, { engine: WllamaEngine; url: string; backend: string }>();

async function engineFor(modelUrl: string, threads: number | undefined) {
  const key = String(threads ?? 'auto');
  const known = engines.get(key);
  if (known?.url === modelUrl) return known;
  const engine = known?.engine ?? new WllamaEngine(threads === undefined ? {} : { threads });
  const loaded = await engine.load(
    { engine: 'wllama', id: 'bench.gguf', url: modelUrl },
    () => undefined,
    new AbortController().signal,
  );
  const entry = { engine, url: modelUrl, backend: loaded.backend };
  engines.set(key, entry);
  return entry;
}

self.onmessage = async (event: MessageEvent<RawRunRequest>) => {
  const { modelUrl, messages, maxTokens, threads, temperature = 0.7 } = event.data;
  const { engine, backend } = await engineFor(modelUrl, threads);
  const started = performance.now();
  // An object, not a local: TypeScript cannot see the callback assign a local.
  const timing: { first: number | null } = { first: null };
  const result = await engine.generate(
    { messages, maxTokens, temperature },
    () => {
      timing.first ??= performance.now();
    },
    new AbortController().signal,
  );
  const first = timing.first ?? performance.now();
  const seconds = (performance.now() - first) / 1000;
  const reply: RawRunResult = {
    completionTokens: result.completionTokens,
    seconds,
    tokensPerSecond: seconds > 0 ? (result.completionTokens - 1) / seconds : 0,
    promptTokens: result.promptTokens,
    cachedPromptTokens: result.cachedPromptTokens ?? null,
    prefillTokensPerSecond: result.prefillTokensPerSecond ?? null,
    decodeTokensPerSecond: result.decodeTokensPerSecond ?? null,
    firstTokenMs: first - started,
    backend,
  };
  self.postMessage(reply);
};
