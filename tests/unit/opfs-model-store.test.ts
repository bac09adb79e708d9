import type { CacheEntry } from '@wllama/wllama/esm/index.js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AppError } from '../../src/core/errors';
import type { LoadProgress } from '../../src/engine/engine';
import {
  completeFiles,
  deleteFiles,
  downloadProgress,
  downloadShards,
  findCompleteFiles,
  listCachedModels,
  openFiles,
  shardUrls,
} from '../../src/engine/opfs-model-store';
import { MemoryModelFileCache, type ScriptedFile } from '../doubles/memory-model-file-cache';
import { makeWllamaSpec } from './factories';

const HOST = 'https://models.example';
const SINGLE = `${HOST}/one.gguf`;
const SPLIT = [1, 2, 3].map((n) => `${HOST}/big-0000${n}-of-00003.gguf`);

/** HEAD answers with each file's size, or the status given. */
function serveHeads(files: Record<string, ScriptedFile | number>): string[] {
  const heads: string[] = [];
  vi.stubGlobal('fetch', (url: string, init?: RequestInit) => {
    expect(init?.method).toBe('HEAD');
    heads.push(url);
    const file = files[url];
    if (typeof file === 'number') return Promise.resolve(new Response(null, { status: file }));
    if (!file) return Promise.resolve(new Response(null, { status: 404 }));
    return Promise.resolve(
      new Response(null, { status: 200, headers: { 'content-length': String(file.size) } }),
    );
  });
  return heads;
}

function entry(url: string, size: number, originalSize = size): CacheEntry {
  return { name: `n:${url}`, size, metadata: { etag: '', originalSize, originalURL: url } };
}

async function failure(promise: Promise<unknown>): Promise<AppError> {
  const error: unknown = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('shardUrls', () => {
  it('expands a split model into all its parts', () => {
    expect(shardUrls(SPLIT[0] ?? '')).toEqual(SPLIT);
    expect(shardUrls(SINGLE)).toEqual([SINGLE]);
  });

  it.each([
    ['models/one.gguf', /not a valid absolute URL/],
    ['ftp://models.example/one.gguf', /not an http\(s\) URL/],
    [`${HOST}/one.bin`, /does not name a \.gguf file/],
  ])('refuses %s', (url, message) => {
    expect(() => shardUrls(url)).toThrow(message);
    try {
      shardUrls(url);
    } catch (error) {
      expect((error as AppError).code).toBe('model-not-found');
    }
  });
});

describe('completeFiles', () => {
  it('finds every part in order with the total size', () => {
    const entries = [
      entry(SPLIT[2] ?? '', 30),
      entry(SPLIT[0] ?? '', 10),
      entry(SPLIT[1] ?? '', 20),
    ];
    expect(completeFiles(entries, SPLIT)).toEqual({
      names: SPLIT.map((url) => `n:${url}`),
      size: 60,
    });
  });

  it('is null while any part is missing, short or empty', () => {
    const [a = '', b = '', c = ''] = SPLIT;
    expect(completeFiles([entry(a, 10), entry(b, 20)], SPLIT)).toBeNull();
    expect(completeFiles([entry(a, 10), entry(b, 20), entry(c, 5, 30)], SPLIT)).toBeNull();
    expect(completeFiles([entry(SINGLE, 0)], [SINGLE])).toBeNull();
  });
});

describe('downloadProgress', () => {
  it('reports bytes, a fraction capped at one, and readable text', () => {
    expect(downloadProgress(512, 2048)).toEqual({
      phase: 'download',
      fraction: 0.25,
      loadedBytes: 512,
      totalBytes: 2048,
      text: expect.stringMatching(/^Downloading .+ of .+$/) as string,
    });
    expect(downloadProgress(3000, 2048).fraction).toBe(1);
  });

  it('has no fraction when the server gave no size', () => {
    expect(downloadProgress(100, 0).fraction).toBeNull();
  });
});

describe('downloadShards', () => {
  let progress: LoadProgress[];
  const onProgress = (p: LoadProgress): void => {
    progress.push(p);
  };
  beforeEach(() => {
    progress = [];
  });

  it('downloads a single file and reports progress up to all of it', async () => {
    const files = { [SINGLE]: { size: 4000 } };
    serveHeads(files);
    const cache = new MemoryModelFileCache(files);
    await downloadShards(cache, [SINGLE], onProgress, new AbortController().signal);

    expect(cache.downloads).toEqual([SINGLE]);
    expect(progress[0]).toMatchObject({ loadedBytes: 0, totalBytes: 4000, fraction: 0 });
    expect(progress.at(-1)).toMatchObject({ loadedBytes: 4000, totalBytes: 4000, fraction: 1 });
    const loaded = progress.map((p) => (p.phase === 'download' ? (p.loadedBytes ?? -1) : -1));
    expect(loaded).toEqual([...loaded].sort((x, y) => x - y));
    expect((await findCompleteFiles(cache, [SINGLE]))?.size).toBe(4000);
  });

  it('resumes a split model: finished parts count at once and are not fetched again', async () => {
    const [a = '', b = '', c = ''] = SPLIT;
    const files = { [a]: { size: 100 }, [b]: { size: 200 }, [c]: { size: 300 } };
    serveHeads(files);
    const cache = new MemoryModelFileCache(files);
    cache.put(a, 100);

    await downloadShards(cache, SPLIT, onProgress, new AbortController().signal);

    expect(cache.downloads).toEqual([b, c]);
    expect(progress[0]).toMatchObject({ loadedBytes: 100, totalBytes: 600 });
    expect(progress.at(-1)).toMatchObject({ loadedBytes: 600, fraction: 1 });
    expect((await findCompleteFiles(cache, SPLIT))?.size).toBe(600);
  });

  it('downloads at most three parts at once', async () => {
    const urls = [1, 2, 3, 4, 5].map((n) => `${HOST}/m-0000${n}-of-00005.gguf`);
    const files = Object.fromEntries(urls.map((url) => [url, { size: 64 }]));
    serveHeads(files);
    const cache = new MemoryModelFileCache(files);
    await downloadShards(cache, urls, onProgress, new AbortController().signal);
    expect(cache.downloads).toHaveLength(5);
    expect(cache.maxConcurrent).toBe(3);
  });

  it('fails before any body is fetched when a part is missing', async () => {
    const [a = '', b = '', c = ''] = SPLIT;
    const files = { [a]: { size: 100 }, [c]: { size: 300 } };
    serveHeads({ ...files, [b]: 404 });
    const cache = new MemoryModelFileCache(files);
    const error = await failure(
      downloadShards(cache, SPLIT, onProgress, new AbortController().signal),
    );
    expect(error.code).toBe('model-not-found');
    expect(error.message).toContain(b);
    expect(cache.downloads).toEqual([]);
    expect(progress).toEqual([]);
  });

  it('maps a refused HEAD to a gated-model error', async () => {
    serveHeads({ [SINGLE]: 401 });
    const error = await failure(
      downloadShards(
        new MemoryModelFileCache(),
        [SINGLE],
        onProgress,
        new AbortController().signal,
      ),
    );
    expect(error.message).toMatch(/gated or private/);
  });

  it('removes the half-written part after a failure and keeps the finished ones', async () => {
    const [a = '', b = '', c = ''] = SPLIT;
    const files = { [a]: { size: 100 }, [b]: { size: 200, failAt: 100 }, [c]: { size: 300 } };
    serveHeads(files);
    const cache = new MemoryModelFileCache(files);
    cache.put(a, 100);

    const error = await failure(
      downloadShards(cache, SPLIT, onProgress, new AbortController().signal),
    );

    expect(error.code).toBe('network');
    expect(error.message).toMatch(/CORS/);
    const names = [...cache.entries.values()].map((e) => e.metadata.originalURL);
    expect(names).toContain(a);
    expect(names).not.toContain('');
    expect(await cache.open(b)).toBeNull();
  });

  it('maps a full disk during the download to quota-exceeded', async () => {
    const quota = new DOMException('Quota exceeded', 'QuotaExceededError');
    const files = { [SINGLE]: { size: 400, failAt: 200, error: quota } };
    serveHeads(files);
    const error = await failure(
      downloadShards(
        new MemoryModelFileCache(files),
        [SINGLE],
        onProgress,
        new AbortController().signal,
      ),
    );
    expect(error.code).toBe('quota-exceeded');
  });

  it('reports a cancelled download as aborted and leaves no partial file', async () => {
    const files = { [SINGLE]: { size: 400, hang: true } };
    serveHeads(files);
    const cache = new MemoryModelFileCache(files);
    const controller = new AbortController();
    const download = downloadShards(
      cache,
      [SINGLE],
      (p) => {
        onProgress(p);
        if (p.phase === 'download' && p.loadedBytes === 400) controller.abort();
      },
      controller.signal,
    );

    const error = await failure(download);
    expect(error.code).toBe('aborted');
    expect(cache.entries.size).toBe(0);
  });
});

describe('listing, opening and deleting', () => {
  it('lists only the models whose every part is stored, skipping malformed URLs', async () => {
    const cache = new MemoryModelFileCache();
    cache.put(SINGLE, 1234);
    const [a = '', b = ''] = SPLIT;
    cache.put(a, 10);
    cache.put(b, 20);
    const listed = await listCachedModels(cache, [
      makeWllamaSpec({ id: 'one', url: SINGLE }),
      makeWllamaSpec({ id: 'big', url: a }),
      makeWllamaSpec({ id: 'bad', url: 'not a url' }),
    ]);
    expect(listed).toEqual([{ engine: 'wllama', id: 'one', sizeBytes: 1234 }]);
  });

  it('opens the stored parts, and says so when one cannot be read', async () => {
    const cache = new MemoryModelFileCache();
    cache.put(SINGLE, 16);
    const files = await findCompleteFiles(cache, [SINGLE]);
    const blobs = await openFiles(cache, files?.names ?? []);
    expect(blobs.map((b) => b.size)).toEqual([16]);
    const error = await failure(openFiles(cache, ['gone']));
    expect(error.message).toMatch(/could not be read/);
  });

  it('deletes every part and maps a storage failure', async () => {
    const cache = new MemoryModelFileCache();
    for (const url of SPLIT) cache.put(url, 8);
    await deleteFiles(cache, SPLIT);
    expect(cache.entries.size).toBe(0);

    vi.spyOn(cache, 'delete').mockRejectedValue(new Error('locked'));
    const error = await failure(deleteFiles(cache, [SINGLE]));
    expect(error.message).toBe('Could not delete the cached model: locked');
  });

  it('maps a storage that cannot be listed', async () => {
    const cache = new MemoryModelFileCache();
    vi.spyOn(cache, 'list').mockRejectedValue(new Error('SecurityError'));
    const error = await failure(findCompleteFiles(cache, [SINGLE]));
    expect(error.message).toBe('Could not read browser storage: SecurityError');
  });
});
