/**
 * When to run the optimizer: a pure policy over conversation metadata. Following the paper, the
 * profile is updated every k ended sessions rather than after every message, which keeps the
 * optimizer off the GPU while the user chats and gives it whole exchanges to learn from.
 *
 * A conversation holds an unprocessed session when it has messages newer than `learnedUntil`.
 * That session has ended when the user is elsewhere (it is not the active conversation) or has
 * been idle in it for longer than `idleMs`. Temporary conversations are never learned from.
 */

export interface ConversationLearningState {
  id: string;
  temporary: boolean;
  /** `createdAt` of the conversation's newest message, or 0 when it has none. */
  lastMessageAt: number;
  /** `createdAt` of the newest message already learned from, or 0. */
  learnedUntil: number;
}

export interface SchedulePolicy {
  /** Ended sessions that trigger an optimizer run; values below 1 count as 1. */
  k: number;
  idleMs: number;
  now: number;
  activeConversationId: string | null;
}

export interface ScheduleDecision {
  /** Conversation ids with an ended, unprocessed session, oldest first. */
  ended: string[];
  shouldOptimize: boolean;
}

export function findEndedSessions(
  conversations: readonly ConversationLearningState[],
  policy: SchedulePolicy,
): ScheduleDecision {
  const k = Math.max(1, Math.floor(Number.isFinite(policy.k) ? policy.k : 1));
  const ended = conversations
    .filter(
      (conversation) =>
        !conversation.temporary &&
        conversation.lastMessageAt > conversation.learnedUntil &&
        (conversation.id !== policy.activeConversationId ||
          policy.now - conversation.lastMessageAt > policy.idleMs),
    )
    .sort((a, b) =>
      a.lastMessageAt === b.lastMessageAt
        ? a.id < b.id
          ? -1
          : a.id > b.id
            ? 1
            : 0
        : a.lastMessageAt - b.lastMessageAt,
    )
    .map((conversation) => conversation.id);
  return { ended, shouldOptimize: ended.length >= k };
}

/**
 * The sessions one optimizer job takes: the oldest first, so none waits forever behind newer
 * ones, and at most `max` (at least one) so a job's prompt stays small.
 */
export function sessionsForJob(ended: readonly string[], max: number): string[] {
  const limit = Math.max(1, Math.floor(Number.isFinite(max) ? max : 1));
  return ended.slice(0, limit);
}

/**
 * The latest activity time up to which every conversation is learned from or temporary, after a
 * check that read `conversations`, every conversation active after `previous` (issue 11: the next
 * check reads only those active after it, through the `updatedAt` index, instead of every
 * conversation every minute). It stops just before the oldest conversation still to learn from,
 * so that one is read again; `learnedUntil` never moves back, so nothing older can become
 * unlearned without new activity, which moves it past the mark. One millisecond is kept back
 * from the newest activity, for a message written in that same millisecond.
 */
export function learnedThrough(
  conversations: readonly ConversationLearningState[],
  previous: number,
): number {
  let oldestToLearn = Infinity;
  let newest = previous;
  for (const conversation of conversations) {
    newest = Math.max(newest, conversation.lastMessageAt - 1);
    if (!conversation.temporary && conversation.lastMessageAt > conversation.learnedUntil) {
      oldestToLearn = Math.min(oldestToLearn, conversation.lastMessageAt - 1);
    }
  }
  return Math.max(previous, Math.min(newest, oldestToLearn));
}
