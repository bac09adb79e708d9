/** Conversations: create, rename, list, delete (with their messages). */
import { Dexie } from 'dexie';
import type { PersonaDatabase } from './database';
import { removeEvidenceOfConversation } from './evidence';
import { removeConversationFromQueuedJobs } from './jobs';
import type { Conversation } from './records';
import { indexTitle, unindexConversation } from './search-index';
import { getSetting, setSetting } from './settings';
import { InvalidRequestError, withStorageErrors } from './storage-errors';

export const DEFAULT_CONVERSATION_TITLE = 'New chat';
export const MAX_TITLE_LENGTH = 120;
/** Automatic titles stay short enough for one line of the conversation list. */
export const AUTO_TITLE_LENGTH = 48;

/** Length in code points, so an emoji counts as one character and is never cut in half. */
const codePoints = (text: string): string[] => Array.from(text);

/**
 * Control characters and the invisible characters that reorder text (bidi embeddings, overrides
 * and isolates; the plain direction marks stay, right-to-left titles need them): in a title they
 * could hide or disguise what it says, e.g. make "gpj.exe" read "exe.jpg".
 */
// eslint-disable-next-line no-control-regex -- finding them is the point
const HIDDEN_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/gu;

/** A title on one line with single spaces, or an `InvalidRequestError` saying what is wrong. */
export function normalizeTitle(title: string): string {
  const normalized = title.replace(/\s+/g, ' ').trim();
  if (new RegExp(HIDDEN_CHARACTERS.source, 'u').test(normalized)) {
    throw new InvalidRequestError(
      'invalid-title',
      'A conversation title cannot hold control or text-direction characters.',
    );
  }
  if (normalized === '') {
    throw new InvalidRequestError('invalid-title', 'A conversation title cannot be empty.');
  }
  if (codePoints(normalized).length > MAX_TITLE_LENGTH) {
    throw new InvalidRequestError(
      'invalid-title',
      `A conversation title can be at most ${MAX_TITLE_LENGTH} characters long.`,
    );
  }
  return normalized;
}

/**
 * A title made from the first message: its words on one line, cut on a word boundary when
 * longer than `AUTO_TITLE_LENGTH` characters.
 */
export function titleFromMessage(content: string): string {
  const text = content.replace(/\s+/g, ' ').replace(HIDDEN_CHARACTERS, '').trim();
  const chars = codePoints(text);
  if (chars.length === 0) return DEFAULT_CONVERSATION_TITLE;
  if (chars.length <= AUTO_TITLE_LENGTH) return text;
  const head = chars.slice(0, AUTO_TITLE_LENGTH).join('');
  const lastSpace = head.lastIndexOf(' ');
  // A single long word (a URL, say) has no boundary to cut on; cut it where it reaches the limit.
  const cut = lastSpace > 0 && chars[AUTO_TITLE_LENGTH] !== ' ' ? head.slice(0, lastSpace) : head;
  return `${cut.trimEnd()}…`;
}

export interface NewConversation {
  title?: string;
  temporary?: boolean;
}

export async function createConversation(
  db: PersonaDatabase,
  options: NewConversation = {},
): Promise<Conversation> {
  const now = Date.now();
  const conversation: Conversation = {
    id: crypto.randomUUID(),
    title: options.title === undefined ? DEFAULT_CONVERSATION_TITLE : normalizeTitle(options.title),
    createdAt: now,
    updatedAt: now,
    temporary: options.temporary ?? false,
    learnedUntil: 0,
  };
  await withStorageErrors(() =>
    db.transaction('rw', [db.conversations, db.searchDocs], async () => {
      await db.conversations.add(conversation);
      await indexTitle(db, conversation);
    }),
  );
  return conversation;
}

export function getConversation(
  db: PersonaDatabase,
  id: string,
): Promise<Conversation | undefined> {
  return db.conversations.get(id);
}

/** The conversations with `ids`, in their order; `undefined` where one no longer exists. */
export function getConversations(
  db: PersonaDatabase,
  ids: readonly string[],
): Promise<(Conversation | undefined)[]> {
  return db.conversations.bulkGet([...ids]);
}

/** The conversations active after `time` (by `updatedAt`), from the index: never all of them. */
export function listConversationsActiveAfter(
  db: PersonaDatabase,
  time: number,
): Promise<Conversation[]> {
  return db.conversations.where('updatedAt').above(time).toArray();
}

/**
 * The `limit` conversations with the newest activity, newest first, and how many there are: the
 * list reads what it shows, never every conversation (issue 11). Safe to call inside `liveQuery`.
 */
export async function listNewestConversations(
  db: PersonaDatabase,
  limit: number,
): Promise<{ rows: Conversation[]; total: number }> {
  const [rows, total] = await Promise.all([
    db.conversations.orderBy('updatedAt').reverse().limit(limit).toArray(),
    db.conversations.count(),
  ]);
  return { rows, total };
}

/** Renames without moving the conversation in the list. Returns the stored title. */
export async function renameConversation(
  db: PersonaDatabase,
  id: string,
  title: string,
): Promise<string> {
  const normalized = normalizeTitle(title);
  const updated = await withStorageErrors(() =>
    db.transaction('rw', [db.conversations, db.searchDocs], async () => {
      const changed = await db.conversations.update(id, { title: normalized });
      if (changed > 0) await indexTitle(db, { id, title: normalized });
      return changed;
    }),
  );
  if (updated === 0) throw conversationNotFound();
  return normalized;
}

/**
 * Deletes a conversation, all its messages, the pointer to it as the active conversation, its
 * quotes in the profile, revisions and proposals, and its place in queued learning jobs, in one
 * transaction so no orphaned message, dangling pointer or quote of a deleted message is ever
 * visible. Profile values learned from it stay: ask `fieldsLearnedOnlyFrom` first to offer
 * removing them too.
 */
export async function deleteConversation(db: PersonaDatabase, id: string): Promise<void> {
  await withStorageErrors(() =>
    db.transaction(
      'rw',
      [
        db.conversations,
        db.messages,
        db.settings,
        db.profile,
        db.revisions,
        db.proposals,
        db.jobs,
        db.searchDocs,
        db.messageTallies,
      ],
      async () => {
        await db.messages
          .where('[conversationId+createdAt]')
          .between([id, Dexie.minKey], [id, Dexie.maxKey], true, true)
          .delete();
        await db.conversations.delete(id);
        await db.messageTallies.delete(id);
        await unindexConversation(db, id);
        if ((await getSetting(db, 'activeConversationId')) === id) {
          await setSetting(db, 'activeConversationId', null);
        }
        await removeEvidenceOfConversation(db, id);
        await removeConversationFromQueuedJobs(db, id);
      },
    ),
  );
}

export function conversationNotFound(): InvalidRequestError {
  return new InvalidRequestError(
    'conversation-not-found',
    'This conversation no longer exists. It may have been deleted in another tab.',
  );
}
