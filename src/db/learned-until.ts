/** How far the optimizer has learned from each conversation (`Conversation.learnedUntil`). */
import type { PersonaDatabase } from './database';

export interface ProcessedConversation {
  conversationId: string;
  /** `createdAt` of the newest message the run learned from. */
  learnedUntil: number;
}

/**
 * Moves `learnedUntil` forward on each conversation. Never moves it back: two runs can finish
 * out of order (a stale job re-claimed by another tab), and learning the same messages twice
 * would only repeat changes. A deleted conversation is skipped. Joins the caller's transaction,
 * which must include `conversations`.
 */
export async function markConversationsProcessed(
  db: PersonaDatabase,
  processed: readonly ProcessedConversation[],
): Promise<void> {
  for (const { conversationId, learnedUntil } of processed) {
    const conversation = await db.conversations.get(conversationId);
    if (!conversation || conversation.learnedUntil >= learnedUntil) continue;
    // Only this field: `updatedAt` orders the conversation list, and learning is not activity.
    await db.conversations.update(conversationId, { learnedUntil });
  }
}
