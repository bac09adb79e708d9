/**
 * The browser side of "Your data is yours": the backup file as a download, and erasing every
 * trace of Persona from this origin. The database work itself is the worker's (`data.importBackup`,
 * `data.eraseDatabases`), the only writer of IndexedDB; what lives outside it (allowed hosts in
 * localStorage, model files in Cache Storage and the origin-private file system) is handled here.
 */
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
  readonly api: { data: Pick<DataApi, 'exportBackup'> };
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
 * Downloads everything as `persona-backup-YYYY-MM-DD.json`. The worker builds the file, row by
 * row, off the main thread; the page only hands the Blob to the browser.
 */
export async function downloadBackup(worker: BackupSource): Promise<void> {
  const now = Date.now();
  const blob = await worker.api.data.exportBackup([...userAllowedHosts()]);
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = `persona-backup-${new Date(now).toISOString().slice(0, 10)}.json`;
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
