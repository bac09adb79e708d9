/**
 * The errors the storage layer raises, so the UI can tell the user what happened:
 * - `AppError('quota-exceeded')` when the browser refuses a write for lack of space;
 * - `InvalidRequestError` when a request makes no sense for the stored data (an empty message,
 *   a title that is too long, a conversation that no longer exists);
 * - `ConflictError` (code `busy`) when another tab or the worker changed the data a write was
 *   based on: nothing was written, and the caller reads again and retries.
 */
import { AppError } from '../core/errors';

export type InvalidRequestReason =
  | 'invalid-title'
  | 'invalid-label'
  | 'empty-message'
  | 'conversation-not-found'
  | 'not-a-reply'
  | 'nothing-to-regenerate'
  | 'duplicate-model'
  | 'invalid-setting'
  | 'job-not-found'
  | 'proposal-not-found';

/** An `AppError` with code `invalid-request`: its message alone tells the user what to fix. */
export class InvalidRequestError extends AppError {
  override readonly name = 'InvalidRequestError';
  readonly reason: InvalidRequestReason;

  constructor(reason: InvalidRequestReason, message: string) {
    super('invalid-request', message);
    this.reason = reason;
  }
}

export type ConflictReason = 'revision-changed' | 'job-not-running' | 'proposal-resolved';

/**
 * An `AppError` with code `busy`: the write was based on data that changed meanwhile (another
 * tab, the worker), so it was refused whole. Read again and retry, or drop the work.
 */
export class ConflictError extends AppError {
  override readonly name = 'ConflictError';
  readonly reason: ConflictReason;

  constructor(reason: ConflictReason, message: string) {
    super('busy', message);
    this.reason = reason;
  }
}

export const QUOTA_EXCEEDED_MESSAGE =
  'The browser has no storage left for Persona, so the last change was not saved.';

/**
 * Whether `error` is, or wraps, a quota error. Dexie reports one of several shapes: its own
 * `QuotaExceededError` with the DOMException as `inner`; an `AbortError` whose `inner` is the
 * transaction's error; or a `BulkError`/`ModifyError` listing per-row `failures`.
 */
export function isQuotaExceededError(error: unknown): boolean {
  const seen = new Set<unknown>();
  const pending: unknown[] = [error];
  while (pending.length > 0) {
    const current = pending.pop();
    if (typeof current !== 'object' || current === null || seen.has(current)) continue;
    seen.add(current);
    const { name, inner, cause, failures } = current as {
      name?: unknown;
      inner?: unknown;
      cause?: unknown;
      failures?: unknown;
    };
    if (name === 'QuotaExceededError') return true;
    pending.push(inner, cause);
    if (Array.isArray(failures)) pending.push(...(failures as unknown[]));
  }
  return false;
}

/** Turns a quota error into `AppError('quota-exceeded')`; any other error is returned as is. */
export function toStorageError(error: unknown): unknown {
  if (error instanceof AppError || !isQuotaExceededError(error)) return error;
  return new AppError('quota-exceeded', QUOTA_EXCEEDED_MESSAGE, { cause: error });
}

/** Runs a write; every write in `db/` goes through here so quota errors reach the UI typed. */
export async function withStorageErrors<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    throw toStorageError(error);
  }
}
