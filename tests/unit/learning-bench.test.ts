import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { perfectGenerate } from '../bench/learning/ceiling';
import {
  DatasetError,
  DISTRACTOR_KINDS,
  readDataset,
  updateBatches,
  type LearningDataset,
} from '../bench/learning/dataset';
import { runUser, type UserRun } from '../bench/learning/runner';
import { rates, scoreRun, scoreUser, valueMatches } from '../bench/learning/score';

const shipped = (): unknown =>
  JSON.parse(
    readFileSync(new URL('../bench/learning/persona-facts.json', import.meta.url), 'utf8'),
  );

describe('learning benchmark data set', () => {
  it('the shipped set has the size and the hard cases the benchmark promises', () => {
    const data = readDataset(shipped());
    expect(data.users.length).toBeGreaterThanOrEqual(12);
    expect(data.users.reduce((n, u) => n + u.facts.length, 0)).toBeGreaterThanOrEqual(60);
    for (const user of data.users) {
      expect(user.conversations.length).toBeGreaterThanOrEqual(3);
      expect(user.conversations.length).toBeLessThanOrEqual(6);
    }
    const kinds = new Set(data.users.flatMap((u) => u.distractors.map((d) => d.kind)));
    for (const kind of DISTRACTOR_KINDS) {
      expect(kinds).toContain(kind);
    }
    const facts = data.users.flatMap((u) => u.facts);
    expect(facts.some((f) => f.until !== undefined && f.endQuote === undefined)).toBe(true); // changed
    expect(facts.some((f) => f.endQuote !== undefined)).toBe(true); // retracted
    expect(new Set(data.users.map((u) => u.language)).size).toBeGreaterThanOrEqual(4);
  });

  it('refuses a quote that is not the user’s own words, with its path', () => {
    const data = shipped() as { users: { facts: { quote: string }[] }[] };
    const bad = structuredClone(data);
    const fact = bad.users[3]?.facts[0];
    if (!fact) throw new Error('fixture changed');
    fact.quote = 'I live in Paris'; // only in the pasted email
    expect(() => readDataset(bad)).toThrow(DatasetError);
    expect(() => readDataset(bad)).toThrow(/\$\.users\[3\]\.facts\[0\]\.quote/);
  });

  it('refuses other formats and bad indexes', () => {
    expect(() => readDataset({ format: 'x' })).toThrow(/\$\.format/);
    const data = structuredClone(shipped()) as { users: { facts: { conversation: number }[] }[] };
    const fact = data.users[0]?.facts[0];
    if (!fact) throw new Error('fixture changed');
    fact.conversation = 99;
    expect(() => readDataset(data)).toThrow(/facts\[0\]\.conversation/);
  });

  it('splits conversations into updates every k, the rest at the end', () => {
    expect(updateBatches(5, 3)).toEqual([
      [0, 1, 2],
      [3, 4],
    ]);
    expect(updateBatches(3, 3)).toEqual([[0, 1, 2]]);
  });
});

describe('learning benchmark scoring', () => {
  it('matches values by phrase, word start, language and negation', () => {
    expect(valueMatches('Lisbon, Portugal', ['lisbon'])).toBe(true);
    expect(valueMatches('Jerome', ['rome'])).toBe(false);
    expect(valueMatches('Vegetarians unite', ['vegetarian'])).toBe(true);
    expect(valueMatches('not vegetarian any more', ['vegetarian'])).toBe(false);
    expect(valueMatches('ex-smoker', ['smoker'])).toBe(false);
    expect(valueMatches('profesora de matemáticas', ['matematicas'])).toBe(true);
    expect(valueMatches('東京に住んでいる', ['東京'])).toBe(true);
  });

  it('scores precision, recall, false learning and staleness from what landed', () => {
    const data: LearningDataset = readDataset(shipped());
    const sam = data.users.find((u) => u.id === 'sam-moves-to-glasgow');
    if (!sam) throw new Error('fixture changed');
    // A run that learned Manchester and the cats, missed the move, and learned from the empty chat.
    const run: UserRun = {
      userId: sam.id,
      updates: [
        {
          conversations: [0, 1, 2],
          ok: true,
          attempts: [{ text: '{}', promptTokens: 900, completionTokens: 80, finishReason: 'stop' }],
          applied: [
            {
              op: 'set',
              section: 'Demographics',
              key: 'City',
              value: 'Manchester',
              conversation: 0,
              quote: 'I live in Manchester',
            },
            {
              op: 'set',
              section: 'Patterns',
              key: 'Pets',
              value: 'two cats',
              conversation: 1,
              quote: 'I have two cats',
            },
            {
              op: 'set',
              section: 'Patterns',
              key: 'Usage',
              value: 'rainy Sundays',
              conversation: 2,
              quote: 'rainy Sunday',
            },
          ],
          rejected: [{ reason: 'evidence-not-found', detail: '' }],
          seconds: 2,
        },
        {
          conversations: [3, 4],
          ok: false,
          error: 'bad',
          attempts: [
            {
              error: 'bad',
              text: 'x',
              promptTokens: 500,
              completionTokens: 10,
              finishReason: 'stop',
            },
            {
              error: 'bad',
              text: 'y',
              promptTokens: 500,
              completionTokens: 10,
              finishReason: 'stop',
            },
          ],
          applied: [],
          rejected: [],
          seconds: 4,
        },
      ],
      final: [
        { section: 'Demographics', key: 'City', value: 'Manchester' },
        { section: 'Patterns', key: 'Pets', value: 'two cats' },
        { section: 'Patterns', key: 'Usage', value: 'rainy Sundays' },
      ],
    };
    const score = scoreUser(sam, run, data.keyAliases);
    expect(score).toMatchObject({
      learned: 3,
      learnedTrue: 1,
      facts: 3,
      factsLearned: 1,
      distractors: 1,
      distractorsLearned: 1,
      ended: 2,
      endedLearned: 1,
      stale: 1,
      proposed: 4,
      evidenceRejected: 1,
      attempts: 3,
      invalidAttempts: 2,
      failedUpdates: 1,
    });
    const r = rates(score);
    expect(r.precision).toBeCloseTo(1 / 3);
    expect(r.stale).toBe(1);
    expect(r.secondsPerUpdate).toBe(3);
  });

  it('the scripted perfect optimizer scores 1 through the app’s own optimizer step', async () => {
    const data = readDataset(shipped());
    const runs: UserRun[] = [];
    for (const user of data.users) {
      runs.push(await runUser(user, perfectGenerate, { k: 3, contextWindow: 8192 }));
    }
    const { users, overall } = scoreRun(data, runs);
    for (const user of users) {
      expect({
        id: user.userId,
        wrong: user.wrong,
        missed: user.facts - user.factsLearned,
      }).toEqual({
        id: user.userId,
        wrong: [],
        missed: 0,
      });
    }
    const r = rates(overall);
    expect(r).toMatchObject({
      precision: 1,
      recall: 1,
      falseLearning: 0,
      stale: 0,
      evidenceRejection: 0,
      invalidOutput: 0,
    });
  });
});
