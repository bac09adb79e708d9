/**
 * The worker's side of backups (issue 11): the file is written and read here, in pieces, so
 * neither thread ever holds a whole history as one string.
 *
 * A checked file is kept as the `Blob` the page passed (a handle to the file on disk, not its
 * contents) until the user confirms; the import then reads it a second time inside the one
 * transaction that replaces the data, checking every row again.
 */
import { AppError } from '../core/errors';
import {
  checkBackupFile,
  exportBackupParts,
  importBackupFile,
  writeBackup,
  type PersonaDatabase,
} from '../db';
import type { BackupCheck } from './contract';

interface CheckedFile {
  token: string;
  file: Blob;
  builtInModelIds: readonly string[];
}

export class BackupFiles {
  readonly #db: PersonaDatabase;
  readonly #clock: () => number;
  /** One at a time: a file chosen again replaces the one not yet imported. */
  #checked: CheckedFile | null = null;

  constructor(db: PersonaDatabase, clock: () => number) {
    this.#db = db;
    this.#clock = clock;
  }

  /** The whole file as a Blob of parts, for the browser's download (no file handle to write). */
  async exportBlob(allowedHosts: readonly string[]): Promise<Blob> {
    const parts = await exportBackupParts(this.#db, this.#clock(), allowedHosts);
    return new Blob(parts, { type: 'application/json' });
  }

  /** The file chunk by chunk to `write`, which the page points at the file the user chose. */
  exportTo(
    allowedHosts: readonly string[],
    write: (chunk: string) => Promise<void>,
  ): Promise<void> {
    return writeBackup(this.#db, this.#clock(), allowedHosts, write);
  }

  async check(file: Blob, builtInModelIds: readonly string[]): Promise<BackupCheck> {
    const checked = await checkBackupFile(file, builtInModelIds);
    if (!checked.ok) return checked;
    const token = crypto.randomUUID();
    this.#checked = { token, file, builtInModelIds: [...builtInModelIds] };
    return { ok: true, token, conversations: checked.summary.rows.conversations };
  }

  /** Imports the checked file; returns its allowed model hosts for the page to keep. */
  async import(token: string): Promise<string[]> {
    const checked = this.#checked;
    if (checked?.token !== token) {
      throw new AppError('invalid-request', 'Choose the backup file again: it was not kept.');
    }
    const summary = await importBackupFile(this.#db, checked.file, checked.builtInModelIds);
    this.#checked = null;
    return summary.allowedHosts;
  }

  discard(token: string): void {
    if (this.#checked?.token === token) this.#checked = null;
  }
}
