/**
 * The benchmark's ceiling: a scripted optimizer that knows the answer. For each update it writes
 * the changes a perfect model would (every fact stated in these conversations, with its quote; a
 * removal for every retraction) and goes through the same parse, grounding and apply code as a
 * model's answer. Anything below 1.0 for it is a limit of the app's rules or the data set, not of
 * a model. A test double: it lives in tests/ and is never part of the app.
 */
import type { GenerateResult } from '../../../src/engine/engine';
import type { ProposeGenerate } from '../../../src/core/optimizer/propose';
import { sameName } from '../../../src/core/profile/normalize';
import type { BenchUser } from './dataset';

interface ChangeJson {
  op: 'set' | 'remove';
  section: string;
  key: string;
  value: string;
  evidence: string;
}

function perfectChanges(user: BenchUser, conversations: readonly number[]): ChangeJson[] {
  const inBatch = (c: number | undefined): boolean => c !== undefined && conversations.includes(c);
  const sets = user.facts
    .filter((fact) => inBatch(fact.conversation) && !inBatch(fact.until))
    .map((fact): ChangeJson => ({
      op: 'set',
      section: fact.section,
      key: fact.key,
      value: fact.value,
      evidence: fact.quote,
    }));
  // A retraction removes the field, unless a new value for the same key replaces it anyway.
  const removes = user.facts
    .filter(
      (fact) =>
        fact.endQuote !== undefined &&
        inBatch(fact.until) &&
        !inBatch(fact.conversation) &&
        !sets.some((set) => sameName(set.section, fact.section) && sameName(set.key, fact.key)),
    )
    .map((fact): ChangeJson => ({
      op: 'remove',
      section: fact.section,
      key: fact.key,
      value: '',
      evidence: fact.endQuote ?? '',
    }));
  return [...removes, ...sets];
}

export function perfectGenerate(
  user: BenchUser,
  conversations: readonly number[],
): ProposeGenerate {
  return (): Promise<GenerateResult> => {
    const text = JSON.stringify({ changes: perfectChanges(user, conversations) });
    return Promise.resolve({
      text,
      finishReason: 'stop',
      promptTokens: 0,
      completionTokens: 0,
    });
  };
}
