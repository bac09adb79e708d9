import { shouldAskForPersistence, type PersistenceStatus } from '../core/storage/persistence';

/** The part of `navigator.storage` this needs; either method may be missing in a browser. */
export interface PersistentStorageLike {
  persisted?: () => Promise<boolean>;
  persist?: () => Promise<boolean>;
}

/** Where "Persona asked already" is remembered: per browser, like the storage it is about. */
export interface AskedMemory {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/**
 * localStorage key holding the last answer; erasing everything clears it, so the next first
 * download asks again.
 */
export const PERSISTENCE_ASKED_KEY = 'persona.persistenceAsked';

/**
 * Whether the browser keeps this site's storage when space runs low, and asking for it: by itself
 * once, after the first model download, and again whenever the user presses the button.
 */
export class PersistenceState {
  readonly #storage: PersistentStorageLike | undefined;
  readonly #memory: AskedMemory;
  #status = $state<PersistenceStatus | null>(null);
  #lastAnswer = $state<'granted' | 'denied' | null>(null);
  #asking = $state(false);

  constructor(
    storage: PersistentStorageLike | undefined = globalThis.navigator.storage,
    memory: AskedMemory = localStorage,
  ) {
    this.#storage = storage;
    this.#memory = memory;
    const remembered = memory.getItem(PERSISTENCE_ASKED_KEY);
    this.#lastAnswer = remembered === 'granted' || remembered === 'denied' ? remembered : null;
  }

  /** null until the browser has answered. */
  get status(): PersistenceStatus | null {
    return this.#status;
  }

  /** The browser's answer the last time Persona asked in this browser, if it did. */
  get lastAnswer(): 'granted' | 'denied' | null {
    return this.#lastAnswer;
  }

  get asking(): boolean {
    return this.#asking;
  }

  async refresh(): Promise<PersistenceStatus> {
    const storage = this.#storage;
    let status: PersistenceStatus = 'unsupported';
    if (typeof storage?.persisted === 'function' && typeof storage.persist === 'function') {
      try {
        status = (await storage.persisted()) ? 'persisted' : 'not-persisted';
      } catch {
        status = 'unsupported';
      }
    }
    this.#status = status;
    return status;
  }

  /** Called when a model that was not cached has been downloaded: asks, the first time only. */
  async afterDownload(): Promise<void> {
    const status = await this.refresh();
    const askedBefore = this.#memory.getItem(PERSISTENCE_ASKED_KEY) !== null;
    if (shouldAskForPersistence({ status, askedBefore, downloadedModel: true })) await this.ask();
  }

  /** Asks the browser; Chromium answers without a prompt, from how the site has been used. */
  async ask(): Promise<void> {
    const persist = this.#storage?.persist;
    if (typeof persist !== 'function' || this.#asking) return;
    this.#asking = true;
    try {
      // Remembered before the answer comes, so a tab closed meanwhile still counts as asked.
      this.#memory.setItem(PERSISTENCE_ASKED_KEY, 'asked');
      const granted = await persist.call(this.#storage).catch(() => false);
      this.#lastAnswer = granted ? 'granted' : 'denied';
      this.#memory.setItem(PERSISTENCE_ASKED_KEY, this.#lastAnswer);
      await this.refresh();
    } finally {
      this.#asking = false;
    }
  }
}
