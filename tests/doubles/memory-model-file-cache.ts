import type { CacheEntry } from '@wllama/wllama/esm/index.js';
import type { ModelFileCache } from '../../src/engine/opfs-model-store';

/** How the fake server behaves for one URL's download. */
export interface ScriptedFile {
  size: number;
  /** Throw this after writing `failAt` bytes, leaving a partial file as a crash would. */
  failAt?: number;
  error?: Error;
  /** Do not finish until the download's signal aborts. */
  hang?: boolean;
}

/**
 * wllama's `CacheManager` in memory, with a scripted server behind `download`: enough to run the
 * download manager's logic in Node, where there is no OPFS.
 */
export class MemoryModelFileCache implements ModelFileCache {
  readonly entries = new Map<string, CacheEntry>();
  readonly downloads: string[] = [];
  /** The most downloads that ran at the same time. */
  maxConcurrent = 0;
  #running = 0;

  constructor(private readonly files: Record<string, ScriptedFile> = {}) {}

  /** Stores a complete file, as a finished earlier download would have. */
  put(url: string, size: number): void {
    const name = this.#name(url);
    this.entries.set(name, {
      name,
      size,
      metadata: { etag: 'e', originalSize: size, originalURL: url },
    });
  }

  getNameFromURL(url: string): Promise<string> {
    return Promise.resolve(this.#name(url));
  }

  list(): Promise<CacheEntry[]> {
    return Promise.resolve([...this.entries.values()]);
  }

  open(nameOrURL: string): Promise<Blob | null> {
    const entry = this.entries.get(nameOrURL) ?? this.entries.get(this.#name(nameOrURL));
    return Promise.resolve(entry ? new Blob([new Uint8Array(entry.size)]) : null);
  }

  delete(nameOrURL: string): Promise<void> {
    this.entries.delete(nameOrURL);
    this.entries.delete(this.#name(nameOrURL));
    return Promise.resolve();
  }

  async download(
    url: string,
    options: {
      signal?: AbortSignal;
      progressCallback?: (p: { loaded: number; total: number }) => void;
    } = {},
  ): Promise<void> {
    const file = this.files[url];
    if (!file) throw new Error(`Failed to fetch: HTTP 404 for ${url}`);
    this.downloads.push(url);
    this.#running++;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.#running);
    try {
      const name = this.#name(url);
      const step = Math.max(1, Math.ceil(file.size / 4));
      for (let loaded = 0; loaded < file.size;) {
        await Promise.resolve();
        if (options.signal?.aborted) throw new DOMException('aborted', 'AbortError');
        loaded = Math.min(file.size, loaded + step);
        if (file.failAt !== undefined && loaded >= file.failAt) {
          // What a crash leaves: the bytes so far, but metadata only a finished file gets.
          this.entries.set(name, {
            name,
            size: file.failAt,
            metadata: { etag: '', originalSize: 0, originalURL: '' },
          });
          throw file.error ?? new TypeError('Failed to fetch');
        }
        options.progressCallback?.({ loaded, total: file.size });
      }
      if (file.hang) {
        await new Promise<void>((_, reject) => {
          const fail = (): void => {
            this.entries.set(name, {
              name,
              size: 1,
              metadata: { etag: '', originalSize: 0, originalURL: '' },
            });
            reject(new DOMException('aborted', 'AbortError'));
          };
          if (options.signal?.aborted) fail();
          options.signal?.addEventListener('abort', fail, { once: true });
        });
      }
      this.put(url, file.size);
    } finally {
      this.#running--;
    }
  }

  #name(url: string): string {
    return `cache-${encodeURIComponent(url)}`;
  }
}
