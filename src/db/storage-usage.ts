import { UsageCounter, type StoredDataUsage } from '../core/storage/usage';
import { TABLES, type PersonaDatabase } from './database';

/** How many conversations the storage view lists by size. */
export const LARGEST_CONVERSATIONS = 5;

/**
 * Measures every table in one read transaction, so the numbers describe one moment. Rows are
 * streamed (`each`), not loaded whole: a long history may be large.
 */
export function measureStoredData(
  db: PersonaDatabase,
  largest: number = LARGEST_CONVERSATIONS,
): Promise<StoredDataUsage> {
  return db.transaction('r', db.tables, async () => {
    const counter = new UsageCounter();
    await db.conversations.each((conversation) => {
      const bytes = counter.addRow(TABLES.conversations, conversation);
      counter.addToConversation(conversation.id, bytes, { title: conversation.title });
    });
    await db.messages.each((message) => {
      const bytes = counter.addRow(TABLES.messages, message);
      counter.addToConversation(message.conversationId, bytes, { message: true });
    });
    for (const table of db.tables) {
      if (table.name === TABLES.conversations || table.name === TABLES.messages) continue;
      await table.each((row: unknown) => {
        counter.addRow(table.name, row);
      });
    }
    return counter.result(Object.values(TABLES), largest);
  });
}
