/**
 * How names, values and quotes are compared and cleaned. Shared by apply, import and the optimizer
 * so that "what counts as the same field" and "what counts as the same value" are decided once.
 */

/**
 * Keys that would reach `Object.prototype` if assigned onto a plain object. Never valid as a
 * section name or field key, in any letter case, so hostile imports and model output cannot use them.
 */
const FORBIDDEN_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Whitespace runs (newlines included) become one space: a newline inside a value would let it
 * forge extra lines in the rendered system prompt.
 */
export function cleanText(text: string): string {
  return text.replace(/\s+/gu, ' ').trim();
}

/** Control characters other than whitespace have no business in a profile and may hide text. */
export function hasControlCharacters(text: string): boolean {
  // eslint-disable-next-line no-control-regex -- detecting them is the point
  return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/u.test(text);
}

export function isForbiddenName(name: string): boolean {
  return FORBIDDEN_NAMES.has(cleanText(name).toLowerCase());
}

/** Section names and field keys match case-insensitively, ignoring surrounding and repeated spaces. */
export function sameName(a: string, b: string): boolean {
  return cleanText(a).toLowerCase() === cleanText(b).toLowerCase();
}

/** Two values say the same thing when they differ only in spacing and letter case. */
export function sameValue(a: string, b: string): boolean {
  return cleanText(a).toLowerCase() === cleanText(b).toLowerCase();
}

/**
 * Normal form for finding a quote in a message: case, spacing and the many typographic quote and
 * apostrophe forms (models like to "fix" them) are ignored.
 */
export function normalizeForSearch(text: string): string {
  return cleanText(
    text
      .normalize('NFKC')
      .replace(/[\u2018\u2019\u201a\u201b\u2032\u0060\u00b4]/gu, "'")
      .replace(/[\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb]/gu, '"')
      .toLowerCase(),
  );
}
