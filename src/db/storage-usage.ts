import { Dexie, type Table } from 'dexie';
import {
  serializedBytes,
  type ConversationUsage,
  type StoredDataUsage,
  type TableUsage,
} from '../core/storage/usage';
import { TABLES, type PersonaDatabase } from './database';

/** How many conversations the storage view lists by size. */
export const LARGEST_CONVERSATIONS = 5;
/**
 * Rows a table may have and still be measured whole; a larger one is measured from this many rows
 * spread evenly over it, times its row count. Turning 100,000 messages into JSON to weigh them
 * took 8 seconds (issue 11); counting them and weighing a sample takes a fraction of one.
 */
export const SAMPLED_ROWS = 2000;
/** Messages read to weigh the largest conversations exactly; past it they are estimated. */
export const EXACT_CONVERSATION_ROWS = 10_000;

interface Weighed extends TableUsage {
  /** Average bytes of a row (0 for an empty table). */
  mean: number;
  exact: boolean;
  /** The rows weighed (all of them when exact), with their bytes. */
  sample: { row: unknown; bytes: number }[];
}

/** A table's rows, counted exactly, and their bytes: exact when few, from a sample when many. */
async function weigh(table: Table): Promise<Weighed> {
  const rows = await table.count();
  if (rows <= SAMPLED_ROWS) {
    const sample = (await table.toArray()).map((row: unknown) => ({
      row,
      bytes: serializedBytes(row),
    }));
    const bytes = sample.reduce((sum, s) => sum + s.bytes, 0);
    const mean = rows > 0 ? bytes / rows : 0;
    return { table: table.name, rows, bytes, mean, exact: true, sample };
  }
  // Keys only (no row is read whole), then every n-th row.
  const keys: unknown[] = await table.toCollection().primaryKeys();
  const step = keys.length / SAMPLED_ROWS;
  const picked = Array.from({ length: SAMPLED_ROWS }, (_, i) => keys[Math.floor(i * step)]);
  const rowsRead: unknown[] = await table.bulkGet(picked as never[]);
  const sample = rowsRead.map((row) => ({ row, bytes: serializedBytes(row) }));
  const mean = sample.reduce((sum, s) => sum + s.bytes, 0) / SAMPLED_ROWS;
  const bytes = Math.round(mean * rows);
  return { table: table.name, rows, bytes, mean, exact: false, sample };
}

/**
 * Measures every table in one read transaction, so the numbers describe one moment, without
 * reading a large history whole (issue 11). Exact: every row count, and each conversation's
 * number of messages (from the index alone). Estimated past `SAMPLED_ROWS` rows: a table's bytes
 * (row count × the average of a sample), and the size of conversations beyond the
 * `EXACT_CONVERSATION_ROWS` messages read to weigh the largest candidates exactly.
 */
export function measureStoredData(
  db: PersonaDatabase,
  largest: number = LARGEST_CONVERSATIONS,
): Promise<StoredDataUsage> {
  return db.transaction('r', db.tables, async () => {
    const weighed = new Map<string, Weighed>();
    for (const table of db.tables) weighed.set(table.name, await weigh(table));
    const tables: TableUsage[] = Object.values(TABLES).map((name) => {
      const { table, rows, bytes } = weighed.get(name) ?? { table: name, rows: 0, bytes: 0 };
      return { table, rows, bytes };
    });
    return {
      tables,
      largestConversations: await largestConversations(db, largest, weighed.get(TABLES.messages)),
      totalBytes: tables.reduce((sum, t) => sum + t.bytes, 0),
      estimated: [...weighed.values()].some((t) => !t.exact),
    };
  });
}

/**
 * Ranks conversations by their row and messages: messages are counted per conversation from the
 * index keys, weighed at the average message size, and the leading candidates are then weighed
 * exactly, message by message, as far as `EXACT_CONVERSATION_ROWS` allows.
 */
async function largestConversations(
  db: PersonaDatabase,
  largest: number,
  messages: Weighed | undefined,
): Promise<ConversationUsage[]> {
  if (largest <= 0) return [];
  const counts = new Map<string, number>();
  const keys = (await db.messages.orderBy('[conversationId+createdAt]').keys()) as unknown as [
    string,
    number,
  ][];
  for (const [conversationId] of keys) {
    counts.set(conversationId, (counts.get(conversationId) ?? 0) + 1);
  }
  const mean = messages?.mean ?? 0;
  // A conversation's sampled messages say more about its size than the average of all: one of
  // a few long messages would otherwise rank below many short ones. One pseudo-row at the
  // average keeps a single sampled outlier from deciding alone.
  const sampled = new Map<string, { rows: number; bytes: number }>();
  for (const { row, bytes } of messages?.sample ?? []) {
    const id = (row as { conversationId?: string } | undefined)?.conversationId;
    if (id === undefined) continue;
    const entry = sampled.get(id) ?? { rows: 0, bytes: 0 };
    entry.rows++;
    entry.bytes += bytes;
    sampled.set(id, entry);
  }
  const meanOf = (id: string) => {
    const entry = sampled.get(id);
    return entry ? (entry.bytes + mean) / (entry.rows + 1) : mean;
  };
  const estimated: (ConversationUsage & { messageBytes: number })[] = [];
  await db.conversations.each((conversation) => {
    const count = counts.get(conversation.id) ?? 0;
    const messageBytes = Math.round(count * meanOf(conversation.id));
    estimated.push({
      id: conversation.id,
      title: conversation.title,
      messages: count,
      bytes: serializedBytes(conversation) + messageBytes,
      messageBytes,
    });
  });
  const bySize = (a: ConversationUsage, b: ConversationUsage) =>
    b.bytes - a.bytes || a.title.localeCompare(b.title);
  estimated.sort(bySize);
  // Twice as many candidates as shown: a conversation of a few long messages can outweigh one
  // of many short ones that the average ranked above it.
  const candidates = estimated.slice(0, largest * 2);
  let budget = EXACT_CONVERSATION_ROWS;
  for (const candidate of candidates) {
    if (candidate.messages > budget) continue;
    budget -= candidate.messages;
    let bytes = 0;
    const rows = await db.messages
      .where('[conversationId+createdAt]')
      .between([candidate.id, Dexie.minKey], [candidate.id, Dexie.maxKey])
      .toArray();
    for (const message of rows) bytes += serializedBytes(message);
    candidate.bytes += bytes - candidate.messageBytes;
  }
  return candidates
    .sort(bySize)
    .slice(0, largest)
    .map(({ id, title, messages, bytes }) => ({ id, title, messages, bytes }));
}
