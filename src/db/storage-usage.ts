import { Dexie, type Table } from 'dexie';
import {
  serializedBytes,
  type ConversationUsage,
  type StoredDataUsage,
  type TableUsage,
} from '../core/storage/usage';
import { TABLES, type PersonaDatabase } from './database';
import { inConversation } from './messages';
import type { Conversation, Message } from './records';

/** How many conversations the storage view lists by size. */
export const LARGEST_CONVERSATIONS = 5;
/**
 * Rows a table may have and still be weighed whole. Past it, rows are weighed from a sample of
 * about this many. Measured in Chromium at 100,000 messages: reading them all takes 6 s, walking
 * the conversation index key by key 2.2 s, listing the primary keys 0.3 s, while 2,000 range
 * counts take 0.12 s and 100 short range reads far less (issue 11).
 */
export const SAMPLED_ROWS = 2000;
/** Conversations whose first messages make the sample of messages. */
const SAMPLED_CONVERSATIONS = 100;
/** Messages read to weigh the largest conversations exactly; past it they are estimated. */
export const EXACT_CONVERSATION_ROWS = 3000;

const bytesOf = (rows: readonly unknown[]): number =>
  rows.reduce<number>((sum, row) => sum + serializedBytes(row), 0);

/** A table other than messages: exact when small, else its first rows × its row count. */
async function weigh(table: Table): Promise<TableUsage & { exact: boolean }> {
  const rows = await table.count();
  const read: unknown[] = await table.limit(SAMPLED_ROWS).toArray();
  const bytes = bytesOf(read);
  if (rows <= SAMPLED_ROWS) return { table: table.name, rows, bytes, exact: true };
  return { table: table.name, rows, bytes: Math.round((bytes / read.length) * rows), exact: false };
}

/**
 * Counts the messages of every conversation that has no tally yet (after an import, or stored
 * before schema version 4), in one transaction with the messages, so no send slips in between.
 * Counting is a walk of the conversation's messages: 2,000 counts took 1.2 s at 100,000 messages,
 * once; the tallies then keep up with every send and deletion.
 */
export function completeMessageTallies(db: PersonaDatabase): Promise<void> {
  return db.transaction('rw', [db.conversations, db.messages, db.messageTallies], async () => {
    const [ids, tallied] = await Dexie.Promise.all([
      db.conversations.toCollection().primaryKeys(),
      db.messageTallies.toCollection().primaryKeys(),
    ]);
    const known = new Set<string>(tallied);
    const missing = ids.filter((id) => !known.has(id));
    if (missing.length === 0) return;
    const counts = await Dexie.Promise.all(missing.map((id) => inConversation(db, id).count()));
    await db.messageTallies.bulkPut(
      missing.map((conversationId, i) => ({ conversationId, messages: counts[i] ?? 0 })),
    );
  });
}

/**
 * Measures every table in one read transaction, so the numbers describe one moment, without
 * reading a large history whole (issue 11). Exact: every row count, and each conversation's
 * number of messages (its tally, or a range count on the conversation index where it has none:
 * completing the tallies first may have failed on a full disk). Past `SAMPLED_ROWS` messages,
 * their bytes come from a sample (the first messages of `SAMPLED_CONVERSATIONS` conversations
 * spread over them), except the largest conversations', which are weighed exactly within
 * `EXACT_CONVERSATION_ROWS` messages; small tables are weighed whole.
 */
export async function measureStoredData(
  db: PersonaDatabase,
  largest: number = LARGEST_CONVERSATIONS,
): Promise<StoredDataUsage> {
  await completeMessageTallies(db).catch(() => undefined);
  return db.transaction('r', db.tables, async () => {
    const others = await Dexie.Promise.all(
      db.tables
        .filter((table) => table.name !== TABLES.messages && table.name !== TABLES.conversations)
        .map((table) => weigh(table)),
    );
    const conversations = await db.conversations.toArray();
    const tallies = new Map(
      (await db.messageTallies.toArray()).map((tally) => [tally.conversationId, tally.messages]),
    );
    const counts: number[] = await Dexie.Promise.all(
      conversations.map((c) => {
        const tally = tallies.get(c.id);
        return tally === undefined
          ? inConversation(db, c.id).count()
          : Dexie.Promise.resolve(tally);
      }),
    );
    // Every message belongs to a stored conversation: they are deleted with it.
    const messageCount = counts.reduce((sum, n) => sum + n, 0);

    let sample: Message[];
    const exact = messageCount <= SAMPLED_ROWS;
    if (exact) {
      sample = await db.messages.toArray();
    } else {
      const step = Math.max(1, conversations.length / SAMPLED_CONVERSATIONS);
      const perConversation = Math.ceil(
        SAMPLED_ROWS / Math.min(conversations.length, SAMPLED_CONVERSATIONS),
      );
      const picked: Conversation[] = [];
      for (let i = 0; i < conversations.length; i += step) {
        const conversation = conversations[Math.floor(i)];
        if (conversation) picked.push(conversation);
      }
      const pieces = await Dexie.Promise.all(
        picked.map((c) => inConversation(db, c.id).limit(perConversation).toArray()),
      );
      sample = pieces.flat();
    }

    const ranked = rankConversations(conversations, counts, sample, exact);
    // The leading candidates, twice as many as shown, weighed message by message: a
    // conversation of a few long messages can outweigh one of many short ones.
    const candidates = ranked.slice(0, Math.max(0, largest) * 2);
    let budget = exact ? Infinity : EXACT_CONVERSATION_ROWS;
    const weighedIds = new Set<string>();
    let weighedMessages = 0;
    let weighedBytes = 0;
    for (const candidate of candidates) {
      if (exact || candidate.messages > budget) continue;
      budget -= candidate.messages;
      const bytes = bytesOf(await inConversation(db, candidate.id).toArray());
      candidate.bytes += bytes - candidate.messageBytes;
      candidate.messageBytes = bytes;
      weighedIds.add(candidate.id);
      weighedMessages += candidate.messages;
      weighedBytes += bytes;
    }

    let messageBytes: number;
    if (exact) {
      messageBytes = bytesOf(sample);
    } else {
      // The rest at the average of the sampled messages not weighed exactly.
      const rest = sample.filter((m) => !weighedIds.has(m.conversationId));
      const mean = rest.length > 0 ? bytesOf(rest) / rest.length : 0;
      messageBytes = weighedBytes + Math.round((messageCount - weighedMessages) * mean);
    }
    const weighed = new Map<string, TableUsage>([
      [
        TABLES.conversations,
        { table: TABLES.conversations, rows: conversations.length, bytes: bytesOf(conversations) },
      ],
      [TABLES.messages, { table: TABLES.messages, rows: messageCount, bytes: messageBytes }],
      ...others.map((t): [string, TableUsage] => [
        t.table,
        { table: t.table, rows: t.rows, bytes: t.bytes },
      ]),
    ]);
    const tables = Object.values(TABLES).map(
      (name) => weighed.get(name) ?? { table: name, rows: 0, bytes: 0 },
    );
    return {
      tables,
      largestConversations: candidates
        .sort(bySize)
        .slice(0, Math.max(0, largest))
        .map(({ id, title, messages, bytes }) => ({ id, title, messages, bytes })),
      totalBytes: tables.reduce((sum, t) => sum + t.bytes, 0),
      estimated: !exact || others.some((t) => !t.exact),
    };
  });
}

type Ranked = ConversationUsage & { messageBytes: number };

const bySize = (a: ConversationUsage, b: ConversationUsage) =>
  b.bytes - a.bytes || a.title.localeCompare(b.title);

/**
 * Every conversation by its estimated size, largest first: its row, and its messages at the
 * average of its own sampled messages (one pseudo-message at the overall average keeps a single
 * outlier from deciding alone), or at the overall average when none was sampled. With every
 * message in the sample, the sizes are exact.
 */
function rankConversations(
  conversations: readonly Conversation[],
  counts: readonly number[],
  sample: readonly Message[],
  exact: boolean,
): Ranked[] {
  const sampled = new Map<string, { rows: number; bytes: number }>();
  let total = 0;
  for (const message of sample) {
    const bytes = serializedBytes(message);
    total += bytes;
    const entry = sampled.get(message.conversationId) ?? { rows: 0, bytes: 0 };
    entry.rows++;
    entry.bytes += bytes;
    sampled.set(message.conversationId, entry);
  }
  const mean = sample.length > 0 ? total / sample.length : 0;
  return conversations
    .map((conversation, i) => {
      const count = counts[i] ?? 0;
      const entry = sampled.get(conversation.id);
      const messageBytes = exact
        ? (entry?.bytes ?? 0)
        : Math.round(count * (entry ? (entry.bytes + mean) / (entry.rows + 1) : mean));
      return {
        id: conversation.id,
        title: conversation.title,
        messages: count,
        bytes: serializedBytes(conversation) + messageBytes,
        messageBytes,
      };
    })
    .sort(bySize);
}
