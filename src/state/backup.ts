/**
 * The browser side of "Your data is yours": the backup file as a download, and erasing every
 * trace of Persona from this origin. The database work itself is in `db/backup.ts`; what lives
 * outside IndexedDB (allowed hosts in localStorage, model files in Cache Storage and the
 * origin-private file system) is handled here because the worker's `db/` cannot reach it.
 */
import {
  exportEverything,
  importEverything,
  wipeDatabase,
  type Backup,
  type PersonaDatabase,
} from '../db';
import { setUserAllowedHosts, userAllowedHosts } from './allowed-hosts';
import { isAppShellCache } from './app-shell-cache';

/** Downloads everything as `persona-backup-YYYY-MM-DD.json`. */
export async function downloadBackup(db: PersonaDatabase): Promise<void> {
  const now = Date.now();
  const backup = await exportEverything(db, now, userAllowedHosts());
  const blob = new Blob([JSON.stringify(backup, null, 2)], { type: 'application/json' });
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = `persona-backup-${new Date(now).toISOString().slice(0, 10)}.json`;
  link.click();
  URL.revokeObjectURL(url);
}

/**
 * Replaces everything with a parsed backup. The allowed hosts are restored only after the
 * database import succeeded, so a failed import changes nothing at all. The caller reloads: the
 * page's Content Security Policy and every view were built from the old data.
 */
export async function restoreBackup(db: PersonaDatabase, backup: Backup): Promise<void> {
  await importEverything(db, backup);
  setUserAllowedHosts(backup.allowedHosts);
}

/**
 * Erases the database first (one transaction: if it fails, nothing was erased and the error says
 * so), then every cache of this origin but the app's own code (see `isAppShellCache`): Cache
 * Storage (WebLLM's model files and any other cache),
 * the origin-private file system (wllama's model files), localStorage (allowed hosts) and
 * sessionStorage. Returns the names of what could not be removed after the database was erased,
 * for example a model file the worker still holds open; a reload releases it.
 */
export async function eraseEverything(db: PersonaDatabase): Promise<string[]> {
  await wipeDatabase(db);
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
  return leftOver;
}
