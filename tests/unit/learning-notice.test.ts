import { describe, expect, it } from 'vitest';
import { learningNotice } from '../../src/state/learning-notice';
import type { LearningOutcome } from '../../src/worker/contract';

const outcome = (change: Partial<LearningOutcome>): LearningOutcome => ({
  jobs: 0,
  applied: 0,
  proposed: 0,
  rejected: 0,
  failed: 0,
  preempted: false,
  revisionIds: [],
  waiting: null,
  ...change,
});

describe('what "Update profile now" says (issue 12)', () => {
  it('tells a queued update, a missing model and a busy engine apart from nothing new', () => {
    expect(learningNotice(outcome({ waiting: 'another-update' }))).toMatch(/^Queued behind/);
    expect(learningNotice(outcome({ waiting: 'model' }))).toMatch(/^Waiting for the model/);
    expect(learningNotice(outcome({ waiting: 'reply', jobs: 1 }))).toMatch(/reply to finish/);
    expect(learningNotice(outcome({}))).toBe('Nothing new to learn from.');
  });

  it('leaves a run that did its job to the result it stored', () => {
    expect(learningNotice(outcome({ jobs: 1, applied: 2 }))).toBeNull();
  });
});
