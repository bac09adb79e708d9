import {
  MAX_EVIDENCE_PER_FIELD,
  MAX_FIELDS_PER_SECTION,
  MAX_ID_LENGTH,
  MAX_KEY_LENGTH,
  MAX_QUOTE_LENGTH,
  MAX_SECTION_NAME_LENGTH,
  MAX_SECTIONS,
  MAX_VALUE_LENGTH,
} from './defaults';
import { cleanText, hasControlCharacters, isForbiddenName } from './normalize';
import { isTimestamp, TIMESTAMP_RULE } from '../timestamp';
import type { Evidence, Profile, ProfileField, ProfileSection } from './types';
import type { Result, ValueResult } from '../result';

/**
 * The one check every profile passes before it is stored, imported or sent across the worker
 * boundary. It walks only the known shape (never recursing into unknown properties, so a deeply
 * nested payload elsewhere costs nothing) and returns a fresh copy holding only known properties.
 */

export type ValidationResult<T> = ValueResult<T>;

export type ProfileValidation = Result<{ profile: Profile }>;

/** Plain data only: class instances and objects with exotic prototypes are not profile data. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Reads an own data property without running getters or walking the prototype chain. */
export function ownValue(object: object, key: string): unknown {
  const descriptor = Object.getOwnPropertyDescriptor(object, key);
  return descriptor !== undefined && 'value' in descriptor ? descriptor.value : undefined;
}

/** Keeps error messages readable when the offending name is itself huge or hostile. */
export function quoteForMessage(text: string): string {
  const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  return JSON.stringify(shown);
}

export type TextProblem = 'empty' | 'too-long' | 'not-clean' | 'forbidden';

/**
 * What is wrong with a name, value or quote, or null when it is fine. Text must already be clean
 * (see `cleanText`): storing it cleaned keeps comparisons and rendering simple.
 */
export function textProblem(text: string, maxLength: number, isName: boolean): TextProblem | null {
  if (text.length === 0) return 'empty';
  if (text.length > maxLength) return 'too-long';
  if (cleanText(text) !== text || hasControlCharacters(text)) return 'not-clean';
  if (isName && isForbiddenName(text)) return 'forbidden';
  return null;
}

function describeProblem(path: string, problem: TextProblem, maxLength: number): string {
  switch (problem) {
    case 'empty':
      return `${path} is empty`;
    case 'too-long':
      return `${path} is longer than ${maxLength} characters`;
    case 'not-clean':
      return `${path} has leading, trailing or repeated whitespace, line breaks or control characters`;
    case 'forbidden':
      return `${path} uses a reserved name`;
  }
}

function checkText(
  value: unknown,
  path: string,
  maxLength: number,
  isName: boolean,
): ValidationResult<string> {
  if (typeof value !== 'string') return { ok: false, error: `${path} must be a string` };
  const problem = textProblem(value, maxLength, isName);
  return problem === null
    ? { ok: true, value }
    : { ok: false, error: describeProblem(path, problem, maxLength) };
}

function checkTimestamp(value: unknown, path: string): ValidationResult<number> {
  return isTimestamp(value)
    ? { ok: true, value }
    : { ok: false, error: `${path} ${TIMESTAMP_RULE}` };
}

/** Whether two pieces of evidence come from the same message: a field keeps one per message. */
export function sameEvidenceSource(a: Evidence, b: Evidence): boolean {
  return a.conversationId === b.conversationId && a.messageId === b.messageId;
}

function uniqueEvidence(evidence: readonly Evidence[]): Evidence[] {
  return evidence.filter(
    (item, index) => evidence.findIndex((other) => sameEvidenceSource(other, item)) === index,
  );
}

/**
 * The profile with each field's evidence merged to one quote per message (the newest). Profiles
 * stored before that rule could repeat a message, which broke the Profile page; returns the
 * same object when nothing repeats.
 */
export function mergeDuplicateEvidence(profile: Profile): Profile {
  let changed = false;
  const sections: ProfileSection[] = [];
  for (const section of profile.sections) {
    const fields: Record<string, ProfileField> = {};
    let sectionChanged = false;
    for (const [key, field] of Object.entries(section.fields)) {
      // A damaged row is passed through for its own row to report, not thrown here for all.
      const evidence = Array.isArray(field.evidence)
        ? uniqueEvidence(field.evidence)
        : field.evidence;
      sectionChanged ||= evidence.length !== field.evidence.length;
      fields[key] = evidence === field.evidence ? field : { ...field, evidence };
    }
    changed ||= sectionChanged;
    sections.push(sectionChanged ? { ...section, fields } : section);
  }
  return changed ? { ...profile, sections } : profile;
}

function checkEvidence(value: unknown, path: string): ValidationResult<Evidence> {
  if (!isPlainObject(value)) return { ok: false, error: `${path} must be an object` };
  const conversationId = checkText(
    ownValue(value, 'conversationId'),
    `${path}.conversationId`,
    MAX_ID_LENGTH,
    false,
  );
  if (!conversationId.ok) return conversationId;
  const messageId = checkText(
    ownValue(value, 'messageId'),
    `${path}.messageId`,
    MAX_ID_LENGTH,
    false,
  );
  if (!messageId.ok) return messageId;
  const quote = checkText(ownValue(value, 'quote'), `${path}.quote`, MAX_QUOTE_LENGTH, false);
  if (!quote.ok) return quote;
  return {
    ok: true,
    value: { conversationId: conversationId.value, messageId: messageId.value, quote: quote.value },
  };
}

export function validateField(value: unknown, path: string): ValidationResult<ProfileField> {
  if (!isPlainObject(value)) return { ok: false, error: `${path} must be an object` };
  const text = checkText(ownValue(value, 'value'), `${path}.value`, MAX_VALUE_LENGTH, false);
  if (!text.ok) return text;
  const updatedAt = checkTimestamp(ownValue(value, 'updatedAt'), `${path}.updatedAt`);
  if (!updatedAt.ok) return updatedAt;
  const source = ownValue(value, 'source');
  if (source !== 'learned' && source !== 'user') {
    return { ok: false, error: `${path}.source must be "learned" or "user"` };
  }
  const locked = ownValue(value, 'locked');
  if (typeof locked !== 'boolean') return { ok: false, error: `${path}.locked must be a boolean` };
  const rawEvidence = ownValue(value, 'evidence');
  if (!Array.isArray(rawEvidence)) return { ok: false, error: `${path}.evidence must be a list` };
  if (rawEvidence.length > MAX_EVIDENCE_PER_FIELD) {
    return { ok: false, error: `${path}.evidence has more than ${MAX_EVIDENCE_PER_FIELD} items` };
  }
  if (source === 'user' && rawEvidence.length > 0) {
    return { ok: false, error: `${path} is set by the user and must not carry evidence` };
  }
  const evidence: Evidence[] = [];
  for (const [index, item] of rawEvidence.entries()) {
    const checked = checkEvidence(item, `${path}.evidence[${index}]`);
    if (!checked.ok) return checked;
    // Profiles stored before one message could back a field only once may hold two quotes of
    // one message; the newest is kept, so the list keys on the message and never repeats.
    if (!evidence.some((kept) => sameEvidenceSource(kept, checked.value))) {
      evidence.push(checked.value);
    }
  }
  return {
    ok: true,
    value: { value: text.value, updatedAt: updatedAt.value, source, locked, evidence },
  };
}

function validateSection(value: unknown, path: string): ValidationResult<ProfileSection> {
  if (!isPlainObject(value)) return { ok: false, error: `${path} must be an object` };
  const name = checkText(ownValue(value, 'name'), `${path}.name`, MAX_SECTION_NAME_LENGTH, true);
  if (!name.ok) return name;
  const builtIn = ownValue(value, 'builtIn');
  if (typeof builtIn !== 'boolean')
    return { ok: false, error: `${path}.builtIn must be a boolean` };
  const rawFields = ownValue(value, 'fields');
  if (!isPlainObject(rawFields)) return { ok: false, error: `${path}.fields must be an object` };
  const keys = Object.keys(rawFields);
  if (keys.length > MAX_FIELDS_PER_SECTION) {
    return { ok: false, error: `${path} has more than ${MAX_FIELDS_PER_SECTION} fields` };
  }
  const seen = new Set<string>();
  const entries: [string, ProfileField][] = [];
  for (const key of keys) {
    const keyPath = `${path}.fields[${quoteForMessage(key)}]`;
    const checkedKey = checkText(key, `${keyPath} key`, MAX_KEY_LENGTH, true);
    if (!checkedKey.ok) return checkedKey;
    const folded = key.toLowerCase();
    if (seen.has(folded)) return { ok: false, error: `${keyPath} repeats another key` };
    seen.add(folded);
    const field = validateField(ownValue(rawFields, key), keyPath);
    if (!field.ok) return field;
    entries.push([key, field.value]);
  }
  // fromEntries defines own properties, so even an odd key could never reach a prototype.
  return {
    ok: true,
    value: { name: name.value, builtIn, fields: Object.fromEntries(entries) },
  };
}

/** Checks any stored or incoming profile; on success returns a clean copy with known properties only. */
export function validateProfile(value: unknown): ProfileValidation {
  if (!isPlainObject(value)) return { ok: false, error: 'The profile must be an object.' };
  const updatedAt = checkTimestamp(ownValue(value, 'updatedAt'), 'profile.updatedAt');
  if (!updatedAt.ok) return { ok: false, error: updatedAt.error };
  const rawSections = ownValue(value, 'sections');
  if (!Array.isArray(rawSections)) return { ok: false, error: 'profile.sections must be a list' };
  if (rawSections.length > MAX_SECTIONS) {
    return { ok: false, error: `The profile has more than ${MAX_SECTIONS} sections.` };
  }
  const seen = new Set<string>();
  const sections: ProfileSection[] = [];
  for (const [index, raw] of rawSections.entries()) {
    const section = validateSection(raw, `profile.sections[${index}]`);
    if (!section.ok) return section;
    const folded = section.value.name.toLowerCase();
    if (seen.has(folded)) {
      return { ok: false, error: `profile.sections[${index}] repeats the section name` };
    }
    seen.add(folded);
    sections.push(section.value);
  }
  return { ok: true, profile: { sections, updatedAt: updatedAt.value } };
}
