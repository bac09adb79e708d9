/**
 * A search as typed: every word must be found (AND), and the last one may still be being typed,
 * so it matches as a prefix ("berl" finds "Berlin") unless the query ends with a space.
 */
import { tokenize, type Token } from './terms';

/** A one-letter prefix would match most of the index; it is searched as a whole word instead. */
export const MIN_PREFIX_LENGTH = 2;

export interface SearchQuery {
  /** Terms that must each be found whole. */
  terms: string[];
  /** A term that some word must start with, or null. */
  prefix: string | null;
}

export function parseQuery(text: string): SearchQuery {
  const tokens = tokenize(text);
  const last = tokens.at(-1);
  const typingLast = last !== undefined && last.end === text.length && isPrefixCandidate(last);
  const whole = typingLast ? tokens.slice(0, -1) : tokens;
  const terms = [...new Set(whole.map((token) => token.term))];
  const prefix = typingLast ? last.term : null;
  return { terms: prefix !== null ? terms.filter((t) => t !== prefix) : terms, prefix };
}

/**
 * A Latin (or other spaced) word long enough, or a lone CJK character: a pair of characters is
 * already whole, and a lone character only ever starts pairs.
 */
function isPrefixCandidate(last: Token): boolean {
  const length = Array.from(last.term).length;
  return last.cjk ? length === 1 : length >= MIN_PREFIX_LENGTH;
}

export function isEmptyQuery(query: SearchQuery): boolean {
  return query.terms.length === 0 && query.prefix === null;
}

/** Whether a document with these terms answers the query. */
export function matchesTerms(docTerms: readonly string[], query: SearchQuery): boolean {
  const { prefix } = query;
  return (
    query.terms.every((term) => docTerms.includes(term)) &&
    (prefix === null || docTerms.some((term) => term.startsWith(prefix)))
  );
}

/** Whether one word of a text answers part of the query: what a snippet marks. */
export function tokenMatches(token: Token, query: SearchQuery): boolean {
  return (
    query.terms.includes(token.term) ||
    (query.prefix !== null && token.term.startsWith(query.prefix))
  );
}
