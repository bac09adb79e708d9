/**
 * The learning benchmark's data set: simulated users, their conversations, and what is true about
 * them. The format is documented in docs/learning-benchmark.md; this file reads and checks it so a
 * mistake in a hand-written file is reported with its path instead of skewing the scores.
 *
 * Pure code (no DOM, no Node APIs): the benchmark's browser worker and the unit tests use it too.
 */
import { normalizeForSearch } from '../../../src/core/profile/normalize';
import type { OptimizerSession } from '../../../src/core/optimizer/transcript';
import { ownWordSegments } from '../../../src/core/optimizer/transcript';

export const DATASET_FORMAT = 'persona-learning-bench';
export const DATASET_VERSION = 1;

export type DatasetMessage = { user: string } | { assistant: string };

export interface Fact {
  section: string;
  /** The key a perfect optimizer uses; `keyAliases` and `keys` list the others that count. */
  key: string;
  /** Further keys that count for this fact only. */
  keys?: string[];
  /** The value a perfect optimizer writes. */
  value: string;
  /** A learned value is this fact when it contains one of these (normalised); default `[value]`. */
  match?: string[];
  /** Index of the conversation that states it. */
  conversation: number;
  /** The user's words that state it, verbatim from one of that conversation's user messages. */
  quote: string;
  /** Index of the conversation from which it is no longer true (it changed or was retracted). */
  until?: number;
  /** For a retraction: the user's words that end it (a perfect optimizer removes the field). */
  endQuote?: string;
}

export type DistractorKind =
  | 'assistant'
  | 'other-person'
  | 'hypothetical'
  | 'pasted'
  | 'quoted'
  | 'joke'
  | 'role-play'
  | 'nothing';

/** Something that must not be learned about the user. */
export interface Distractor {
  kind: DistractorKind;
  conversation: number;
  /** Learning a value that contains one of these counts (kind `nothing`: any change from it). */
  match?: string[];
  /** Only these keys count; absent: any key, since the value is false of the user wherever it sits. */
  keys?: string[];
  note?: string;
}

export interface BenchUser {
  id: string;
  /** BCP 47 tag of the language the user writes in. */
  language: string;
  conversations: DatasetMessage[][];
  facts: Fact[];
  distractors: Distractor[];
}

export interface LearningDataset {
  format: typeof DATASET_FORMAT;
  version: typeof DATASET_VERSION;
  description: string;
  /** Canonical key → other keys that name the same thing, for every user. */
  keyAliases: Record<string, string[]>;
  users: BenchUser[];
}

export class DatasetError extends Error {}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Every kind of distractor; the shipped set has at least one of each. */
export const DISTRACTOR_KINDS: readonly DistractorKind[] = [
  'assistant',
  'other-person',
  'hypothetical',
  'pasted',
  'quoted',
  'joke',
  'role-play',
  'nothing',
];

function fail(path: string, problem: string): never {
  throw new DatasetError(`${path}: ${problem}`);
}

function string(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.trim() === '') fail(path, 'must be a non-empty string');
  return value;
}

function strings(value: unknown, path: string): string[] {
  if (!Array.isArray(value) || value.length === 0)
    fail(path, 'must be a non-empty list of strings');
  return value.map((item, i) => string(item, `${path}[${i}]`));
}

function index(value: unknown, path: string, count: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value >= count) {
    fail(path, `must be a conversation index from 0 to ${count - 1}`);
  }
  return value;
}

/** Whether `quote` is in the user's own words of `conversation`, as the optimizer's check reads them. */
function quotedFromUser(conversation: readonly DatasetMessage[], quote: string): boolean {
  const needle = normalizeForSearch(quote);
  return conversation.some(
    (message) =>
      'user' in message &&
      ownWordSegments(message.user).some((segment) => normalizeForSearch(segment).includes(needle)),
  );
}

function readMessage(raw: unknown, path: string): DatasetMessage {
  if (!isObject(raw) || Object.keys(raw).length !== 1) {
    fail(path, 'must be {"user": text} or {"assistant": text}');
  }
  if ('user' in raw) return { user: string(raw.user, `${path}.user`) };
  if ('assistant' in raw) return { assistant: string(raw.assistant, `${path}.assistant`) };
  return fail(path, 'must be {"user": text} or {"assistant": text}');
}

function readFact(raw: unknown, path: string, conversations: DatasetMessage[][]): Fact {
  if (!isObject(raw)) fail(path, 'must be an object');
  const conversation = index(raw.conversation, `${path}.conversation`, conversations.length);
  const quote = string(raw.quote, `${path}.quote`);
  if (!quotedFromUser(conversations[conversation] ?? [], quote)) {
    fail(`${path}.quote`, `is not in the user's own words of conversation ${conversation}`);
  }
  const fact: Fact = {
    section: string(raw.section, `${path}.section`),
    key: string(raw.key, `${path}.key`),
    value: string(raw.value, `${path}.value`),
    conversation,
    quote,
  };
  if (raw.keys !== undefined) fact.keys = strings(raw.keys, `${path}.keys`);
  if (raw.match !== undefined) fact.match = strings(raw.match, `${path}.match`);
  if (raw.until !== undefined) {
    fact.until = index(raw.until, `${path}.until`, conversations.length);
    if (fact.until <= conversation)
      fail(`${path}.until`, 'must come after the stating conversation');
  }
  if (raw.endQuote !== undefined) {
    if (fact.until === undefined) fail(`${path}.endQuote`, 'needs "until"');
    const endQuote = string(raw.endQuote, `${path}.endQuote`);
    if (!quotedFromUser(conversations[fact.until] ?? [], endQuote)) {
      fail(`${path}.endQuote`, `is not in the user's own words of conversation ${fact.until}`);
    }
    fact.endQuote = endQuote;
  }
  return fact;
}

function readDistractor(raw: unknown, path: string, count: number): Distractor {
  if (!isObject(raw)) fail(path, 'must be an object');
  if (!DISTRACTOR_KINDS.includes(raw.kind as DistractorKind))
    fail(`${path}.kind`, `must be one of ${DISTRACTOR_KINDS.join(', ')}`);
  const distractor: Distractor = {
    kind: raw.kind as DistractorKind,
    conversation: index(raw.conversation, `${path}.conversation`, count),
  };
  if (raw.match !== undefined) distractor.match = strings(raw.match, `${path}.match`);
  else if (distractor.kind !== 'nothing')
    fail(`${path}.match`, 'is required unless kind is "nothing"');
  if (raw.keys !== undefined) distractor.keys = strings(raw.keys, `${path}.keys`);
  if (raw.note !== undefined) distractor.note = string(raw.note, `${path}.note`);
  return distractor;
}

function readUser(raw: unknown, path: string): BenchUser {
  if (!isObject(raw)) fail(path, 'must be an object');
  if (!Array.isArray(raw.conversations) || raw.conversations.length === 0) {
    fail(`${path}.conversations`, 'must be a non-empty list');
  }
  const conversations = raw.conversations.map((conversation: unknown, c: number) => {
    const at = `${path}.conversations[${c}]`;
    if (!Array.isArray(conversation) || conversation.length === 0)
      fail(at, 'must be a non-empty list of messages');
    const messages = conversation.map((message: unknown, m: number) =>
      readMessage(message, `${at}[${m}]`),
    );
    if (!messages.some((message) => 'user' in message)) fail(at, 'has no user message');
    return messages;
  });
  if (!Array.isArray(raw.facts)) fail(`${path}.facts`, 'must be a list (possibly empty)');
  if (!Array.isArray(raw.distractors))
    fail(`${path}.distractors`, 'must be a list (possibly empty)');
  return {
    id: string(raw.id, `${path}.id`),
    language: string(raw.language, `${path}.language`),
    conversations,
    facts: raw.facts.map((fact: unknown, i: number) =>
      readFact(fact, `${path}.facts[${i}]`, conversations),
    ),
    distractors: raw.distractors.map((d: unknown, i: number) =>
      readDistractor(d, `${path}.distractors[${i}]`, conversations.length),
    ),
  };
}

/** Reads a parsed JSON value as a data set, or throws a `DatasetError` naming the bad value. */
export function readDataset(raw: unknown): LearningDataset {
  if (!isObject(raw)) fail('$', 'must be an object');
  if (raw.format !== DATASET_FORMAT) fail('$.format', `must be "${DATASET_FORMAT}"`);
  if (raw.version !== DATASET_VERSION) fail('$.version', `must be ${DATASET_VERSION}`);
  if (!isObject(raw.keyAliases)) fail('$.keyAliases', 'must be an object of key → list of keys');
  const keyAliases: Record<string, string[]> = {};
  for (const [key, aliases] of Object.entries(raw.keyAliases)) {
    keyAliases[key] = strings(aliases, `$.keyAliases.${key}`);
  }
  if (!Array.isArray(raw.users) || raw.users.length === 0)
    fail('$.users', 'must be a non-empty list');
  const users = raw.users.map((user: unknown, i: number) => readUser(user, `$.users[${i}]`));
  const ids = new Set<string>();
  users.forEach((user, i) => {
    if (ids.has(user.id)) fail(`$.users[${i}].id`, `"${user.id}" is used twice`);
    ids.add(user.id);
  });
  return {
    format: DATASET_FORMAT,
    version: DATASET_VERSION,
    description: typeof raw.description === 'string' ? raw.description : '',
    keyAliases,
    users,
  };
}

/** Day one of every simulated user; conversations are a day apart, messages a minute apart. */
export const BENCH_T0 = Date.UTC(2026, 0, 5, 9);
const DAY = 86_400_000;
const MINUTE = 60_000;

const conversationId = (user: BenchUser, c: number): string => `${user.id}/c${c}`;

/** Conversation `c` of a user as the optimizer reads it. */
export function toSession(user: BenchUser, c: number): OptimizerSession {
  const messages = user.conversations[c] ?? [];
  return {
    conversationId: conversationId(user, c),
    messages: messages.map((message, m) => ({
      id: `${conversationId(user, c)}/m${m}`,
      role: 'user' in message ? 'user' : 'assistant',
      content: 'user' in message ? message.user : message.assistant,
      createdAt: BENCH_T0 + c * DAY + m * MINUTE,
    })),
  };
}

/** When update `u` runs: just after the last conversation it reads. */
export function conversationEnd(user: BenchUser, c: number): number {
  return BENCH_T0 + c * DAY + (user.conversations[c]?.length ?? 0) * MINUTE;
}

/** Conversation indexes of each optimizer run: every k conversations, and the rest at the end. */
export function updateBatches(conversations: number, k: number): number[][] {
  const batches: number[][] = [];
  for (let start = 0; start < conversations; start += k) {
    batches.push(Array.from({ length: Math.min(k, conversations - start) }, (_, i) => start + i));
  }
  return batches;
}
