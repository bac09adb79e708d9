/**
 * Names of the Web Locks the assistant workers hold, one module both sides read: workers take
 * them, and the page asks which are held before it replaces the data under them.
 */

/** Held while the reply for a message is generated, so any tab can tell it is still alive. */
export const REPLY_LOCK_PREFIX = 'persona-reply:';

export function replyLockName(messageId: string): string {
  return `${REPLY_LOCK_PREFIX}${messageId}`;
}

/** Only one tab's worker runs the profile optimizer at a time; the others leave the queue to it. */
export const OPTIMIZER_LOCK = 'persona-optimizer';

/** Only one tab runs a benchmark at a time. */
export const LAB_LOCK = 'persona-lab';
