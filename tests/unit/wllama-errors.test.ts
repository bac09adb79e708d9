import { WllamaError } from '@wllama/wllama/esm/index.js';
import { describe, expect, it } from 'vitest';
import { AppError, type ErrorCode } from '../../src/core/errors';
import {
  abortedError,
  describeError,
  downloadError,
  httpError,
  isQuotaError,
  isRuntimeCrash,
  throwIfAborted,
  toAppError,
} from '../../src/engine/wllama-errors';

const named = (name: string, message: string): Error => Object.assign(new Error(message), { name });
const URL_ = 'https://models.example/m.gguf';

describe('toAppError', () => {
  const cases: [string, unknown, ErrorCode][] = [
    [
      'a full KV cache',
      new WllamaError('KV cache is full', 'kv_cache_full'),
      'context-window-exceeded',
    ],
    [
      "llama.cpp's over-long prompt",
      new Error('the request exceeds the available context size, try increasing it'),
      'context-window-exceeded',
    ],
    ['a context length exceeded', new Error('context length exceeded'), 'context-window-exceeded'],
    ['ggml failing to allocate', new Error('ggml: failed to allocate buffer'), 'out-of-memory'],
    ['a wasm memory fault', named('RuntimeError', 'memory access out of bounds'), 'out-of-memory'],
    ['an out-of-memory message', new Error('Out of memory'), 'out-of-memory'],
    [
      'a full disk',
      new DOMException('The quota has been exceeded.', 'QuotaExceededError'),
      'quota-exceeded',
    ],
    ['another wllama error', new WllamaError('Model is not loaded', 'model_not_loaded'), 'unknown'],
    ['a string', 'something odd', 'unknown'],
  ];
  for (const [what, error, code] of cases) {
    it(`maps ${what} to ${code}`, () => {
      const mapped = toAppError(error, 'unknown', 'Generation failed');
      expect(mapped).toBeInstanceOf(AppError);
      expect(mapped.code).toBe(code);
      expect(mapped.message).toBe(`Generation failed: ${describeError(error)}`);
      expect(mapped.cause).toBe(error);
    });
  }

  it('uses the fallback for what it does not recognise', () => {
    expect(toAppError(new Error('bad magic'), 'invalid-model', 'Loading').code).toBe(
      'invalid-model',
    );
  });

  it('passes an AppError through unchanged', () => {
    const error = new AppError('aborted', 'Stopped.');
    expect(toAppError(error, 'unknown', 'Generation failed')).toBe(error);
  });
});

describe('downloadError', () => {
  it('reads the HTTP status out of a wllama download failure', () => {
    expect(downloadError(new Error('Failed to fetch: HTTP 404'), URL_).code).toBe(
      'model-not-found',
    );
    expect(downloadError(new Error('HTTP 403 Forbidden'), URL_).message).toMatch(
      /gated or private/,
    );
    expect(downloadError(new Error('HTTP 503'), URL_).code).toBe('network');
  });

  it('says a bare fetch failure may be CORS as well as the network', () => {
    const error = downloadError(new TypeError('Failed to fetch'), URL_);
    expect(error.code).toBe('network');
    expect(error.message).toMatch(/CORS/);
    expect(error.message).toContain(URL_);
  });

  it('maps a full disk to quota-exceeded', () => {
    const quota = new DOMException('Quota exceeded', 'QuotaExceededError');
    expect(downloadError(quota, URL_).code).toBe('quota-exceeded');
  });

  it('keeps an AppError and falls back to network for the rest', () => {
    const aborted = abortedError();
    expect(downloadError(aborted, URL_)).toBe(aborted);
    const other = downloadError(new Error('stream reset'), URL_);
    expect(other.code).toBe('network');
    expect(other.message).toBe('The download failed: stream reset');
  });
});

describe('httpError', () => {
  it.each([
    [404, 'model-not-found'],
    [410, 'model-not-found'],
    [401, 'model-not-found'],
    [403, 'model-not-found'],
    [500, 'network'],
    [429, 'network'],
  ] as const)('maps HTTP %i to %s', (status, code) => {
    const error = httpError(status, URL_);
    expect(error.code).toBe(code);
    expect(error.message).toContain(`HTTP ${status}`);
  });
});

describe('the small predicates', () => {
  it('recognises quota errors by name or message only on objects', () => {
    expect(isQuotaError(named('QuotaExceededError', ''))).toBe(true);
    expect(isQuotaError(new Error('Storage quota reached'))).toBe(true);
    expect(isQuotaError('quota')).toBe(false);
    expect(isQuotaError(null)).toBe(false);
  });

  it('recognises a crashed wasm runtime', () => {
    expect(isRuntimeCrash(named('RuntimeError', 'unreachable'))).toBe(true);
    expect(isRuntimeCrash(new Error('unreachable'))).toBe(false);
  });

  it('throws the cancellation error only once aborted', () => {
    const controller = new AbortController();
    expect(() => {
      throwIfAborted(controller.signal);
    }).not.toThrow();
    controller.abort();
    expect(() => {
      throwIfAborted(controller.signal);
    }).toThrow(expect.objectContaining({ code: 'aborted' }) as Error);
  });

  it('describes anything thrown', () => {
    expect(describeError(new Error('boom'))).toBe('boom');
    expect(describeError(named('AbortError', ''))).toBe('AbortError');
    expect(describeError('text')).toBe('text');
    expect(describeError({ status: 500 })).toBe('{"status":500}');
    const circular: { self?: unknown } = {};
    circular.self = circular;
    expect(describeError(circular)).toBe('[object Object]');
  });
});
