import {
  homeSectionOf,
  MAX_KEY_LENGTH,
  MAX_QUOTE_LENGTH,
  MAX_SECTION_NAME_LENGTH,
  MAX_VALUE_LENGTH,
} from '../profile/defaults';
import { jsonDepth } from '../profile/import-export';
import { cleanText, normalizeForSearch, sameName, sameValue } from '../profile/normalize';
import type {
  Evidence,
  Profile,
  ProfileChange,
  RejectedChange,
  RejectionReason,
} from '../profile/types';
import { isPlainObject, ownValue } from '../profile/validate';
import { userStatements, valueGrounded } from './grounding';
import { MAX_CHANGES_PER_RUN } from './schema';
import { ownWordSegments, type OptimizerSession } from './transcript';
import type { Result } from '../result';

/**
 * Reads the optimizer's raw output. Model output is untrusted: it may be cut off mid-object,
 * wrapped in prose or a code fence, shaped wrongly, or steered by text the user pasted. This file
 * checks shape (strictly, against schema.ts) and grounds every change's evidence in a USER
 * message, resolving it to the message it came from. Profile rules (sections, locks, user-set
 * fields, unchanged values, limits of the dictionary) belong to `applyChanges`, which the caller
 * runs next with actor `optimizer`; they are not repeated here.
 *
 * Evidence is found after normalising whitespace, quote and apostrophe forms and case. A quote
 * must come from the user's own words (see transcript.ts: code blocks and `>` quotes are pasted
 * text); one found only in pasted text or assistant messages is `evidence-not-from-user`. Within
 * the user's words it must lie inside one statement (grounding.ts: not a question or a
 * hypothetical), else `evidence-not-a-statement`; and a value must say something its quote says,
 * else `value-not-in-evidence`. A quote shorter than MIN_QUOTE_CHARS grounds nothing ("I" occurs
 * everywhere) and counts as not found.
 */

/** Eight changes of a few hundred characters each fit easily; more is not an answer. */
export const MAX_OUTPUT_CHARS = 32_000;
/** Deeper than the schema's three levels means garbage; bounding it keeps later logging safe. */
const MAX_OUTPUT_DEPTH = 8;
export const MIN_QUOTE_CHARS = 3;

const CHANGE_KEYS = ['op', 'section', 'key', 'value', 'evidence'] as const;

export interface ParseContext {
  /** Only its section names are read here (to file a suggested key in its own section). */
  profile: Profile;
  sessions: readonly OptimizerSession[];
}

export type OptimizerParseResult = Result<{ changes: ProfileChange[]; rejected: RejectedChange[] }>;

/** Removes a surrounding Markdown code fence (```json … ```), which chat models add by habit. */
export function stripJsonFence(text: string): string {
  const trimmed = text.trim();
  const match = /^```[a-zA-Z0-9_-]*[ \t]*\r?\n([\s\S]*?)\r?\n?```$/u.exec(trimmed);
  return match?.[1] === undefined ? trimmed : match[1].trim();
}

interface SearchableMessage {
  conversationId: string;
  messageId: string;
  /** The user's statements (grounding.ts), normalised; empty for the assistant. */
  statements: string[];
  own: string[];
  full: string;
  fromUser: boolean;
}

function searchable(sessions: readonly OptimizerSession[]): SearchableMessage[] {
  return sessions.flatMap((session) =>
    session.messages.map((message) => ({
      conversationId: session.conversationId,
      messageId: message.id,
      statements:
        message.role === 'user' ? userStatements(message.content).map(normalizeForSearch) : [],
      own: message.role === 'user' ? ownWordSegments(message.content).map(normalizeForSearch) : [],
      full: normalizeForSearch(message.content),
      fromUser: message.role === 'user',
    })),
  );
}

/** Models wrap quotes in quote marks or ellipses to show they are excerpts; those are not words. */
function unwrapQuote(quote: string): string {
  let text = cleanText(quote);
  for (;;) {
    const next = text
      .replace(/^(?:\.\.\.|…)\s*/u, '')
      .replace(/\s*(?:\.\.\.|…)$/u, '')
      .replace(/^["'“”‘’«»](.*)["'“”‘’«»]$/u, '$1')
      .trim();
    if (next === text) return text;
    text = next;
  }
}

type EvidenceLookup = { evidence: Evidence } | { reason: RejectionReason; detail: string };

function findEvidence(quote: string, messages: readonly SearchableMessage[]): EvidenceLookup {
  const unwrapped = unwrapQuote(quote);
  const needle = normalizeForSearch(unwrapped);
  if (needle.length < MIN_QUOTE_CHARS) {
    return { reason: 'evidence-not-found', detail: 'the quote is too short to ground a fact' };
  }
  let inPasted = false;
  let inAssistant = false;
  let inQuestion = false;
  for (const message of messages) {
    if (message.statements.some((statement) => statement.includes(needle))) {
      return {
        evidence: {
          conversationId: message.conversationId,
          messageId: message.messageId,
          quote: unwrapped,
        },
      };
    }
    if (message.own.some((segment) => segment.includes(needle))) {
      inQuestion = true;
    } else if (message.full.includes(needle)) {
      if (message.fromUser) inPasted = true;
      else inAssistant = true;
    }
  }
  if (inQuestion) {
    return {
      reason: 'evidence-not-a-statement',
      detail:
        'the quote is from a question or a hypothetical, or runs across sentences, not a statement about the user',
    };
  }
  if (inPasted) {
    return {
      reason: 'evidence-not-from-user',
      detail: 'the quote is from text the user pasted (a code block or quote), not their own words',
    };
  }
  if (inAssistant) {
    return {
      reason: 'evidence-not-from-user',
      detail: 'the quote is from the assistant, not the user',
    };
  }
  return { reason: 'evidence-not-found', detail: 'the quote is not in any of the user’s messages' };
}

type ItemResult = { change: ProfileChange } | { rejected: RejectedChange };

function rejectItem(raw: unknown, reason: RejectionReason, detail: string): ItemResult {
  return { rejected: { raw, reason, detail } };
}

function readItem(
  raw: unknown,
  messages: readonly SearchableMessage[],
  profile: Profile,
): ItemResult {
  if (!isPlainObject(raw)) return rejectItem(raw, 'invalid-shape', 'a change must be an object');
  const unknown = Object.keys(raw).filter(
    (key) => !(CHANGE_KEYS as readonly string[]).includes(key),
  );
  if (unknown.length > 0) {
    return rejectItem(
      raw,
      'invalid-shape',
      `unexpected properties: ${unknown.slice(0, 5).join(', ')}`,
    );
  }
  const fields = new Map<string, string>();
  for (const name of CHANGE_KEYS) {
    const value = ownValue(raw, name);
    if (value === undefined) return rejectItem(raw, 'missing-field', `"${name}" is missing`);
    if (typeof value !== 'string')
      return rejectItem(raw, 'invalid-shape', `"${name}" must be text`);
    fields.set(name, cleanText(value));
  }
  const op = fields.get('op') ?? '';
  const section = fields.get('section') ?? '';
  const key = fields.get('key') ?? '';
  const value = fields.get('value') ?? '';
  const quote = fields.get('evidence') ?? '';
  if (op !== 'set' && op !== 'remove') {
    return rejectItem(raw, 'invalid-shape', '"op" must be "set" or "remove"');
  }
  const limits: [string, string, number][] = [
    ['section', section, MAX_SECTION_NAME_LENGTH],
    ['key', key, MAX_KEY_LENGTH],
    ['value', value, MAX_VALUE_LENGTH],
    ['evidence', quote, MAX_QUOTE_LENGTH],
  ];
  for (const [name, text, max] of limits) {
    if (text.length > max) {
      return rejectItem(raw, 'too-long', `"${name}" is longer than ${max} characters`);
    }
  }
  if (section.length === 0 || key.length === 0) {
    return rejectItem(raw, 'missing-field', '"section" and "key" must not be empty');
  }
  if (op === 'set' && value.length === 0) {
    return rejectItem(raw, 'missing-field', 'a "set" needs a value');
  }
  if (quote.length === 0) return rejectItem(raw, 'evidence-not-found', 'the evidence is empty');
  const found = findEvidence(quote, messages);
  if ('reason' in found) return rejectItem(raw, found.reason, found.detail);
  // A suggested key belongs to its own section ("Location" is Demographics, wherever the model
  // put it), so one fact never ends up in two places.
  const home = homeSectionOf(key);
  const filed =
    home !== undefined && profile.sections.some((s) => sameName(s.name, home.name))
      ? home.name
      : section;
  if (op === 'set' && !valueGrounded(value, found.evidence.quote)) {
    return rejectItem(raw, 'value-not-in-evidence', 'the value says nothing its quote says');
  }
  const change: ProfileChange =
    op === 'set'
      ? { op, section: filed, key, value, evidence: found.evidence }
      : { op, section: filed, key, evidence: found.evidence };
  return { change };
}

export function parseOptimizerOutput(text: string, context: ParseContext): OptimizerParseResult {
  if (text.length > MAX_OUTPUT_CHARS) {
    return {
      ok: false,
      error: `The optimizer's answer is longer than ${MAX_OUTPUT_CHARS} characters.`,
    };
  }
  let body = stripJsonFence(text);
  if (!body.startsWith('{') && !body.startsWith('[')) {
    // Some models introduce the JSON with a sentence despite the instructions.
    const start = body.indexOf('{');
    const end = body.lastIndexOf('}');
    if (start === -1 || end < start)
      return { ok: false, error: 'The optimizer did not answer with JSON.' };
    body = body.slice(start, end + 1);
  }
  if (jsonDepth(body) > MAX_OUTPUT_DEPTH) {
    return { ok: false, error: 'The optimizer answered with JSON nested too deeply.' };
  }
  let root: unknown;
  try {
    root = JSON.parse(body);
  } catch {
    return {
      ok: false,
      error: 'The optimizer’s answer is not valid JSON (it may have been cut off).',
    };
  }
  if (!isPlainObject(root))
    return { ok: false, error: 'The optimizer’s answer is not a JSON object.' };
  const items = ownValue(root, 'changes');
  if (!Array.isArray(items)) {
    return { ok: false, error: 'The optimizer’s answer has no "changes" list.' };
  }
  const messages = searchable(context.sessions);
  const changes: ProfileChange[] = [];
  const rejected: RejectedChange[] = [];
  for (const [index, raw] of (items as unknown[]).entries()) {
    if (index >= MAX_CHANGES_PER_RUN) {
      rejected.push({
        raw,
        reason: 'too-many-changes',
        detail: `only ${MAX_CHANGES_PER_RUN} changes are accepted per run`,
      });
      continue;
    }
    const result = readItem(raw, messages, context.profile);
    if ('rejected' in result) {
      rejected.push(result.rejected);
      continue;
    }
    const { change } = result;
    // Small models repeat themselves: one field, or one fact under several keys, is taken once.
    const repeated = changes.find(
      (earlier) =>
        (sameName(earlier.section, change.section) && sameName(earlier.key, change.key)) ||
        (earlier.op === 'set' &&
          change.op === 'set' &&
          sameValue(earlier.value, change.value) &&
          earlier.evidence?.messageId === change.evidence?.messageId),
    );
    if (repeated) {
      rejected.push({
        raw,
        reason: 'duplicate',
        detail: `repeats the change to ${repeated.section} / ${repeated.key}`,
      });
      continue;
    }
    changes.push(change);
  }
  return { ok: true, changes, rejected };
}
