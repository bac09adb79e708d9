import type { Engine, EngineKind, ModelSpec } from '../../src/engine/engine';
import { loadEngine as loadRealEngine } from '../../src/worker/engine-loader';
import { BrowserScriptedEngine } from './browser-scripted-engine';

/**
 * Replaces `src/worker/engine-loader.ts` in the end-to-end build only: a wllama model whose URL
 * lies under `/scripted/` runs on the scripted engine, anything else on the real engines. A
 * `threads=N` query on a GGUF URL asks the real wllama engine for N threads, so a test can run
 * it multi-threaded on a machine where the app itself would choose one.
 */
class RoutingEngine implements Engine {
  readonly kind: EngineKind;
  #real: Engine | null = null;
  #scripted = new BrowserScriptedEngine();
  #active: Engine | null = null;

  constructor(kind: EngineKind) {
    this.kind = kind;
  }

  async #realEngine(): Promise<Engine> {
    this.#real ??= await loadRealEngine(this.kind);
    return this.#real;
  }

  #threaded: Engine | null = null;

  async #engineFor(spec: ModelSpec): Promise<Engine> {
    if (spec.engine === 'wllama' && spec.url.includes('/scripted/')) return this.#scripted;
    const threads = spec.engine === 'wllama' ? new URL(spec.url).searchParams.get('threads') : null;
    if (threads !== null) {
      const { WllamaEngine } = await import('../../src/engine/wllama');
      this.#threaded ??= new WllamaEngine({ threads: Number(threads) });
      return this.#threaded;
    }
    return this.#realEngine();
  }

  #current(): Engine {
    if (!this.#active) throw new Error('No model is loaded.');
    return this.#active;
  }

  async load(...args: Parameters<Engine['load']>): ReturnType<Engine['load']> {
    const engine = await this.#engineFor(args[0]);
    if (this.#active && this.#active !== engine) await this.#active.unload();
    this.#active = engine;
    return engine.load(...args);
  }
  generate(...args: Parameters<Engine['generate']>): ReturnType<Engine['generate']> {
    return this.#current().generate(...args);
  }
  countTokens(text: string): Promise<number> {
    return this.#current().countTokens(text);
  }
  async unload(): Promise<void> {
    await this.#active?.unload();
    this.#active = null;
  }
  async listCached(known: ModelSpec[]): ReturnType<Engine['listCached']> {
    return (await this.#realEngine()).listCached(known);
  }
  async deleteCached(spec: ModelSpec): Promise<void> {
    await (await this.#engineFor(spec)).deleteCached(spec);
  }
}

export function loadEngine(kind: EngineKind): Promise<Engine> {
  return Promise.resolve(new RoutingEngine(kind));
}
