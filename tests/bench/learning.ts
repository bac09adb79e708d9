/**
 * `npm run bench:learning`: how well the profile optimizer learns from conversations, on a real
 * model. Each simulated user of the data set (tests/bench/learning/persona-facts.json by default)
 * is run through the app's own optimizer step every k conversations, in Chromium, on the app's
 * wllama adapter; the final profiles are scored against what is true of each user. A benchmark,
 * not a test: it prints a table and writes JSON, and asserts nothing about the scores.
 *
 * Each model row is bracketed by the tiny random-weight model (the floor) and a scripted perfect
 * optimizer (the ceiling), measured in the same run. Scoring rules: docs/learning-benchmark.md.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { build, preview } from 'vite';
import { launchBenchBrowser, startModelServer } from './bench-harness';
import { fetchSmolLM2, SMOLLM2_FILE } from '../fixtures/fetch-smollm2';
import { readDataset, type LearningDataset } from './learning/dataset';
import type {
  LearningOptimizer,
  LearningProgress,
  LearningRequest,
  LearningResult,
} from './learning/page/protocol';
import { rates, scoreRun, type Counts, type UserScore } from './learning/score';

const HELP = `npm run bench:learning -- [options]

Runs the app's profile optimizer on simulated users and scores what it learned.

  --data <file>       a data set in the persona-learning-bench format
                      (default: tests/bench/learning/persona-facts.json; see docs/learning-benchmark.md)
  --model <name|url>  which optimizer, repeatable: smollm2 (SmolLM2-135M-Instruct, fetched with
                      npm run fixtures:real), tiny (random weights: the floor), ceiling (a scripted
                      perfect optimizer), or an absolute URL of any .gguf
                      (default: ceiling, tiny and smollm2)
  --model-url <url>   the same as --model <url>
  --k <n>             conversations per optimizer run (default 3, the paper's best)
  --users <n>         only the first n users
  --context <n>       context window to load GGUFs with (default: the app's)
  --out <file>        where the JSON goes (default bench-results/learning-<time>.json)
  --port <n>          first of two local ports (default 4380)
  -h, --help          this text`;

class CliError extends Error {}

interface Options {
  data: string;
  models: string[];
  k: number;
  users: number;
  contextWindow?: number;
  out: string;
  port: number;
}

function positive(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new CliError(`--${name} must be a whole number of at least 1.`);
  return n;
}

function readOptions(argv: string[]): Options | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      data: { type: 'string' },
      model: { type: 'string', multiple: true },
      'model-url': { type: 'string', multiple: true },
      k: { type: 'string' },
      users: { type: 'string' },
      context: { type: 'string' },
      out: { type: 'string' },
      port: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return null;
  const models = [...(values.model ?? []), ...(values['model-url'] ?? [])];
  for (const model of models) {
    if (!['smollm2', 'tiny', 'ceiling'].includes(model) && !/^https?:\/\/.+\.gguf$/i.test(model)) {
      throw new CliError(
        `Unknown model "${model}": use smollm2, tiny, ceiling or an http(s) URL of a .gguf.`,
      );
    }
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  return {
    data: values.data ?? 'tests/bench/learning/persona-facts.json',
    models: models.length > 0 ? models : ['ceiling', 'tiny', 'smollm2'],
    k: positive('k', values.k, 3),
    users: positive('users', values.users, Number.MAX_SAFE_INTEGER),
    ...(values.context === undefined
      ? {}
      : { contextWindow: positive('context', values.context, 0) }),
    out: values.out ?? `bench-results/learning-${stamp}.json`,
    port: positive('port', values.port, 4380),
  };
}

function loadData(path: string): LearningDataset {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new CliError(
      `Cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  try {
    return readDataset(raw);
  } catch (error) {
    throw new CliError(
      `${path} is not a valid data set: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

const LABELS: Record<string, string> = {
  ceiling: 'scripted ceiling',
  tiny: 'tiny (random)',
  smollm2: 'SmolLM2-135M',
};

function optimizerFor(model: string, modelServer: string): LearningOptimizer {
  if (model === 'ceiling') return { kind: 'ceiling' };
  if (model === 'tiny') return { kind: 'gguf', url: `${modelServer}/models/tiny.gguf` };
  if (model === 'smollm2') return { kind: 'gguf', url: `${modelServer}/models/${SMOLLM2_FILE}` };
  return { kind: 'gguf', url: model };
}

const fraction = (value: number | null, a: number, b: number): string =>
  value === null ? 'n/a' : `${value.toFixed(2)} (${a}/${b})`;
const number = (value: number | null, digits = 0): string =>
  value === null ? 'n/a' : value.toFixed(digits);

function table(rows: string[][]): string {
  const widths =
    rows[0]?.map((_, c) => Math.max(...rows.map((row) => (row[c] ?? '').length))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, c) => cell.padEnd(widths[c] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

const HEADER = [
  'optimizer',
  'precision',
  'recall',
  'false learning',
  'stale',
  'evidence rejected',
  'invalid output',
  'prompt tok/upd',
  'output tok/upd',
  's/upd',
];

function row(label: string, counts: Counts): string[] {
  const r = rates(counts);
  return [
    label,
    fraction(r.precision, counts.learnedTrue, counts.learned),
    fraction(r.recall, counts.factsLearned, counts.facts),
    fraction(r.falseLearning, counts.distractorsLearned, counts.distractors),
    fraction(r.stale, counts.stale, counts.endedLearned),
    fraction(r.evidenceRejection, counts.evidenceRejected, counts.proposed),
    fraction(r.invalidOutput, counts.invalidAttempts, counts.attempts),
    number(r.promptTokensPerUpdate),
    number(r.completionTokensPerUpdate),
    number(r.secondsPerUpdate, 1),
  ];
}

interface ModelReport {
  model: string;
  label: string;
  backend: string;
  contextWindow: number;
  loadSeconds: number;
  wallSeconds: number;
  overall: Counts;
  rates: ReturnType<typeof rates>;
  users: UserScore[];
  runs: LearningResult['runs'];
}

async function main(): Promise<void> {
  let options: Options | null;
  try {
    options = readOptions(process.argv.slice(2));
  } catch (error) {
    throw new CliError(error instanceof Error ? error.message : String(error));
  }
  if (options === null) {
    console.log(HELP);
    return;
  }
  const dataset = loadData(options.data);
  const users = dataset.users.slice(0, options.users);
  if (options.models.includes('tiny') && !existsSync('tests/fixtures/generated/tiny.gguf')) {
    throw new CliError('The tiny model is missing: run npm run fixtures first.');
  }
  if (options.models.includes('smollm2')) await fetchSmolLM2();

  await build({ configFile: 'tests/bench/vite.learning.config.ts' });
  const pagePort = options.port;
  const modelPort = options.port + 1;
  const modelServerUrl = `http://127.0.0.1:${modelPort}`;
  const pageServer = await preview({
    configFile: 'tests/bench/vite.learning.config.ts',
    preview: { port: pagePort, strictPort: true, host: '127.0.0.1' },
  });
  const modelServer = await startModelServer(modelPort);
  const browser = await launchBenchBrowser();
  const reports: ModelReport[] = [];
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(0);
    await page.exposeFunction('onProgress', (p: LearningProgress) => {
      const outcome = p.error
        ? `failed: ${p.error}`
        : `${p.applied} applied, ${p.rejected} rejected`;
      console.log(
        `  ${p.userId} update ${p.update}/${p.updates}: ${outcome} (${p.seconds.toFixed(1)} s)`,
      );
      if (process.env.BENCH_DEBUG) {
        for (const a of p.attempts) {
          console.log(
            `    ${a.promptTokens} + ${a.completionTokens} tokens, ${a.finishReason}: ${a.text}`,
          );
        }
      }
    });
    await page.goto(`http://127.0.0.1:${pagePort}/`);
    for (const model of options.models) {
      const label = LABELS[model] ?? basename(model);
      console.log(`\n${label}: ${users.length} users, k = ${options.k}`);
      const request: LearningRequest = {
        optimizer: optimizerFor(model, modelServerUrl),
        users,
        k: options.k,
        ...(options.contextWindow === undefined ? {} : { contextWindow: options.contextWindow }),
      };
      const started = performance.now();
      const result = await page.evaluate(
        (req) =>
          (
            window as unknown as { runLearning: (r: LearningRequest) => Promise<LearningResult> }
          ).runLearning(req),
        request,
      );
      const wallSeconds = (performance.now() - started) / 1000;
      const { users: scores, overall } = scoreRun(dataset, result.runs);
      reports.push({
        model,
        label,
        backend: result.backend,
        contextWindow: result.contextWindow,
        loadSeconds: result.loadSeconds,
        wallSeconds,
        overall,
        rates: rates(overall),
        users: scores,
        runs: result.runs,
      });
    }
  } finally {
    await browser.close();
    modelServer.kill();
    await pageServer.close();
  }

  for (const report of reports.filter((r) => r.model !== 'ceiling')) {
    console.log(
      `\n${report.label} per user (${report.backend}, ${report.contextWindow}-token window):`,
    );
    console.log(table([HEADER, ...report.users.map((user) => row(user.userId, user))]));
    const wrong = report.users.flatMap((user) => user.wrong.map((w) => `  ${user.userId}: ${w}`));
    if (wrong.length > 0)
      console.log(`\nwrong values in ${report.label}'s final profiles:\n${wrong.join('\n')}`);
    const falsely = report.users.flatMap((user) =>
      user.falselyLearned.map((f) => `  ${user.userId}: ${f}`),
    );
    if (falsely.length > 0)
      console.log(`\ndistractors ${report.label} learned:\n${falsely.join('\n')}`);
  }
  console.log(
    `\nLearning benchmark: ${relative(process.cwd(), options.data)}, ${users.length} users, ${users.reduce((n, u) => n + u.facts.length, 0)} facts, k = ${options.k}`,
  );
  console.log(table([HEADER, ...reports.map((report) => row(report.label, report.overall))]));
  for (const report of reports) {
    console.log(
      `${report.label}: ${report.backend}, model load ${report.loadSeconds.toFixed(1)} s, whole run ${report.wallSeconds.toFixed(0)} s`,
    );
  }

  mkdirSync(join(options.out, '..'), { recursive: true });
  writeFileSync(
    options.out,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        data: options.data,
        k: options.k,
        users: users.length,
        reports,
      },
      null,
      2,
    ),
  );
  console.log(`\nwrote ${options.out}`);
}

try {
  await main();
} catch (error) {
  console.error(error instanceof CliError ? error.message : error);
  process.exit(1);
}
