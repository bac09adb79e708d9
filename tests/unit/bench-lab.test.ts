import 'fake-indexeddb/auto';
import { describe, expect, it, vi } from 'vitest';
import { AppError } from '../../src/core/errors';
import { summarizeRun } from '../../src/core/bench/report';
import type { BenchProgress, BenchSession } from '../../src/core/bench/types';
import {
  deleteRun,
  getRun,
  listRuns,
  openLabDatabase,
  wipeLabDatabase,
  runPersonaResults,
  runSessions,
  type LabDatabase,
} from '../../src/db/lab';
import { createConversation, sendUserMessage } from '../../src/db';
import type { GenerateRequest } from '../../src/engine/engine';
import { Assistant } from '../../src/worker/assistant';
import { EngineLease } from '../../src/worker/engine-lease';
import { LabRunner } from '../../src/worker/lab-runner';
import { ScriptedEngine } from '../doubles/scripted-engine';
import {
  defaultCast,
  kindOf,
  labRequest,
  makeDataset,
  spec,
  systemOf,
  type CallKind,
} from './bench-factories';
import { freshDatabase, makeWllamaSpec } from './factories';

const T0 = 1_750_000_000_000;

function setup(cast: (request: GenerateRequest) => string | Promise<string> = defaultCast) {
  const db = openLabDatabase(`persona-lab-test-${crypto.randomUUID()}`);
  const engine = new ScriptedEngine();
  engine.respond = cast;
  let ids = 0;
  const runner = new LabRunner({
    lease: new EngineLease(),
    db: () => db,
    loadEngine: () => Promise.resolve(engine),
    tryLock: (_name, work) => work(),
    now: () => 0,
    clock: () => T0,
    appVersion: '0.1.0-test',
    newId: () => `run-${++ids}`,
  });
  const progress: BenchProgress[] = [];
  return { db, engine, runner, progress, onProgress: (p: BenchProgress) => progress.push(p) };
}

const calls = (engine: ScriptedEngine, kind: CallKind) =>
  engine.requests.filter((r) => kindOf(r) === kind);

/** What two runs must agree on: everything but the run id. */
async function results(db: LabDatabase, runId: string) {
  const strip = <T extends { runId: string }>(rows: T[]) =>
    rows.map(({ runId: _, ...rest }) => rest);
  return {
    sessions: strip(await runSessions(db, runId)),
    personas: strip(await runPersonaResults(db, runId)),
  };
}

describe('PersonaBench lab runner', () => {
  it('puts the golden persona in the golden prompt and no profile in the none prompt', async () => {
    const ctx = setup();
    const done = await ctx.runner.start(labRequest(['none', 'golden']), ctx.onProgress);
    expect(done).toMatchObject({ status: 'done', done: 12, total: 12 });

    const prompts = calls(ctx.engine, 'assistant').map(systemOf);
    const golden = prompts.filter((p) => p.includes('<user-profile>'));
    // 2 personas × 3 scenes × 2 assistant turns each, per condition.
    expect(prompts).toHaveLength(24);
    expect(golden).toHaveLength(12);
    for (const prompt of golden) {
      expect(prompt).toContain(
        'Demographics: Location: Berlin, Germany; Occupation: intensive-care nurse',
      );
      expect(prompt).toContain('Preferences: Styles: short and direct');
    }
    const none = prompts.filter((p) => !p.includes('<user-profile>'));
    expect(none).toHaveLength(12);
    for (const prompt of none) expect(prompt).not.toMatch(/Berlin|nurse/u);

    const sessions = await runSessions(ctx.db, 'run-1');
    expect(sessions.map((s) => `${s.condition}/${s.personaId}/${s.sceneIndex}`)).toEqual([
      'none/p1/0',
      'none/p1/1',
      'none/p1/2',
      'none/p2/0',
      'none/p2/1',
      'none/p2/2',
      'golden/p1/0',
      'golden/p1/1',
      'golden/p1/2',
      'golden/p2/0',
      'golden/p2/1',
      'golden/p2/2',
    ]);
    const first = sessions[0];
    expect(first?.turns.map((t) => t.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(first?.turns[0]?.content).toBe('Help me with task 1.');
    expect(first).toMatchObject({ satisfied: true, userTurns: 2 });
    expect(first?.scores).toEqual({
      ok: true,
      value: { helpfulness: 8, personalization: 6, reason: 'Fine.' },
    });
    // Every call is kept with its session; the replay copies went once each chain was stored.
    expect(sessions.reduce((n, s) => n + s.calls.length, 0)).toBe(ctx.engine.requests.length);
    expect(await ctx.db.calls.count()).toBe(0);
    const run = await getRun(ctx.db, 'run-1');
    expect(run).toMatchObject({
      status: 'done',
      appVersion: '0.1.0-test',
      datasetName: 'test-set',
    });
    expect(run?.roleSpecs?.judge.id).toBe('tiny.gguf');
  });

  it('runs the optimizer exactly every k sessions, each session once, and the next prompt carries its changes', async () => {
    const ctx = setup();
    const request = labRequest(['learned-k3'], { personaLimit: 1 }, makeDataset(1, 7));
    await ctx.runner.start(request, ctx.onProgress);

    expect(calls(ctx.engine, 'optimizer')).toHaveLength(2);
    const sessions = await runSessions(ctx.db, 'run-1');
    expect(sessions.map((s) => s.optimizer?.sceneIndexes ?? null)).toEqual([
      null,
      null,
      [0, 1, 2],
      null,
      null,
      [3, 4, 5],
      null,
    ]);
    expect(sessions[2]?.optimizer).toMatchObject({ applied: 1, profileFields: 0 });
    // The same fact again from a new session is a confirmation: its quote is added as evidence.
    expect(sessions[5]?.optimizer).toMatchObject({ applied: 1, rejected: 0, profileFields: 1 });
    expect(
      sessions[5]?.profileAfter?.sections[0]?.fields.Location?.evidence.map((e) => e.messageId),
    ).toEqual(['p1#3#2', 'p1#0#2']);
    // The optimizer read the new sessions only: the second update never saw scene 1's words.
    const second = calls(ctx.engine, 'optimizer')[1]?.messages.at(-1)?.content ?? '';
    expect(second).toContain('Help me with task 4.');
    expect(second).not.toContain('Help me with task 1.');

    const firstPromptOf = (scene: number) =>
      calls(ctx.engine, 'assistant')
        .map(systemOf)
        .filter((_, i) => i % 2 === 0)[scene] ?? '';
    expect(firstPromptOf(2)).not.toContain('<user-profile>');
    expect(firstPromptOf(3)).toContain('Demographics: Location: Berlin');

    expect(sessions[1]?.fieldSimilarity).toBe(0);
    // Location "Berlin" against "Berlin, Germany": F1 2/3; two other golden fields missing.
    expect(sessions[2]?.fieldSimilarity).toBeCloseTo((10 * (2 / 3)) / 3, 10);
    const [result] = await runPersonaResults(ctx.db, 'run-1');
    expect(result?.judgeSimilarity).toEqual({
      ok: true,
      value: { score: 5, reason: 'Half of it.' },
    });
    expect(result?.fieldSimilarity).toBeCloseTo(20 / 9, 10);
  });

  it('plays a fact that changes mid-way at the state of each scene, and checks the profile followed it', async () => {
    const ctx = setup();
    const dataset = makeDataset(1, 3);
    const [persona] = dataset.personas;
    if (!persona) throw new Error('no persona');
    persona.changes = [
      {
        sceneIndex: 1,
        section: 'Demographics',
        key: 'Location',
        before: 'Hamburg',
        after: 'Berlin',
      },
    ];
    await ctx.runner.start(labRequest(['golden', 'learned-k1'], {}, dataset), ctx.onProgress);

    const goldenPrompts = calls(ctx.engine, 'assistant')
      .map(systemOf)
      .filter((p) => p.includes('<user-profile>') && p.includes('nurse'));
    expect(goldenPrompts.map((p) => /Location: (\w+)/u.exec(p)?.[1])).toEqual([
      'Hamburg',
      'Hamburg',
      'Berlin',
      'Berlin',
      'Berlin',
      'Berlin',
    ]);
    const simulated = calls(ctx.engine, 'simulator').map(systemOf);
    expect(simulated[0]).toContain('Location: Hamburg, Germany');
    expect(simulated.at(-1)).toContain('Location: Berlin, Germany');

    const [result] = await runPersonaResults(ctx.db, 'run-1');
    expect(result?.factUpdates).toEqual([
      {
        section: 'Demographics',
        key: 'Location',
        before: 'Hamburg',
        after: 'Berlin',
        learned: 'Berlin',
        status: 'updated',
      },
    ]);
  });

  it('resumes a stopped run without repeating a call and ends with the same results', async () => {
    const request = labRequest(['none', 'learned-k1', 'rag'], { stability: true });
    const whole = setup();
    await whole.runner.start(request, whole.onProgress);
    const expected = await results(whole.db, 'run-1');
    const allCalls = whole.engine.requests.length;

    const parts = setup((r) => {
      if (parts.engine.requests.length === 40) void parts.runner.stop();
      return defaultCast(r);
    });
    const stopped = await parts.runner.start(request, parts.onProgress);
    expect(stopped.status).toBe('stopped');
    expect(stopped.done).toBeLessThan(stopped.total);
    expect(parts.engine.requests).toHaveLength(40);
    expect((await getRun(parts.db, 'run-1'))?.status).toBe('stopped');

    const resumed = await parts.runner.resume('run-1', parts.onProgress);
    expect(resumed).toMatchObject({ status: 'done', done: resumed.total });
    expect(parts.engine.requests).toHaveLength(allCalls);
    expect(await results(parts.db, 'run-1')).toEqual(expected);
  });

  it('resumes after a crash mid-call: only the unfinished call is made again', async () => {
    const request = labRequest(['learned-k3', 'golden']);
    const whole = setup();
    await whole.runner.start(request, whole.onProgress);
    const expected = await results(whole.db, 'run-1');
    const allCalls = whole.engine.requests.length;

    // The tab dies during the 25th call: it never completes, nothing after it happens.
    const crashed = setup((r) =>
      crashed.engine.requests.length === 25 ? new Promise<string>(() => undefined) : defaultCast(r),
    );
    void crashed.runner.start(request, crashed.onProgress);
    await vi.waitFor(
      () => {
        expect(crashed.engine.requests).toHaveLength(25);
      },
      { timeout: 10_000 },
    );
    expect((await getRun(crashed.db, 'run-1'))?.status).toBe('running');

    // A new worker on the same database picks the run up.
    const engine = new ScriptedEngine();
    engine.respond = defaultCast;
    const reopened = new LabRunner({
      lease: new EngineLease(),
      db: () => crashed.db,
      loadEngine: () => Promise.resolve(engine),
      tryLock: (_name, work) => work(),
      now: () => 0,
      clock: () => T0,
      appVersion: '0.1.0-test',
    });
    const resumed = await reopened.resume('run-1', () => undefined);
    expect(resumed.status).toBe('done');
    expect(engine.requests).toHaveLength(allCalls - 24);
    expect(await results(crashed.db, 'run-1')).toEqual(expected);
  });

  it('retries malformed judge and simulator output once, then records a failure, never a zero', async () => {
    const judged = new Set<string>();
    const ctx = setup((request) => {
      const kind = kindOf(request);
      const scene = /task (\d+)/u.exec(request.messages[1]?.content ?? '')?.[1];
      if (kind === 'judge') {
        const first = !judged.has(scene ?? '');
        judged.add(scene ?? '');
        // Scene 1: garbage twice. Scene 2: out of range, then valid. Scene 3: valid.
        if (scene === '1') return 'The reply was good, I would say 8/10.';
        if (scene === '2' && first)
          return '{"helpfulness": 11, "personalization": 3, "reason": "x"}';
      }
      if (kind === 'simulator' && scene === '3') return '{"satisfied": false, "reply": ""}';
      return defaultCast(request);
    });
    await ctx.runner.start(labRequest(['none'], { personaLimit: 1 }), ctx.onProgress);
    const [s1, s2, s3] = await runSessions(ctx.db, 'run-1');

    expect(s1?.scores.ok).toBe(false);
    const judged1 = s1?.calls.filter((c) => c.role === 'judge') ?? [];
    expect(judged1.map((c) => c.attempt)).toEqual([0, 1]);
    expect(judged1.every((c) => c.error === 'the answer is not JSON')).toBe(true);

    expect(s2?.scores).toEqual({
      ok: true,
      value: { helpfulness: 8, personalization: 6, reason: 'Fine.' },
    });
    const judged2 = s2?.calls.filter((c) => c.role === 'judge') ?? [];
    expect(judged2.map((c) => c.error)).toEqual([
      '"helpfulness" must be an integer from 0 to 10',
      undefined,
    ]);

    expect(s3?.error).toMatch(
      /^The user simulator gave no valid answer: an unsatisfied user must say what they need next$/u,
    );
    expect(s3?.satisfied).toBe(false);
    expect(s3?.calls.filter((c) => c.role === 'simulator')).toHaveLength(2);

    const [summary] = summarizeRun([s1, s2, s3] as BenchSession[], []);
    expect(summary).toMatchObject({
      condition: 'none',
      helpfulness: 8,
      personalization: 6,
      // Scene 3's simulation failed: only scenes 1 and 2 count (2 user turns each).
      utterances: 2,
      sessions: 3,
      failures: 2,
    });
  });

  it('records a judgement whose prompt cannot fit the model as a failure, without calling it', async () => {
    const ctx = setup();
    // The judge's JSON budget (320) and its prompt (a few hundred) overflow 600 tokens; the
    // assistant (a quarter of the window for the reply) and the simulator still fit.
    ctx.engine.contextWindow = 600;
    const done = await ctx.runner.start(
      labRequest(['none'], { personaLimit: 1, sceneLimit: 1, maxTurns: 1 }),
      ctx.onProgress,
    );
    expect(done.status).toBe('done');
    const [session] = await runSessions(ctx.db, done.runId);
    expect(calls(ctx.engine, 'judge')).toHaveLength(0);
    const scores = session?.scores;
    expect(scores?.ok).toBe(false);
    expect(scores?.ok === false ? scores.error : '').toMatch(
      /^The judge gave no valid answer: the prompt needs about \d+ tokens, more than the judge model's 600-token context window$/u,
    );
  });

  it('reports progress at every model call, with the step and an ETA', async () => {
    const ctx = setup();
    await ctx.runner.start(
      labRequest(['learned-k1'], { personaLimit: 1, sceneLimit: 2 }),
      ctx.onProgress,
    );
    const running = ctx.progress.filter((p) => p.status === 'running');
    expect(running.length).toBeGreaterThanOrEqual(ctx.engine.requests.length);
    const steps = running.map((p) => p.step);
    expect(steps).toContain('learned-k1 · Mara · scene 2/2 · simulator turn 2');
    expect(steps).toContain('learned-k1 · Mara · scene 1/2 · optimizer');
    expect(steps).toContain('learned-k1 · Mara · persona similarity');
    expect(ctx.progress.at(-1)).toMatchObject({ status: 'done', done: 3, total: 3 });
  });

  it('loads one engine per distinct model, gives each role its own, and unloads them at the end', async () => {
    const db = openLabDatabase(`persona-lab-test-${crypto.randomUUID()}`);
    const engines: ScriptedEngine[] = [];
    const runner = new LabRunner({
      lease: new EngineLease(),
      db: () => db,
      loadEngine: () => {
        const engine = new ScriptedEngine();
        engine.respond = defaultCast;
        engines.push(engine);
        return Promise.resolve(engine);
      },
      tryLock: (_name, work) => work(),
      now: () => 0,
      clock: () => T0,
      appVersion: 'test',
    });
    const request = labRequest(['learned-k1'], { personaLimit: 1, sceneLimit: 2 });
    request.roles = {
      assistant: spec('small.gguf'),
      simulator: spec('small.gguf'),
      judge: spec('judge.gguf'),
    };
    const done = await runner.start(request, () => undefined);

    expect(done.status).toBe('done');
    expect(engines).toHaveLength(2);
    const [shared, judge] = engines;
    expect(new Set(shared?.requests.map(kindOf))).toEqual(
      new Set(['assistant', 'simulator', 'optimizer']),
    );
    expect(new Set(judge?.requests.map(kindOf))).toEqual(new Set(['judge', 'similarity']));
    expect(engines.map((e) => e.loaded)).toEqual([null, null]);
    const [session] = await runSessions(db, done.runId);
    expect(session?.calls.map((c) => `${c.role}:${c.modelId}`)).toContain('judge:judge.gguf');
    expect(session?.calls.map((c) => `${c.role}:${c.modelId}`)).toContain('optimizer:small.gguf');
  });

  it('fails with the typed error when a model call fails, and resumes from there', async () => {
    const ctx = setup((request) => {
      if (ctx.engine.requests.length === 4) throw new AppError('device-lost', 'The GPU was lost.');
      return defaultCast(request);
    });
    await expect(ctx.runner.start(labRequest(['none']), ctx.onProgress)).rejects.toMatchObject({
      code: 'device-lost',
    });
    expect(await getRun(ctx.db, 'run-1')).toMatchObject({
      status: 'failed',
      error: 'The GPU was lost.',
    });
    expect(ctx.progress.at(-1)).toMatchObject({
      status: 'failed',
      step: 'Failed: The GPU was lost.',
    });

    const resumed = await ctx.runner.resume('run-1', ctx.onProgress);
    expect(resumed).toMatchObject({ status: 'done', done: 6 });
    const run = await getRun(ctx.db, 'run-1');
    expect(run?.status).toBe('done');
    expect(run?.error).toBeUndefined();
  });

  it('fails a run deleted while it works, leaving nothing of it behind', async () => {
    const ctx = setup((request) => {
      if (ctx.engine.requests.length === 3) void deleteRun(ctx.db, 'run-1');
      return defaultCast(request);
    });
    await expect(ctx.runner.start(labRequest(['none']), ctx.onProgress)).rejects.toMatchObject({
      code: 'invalid-request',
      message: 'This benchmark run was deleted.',
    });
    expect(ctx.progress.at(-1)?.status).toBe('failed');
    for (const table of ctx.db.tables) expect(await table.count(), table.name).toBe(0);
  });

  it('refuses a request it cannot run, with a typed error', async () => {
    const ctx = setup();
    await expect(ctx.runner.start(labRequest([], {}), ctx.onProgress)).rejects.toMatchObject({
      code: 'invalid-request',
    });
    await expect(ctx.runner.resume('missing', ctx.onProgress)).rejects.toMatchObject({
      code: 'invalid-request',
    });
    expect(await listRuns(ctx.db)).toEqual([]);
  });

  it('answers busy while another tab runs the lab, and keeps the new run resumable', async () => {
    const ctx = setup();
    const elsewhere = new LabRunner({
      lease: new EngineLease(),
      db: () => ctx.db,
      loadEngine: () => Promise.resolve(ctx.engine),
      tryLock: () => Promise.resolve(null),
      now: () => 0,
      clock: () => T0,
      appVersion: 'test',
      newId: () => 'run-elsewhere',
    });
    await expect(elsewhere.start(labRequest(['none']), ctx.onProgress)).rejects.toMatchObject({
      code: 'busy',
    });
    expect((await getRun(ctx.db, 'run-elsewhere'))?.status).toBe('stopped');
    expect(ctx.engine.requests).toHaveLength(0);
    const resumed = await ctx.runner.resume('run-elsewhere', ctx.onProgress);
    expect(resumed).toMatchObject({ status: 'done', done: 6, total: 6 });
  });
});

describe('the lab inside the assistant worker', () => {
  function assistantSetup() {
    const db = freshDatabase();
    const labDb = openLabDatabase(`persona-lab-test-${crypto.randomUUID()}`);
    const engine = new ScriptedEngine();
    const assistant = new Assistant({
      db,
      labDb: () => labDb,
      loadEngine: () => Promise.resolve(engine),
      schedule: () => () => undefined,
      holdLock: (_name, work) => work(),
      tryLock: (_name, work) => work(),
      clock: () => T0,
    });
    return { db, labDb, engine, assistant };
  }

  /** The engine holds its fifth answer until the returned function is called. */
  function holdFifthCall(engine: ScriptedEngine): () => void {
    let release: () => void = () => undefined;
    engine.respond = (request) => {
      if (engine.requests.length === 5) {
        return new Promise<string>((resolve) => {
          release = () => {
            resolve(defaultCast(request));
          };
        });
      }
      return defaultCast(request);
    };
    return () => {
      release();
    };
  }

  it('never touches the app database', async () => {
    const { db, labDb, engine, assistant } = assistantSetup();
    engine.respond = defaultCast;
    const progress = await assistant.lab.start(
      labRequest(['learned-k1', 'golden', 'rag'], { stability: true }),
      () => undefined,
    );
    expect(progress.status).toBe('done');
    expect((await listRuns(labDb)).length).toBe(1);
    for (const table of db.tables) expect(await table.count(), table.name).toBe(0);
  });

  it('yields the engine to a chat message and goes on by itself after the reply (issue 9)', async () => {
    const { db, engine, assistant } = assistantSetup();
    const release = holdFifthCall(engine);
    await assistant.models.load(makeWllamaSpec(), () => undefined);
    const steps: string[] = [];
    const running = assistant.lab.start(labRequest(['golden'], { personaLimit: 1 }), (p) => {
      steps.push(p.step);
    });
    await vi.waitFor(
      () => {
        expect(engine.requests).toHaveLength(5);
      },
      { timeout: 10_000 },
    );

    const conversation = await createConversation(db);
    const sent = await sendUserMessage(db, conversation.id, 'Hello?');
    engine.respond = (request) => (request.jsonSchema ? defaultCast(request) : 'Hi there.');
    const replying = assistant.chat.reply(
      { conversationId: conversation.id, messageId: sent.assistantMessageId },
      () => undefined,
    );
    // The reply is served first: the lab's call in flight is abandoned, not waited for.
    await expect(replying).resolves.toMatchObject({ finishReason: 'stop' });
    const chatAt = engine.requests.findIndex((r) => r.messages.at(-1)?.content === 'Hello?');
    expect(chatAt).toBe(5);
    release();
    const done = await running;
    expect(done).toMatchObject({ status: 'done', done: 3, total: 3 });
    // The abandoned call was made again after the reply, and nothing else was repeated.
    expect(engine.requests[6]?.messages).toEqual(engine.requests[4]?.messages);
    expect(steps.some((step) => step.startsWith('Paused'))).toBe(true);
  });

  it('stops a run before an import or erase, refuses new runs until then, and erase clears the runs', async () => {
    const { engine, labDb, assistant } = assistantSetup();
    const release = holdFifthCall(engine);
    const running = assistant.lab.start(
      labRequest(['golden'], { personaLimit: 1 }),
      () => undefined,
    );
    await vi.waitFor(
      () => {
        expect(engine.requests).toHaveLength(5);
      },
      { timeout: 10_000 },
    );
    const quiesced = assistant.data.quiesce();
    release();
    await quiesced;
    expect((await running).status).toBe('stopped');
    await expect(assistant.lab.start(labRequest(['none']), () => undefined)).rejects.toMatchObject({
      code: 'busy',
    });

    await wipeLabDatabase(labDb);
    for (const table of labDb.tables) expect(await table.count(), table.name).toBe(0);
  });
});
