/**
 * wllama's model files in the origin-private file system: which models are fully downloaded,
 * downloading the missing parts with progress, opening them for the runtime, deleting them.
 *
 * Resuming works per part: the finished parts of a split model (`name-00001-of-00003.gguf`) are
 * kept and only the rest is fetched again; a single part always restarts from byte 0, because
 * wllama's `CacheManager` cannot resume one.
 */
import { CacheManager, ModelManager, type CacheEntry } from '@wllama/wllama/esm/index.js';
import { formatBytes } from '../core/format';
import { AppError } from '../core/errors';
import type { CachedModelInfo, LoadProgress, WllamaModelSpec } from './engine';
import { abortedError, describeError, downloadError, httpError } from './wllama-errors';

/** How many split parts download at once. */
const PARALLEL_DOWNLOADS = 3;

/**
 * The part of wllama's `CacheManager` this module uses, so its logic can be tested in Node with
 * an in-memory store.
 */
export type ModelFileCache = Pick<
  CacheManager,
  'list' | 'download' | 'open' | 'delete' | 'getNameFromURL'
>;

/** wllama's OPFS cache (folder `cache/`, one file per part plus a metadata file each). */
export function openModelFileCache(): CacheManager {
  try {
    return new CacheManager();
  } catch (error) {
    throw new AppError(
      'unknown',
      `This browser offers no storage for models: ${describeError(error)}`,
      {
        cause: error,
      },
    );
  }
}

export interface CompleteFiles {
  /** Cache keys of the parts, in part order. */
  names: string[];
  size: number;
}

async function listEntries(cache: ModelFileCache): Promise<CacheEntry[]> {
  try {
    return await cache.list();
  } catch (error) {
    throw new AppError('unknown', `Could not read browser storage: ${describeError(error)}`, {
      cause: error,
    });
  }
}

/**
 * The cached parts of a model, or null unless every part finished downloading (wllama writes a
 * part's metadata only after its last byte). Done here rather than with `ModelManager.getModels`,
 * which throws for every model as soon as one split model is missing a part.
 */
export function completeFiles(entries: CacheEntry[], urls: string[]): CompleteFiles | null {
  const names: string[] = [];
  let size = 0;
  for (const url of urls) {
    const entry = entries.find(
      (e) => e.metadata.originalURL === url && e.metadata.originalSize === e.size && e.size > 0,
    );
    if (!entry) return null;
    names.push(entry.name);
    size += entry.size;
  }
  return { names, size };
}

/** `completeFiles` against what the cache holds now. */
export async function findCompleteFiles(
  cache: ModelFileCache,
  urls: string[],
): Promise<CompleteFiles | null> {
  return completeFiles(await listEntries(cache), urls);
}

/** The stored parts as Blobs, in part order, for `Wllama.loadModel`. */
export async function openFiles(cache: ModelFileCache, names: string[]): Promise<Blob[]> {
  const blobs: Blob[] = [];
  for (const name of names) {
    const blob = await cache.open(name).catch(() => null);
    if (!blob) {
      throw new AppError(
        'unknown',
        'A cached part of the model could not be read; delete it and retry.',
      );
    }
    blobs.push(blob);
  }
  return blobs;
}

/** All parts of a model: `name-00001-of-00003.gguf` expands to its three files. */
export function shardUrls(url: string): string[] {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AppError('model-not-found', `"${url}" is not a valid absolute URL.`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new AppError('model-not-found', `"${url}" is not an http(s) URL.`);
  }
  if (!/\.gguf$/i.test(parsed.pathname)) {
    throw new AppError('model-not-found', `"${url}" does not name a .gguf file.`);
  }
  return ModelManager.parseModelUrl(url);
}

/** Which of these models are fully in the cache, with their size on disk. */
export async function listCachedModels(
  cache: ModelFileCache,
  specs: WllamaModelSpec[],
): Promise<CachedModelInfo[]> {
  const entries = await listEntries(cache);
  const result: CachedModelInfo[] = [];
  for (const spec of specs) {
    let urls: string[];
    try {
      urls = shardUrls(spec.url);
    } catch {
      continue; // a malformed custom URL was never downloaded
    }
    const files = completeFiles(entries, urls);
    if (files) result.push({ engine: 'wllama', id: spec.id, sizeBytes: files.size });
  }
  return result;
}

/** What the download reports after `loadedBytes` of `totalBytes` (0 when the server gave none). */
export function downloadProgress(loadedBytes: number, totalBytes: number): LoadProgress {
  const fraction = totalBytes > 0 ? Math.min(1, loadedBytes / totalBytes) : null;
  return {
    phase: 'download',
    fraction,
    loadedBytes,
    totalBytes,
    text: `Downloading ${formatBytes(loadedBytes)} of ${formatBytes(totalBytes)}`,
  };
}

/**
 * Downloads every missing part into wllama's OPFS cache. Done here instead of through
 * `ModelManager.downloadModel` so the sizes are checked before any body is fetched (a missing
 * file fails fast with its status) and a part left half-written by a failure is removed: wllama
 * cannot resume one (it always refetches from byte 0), so keeping it would only hold quota.
 */
export async function downloadShards(
  cache: ModelFileCache,
  urls: string[],
  onProgress: (p: LoadProgress) => void,
  signal: AbortSignal,
): Promise<void> {
  const sizes = await Promise.all(urls.map((url) => probeSize(url, signal)));
  const totalBytes = sizes.reduce((sum, size) => sum + size, 0);
  // Parts of a split model that finished earlier are kept, so a retry only fetches the rest.
  const entries = await listEntries(cache);
  const done = urls.map((url) => completeFiles(entries, [url]));
  const loaded = done.map((files) => files?.size ?? 0);
  const report = (): void => {
    onProgress(
      downloadProgress(
        loaded.reduce((sum, n) => sum + n, 0),
        totalBytes,
      ),
    );
  };
  report();

  const queue = urls.map((url, index) => ({ url, index })).filter((job) => !done[job.index]);
  const failures: { url: string; error: unknown }[] = [];
  const worker = async (): Promise<void> => {
    for (let job = queue.shift(); job && failures.length === 0; job = queue.shift()) {
      const { url, index } = job;
      try {
        await cache.download(url, {
          signal,
          progressCallback: ({ loaded: bytes }) => {
            loaded[index] = bytes;
            report();
          },
        });
      } catch (error) {
        failures.push({ url, error });
        return;
      }
      loaded[index] = Math.max(sizes[index] ?? 0, loaded[index] ?? 0);
      report();
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_DOWNLOADS, queue.length) }, worker));
  const failure = failures[0];
  if (!failure) return;

  await removePartialFiles(cache, urls).catch(() => undefined);
  if (signal.aborted) throw abortedError();
  throw downloadError(failure.error, failure.url);
}

/** Size of one part from a HEAD request; turns a missing file into `model-not-found` early. */
async function probeSize(url: string, signal: AbortSignal): Promise<number> {
  let response: Response;
  try {
    response = await fetch(url, { method: 'HEAD', signal });
  } catch (error) {
    if (signal.aborted) throw abortedError();
    throw downloadError(error, url);
  }
  if (!response.ok) throw httpError(response.status, url);
  return Number(response.headers.get('content-length') ?? '0') || 0;
}

/** Parts whose stored size does not match the size recorded when they finished downloading. */
async function removePartialFiles(cache: ModelFileCache, urls: string[]): Promise<void> {
  const entries = await listEntries(cache);
  for (const url of urls) {
    const name = await cache.getNameFromURL(url);
    const entry = entries.find((e) => e.name === name);
    if (!entry) continue;
    const complete =
      entry.metadata.originalURL === url && entry.metadata.originalSize === entry.size;
    if (!complete) await cache.delete(name);
  }
}

/** Deletes every part of a model. */
export async function deleteFiles(cache: ModelFileCache, urls: string[]): Promise<void> {
  try {
    for (const url of urls) await cache.delete(url);
  } catch (error) {
    throw new AppError('unknown', `Could not delete the cached model: ${describeError(error)}`, {
      cause: error,
    });
  }
}
