import type { LearningOutcome } from '../worker/contract';

/**
 * What "Update profile now" tells the user about a run, or null when the run's own result (the
 * last-update line, the learned notice) says it all. It must be true: a queued update is not
 * "nothing new", and a missing model is not a failure.
 */
export function learningNotice(outcome: LearningOutcome): string | null {
  switch (outcome.waiting) {
    case 'another-update':
      return 'Queued behind an update that is already running; it runs right after it.';
    case 'model':
      return 'Waiting for the model: the update runs as soon as a model is loaded.';
    case 'reply':
      return 'Waiting for the reply to finish; the update runs right after it.';
    case null:
      return outcome.jobs === 0 ? 'Nothing new to learn from.' : null;
  }
}
