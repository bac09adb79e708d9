import { describe, expect, it } from 'vitest';
import {
  factUpdateSummary,
  formatTable1,
  optimizerOverhead,
  runToCsv,
  runToJson,
  similaritySeries,
  stabilitySummary,
  summarizeRun,
  utterancesSeries,
} from '../../src/core/bench/report';
import type {
  BenchCondition,
  BenchPersonaResult,
  BenchRun,
  BenchSession,
  SessionScores,
} from '../../src/core/bench/types';
import { emptyProfile } from '../../src/core/profile/defaults';
import { makeDataset, spec } from './bench-factories';

function session(
  condition: BenchCondition,
  personaId: string,
  sceneIndex: number,
  scores: SessionScores | string,
  userTurns: number,
  extra: Partial<BenchSession> = {},
): BenchSession {
  return {
    runId: 'r',
    condition,
    personaId,
    sceneIndex,
    turns: [{ role: 'user', content: `Query ${sceneIndex}, "quoted", with a comma` }],
    satisfied: userTurns < 5,
    userTurns,
    scores: typeof scores === 'string' ? { ok: false, error: scores } : { ok: true, value: scores },
    calls: [],
    ...extra,
  };
}

const s = (helpfulness: number, personalization: number): SessionScores => ({
  helpfulness,
  personalization,
  reason: 'r',
});

const optimizer = (profileFields: number, promptTokens: number, ms: number) => ({
  sceneIndexes: [0],
  applied: 1,
  rejected: 0,
  promptTokens,
  completionTokens: 40,
  ms,
  profileFields,
});

function result(
  condition: BenchCondition,
  personaId: string,
  score: number | null,
  fieldSimilarity: number,
): BenchPersonaResult {
  return {
    runId: 'r',
    condition,
    personaId,
    profile: emptyProfile(0),
    judgeSimilarity:
      score === null ? { ok: false, error: 'bad' } : { ok: true, value: { score, reason: 'r' } },
    fieldSimilarity,
    calls: [],
  };
}

const sessions: BenchSession[] = [
  session('none', 'a', 0, s(8, 6), 1),
  session('none', 'a', 1, s(6, 4), 3),
  session('none', 'b', 0, 'judge failed twice', 2),
  session('none', 'b', 1, s(7, 2), 5, { error: 'simulator failed twice' }),
  session('learned-k1', 'a', 0, s(9, 9), 2, {
    optimizer: optimizer(0, 500, 1000),
    fieldSimilarity: 2,
  }),
  session('learned-k1', 'a', 1, s(7, 5), 1, {
    optimizer: optimizer(1, 700, 3000),
    fieldSimilarity: 4,
  }),
  session('learned-k1', 'b', 0, s(5, 4), 4, {
    optimizer: optimizer(0, 600, 2000),
    fieldSimilarity: 6,
  }),
];
const results: BenchPersonaResult[] = [
  result('learned-k1', 'a', 6, 4),
  result('learned-k1', 'b', null, 5),
];

describe('PersonaBench report', () => {
  it('averages every judged session, leaves failures out and counts them', () => {
    expect(summarizeRun(sessions, results)).toEqual([
      {
        condition: 'none',
        helpfulness: 7, // (8 + 6 + 7) / 3: the failed judgement is not a zero
        personalization: 4, // (6 + 4 + 2) / 3
        personaSimilarity: null,
        fieldSimilarity: null,
        utterances: 2, // (1 + 3 + 2) / 3: the failed simulation is left out
        sessions: 4,
        failures: 2,
      },
      {
        condition: 'learned-k1',
        helpfulness: 7,
        personalization: 6,
        personaSimilarity: 6,
        fieldSimilarity: 4.5,
        utterances: 7 / 3,
        sessions: 3,
        failures: 1,
      },
    ]);
  });

  it('prints Table 1 with the paper’s GPT-4o rows beside ours', () => {
    const table = formatTable1(summarizeRun(sessions, results)).split('\n');
    expect(table[0]).toMatch(
      /^Condition\s+Helpfulness\s+Personalization\s+Persona sim\. \(judge\)/u,
    );
    expect(table[2]).toMatch(/^none\s+7\.00\s+4\.00\s+–\s+–\s+2\.00\s+4\s+2$/u);
    expect(table[3]).toMatch(/^learned-k1\s+7\.00\s+6\.00\s+6\.00\s+4\.50\s+2\.33\s+3\s+1$/u);
    expect(table[6]).toMatch(
      /^GPT-4o · learned, k = 3 \(paper\)\s+8\.29\s+7\.63\s+6\.07\s+–\s+1\.81$/u,
    );
  });

  it('gives mean user turns per scene and field similarity per update', () => {
    expect(utterancesSeries(sessions)).toEqual([
      {
        condition: 'none',
        points: [
          { sceneIndex: 0, meanUserTurns: 1.5, sessions: 2 },
          { sceneIndex: 1, meanUserTurns: 3, sessions: 1 },
        ],
      },
      {
        condition: 'learned-k1',
        points: [
          { sceneIndex: 0, meanUserTurns: 3, sessions: 2 },
          { sceneIndex: 1, meanUserTurns: 1, sessions: 1 },
        ],
      },
    ]);
    expect(similaritySeries(sessions)).toEqual([
      {
        condition: 'learned-k1',
        points: [
          { update: 1, fieldSimilarity: 4, personas: 2 },
          { update: 2, fieldSimilarity: 4, personas: 1 },
        ],
      },
    ]);
  });

  it('summarizes the optimizer’s cost and the stability experiment', () => {
    const [overhead] = optimizerOverhead(sessions, results);
    expect(overhead).toMatchObject({
      condition: 'learned-k1',
      updates: 3,
      failed: 0,
      meanPromptTokens: 600,
      meanCompletionTokens: 40,
      meanMs: 2000,
      meanProfileFields: 1 / 3,
    });
    const withStability = results.map((r, i) => ({
      ...r,
      stability: {
        sessions: [],
        stableFields: 2,
        changed: i,
        replacedByDecoy: i,
        drift: i / 2,
        optimizer: [],
        profileAfter: emptyProfile(0),
      },
    }));
    expect(stabilitySummary(withStability)).toEqual([
      {
        condition: 'learned-k1',
        personas: 2,
        meanDrift: 0.25,
        stableFields: 4,
        changed: 1,
        replacedByDecoy: 1,
      },
    ]);
  });

  it('counts the facts that changed mid-way by what the learned profile made of them', () => {
    const fact = (status: 'updated' | 'stale' | 'missing' | 'other') => ({
      section: 'Demographics',
      key: 'Location',
      before: 'Berlin',
      after: 'Lisbon',
      learned: null,
      status,
    });
    const withFacts = [
      { ...result('learned-k1', 'a', 6, 4), factUpdates: [fact('updated'), fact('stale')] },
      { ...result('learned-k1', 'b', 6, 4), factUpdates: [fact('updated')] },
      result('learned-k3', 'a', 6, 4),
    ];
    expect(factUpdateSummary(withFacts)).toEqual([
      { condition: 'learned-k1', facts: 3, updated: 2, stale: 1, missing: 0, other: 0 },
    ]);
  });

  it('exports one CSV row per session, quoted where needed, and the whole run as JSON', () => {
    const run: BenchRun = {
      id: 'r',
      createdAt: 0,
      updatedAt: 0,
      appVersion: '0.1.0',
      datasetName: 'test-set',
      dataset: makeDataset(1, 1),
      roles: { assistant: 'tiny.gguf', simulator: 'tiny.gguf', judge: 'tiny.gguf' },
      roleSpecs: { assistant: spec(), simulator: spec(), judge: spec() },
      settings: { conditions: ['none'], maxTurns: 5, seed: 1, stability: false },
      status: 'done',
      done: 7,
      total: 7,
      elapsedMs: 10,
    };
    const lines = runToCsv(run, sessions, results).trimEnd().split('\r\n');
    expect(lines).toHaveLength(8);
    expect(lines[0]?.split(',')).toContain('helpfulness');
    expect(lines[3]).toBe(
      'r,none,b,0,true,2,,,judge failed twice,,,,,,,,,0,,,"Query 0, ""quoted"", with a comma"',
    );
    expect(lines[5]).toBe(
      'r,learned-k1,a,0,true,2,9,9,,,2.000,1,0,500,40,1000,,0,6,4.000,"Query 0, ""quoted"", with a comma"',
    );
    const json = JSON.parse(runToJson(run, sessions, results)) as {
      run: BenchRun;
      summary: unknown[];
      sessions: unknown[];
    };
    expect(json.run.appVersion).toBe('0.1.0');
    expect(json.summary).toHaveLength(2);
    expect(json.sessions).toHaveLength(7);
  });
});
