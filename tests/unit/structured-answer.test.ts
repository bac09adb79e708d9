import { describe, expect, it } from 'vitest';
import type { Result } from '../../src/core/result';
import { STRUCTURED_ATTEMPTS, readStructuredAnswer } from '../../src/core/structured-answer';

const parseNumber = (text: string): Result<{ value: number }> => {
  const value = Number(text);
  return Number.isFinite(value) ? { ok: true, value } : { ok: false, error: 'not a number' };
};

describe('one rule for structured answers', () => {
  it('asks twice at most', () => {
    expect(STRUCTURED_ATTEMPTS).toBe(2);
  });

  it('refuses an answer cut off at the length limit before reading it, even one that parses', () => {
    expect(readStructuredAnswer({ finishReason: 'length', text: '12' }, parseNumber)).toEqual({
      ok: false,
      error: 'the answer was cut off at the length limit',
    });
  });

  it('reads a finished answer with the parser, passing its refusal on', () => {
    expect(readStructuredAnswer({ finishReason: 'stop', text: '12' }, parseNumber)).toEqual({
      ok: true,
      value: 12,
    });
    expect(readStructuredAnswer({ text: 'twelve' }, parseNumber)).toEqual({
      ok: false,
      error: 'not a number',
    });
  });
});
