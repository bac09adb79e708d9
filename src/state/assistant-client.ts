import * as Comlink from 'comlink';
import type { AssistantApi } from '../worker/contract';
import assistantWorkerUrl from '../worker/assistant.worker.ts?worker&url';
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
    // Started from a blob URL that imports the real module: a blob worker inherits this page's
    // Content Security Policy (the one holding the user's allowed hosts), where a worker loaded
    // from a URL would obey only its own response headers, which a static host does not send.
    const moduleUrl = new URL(assistantWorkerUrl, location.href).href;
    const blob = new Blob([`import ${JSON.stringify(moduleUrl)};\n`], {
      type: 'text/javascript',
    });
    const worker = new Worker(URL.createObjectURL(blob), {
      type: 'module',
      name: 'persona-assistant',
    });
    return [worker, Comlink.wrap<AssistantApi>(worker) as unknown as AssistantRemote];
  }
}
