import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import type { BenchSession } from '../../src/core/bench/types';
import { APP_PORT, MODEL_SERVER } from './ports';

/** A port of its own: the command serves the app itself, beside the tests' servers. */
const CLI_PORT = APP_PORT + 9;

/**
 * Runs the command as a terminal would, in a process group of its own; `interruptWhen` presses
 * Ctrl+C (SIGINT to the whole group) once the output matches it.
 */
function personabench(
  args: string[],
  interruptWhen?: RegExp,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', '--silent', 'personabench', '--', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    let interrupted = false;
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      if (interruptWhen && !interrupted && interruptWhen.test(output) && child.pid) {
        interrupted = true;
        process.kill(-child.pid, 'SIGINT');
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.on('close', (code) => {
      resolve({ code, output });
    });
  });
}

test('npm run personabench runs the tiny model through the Lab and writes the table and files', async () => {
  test.setTimeout(240_000);
  const work = await mkdtemp(join(tmpdir(), 'personabench-cli-'));
  const out = join(work, 'results');
  try {
    const { code, output } = await personabench([
      '--model-url',
      `${MODEL_SERVER}/models/tiny.gguf`,
      '--personas',
      '1',
      '--scenes',
      '2',
      '--max-turns',
      '1',
      '--conditions',
      'none,learned-k1',
      '--no-webgpu',
      '--port',
      String(CLI_PORT),
      '--profile',
      join(work, 'browser'),
      '--out',
      out,
    ]);
    expect(code, output).toBe(0);
    // Progress with the step being worked on, then the Table 1 text.
    expect(output).toMatch(/\[\d+\/\d+\] .*scene 1\/2/);
    expect(output).toContain('Helpfulness');
    expect(output).toContain('GPT-4o');
    for (const file of ['results.json', 'sessions.csv', 'table.txt']) {
      expect(existsSync(join(out, file)), file).toBe(true);
    }
    const results = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as {
      sessions: BenchSession[];
    };
    expect(results.sessions).toHaveLength(4);
    const csv = (await readFile(join(out, 'sessions.csv'), 'utf8')).trim().split(/\r?\n/);
    expect(csv).toHaveLength(5);
    expect(await readFile(join(out, 'table.txt'), 'utf8')).toContain('Personalization');
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});

test('npm run personabench fails with a clear message when the model cannot load', async () => {
  test.setTimeout(120_000);
  const work = await mkdtemp(join(tmpdir(), 'personabench-cli-'));
  try {
    const { code, output } = await personabench([
      '--model-url',
      `${MODEL_SERVER}/models/missing.gguf`,
      '--no-webgpu',
      '--port',
      String(CLI_PORT),
      '--profile',
      join(work, 'browser'),
      '--out',
      join(work, 'results'),
    ]);
    expect(code).not.toBe(0);
    expect(output).toContain('personabench: The model could not load');
    expect(existsSync(join(work, 'results'))).toBe(false);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});

test('npm run personabench refuses a WebGPU model in a browser without WebGPU, saying why', async () => {
  test.setTimeout(120_000);
  const work = await mkdtemp(join(tmpdir(), 'personabench-cli-'));
  try {
    const { code, output } = await personabench([
      '--model',
      'llama-3.2-1b',
      '--no-webgpu',
      '--port',
      String(CLI_PORT),
      '--profile',
      join(work, 'browser'),
      '--out',
      join(work, 'results'),
    ]);
    expect(code).not.toBe(0);
    expect(output).toMatch(/personabench: \S+ runs on WebGPU, which this browser does not offer/);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});

test('Ctrl+C stops a personabench run with its results saved, and --resume finishes it', async () => {
  test.setTimeout(240_000);
  const work = await mkdtemp(join(tmpdir(), 'personabench-cli-'));
  const browser = ['--no-webgpu', '--port', String(CLI_PORT), '--profile', join(work, 'browser')];
  try {
    const stopped = await personabench(
      [
        '--model-url',
        `${MODEL_SERVER}/models/tiny.gguf`,
        '--personas',
        '1',
        '--scenes',
        '4',
        '--max-turns',
        '1',
        '--conditions',
        'none',
        ...browser,
        '--out',
        join(work, 'first'),
      ],
      /\[1\/4\]/,
    );
    expect(stopped.code, stopped.output).not.toBe(0);
    expect(stopped.output).toContain('stopping after the current model call');
    expect(stopped.output).toContain('continue it with: npm run personabench -- --resume');
    const partial = JSON.parse(await readFile(join(work, 'first', 'results.json'), 'utf8')) as {
      sessions: BenchSession[];
    };
    expect(partial.sessions.length).toBeGreaterThan(0);
    expect(partial.sessions.length).toBeLessThan(4);

    const resumed = await personabench(['--resume', ...browser, '--out', join(work, 'second')]);
    expect(resumed.code, resumed.output).toBe(0);
    const full = JSON.parse(await readFile(join(work, 'second', 'results.json'), 'utf8')) as {
      sessions: BenchSession[];
    };
    expect(full.sessions.map((s) => s.sceneIndex).sort()).toEqual([0, 1, 2, 3]);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});
