/**
 * Space the stored data takes, measured as the size of its JSON (UTF-8). The browser keeps rows in
 * its own format (structured clone, compressed on disk in Chromium), so these are estimates of the
 * data's size, not of the bytes on disk, and the UI says so.
 */

const encoder = new TextEncoder();

/** The name of the page's user timing of the worker's measurement (`data.measure`). */
export const STORED_DATA_MEASURE = 'persona: measure stored data';

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
  /** Whether some figure was estimated from a sample of rows rather than every row. */
  estimated: boolean;
}
