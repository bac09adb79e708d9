import {
  BENCH_CONDITIONS,
  PAPER_GPT4O,
  type BenchCondition,
  type BenchPersonaResult,
  type BenchRun,
  type BenchSession,
  type ConditionSummary,
  type OptimizerRunRecord,
} from './types';

/**
 * What a PersonaBench run measured, summarized: the paper's Table 1 (helpfulness,
 * personalization, persona similarity, utterance efficiency) per condition, the series behind the
 * Lab's charts, the stability and optimizer-overhead summaries, and the JSON/CSV exports.
 *
 * Failures are never zeros: a judgement that failed is left out of the averages and counted in
 * `failures`; a session whose simulator failed is left out of the utterance average.
 */

export const isLearned = (condition: BenchCondition): boolean => condition.startsWith('learned-');

function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
}

function conditionsIn(
  sessions: readonly { condition: BenchCondition }[],
  results: readonly { condition: BenchCondition }[] = [],
): BenchCondition[] {
  const present = new Set([...sessions, ...results].map((s) => s.condition));
  return BENCH_CONDITIONS.filter((c) => present.has(c));
}

export function summarizeRun(
  sessions: readonly BenchSession[],
  personaResults: readonly BenchPersonaResult[],
): ConditionSummary[] {
  return conditionsIn(sessions, personaResults).map((condition) => {
    const own = sessions.filter((s) => s.condition === condition);
    const results = personaResults.filter((r) => r.condition === condition);
    const scored = own.flatMap((s) => (s.scores.ok ? [s.scores.value] : []));
    const judgedPersonas = results.flatMap((r) =>
      r.judgeSimilarity.ok ? [r.judgeSimilarity.value.score] : [],
    );
    const failures =
      own.filter((s) => !s.scores.ok).length +
      own.filter((s) => s.error !== undefined).length +
      results.filter((r) => !r.judgeSimilarity.ok).length;
    return {
      condition,
      helpfulness: mean(scored.map((s) => s.helpfulness)),
      personalization: mean(scored.map((s) => s.personalization)),
      personaSimilarity: mean(judgedPersonas),
      fieldSimilarity: mean(results.map((r) => r.fieldSimilarity)),
      utterances: mean(own.filter((s) => s.error === undefined).map((s) => s.userTurns)),
      sessions: own.length,
      failures,
    };
  });
}

const cell = (value: number | null): string => (value === null ? '–' : value.toFixed(2));

function table(rows: readonly string[][]): string {
  const widths =
    rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length))) ?? [];
  const line = (row: readonly string[]): string =>
    row
      .map((text, i) => (i === 0 ? text.padEnd(widths[i] ?? 0) : text.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const [head, ...body] = rows;
  return [line(head ?? []), rule, ...body.map(line)].join('\n');
}

/**
 * The paper's Table 1 layout as plain text: our conditions, then the paper's GPT-4o rows for
 * reference (they come from a different model and data, so they frame rather than compare).
 */
export function formatTable1(summaries: readonly ConditionSummary[]): string {
  const head = [
    'Condition',
    'Helpfulness',
    'Personalization',
    'Persona sim. (judge)',
    'Field sim.',
    'Utterances',
    'Sessions',
    'Failures',
  ];
  const ours = summaries.map((s) => [
    s.condition,
    cell(s.helpfulness),
    cell(s.personalization),
    cell(s.personaSimilarity),
    cell(s.fieldSimilarity),
    cell(s.utterances),
    String(s.sessions),
    String(s.failures),
  ]);
  const paper = PAPER_GPT4O.map((p) => [
    `${p.label} (paper)`,
    cell(p.helpfulness),
    cell(p.personalization),
    cell(p.personaSimilarity),
    '–',
    cell(p.utterances),
    '',
    '',
  ]);
  return table([head, ...ours, ...paper]);
}

export interface UtterancePoint {
  sceneIndex: number;
  /** Mean user turns at this scene over the personas whose simulation did not fail. */
  meanUserTurns: number;
  sessions: number;
}

/** Per condition: mean user turns per scene index (does personalization shorten later sessions?). */
export function utterancesSeries(
  sessions: readonly BenchSession[],
): { condition: BenchCondition; points: UtterancePoint[] }[] {
  return conditionsIn(sessions).map((condition) => {
    const byScene = new Map<number, number[]>();
    for (const s of sessions) {
      if (s.condition !== condition || s.error !== undefined) continue;
      byScene.set(s.sceneIndex, [...(byScene.get(s.sceneIndex) ?? []), s.userTurns]);
    }
    const points = [...byScene.entries()]
      .sort(([a], [b]) => a - b)
      .map(([sceneIndex, turns]) => ({
        sceneIndex,
        meanUserTurns: mean(turns) ?? 0,
        sessions: turns.length,
      }));
    return { condition, points };
  });
}

export interface SimilarityPoint {
  /** 1 for the first optimizer update of a persona, 2 for the second, … */
  update: number;
  /** Mean field similarity (0..10) after that update, over the personas that reached it. */
  fieldSimilarity: number;
  personas: number;
}

/** Per learned condition: field similarity to the golden persona after each optimizer update. */
export function similaritySeries(
  sessions: readonly BenchSession[],
): { condition: BenchCondition; points: SimilarityPoint[] }[] {
  return conditionsIn(sessions)
    .filter(isLearned)
    .map((condition) => {
      const byUpdate = new Map<number, number[]>();
      const updatesSoFar = new Map<string, number>();
      const ordered = sessions
        .filter((s) => s.condition === condition)
        .sort((a, b) => a.sceneIndex - b.sceneIndex);
      for (const s of ordered) {
        if (s.optimizer === undefined || s.fieldSimilarity === undefined) continue;
        const update = (updatesSoFar.get(s.personaId) ?? 0) + 1;
        updatesSoFar.set(s.personaId, update);
        byUpdate.set(update, [...(byUpdate.get(update) ?? []), s.fieldSimilarity]);
      }
      const points = [...byUpdate.entries()]
        .sort(([a], [b]) => a - b)
        .map(([update, values]) => ({
          update,
          fieldSimilarity: mean(values) ?? 0,
          personas: values.length,
        }));
      return { condition, points };
    });
}

export interface StabilitySummary {
  condition: BenchCondition;
  personas: number;
  /** Mean fraction (0..1) of stable fields that changed; personas without any stable field learned are left out. */
  meanDrift: number | null;
  stableFields: number;
  changed: number;
  replacedByDecoy: number;
}

/** The profile stability experiment per learned condition, from the persona results. */
export function stabilitySummary(
  personaResults: readonly BenchPersonaResult[],
): StabilitySummary[] {
  return conditionsIn([], personaResults).flatMap((condition) => {
    const results = personaResults.flatMap((r) =>
      r.condition === condition && r.stability !== undefined ? [r.stability] : [],
    );
    if (results.length === 0) return [];
    return [
      {
        condition,
        personas: results.length,
        meanDrift: mean(results.flatMap((r) => (r.drift === null ? [] : [r.drift]))),
        stableFields: results.reduce((n, r) => n + r.stableFields, 0),
        changed: results.reduce((n, r) => n + r.changed, 0),
        replacedByDecoy: results.reduce((n, r) => n + r.replacedByDecoy, 0),
      },
    ];
  });
}

export interface FactUpdateSummary {
  condition: BenchCondition;
  /** Facts that changed mid-way, over the personas that declare any. */
  facts: number;
  updated: number;
  stale: number;
  missing: number;
  other: number;
}

/** Per learned condition: did the learned profiles follow the facts that changed mid-way? */
export function factUpdateSummary(
  personaResults: readonly BenchPersonaResult[],
): FactUpdateSummary[] {
  return conditionsIn([], personaResults).flatMap((condition) => {
    const facts = personaResults.flatMap((r) =>
      r.condition === condition ? (r.factUpdates ?? []) : [],
    );
    if (facts.length === 0) return [];
    const count = (status: string) => facts.filter((f) => f.status === status).length;
    return [
      {
        condition,
        facts: facts.length,
        updated: count('updated'),
        stale: count('stale'),
        missing: count('missing'),
        other: count('other'),
      },
    ];
  });
}

export interface OptimizerOverhead {
  condition: BenchCondition;
  updates: number;
  failed: number;
  meanPromptTokens: number | null;
  meanCompletionTokens: number | null;
  meanMs: number | null;
  /** Mean fields in the profile when an update started. */
  meanProfileFields: number | null;
  /** Every update, for a chart of cost against profile size. */
  points: { profileFields: number; promptTokens: number; completionTokens: number; ms: number }[];
}

/** What the optimizer cost per update, per learned condition (k), against the profile's size. */
export function optimizerOverhead(
  sessions: readonly BenchSession[],
  personaResults: readonly BenchPersonaResult[] = [],
): OptimizerOverhead[] {
  return conditionsIn(sessions, personaResults)
    .filter(isLearned)
    .map((condition) => {
      const records: OptimizerRunRecord[] = [
        ...sessions.flatMap((s) => (s.condition === condition && s.optimizer ? [s.optimizer] : [])),
        ...personaResults.flatMap((r) =>
          r.condition === condition ? (r.stability?.optimizer ?? []) : [],
        ),
      ];
      return {
        condition,
        updates: records.length,
        failed: records.filter((r) => r.error !== undefined).length,
        meanPromptTokens: mean(records.map((r) => r.promptTokens)),
        meanCompletionTokens: mean(records.map((r) => r.completionTokens)),
        meanMs: mean(records.map((r) => r.ms)),
        meanProfileFields: mean(records.map((r) => r.profileFields)),
        points: records.map((r) => ({
          profileFields: r.profileFields,
          promptTokens: r.promptTokens,
          completionTokens: r.completionTokens,
          ms: r.ms,
        })),
      };
    });
}

/** The whole run as JSON: the run record (dataset, roles, settings), sessions, results, summaries. */
export function runToJson(
  run: BenchRun,
  sessions: readonly BenchSession[],
  personaResults: readonly BenchPersonaResult[],
): string {
  return JSON.stringify(
    {
      run,
      summary: summarizeRun(sessions, personaResults),
      stability: stabilitySummary(personaResults),
      factUpdates: factUpdateSummary(personaResults),
      optimizerOverhead: optimizerOverhead(sessions, personaResults),
      sessions,
      personaResults,
    },
    null,
    2,
  );
}

/** RFC 4180: quote a field when it holds a comma, quote or line break; double inner quotes. */
function csvField(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\r\n]/u.test(text) ? `"${text.replace(/"/gu, '""')}"` : text;
}

const CSV_COLUMNS = [
  'runId',
  'condition',
  'personaId',
  'sceneIndex',
  'satisfied',
  'userTurns',
  'helpfulness',
  'personalization',
  'judgeError',
  'simulatorError',
  'fieldSimilarity',
  'optimizerApplied',
  'optimizerRejected',
  'optimizerPromptTokens',
  'optimizerCompletionTokens',
  'optimizerMs',
  'optimizerError',
  'modelCalls',
  'personaJudgeSimilarity',
  'personaFieldSimilarity',
  'firstQuery',
] as const;

/** One row per session, in the order given, with its persona's final similarity beside it. */
export function runToCsv(
  run: BenchRun,
  sessions: readonly BenchSession[],
  personaResults: readonly BenchPersonaResult[],
): string {
  const finals = new Map(personaResults.map((r) => [`${r.condition}\n${r.personaId}`, r]));
  const rows = sessions.map((s) => {
    const final = finals.get(`${s.condition}\n${s.personaId}`);
    return [
      run.id,
      s.condition,
      s.personaId,
      s.sceneIndex,
      s.satisfied,
      s.userTurns,
      s.scores.ok ? s.scores.value.helpfulness : null,
      s.scores.ok ? s.scores.value.personalization : null,
      s.scores.ok ? null : s.scores.error,
      s.error,
      s.fieldSimilarity === undefined ? null : s.fieldSimilarity.toFixed(3),
      s.optimizer?.applied,
      s.optimizer?.rejected,
      s.optimizer?.promptTokens,
      s.optimizer?.completionTokens,
      s.optimizer?.ms,
      s.optimizer?.error,
      s.calls.length,
      final?.judgeSimilarity.ok ? final.judgeSimilarity.value.score : null,
      final?.fieldSimilarity.toFixed(3),
      s.turns[0]?.content,
    ]
      .map(csvField)
      .join(',');
  });
  return [CSV_COLUMNS.join(','), ...rows].join('\r\n') + '\r\n';
}
