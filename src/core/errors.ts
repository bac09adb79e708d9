/**
 * Errors that a user can act on. Every failure that crosses the worker boundary is one of these
 * codes, so the UI can say what happened and what to do instead of showing a bare string.
 */
export const ERROR_CODES = [
  'no-webgpu',
  'shader-f16-required',
  'device-lost',
  'out-of-memory',
  'network',
  'model-not-found',
  'invalid-model',
  'quota-exceeded',
  'context-window-exceeded',
  'aborted',
  'no-model-loaded',
  'busy',
  'invalid-request',
  'unknown',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class AppError extends Error {
  override readonly name: string = 'AppError';
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  /** Whatever was thrown, as an AppError: typed ones kept, anything else `unknown` with its text. */
  static from(error: unknown): AppError {
    if (error instanceof AppError) return error;
    const message = error instanceof Error ? error.message : String(error);
    return new AppError('unknown', message, { cause: error });
  }
}

/** The plain shape an error takes on the wire between worker and UI. */
export interface SerializedError {
  name: string;
  message: string;
  code: ErrorCode;
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

export function serializeError(error: unknown): SerializedError {
  if (error instanceof AppError) {
    return { name: error.name, message: error.message, code: error.code };
  }
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { name: error.name, message: error.message, code: isErrorCode(code) ? code : 'unknown' };
  }
  return { name: 'Error', message: String(error), code: 'unknown' };
}

export function deserializeError(wire: SerializedError): AppError {
  return new AppError(wire.code, wire.message);
}

/** What the user should do about each kind of failure, in words they can act on. */
export function adviceFor(code: ErrorCode): string {
  switch (code) {
    case 'no-webgpu':
      return 'This browser has no WebGPU. Use a CPU (WebAssembly) model instead, or open Persona in a recent Chrome or Edge.';
    case 'shader-f16-required':
      return 'This model needs 16-bit float shaders, which your GPU does not offer. Choose its q4f32 variant.';
    case 'device-lost':
      return 'The GPU was reset (a driver update, sleep, or memory pressure). Persona restarted the engine; load the model again.';
    case 'out-of-memory':
      return 'The model does not fit in the available GPU memory. Close other GPU-heavy tabs or choose a smaller model.';
    case 'network':
      return 'The download failed. Check your connection and retry: the parts already downloaded are kept.';
    case 'model-not-found':
      return 'The model was not found at that address. Check the URL and that the server allows this origin (CORS).';
    case 'invalid-model':
      return 'The file is not a model this engine can load. Check that it is an MLC model folder or a .gguf file.';
    case 'quota-exceeded':
      return 'The browser ran out of storage for this site. Delete cached models you no longer use, or free disk space.';
    case 'context-window-exceeded':
      return 'Shorten the message, start a new conversation, or choose a model with a larger context window.';
    case 'aborted':
      return 'Cancelled.';
    case 'no-model-loaded':
      return 'Load a model first.';
    case 'busy':
      return 'The assistant is busy with another request. Wait for it to finish or stop it.';
    case 'invalid-request':
      return '';
    case 'unknown':
      return 'Something unexpected went wrong. Retry; if it keeps happening, reload the page.';
  }
}
