/**
 * The search index: a word index in IndexedDB, written in the same transaction as the text it
 * indexes, so it is never behind what is stored and nothing rebuilds it at start-up.
 *
 * One row per message (and per conversation title) with its distinct terms under a multi-entry
 * index: a term's rows are read newest first straight from the index, and a write touches only
 * the rows of the message written. (A library index held in memory and saved whole, MiniSearch or
 * FlexSearch, would be rewritten on every message and read whole at start-up: tens of megabytes
 * at 100,000 messages.) Replies are indexed when they end, not at each save while they stream.
 */
import { matchesTerms, type SearchQuery } from '../core/search/query';
import { termsOf } from '../core/search/terms';
import { TABLES, type PersonaDatabase } from './database';
import type { Conversation, Message, SearchDoc, SearchProgress } from './records';

/** Completions of a prefix looked at: "be" has hundreds, the first ones in order are the shortest. */
export const MAX_PREFIX_EXPANSIONS = 50;
/**
 * Messages indexed per background transaction, which holds the messages table meanwhile: a send
 * or a search waits for at most one batch (about 100 ms on a 2-core machine for 100 messages).
 */
export const BACKFILL_BATCH = 100;

const messageRef = (messageId: string): string => `m:${messageId}`;
const titleRef = (conversationId: string): string => `t:${conversationId}`;

/**
 * Indexes a message's text, replacing what was indexed for it before; a message with no words (an
 * empty reply) has no row. Call inside a transaction that includes `searchDocs`.
 */
export async function indexMessage(db: PersonaDatabase, message: Message): Promise<void> {
  await replaceDoc(db, messageRef(message.id), {
    conversationId: message.conversationId,
    messageId: message.id,
    terms: termsOf(message.content),
  });
}

export async function unindexMessage(db: PersonaDatabase, messageId: string): Promise<void> {
  await db.searchDocs.where('ref').equals(messageRef(messageId)).delete();
}

export async function indexTitle(
  db: PersonaDatabase,
  conversation: Pick<Conversation, 'id' | 'title'>,
): Promise<void> {
  await replaceDoc(db, titleRef(conversation.id), {
    conversationId: conversation.id,
    messageId: null,
    terms: termsOf(conversation.title),
  });
}

export async function unindexConversation(
  db: PersonaDatabase,
  conversationId: string,
): Promise<void> {
  await db.searchDocs.where('conversationId').equals(conversationId).delete();
}

async function replaceDoc(db: PersonaDatabase, ref: string, doc: Omit<SearchDoc, 'ref'>) {
  await db.searchDocs.where('ref').equals(ref).delete();
  if (doc.terms.length > 0) await db.searchDocs.add({ ref, ...doc });
}

/** Rows read at a time while checking candidates against their terms. */
const CHECK_BATCH = 200;
/**
 * Newest row keys read first from each word's list. Reading a list whole costs about 10 ms per
 * 1,000 rows (a common word's 8,000 took 130 ms at 100,000 messages), a window of them a few ms.
 */
export const POSTING_WINDOW = 1000;

/** A word's (or a prefix's) newest row keys, newest first, and whether that is all of them. */
interface Posting {
  keys: number[];
  /** Every key at or above this one is in `keys`: -Infinity when the list is whole. */
  floor: number;
}

export interface SearchTuning {
  /** Row keys read first from each list (for tests: small windows exercise every path). */
  window?: number;
}

/**
 * The newest `limit` rows answering the query: every whole term and the prefix.
 *
 * Each word's newest row keys come from the index alone, a window at a time; the prefix is one
 * more list, the union of its completions'. Every key at or above the highest floor is known in
 * every list, so the intersection there is exact: when it holds `limit` rows, those are the
 * answer. Otherwise a list read whole gives the candidates, checked newest first against the
 * terms each row carries (no message is read); only when every list is longer than its window and
 * they seldom meet are the lists read whole and intersected, as before (issue 11).
 */
export async function searchDocs(
  db: PersonaDatabase,
  query: SearchQuery,
  limit: number,
  tuning: SearchTuning = {},
): Promise<SearchDoc[]> {
  const window = Math.max(1, tuning.window ?? POSTING_WINDOW);
  // Before the transaction: awaiting IndexedDB itself inside a Dexie transaction commits it.
  const completions = query.prefix === null ? [] : await completionsOf(db, query.prefix);
  if (query.prefix !== null && completions.length === 0) return [];
  return db.transaction('r', db.searchDocs, async () => {
    const [only] = query.terms;
    if (query.terms.length === 1 && only !== undefined && query.prefix === null) {
      // One word: its newest rows straight from the index. No count first: counting a common
      // word's rows walks all of them (a one-word search took 145 ms at 100,000 messages with it).
      return db.searchDocs.where('terms').equals(only).reverse().limit(limit).toArray();
    }
    const prefixOnly = query.terms.length === 0;
    const postings = await Promise.all([
      ...query.terms.map((term) => postingOf(db, [term], prefixOnly ? limit : window)),
      ...(query.prefix === null ? [] : [postingOf(db, completions, prefixOnly ? limit : window)]),
    ]);
    if (prefixOnly) {
      // Only a prefix: the newest `limit` of its completions' rows are the answer.
      return readDocs(db, postings[0]?.keys.slice(0, limit) ?? []);
    }
    if (postings.some((posting) => posting.keys.length === 0)) return [];

    const floor = Math.max(...postings.map((posting) => posting.floor));
    const known = intersect(postings.map((posting) => posting.keys.filter((key) => key >= floor)));
    if (floor === -Infinity || known.length >= limit) {
      return checked(db, known, query, limit);
    }
    const whole = postings
      .filter((posting) => posting.floor === -Infinity)
      .sort((a, b) => a.keys.length - b.keys.length)[0];
    if (whole) return checked(db, whole.keys, query, limit);
    // Every list is long and they seldom meet: read them whole.
    const all = await Promise.all([
      ...query.terms.map((term) => postingOf(db, [term], Infinity)),
      ...(query.prefix === null ? [] : [postingOf(db, completions, Infinity)]),
    ]);
    return checked(db, intersect(all.map((posting) => posting.keys)), query, limit);
  });
}

/** The newest `window` row keys of the terms' lists together, newest first. */
async function postingOf(
  db: PersonaDatabase,
  terms: readonly string[],
  window: number,
): Promise<Posting> {
  const lists = await Promise.all(
    terms.map((term) => {
      const rows = db.searchDocs.where('terms').equals(term).reverse();
      return (Number.isFinite(window) ? rows.limit(window) : rows).primaryKeys() as Promise<
        number[]
      >;
    }),
  );
  let floor = -Infinity;
  for (const keys of lists) {
    const oldest = keys.at(-1);
    if (keys.length >= window && oldest !== undefined) floor = Math.max(floor, oldest);
  }
  const keys = [...new Set(lists.flat())].filter((key) => key >= floor).sort((a, b) => b - a);
  return { keys, floor };
}

/** The keys in every list, newest first; the shortest list is walked. */
function intersect(lists: readonly number[][]): number[] {
  const [shortest, ...others] = [...lists].sort((a, b) => a.length - b.length);
  if (!shortest) return [];
  const sets = others.map((keys) => new Set(keys));
  return shortest.filter((key) => sets.every((set) => set.has(key))).sort((a, b) => b - a);
}

/** The newest `limit` rows among `keys` (newest first) that answer the query. */
async function checked(
  db: PersonaDatabase,
  keys: readonly number[],
  query: SearchQuery,
  limit: number,
): Promise<SearchDoc[]> {
  const found: SearchDoc[] = [];
  for (let at = 0; at < keys.length && found.length < limit; at += CHECK_BATCH) {
    for (const doc of await readDocs(db, keys.slice(at, at + CHECK_BATCH))) {
      if (found.length < limit && matchesTerms(doc.terms, query)) found.push(doc);
    }
  }
  return found;
}

async function readDocs(db: PersonaDatabase, keys: readonly number[]): Promise<SearchDoc[]> {
  const docs = await db.searchDocs.bulkGet([...keys]);
  return docs.filter((doc): doc is SearchDoc => doc !== undefined);
}

/**
 * The indexed words that start with `prefix`, the first `MAX_PREFIX_EXPANSIONS` in order. Each
 * step seeks past every row of the word found: a 'nextunique' cursor walks them all (104-154 ms
 * for "water", in 8,000 rows, at 100,000 messages). Its own read transaction, on the database
 * under Dexie: Dexie has no seek.
 */
function completionsOf(db: PersonaDatabase, prefix: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const index = db
      .backendDB()
      .transaction(TABLES.searchDocs, 'readonly')
      .objectStore(TABLES.searchDocs)
      .index('terms');
    const found: string[] = [];
    const request = index.openKeyCursor(IDBKeyRange.bound(prefix, `${prefix}\uffff`));
    request.onsuccess = () => {
      const cursor = request.result;
      if (!cursor || found.length >= MAX_PREFIX_EXPANSIONS) {
        resolve(found);
        return;
      }
      const term = cursor.key as string;
      found.push(term);
      // The smallest string after `term`: the next word.
      cursor.continue(`${term}\u0000`);
    };
    request.onerror = () => {
      reject(request.error ?? new Error('Reading the search index failed.'));
    };
  });
}

/** Whether messages stored without the index are still being indexed: results may miss them. */
export async function isBackfillDone(db: PersonaDatabase): Promise<boolean> {
  return (await db.searchProgress.get('backfill'))?.done === true;
}

/**
 * Indexes the next batch of messages that have no row yet (stored before schema version 3, or
 * imported), in one transaction with the progress, so a closed tab resumes where it stopped.
 * Titles go first, all at once (a conversation row is small). Returns whether it is done.
 */
export function backfillSearchIndex(
  db: PersonaDatabase,
  batch: number = BACKFILL_BATCH,
): Promise<boolean> {
  return db.transaction(
    'rw',
    [db.conversations, db.messages, db.searchDocs, db.searchProgress],
    async () => {
      const progress: SearchProgress = (await db.searchProgress.get('backfill')) ?? {
        key: 'backfill',
        titlesDone: false,
        afterMessageId: null,
        done: false,
      };
      if (progress.done) return true;
      if (!progress.titlesDone) {
        const conversations = await db.conversations.toArray();
        const indexed = await indexedRefs(
          db,
          conversations.map((c) => titleRef(c.id)),
        );
        for (const conversation of conversations) {
          if (!indexed.has(titleRef(conversation.id))) await indexTitle(db, conversation);
        }
        await db.searchProgress.put({ ...progress, titlesDone: true });
        return false;
      }
      const after = progress.afterMessageId;
      const messages = await (
        after === null ? db.messages.orderBy(':id') : db.messages.where(':id').above(after)
      )
        .limit(batch)
        .toArray();
      const indexed = await indexedRefs(
        db,
        messages.map((m) => messageRef(m.id)),
      );
      // One bulk write, not a delete and an add per message: these have no row yet.
      const docs: SearchDoc[] = [];
      for (const message of messages) {
        // A reply still streaming is indexed when it ends (or is found interrupted).
        if (message.status === 'streaming' || indexed.has(messageRef(message.id))) continue;
        const terms = termsOf(message.content);
        if (terms.length === 0) continue;
        docs.push({
          ref: messageRef(message.id),
          conversationId: message.conversationId,
          messageId: message.id,
          terms,
        });
      }
      await db.searchDocs.bulkAdd(docs);
      const done = messages.length < batch;
      await db.searchProgress.put({
        ...progress,
        afterMessageId: messages.at(-1)?.id ?? after,
        done,
      });
      return done;
    },
  );
}

async function indexedRefs(db: PersonaDatabase, refs: string[]): Promise<Set<string>> {
  if (refs.length === 0) return new Set();
  const keys = await db.searchDocs.where('ref').anyOf(refs).keys();
  return new Set(keys as string[]);
}

/** For tests and figures: the number of indexed texts. */
export function countSearchDocs(db: PersonaDatabase): Promise<number> {
  return db.searchDocs.count();
}
