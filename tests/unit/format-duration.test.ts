import { describe, expect, it } from 'vitest';
import { formatDuration } from '../../src/core/format';

describe('formatDuration (the Lab ETA)', () => {
  it('says seconds, then minutes, then hours and minutes', () => {
    expect(formatDuration(4_400)).toBe('4 s');
    expect(formatDuration(59_000)).toBe('59 s');
    expect(formatDuration(61_000)).toBe('1 min');
    expect(formatDuration(12 * 60_000 + 20_000)).toBe('12 min');
    expect(formatDuration(3 * 3_600_000)).toBe('3 h');
    expect(formatDuration(3 * 3_600_000 + 20 * 60_000)).toBe('3 h 20 min');
  });

  it('shows a dash for what is not a duration', () => {
    expect(formatDuration(-1)).toBe('—');
    expect(formatDuration(Number.NaN)).toBe('—');
  });
});
