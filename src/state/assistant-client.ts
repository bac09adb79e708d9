import * as Comlink from 'comlink';
import type { AssistantApi } from '../worker/contract';
import { installErrorTransfer } from '../worker/error-transfer';

installErrorTransfer();

/**
 * The worker API as the UI sees it. Comlink forwards property paths (`api.chat.reply`) at run time,
 * but its `Remote` type treats plain nested objects as cloned values, so each group is wrapped here.
 */
export type AssistantRemote = { [K in keyof AssistantApi]: Comlink.Remote<AssistantApi[K]> };

/**
 * Owns the assistant worker. After a GPU device loss the engine inside is unusable, so the whole
 * worker is replaced rather than patched.
 */
export class AssistantClient {
  #worker: Worker;
  #api: AssistantRemote;

  constructor() {
    [this.#worker, this.#api] = AssistantClient.#spawn();
  }

  get api(): AssistantRemote {
    return this.#api;
  }

  restart(): void {
    (this.#api as unknown as Comlink.Remote<AssistantApi>)[Comlink.releaseProxy]();
    this.#worker.terminate();
    [this.#worker, this.#api] = AssistantClient.#spawn();
  }

  static #spawn(): [Worker, AssistantRemote] {
    const worker = new Worker(new URL('../worker/assistant.worker.ts', import.meta.url), {
      type: 'module',
      name: 'persona-assistant',
    });
    return [worker, Comlink.wrap<AssistantApi>(worker) as unknown as AssistantRemote];
  }
}
