/**
 * Messages of a conversation: the user's turns and the assistant's replies, which are stored
 * while they stream so a closed tab or a crash keeps what was generated.
 */
import { Dexie } from 'dexie';
import { AppError } from '../core/errors';
import {
  conversationNotFound,
  DEFAULT_CONVERSATION_TITLE,
  titleFromMessage,
} from './conversations';
import type { PersonaDatabase } from './database';
import type { Conversation, Message, MessageStatus, ReplyStats, StoredError } from './records';
import { indexMessage, indexTitle, unindexMessage } from './search-index';
import { InvalidRequestError, withStorageErrors } from './storage-errors';

/** Messages of one conversation, oldest first. Safe to call inside `liveQuery`. */
export function listMessages(db: PersonaDatabase, conversationId: string): Promise<Message[]> {
  return inConversation(db, conversationId).toArray();
}

/**
 * Messages of one conversation created after `after` (exclusive), oldest first: what the
 * optimizer has not learned yet when `after` is the conversation's `learnedUntil`.
 */
export function listMessagesSince(
  db: PersonaDatabase,
  conversationId: string,
  after: number,
): Promise<Message[]> {
  return db.messages
    .where('[conversationId+createdAt]')
    .between([conversationId, after], [conversationId, Dexie.maxKey], false, true)
    .toArray();
}

/**
 * A stretch of one conversation, oldest first: the messages created from `from` to `to`
 * (both inclusive; `to: null` runs to the newest). What a page shows: it never reads the rest
 * of a long conversation, and inside `liveQuery` a write outside the range does not re-run it.
 */
export function listMessagesInRange(
  db: PersonaDatabase,
  conversationId: string,
  from: number,
  to: number | null,
): Promise<Message[]> {
  return db.messages
    .where('[conversationId+createdAt]')
    .between([conversationId, from], [conversationId, to ?? Dexie.maxKey], true, true)
    .toArray();
}

/** The newest `limit` messages of a conversation, oldest first. */
export async function listNewestMessages(
  db: PersonaDatabase,
  conversationId: string,
  limit: number,
): Promise<Message[]> {
  const newestFirst = await inConversation(db, conversationId).reverse().limit(limit).toArray();
  return newestFirst.reverse();
}

/** Up to `limit` messages created before `createdAt` (exclusive), the nearest ones, oldest first. */
export async function listMessagesBefore(
  db: PersonaDatabase,
  conversationId: string,
  createdAt: number,
  limit: number,
): Promise<Message[]> {
  const newestFirst = await db.messages
    .where('[conversationId+createdAt]')
    .between([conversationId, Dexie.minKey], [conversationId, createdAt], true, false)
    .reverse()
    .limit(limit)
    .toArray();
  return newestFirst.reverse();
}

/** Up to `limit` messages created after `createdAt` (exclusive), the nearest ones, oldest first. */
export function listMessagesAfter(
  db: PersonaDatabase,
  conversationId: string,
  createdAt: number,
  limit: number,
): Promise<Message[]> {
  return db.messages
    .where('[conversationId+createdAt]')
    .between([conversationId, createdAt], [conversationId, Dexie.maxKey], false, true)
    .limit(limit)
    .toArray();
}

/** How many messages of a conversation were created before `createdAt` (exclusive). */
export function countMessagesBefore(
  db: PersonaDatabase,
  conversationId: string,
  createdAt: number,
): Promise<number> {
  return db.messages
    .where('[conversationId+createdAt]')
    .between([conversationId, Dexie.minKey], [conversationId, createdAt], true, false)
    .count();
}

export interface ConversationTail {
  /** The conversation the message belongs to. */
  conversationId: string;
  /** The newest messages before the one asked about, oldest first. */
  messages: Message[];
  /** How many older messages were not read. */
  olderCount: number;
}

/**
 * The messages before `messageId`, read from the newest backwards until their text passes
 * `maxChars`: what a prompt can hold, without reading a long conversation whole. The message
 * that passes the limit is included, so the caller sees where the budget ran out. Only the text
 * of messages `counts` accepts adds to the total (a failed reply takes no room in a prompt).
 * Returns null when the message does not exist.
 */
export async function readConversationTail(
  db: PersonaDatabase,
  messageId: string,
  maxChars: number,
  counts: (message: Message) => boolean = () => true,
): Promise<ConversationTail | null> {
  return db.transaction('r', db.messages, async () => {
    const message = await db.messages.get(messageId);
    if (!message) return null;
    const { conversationId, createdAt } = message;
    let chars = 0;
    const newestFirst = await db.messages
      .where('[conversationId+createdAt]')
      .between([conversationId, Dexie.minKey], [conversationId, createdAt], true, false)
      .reverse()
      .until((older) => {
        const full = chars > maxChars;
        if (counts(older)) chars += older.content.length;
        return full;
      }, false)
      .toArray();
    const oldest = newestFirst.at(-1);
    const olderCount = oldest ? await countMessagesBefore(db, conversationId, oldest.createdAt) : 0;
    return { conversationId, messages: newestFirst.reverse(), olderCount };
  });
}

export function getMessage(db: PersonaDatabase, id: string): Promise<Message | undefined> {
  return db.messages.get(id);
}

export interface SentMessage {
  userMessageId: string;
  /** The empty reply, status `streaming`, for the assistant to write into. */
  assistantMessageId: string;
}

/**
 * Stores the user's message and the empty reply the assistant will fill, bumps the
 * conversation, and names it after its first message, all in one transaction: either the turn
 * exists whole or not at all.
 */
export async function sendUserMessage(
  db: PersonaDatabase,
  conversationId: string,
  content: string,
): Promise<SentMessage> {
  if (content.trim() === '') {
    throw new InvalidRequestError('empty-message', 'A message cannot be empty.');
  }
  return withStorageErrors(() =>
    db.transaction(
      'rw',
      [db.conversations, db.messages, db.searchDocs, db.messageTallies],
      async () => {
        const conversation = await db.conversations.get(conversationId);
        if (!conversation) throw conversationNotFound();
        const last = await inConversation(db, conversationId).last();
        if (last?.status === 'streaming') throw replyInProgress();
        const now = Date.now();
        // Messages sort by createdAt; two in the same millisecond (or a clock set back) would
        // otherwise fall back to the order of their random ids.
        const userAt = last ? Math.max(now, last.createdAt + 1) : now;
        const user: Message = {
          id: crypto.randomUUID(),
          conversationId,
          role: 'user',
          content,
          createdAt: userAt,
          status: 'complete',
        };
        const assistant: Message = {
          id: crypto.randomUUID(),
          conversationId,
          role: 'assistant',
          content: '',
          createdAt: userAt + 1,
          status: 'streaming',
        };
        await db.messages.bulkAdd([user, assistant]);
        // Only a tally that exists is kept: a missing one is counted whole when needed.
        await db.messageTallies
          .where('conversationId')
          .equals(conversationId)
          .modify((tally) => {
            tally.messages += 2;
          });
        const changes: Partial<Conversation> = { updatedAt: now };
        // Only a conversation's first message names it, so a title the user chose is never
        // replaced, even one that happens to read "New chat".
        if (!last && conversation.title === DEFAULT_CONVERSATION_TITLE) {
          changes.title = titleFromMessage(content);
        }
        await db.conversations.update(conversationId, changes);
        // The empty reply is indexed when it ends: not at each save while it streams.
        await indexMessage(db, user);
        if (changes.title !== undefined)
          await indexTitle(db, { id: conversationId, title: changes.title });
        return { userMessageId: user.id, assistantMessageId: assistant.id };
      },
    ),
  );
}

/**
 * Overwrites the text of a reply that is still streaming. Writes nothing when the reply is gone
 * (its conversation was deleted) or no longer streaming, so a late write can never undo a
 * finished reply.
 */
export async function saveReplyProgress(
  db: PersonaDatabase,
  messageId: string,
  content: string,
): Promise<void> {
  await withStorageErrors(() =>
    db.messages
      .where('id')
      .equals(messageId)
      .and((message) => message.status === 'streaming')
      .modify({ content }),
  );
}

export interface ReplyEnding {
  status: Exclude<MessageStatus, 'streaming'>;
  /** The final text; when left out, the text saved so far stays. */
  content?: string;
  error?: StoredError;
  stats?: ReplyStats;
  droppedTurns?: number;
  cutOff?: boolean;
  modelId?: string;
}

/**
 * Records how a reply ended. The outcome fields (`error`, `stats`, `droppedTurns`, `cutOff`,
 * `modelId`) are replaced as a whole: one left out is removed, so nothing from an earlier attempt
 * lingers.
 * Returns false when the reply no longer exists (its conversation was deleted meanwhile).
 */
export async function finishReply(
  db: PersonaDatabase,
  messageId: string,
  ending: ReplyEnding,
): Promise<boolean> {
  return withStorageErrors(() =>
    db.transaction('rw', [db.messages, db.searchDocs], async () => {
      const message = await db.messages.get(messageId);
      if (!message) return false;
      if (message.role !== 'assistant') {
        throw new InvalidRequestError('not-a-reply', 'Only an assistant reply can be finished.');
      }
      const { error, stats } = ending;
      await db.messages.update(messageId, {
        status: ending.status,
        ...(ending.content === undefined ? {} : { content: ending.content }),
        // Only the fields we know: a serialized error may carry more (its name, say).
        error: error && { code: error.code, message: error.message },
        stats: stats && {
          promptTokens: stats.promptTokens,
          completionTokens: stats.completionTokens,
          tokensPerSecond: stats.tokensPerSecond,
        },
        droppedTurns: ending.droppedTurns,
        cutOff: ending.cutOff,
        modelId: ending.modelId,
      });
      await indexMessage(db, { ...message, content: ending.content ?? message.content });
      return true;
    }),
  );
}

/**
 * Empties the conversation's last reply so it can be generated again, and returns its id.
 * Rejects when the conversation does not end with a finished reply.
 */
export async function prepareRegenerate(
  db: PersonaDatabase,
  conversationId: string,
): Promise<string> {
  return withStorageErrors(() =>
    db.transaction('rw', [db.conversations, db.messages, db.searchDocs], async () => {
      const conversation = await db.conversations.get(conversationId);
      if (!conversation) throw conversationNotFound();
      const last = await inConversation(db, conversationId).last();
      if (last?.role !== 'assistant') {
        throw new InvalidRequestError(
          'nothing-to-regenerate',
          'There is no reply to regenerate: the conversation does not end with one.',
        );
      }
      if (last.status === 'streaming') throw replyInProgress();
      await db.messages.update(last.id, {
        content: '',
        status: 'streaming',
        error: undefined,
        stats: undefined,
        droppedTurns: undefined,
        cutOff: undefined,
        modelId: undefined,
      });
      await unindexMessage(db, last.id);
      await db.conversations.update(conversationId, { updatedAt: Date.now() });
      return last.id;
    }),
  );
}

/**
 * Marks every reply left `streaming` by a generator that is gone (a closed tab, a crashed
 * worker) as `incomplete`, keeping its text. `isStillGenerating` tells live ones apart; the app
 * asks Web Locks, which the generating worker holds for the reply. Returns the ids it marked.
 */
export async function markInterruptedReplies(
  db: PersonaDatabase,
  isStillGenerating: (messageId: string) => boolean | Promise<boolean>,
): Promise<string[]> {
  const streaming = await db.messages.where('status').equals('streaming').primaryKeys();
  // Asked outside any transaction: IndexedDB transactions close while awaiting other work.
  const alive = await Promise.all(streaming.map(async (id) => isStillGenerating(id)));
  const gone = streaming.filter((_, index) => alive[index] !== true);
  if (gone.length === 0) return [];
  return withStorageErrors(() =>
    db.transaction('rw', [db.messages, db.searchDocs], async () => {
      // Re-read: a reply may have finished while the predicate was being asked.
      const stillStreaming = (await db.messages.bulkGet(gone)).filter(
        (message): message is Message => message?.status === 'streaming',
      );
      const ids = stillStreaming.map((message) => message.id);
      await db.messages
        .where('id')
        .anyOf(ids)
        .modify({ status: 'incomplete' satisfies MessageStatus });
      // Their text is final now: no writer is left to end them.
      for (const message of stillStreaming) await indexMessage(db, message);
      return ids;
    }),
  );
}

/** One conversation's messages, oldest first, by the `[conversationId+createdAt]` index. */
export function inConversation(db: PersonaDatabase, conversationId: string) {
  return db.messages
    .where('[conversationId+createdAt]')
    .between([conversationId, Dexie.minKey], [conversationId, Dexie.maxKey], true, true);
}

function replyInProgress(): AppError {
  return new AppError('busy', 'A reply is still being written. Stop it first.');
}
