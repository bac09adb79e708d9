import type { GenerateRequest, GenerateResult } from '../llm';
import {
  TEMPLATE_TOKENS_PER_MESSAGE,
  fitToContext,
  type ConversationTurn,
} from '../chat/context-window';
import {
  CHAT_REPEAT_PENALTY,
  CHAT_TEMPERATURE,
  replyTokenReserve,
  baseSystemPrompt,
  personalizedSystemPrompt,
} from '../chat/system-prompt';
import { AppError } from '../errors';
import { proposeProfileChanges } from '../optimizer/propose';
import type { OptimizerSession } from '../optimizer/transcript';
import { emptyProfile } from '../profile/defaults';
import { estimateTokens } from '../tokens';
import type { Profile } from '../profile/types';
import {
  JUDGE_OUTPUT_TOKENS,
  JUDGE_SCHEMA,
  SIMILARITY_SCHEMA,
  SIMULATOR_OUTPUT_TOKENS,
  SIMULATOR_SCHEMA,
  judgeMessages,
  parseJudgeOutput,
  parseSimilarityOutput,
  parseSimulatorOutput,
  similarityMessages,
  simulatorMessages,
  type Parsed,
} from './prompts';
import { retrieveEarlierTurns, retrievedInstructions, type EarlierTurn } from './rag';
import { isLearned } from './report';
import { deriveSeed } from './seed';
import { goldenAt } from './timeline';
import { countFields, factUpdate, fieldSimilarity } from './similarity';
import { measureDrift, stabilitySessions } from './stability';
import type {
  BenchCall,
  BenchCallRole,
  BenchCondition,
  BenchDataset,
  BenchPersona,
  BenchPersonaResult,
  BenchRole,
  BenchRun,
  BenchScene,
  BenchSession,
  BenchSettings,
  BenchTurn,
  Judged,
  OptimizerRunRecord,
  StabilityResult,
} from './types';
import { STRUCTURED_ATTEMPTS, readStructuredAnswer } from '../structured-answer';

/**
 * PersonaBench's protocol (AI PERSONA, Algorithm 1), with the released code's bugs fixed: the
 * persona really reaches the assistant's prompt, output that does not parse is retried once and
 * then recorded as a failure (never dropped, never a zero), and no session is processed twice.
 *
 * For each condition, persona and scene in order, one scene is one session: the user opens with
 * the scene's neutralized query, the assistant replies under the condition's system prompt, and
 * the user simulator (who knows the golden persona and what a good answer holds) either declares
 * itself satisfied or writes the next user turn, up to `maxTurns` user turns. The judge scores the
 * first reply. In `learned-kN` conditions the app's own optimizer step (`proposeProfileChanges`)
 * runs after every N sessions on the sessions it has not processed yet, and the next session's
 * prompt carries its result; at the end of a persona the learned profile is compared with the
 * golden one (judge and field similarity) and, with `settings.stability`, noise and
 * contradictions are injected to measure drift.
 *
 * Every model call has a position key; a call found in `recorded` is replayed instead of asking a
 * model, so replaying a chain after a stop reproduces it exactly and continues where it stopped.
 * Everything else is deterministic: virtual time from the run's creation, estimated token counts,
 * seeds derived from the run seed and the key.
 */

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
/** Where the retry's key differs from the first try's. */
const attemptKey = (key: string, attempt: number): string => `${key}/a${attempt}`;

export interface ProtocolDeps {
  run: BenchRun;
  /** Context window of the model playing each role (the optimizer uses the assistant's). */
  contextWindows: Record<BenchRole, number>;
  /** Calls already made, by position key: replayed, never made again. Calls made are added. */
  recorded: Map<string, BenchCall>;
  /** Asks the role's model; throws to stop the run (the call is then not recorded). */
  generate: (role: BenchRole, request: GenerateRequest) => Promise<GenerateResult & { ms: number }>;
  /** Stores a call the moment it completes (again when validation finds it wanting). */
  record: (key: string, call: BenchCall) => Promise<void>;
  /** Before every call that is not replayed: report progress, or throw to stop. */
  beforeCall: (step: string) => void | Promise<void>;
  /** Units already stored: skipped, or replayed without being stored again. */
  storedSessions: ReadonlySet<string>;
  storedPersonaResults: ReadonlySet<string>;
  saveSession: (session: BenchSession) => Promise<void>;
  savePersonaResult: (result: BenchPersonaResult) => Promise<void>;
  /**
   * A persona's chain under a condition is stored whole: its recorded calls (keys starting with
   * `keyPrefix`) are no longer needed for a replay.
   */
  chainDone: (keyPrefix: string) => Promise<void>;
  /** The chat prompt's profile budget (the app's setting). */
  profileTokenBudget: number;
}

export const sessionUnitKey = (condition: string, personaId: string, sceneIndex: number): string =>
  `${condition}|${personaId}|${sceneIndex}`;
export const personaUnitKey = (condition: string, personaId: string): string =>
  `${condition}|${personaId}`;

/** `learned-k3` → 3. */
function optimizeEvery(condition: BenchCondition): number {
  const k = Number(/^learned-k(\d+)$/u.exec(condition)?.[1]);
  return Number.isInteger(k) && k > 0 ? k : 1;
}

function selectedPersonas(dataset: BenchDataset, settings: BenchSettings): BenchPersona[] {
  const limit = settings.personaLimit ?? 0;
  return limit > 0 ? dataset.personas.slice(0, limit) : dataset.personas;
}

function selectedScenes(persona: BenchPersona, settings: BenchSettings): BenchScene[] {
  const limit = settings.sceneLimit ?? 0;
  return limit > 0 ? persona.scenes.slice(0, limit) : persona.scenes;
}

/** Units of work in a run: every session, plus each persona's final judgement in learned conditions. */
export function countUnits(dataset: BenchDataset, settings: BenchSettings): number {
  const personas = selectedPersonas(dataset, settings);
  const scenes = personas.reduce((n, p) => n + selectedScenes(p, settings).length, 0);
  return settings.conditions.reduce(
    (total, condition) => total + scenes + (isLearned(condition) ? personas.length : 0),
    0,
  );
}

/** One model call made or replayed, and whether its output was refused. */
interface Validated<T> {
  value: Parsed<T>;
  calls: BenchCall[];
}

/** The state of one persona's chain under one condition. */
interface Chain {
  condition: BenchCondition;
  persona: BenchPersona;
  personaIndex: number;
  scenes: BenchScene[];
  base: string;
  profile: Profile;
  /** Sessions the optimizer has not processed yet, oldest first. */
  pending: OptimizerSession[];
  earlier: EarlierTurn[];
}

export class BenchProtocol {
  readonly #deps: ProtocolDeps;

  constructor(deps: ProtocolDeps) {
    this.#deps = deps;
  }

  async run(): Promise<void> {
    const { run } = this.#deps;
    const personas = selectedPersonas(run.dataset, run.settings);
    for (const condition of run.settings.conditions) {
      for (const [personaIndex, persona] of personas.entries()) {
        await this.#chain(condition, persona, personaIndex);
      }
    }
  }

  #time(sceneIndex: number): number {
    return this.#deps.run.createdAt + (sceneIndex + 1) * DAY_MS;
  }

  async #chain(
    condition: BenchCondition,
    persona: BenchPersona,
    personaIndex: number,
  ): Promise<void> {
    const { run, storedSessions, storedPersonaResults } = this.#deps;
    const scenes = selectedScenes(persona, run.settings);
    const learned = isLearned(condition);
    const finished = learned
      ? storedPersonaResults.has(personaUnitKey(condition, persona.id))
      : scenes.every((_, i) => storedSessions.has(sessionUnitKey(condition, persona.id, i)));
    if (finished) return;

    const chain: Chain = {
      condition,
      persona,
      personaIndex,
      scenes,
      base: `${condition}/${persona.id}`,
      profile: emptyProfile(run.createdAt),
      pending: [],
      earlier: [],
    };
    const k = optimizeEvery(condition);
    let sinceUpdate = 0;
    for (const [sceneIndex, scene] of scenes.entries()) {
      const session = await this.#session(chain, sceneIndex, scene);
      if (learned) {
        chain.pending.push(
          optimizerSession(persona.id, sceneIndex, session.turns, this.#time(sceneIndex)),
        );
        sinceUpdate++;
        if (sinceUpdate === k) {
          sinceUpdate = 0;
          const update = await this.#update(
            chain,
            `s${sceneIndex}`,
            this.#time(sceneIndex) + 30 * MINUTE_MS,
            session.calls,
            `scene ${sceneIndex + 1}/${scenes.length}`,
          );
          session.optimizer = update;
        }
        session.profileAfter = chain.profile;
        // Against the persona of this scene's time: a move not made yet is not yet to be learned.
        session.fieldSimilarity = fieldSimilarity(goldenAt(persona, sceneIndex), chain.profile);
      }
      if (!storedSessions.has(sessionUnitKey(condition, persona.id, sceneIndex))) {
        await this.#deps.saveSession(session);
      }
    }
    if (learned) await this.#finishPersona(chain);
    await this.#deps.chainDone(`${chain.base}/`);
  }

  #step(chain: Chain, what: string): string {
    return `${chain.condition} · ${chain.persona.name} · ${what}`;
  }

  #systemPrompt(chain: Chain, sceneIndex: number, query: string): string {
    const date = new Date(this.#time(sceneIndex));
    const budget = this.#deps.profileTokenBudget;
    switch (chain.condition) {
      case 'none':
        return personalizedSystemPrompt(date, null, budget);
      case 'golden':
        return personalizedSystemPrompt(date, goldenAt(chain.persona, sceneIndex), budget);
      case 'rag': {
        const retrieved = retrievedInstructions(retrieveEarlierTurns(query, chain.earlier));
        const base = baseSystemPrompt(date);
        return retrieved ? `${base}\n\n${retrieved}` : base;
      }
      default:
        return personalizedSystemPrompt(date, chain.profile, budget);
    }
  }

  async #session(chain: Chain, sceneIndex: number, scene: BenchScene): Promise<BenchSession> {
    const { run } = this.#deps;
    const maxTurns = Math.max(1, run.settings.maxTurns);
    const sceneKey = `${chain.base}/s${sceneIndex}`;
    const where = `scene ${sceneIndex + 1}/${chain.scenes.length}`;
    const query = scene.neutralizedQuery;
    const system = this.#systemPrompt(chain, sceneIndex, query);
    const golden = goldenAt(chain.persona, sceneIndex);
    const turns: BenchTurn[] = [{ role: 'user', content: query }];
    const calls: BenchCall[] = [];
    let userTurns = 1;
    let satisfied = false;
    let error: string | undefined;
    for (;;) {
      const reply = await this.#assistant(
        `${sceneKey}/t${userTurns}/assistant`,
        system,
        turns,
        this.#step(chain, `${where} · assistant turn ${userTurns}`),
      );
      calls.push(reply);
      turns.push({ role: 'assistant', content: reply.output });
      const verdict = await this.#validated(
        `${sceneKey}/t${userTurns}/simulator`,
        'simulator',
        simulatorMessages(golden, scene, turns, userTurns, maxTurns),
        SIMULATOR_SCHEMA,
        SIMULATOR_OUTPUT_TOKENS,
        parseSimulatorOutput,
        this.#step(chain, `${where} · simulator turn ${userTurns}`),
      );
      calls.push(...verdict.calls);
      if (!verdict.value.ok) {
        error = `The user simulator gave no valid answer: ${verdict.value.error}`;
        break;
      }
      if (verdict.value.value.satisfied) {
        satisfied = true;
        break;
      }
      if (userTurns >= maxTurns) break;
      turns.push({ role: 'user', content: verdict.value.value.reply });
      userTurns++;
    }
    const firstReply = turns[1]?.content ?? '';
    const judged = await this.#validated(
      `${sceneKey}/judge`,
      'judge',
      judgeMessages(golden, scene, query, firstReply),
      JUDGE_SCHEMA,
      JUDGE_OUTPUT_TOKENS,
      parseJudgeOutput,
      this.#step(chain, `${where} · judge`),
    );
    calls.push(...judged.calls);
    turns.forEach((turn, turnIndex) => {
      if (turn.role === 'user') chain.earlier.push({ sceneIndex, turnIndex, text: turn.content });
    });
    const session: BenchSession = {
      runId: run.id,
      condition: chain.condition,
      personaId: chain.persona.id,
      sceneIndex,
      turns,
      satisfied,
      userTurns: satisfied || error !== undefined ? userTurns : maxTurns,
      scores: toJudged(judged.value),
      calls,
    };
    if (error !== undefined) session.error = error;
    return session;
  }

  async #assistant(
    key: string,
    system: string,
    turns: readonly ConversationTurn[],
    step: string,
  ): Promise<BenchCall> {
    const contextWindow = this.#deps.contextWindows.assistant;
    const reserve = replyTokenReserve(contextWindow);
    const prompt = await fitToContext({
      system,
      turns: [...turns],
      contextWindow,
      reserveForReply: reserve,
      countTokens: (text) => Promise.resolve(estimateTokens(text)),
    });
    return this.#call(
      attemptKey(key, 0),
      'assistant',
      0,
      {
        messages: prompt.messages,
        maxTokens: reserve,
        temperature: CHAT_TEMPERATURE,
        repeatPenalty: CHAT_REPEAT_PENALTY,
        seed: deriveSeed(this.#deps.run.settings.seed, key),
      },
      step,
    );
  }

  /** Asks, parses, asks once more if the answer was refused; both calls are kept either way. */
  async #validated<T>(
    key: string,
    role: BenchRole,
    messages: GenerateRequest['messages'],
    schema: Readonly<Record<string, unknown>>,
    maxTokens: number,
    parse: (text: string) => Parsed<T>,
    step: string,
  ): Promise<Validated<T>> {
    const calls: BenchCall[] = [];
    // A prompt the role's model cannot read is a failure of this judgement, not of the whole run.
    const needed =
      messages.reduce((n, m) => n + estimateTokens(m.content) + TEMPLATE_TOKENS_PER_MESSAGE, 0) +
      maxTokens;
    const window = this.#deps.contextWindows[role];
    if (needed > window) {
      return {
        value: {
          ok: false,
          error: `the prompt needs about ${needed} tokens, more than the ${role} model's ${window}-token context window`,
        },
        calls,
      };
    }
    let value: Parsed<T> = { ok: false, error: 'no answer' };
    for (let attempt = 0; attempt < STRUCTURED_ATTEMPTS && !value.ok; attempt++) {
      const positioned = attemptKey(key, attempt);
      const call = await this.#call(
        positioned,
        role,
        attempt,
        {
          messages,
          maxTokens,
          temperature: 0,
          seed: deriveSeed(this.#deps.run.settings.seed, positioned),
          jsonSchema: { ...schema },
        },
        attempt === 0 ? step : `${step} (retry)`,
      );
      value = readStructuredAnswer({ finishReason: call.finishReason, text: call.output }, parse);
      if (!value.ok) {
        const refused = { ...call, error: value.error };
        if (call.error !== value.error) await this.#deps.record(positioned, refused);
        calls.push(refused);
      } else {
        calls.push(call);
      }
    }
    return { value, calls };
  }

  async #call(
    key: string,
    role: BenchCallRole,
    attempt: number,
    request: GenerateRequest,
    step: string,
  ): Promise<BenchCall> {
    const { recorded, run } = this.#deps;
    const known = recorded.get(key);
    if (known) return known;
    await this.#deps.beforeCall(step);
    const modelRole: BenchRole = role === 'optimizer' ? 'assistant' : role;
    const result = await this.#deps.generate(modelRole, request);
    const call: BenchCall = {
      role,
      modelId: run.roles[modelRole],
      messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
      output: result.text,
      attempt,
      seed: request.seed ?? 0,
      temperature: request.temperature ?? 0,
      promptTokens: result.promptTokens,
      completionTokens: result.completionTokens,
      ms: result.ms,
      finishReason: result.finishReason,
    };
    recorded.set(key, call);
    await this.#deps.record(key, call);
    return call;
  }

  /**
   * The app's optimizer step over every pending session. Sessions it processed leave the queue;
   * when it fails (twice invalid output, or a prompt that cannot fit), they stay for the next
   * update, as a failed job leaves conversations unlearned in the app.
   */
  async #update(
    chain: Chain,
    label: string,
    now: number,
    calls: BenchCall[],
    where: string,
  ): Promise<OptimizerRunRecord> {
    const profileFields = countFields(chain.profile);
    const key = `${chain.base}/${label}/optimizer`;
    const made: BenchCall[] = [];
    const record: OptimizerRunRecord = {
      sceneIndexes: [],
      applied: 0,
      rejected: 0,
      promptTokens: 0,
      completionTokens: 0,
      ms: 0,
      profileFields,
    };
    try {
      const proposal = await proposeProfileChanges(
        {
          profile: chain.profile,
          sessions: chain.pending,
          contextWindow: this.#deps.contextWindows.assistant,
          profileTokenBudget: this.#deps.profileTokenBudget,
          now,
        },
        async (request, attempt) => {
          const call = await this.#call(
            attemptKey(key, attempt),
            'optimizer',
            attempt,
            request,
            this.#step(chain, `${where} · optimizer${attempt > 0 ? ' (retry)' : ''}`),
          );
          made.push(call);
          return {
            text: call.output,
            finishReason: call.finishReason ?? 'stop',
            promptTokens: call.promptTokens,
            completionTokens: call.completionTokens,
          };
        },
      );
      for (const [i, attempt] of proposal.attempts.entries()) {
        const call = made[i];
        if (call && attempt.error !== undefined && call.error !== attempt.error) {
          made[i] = { ...call, error: attempt.error };
          await this.#deps.record(attemptKey(key, i), made[i]);
        }
      }
      if (proposal.outcome.ok) {
        const processed = new Set(proposal.prompt.processed.map((p) => p.conversationId));
        record.sceneIndexes = chain.pending
          .filter((s) => processed.has(s.conversationId))
          .map((s) => sceneOf(s.conversationId));
        chain.pending = chain.pending.filter((s) => !processed.has(s.conversationId));
        chain.profile = proposal.outcome.profile;
        record.applied = proposal.outcome.applied.length;
        record.rejected = proposal.outcome.rejected.length;
      } else {
        record.error = proposal.outcome.error;
      }
    } catch (error) {
      // A prompt that cannot fit the window fails this update like any invalid answer; anything
      // else (a stop, a lost engine) ends the run.
      if (!(error instanceof AppError) || error.code !== 'context-window-exceeded') throw error;
      record.error = error.message;
    }
    for (const call of made) {
      record.promptTokens += call.promptTokens;
      record.completionTokens += call.completionTokens;
      record.ms += call.ms;
    }
    calls.push(...made);
    return record;
  }

  async #finishPersona(chain: Chain): Promise<void> {
    const { run } = this.#deps;
    const { persona } = chain;
    const calls: BenchCall[] = [];
    const judged = await this.#validated(
      `${chain.base}/final/similarity`,
      'judge',
      similarityMessages(persona.golden, chain.profile),
      SIMILARITY_SCHEMA,
      JUDGE_OUTPUT_TOKENS,
      parseSimilarityOutput,
      this.#step(chain, 'persona similarity'),
    );
    calls.push(...judged.calls);
    const result: BenchPersonaResult = {
      runId: run.id,
      condition: chain.condition,
      personaId: persona.id,
      profile: chain.profile,
      judgeSimilarity: toJudged(judged.value),
      fieldSimilarity: fieldSimilarity(persona.golden, chain.profile),
      calls,
    };
    if (persona.changes !== undefined && persona.changes.length > 0) {
      result.factUpdates = persona.changes.map((change) => factUpdate(chain.profile, change));
    }
    if (run.settings.stability) result.stability = await this.#stability(chain, calls);
    await this.#deps.savePersonaResult(result);
  }

  async #stability(chain: Chain, calls: BenchCall[]): Promise<StabilityResult> {
    const injected = stabilitySessions(chain.persona.golden, chain.personaIndex);
    const before = chain.profile;
    const start = chain.scenes.length;
    const sessions: StabilityResult['sessions'] = [];
    for (const [j, injection] of injected.entries()) {
      const sceneIndex = start + j;
      const turns: BenchTurn[] = [{ role: 'user', content: injection.query }];
      const reply = await this.#assistant(
        `${chain.base}/stability/s${j}/assistant`,
        this.#systemPrompt(chain, sceneIndex, injection.query),
        turns,
        this.#step(chain, `stability ${j + 1}/${injected.length} · assistant`),
      );
      calls.push(reply);
      turns.push({ role: 'assistant', content: reply.output });
      chain.pending.push(
        optimizerSession(chain.persona.id, sceneIndex, turns, this.#time(sceneIndex)),
      );
      sessions.push(
        injection.decoy === undefined
          ? { kind: injection.kind, turns }
          : { kind: injection.kind, turns, decoy: injection.decoy },
      );
    }
    const update = await this.#update(
      chain,
      'stability',
      this.#time(start + injected.length) + 30 * MINUTE_MS,
      calls,
      'stability',
    );
    const drift = measureDrift(
      chain.persona.golden,
      before,
      chain.profile,
      injected.flatMap((i) => (i.decoy === undefined ? [] : [i.decoy])),
    );
    return { sessions, ...drift, optimizer: [update], profileAfter: chain.profile };
  }
}

function toJudged<T>(parsed: Parsed<T>): Judged<T> {
  return parsed.ok
    ? { ok: true, value: parsed.value }
    : { ok: false, error: `The judge gave no valid answer: ${parsed.error}` };
}

/** A session as the optimizer reads it, with ids its evidence can point to. */
function optimizerSession(
  personaId: string,
  sceneIndex: number,
  turns: readonly BenchTurn[],
  at: number,
): OptimizerSession {
  const conversationId = `${personaId}#${sceneIndex}`;
  return {
    conversationId,
    messages: turns.map((turn, i) => ({
      id: `${conversationId}#${i}`,
      role: turn.role,
      content: turn.content,
      createdAt: at + i * MINUTE_MS,
    })),
  };
}

/** Scene index of an optimizer session id (injected stability sessions count after the scenes). */
function sceneOf(conversationId: string): number {
  return Number(conversationId.slice(conversationId.lastIndexOf('#') + 1));
}
