import { applyChanges, userSetChange } from './apply';
import {
  DEFAULT_SECTIONS,
  MAX_FIELDS_PER_SECTION,
  MAX_SECTIONS,
  emptyProfile,
  sectionTemplate,
} from './defaults';
import { cleanText, isForbiddenName } from './normalize';
import type { Profile, ProfileChange, ProfileRevision, ProfileSection } from './types';
import { isPlainObject, ownValue, quoteForMessage, validateProfile } from './validate';
import type { Result, ValueResult } from '../result';

export { validateProfile, type ProfileValidation } from './validate';

/**
 * Profile files in and out. Two formats are read: our own versioned export, and the persona files
 * released with the AI PERSONA paper's PersonaBench. Every file is treated as hostile: too long,
 * too deep, wrong types, reserved keys and over-long values are refused with a message the user
 * can act on, and nothing is ever cut to fit.
 *
 * Decisions for PersonaBench files:
 * - Values become `user` fields without evidence: importing a file is the user stating who they are,
 *   so the optimizer must not overwrite it (the user can still edit or remove any field).
 * - MBTI letters become readable values, `I (introversion)`, keeping the letter for the model.
 * - Lists join with ", "; numbers (an age) become text; empty values are skipped.
 * - `Name` and `scenes` are ignored: the paper's names are synthetic and scenes are test dialogue.
 * - `Preferred_Format` (older files) is read as `Preferred_Formats`, which wins when both exist.
 *   `Preferred_Workflows` is accepted inside `Preference` or at the top level.
 * - Unknown keys inside a known section are kept as fields, underscores read as spaces, so no
 *   information is lost silently; unknown top-level keys are ignored.
 */

const PROFILE_EXPORT_FORMAT = 'persona-profile';
const PROFILE_EXPORT_VERSION = 1;
/** A real profile is a few kilobytes; this only stops a pasted dump from freezing the tab. */
export const MAX_IMPORT_CHARS = 1_000_000;
/** Our format nests five levels; anything much deeper is not a profile. */
export const MAX_IMPORT_DEPTH = 32;
/** Keys read from any one object; a profile section holds at most MAX_FIELDS_PER_SECTION. */
const MAX_KEYS_PER_OBJECT = 200;
const MAX_LIST_ITEMS = 50;

export interface ProfileExport {
  format: typeof PROFILE_EXPORT_FORMAT;
  version: typeof PROFILE_EXPORT_VERSION;
  /** ISO 8601. */
  exportedAt: string;
  profile: Profile;
  revisions?: ProfileRevision[];
}

export type ProfileImport = Result<{ profile: Profile; format: 'persona' | 'personabench' }>;

export function exportProfile(
  profile: Profile,
  now: number,
  revisions?: readonly ProfileRevision[],
): ProfileExport {
  const file: ProfileExport = {
    format: PROFILE_EXPORT_FORMAT,
    version: PROFILE_EXPORT_VERSION,
    exportedAt: new Date(now).toISOString(),
    profile,
  };
  if (revisions !== undefined) file.revisions = [...revisions];
  return file;
}

/**
 * Nesting depth of JSON text, counted without parsing, so a depth bomb is refused before
 * `JSON.parse` or any later walk can recurse into it.
 */
export function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (inString) {
      if (char === '\\') i++;
      else if (char === '"') inString = false;
    } else if (char === '"') {
      inString = true;
    } else if (char === '{' || char === '[') {
      depth++;
      if (depth > deepest) deepest = depth;
    } else if (char === '}' || char === ']') {
      depth--;
    }
  }
  return deepest;
}

const fail = (error: string): ProfileImport => ({ ok: false, error });

/** Accepts JSON text or an already parsed value, in our export format or PersonaBench's. */
export function parseProfileImport(json: unknown, now: number): ProfileImport {
  let root = json;
  if (typeof json === 'string') {
    if (json.length > MAX_IMPORT_CHARS) {
      return fail(`The file is too large for a profile (over ${MAX_IMPORT_CHARS} characters).`);
    }
    if (jsonDepth(json) > MAX_IMPORT_DEPTH) {
      return fail('The file is nested too deeply to be a profile.');
    }
    try {
      root = JSON.parse(json);
    } catch {
      return fail('The file is not valid JSON.');
    }
  }
  if (!isPlainObject(root)) return fail('A profile file must hold a JSON object.');
  const keys = Object.keys(root);
  if (keys.length > MAX_KEYS_PER_OBJECT) return fail('The file has too many top-level entries.');
  const reserved = keys.find((key) => isForbiddenName(key));
  if (reserved !== undefined)
    return fail(`The file uses the reserved key ${quoteForMessage(reserved)}.`);

  if (ownValue(root, 'format') !== undefined) return parseOwnFormat(root);
  if (PERSONABENCH_SECTIONS.some((section) => ownValue(root, section.file) !== undefined)) {
    return parsePersonaBench(root, now);
  }
  return fail('This is not a Persona profile export or a PersonaBench persona.');
}

function parseOwnFormat(root: Record<string, unknown>): ProfileImport {
  if (ownValue(root, 'format') !== PROFILE_EXPORT_FORMAT) {
    return fail('The file is not a Persona profile export.');
  }
  const version = ownValue(root, 'version');
  if (version !== PROFILE_EXPORT_VERSION) {
    return fail(
      typeof version === 'number' && version > PROFILE_EXPORT_VERSION
        ? 'The file was made by a newer version of Persona. Update the app and try again.'
        : 'The file has an unknown format version.',
    );
  }
  const checked = validateProfile(ownValue(root, 'profile'));
  if (!checked.ok) return fail(`The profile in the file is damaged: ${checked.error}`);
  // Built-in status comes from the name, not the file, so a file cannot make a section unremovable.
  const sections: ProfileSection[] = checked.profile.sections.map((section) => ({
    ...section,
    builtIn: sectionTemplate(section.name) !== undefined,
  }));
  for (const template of DEFAULT_SECTIONS) {
    if (
      !sections.some((section) => section.builtIn && sectionTemplate(section.name) === template)
    ) {
      sections.push({ name: template.name, builtIn: true, fields: {} });
    }
  }
  if (sections.length > MAX_SECTIONS) {
    return fail(`The profile has more than ${MAX_SECTIONS} sections with the built-in ones.`);
  }
  return { ok: true, format: 'persona', profile: { ...checked.profile, sections } };
}

interface PersonaBenchSection {
  /** Key in the PersonaBench file. */
  file: string;
  /** Our section. */
  section: string;
  /** PersonaBench key to our key; keys not listed are kept with underscores read as spaces. */
  keys: Readonly<Record<string, string>>;
}

const PERSONABENCH_SECTIONS: readonly PersonaBenchSection[] = [
  {
    file: 'Demographics',
    section: 'Demographics',
    keys: {
      Age: 'Age',
      Gender: 'Gender',
      Nationality: 'Nationality',
      Language: 'Languages',
      Career_Information: 'Occupation',
    },
  },
  {
    file: 'Personality',
    section: 'Personality',
    keys: {
      Extraversion_or_Introversion: 'Extraversion or Introversion',
      Sensing_or_Intuition: 'Sensing or Intuition',
      Thinking_or_Feeling: 'Thinking or Feeling',
      Judging_or_Perceiving: 'Judging or Perceiving',
      Values_and_Interests: 'Values and Interests',
    },
  },
  {
    file: 'Pattern',
    section: 'Patterns',
    keys: {
      Behavior_Engagement_Pattern: 'Behavior and Engagement',
      Usage_Pattern: 'Usage',
      Emotion_Pattern: 'Emotion',
      Purchase_Pattern: 'Purchase',
    },
  },
  {
    file: 'Preference',
    section: 'Preferences',
    keys: {
      Preferred_Styles: 'Styles',
      Preferred_Formats: 'Formats',
      Preferred_Format: 'Formats',
      Preferred_Workflows: 'Workflows',
    },
  },
];

const MBTI_LETTERS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'Extraversion or Introversion': { E: 'E (extraversion)', I: 'I (introversion)' },
  'Sensing or Intuition': { S: 'S (sensing)', N: 'N (intuition)' },
  'Thinking or Feeling': { T: 'T (thinking)', F: 'F (feeling)' },
  'Judging or Perceiving': { J: 'J (judging)', P: 'P (perceiving)' },
};

type ValueRead = ValueResult<string | null>;

function readValue(raw: unknown, where: string): ValueRead {
  if (raw === null || raw === undefined) return { ok: true, value: null };
  if (typeof raw === 'string') {
    const value = cleanText(raw);
    return { ok: true, value: value.length === 0 ? null : value };
  }
  if (typeof raw === 'number' && Number.isFinite(raw)) return { ok: true, value: String(raw) };
  if (Array.isArray(raw)) {
    if (raw.length > MAX_LIST_ITEMS) return { ok: false, error: `${where} lists too many items.` };
    const items: string[] = [];
    for (const item of raw) {
      if (typeof item === 'string') {
        const clean = cleanText(item);
        if (clean.length > 0) items.push(clean);
      } else if (typeof item === 'number' && Number.isFinite(item)) {
        items.push(String(item));
      } else {
        return { ok: false, error: `${where} must list text only.` };
      }
    }
    return { ok: true, value: items.length === 0 ? null : items.join(', ') };
  }
  return { ok: false, error: `${where} must be text, a number or a list of text.` };
}

function readableKey(fileKey: string): string {
  return cleanText(fileKey.replace(/_/gu, ' '));
}

function parsePersonaBench(root: Record<string, unknown>, now: number): ProfileImport {
  const changes: ProfileChange[] = [];
  const origins: string[] = [];
  const seen = new Set<string>();
  const add = (section: string, key: string, raw: unknown, origin: string): string | null => {
    const folded = `${section}\u0000${key.toLowerCase()}`;
    if (seen.has(folded)) return null;
    const read = readValue(raw, origin);
    if (!read.ok) return read.error;
    if (read.value === null) return null;
    seen.add(folded);
    const letters = MBTI_LETTERS[key];
    const value = letters?.[read.value.toUpperCase()] ?? read.value;
    changes.push(userSetChange(section, key, value));
    origins.push(origin);
    return null;
  };

  for (const mapping of PERSONABENCH_SECTIONS) {
    const rawSection = ownValue(root, mapping.file);
    if (rawSection === undefined || rawSection === null) continue;
    if (!isPlainObject(rawSection)) return fail(`"${mapping.file}" must be an object.`);
    const fileKeys = Object.keys(rawSection);
    if (fileKeys.length > MAX_KEYS_PER_OBJECT)
      return fail(`"${mapping.file}" has too many entries.`);
    const reserved = fileKeys.find((key) => isForbiddenName(key));
    if (reserved !== undefined) {
      return fail(`"${mapping.file}" uses the reserved key ${quoteForMessage(reserved)}.`);
    }
    // Known keys first, in the file's documented order, so that Preferred_Formats beats the legacy key.
    const ordered = [
      ...Object.keys(mapping.keys).filter((key) => fileKeys.includes(key)),
      ...fileKeys.filter((key) => !Object.hasOwn(mapping.keys, key)),
    ];
    for (const fileKey of ordered) {
      const key = Object.hasOwn(mapping.keys, fileKey) ? mapping.keys[fileKey] : undefined;
      const error = add(
        mapping.section,
        key ?? readableKey(fileKey),
        ownValue(rawSection, fileKey),
        `"${mapping.file}.${fileKey}"`,
      );
      if (error !== null) return fail(error);
    }
  }
  const topLevelWorkflows = ownValue(root, 'Preferred_Workflows');
  if (topLevelWorkflows !== undefined) {
    const error = add('Preferences', 'Workflows', topLevelWorkflows, '"Preferred_Workflows"');
    if (error !== null) return fail(error);
  }

  // A file with every value empty would replace the whole profile with nothing, unasked.
  if (changes.length === 0) {
    return fail('The file holds no values to import, so it would only empty the profile.');
  }
  const counts = new Map<string, number>();
  for (const change of changes) counts.set(change.section, (counts.get(change.section) ?? 0) + 1);
  for (const [section, count] of counts) {
    if (count > MAX_FIELDS_PER_SECTION) {
      return fail(`${section} would have more than ${MAX_FIELDS_PER_SECTION} fields.`);
    }
  }
  const result = applyChanges(emptyProfile(now), changes, { actor: 'user', now });
  const first = result.rejected[0];
  if (first !== undefined) {
    const index = changes.indexOf(first.raw as ProfileChange);
    const origin = origins[index] ?? 'A value';
    return fail(`${origin} cannot be imported: ${first.detail}.`);
  }
  const checked = validateProfile(result.profile);
  return checked.ok
    ? { ok: true, format: 'personabench', profile: checked.profile }
    : fail(checked.error);
}
