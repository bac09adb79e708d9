/**
 * Reads a JSON document of the shape `{"key": value, "table": [row, row, …], …}` from text that
 * arrives in pieces, handing over each top-level member and each element of a top-level array as
 * soon as it is complete, so a backup of any size is read holding one row at a time (issue 11).
 *
 * Only the outer object and its arrays are walked here, character by character; each row is then
 * given to `JSON.parse`, which checks it fully. No general streaming JSON library is needed, and
 * the layout of the text does not matter: rows on one line each (the exporter's) and the
 * pretty-printed files of older versions read alike.
 *
 * Hostile input is bounded per value, not per file: no row (or top-level member) may be longer
 * than `maxValueChars` or nested deeper than `maxDepth` counting the levels above it, and top-level
 * keys are short. A file that is not an object is read as one bounded value so its error says
 * what is wrong with it.
 */

export interface JsonRowHandler {
  /** A top-level member whose value is not an array. */
  member(key: string, value: unknown): void;
  /** A top-level member whose value is an array: its rows follow, then `arrayEnd`. */
  arrayStart(key: string): void;
  row(key: string, index: number, value: unknown): void;
  arrayEnd(key: string, count: number): void;
  /** The whole document when it is not an object (the caller refuses it). */
  notAnObject(value: unknown): void;
}

export type JsonRowErrorKind = 'syntax' | 'depth' | 'too-long';

export class JsonRowError extends Error {
  constructor(
    readonly kind: JsonRowErrorKind,
    message: string,
    /** For `too-long`: where the value is, e.g. `messages[12]`. */
    readonly path = '',
  ) {
    super(message);
    this.name = 'JsonRowError';
  }
}

export interface JsonRowLimits {
  /** Characters of one row or top-level member as it stands in the file. */
  maxValueChars: number;
  /** Nesting of the whole document, counted as `jsonDepth` counts it. */
  maxDepth: number;
}

const MAX_KEY_CHARS = 1000;

const enum State {
  Start,
  FirstKey,
  Key,
  Colon,
  MemberValue,
  FirstRow,
  Row,
  AfterRow,
  AfterMember,
  RootValue,
  Done,
}

const QUOTE = 34;
const BACKSLASH = 92;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const COMMA = 44;
const COLON = 58;

const isSpace = (c: number): boolean => c === 32 || c === 10 || c === 13 || c === 9;

/** A value being scanned: where it began in the buffer and how far the scan has come. */
interface ValueScan {
  start: number;
  /** The next character to look at. */
  at: number;
  depth: number;
  inString: boolean;
  /** Whether it is a number, `true`, `false` or `null`, which end at a delimiter. */
  bare: boolean;
}

export class JsonRowSplitter {
  readonly #handler: JsonRowHandler;
  readonly #limits: JsonRowLimits;
  #buffer = '';
  #pos = 0;
  #state = State.Start;
  #key = '';
  #index = 0;
  #scan: ValueScan | null = null;
  /** Open containers around the value being scanned: 2 for a row, 1 for a member, 0 for a root. */
  #levelsAbove = 0;
  #ended = false;

  constructor(handler: JsonRowHandler, limits: JsonRowLimits) {
    this.#handler = handler;
    this.#limits = limits;
  }

  /** Reads the next piece of text; rows completed by it are handed over before this returns. */
  push(text: string): void {
    if (this.#ended) throw new Error('push after end');
    // Keep only what is not consumed yet: at most the value being scanned, which is bounded.
    const keepFrom = this.#scan ? this.#scan.start : this.#pos;
    if (this.#scan) {
      this.#scan.at -= keepFrom;
      this.#scan.start = 0;
    }
    this.#buffer = this.#buffer.slice(keepFrom) + text;
    this.#pos -= keepFrom;
    this.#run();
  }

  /** The text is complete: anything left open is a syntax error. */
  end(): void {
    this.#ended = true;
    this.#run();
    if (this.#state !== State.Done) throw syntax('the file ends too early');
  }

  #run(): void {
    const b = this.#buffer;
    for (;;) {
      if (this.#scan) {
        if (!this.#scanValue()) return;
        continue;
      }
      // Skip white space between tokens.
      while (this.#pos < b.length && isSpace(b.charCodeAt(this.#pos))) this.#pos++;
      if (this.#pos >= b.length) return;
      const c = b.charCodeAt(this.#pos);
      switch (this.#state) {
        case State.Start:
          if (c === OPEN_BRACE) {
            this.#pos++;
            this.#state = State.FirstKey;
          } else {
            this.#state = State.RootValue;
            this.#beginValue(0);
          }
          break;
        case State.FirstKey:
          if (c === CLOSE_BRACE) {
            this.#pos++;
            this.#state = State.Done;
            break;
          }
          if (!this.#readKey()) return;
          break;
        case State.Key:
          if (!this.#readKey()) return;
          break;
        case State.Colon:
          if (c !== COLON) throw syntax('a ":" is missing after a key');
          this.#pos++;
          this.#state = State.MemberValue;
          break;
        case State.MemberValue:
          if (c === OPEN_BRACKET) {
            this.#pos++;
            this.#index = 0;
            this.#state = State.FirstRow;
            this.#handler.arrayStart(this.#key);
          } else {
            this.#beginValue(1);
          }
          break;
        case State.FirstRow:
          if (c === CLOSE_BRACKET) {
            this.#endArray();
            break;
          }
          this.#beginValue(2);
          break;
        case State.Row:
          this.#beginValue(2);
          break;
        case State.AfterRow:
          if (c === COMMA) {
            this.#pos++;
            this.#state = State.Row;
          } else if (c === CLOSE_BRACKET) {
            this.#endArray();
          } else {
            throw syntax('a "," or "]" is missing after a row');
          }
          break;
        case State.AfterMember:
          if (c === COMMA) {
            this.#pos++;
            this.#state = State.Key;
          } else if (c === CLOSE_BRACE) {
            this.#pos++;
            this.#state = State.Done;
          } else {
            throw syntax('a "," or "}" is missing after a value');
          }
          break;
        case State.Done:
          throw syntax('there is more after the end of the file');
        case State.RootValue:
          throw syntax('unexpected text');
      }
    }
  }

  #endArray(): void {
    this.#pos++;
    this.#state = State.AfterMember;
    this.#handler.arrayEnd(this.#key, this.#index);
  }

  /** Reads `"key"` and returns false when the buffer ends inside it. */
  #readKey(): boolean {
    const b = this.#buffer;
    if (b.charCodeAt(this.#pos) !== QUOTE) throw syntax('a key is missing');
    let i = this.#pos + 1;
    for (; i < b.length; i++) {
      const c = b.charCodeAt(i);
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) break;
      if (i - this.#pos > MAX_KEY_CHARS) throw syntax('a key is too long');
    }
    if (i >= b.length) {
      if (this.#ended) throw syntax('the file ends inside a key');
      return false;
    }
    this.#key = parse(b.slice(this.#pos, i + 1)) as string;
    this.#pos = i + 1;
    this.#state = State.Colon;
    return true;
  }

  /** `levelsAbove`: the containers this value sits in (the outer object, and its array for a row). */
  #beginValue(levelsAbove: number): void {
    const c = this.#buffer.charCodeAt(this.#pos);
    this.#scan = {
      start: this.#pos,
      at: this.#pos,
      depth: levelsAbove,
      inString: false,
      bare: c !== OPEN_BRACE && c !== OPEN_BRACKET && c !== QUOTE,
    };
    this.#levelsAbove = levelsAbove;
  }

  /** Scans the current value; returns false when the buffer ends before the value does. */
  #scanValue(): boolean {
    const scan = this.#scan as ValueScan;
    const b = this.#buffer;
    const base = this.#levelsAbove;
    const maxDepth = this.#limits.maxDepth;
    let { at, depth, inString } = scan;
    let done = false;
    if (scan.bare) {
      while (at < b.length) {
        const c = b.charCodeAt(at);
        if (c === COMMA || c === CLOSE_BRACE || c === CLOSE_BRACKET || isSpace(c)) {
          done = true;
          break;
        }
        at++;
      }
      if (!done && this.#ended) done = true;
    } else {
      while (at < b.length) {
        const c = b.charCodeAt(at);
        if (inString) {
          if (c === BACKSLASH) {
            // The escaped character may be in the next piece: look at the backslash again then.
            if (at + 1 >= b.length) break;
            at += 2;
            continue;
          }
          if (c === QUOTE) inString = false;
        } else if (c === QUOTE) {
          inString = true;
        } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
          depth++;
          if (depth > maxDepth) throw new JsonRowError('depth', 'The file is nested too deeply.');
        } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
          depth--;
        }
        at++;
        if (depth === base && !inString) {
          done = true;
          break;
        }
      }
    }
    if (at - scan.start > this.#limits.maxValueChars) {
      const path = this.#pathOfValue();
      throw new JsonRowError(
        'too-long',
        `${path} is longer than ${this.#limits.maxValueChars} characters`,
        path,
      );
    }
    if (!done) {
      scan.at = at;
      scan.depth = depth;
      scan.inString = inString;
      if (this.#ended) throw syntax('the file ends inside a value');
      return false;
    }
    const value = parse(b.slice(scan.start, at));
    this.#scan = null;
    this.#pos = at;
    this.#deliver(value);
    return true;
  }

  #pathOfValue(): string {
    if (this.#state === State.FirstRow || this.#state === State.Row) {
      return `${this.#key}[${this.#index}]`;
    }
    if (this.#state === State.RootValue) return 'the file';
    return this.#key;
  }

  #deliver(value: unknown): void {
    switch (this.#state) {
      case State.FirstRow:
      case State.Row:
        this.#handler.row(this.#key, this.#index++, value);
        this.#state = State.AfterRow;
        break;
      case State.MemberValue:
        this.#handler.member(this.#key, value);
        this.#state = State.AfterMember;
        break;
      default:
        this.#state = State.Done;
        this.#handler.notAnObject(value);
    }
  }
}

const syntax = (message: string) =>
  new JsonRowError('syntax', `The file is not valid JSON: ${message}.`);

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw syntax('a value could not be read');
  }
}
