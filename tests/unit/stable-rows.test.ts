import { describe, expect, it } from 'vitest';
import { keepUnchangedRows, sameData } from '../../src/state/stable-rows';

const row = (id: string, content: string, extra: Record<string, unknown> = {}) => ({
  id,
  content,
  ...extra,
});

describe('keepUnchangedRows', () => {
  it('keeps the objects of unchanged rows and takes the changed one', () => {
    const previous = [row('a', 'one'), row('b', 'two'), row('c', 'thr')];
    const next = [row('a', 'one'), row('b', 'two'), row('c', 'three')];
    const kept = keepUnchangedRows(previous, next);
    expect(kept[0]).toBe(previous[0]);
    expect(kept[1]).toBe(previous[1]);
    expect(kept[2]).toBe(next[2]);
    expect(kept).not.toBe(previous);
  });

  it('returns the previous array itself when nothing changed', () => {
    const previous = [row('a', 'one', { stats: { tokens: 3 } }), row('b', 'two')];
    const next = [row('a', 'one', { stats: { tokens: 3 } }), row('b', 'two')];
    expect(keepUnchangedRows(previous, next)).toBe(previous);
  });

  it('sees rows added before, after or removed', () => {
    const previous = [row('b', 'two')];
    const prepended = keepUnchangedRows(previous, [row('a', 'one'), row('b', 'two')]);
    expect(prepended).toHaveLength(2);
    expect(prepended[1]).toBe(previous[0]);
    expect(keepUnchangedRows(previous, [])).toEqual([]);
  });

  it('sees a change in a nested field', () => {
    const previous = [row('a', 'x', { stats: { tokens: 3 } })];
    const next = [row('a', 'x', { stats: { tokens: 4 } })];
    expect(keepUnchangedRows(previous, next)[0]).toBe(next[0]);
  });
});

describe('sameData', () => {
  it('treats a field set to undefined as absent, as IndexedDB does', () => {
    expect(sameData({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(sameData({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(sameData([1, [2]], [1, [2]])).toBe(true);
    expect(sameData([1], { 0: 1 })).toBe(false);
    expect(sameData(null, {})).toBe(false);
  });
});
