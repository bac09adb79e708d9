/**
 * The backup reader's splitter (issue 11): rows come out the same however the text is cut into
 * pieces, and what is not JSON, too deep or too long is refused with the row's path.
 */
import { describe, expect, it } from 'vitest';
import {
  JsonRowError,
  JsonRowSplitter,
  type JsonRowHandler,
  type JsonRowLimits,
} from '../../src/core/backup/json-rows';

type Event = [string, ...unknown[]];

function events(pieces: readonly string[], limits: Partial<JsonRowLimits> = {}): Event[] {
  const seen: Event[] = [];
  const handler: JsonRowHandler = {
    member: (key, value) => seen.push(['member', key, value]),
    arrayStart: (key) => seen.push(['start', key]),
    row: (key, index, value) => seen.push(['row', key, index, value]),
    arrayEnd: (key, count) => seen.push(['end', key, count]),
    notAnObject: (value) => seen.push(['root', value]),
  };
  const splitter = new JsonRowSplitter(handler, {
    maxValueChars: 1_000_000,
    maxDepth: 32,
    ...limits,
  });
  for (const piece of pieces) splitter.push(piece);
  splitter.end();
  return seen;
}

/** The text cut every `size` characters. */
const cut = (text: string, size: number): string[] =>
  Array.from({ length: Math.ceil(text.length / size) }, (_, i) =>
    text.slice(i * size, (i + 1) * size),
  );

const errorOf = (pieces: readonly string[], limits: Partial<JsonRowLimits> = {}): JsonRowError => {
  try {
    events(pieces, limits);
  } catch (error) {
    if (error instanceof JsonRowError) return error;
    throw error;
  }
  throw new Error('not refused');
};

const DOCUMENT = {
  format: 'persona-backup',
  version: 1,
  rows: [
    { id: 'a', text: 'quote " and backslash \\ and \\" and \n newline' },
    { id: 'b', text: 'Grüße, 日本語, emoji 😀, tab \t', nested: [[1, 2], { deep: [true, null] }] },
    'a string row ]}',
    42.5e3,
    -1,
    true,
    null,
  ],
  empty: [],
  profile: { id: 'current', list: [1, 2, 3] },
  last: null,
};

const EXPECTED: Event[] = [
  ['member', 'format', 'persona-backup'],
  ['member', 'version', 1],
  ['start', 'rows'],
  ...DOCUMENT.rows.map((row, i): Event => ['row', 'rows', i, row]),
  ['end', 'rows', DOCUMENT.rows.length],
  ['start', 'empty'],
  ['end', 'empty', 0],
  ['member', 'profile', DOCUMENT.profile],
  ['member', 'last', null],
];

describe('JsonRowSplitter', () => {
  it('hands over every row and member, whatever the layout', () => {
    expect(events([JSON.stringify(DOCUMENT)])).toEqual(EXPECTED);
    // The pretty-printed files older versions wrote read alike.
    expect(events([JSON.stringify(DOCUMENT, null, 2)])).toEqual(EXPECTED);
    expect(events([JSON.stringify(DOCUMENT, null, '\t')])).toEqual(EXPECTED);
  });

  it('gives the same rows however the text is cut: inside strings, escapes, numbers and keys', () => {
    const text = JSON.stringify(DOCUMENT, null, 1);
    for (const size of [1, 2, 3, 5, 7, 13, 64]) {
      expect(events(cut(text, size)), `pieces of ${size}`).toEqual(EXPECTED);
    }
    // A piece ending right after a backslash: the escaped quote belongs to the string.
    const escaped = '{"rows":["a\\"b","c"]}';
    const at = escaped.indexOf('\\') + 1;
    expect(events([escaped.slice(0, at), escaped.slice(at)])).toEqual([
      ['start', 'rows'],
      ['row', 'rows', 0, 'a"b'],
      ['row', 'rows', 1, 'c'],
      ['end', 'rows', 2],
    ]);
  });

  it('reads a document that is not an object as one value', () => {
    expect(events(['[1, 2]'])).toEqual([['root', [1, 2]]]);
    expect(events([' "text" '])).toEqual([['root', 'text']]);
  });

  it('refuses what is not JSON', () => {
    for (const text of [
      '',
      '{',
      '{"rows":[1,]}',
      '{"rows":[1 2]}',
      '{"a":1,}',
      '{"a" 1}',
      '{a:1}',
      '{"a":1}}',
      '{"a":1} x',
      '{"rows":[{"a":1]}',
      '{"a":tru}',
      '{"rows":["unterminated]}',
    ]) {
      expect(errorOf(cut(text, 3)).kind, text).toBe('syntax');
    }
  });

  it('refuses nesting deeper than the limit, counting the levels above the row', () => {
    // Object, array and row: a row nested 30 deep makes 32 in all.
    const nested = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;
    expect(events([`{"rows":[${nested(30)}]}`])).toHaveLength(3);
    expect(errorOf([`{"rows":[${nested(31)}]}`]).kind).toBe('depth');
    expect(errorOf([nested(10_000)]).message).toBe('The file is nested too deeply.');
  });

  it('refuses a row longer than the limit with its path, before reading the rest of it', () => {
    const long = `{"rows":["short","${'x'.repeat(200)}"]}`;
    const error = errorOf(cut(long, 10), { maxValueChars: 100 });
    expect([error.kind, error.path, error.message]).toEqual([
      'too-long',
      'rows[1]',
      'rows[1] is longer than 100 characters',
    ]);
    expect(errorOf([`{"profile":"${'x'.repeat(200)}"}`], { maxValueChars: 100 }).path).toBe(
      'profile',
    );
  });
});
