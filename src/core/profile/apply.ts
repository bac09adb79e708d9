import {
  MAX_EVIDENCE_PER_FIELD,
  MAX_FIELDS_PER_SECTION,
  MAX_ID_LENGTH,
  MAX_KEY_LENGTH,
  MAX_QUOTE_LENGTH,
  MAX_SECTION_NAME_LENGTH,
  MAX_SECTIONS,
  MAX_VALUE_LENGTH,
  sectionTemplate,
} from './defaults';
import { cleanText, sameName, sameValue } from './normalize';
import type {
  AppliedChange,
  Evidence,
  Profile,
  ProfileChange,
  ProfileField,
  ProfileSection,
  RejectedChange,
  RejectionReason,
} from './types';
import {
  isPlainObject,
  ownValue,
  quoteForMessage,
  sameEvidenceSource,
  textProblem,
  type TextProblem,
} from './validate';

/**
 * Applies proposed changes to a profile without touching the input. The rules, in order:
 *
 * - Section names and field keys match case-insensitively after trimming; an existing field keeps
 *   its spelling. Names, keys and values are stored with whitespace runs collapsed to one space.
 * - Anything over a limit is rejected (`too-long`), never cut: a cut value says something else.
 * - The optimizer may add fields to existing sections but never create a section
 *   (`unknown-section`), never touch a locked field (`locked`) or one the user set (`user-set`),
 *   and every change it makes must carry evidence (`evidence-not-found`), so each learned fact can
 *   be traced to the user's words.
 * - An optimizer `set` that repeats the current value (spacing and case ignored) keeps the value's
 *   spelling. If it brings evidence the field does not have yet, the quote is added (newest first,
 *   at most MAX_EVIDENCE_PER_FIELD) as an applied change, so the confirmation is recorded and can
 *   be undone like any other; otherwise it is dropped as `unchanged`.
 * - A newer optimizer value replaces the older one and starts its evidence afresh (old quotes
 *   supported the old value); the old field survives in `AppliedChange.before`.
 * - User edits set source `user` and clear evidence; they keep the field's lock. A user `set`
 *   counts as `unchanged` only when the field is already user-set with exactly the same text, so
 *   fixing capitalisation works and re-saving a learned value marks it as the user's own.
 * - A user `set` into a missing section creates it; the optimizer's never does.
 */

export type Actor = 'optimizer' | 'user';

export interface ApplyOptions {
  actor: Actor;
  now: number;
}

export interface ApplyResult {
  profile: Profile;
  applied: AppliedChange[];
  rejected: RejectedChange[];
}

type Outcome = { applied: AppliedChange } | { rejected: RejectedChange };

function reject(raw: unknown, reason: RejectionReason, detail: string): Outcome {
  return { rejected: { raw, reason, detail } };
}

function reasonForText(problem: TextProblem): RejectionReason {
  switch (problem) {
    case 'empty':
      return 'missing-field';
    case 'too-long':
      return 'too-long';
    case 'not-clean':
    case 'forbidden':
      return 'invalid-shape';
  }
}

function describeText(what: string, problem: TextProblem, maxLength: number): string {
  switch (problem) {
    case 'empty':
      return `${what} is empty`;
    case 'too-long':
      return `${what} is longer than ${maxLength} characters`;
    case 'not-clean':
      return `${what} contains control characters`;
    case 'forbidden':
      return `${what} is a reserved name`;
  }
}

/** Copies the sections so that fields can be replaced without touching the caller's profile. */
function draftOf(profile: Profile): ProfileSection[] {
  return profile.sections.map((section) => ({ ...section, fields: { ...section.fields } }));
}

function findSectionIndex(sections: readonly ProfileSection[], name: string): number {
  return sections.findIndex((section) => sameName(section.name, name));
}

/** The existing spelling of a key in a section, matched case-insensitively. */
export function findFieldKey(section: ProfileSection, key: string): string | undefined {
  return Object.keys(section.fields).find((existing) => sameName(existing, key));
}

/** Looks up a field by section name and key, case-insensitively. */
export function findField(
  profile: Profile,
  sectionName: string,
  key: string,
): { section: ProfileSection; key: string; field: ProfileField } | undefined {
  const section = profile.sections.find((candidate) => sameName(candidate.name, sectionName));
  if (section === undefined) return undefined;
  const existing = findFieldKey(section, key);
  if (existing === undefined) return undefined;
  const field = section.fields[existing];
  return field === undefined ? undefined : { section, key: existing, field };
}

function withoutKey(
  fields: Record<string, ProfileField>,
  key: string,
): Record<string, ProfileField> {
  return Object.fromEntries(Object.entries(fields).filter(([existing]) => existing !== key));
}

function checkEvidence(raw: unknown, evidence: unknown): { evidence: Evidence } | Outcome {
  if (!isPlainObject(evidence)) return reject(raw, 'invalid-shape', 'evidence must be an object');
  const conversationId = ownValue(evidence, 'conversationId');
  const messageId = ownValue(evidence, 'messageId');
  const quote = ownValue(evidence, 'quote');
  if (typeof conversationId !== 'string' || typeof messageId !== 'string') {
    return reject(raw, 'invalid-shape', 'evidence must name its conversation and message');
  }
  for (const id of [conversationId, messageId]) {
    const problem = textProblem(id, MAX_ID_LENGTH, false);
    if (problem !== null) {
      return reject(raw, 'invalid-shape', describeText('an evidence id', problem, MAX_ID_LENGTH));
    }
  }
  if (typeof quote !== 'string') return reject(raw, 'invalid-shape', 'evidence quote must be text');
  const cleanQuote = cleanText(quote);
  const problem = textProblem(cleanQuote, MAX_QUOTE_LENGTH, false);
  if (problem === 'empty') return reject(raw, 'evidence-not-found', 'the evidence quote is empty');
  if (problem !== null) {
    return reject(
      raw,
      reasonForText(problem),
      describeText('the quote', problem, MAX_QUOTE_LENGTH),
    );
  }
  return { evidence: { conversationId, messageId, quote: cleanQuote } };
}

/**
 * One message backs a field at most once: a second quote from the same message ("I live in
 * Lisbon", "Lisbon is my home") says nothing new, and the message is the evidence's identity.
 */
function hasEvidence(field: ProfileField, evidence: Evidence): boolean {
  return field.evidence.some((existing) => sameEvidenceSource(existing, evidence));
}

function applyOne(
  sections: ProfileSection[],
  change: ProfileChange,
  { actor, now }: ApplyOptions,
): Outcome {
  const raw: unknown = change;
  if (!isPlainObject(raw)) return reject(raw, 'invalid-shape', 'a change must be an object');
  const op = ownValue(raw, 'op');
  const rawSection = ownValue(raw, 'section');
  const rawKey = ownValue(raw, 'key');
  const rawValue = ownValue(raw, 'value');
  const rawEvidence = ownValue(raw, 'evidence');
  if (op !== 'set' && op !== 'remove')
    return reject(raw, 'invalid-shape', 'op must be set or remove');
  if (typeof rawSection !== 'string' || typeof rawKey !== 'string') {
    return reject(raw, 'invalid-shape', 'section and key must be text');
  }
  if (op === 'set' && typeof rawValue !== 'string') {
    return reject(raw, 'invalid-shape', 'value must be text');
  }

  const sectionName = cleanText(rawSection);
  const sectionProblem = textProblem(sectionName, MAX_SECTION_NAME_LENGTH, true);
  if (sectionProblem !== null) {
    return reject(
      raw,
      reasonForText(sectionProblem),
      describeText('the section name', sectionProblem, MAX_SECTION_NAME_LENGTH),
    );
  }
  const key = cleanText(rawKey);
  const keyProblem = textProblem(key, MAX_KEY_LENGTH, true);
  if (keyProblem !== null) {
    return reject(
      raw,
      reasonForText(keyProblem),
      describeText('the key', keyProblem, MAX_KEY_LENGTH),
    );
  }

  let evidence: Evidence | null = null;
  if (actor === 'optimizer') {
    if (rawEvidence === null || rawEvidence === undefined) {
      return reject(raw, 'evidence-not-found', 'a learned change needs a quote of the user');
    }
    const checked = checkEvidence(raw, rawEvidence);
    if (!('evidence' in checked)) return checked;
    evidence = checked.evidence;
  }

  const sectionIndex = findSectionIndex(sections, sectionName);
  if (sectionIndex === -1) {
    if (actor === 'optimizer' || op === 'remove') {
      return reject(raw, 'unknown-section', `no section named ${quoteForMessage(sectionName)}`);
    }
    if (sections.length >= MAX_SECTIONS) {
      return reject(raw, 'too-long', `the profile already has ${MAX_SECTIONS} sections`);
    }
  }
  const section: ProfileSection = sections[sectionIndex] ?? {
    name: sectionName,
    builtIn: sectionTemplate(sectionName) !== undefined,
    fields: {},
  };
  const existingKey = findFieldKey(section, key);
  const current = existingKey === undefined ? undefined : section.fields[existingKey];
  const fieldKey = existingKey ?? key;

  if (actor === 'optimizer' && current !== undefined) {
    if (current.locked) return reject(raw, 'locked', `${section.name} › ${fieldKey} is locked`);
    if (current.source === 'user') {
      return reject(raw, 'user-set', `${section.name} › ${fieldKey} was set by the user`);
    }
  }

  let after: ProfileField | null;
  if (op === 'remove') {
    if (current === undefined) {
      return reject(raw, 'unchanged', `${section.name} has no field ${quoteForMessage(key)}`);
    }
    after = null;
  } else {
    const value = cleanText(typeof rawValue === 'string' ? rawValue : '');
    const valueProblem = textProblem(value, MAX_VALUE_LENGTH, false);
    if (valueProblem !== null) {
      return reject(
        raw,
        reasonForText(valueProblem),
        describeText('the value', valueProblem, MAX_VALUE_LENGTH),
      );
    }
    if (current === undefined && Object.keys(section.fields).length >= MAX_FIELDS_PER_SECTION) {
      return reject(
        raw,
        'too-long',
        `${section.name} already has ${MAX_FIELDS_PER_SECTION} fields`,
      );
    }
    if (actor === 'optimizer' && evidence !== null) {
      if (current !== undefined && sameValue(current.value, value)) {
        if (hasEvidence(current, evidence)) {
          return reject(
            raw,
            'unchanged',
            `${section.name} › ${fieldKey} already says that, backed by that message`,
          );
        }
        after = {
          ...current,
          updatedAt: now,
          evidence: [evidence, ...current.evidence].slice(0, MAX_EVIDENCE_PER_FIELD),
        };
      } else {
        after = { value, updatedAt: now, source: 'learned', locked: false, evidence: [evidence] };
      }
    } else {
      if (current?.source === 'user' && current.value === value) {
        return reject(raw, 'unchanged', `${section.name} › ${fieldKey} already says that`);
      }
      after = {
        value,
        updatedAt: now,
        source: 'user',
        locked: current?.locked ?? false,
        evidence: [],
      };
    }
  }

  const fields =
    after === null
      ? withoutKey(section.fields, fieldKey)
      : { ...section.fields, [fieldKey]: after };
  const updated: ProfileSection = { ...section, fields };
  if (sectionIndex === -1) {
    sections.push(updated);
  } else {
    sections[sectionIndex] = updated;
  }
  return {
    applied: {
      op,
      section: section.name,
      key: fieldKey,
      before: current ?? null,
      after,
      evidence,
    },
  };
}

/** Applies changes in order; later changes see the effect of earlier ones. Never mutates `profile`. */
export function applyChanges(
  profile: Profile,
  changes: readonly ProfileChange[],
  options: ApplyOptions,
): ApplyResult {
  const sections = draftOf(profile);
  const applied: AppliedChange[] = [];
  const rejected: RejectedChange[] = [];
  for (const change of changes) {
    const outcome = applyOne(sections, change, options);
    if ('applied' in outcome) applied.push(outcome.applied);
    else rejected.push(outcome.rejected);
  }
  if (applied.length === 0) return { profile, applied, rejected };
  return { profile: { sections, updatedAt: options.now }, applied, rejected };
}

/** The change a user makes by typing a value into a field (creating the section if needed). */
export function userSetChange(section: string, key: string, value: string): ProfileChange {
  return { op: 'set', section, key, value, evidence: null };
}

/** The change a user makes by deleting a field, locked or not. */
export function userRemoveChange(section: string, key: string): ProfileChange {
  return { op: 'remove', section, key, evidence: null };
}

function single(profile: Profile, outcome: Outcome): ApplyResult {
  return 'applied' in outcome
    ? { profile, applied: [outcome.applied], rejected: [] }
    : { profile, applied: [], rejected: [outcome.rejected] };
}

/**
 * Locks or unlocks a field. A lock toggle is an applied `set` whose `before` and `after` differ
 * only in `locked`, so history shows it and revert undoes it like any edit. The field's
 * `updatedAt` stays: it dates the value, which did not change.
 */
export function setFieldLocked(
  profile: Profile,
  sectionName: string,
  key: string,
  locked: boolean,
  now: number,
): ApplyResult {
  const raw = { op: locked ? 'lock' : 'unlock', section: sectionName, key };
  const sectionIndex = findSectionIndex(profile.sections, sectionName);
  const section = profile.sections[sectionIndex];
  if (section === undefined) {
    return single(
      profile,
      reject(raw, 'unknown-section', `no section named ${quoteForMessage(sectionName)}`),
    );
  }
  const fieldKey = findFieldKey(section, key);
  const current = fieldKey === undefined ? undefined : section.fields[fieldKey];
  if (fieldKey === undefined || current === undefined) {
    return single(
      profile,
      reject(raw, 'missing-field', `${section.name} has no field ${quoteForMessage(key)}`),
    );
  }
  if (current.locked === locked) {
    return single(
      profile,
      reject(
        raw,
        'unchanged',
        `${section.name} › ${fieldKey} is already ${locked ? 'locked' : 'unlocked'}`,
      ),
    );
  }
  const after: ProfileField = { ...current, locked };
  const sections = profile.sections.map((existing, index) =>
    index === sectionIndex
      ? { ...existing, fields: { ...existing.fields, [fieldKey]: after } }
      : existing,
  );
  return single(
    { sections, updatedAt: now },
    {
      applied: {
        op: 'set',
        section: section.name,
        key: fieldKey,
        before: current,
        after,
        evidence: null,
      },
    },
  );
}

/**
 * Adds an empty user section. It changes no field, so it yields no AppliedChange: an empty
 * section says nothing about the user and is not rendered. Undoing it is removing it.
 */
export function addSection(profile: Profile, name: string, now: number): ApplyResult {
  const raw = { op: 'add-section', section: name };
  const clean = cleanText(name);
  const problem = textProblem(clean, MAX_SECTION_NAME_LENGTH, true);
  if (problem !== null) {
    return single(
      profile,
      reject(
        raw,
        reasonForText(problem),
        describeText('the section name', problem, MAX_SECTION_NAME_LENGTH),
      ),
    );
  }
  if (findSectionIndex(profile.sections, clean) !== -1) {
    return single(
      profile,
      reject(raw, 'unchanged', `a section named ${quoteForMessage(clean)} exists`),
    );
  }
  if (profile.sections.length >= MAX_SECTIONS) {
    return single(
      profile,
      reject(raw, 'too-long', `the profile already has ${MAX_SECTIONS} sections`),
    );
  }
  const section: ProfileSection = {
    name: clean,
    builtIn: sectionTemplate(clean) !== undefined,
    fields: {},
  };
  return {
    profile: { sections: [...profile.sections, section], updatedAt: now },
    applied: [],
    rejected: [],
  };
}

/**
 * Removes a section the user added, with all its fields; built-in sections stay (`locked`).
 * Each field's removal is an applied change, so revert brings them back (and the section with them).
 */
export function removeSection(profile: Profile, name: string, now: number): ApplyResult {
  const raw = { op: 'remove-section', section: name };
  const index = findSectionIndex(profile.sections, name);
  const section = profile.sections[index];
  if (section === undefined) {
    return single(
      profile,
      reject(raw, 'unknown-section', `no section named ${quoteForMessage(name)}`),
    );
  }
  if (section.builtIn) {
    return single(
      profile,
      reject(raw, 'locked', `${section.name} is built in and cannot be removed`),
    );
  }
  const applied: AppliedChange[] = Object.entries(section.fields).map(([key, field]) => ({
    op: 'remove',
    section: section.name,
    key,
    before: field,
    after: null,
    evidence: null,
  }));
  return {
    profile: { sections: profile.sections.filter((_, i) => i !== index), updatedAt: now },
    applied,
    rejected: [],
  };
}
