/**
 * The words of a text as search terms, the same way for what is stored and what is searched:
 * lowercase, compatibility forms unified and diacritics folded (so "cafe" finds "Café"), words
 * found by `Intl.Segmenter` where the runtime has it (Thai and other languages written without
 * spaces need it), and Chinese, Japanese and Korean as overlapping character pairs. Pairs need no
 * dictionary and find a word whatever its neighbours: a dictionary segmenter splits the same
 * characters differently in a message and in a three-character query.
 */

/** Longer words (a URL, base64) are cut here: enough to tell words apart, keeps keys small. */
export const MAX_TERM_LENGTH = 32;
/** Only this much of a message is indexed; a model reply is far shorter. */
export const MAX_INDEXED_CHARS = 100_000;

export interface Token {
  term: string;
  /** Where the word is in the text, in UTF-16 code units, end exclusive. */
  start: number;
  end: number;
  /** One character of Chinese, Japanese or Korean, or a pair of them. */
  cjk: boolean;
}

// Scripts written without spaces between words, and the Korean script whose words are long
// compounds; U+30FC is the katakana long-vowel mark, which Unicode files under Common.
const CJK_RUN =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\u30fc\uff66-\uff9f]+/gu;
const FALLBACK_WORD = /[\p{L}\p{N}\p{M}]+(?:['’][\p{L}\p{N}\p{M}]+)*/gu;

type WordSegmenter = (text: string) => Iterable<{ segment: string; index: number }>;

function makeSegmenter(): WordSegmenter {
  if (typeof Intl.Segmenter === 'function') {
    const segmenter = new Intl.Segmenter(undefined, { granularity: 'word' });
    return function* (text) {
      for (const part of segmenter.segment(text)) if (part.isWordLike === true) yield part;
    };
  }
  return function* (text) {
    for (const match of text.matchAll(FALLBACK_WORD))
      yield { segment: match[0], index: match.index };
  };
}

let segmenter: WordSegmenter | null = null;

/** A word as a term: NFKD splits accents off letters, which are then dropped. */
export function foldWord(word: string): string {
  const folded = word.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase().replace(/[’‘]/g, "'");
  return cut(folded);
}

/** Kana voicing marks change the word (か, が), so CJK keeps them: NFKC only unifies widths. */
function foldCjk(text: string): string {
  return text.normalize('NFKC');
}

function cut(term: string): string {
  if (term.length <= MAX_TERM_LENGTH) return term;
  const code = term.charCodeAt(MAX_TERM_LENGTH - 1);
  return term.slice(0, code >= 0xd800 && code <= 0xdbff ? MAX_TERM_LENGTH - 1 : MAX_TERM_LENGTH);
}

/** Every term of `text` in order, with where it is; the same term may appear more than once. */
export function tokenize(text: string): Token[] {
  const words = (segmenter ??= makeSegmenter());
  const source = text.length > MAX_INDEXED_CHARS ? text.slice(0, MAX_INDEXED_CHARS) : text;
  const tokens: Token[] = [];
  let from = 0;
  const addWords = (end: number) => {
    if (end <= from) return;
    const gap = source.slice(from, end);
    for (const { segment, index } of words(gap)) {
      const term = foldWord(segment);
      if (term !== '') {
        const start = from + index;
        tokens.push({ term, start, end: start + segment.length, cjk: false });
      }
    }
  };
  for (const run of source.matchAll(CJK_RUN)) {
    addWords(run.index);
    const chars: { char: string; at: number }[] = [];
    let at = run.index;
    for (const char of run[0]) {
      chars.push({ char, at });
      at += char.length;
    }
    const [only] = chars;
    if (chars.length === 1 && only) {
      tokens.push({ term: foldCjk(only.char), start: only.at, end: at, cjk: true });
    }
    for (let i = 0; i + 1 < chars.length; i++) {
      const first = chars[i];
      const second = chars[i + 1];
      if (!first || !second) continue;
      tokens.push({
        term: foldCjk(first.char + second.char),
        start: first.at,
        end: second.at + second.char.length,
        cjk: true,
      });
    }
    from = at;
  }
  addWords(source.length);
  return tokens;
}

/** The distinct terms of a text: what the index stores for it. */
export function termsOf(text: string): string[] {
  return [...new Set(tokenize(text).map((token) => token.term))];
}
