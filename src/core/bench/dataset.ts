import { MAX_ID_LENGTH } from '../profile/defaults';
import {
  MAX_IMPORT_CHARS,
  MAX_IMPORT_DEPTH,
  jsonDepth,
  parseProfileImport,
} from '../profile/import-export';
import { cleanText, hasControlCharacters, isForbiddenName } from '../profile/normalize';
import type { Profile } from '../profile/types';
import { isPlainObject, ownValue, quoteForMessage } from '../profile/validate';
import type { BenchChange, BenchDataset, BenchPersona, BenchScene } from './types';
import type { Result } from '../result';

/**
 * Reads a PersonaBench folder, given as its files' paths (relative to the folder) and texts, into a
 * `BenchDataset`. Pure: the Lab view fetches the files, the CLI reads them from disk. Every file is
 * hostile input: sizes and nesting are bounded before parsing, reserved keys anywhere are refused,
 * values are read as own data properties only, and each error names the file and the scene.
 *
 * Accepted layouts (described for users in `public/personabench/README.md`):
 * - ours: `<id>/persona.json` (a golden persona in the PersonaBench dictionary format, or a Persona
 *   profile export) and `<id>/scenes.json` (a list of scenes); when `scenes.json` is absent, a
 *   `scenes` list inside `persona.json` is used;
 * - the released PersonaBench data (`data/generated_data/<name>.json` in the paper's repository):
 *   `<id>.json` holding the persona's sections at the top level beside a `scenes` list, with the
 *   display name in `Name` or `Demographics.Name`;
 * - `<id>.json` holding `{"persona": {...}, "scenes": [...]}`.
 * An optional `index.json` orders the personas (by where their files first appear in its `files`)
 * and declares the facts that change mid-way (`changes`). Other files are ignored with a warning.
 */

/** One persona file with all its scenes is a few tens of kilobytes in the released data. */
export const MAX_DATASET_FILE_CHARS = MAX_IMPORT_CHARS;
/** The whole folder: the paper's 200 personas take about 4 MB. */
const MAX_DATASET_CHARS = 40_000_000;
const MAX_DATASET_FILES = 2000;
const MAX_DATASET_PERSONAS = 500;
const MAX_SCENES_PER_PERSONA = 200;
/** One scene field; the released scene contexts reach a few thousand characters. */
const MAX_SCENE_FIELD_CHARS = 20_000;
const MAX_NAME_CHARS = 100;
const MAX_CHANGES_PER_PERSONA = 20;

export interface DatasetFile {
  /** Relative to the dataset folder, e.g. `mara-lisbon/scenes.json`; `\` is read as `/`. */
  path: string;
  text: string;
}

export type DatasetLoad = Result<{ dataset: BenchDataset; warnings: string[] }>;

/** Scene keys in the files, in the order errors are reported, and where each one goes. */
const SCENE_FIELDS = [
  ['scene_type', 'type'],
  ['scene_desc', 'description'],
  ['scene_context', 'context'],
  ['expected_response', 'expectedResponse'],
  ['personalized_query', 'personalizedQuery'],
  ['neutralized_query', 'neutralizedQuery'],
] as const satisfies readonly (readonly [string, keyof BenchScene])[];

/** Without these a session cannot be played or judged; the others may be empty. */
const NON_EMPTY_SCENE_FIELDS: ReadonlySet<string> = new Set([
  'scene_desc',
  'expected_response',
  'neutralized_query',
]);

class DatasetError extends Error {}

function fail(message: string): never {
  throw new DatasetError(message);
}

interface PersonaParts {
  id: string;
  /** Where the persona's files first appear, for ordering by the index. */
  paths: string[];
  persona?: { path: string; value: Record<string, unknown> };
  scenes?: { path: string; value: unknown };
}

export function loadBenchDataset(
  name: string,
  files: readonly DatasetFile[],
  now: number,
): DatasetLoad {
  try {
    const warnings: string[] = [];
    const dataset = readDataset(name, files, now, warnings);
    return { ok: true, dataset, warnings };
  } catch (error) {
    if (error instanceof DatasetError) return { ok: false, error: error.message };
    throw error;
  }
}

function readDataset(
  name: string,
  files: readonly DatasetFile[],
  now: number,
  warnings: string[],
): BenchDataset {
  if (files.length > MAX_DATASET_FILES) {
    fail(`The dataset has more than ${MAX_DATASET_FILES} files.`);
  }
  let total = 0;
  for (const file of files) total += file.text.length;
  if (total > MAX_DATASET_CHARS) {
    fail(`The dataset is too large (over ${MAX_DATASET_CHARS} characters in all).`);
  }

  const parts = new Map<string, PersonaParts>();
  const partsFor = (id: string, path: string): PersonaParts => {
    let entry = parts.get(id);
    if (entry === undefined) {
      entry = { id, paths: [] };
      parts.set(id, entry);
    }
    entry.paths.push(path);
    return entry;
  };
  let index: { path: string; value: unknown } | undefined;
  const seenPaths = new Set<string>();

  for (const file of files) {
    const path = normalizePath(file.path);
    if (seenPaths.has(path)) fail(`${path} is given twice.`);
    seenPaths.add(path);
    const segments = path.split('/');
    const base = segments[segments.length - 1] ?? '';
    const folder = segments.length > 1 ? segments[segments.length - 2] : undefined;
    if (!base.toLowerCase().endsWith('.json')) {
      warnings.push(`${path}: not a JSON file, ignored.`);
      continue;
    }
    if (base === 'index.json') {
      if (segments.length === 1) index = { path, value: parseJson(path, file.text) };
      else warnings.push(`${path}: only the folder's own index.json is read; ignored.`);
      continue;
    }
    if (base === 'persona.json' || base === 'scenes.json') {
      if (folder === undefined) {
        fail(`${path} must be inside a folder named for the persona.`);
      }
      const entry = partsFor(personaId(folder, path), path);
      const value = parseJson(path, file.text);
      if (base === 'persona.json') {
        if (entry.persona !== undefined) fail(`${path}: persona "${entry.id}" is given twice.`);
        if (!isPlainObject(value)) fail(`${path}: a persona must be a JSON object.`);
        entry.persona = { path, value };
      } else {
        if (entry.scenes !== undefined)
          fail(`${path}: the scenes of "${entry.id}" are given twice.`);
        entry.scenes = { path, value };
      }
      continue;
    }
    const id = personaId(base.slice(0, -'.json'.length), path);
    const value = parseJson(path, file.text);
    if (!isPlainObject(value)) {
      fail(`${path}: expected an object holding a persona and its "scenes".`);
    }
    const entry = partsFor(id, path);
    if (entry.persona !== undefined || entry.scenes !== undefined) {
      fail(`${path}: persona "${id}" is given twice.`);
    }
    const wrapped = ownValue(value, 'persona');
    if (wrapped !== undefined) {
      if (!isPlainObject(wrapped)) fail(`${path}: "persona" must be an object.`);
      entry.persona = { path, value: wrapped };
    } else {
      entry.persona = { path, value };
    }
    entry.scenes = { path, value: ownValue(value, 'scenes') };
  }

  const order =
    index === undefined
      ? new Map<string, number>()
      : readIndexFiles(index.path, index.value, seenPaths, warnings);
  const ids = [...parts.keys()].sort(
    (a, b) => rank(parts, order, a) - rank(parts, order, b) || (a < b ? -1 : a > b ? 1 : 0),
  );
  if (ids.length === 0) fail('The dataset holds no personas.');
  if (ids.length > MAX_DATASET_PERSONAS) {
    fail(`The dataset has more than ${MAX_DATASET_PERSONAS} personas.`);
  }

  const personas: BenchPersona[] = [];
  for (const id of ids) {
    const entry = parts.get(id);
    if (entry === undefined) continue;
    personas.push(readPersona(entry, now));
  }
  if (index !== undefined) readChanges(index.path, index.value, personas, warnings);

  const datasetName = cleanText(name);
  const indexName =
    index !== undefined && isPlainObject(index.value) ? ownValue(index.value, 'name') : undefined;
  return {
    name:
      datasetName.length > 0
        ? datasetName
        : typeof indexName === 'string' && cleanText(indexName).length > 0
          ? cleanText(indexName)
          : 'dataset',
    personas,
  };
}

function normalizePath(raw: string): string {
  const path = raw
    .replace(/\\/gu, '/')
    .split('/')
    .filter((segment) => segment.length > 0 && segment !== '.')
    .join('/');
  if (path.length === 0) fail('A file has an empty path.');
  if (path.length > 1000 || hasControlCharacters(path)) {
    fail(`The file path ${quoteForMessage(path)} is not usable.`);
  }
  return path;
}

function personaId(raw: string, path: string): string {
  const id = cleanText(raw);
  if (id.length === 0 || id.length > MAX_ID_LENGTH || id === '..' || isForbiddenName(id)) {
    fail(`${path}: ${quoteForMessage(raw)} cannot name a persona.`);
  }
  return id;
}

function parseJson(path: string, text: string): unknown {
  if (text.length > MAX_DATASET_FILE_CHARS) {
    fail(`${path} is too large (over ${MAX_DATASET_FILE_CHARS} characters).`);
  }
  if (jsonDepth(text) > MAX_IMPORT_DEPTH) fail(`${path} is nested too deeply.`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return fail(`${path} is not valid JSON.`);
  }
  const reserved = findReservedKey(value);
  if (reserved !== null) fail(`${path} uses the reserved key ${quoteForMessage(reserved)}.`);
  return value;
}

/**
 * `JSON.parse` makes `__proto__` an own property, which is harmless until some later spread or
 * assignment copies it onto a plain object; no dataset needs such a key, so the file is refused.
 * The depth was bounded before parsing, so this recursion is too.
 */
function findReservedKey(value: unknown): string | null {
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = findReservedKey(item);
      if (found !== null) return found;
    }
  } else if (typeof value === 'object' && value !== null) {
    for (const key of Object.keys(value)) {
      if (isForbiddenName(key)) return key;
      const found = findReservedKey(ownValue(value, key));
      if (found !== null) return found;
    }
  }
  return null;
}

/** Index of each listed path in the index's `files`, for ordering. */
function readIndexFiles(
  path: string,
  value: unknown,
  given: ReadonlySet<string>,
  warnings: string[],
): Map<string, number> {
  if (!isPlainObject(value)) fail(`${path} must hold an object.`);
  const list = ownValue(value, 'files');
  const order = new Map<string, number>();
  if (list === undefined) return order;
  if (!Array.isArray(list) || list.length > MAX_DATASET_FILES) {
    fail(`${path}: "files" must be a list of at most ${MAX_DATASET_FILES} paths.`);
  }
  for (const [position, item] of list.entries()) {
    if (typeof item !== 'string') fail(`${path}: "files" must list paths as text.`);
    const listed = normalizePath(item);
    if (!order.has(listed)) order.set(listed, position);
    if (!given.has(listed)) warnings.push(`${path} lists ${listed}, which was not given.`);
  }
  return order;
}

function rank(
  parts: ReadonlyMap<string, PersonaParts>,
  order: ReadonlyMap<string, number>,
  id: string,
): number {
  let best = Number.MAX_SAFE_INTEGER;
  for (const path of parts.get(id)?.paths ?? []) {
    const position = order.get(path);
    if (position !== undefined && position < best) best = position;
  }
  return best;
}

function readPersona(entry: PersonaParts, now: number): BenchPersona {
  const persona = entry.persona;
  if (persona === undefined) {
    return fail(`${entry.id}/persona.json is missing (the golden persona of "${entry.id}").`);
  }
  const { name, golden } = readGolden(persona.path, persona.value, entry.id, now);
  let scenes = entry.scenes;
  if (scenes === undefined || (scenes.value === undefined && scenes.path === persona.path)) {
    const inline = ownValue(persona.value, 'scenes');
    if (inline === undefined) {
      return fail(
        scenes === undefined
          ? `${entry.id}/scenes.json is missing (the scenes of "${entry.id}").`
          : `${persona.path}: "scenes" is missing.`,
      );
    }
    scenes = { path: persona.path, value: inline };
  }
  return { id: entry.id, name, golden, scenes: readScenes(scenes.path, scenes.value) };
}

function readGolden(
  path: string,
  root: Record<string, unknown>,
  id: string,
  now: number,
): { name: string; golden: Profile } {
  const demographics = ownValue(root, 'Demographics');
  const rawName =
    ownValue(root, 'Name') ??
    (isPlainObject(demographics) ? ownValue(demographics, 'Name') : undefined);
  let name = id;
  if (rawName !== undefined && rawName !== null) {
    if (typeof rawName !== 'string') fail(`${path}: "Name" must be text.`);
    const clean = cleanText(rawName);
    if (clean.length > MAX_NAME_CHARS)
      fail(`${path}: "Name" is longer than ${MAX_NAME_CHARS} characters.`);
    if (clean.length > 0) name = clean;
  }
  // The name is a synthetic label for the display; as a golden field it would make the learned
  // profile be scored on a name the user may never say. Scenes are test dialogue, not persona.
  // No prototype, so even a key that slipped past the reserved-key check stays a plain entry.
  const persona = Object.create(null) as Record<string, unknown>;
  for (const [key, value] of Object.entries(root)) {
    if (key === 'Name' || key === 'scenes') continue;
    persona[key] =
      key === 'Demographics' && isPlainObject(value)
        ? Object.fromEntries(Object.entries(value).filter(([field]) => field !== 'Name'))
        : value;
  }
  const imported = parseProfileImport(persona, now);
  // A persona with no values is refused there, so a golden profile always has fields.
  if (!imported.ok) return fail(`${path}: ${imported.error}`);
  return { name, golden: imported.profile };
}

function readScenes(path: string, value: unknown): BenchScene[] {
  if (!Array.isArray(value)) return fail(`${path}: the scenes must be a list.`);
  if (value.length === 0) fail(`${path}: there are no scenes.`);
  if (value.length > MAX_SCENES_PER_PERSONA) {
    fail(`${path}: more than ${MAX_SCENES_PER_PERSONA} scenes.`);
  }
  return value.map((raw: unknown, index) => readScene(`${path}, scene ${index + 1}`, raw));
}

function readScene(where: string, raw: unknown): BenchScene {
  if (!isPlainObject(raw)) return fail(`${where}: a scene must be an object.`);
  const scene: Partial<Record<keyof BenchScene, string>> = {};
  for (const [fileKey, key] of SCENE_FIELDS) {
    const value = ownValue(raw, fileKey);
    if (value === undefined || value === null) fail(`${where}: ${fileKey} is missing.`);
    if (typeof value !== 'string') fail(`${where}: ${fileKey} must be text.`);
    let text = value.replace(/\r\n?/gu, '\n');
    if (fileKey === 'neutralized_query') text = stripNeutralizedTags(text);
    text = text.trim();
    if (text.length > MAX_SCENE_FIELD_CHARS) {
      fail(`${where}: ${fileKey} is longer than ${MAX_SCENE_FIELD_CHARS} characters.`);
    }
    if (hasControlCharacters(text)) fail(`${where}: ${fileKey} contains control characters.`);
    if (text.length === 0 && NON_EMPTY_SCENE_FIELDS.has(fileKey))
      fail(`${where}: ${fileKey} is empty.`);
    scene[key] = text;
  }
  return {
    type: scene.type ?? '',
    description: scene.description ?? '',
    context: scene.context ?? '',
    expectedResponse: scene.expectedResponse ?? '',
    personalizedQuery: scene.personalizedQuery ?? '',
    neutralizedQuery: scene.neutralizedQuery ?? '',
  };
}

/**
 * The released files keep the generator's `<neutralized_query>` wrapper, sometimes without its
 * closing tag and with newlines around the text (the paper's code only removed the exact form
 * `<neutralized_query>\n…\n</neutralized_query>`).
 */
export function stripNeutralizedTags(text: string): string {
  return text
    .replace(/^\s*<\s*neutralized_query\s*>/iu, '')
    .replace(/<\s*\/\s*neutralized_query\s*>\s*$/iu, '');
}

/**
 * `changes` in index.json: `{ "<persona id>": [{ "scene": 6, "section": "Demographics",
 * "key": "Location", "before": "Berlin", "after": "Lisbon" }] }`. `scene` is the 1-based number of
 * the first scene in which `after` holds; `section`/`key` name a field of the converted golden
 * persona, whose value (the state at the end) must mention `after`.
 */
function readChanges(
  path: string,
  index: unknown,
  personas: readonly BenchPersona[],
  warnings: string[],
): void {
  if (!isPlainObject(index)) return;
  const raw = ownValue(index, 'changes');
  if (raw === undefined) return;
  if (!isPlainObject(raw)) fail(`${path}: "changes" must be an object keyed by persona id.`);
  for (const [id, list] of Object.entries(raw)) {
    const persona = personas.find((candidate) => candidate.id === id);
    if (persona === undefined) {
      warnings.push(
        `${path}: "changes" names ${quoteForMessage(id)}, which is not in the dataset.`,
      );
      continue;
    }
    const where = `${path}, changes of "${id}"`;
    if (!Array.isArray(list) || list.length === 0 || list.length > MAX_CHANGES_PER_PERSONA) {
      fail(`${where}: must be a list of 1 to ${MAX_CHANGES_PER_PERSONA} changes.`);
    }
    persona.changes = list.map((item: unknown, position: number) =>
      readChange(`${where}, change ${position + 1}`, item, persona),
    );
  }
}

function readChange(where: string, item: unknown, persona: BenchPersona): BenchChange {
  if (!isPlainObject(item)) return fail(`${where}: must be an object.`);
  const scene = ownValue(item, 'scene');
  if (
    typeof scene !== 'number' ||
    !Number.isInteger(scene) ||
    scene < 2 ||
    scene > persona.scenes.length
  ) {
    fail(`${where}: "scene" must be a scene number from 2 to ${persona.scenes.length}.`);
  }
  const text = (key: string): string => {
    const value = ownValue(item, key);
    if (
      typeof value !== 'string' ||
      cleanText(value).length === 0 ||
      value.length > MAX_NAME_CHARS
    ) {
      return fail(`${where}: "${key}" must be short, non-empty text.`);
    }
    return cleanText(value);
  };
  const change: BenchChange = {
    sceneIndex: scene - 1,
    section: text('section'),
    key: text('key'),
    before: text('before'),
    after: text('after'),
  };
  const section = persona.golden.sections.find((candidate) => candidate.name === change.section);
  const field = section === undefined ? undefined : ownValue(section.fields, change.key);
  if (!isPlainObject(field) || typeof field.value !== 'string') {
    return fail(`${where}: the golden persona has no field ${change.section} › ${change.key}.`);
  }
  if (!field.value.toLowerCase().includes(change.after.toLowerCase())) {
    fail(
      `${where}: the golden ${change.section} › ${change.key} does not mention "${change.after}" (the golden persona is the state at the end).`,
    );
  }
  return change;
}
