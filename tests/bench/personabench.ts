/**
 * `npm run personabench -- [options]`: runs PersonaBench (issue #5) in the real app, in Chromium,
 * the way a user would in the Lab view, and writes the results to files. See `--help`.
 *
 * The browser profile persists (`--profile`), so downloaded model weights stay cached between
 * runs and a stopped or crashed run can be continued with `--resume`. The app is served on a fixed
 * port by default for the same reason: caches and the lab database belong to the page's origin.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium, type BrowserContext, type Locator, type Page } from '@playwright/test';
import { build, preview, type PreviewServer } from 'vite';
import { BENCH_CONDITIONS, type BenchCondition, type BenchRole } from '../../src/core/bench/types';
import { CATALOG } from '../../src/core/models/catalog';
import type { ModelSpec } from '../../src/engine/engine';
import { PersonaLab } from '../e2e/pages/persona-lab';

const HELP = `npm run personabench -- [options]

Runs PersonaBench (the AI PERSONA paper's experiments) in Persona's Lab, in Chromium, and writes
results.json, sessions.csv and table.txt. The app is built first when dist/ is missing or older
than the sources.

Models (the assistant also runs the profile optimizer; simulator and judge default to it):
  --model <id>          a catalog model: a family id (e.g. llama-3.2-1b, qwen2.5-0.5b-cpu) or a
                        model id as the Models view shows it (e.g. Llama-3.2-1B-Instruct-q4f32_1-MLC)
  --model-url <url>     instead of --model: an absolute URL of a .gguf file (a custom model)
  --simulator <id|url>  the user simulator's model (catalog id, or a .gguf URL)
  --judge <id|url>      the judge's model (catalog id, or a .gguf URL)

Data and protocol:
  --data <folder>       a folder in the PersonaBench format (default: the shipped persona-en set)
  --conditions <list>   comma-separated, from: ${BENCH_CONDITIONS.join(', ')}
                        (default: all)
  --personas <n>        only the first n personas (default: all)
  --scenes <n>          only the first n scenes of each persona (default: all)
  --max-turns <n>       user turns per session before the simulator gives up (default 5)
  --seed <n>            base seed (default 1)
  --stability           also run the profile stability experiment
  --resume              continue the newest unfinished run in this browser profile instead of
                        starting a new one (the other run options are then taken from that run)

Output:
  --out <dir>           default bench-results/personabench-<timestamp>/

Browser:
  --browser <path>      a Chromium-based browser executable (default: /usr/bin/chromium when
                        present, else Playwright's own)
  --channel <name>      a Playwright channel instead, e.g. chrome for your installed Chrome
  --no-webgpu           do not pass --enable-unsafe-webgpu
  --headed              show the browser window
  --profile <dir>       persistent browser profile (default .personabench-browser/): keeps model
                        downloads and runs between invocations
  --port <n>            port the app is served on (default 4290; keep it fixed, as the cache and
                        the runs belong to the page's origin)
  --rebuild             build the app even if dist/ looks up to date
  -h, --help            this text

On a machine with WebGPU:  npm run personabench -- --model llama-3.2-1b
Ctrl+C stops the run after the current model call; --resume continues it.`;

class CliError extends Error {}

interface Options {
  model?: string;
  modelUrl?: string;
  simulator?: string;
  judge?: string;
  data?: string;
  conditions: BenchCondition[];
  personas: number;
  scenes: number;
  maxTurns: number;
  seed: number;
  stability: boolean;
  resume: boolean;
  out: string;
  browser?: string;
  channel?: string;
  webgpu: boolean;
  headed: boolean;
  profile: string;
  port: number;
  rebuild: boolean;
}

function count(name: string, value: string | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    throw new CliError(`--${name} must be a whole number of at least ${min}, not "${value}".`);
  }
  return n;
}

function parseOptions(argv: string[]): Options | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' },
      'model-url': { type: 'string' },
      simulator: { type: 'string' },
      judge: { type: 'string' },
      data: { type: 'string' },
      conditions: { type: 'string' },
      personas: { type: 'string' },
      scenes: { type: 'string' },
      'max-turns': { type: 'string' },
      seed: { type: 'string' },
      stability: { type: 'boolean', default: false },
      resume: { type: 'boolean', default: false },
      out: { type: 'string' },
      browser: { type: 'string' },
      channel: { type: 'string' },
      'no-webgpu': { type: 'boolean', default: false },
      headed: { type: 'boolean', default: false },
      profile: { type: 'string' },
      port: { type: 'string' },
      rebuild: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return null;
  if (!values.resume && !values.model === !values['model-url']) {
    throw new CliError('Give exactly one of --model <id> and --model-url <url> (see --help).');
  }
  const conditions = (values.conditions ?? BENCH_CONDITIONS.join(','))
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  const unknown = conditions.filter((c) => !(BENCH_CONDITIONS as readonly string[]).includes(c));
  if (unknown.length > 0 || conditions.length === 0) {
    throw new CliError(
      `Unknown condition ${unknown.join(', ') || '(none given)'}; choose from ${BENCH_CONDITIONS.join(', ')}.`,
    );
  }
  // Unknown catalog ids fail here, before anything is built or launched.
  for (const id of [values.model, values.simulator, values.judge]) {
    if (id !== undefined && !isUrl(id)) catalogSpec(id);
  }
  if (values['model-url'] !== undefined && !isUrl(values['model-url'])) {
    throw new CliError('--model-url must be an absolute http(s) URL of a .gguf file.');
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  return {
    model: values.model,
    modelUrl: values['model-url'],
    simulator: values.simulator,
    judge: values.judge,
    data: values.data,
    conditions: conditions as BenchCondition[],
    personas: count('personas', values.personas, 0),
    scenes: count('scenes', values.scenes, 0),
    maxTurns: count('max-turns', values['max-turns'], 5, 1),
    seed: count('seed', values.seed, 1),
    stability: values.stability,
    resume: values.resume,
    out: values.out ?? `bench-results/personabench-${stamp}`,
    browser: values.browser,
    channel: values.channel,
    webgpu: !values['no-webgpu'],
    headed: values.headed,
    profile: values.profile ?? '.personabench-browser',
    port: count('port', values.port, 4290, 1),
    rebuild: values.rebuild,
  };
}

const log = (line: string) => {
  console.log(`[personabench] ${line}`);
};

const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();

const isUrl = (value: string) => /^https?:\/\//i.test(value);

/** A catalog model by family id or model id: the spec of the variant the user means. */
function catalogSpec(id: string): ModelSpec {
  for (const entry of CATALOG) {
    const variant = entry.variants.find((v) => v.spec.id === id);
    if (variant) return variant.spec;
  }
  const family = CATALOG.find((entry) => entry.familyId === id);
  const first = family?.variants[0];
  if (first) return first.spec;
  const ids = CATALOG.map((entry) => entry.familyId).join(', ');
  throw new CliError(`Unknown model "${id}". Catalog families: ${ids}; or use --model-url.`);
}

/** The newest modification time of the files a build reads. */
function newestSource(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce(
    (newest, name) => Math.max(newest, newestSource(join(path, name))),
    0,
  );
}

/** A build older than the sources would run yesterday's app (or one without the Lab at all). */
function needsBuild(): boolean {
  if (!existsSync('dist/index.html')) return true;
  const built = statSync('dist/index.html').mtimeMs;
  const sources = ['src', 'public', 'index.html', 'vite.config.ts', 'package.json'];
  return sources.some((path) => existsSync(path) && newestSource(path) > built);
}

async function serve(options: Options): Promise<PreviewServer> {
  if (options.rebuild || needsBuild()) {
    log('building the app (vite build)…');
    await build({ logLevel: 'warn' });
  }
  try {
    return await preview({
      preview: { port: options.port, strictPort: true, host: '127.0.0.1' },
      logLevel: 'warn',
    });
  } catch (error) {
    throw new CliError(
      `Cannot serve the app on port ${options.port} (${String(error)}); choose another with --port.`,
    );
  }
}

async function launch(options: Options): Promise<BrowserContext> {
  const systemChromium = '/usr/bin/chromium';
  const executablePath =
    options.browser ??
    (!options.channel && existsSync(systemChromium) ? systemChromium : undefined);
  const args = [
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    ...(options.webgpu ? ['--enable-unsafe-webgpu'] : []),
    ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
  ];
  try {
    return await chromium.launchPersistentContext(resolve(options.profile), {
      executablePath,
      channel: options.channel,
      headless: !options.headed,
      args,
      acceptDownloads: true,
      // Ctrl+C stops the run and saves its results (below); Playwright would close the browser.
      handleSIGINT: false,
      // A service worker would keep serving an older build from its cache after a rebuild.
      serviceWorkers: 'block',
      viewport: { width: 1280, height: 900 },
    });
  } catch (error) {
    throw new CliError(
      `Cannot start the browser${executablePath ? ` ${executablePath}` : ''}: ${String(error).split('\n')[0]}. Use --browser <path> or --channel chrome.`,
    );
  }
}

/** The app as the user drives it: the Models view for loading, the Lab for the run. */
class LabDriver {
  readonly page: Page;
  readonly lab: PersonaLab;

  constructor(page: Page) {
    this.page = page;
    this.lab = new PersonaLab(page);
  }

  get models(): Locator {
    return this.page.getByRole('region', { name: 'Models' });
  }

  async open(baseUrl: string): Promise<void> {
    await this.page.goto(baseUrl);
    await this.page.getByRole('heading', { name: 'Persona' }).waitFor();
  }

  async openModels(): Promise<void> {
    await this.page.getByRole('button', { name: 'Models', exact: true }).click();
    await this.models.waitFor();
    // The catalog is shown once the device has been probed.
    await this.models.getByRole('heading', { name: 'All models' }).waitFor({ timeout: 60_000 });
  }

  async hasWebGpu(): Promise<boolean> {
    return this.page.evaluate(async () => {
      const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
      if (!gpu) return false;
      return (await gpu.requestAdapter()) !== null;
    });
  }

  /**
   * Adds a `.gguf` URL as a custom model unless it is there already; returns its model id. The
   * first model from a host allows that host, which reloads the page.
   */
  async addCustomGguf(url: string): Promise<string> {
    await this.openModels();
    const existing = this.models.locator('article', { hasText: url });
    if ((await existing.count()) > 0) {
      return (await existing.first().getAttribute('data-model-id')) ?? url;
    }
    const form = this.page.getByRole('form', { name: 'Add a custom model' });
    await form.getByLabel('Model URL').fill(url);
    const reloaded = this.page.waitForEvent('load', { timeout: 5_000 }).catch(() => null);
    await form.getByRole('button', { name: 'Add model' }).click();
    await reloaded;
    await this.openModels();
    const card = this.models.locator('article', { hasText: url }).first();
    try {
      await card.waitFor({ timeout: 15_000 });
    } catch {
      const error = await form.getByRole('alert').allInnerTexts();
      throw new CliError(`The model URL was refused: ${error.join(' ') || url}`);
    }
    return (await card.getAttribute('data-model-id')) ?? url;
  }

  /** Loads a model in the Models view, printing its progress; fails with the app's own reason. */
  async loadModel(id: string): Promise<void> {
    await this.openModels();
    const card = this.models.locator(`article[data-model-id="${id}"]`).first();
    if ((await card.count()) === 0) {
      throw new CliError(
        `The Models view does not offer ${id} on this device (without shader-f16 it offers the family's other variant: give the family id instead).`,
      );
    }
    if ((await card.getByText('In use').count()) > 0) return;
    const load = card.getByRole('button', { name: /^(Download and load|Load)$/ });
    if (await load.isDisabled()) {
      const reasons = await card.locator('.reasons').allInnerTexts();
      throw new CliError(`${id} cannot run here: ${reasons.join(' ') || 'no reason given'}`);
    }
    await load.click();
    let last = '';
    for (;;) {
      if ((await card.getByText('In use').count()) > 0) break;
      const failure = this.models.getByRole('alert');
      if ((await failure.count()) > 0) {
        throw new CliError(`The model could not load: ${oneLine(await failure.innerText())}`);
      }
      // Read without waiting: the progress disappears the moment the load ends.
      const status = this.models.getByRole('status').filter({ has: this.page.locator('progress') });
      const text = oneLine((await status.allInnerTexts()).join(' '));
      if (text && text !== last) {
        log(`loading ${id}: ${text.replace(/\s*Cancel\b/, ' ·')}`);
        last = text;
      }
      await this.page.waitForTimeout(1000);
    }
    log(`${id} loaded`);
  }

  async loadDataset(folder: string | undefined): Promise<void> {
    if (folder) {
      if (!existsSync(folder)) throw new CliError(`--data ${folder}: no such folder.`);
      await this.lab.pickDatasetFolder(resolve(folder));
    } else {
      await this.lab.useShippedDataset();
    }
    const { datasetSummary, datasetError } = this.lab;
    await datasetSummary.or(datasetError).first().waitFor({ timeout: 60_000 });
    if ((await datasetError.count()) > 0) throw new CliError(await datasetError.innerText());
    log(`dataset ${oneLine(await datasetSummary.innerText())}`);
  }

  async chooseRole(role: BenchRole, id: string): Promise<void> {
    const select = this.lab.roleSelect(role);
    if ((await select.locator(`option[value="${id}"]`).count()) === 0) {
      throw new CliError(`The Lab does not offer ${id} for the ${role}.`);
    }
    await select.selectOption(id);
  }

  async start(): Promise<void> {
    const start = this.lab.startButton;
    if (await start.isDisabled()) {
      throw new CliError(`The Lab cannot start: ${(await start.getAttribute('title')) ?? '?'}`);
    }
    await start.click();
  }

  async resumeNewest(): Promise<void> {
    const resume = this.lab.view
      .getByRole('list', { name: 'Past runs' })
      .getByRole('button', { name: 'Resume' });
    // The list is read from the lab database: give it a moment to arrive.
    await resume
      .first()
      .waitFor({ timeout: 10_000 })
      .catch(() => undefined);
    if ((await resume.count()) === 0) {
      throw new CliError('There is no unfinished run to resume in this browser profile.');
    }
    await this.lab.resumeNewest();
  }

  /** Prints progress until the run ends; returns its final status and, if it failed, why. */
  async follow(): Promise<{ status: string; error: string | null }> {
    const { progress, stopButton, runError, status } = this.lab;
    await progress.waitFor({ timeout: 60_000 });
    let last = '';
    for (;;) {
      if ((await runError.count()) > 0) throw new CliError(await runError.innerText());
      const running = await stopButton.isEnabled();
      const text = await this.progressLine();
      if (text !== last) {
        log(text);
        last = text;
      }
      if (!running) {
        const final = (await status.getAttribute('data-status')) ?? 'unknown';
        const error = this.lab.view.locator('li[aria-current="true"] .error');
        return { status: final, error: (await error.count()) > 0 ? await error.innerText() : null };
      }
      await this.page.waitForTimeout(1000);
    }
  }

  /** e.g. `[12/84] about 40 min left · learned-k3 · Mara · scene 4/10 · judge`. */
  async progressLine(): Promise<string> {
    const { progress } = this.lab;
    // Read without waiting: the ETA disappears the moment the run ends.
    const part = async (id: string) =>
      oneLine((await progress.getByTestId(id).allInnerTexts()).join(' '));
    const count = /(\d+) of (\d+)/.exec(await part('run-count'));
    return [count ? `[${count[1]}/${count[2]}]` : '', await part('run-eta'), await part('run-step')]
      .filter(Boolean)
      .join(' · ');
  }

  async saveDownload(what: 'JSON' | 'CSV' | 'table (text)', to: string): Promise<void> {
    await (await this.lab.download(what)).saveAs(to);
  }
}

/** How soon after a Ctrl+C a second SIGINT is taken as the first one relayed again. */
const SIGINT_ECHO_MS = 1000;

async function run(options: Options): Promise<number> {
  const server = await serve(options);
  const baseUrl = `http://127.0.0.1:${options.port}/`;
  const context = await launch(options);
  const page = context.pages()[0] ?? (await context.newPage());
  const driver = new LabDriver(page);
  let interruptedAt: number | null = null;
  const onSigint = () => {
    // Ctrl+C in a terminal signals the whole process group, and tsx relays the same signal to
    // this process once more: a second SIGINT within a second is that echo, not a second Ctrl+C.
    if (interruptedAt !== null) {
      if (Date.now() - interruptedAt > SIGINT_ECHO_MS) process.exit(130);
      return;
    }
    interruptedAt = Date.now();
    log('stopping after the current model call (Ctrl+C again to quit at once)…');
    void driver.lab.stopButton.click().catch(() => undefined);
  };
  process.on('SIGINT', onSigint);
  try {
    await driver.open(baseUrl);
    const roles: Partial<Record<BenchRole, string>> = {};
    if (!options.resume) {
      const toId = async (value: string): Promise<string> => {
        if (isUrl(value)) return driver.addCustomGguf(value);
        const spec = catalogSpec(value);
        if (spec.engine === 'webllm' && !(await driver.hasWebGpu())) {
          throw new CliError(
            `${spec.id} runs on WebGPU, which this browser does not offer${options.webgpu ? '' : ' (--no-webgpu was given)'}. Try --channel chrome, a machine with a GPU, or a CPU model (e.g. --model qwen2.5-0.5b-cpu).`,
          );
        }
        return spec.id;
      };
      const assistant = await toId(options.modelUrl ?? options.model ?? '');
      roles.assistant = assistant;
      roles.simulator = options.simulator ? await toId(options.simulator) : assistant;
      roles.judge = options.judge ? await toId(options.judge) : assistant;
      // Loaded through the Models view first: a download shows its progress, and a model that
      // cannot load fails here with the app's own explanation.
      await driver.loadModel(assistant);
    }
    await driver.lab.open();
    if (options.resume) {
      await driver.resumeNewest();
    } else {
      await driver.loadDataset(options.data);
      for (const [role, id] of Object.entries(roles) as [BenchRole, string][]) {
        await driver.chooseRole(role, id);
      }
      await driver.lab.configure(options);
      await driver.start();
    }
    const { status, error } = await driver.follow();
    await mkdir(options.out, { recursive: true });
    const out = (name: string) => resolve(options.out, name);
    await driver.saveDownload('JSON', out('results.json'));
    await driver.saveDownload('CSV', out('sessions.csv'));
    await driver.saveDownload('table (text)', out('table.txt'));
    console.log(`\n${await readFile(out('table.txt'), 'utf8')}`);
    log(`results in ${resolve(options.out)} (results.json, sessions.csv, table.txt)`);
    if (status !== 'done') {
      if (error) log(`the run failed: ${error}`);
      log(`the run is ${status}; continue it with: npm run personabench -- --resume`);
      return status === 'stopped' ? 2 : 1;
    }
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
    await context.close();
    await server.close();
  }
}

async function main(): Promise<void> {
  let options: Options | null;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    console.error(`personabench: ${error instanceof Error ? error.message : String(error)}`);
    console.error('Run with --help for the options.');
    process.exit(64);
  }
  if (!options) {
    console.log(HELP);
    return;
  }
  try {
    process.exitCode = await run(options);
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    console.error(
      `personabench: ${error instanceof CliError ? text : `unexpected failure: ${text}`}`,
    );
    process.exitCode = 1;
  }
}

await main();
