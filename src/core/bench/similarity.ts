import type { Profile } from '../profile/types';
import type { BenchChange, FactUpdate } from './types';

/**
 * The deterministic field-level similarity reported beside the judge's persona similarity, so a
 * reader can tell a judge's mood from a real change in what was learned.
 *
 * Definition (0..10): for every field of the golden persona, find the learned field with the same
 * section and the same key, both compared normalized (case, spaces, `_` and punctuation ignored);
 * score the pair by the F1 of their token sets (lower-cased runs of letters and digits; a missing
 * learned field scores 0); average over the golden fields and multiply by 10. A golden persona
 * without fields scores 0. Keys must match: the optimizer is shown the same suggested keys the
 * golden personas use (`DEFAULT_SECTIONS`), and matching values across different keys would credit
 * a location learned as an occupation.
 */

/** Lower-cased runs of letters and digits, each once. CJK text is one token per character. */
export function tokenSet(text: string): Set<string> {
  const tokens = new Set<string>();
  const lower = text.toLowerCase();
  for (const match of lower.matchAll(/[\p{L}\p{N}]+/gu)) {
    const word = match[0];
    if (/\p{Script=Han}|\p{Script=Hiragana}|\p{Script=Katakana}/u.test(word)) {
      for (const char of word) tokens.add(char);
    } else {
      tokens.add(word);
    }
  }
  return tokens;
}

/** Token-set F1 of two texts, 0..1; two empty texts are not evidence of anything and score 0. */
export function tokenF1(a: string, b: string): number {
  const left = tokenSet(a);
  const right = tokenSet(b);
  if (left.size === 0 || right.size === 0) return 0;
  let common = 0;
  for (const token of left) if (right.has(token)) common++;
  if (common === 0) return 0;
  const precision = common / right.size;
  const recall = common / left.size;
  return (2 * precision * recall) / (precision + recall);
}

export function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '');
}

/** The learned value at (section, key), both matched normalized; undefined when absent. */
export function fieldValue(profile: Profile, section: string, key: string): string | undefined {
  const wantedSection = normalizeKey(section);
  const wantedKey = normalizeKey(key);
  for (const candidate of profile.sections) {
    if (normalizeKey(candidate.name) !== wantedSection) continue;
    for (const [name, field] of Object.entries(candidate.fields)) {
      if (normalizeKey(name) === wantedKey) return field.value;
    }
  }
  return undefined;
}

export function fieldSimilarity(golden: Profile, learned: Profile): number {
  let total = 0;
  let fields = 0;
  for (const section of golden.sections) {
    for (const [key, field] of Object.entries(section.fields)) {
      fields++;
      const value = fieldValue(learned, section.name, key);
      total += value === undefined ? 0 : tokenF1(field.value, value);
    }
  }
  return fields === 0 ? 0 : (10 * total) / fields;
}

/** Fields in a profile, all sections together. */
export function countFields(profile: Profile): number {
  return profile.sections.reduce((sum, section) => sum + Object.keys(section.fields).length, 0);
}

/**
 * Did the learned profile follow a fact that changed (a move, a new diet)? Words are compared as
 * token sets: every word of the new state present and not every word of the old one is `updated`.
 */
export function factUpdate(learned: Profile, change: BenchChange): FactUpdate {
  const value = fieldValue(learned, change.section, change.key) ?? null;
  const base = {
    section: change.section,
    key: change.key,
    before: change.before,
    after: change.after,
    learned: value,
  };
  if (value === null) return { ...base, status: 'missing' };
  const words = tokenSet(value);
  const holds = (text: string) => {
    const needed = tokenSet(text);
    return needed.size > 0 && [...needed].every((t) => words.has(t));
  };
  if (holds(change.after) && !holds(change.before)) return { ...base, status: 'updated' };
  if (holds(change.before)) return { ...base, status: 'stale' };
  return { ...base, status: 'other' };
}
