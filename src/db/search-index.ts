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
import type { PersonaDatabase } from './database';
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

/** Rows read at a time while checking candidates for the prefix. */
const CHECK_BATCH = 200;

/**
 * The newest `limit` rows answering the query: every whole term and the prefix.
 *
 * Whole terms: the row keys of each term come from the index alone, in one `getAllKeys` each,
 * and are intersected here, shortest list first, with the prefix as one more list (the union of
 * its first completions' keys); only the survivors are read, newest first (and checked again from
 * the terms they carry, so no message is read). Reading a common
 * term's keys costs a few milliseconds per 10,000 rows; scanning its rows with a filter cost far
 * more when two common words seldom meet. Only a prefix: each completion's newest keys are merged.
 */
export function searchDocs(
  db: PersonaDatabase,
  query: SearchQuery,
  limit: number,
): Promise<SearchDoc[]> {
  return db.transaction('r', db.searchDocs, async () => {
    const [only] = query.terms;
    if (query.terms.length === 1 && only !== undefined && query.prefix === null) {
      // One word: its newest rows straight from the index. No count first: counting a common
      // word's rows walks all of them (a one-word search took 145 ms at 100,000 messages with it).
      return db.searchDocs.where('terms').equals(only).reverse().limit(limit).toArray();
    }
    const keysOf = (term: string) =>
      db.searchDocs.where('terms').equals(term).primaryKeys() as Promise<number[]>;
    if (query.terms.length > 0) {
      const postings = await Promise.all(query.terms.map(keysOf));
      if (query.prefix !== null) {
        // The prefix as one more list, the union of its completions' keys: checking it row by
        // row read every row of the other words (663 ms for "water evening", its last word a
        // prefix, at 100,000 messages).
        const completions = await completionsOf(db, query.prefix);
        const lists = await Promise.all(completions.map(keysOf));
        postings.push([...new Set(lists.flat())]);
      }
      postings.sort((a, b) => a.length - b.length);
      let candidates = postings[0] ?? [];
      for (const keys of postings.slice(1)) {
        if (candidates.length === 0) break;
        const found = new Set(keys);
        candidates = candidates.filter((key) => found.has(key));
      }
      const newestFirst = candidates.sort((a, b) => b - a);
      const found: SearchDoc[] = [];
      for (let at = 0; at < newestFirst.length && found.length < limit; at += CHECK_BATCH) {
        const docs = await db.searchDocs.bulkGet(newestFirst.slice(at, at + CHECK_BATCH));
        for (const doc of docs) {
          if (doc && found.length < limit && matchesTerms(doc.terms, query)) found.push(doc);
        }
      }
      return found;
    }
    const { prefix } = query;
    if (prefix === null) return [];
    const completions = await completionsOf(db, prefix);
    const newest = await Promise.all(
      completions.map(
        (term) =>
          db.searchDocs.where('terms').equals(term).reverse().limit(limit).primaryKeys() as Promise<
            number[]
          >,
      ),
    );
    const seqs = [...new Set(newest.flat())].sort((a, b) => b - a).slice(0, limit);
    const docs = await db.searchDocs.bulkGet(seqs);
    return docs.filter((doc): doc is SearchDoc => doc !== undefined);
  });
}

/** The indexed words that start with `prefix`, the first `MAX_PREFIX_EXPANSIONS` in order. */
async function completionsOf(db: PersonaDatabase, prefix: string): Promise<string[]> {
  return (await db.searchDocs
    .where('terms')
    .between(prefix, prefix + '\uffff', true, true)
    .limit(MAX_PREFIX_EXPANSIONS)
    .uniqueKeys()) as string[];
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
