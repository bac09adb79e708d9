/**
 * How wllama's and the browser's failures become `AppError`s with a code the UI can advise on:
 * download (HTTP status, CORS, quota), loading and generation (context full, out of memory, a
 * crashed wasm runtime) and cancellation.
 */
import { WllamaError } from '@wllama/wllama/esm/index.js';
import { AppError, type ErrorCode } from '../core/errors';

/** The one error for a cancelled load or download, so callers can tell it from a failure. */
export function abortedError(): AppError {
  return new AppError('aborted', 'Loading the model was cancelled.');
}

export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw abortedError();
}

/** A status from the model host; 401/403 usually mean a gated model on Hugging Face. */
export function httpError(status: number, url: string): AppError {
  if (status === 404 || status === 410) {
    return new AppError('model-not-found', `No model at ${url} (HTTP ${status}).`);
  }
  if (status === 401 || status === 403) {
    return new AppError(
      'model-not-found',
      `The server refused access to ${url} (HTTP ${status}); the model may be gated or private.`,
    );
  }
  return new AppError('network', `The server failed to send ${url} (HTTP ${status}).`);
}

/** Maps a failed download (HEAD or body) of `url`; wllama reports a bad status only in its message. */
export function downloadError(error: unknown, url: string): AppError {
  if (error instanceof AppError) return error;
  if (isQuotaError(error)) {
    return new AppError(
      'quota-exceeded',
      'The browser has no storage left for this model. Free some space and retry.',
      { cause: error },
    );
  }
  const status = /HTTP (\d{3})/.exec(describeError(error));
  if (status?.[1]) return httpError(Number(status[1]), url);
  if (error instanceof TypeError) {
    // Fetch hides the cause; a blocked cross-origin request looks the same as being offline.
    return new AppError(
      'network',
      `Could not download ${url}: the network failed or the server does not allow this site (CORS).`,
      { cause: error },
    );
  }
  return toAppError(error, 'network', 'The download failed');
}

export function isQuotaError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const name = (error as { name?: unknown }).name;
  return name === 'QuotaExceededError' || /quota/i.test(describeError(error));
}

/** A wasm trap (`RuntimeError`): the runtime's memory may be corrupt, so it cannot be reused. */
export function isRuntimeCrash(error: unknown): boolean {
  return error instanceof Error && error.name === 'RuntimeError';
}

/** Maps anything wllama or the browser throws to an `AppError`, keeping the original as cause. */
export function toAppError(error: unknown, fallback: ErrorCode, context: string): AppError {
  if (error instanceof AppError) return error;
  const message = describeError(error);
  let code: ErrorCode = fallback;
  if (isQuotaError(error)) code = 'quota-exceeded';
  else if (error instanceof WllamaError && error.type === 'kv_cache_full') {
    code = 'context-window-exceeded';
  } else if (/exceed.*context|context.*(size|length|window).*exceed/i.test(message)) {
    code = 'context-window-exceeded';
  } else if (
    /out of memory|\boom\b|memory access out of bounds|failed to allocate/i.test(message)
  ) {
    code = 'out-of-memory';
  }
  return new AppError(code, `${context}: ${message}`, { cause: error });
}

/** A readable message for anything thrown, since not everything thrown is an `Error`. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error);
  } catch {
    return String(error);
  }
}
