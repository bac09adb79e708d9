import { STORED_DATA_MEASURE, type StoredDataUsage } from '../core/storage/usage';

/** Bytes per kind of storage, as Chromium reports them in `estimate().usageDetails`. */
export type UsageDetails = Partial<Record<string, number>>;

export interface BrowserEstimate {
  usageBytes: number;
  quotaBytes: number;
  /** Chromium only: indexedDB, caches, fileSystem, serviceWorkerRegistrations. */
  details: UsageDetails | null;
}

interface EstimateLike {
  usage?: number;
  quota?: number;
  usageDetails?: Record<string, number>;
}

interface StorageEstimator {
  estimate?: () => Promise<EstimateLike>;
}

const finite = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && n >= 0;

/** What the storage view shows, measured when it opens and after a model is deleted. */
export class StorageUsageState {
  readonly #measure: () => Promise<StoredDataUsage>;
  readonly #storage: StorageEstimator | undefined;
  #estimate = $state<BrowserEstimate | null>(null);
  #stored = $state<StoredDataUsage | null>(null);
  #measuring = $state(false);
  #error = $state<string | null>(null);

  /** `measure`: the worker's `data.measure`, which reads the rows off the page's thread. */
  constructor(
    measure: () => Promise<StoredDataUsage>,
    storage: StorageEstimator | undefined = globalThis.navigator.storage,
  ) {
    this.#measure = measure;
    this.#storage = storage;
  }

  /** null when the browser does not say, or has not yet. */
  get estimate(): BrowserEstimate | null {
    return this.#estimate;
  }
  get stored(): StoredDataUsage | null {
    return this.#stored;
  }
  get measuring(): boolean {
    return this.#measuring;
  }
  get error(): string | null {
    return this.#error;
  }

  async refresh(): Promise<void> {
    this.#measuring = true;
    this.#error = null;
    try {
      const started = performance.now();
      const measured = this.#measure().then((stored) => {
        // A user timing, so a profile or a test can tell the worker's part from the rendering.
        performance.measure(STORED_DATA_MEASURE, { start: started });
        return stored;
      });
      const [estimate, stored] = await Promise.all([this.#readEstimate(), measured]);
      this.#estimate = estimate;
      this.#stored = stored;
    } catch (error) {
      this.#error = error instanceof Error ? error.message : String(error);
    } finally {
      this.#measuring = false;
    }
  }

  async #readEstimate(): Promise<BrowserEstimate | null> {
    if (typeof this.#storage?.estimate !== 'function') return null;
    const raw = await this.#storage.estimate().catch(() => null);
    if (!raw || !finite(raw.usage) || !finite(raw.quota)) return null;
    const details = raw.usageDetails
      ? Object.fromEntries(Object.entries(raw.usageDetails).filter(([, bytes]) => finite(bytes)))
      : null;
    return { usageBytes: raw.usage, quotaBytes: raw.quota, details };
  }
}
