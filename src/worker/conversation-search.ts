/**
 * Search over every conversation (issue 11), in the worker: the query runs on the word index
 * (`db/search-index.ts`) and only the messages found are read, for their snippets. Also indexes
 * in the background what was stored without the index: messages from before schema version 3,
 * and an imported backup's.
 */
import { isEmptyQuery, parseQuery } from '../core/search/query';
import { markMatches, snippetOf } from '../core/search/snippet';
import {
  backfillSearchIndex,
  isBackfillDone,
  searchDocs,
  type Conversation,
  type Message,
  type PersonaDatabase,
} from '../db';
import type { SearchApi, SearchHit, SearchResults } from './contract';

export const DEFAULT_SEARCH_LIMIT = 30;
/** More is never shown at once; the user narrows the search instead. */
export const MAX_SEARCH_LIMIT = 200;
/** A long query is not a search anyone types; it is cut rather than refused. */
export const MAX_QUERY_CHARS = 500;

export class ConversationSearch implements SearchApi {
  readonly #db: PersonaDatabase;
  #indexing: Promise<void> | null = null;
  #paused = false;

  constructor(db: PersonaDatabase) {
    this.#db = db;
  }

  async query(text: string, limit = DEFAULT_SEARCH_LIMIT): Promise<SearchResults> {
    const db = this.#db;
    const indexing = !(await isBackfillDone(db));
    if (indexing) this.startIndexing();
    const query = parseQuery(text.slice(0, MAX_QUERY_CHARS));
    if (isEmptyQuery(query)) return { hits: [], indexing };
    const count = Math.max(1, Math.min(MAX_SEARCH_LIMIT, Math.floor(limit)));
    const docs = await searchDocs(db, query, count);
    const [messages, conversations] = await Promise.all([
      db.messages.bulkGet(docs.map((doc) => doc.messageId ?? '')),
      db.conversations.bulkGet(docs.map((doc) => doc.conversationId)),
    ]);
    const hits: SearchHit[] = [];
    docs.forEach((doc, i) => {
      const conversation: Conversation | undefined = conversations[i];
      if (!conversation) return;
      const message: Message | undefined = doc.messageId === null ? undefined : messages[i];
      if (doc.messageId !== null && !message) return;
      hits.push({
        conversationId: conversation.id,
        messageId: message?.id ?? null,
        title: markMatches(conversation.title, query),
        at: message?.createdAt ?? conversation.updatedAt,
        snippet: message ? snippetOf(message.content, query) : null,
        role: message?.role ?? null,
      });
    });
    return { hits, indexing };
  }

  /**
   * Indexes what has no index rows yet, a batch per transaction, until done; one run at a time.
   * Opportunistic: a failure (a full disk) stops it, and the next start or search tries again.
   */
  startIndexing(): void {
    if (this.#indexing || this.#paused) return;
    this.#indexing = (async () => {
      try {
        while (!this.#paused && !(await backfillSearchIndex(this.#db))) {
          // Lets a send or a search in between: each batch is its own transaction.
          await new Promise((resolve) => setTimeout(resolve, 0));
        }
      } catch (error) {
        console.warn('Persona: indexing messages for search stopped.', error);
      } finally {
        this.#indexing = null;
      }
    })();
  }

  /** Stops indexing after the batch in progress, which it waits for: the data is being replaced. */
  async pause(): Promise<void> {
    this.#paused = true;
    await this.#indexing;
  }

  resume(): void {
    this.#paused = false;
  }
}
