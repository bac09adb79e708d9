/** The normaliser, the query as typed, and snippets: the same rules for stored and searched text. */
import { describe, expect, it } from 'vitest';
import { isEmptyQuery, matchesTerms, parseQuery } from '../../src/core/search/query';
import { markedParts, markMatches, snippetOf } from '../../src/core/search/snippet';
import { MAX_TERM_LENGTH, termsOf, tokenize } from '../../src/core/search/terms';

describe('termsOf', () => {
  it('lowercases Latin words and folds their diacritics', () => {
    expect(termsOf('Crème Brûlée at the CAFÉ in Zürich, São Paulo; Łódź? ñandú')).toEqual([
      'creme',
      'brulee',
      'at',
      'the',
      'cafe',
      'in',
      'zurich',
      'sao',
      'paulo',
      // Ł is a letter of its own, not L with a mark: NFKD leaves it, lowercase makes it ł.
      'łodz',
      'nandu',
    ]);
  });

  it('unifies compatibility forms and apostrophes, and keeps numbers', () => {
    expect(termsOf('ＦＵＬＬ width ﬁle don’t 3.14 v2')).toEqual([
      'full',
      'width',
      'file',
      "don't",
      '3.14',
      'v2',
    ]);
  });

  it('splits Chinese, Japanese and Korean into overlapping pairs of characters', () => {
    expect(termsOf('我住在北京')).toEqual(['我住', '住在', '在北', '北京']);
    expect(termsOf('東京タワー')).toEqual(['東京', '京タ', 'タワ', 'ワー']);
    expect(termsOf('한국어')).toEqual(['한국', '국어']);
    // A lone character has no pair: it is its own term.
    expect(termsOf('猫')).toEqual(['猫']);
  });

  it('keeps kana voicing and unifies half-width katakana', () => {
    expect(termsOf('がか')).toEqual(['がか']);
    expect(termsOf('ｶﾀｶﾅ')).toEqual(termsOf('カタカナ'));
  });

  it('handles mixed scripts in one text, with positions in the original text', () => {
    const text = 'Meeting in 東京 at Café Noir';
    const tokens = tokenize(text);
    expect(tokens.map((t) => t.term)).toEqual(['meeting', 'in', '東京', 'at', 'cafe', 'noir']);
    for (const token of tokens) {
      expect(text.slice(token.start, token.end).normalize('NFKD').replace(/\p{M}/gu, '')).toMatch(
        new RegExp(token.term, 'iu'),
      );
    }
  });

  it('cuts very long words and gives each term once', () => {
    const long = 'x'.repeat(500);
    expect(termsOf(`${long} ${long} word word`)).toEqual(['x'.repeat(MAX_TERM_LENGTH), 'word']);
  });

  it('finds nothing in punctuation and space', () => {
    expect(termsOf('  … — !? ')).toEqual([]);
  });
});

describe('parseQuery', () => {
  it('takes the last word being typed as a prefix, the others whole', () => {
    expect(parseQuery('Café berl')).toEqual({ terms: ['cafe'], prefix: 'berl' });
    expect(parseQuery('café berl ')).toEqual({ terms: ['cafe', 'berl'], prefix: null });
  });

  it('searches one letter as a whole word, not as the prefix of most words', () => {
    expect(parseQuery('b')).toEqual({ terms: ['b'], prefix: null });
  });

  it('takes CJK pairs whole and a lone character as the start of a pair', () => {
    expect(parseQuery('北京')).toEqual({ terms: ['北京'], prefix: null });
    expect(parseQuery('北')).toEqual({ terms: [], prefix: '北' });
    expect(parseQuery('trip 北')).toEqual({ terms: ['trip'], prefix: '北' });
  });

  it('is empty without words', () => {
    expect(isEmptyQuery(parseQuery(' ,. '))).toBe(true);
  });

  it('matches a document only when every term is in it (AND) and a word starts with the prefix', () => {
    const doc = termsOf('I moved to Berlin last spring');
    expect(matchesTerms(doc, parseQuery('moved berl'))).toBe(true);
    expect(matchesTerms(doc, parseQuery('moved paris'))).toBe(false);
    expect(matchesTerms(doc, parseQuery('moving berl'))).toBe(false);
  });
});

describe('snippets', () => {
  it('shows the text around the first match with every match inside marked', () => {
    const text = `${'Filler words come first here. '.repeat(6)}Then I moved to Berlin, and the café was great.\n${'More. '.repeat(40)}`;
    const snippet = snippetOf(text, parseQuery('cafe berl'));
    expect(snippet.text.startsWith('…')).toBe(true);
    expect(snippet.text.endsWith('…')).toBe(true);
    expect(snippet.text).not.toContain('\n');
    const marked = markedParts(snippet)
      .filter((part) => part.marked)
      .map((part) => part.text);
    expect(marked).toEqual(['Berlin', 'café']);
  });

  it('marks CJK pairs as one stretch', () => {
    const parts = markedParts(markMatches('我住在北京市', '北京市'));
    expect(parts).toEqual([
      { text: '我住在', marked: false },
      { text: '北京市', marked: true },
    ]);
  });

  it('leaves markup as text: the page renders the parts as text nodes', () => {
    const parts = markedParts(markMatches('<img src=x onerror=alert(1)> Berlin', 'berlin'));
    expect(parts.map((part) => part.text).join('')).toBe('<img src=x onerror=alert(1)> Berlin');
    expect(parts.at(-1)).toEqual({ text: 'Berlin', marked: true });
  });

  it('never cuts an emoji in half', () => {
    const text = `${'😀'.repeat(100)} Berlin ${'😀'.repeat(100)}`;
    const snippet = snippetOf(text, parseQuery('berlin'));
    // Encoding replaces a lone surrogate with U+FFFD; a whole pair survives the round trip.
    const roundTrip = new TextDecoder().decode(new TextEncoder().encode(snippet.text));
    expect(roundTrip).toBe(snippet.text);
    expect(snippet.marks).toHaveLength(1);
  });
});
