import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  findEndedSessions,
  learnedThrough,
  sessionsForJob,
  type ConversationLearningState,
  type SchedulePolicy,
} from '../../src/core/optimizer/schedule';

const NOW = 1_700_000_000_000;
const MINUTE = 60_000;

const conversation = (
  id: string,
  overrides: Partial<ConversationLearningState> = {},
): ConversationLearningState => ({
  id,
  temporary: false,
  lastMessageAt: NOW - 60 * MINUTE,
  learnedUntil: 0,
  ...overrides,
});

const policy = (overrides: Partial<SchedulePolicy> = {}): SchedulePolicy => ({
  k: 2,
  idleMs: 30 * MINUTE,
  now: NOW,
  activeConversationId: null,
  ...overrides,
});

describe('findEndedSessions', () => {
  it('lists conversations with unprocessed messages, oldest first', () => {
    const result = findEndedSessions(
      [
        conversation('b', { lastMessageAt: NOW - 2 * MINUTE }),
        conversation('a', { lastMessageAt: NOW - 90 * MINUTE }),
        conversation('done', { lastMessageAt: NOW - 5 * MINUTE, learnedUntil: NOW - 5 * MINUTE }),
        conversation('empty', { lastMessageAt: 0 }),
      ],
      policy(),
    );
    expect(result).toEqual({ ended: ['a', 'b'], shouldOptimize: true });
  });

  it('treats the active conversation as ended only after the idle time', () => {
    const active = conversation('active', { lastMessageAt: NOW - 5 * MINUTE });
    expect(findEndedSessions([active], policy({ activeConversationId: 'active' })).ended).toEqual(
      [],
    );
    expect(
      findEndedSessions([active], policy({ activeConversationId: 'active', idleMs: 4 * MINUTE }))
        .ended,
    ).toEqual(['active']);
    expect(findEndedSessions([active], policy({ activeConversationId: 'other' })).ended).toEqual([
      'active',
    ]);
  });

  it('never learns from temporary conversations', () => {
    expect(findEndedSessions([conversation('t', { temporary: true })], policy({ k: 1 }))).toEqual({
      ended: [],
      shouldOptimize: false,
    });
  });

  it('waits for k ended sessions', () => {
    const two = [conversation('a'), conversation('b')];
    expect(findEndedSessions(two, policy({ k: 3 })).shouldOptimize).toBe(false);
    expect(findEndedSessions(two, policy({ k: 2 })).shouldOptimize).toBe(true);
    expect(findEndedSessions(two.slice(0, 1), policy({ k: 0 })).shouldOptimize).toBe(true);
    expect(findEndedSessions([], policy({ k: 0 })).shouldOptimize).toBe(false);
  });

  it('orders ties by id so the result does not depend on input order', () => {
    const same = [conversation('z'), conversation('m'), conversation('a')];
    expect(findEndedSessions(same, policy()).ended).toEqual(['a', 'm', 'z']);
  });
});

describe('sessionsForJob', () => {
  it('takes the oldest sessions up to the maximum, at least one', () => {
    expect(sessionsForJob(['a', 'b', 'c'], 2)).toEqual(['a', 'b']);
    expect(sessionsForJob(['a', 'b', 'c'], 0)).toEqual(['a']);
    expect(sessionsForJob([], 5)).toEqual([]);
  });
});

describe('learnedThrough', () => {
  type Step =
    | { kind: 'message'; index: number; gap: number }
    | { kind: 'learn'; index: number }
    | { kind: 'check' };

  const step: fc.Arbitrary<Step> = fc.oneof(
    fc.record({
      kind: fc.constant('message' as const),
      index: fc.nat(7),
      gap: fc.integer({ min: 0, max: 3 }),
    }),
    fc.record({ kind: fc.constant('learn' as const), index: fc.nat(7) }),
    fc.record({ kind: fc.constant('check' as const) }),
  );

  it('lets a check read only conversations active after it and find the same sessions', () => {
    fc.assert(
      fc.property(
        fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
        fc.array(step),
        (temporary, steps) => {
          const all = temporary.map((t, i) =>
            conversation(`c${i}`, { temporary: t, lastMessageAt: 0 }),
          );
          let clock = 1;
          let mark = -Infinity;
          for (const s of steps) {
            const target = s.kind === 'check' ? undefined : all[s.index];
            if (s.kind === 'message' && target) {
              // A gap of 0 writes in the same millisecond as the last write.
              clock += s.gap;
              target.lastMessageAt = clock;
            } else if (s.kind === 'learn' && target) {
              target.learnedUntil = Math.max(target.learnedUntil, target.lastMessageAt);
            } else if (s.kind === 'check') {
              const read = all.filter((c) => c.lastMessageAt > mark);
              const options = policy({ k: 1, now: clock, idleMs: 0 });
              expect(findEndedSessions(read, options)).toEqual(findEndedSessions(all, options));
              mark = learnedThrough(read, mark);
            }
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('keeps the mark before the oldest conversation still to learn from', () => {
    const mark = learnedThrough(
      [
        conversation('a', { lastMessageAt: 100, learnedUntil: 100 }),
        conversation('b', { lastMessageAt: 50, learnedUntil: 10 }),
        conversation('c', { lastMessageAt: 30, learnedUntil: 0, temporary: true }),
      ],
      0,
    );
    expect(mark).toBe(49);
    expect(learnedThrough([], 49)).toBe(49);
  });
});
