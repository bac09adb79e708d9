import { MAX_QUOTE_LENGTH } from '../profile/defaults';
import { ownWordSegments } from './transcript';

/**
 * What may ground a learned value, decided by rule rather than left to the model. Small models
 * copy the prompt's example, quote a question as if it were a fact, and pair a real quote with an
 * invented value; these rules make each of those fail visibly instead of landing in the profile.
 *
 * 1. Evidence comes from the user's *statements*: their own words (see transcript.ts), cut into
 *    sentences, without questions ("Where should I travel in May?"), the question part of a
 *    sentence that ends in one ("I'm vegan, so can you suggest a dinner?" keeps "I'm vegan"), and
 *    conditionals or invitations to pretend ("If I were a teacher…", "Let's play a game…"), which
 *    say nothing true of the user. The generation schema offers exactly these sentences as the
 *    evidence to choose from (schema.ts), so a model picks a quote instead of copying one.
 * 2. A value must say something its evidence says: it shares a content word with the quote
 *    (letters or digits, three or more characters, not a function word; "work" matches "works"),
 *    or a character of a script written without spaces. "Extraversion" quoted from "I'm a big fan
 *    of the Olympics" is refused. So are inferences the user never put in words, and translations:
 *    Persona learns what the user said, in the user's words.
 */

/** Sentence ends, in the scripts users write in; a newline always ends one. */
const SENTENCE_END = /(?<=[.!?;。！？])\s+|(?<=[。！？；])|\n+/u;
const QUESTION_END = /[?？]["'”’)\]]*$/u;
const CLAUSE_SEPARATOR = /[,，、]\s*/u;

/**
 * Openings of sentences that are not about the user as they are: conditionals and invitations to
 * imagine or play, in the languages the app is used in most. Matched at the start of a sentence,
 * as whole words.
 */
const NOT_A_STATEMENT = [
  'if',
  'suppose',
  'supposing',
  'imagine',
  'pretend',
  'hypothetically',
  "let's",
  'lets',
  'let us',
  'wenn',
  'falls',
  'angenommen',
  'stell dir vor',
  'lass uns',
  'si',
  'supongamos',
  'imagina',
  'imaginemos',
  'juguemos',
  'imaginons',
  'jouons',
  'se',
  'immagina',
  'もし',
  '如果',
  '假如',
  '假设',
];

const SPACELESS = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;

function words(text: string): string[] {
  return text.split(/\s+/u).filter((word) => /[\p{L}\p{N}]/u.test(word));
}

/** Long enough to say something: two words, or two characters of a script without spaces. */
function saysSomething(text: string): boolean {
  if (SPACELESS.test(text)) return Array.from(text.replace(/[\s\p{P}]/gu, '')).length >= 2;
  return words(text).length >= 2;
}

function opensHypothetical(sentence: string): boolean {
  const lower = sentence.toLocaleLowerCase().replace(/^[\s"'“‘¿¡(]+/u, '');
  return NOT_A_STATEMENT.some((opening) =>
    SPACELESS.test(opening)
      ? lower.startsWith(opening)
      : lower.startsWith(opening) && !/[\p{L}\p{N}]/u.test(lower.charAt(opening.length)),
  );
}

/** The longest start of `text` within the quote limit that ends at a word boundary. */
function withinQuoteLimit(text: string): string {
  const chars = Array.from(text);
  if (chars.length <= MAX_QUOTE_LENGTH) return text;
  const head = chars.slice(0, MAX_QUOTE_LENGTH).join('');
  const cut = head.lastIndexOf(' ');
  return (cut > MAX_QUOTE_LENGTH / 2 ? head.slice(0, cut) : head).trim();
}

/** The statements in one user message, verbatim, in order, each within the quote limit. */
export function userStatements(content: string): string[] {
  const statements: string[] = [];
  for (const segment of ownWordSegments(content)) {
    for (const raw of segment.split(SENTENCE_END)) {
      const sentence = raw.trim();
      if (sentence === '' || opensHypothetical(sentence)) continue;
      let kept = sentence;
      if (QUESTION_END.test(sentence)) {
        // Keep what comes before the question: "I'm vegan, so can you…?" states a fact first.
        const clauses = sentence.split(CLAUSE_SEPARATOR);
        if (clauses.length < 2) continue;
        const separators = sentence.match(new RegExp(CLAUSE_SEPARATOR.source, 'gu')) ?? [];
        const lastSeparator = separators[separators.length - 1] ?? '';
        kept = sentence.slice(0, sentence.lastIndexOf(lastSeparator)).trim();
      }
      const statement = withinQuoteLimit(kept.replace(/[\s,，、:;]+$/u, ''));
      if (saysSomething(statement) && !statements.includes(statement)) statements.push(statement);
    }
  }
  return statements;
}

/** Function words of three letters or more: sharing one of these grounds nothing. */
const FUNCTION_WORDS = new Set(
  (
    'the and for with from that this these those you your yours are was were has have had not but ' +
    'all any can will would could should about into onto very just also who what when where how ' +
    'why which there their them they she her his him its our ours out off too now then than ' +
    'i’m i’ve don’t im ive dont use used like really much many some more most own one two ' +
    'ich und der die das den dem des mit ein eine einen einer ist bin sind auf für von bei nicht ' +
    'que los las del por con una uno unos unas para como muy soy estoy est les des une pour avec ' +
    'dans qui sur pas mes mon mais suis'
  ).split(' '),
);

function normalise(text: string): string {
  return text.normalize('NFKD').replace(/\p{M}/gu, '').toLocaleLowerCase().replace(/[’']/gu, '’');
}

function contentWords(text: string): string[] {
  const tokens = normalise(text).match(/[\p{L}\p{N}’]+/gu) ?? [];
  return tokens
    .map((token) => token.replace(/^’+|’+$/gu, ''))
    .filter(
      (token) =>
        !SPACELESS.test(token) &&
        !FUNCTION_WORDS.has(token) &&
        (token.length >= 3 || /^\p{N}+$/u.test(token)),
    );
}

/** Characters that carry meaning in scripts without spaces (particles like が or の do not). */
function spacelessCharacters(text: string): Set<string> {
  const found = normalise(text).match(/[\p{Script=Han}\p{Script=Katakana}\p{Script=Hangul}]/gu);
  return new Set(found ?? []);
}

const sameWord = (a: string, b: string): boolean =>
  a.startsWith(b) ||
  b.startsWith(a) ||
  (a.length >= 5 && b.length >= 5 && a.slice(0, 5) === b.slice(0, 5));

/** Whether `value` says something `quote` says: see rule 2 above. */
export function valueGrounded(value: string, quote: string): boolean {
  const quoted = contentWords(quote);
  if (contentWords(value).some((word) => quoted.some((other) => sameWord(word, other)))) {
    return true;
  }
  const characters = spacelessCharacters(quote);
  return [...spacelessCharacters(value)].some((character) => characters.has(character));
}
