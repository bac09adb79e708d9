/**
 * The browser side of "Your data is yours": the backup file as a download, and erasing every
 * trace of Persona from this origin. The database work itself is the worker's (`data.importBackup`,
 * `data.eraseDatabases`), the only writer of IndexedDB; what lives outside it (allowed hosts in
 * localStorage, model files in Cache Storage and the origin-private file system) is handled here.
 */
import * as Comlink from 'comlink';
import type { DataApi } from '../worker/contract';
import { setUserAllowedHosts, userAllowedHosts } from './allowed-hosts';
import { isAppShellCache } from './app-shell-cache';
import { announce, untilOtherTabsStopped } from './data-replacement';

/**
 * The worker, as far as replacing or erasing its database concerns it: the `AssistantClient`,
 * read at the time of use because a lost GPU replaces the worker.
 */
export interface WorkerBeforeReplace {
  readonly api: { data: DataApi; models: { unload(): Promise<void> } };
}

/** The worker, as far as a backup download needs it. */
export interface BackupSource {
  readonly api: { data: Pick<DataApi, 'exportBackup' | 'exportBackupTo'> };
}

/** The part of the File System Access API the export uses (Chromium; not in TypeScript's DOM). */
interface SaveFilePicker {
  (options: {
    suggestedName: string;
    types: { description: string; accept: Record<string, string[]> }[];
  }): Promise<{ createWritable(): Promise<FileSystemWritableFileStream> }>;
}

function savePicker(): SaveFilePicker | null {
  const picker = (globalThis as { showSaveFilePicker?: unknown }).showSaveFilePicker;
  return typeof picker === 'function' ? (picker.bind(globalThis) as SaveFilePicker) : null;
}

/**
 * Stops the reply, profile update and download of this tab's worker and of every other tab's
 * first: otherwise they would go on writing into the data that replaced (or erased) the data they
 * were working on. When `work` fails nothing was changed, so every worker takes work again. The
 * caller announces `replaced` when it is done, which reloads the other tabs.
 */
async function withWorkersQuiet(worker: WorkerBeforeReplace, work: () => Promise<void>) {
  announce('replacing');
  await worker.api.data.quiesce();
  await untilOtherTabsStopped();
  try {
    await work();
  } catch (error) {
    announce('kept');
    await worker.api.data.resume();
    throw error;
  }
}

/**
 * Saves everything as `persona-backup-YYYY-MM-DD.json`. Where the browser can write a file the
 * user picks (`showSaveFilePicker`, Chromium), the worker hands the file over chunk by chunk and
 * each is written to disk before the next is made, so neither thread holds it whole (issue 11).
 * The picker needs the click's user activation, so it is asked for before anything is awaited.
 * Elsewhere the worker builds a Blob of parts and the browser downloads it.
 */
export async function downloadBackup(worker: BackupSource): Promise<void> {
  const name = `persona-backup-${new Date().toISOString().slice(0, 10)}.json`;
  const hosts = [...userAllowedHosts()];
  const picker = savePicker();
  if (picker) {
    let handle: Awaited<ReturnType<SaveFilePicker>>;
    try {
      handle = await picker({
        suggestedName: name,
        types: [{ description: 'Persona backup', accept: { 'application/json': ['.json'] } }],
      });
    } catch (error) {
      // The user closed the picker: nothing to save, and nothing went wrong.
      if (error instanceof DOMException && error.name === 'AbortError') return;
      throw error;
    }
    const file = await handle.createWritable();
    try {
      await worker.api.data.exportBackupTo(
        hosts,
        Comlink.proxy((chunk: string) => file.write(chunk)),
      );
      await file.close();
    } catch (error) {
      // Leaves the file as it was rather than half written.
      await file.abort().catch(() => undefined);
      throw error;
    }
    return;
  }
  const blob = await worker.api.data.exportBackup(hosts);
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.click();
  URL.revokeObjectURL(url);
}

/**
 * Replaces everything with a backup the worker checked (`data.checkBackup`). The allowed hosts are
 * restored only after the database import succeeded, so a failed import changes nothing at all.
 * The caller reloads: the page's Content Security Policy and every view were built from the old
 * data.
 */
export async function restoreBackup(token: string, worker: WorkerBeforeReplace): Promise<void> {
  let allowedHosts: string[] = [];
  await withWorkersQuiet(worker, async () => {
    allowedHosts = await worker.api.data.importBackup(token);
  });
  setUserAllowedHosts(allowedHosts);
  announce('replaced');
}

/**
 * Erases the database first (one transaction: if it fails, nothing was erased and the error says
 * so) and the Lab's benchmark runs, then every cache of this origin but the app's own code (see `isAppShellCache`): Cache
 * Storage (WebLLM's model files and any other cache),
 * the origin-private file system (wllama's model files), localStorage (allowed hosts) and
 * sessionStorage. Returns the names of what could not be removed after the database was erased,
 * for example a model file the worker still holds open; a reload releases it.
 */
export async function eraseEverything(worker: WorkerBeforeReplace): Promise<string[]> {
  await withWorkersQuiet(worker, () => worker.api.data.eraseDatabases());
  // The loaded model's files are open in the worker; unloading lets them be removed below.
  await worker.api.models.unload().catch(() => undefined);
  const leftOver: string[] = [];
  if ('caches' in globalThis) {
    for (const name of await caches.keys()) {
      if (isAppShellCache(name)) continue;
      if (!(await caches.delete(name).catch(() => false))) leftOver.push(`cache ${name}`);
    }
  }
  const root = await navigator.storage.getDirectory().catch(() => null);
  if (root) {
    // Names first: removing entries while iterating the directory could skip some.
    const names: string[] = [];
    // The async iterator is missing from TypeScript's DOM types, though every browser has it.
    const entries = root as unknown as { keys(): AsyncIterable<string> };
    for await (const name of entries.keys()) names.push(name);
    for (const name of names) {
      try {
        await root.removeEntry(name, { recursive: true });
      } catch {
        leftOver.push(`file ${name}`);
      }
    }
  }
  localStorage.clear();
  sessionStorage.clear();
  announce('replaced');
  return leftOver;
}
