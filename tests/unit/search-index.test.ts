/**
 * The search index kept with the data: written with each message, replaced when a reply is
 * regenerated, gone with its conversation, empty after an erase, rebuilt after an import; and the
 * query over it (AND, prefix, newest first, limit), as the worker answers it.
 */
import 'fake-indexeddb/auto';
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  backfillSearchIndex,
  countSearchDocs,
  createConversation,
  deleteConversation,
  exportBackupParts,
  finishReply,
  importBackupFile,
  isBackfillDone,
  markInterruptedReplies,
  prepareRegenerate,
  renameConversation,
  searchDocs,
  saveReplyProgress,
  sendUserMessage,
  wipeDatabase,
  type PersonaDatabase,
} from '../../src/db';
import { ConversationSearch } from '../../src/worker/conversation-search';
import type { SearchHit } from '../../src/worker/contract';
import { matchesTerms, type SearchQuery } from '../../src/core/search/query';
import { markedParts, type Marked } from '../../src/core/search/snippet';
import { freshDatabase } from './factories';

let db: PersonaDatabase;
let search: ConversationSearch;

beforeEach(() => {
  db = freshDatabase();
  search = new ConversationSearch(db);
});

/** A conversation with the user's messages, each answered with `reply`. */
async function chat(title: string, turns: string[], reply = 'Noted.'): Promise<string> {
  const conversation = await createConversation(db, { title });
  for (const text of turns) {
    const sent = await sendUserMessage(db, conversation.id, text);
    await finishReply(db, sent.assistantMessageId, { status: 'complete', content: reply });
  }
  return conversation.id;
}

const marked = (text: Marked | null): string[] =>
  text ? markedParts(text).flatMap((part) => (part.marked ? [part.text] : [])) : [];

const snippets = (hits: SearchHit[]): string[] => hits.map((hit) => hit.snippet?.text ?? '');

async function find(text: string, limit?: number): Promise<SearchHit[]> {
  return (await search.query(text, limit)).hits;
}

describe('the index kept with the data', () => {
  it('indexes a message as it is sent and the reply once it has ended', async () => {
    const id = await chat('Plans', []);
    const sent = await sendUserMessage(db, id, 'Where should I eat in Lisbon?');
    expect(snippets(await find('lisbon'))).toEqual(['Where should I eat in Lisbon?']);

    // Saved while it streams, but searchable only once it has ended.
    await saveReplyProgress(db, sent.assistantMessageId, 'Try the pastéis');
    expect(await find('pasteis')).toEqual([]);
    await finishReply(db, sent.assistantMessageId, {
      status: 'complete',
      content: 'Try the pastéis de nata in Belém.',
    });
    const [hit] = await find('pasteis belem');
    expect(hit).toMatchObject({
      conversationId: id,
      messageId: sent.assistantMessageId,
      role: 'assistant',
    });
    expect(marked(hit?.snippet ?? null)).toEqual(['pastéis', 'Belém']);
  });

  it('replaces a reply that is regenerated, and indexes one found interrupted', async () => {
    const id = await chat('Food', ['Any dessert ideas?'], 'A chocolate mousse.');
    expect(await find('mousse')).toHaveLength(1);
    const replyId = await prepareRegenerate(db, id);
    expect(await find('mousse')).toEqual([]);
    await saveReplyProgress(db, replyId, 'A lemon tart, if');
    // Its tab closed mid-reply: the text kept is final, so it becomes searchable.
    await markInterruptedReplies(db, () => false);
    expect((await find('lemon tart')).map((hit) => hit.messageId)).toEqual([replyId]);
  });

  it('follows titles: named after the first message, renamed', async () => {
    const conversation = await createConversation(db);
    await sendUserMessage(db, conversation.id, 'Kayak rental near the fjord');
    const byTitle = (await find('fjord')).filter((hit) => hit.messageId === null);
    expect(byTitle.map((hit) => marked(hit.title))).toEqual([['fjord']]);

    await renameConversation(db, conversation.id, 'Norway summer');
    expect((await find('norway')).map((hit) => hit.conversationId)).toEqual([conversation.id]);
    expect((await find('fjord')).filter((hit) => hit.messageId === null)).toEqual([]);
  });

  it('forgets a deleted conversation, and everything after an erase', async () => {
    const gone = await chat('Secret', ['The password hint is aardvark']);
    const kept = await chat('Other', ['An aardvark documentary']);
    await deleteConversation(db, gone);
    expect((await find('aardvark')).map((hit) => hit.conversationId)).toEqual([kept]);

    await wipeDatabase(db);
    expect(await countSearchDocs(db)).toBe(0);
    expect(await find('aardvark')).toEqual([]);
  });

  it('is not in a backup, and is rebuilt after an import', async () => {
    const id = await chat('Garden', ['My tomatoes need more sun'], 'Move them south.');
    const text = await new Blob(await exportBackupParts(db, Date.now())).text();
    expect(text).not.toContain('searchDocs');
    expect(text).not.toContain('searchProgress');
    await importBackupFile(db, new Blob([text]));
    // The import's transaction writes only the rows; the index follows in the background.
    expect(await isBackfillDone(db)).toBe(false);
    while (!(await backfillSearchIndex(db))) {
      /* next batch */
    }
    expect(await countSearchDocs(db)).toBe(3);
    const hits = await find('tomatoes');
    expect(hits.map((hit) => hit.conversationId)).toEqual([id]);
  });

  it('starts indexing what it is missing when searched, and says so', async () => {
    const id = await chat('Old', ['Remember the walrus']);
    // As after an import: the rows are there, the index is not.
    await db.transaction('rw', [db.searchDocs, db.searchProgress], async () => {
      await db.searchDocs.clear();
      await db.searchProgress.clear();
    });
    const first = await search.query('walrus');
    expect(first.indexing).toBe(true);
    await expect
      .poll(async () => (await search.query('walrus')).hits.map((hit) => hit.conversationId))
      .toEqual([id]);
    expect((await search.query('walrus')).indexing).toBe(false);
  });
});

describe('the query', () => {
  it('finds only messages with every word (AND)', async () => {
    await chat('A', ['red apples and green pears']);
    await chat('B', ['red cars']);
    await chat('C', ['green apples']);
    expect(snippets(await find('apples red'))).toEqual(['red apples and green pears']);
    expect(snippets(await find('green apples ')).sort()).toEqual([
      'green apples',
      'red apples and green pears',
    ]);
    expect(await find('red bananas')).toEqual([]);
  });

  it('matches the last word as a prefix while it is typed', async () => {
    await chat('Travel', ['Berlin in winter', 'Bern by train', 'Bergen rain']);
    expect(snippets(await find('ber')).sort()).toEqual([
      'Bergen rain',
      'Berlin in winter',
      'Bern by train',
    ]);
    expect(snippets(await find('in berl'))).toEqual(['Berlin in winter']);
    expect(await find('berl ')).toEqual([]);
  });

  it('finds CJK words in any position, and diacritics either way', async () => {
    await chat('旅行', ['我下个月去北京出差', 'Ich wohne in Köln']);
    expect(snippets(await find('北京'))).toEqual(['我下个月去北京出差']);
    expect(snippets(await find('北'))).toEqual(['我下个月去北京出差']);
    expect(snippets(await find('koln'))).toEqual(['Ich wohne in Köln']);
    expect(snippets(await find('KÖLN'))).toEqual(['Ich wohne in Köln']);
    expect((await find('旅行')).map((hit) => hit.messageId)).toEqual([null]);
  });

  it('ranks newest first and stops at the limit', async () => {
    await chat('Old', ['weather talk one']);
    await chat('Middle', ['weather talk two']);
    const newest = await chat('New', ['weather talk three']);
    const hits = await find('weather', 2);
    expect(snippets(hits)).toEqual(['weather talk three', 'weather talk two']);
    expect(hits[0]?.conversationId).toBe(newest);
    expect(hits[0]?.at).toBeGreaterThan(0);
    // A prefix over several words ranks across them, newest first too.
    expect(snippets(await find('wea', 3))).toEqual([
      'weather talk three',
      'weather talk two',
      'weather talk one',
    ]);
  });

  it('answers an empty or wordless query with nothing', async () => {
    await chat('Any', ['words']);
    expect(await find('')).toEqual([]);
    expect(await find(' ?! ')).toEqual([]);
  });
});

describe('the query over long word lists (issue 11)', () => {
  const VOCABULARY = ['sea', 'seal', 'season', 'sun', 'sunny', 'rain', 'rainy', 'wind'];
  const term = fc.constantFrom(...VOCABULARY);
  const query: fc.Arbitrary<SearchQuery> = fc.record({
    terms: fc.uniqueArray(term, { maxLength: 3 }),
    prefix: fc.option(fc.constantFrom('se', 'sea', 'su', 'ra', 'wi', 'x'), { nil: null }),
  });

  it('answers exactly as reading every row would, whatever the windows of keys read first', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uniqueArray(term, { minLength: 1, maxLength: 5 }), { maxLength: 60 }),
        fc.array(query, { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 12 }),
        async (rows, queries, window, limit) => {
          const fresh = freshDatabase();
          await fresh.searchDocs.bulkAdd(
            rows.map((terms, i) => ({
              ref: `m:${i}`,
              conversationId: 'c',
              messageId: `${i}`,
              terms,
            })),
          );
          const all = (await fresh.searchDocs.toArray()).reverse();
          for (const q of queries) {
            if (q.terms.length === 0 && q.prefix === null) continue;
            const expected = all.filter((doc) => matchesTerms(doc.terms, q)).slice(0, limit);
            const found = await searchDocs(fresh, q, limit, { window });
            expect(found.map((doc) => doc.seq)).toEqual(expected.map((doc) => doc.seq));
          }
          fresh.close();
        },
      ),
      { numRuns: 1000 },
    );
    // About 5 s alone on a 2-core machine, more beside the other test files.
  }, 60_000);
});
