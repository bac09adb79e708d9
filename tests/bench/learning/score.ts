/**
 * Scores a learning run against the data set's truth. The rules are documented in
 * docs/learning-benchmark.md; in short:
 *
 * - A learned field *is* a fact when its key names the fact (the fact's key, its `keys`, or the
 *   data set's `keyAliases` for that key; compared without case, spaces or punctuation; the section
 *   is not compared) and its value matches one of the fact's `match` phrases (see `valueMatches`).
 * - Precision: learned fields of the final profile that are facts still true at the end. A value
 *   the data set does not list counts as wrong: the set tags every fact its users state.
 * - Recall: facts still true at the end that the final profile holds.
 * - False learning: distractors that any update ever wrote into the profile.
 * - Stale: facts that stopped being true, were learned at some point, and are still in the final
 *   profile.
 */
import type { BenchUser, Distractor, Fact, LearningDataset } from './dataset';
import type { LandedChange, UserRun } from './runner';

/** Lower case, accents and punctuation dropped, one space between words. */
function normaliseValue(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

function normaliseKey(text: string): string {
  return normaliseValue(text).replace(/ /g, '');
}

/** Words that turn a value into its opposite ("not vegetarian", "ex-smoker", "nicht"). */
const NEGATIONS = [
  'not',
  'no',
  'non',
  'never',
  'no longer',
  'any more',
  'anymore',
  'former',
  'formerly',
  'ex',
  'used to',
  'stopped',
  'quit',
  'nicht',
  'kein',
  'keine',
  'nie',
  'ne',
  'pas',
  'nunca',
];

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;

function contains(value: string, phrase: string): boolean {
  // Scripts without spaces match anywhere; others must start at a word boundary ("rome" is in
  // "rome italy", not in "jerome"), and may end inside one ("vegetarian" is in "vegetarians").
  if (CJK.test(phrase)) return value.includes(phrase);
  return ` ${value}`.includes(` ${phrase}`);
}

/**
 * Whether a learned value says one of `phrases`: it contains one (normalised), and carries no
 * negation word that the phrases do not carry themselves.
 */
export function valueMatches(value: string, phrases: readonly string[]): boolean {
  const learned = normaliseValue(value);
  const wanted = phrases.map(normaliseValue).filter((phrase) => phrase !== '');
  if (!wanted.some((phrase) => contains(learned, phrase))) return false;
  const hasWord = (text: string, word: string): boolean => ` ${text} `.includes(` ${word} `);
  return !NEGATIONS.some(
    (negation) => hasWord(learned, negation) && !wanted.some((phrase) => hasWord(phrase, negation)),
  );
}

function factKeys(fact: Fact, aliases: Record<string, string[]>): Set<string> {
  const own = Object.entries(aliases).find(([key]) => normaliseKey(key) === normaliseKey(fact.key));
  return new Set([fact.key, ...(fact.keys ?? []), ...(own?.[1] ?? [])].map(normaliseKey));
}

interface Field {
  key: string;
  value: string;
}

function isFact(field: Field, fact: Fact, aliases: Record<string, string[]>): boolean {
  return (
    factKeys(fact, aliases).has(normaliseKey(field.key)) &&
    valueMatches(field.value, fact.match ?? [fact.value])
  );
}

function isDistractor(change: LandedChange, distractor: Distractor): boolean {
  if (change.op !== 'set') return false;
  if (distractor.kind === 'nothing') return change.conversation === distractor.conversation;
  if (distractor.keys && !distractor.keys.map(normaliseKey).includes(normaliseKey(change.key))) {
    return false;
  }
  return valueMatches(change.value, distractor.match ?? []);
}

export interface Counts {
  learned: number;
  learnedTrue: number;
  facts: number;
  factsLearned: number;
  distractors: number;
  distractorsLearned: number;
  ended: number;
  endedLearned: number;
  stale: number;
  proposed: number;
  evidenceRejected: number;
  attempts: number;
  invalidAttempts: number;
  updates: number;
  failedUpdates: number;
  promptTokens: number;
  completionTokens: number;
  seconds: number;
}

export interface UserScore extends Counts {
  userId: string;
  /** Learned values of the final profile that are not true of the user. */
  wrong: string[];
  /** Distractors that were learned, as "kind: value". */
  falselyLearned: string[];
}

const zero = (): Counts => ({
  learned: 0,
  learnedTrue: 0,
  facts: 0,
  factsLearned: 0,
  distractors: 0,
  distractorsLearned: 0,
  ended: 0,
  endedLearned: 0,
  stale: 0,
  proposed: 0,
  evidenceRejected: 0,
  attempts: 0,
  invalidAttempts: 0,
  updates: 0,
  failedUpdates: 0,
  promptTokens: 0,
  completionTokens: 0,
  seconds: 0,
});

export function scoreUser(
  user: BenchUser,
  run: UserRun,
  aliases: Record<string, string[]>,
): UserScore {
  const current = user.facts.filter((fact) => fact.until === undefined);
  const ended = user.facts.filter((fact) => fact.until !== undefined);
  const landed = run.updates.flatMap((update) => update.applied);
  const wasLearned = (fact: Fact): boolean =>
    landed.some((change) => change.op === 'set' && isFact(change, fact, aliases));
  const inFinal = (fact: Fact): boolean => run.final.some((field) => isFact(field, fact, aliases));

  const wrong = run.final.filter((field) => !current.some((fact) => isFact(field, fact, aliases)));
  const falselyLearned = user.distractors.filter((distractor) =>
    landed.some((change) => isDistractor(change, distractor)),
  );
  const endedLearned = ended.filter(wasLearned);
  const attempts = run.updates.flatMap((update) => update.attempts);
  return {
    userId: user.id,
    learned: run.final.length,
    learnedTrue: run.final.length - wrong.length,
    facts: current.length,
    factsLearned: current.filter(inFinal).length,
    distractors: user.distractors.length,
    distractorsLearned: falselyLearned.length,
    ended: ended.length,
    endedLearned: endedLearned.length,
    stale: endedLearned.filter(inFinal).length,
    proposed: run.updates.reduce((sum, u) => sum + u.applied.length + u.rejected.length, 0),
    evidenceRejected: run.updates.reduce(
      (sum, u) => sum + u.rejected.filter((r) => r.reason.startsWith('evidence-')).length,
      0,
    ),
    attempts: attempts.length,
    invalidAttempts: attempts.filter((attempt) => attempt.error !== undefined).length,
    updates: run.updates.length,
    failedUpdates: run.updates.filter((update) => !update.ok).length,
    promptTokens: attempts.reduce((sum, a) => sum + a.promptTokens, 0),
    completionTokens: attempts.reduce((sum, a) => sum + a.completionTokens, 0),
    seconds: run.updates.reduce((sum, u) => sum + u.seconds, 0),
    wrong: wrong.map((field) => `${field.section} / ${field.key}: ${field.value}`),
    falselyLearned: falselyLearned.map(
      (d) =>
        `${d.kind} (conversation ${d.conversation})${d.match ? `: ${d.match.join(' | ')}` : ''}`,
    ),
  };
}

function total(scores: readonly Counts[]): Counts {
  const sum = zero();
  for (const score of scores) {
    for (const key of Object.keys(sum) as (keyof Counts)[]) sum[key] += score[key];
  }
  return sum;
}

/** The rates the report prints; null where the denominator is zero. */
export interface Rates {
  precision: number | null;
  recall: number | null;
  falseLearning: number | null;
  stale: number | null;
  evidenceRejection: number | null;
  invalidOutput: number | null;
  promptTokensPerUpdate: number | null;
  completionTokensPerUpdate: number | null;
  secondsPerUpdate: number | null;
}

const ratio = (a: number, b: number): number | null => (b === 0 ? null : a / b);

export function rates(counts: Counts): Rates {
  return {
    precision: ratio(counts.learnedTrue, counts.learned),
    recall: ratio(counts.factsLearned, counts.facts),
    falseLearning: ratio(counts.distractorsLearned, counts.distractors),
    stale: ratio(counts.stale, counts.endedLearned),
    evidenceRejection: ratio(counts.evidenceRejected, counts.proposed),
    invalidOutput: ratio(counts.invalidAttempts, counts.attempts),
    promptTokensPerUpdate: ratio(counts.promptTokens, counts.updates),
    completionTokensPerUpdate: ratio(counts.completionTokens, counts.updates),
    secondsPerUpdate: ratio(counts.seconds, counts.updates),
  };
}

export function scoreRun(
  dataset: LearningDataset,
  runs: readonly UserRun[],
): { users: UserScore[]; overall: Counts } {
  const users = runs.map((run) => {
    const user = dataset.users.find((candidate) => candidate.id === run.userId);
    if (!user) throw new Error(`A run for unknown user ${run.userId}`);
    return scoreUser(user, run, dataset.keyAliases);
  });
  return { users, overall: total(users) };
}
