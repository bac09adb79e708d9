/**
 * The part of a message around what was found, with the found words marked. Marks are ranges,
 * never markup: the page builds `<mark>` elements from them and the text stays text.
 */
import { parseQuery, tokenMatches, type SearchQuery } from './query';
import { tokenize } from './terms';

export interface Marked {
  text: string;
  /** [start, end) ranges of `text` to mark, in order, not overlapping. */
  marks: [number, number][];
}

export interface TextPart {
  text: string;
  marked: boolean;
}

/** Characters of context shown before the first match. */
const BEFORE = 40;
export const SNIPPET_LENGTH = 160;

/** The ranges of `text` whose words answer the query, overlapping ones (CJK pairs) merged. */
export function matchRanges(text: string, query: SearchQuery): [number, number][] {
  const ranges: [number, number][] = [];
  for (const token of tokenize(text)) {
    if (!tokenMatches(token, query)) continue;
    const last = ranges.at(-1);
    if (last && token.start <= last[1]) last[1] = Math.max(last[1], token.end);
    else ranges.push([token.start, token.end]);
  }
  return ranges;
}

/** `text` with its matches marked; for a short text such as a title. */
export function markMatches(text: string, query: SearchQuery | string): Marked {
  const parsed = typeof query === 'string' ? parseQuery(query) : query;
  return { text, marks: matchRanges(text, parsed) };
}

/**
 * About `length` characters of `text` around its first match, on one line, with "…" where it was
 * cut, and every match inside marked. Without a match, the beginning of the text.
 */
export function snippetOf(text: string, query: SearchQuery, length = SNIPPET_LENGTH): Marked {
  const ranges = matchRanges(text, query);
  const first = ranges[0]?.[0] ?? 0;
  let start = Math.max(0, first - BEFORE);
  // Start at a word: the space after `start`, when there is one close enough.
  if (start > 0) {
    const space = text.slice(start, first).search(/\s/);
    if (space >= 0) start += space + 1;
  }
  let end = Math.min(text.length, start + length);
  start = avoidSplitPair(text, start, 1);
  end = avoidSplitPair(text, end, -1);
  const head = start > 0 ? '…' : '';
  const tail = end < text.length ? '…' : '';
  const body = text.slice(start, end);
  // Line breaks become spaces (same length, so the ranges still fit): a snippet is one line.
  const line = body.replace(/\s/g, ' ');
  const marks: [number, number][] = [];
  for (const [from, to] of ranges) {
    if (to <= start || from >= end) continue;
    marks.push([
      Math.max(from, start) - start + head.length,
      Math.min(to, end) - start + head.length,
    ]);
  }
  return { text: head + line + tail, marks };
}

/** Moves a cut off the middle of a surrogate pair (half an emoji shows as a replacement sign). */
function avoidSplitPair(text: string, at: number, direction: 1 | -1): number {
  const code = text.charCodeAt(at);
  const isLow = code >= 0xdc00 && code <= 0xdfff;
  return isLow && at > 0 && at < text.length ? at + direction : at;
}

/** Plain and marked stretches of a text, in order, for the page to render as text nodes. */
export function markedParts({ text, marks }: Marked): TextPart[] {
  const parts: TextPart[] = [];
  let at = 0;
  for (const [start, end] of marks) {
    if (start > at) parts.push({ text: text.slice(at, start), marked: false });
    if (end > start) parts.push({ text: text.slice(start, end), marked: true });
    at = Math.max(at, end);
  }
  if (at < text.length) parts.push({ text: text.slice(at), marked: false });
  return parts;
}
