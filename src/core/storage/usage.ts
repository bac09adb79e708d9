/**
 * Space the stored data takes, measured as the size of its JSON (UTF-8). The browser keeps rows in
 * its own format (structured clone, compressed on disk in Chromium), so these are estimates of the
 * data's size, not of the bytes on disk, and the UI says so.
 */

const encoder = new TextEncoder();

/** UTF-8 bytes of a value's JSON; 0 for a value JSON cannot represent. */
export function serializedBytes(value: unknown): number {
  const json = JSON.stringify(value) as string | undefined;
  return json === undefined ? 0 : encoder.encode(json).length;
}

export interface TableUsage {
  table: string;
  rows: number;
  bytes: number;
}

export interface ConversationUsage {
  id: string;
  title: string;
  messages: number;
  /** The conversation's row and all its messages. */
  bytes: number;
}

export interface StoredDataUsage {
  tables: TableUsage[];
  /** The largest conversations, largest first. */
  largestConversations: ConversationUsage[];
  totalBytes: number;
}

/** Adds up rows per key as they are read, so no table has to be held in memory whole. */
export class UsageCounter {
  readonly #tables = new Map<string, TableUsage>();
  readonly #conversations = new Map<string, ConversationUsage>();

  addRow(table: string, row: unknown): number {
    const bytes = serializedBytes(row);
    const usage = this.#tables.get(table) ?? { table, rows: 0, bytes: 0 };
    usage.rows++;
    usage.bytes += bytes;
    this.#tables.set(table, usage);
    return bytes;
  }

  addToConversation(id: string, bytes: number, part: { title?: string; message?: boolean }): void {
    const usage = this.#conversations.get(id) ?? { id, title: '', messages: 0, bytes: 0 };
    usage.bytes += bytes;
    if (part.title !== undefined) usage.title = part.title;
    if (part.message) usage.messages++;
    this.#conversations.set(id, usage);
  }

  result(tables: readonly string[], largest: number): StoredDataUsage {
    const byTable = tables.map((table) => this.#tables.get(table) ?? { table, rows: 0, bytes: 0 });
    return {
      tables: byTable,
      largestConversations: [...this.#conversations.values()]
        .sort((a, b) => b.bytes - a.bytes || a.title.localeCompare(b.title))
        .slice(0, largest),
      totalBytes: byTable.reduce((sum, t) => sum + t.bytes, 0),
    };
  }
}
