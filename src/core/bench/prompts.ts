import type { ChatMessage } from '../llm';
import { stripJsonFence } from '../optimizer/parse';
import { renderProfile } from '../profile/render';
import { estimateTokens } from '../tokens';
import type { Profile } from '../profile/types';
import { isPlainObject, ownValue } from '../profile/validate';
import type { BenchScene, BenchTurn, SessionScores } from './types';
import type { ValueResult } from '../result';

/**
 * The PersonaBench user simulator and judge: prompts, output schemas and parsers. Their output is
 * model output like any other: parsed strictly, never trusted. The schemas keep to the subset both
 * engines enforce (see `optimizer/schema.ts`), and every rule is checked again here.
 */

/** Longest simulated user reply: a chat message, not an essay. */
const MAX_SIMULATOR_REPLY = 600;
const MAX_REASON = 600;
/** Tokens the simulator and judge may answer with; their JSON is short. */
export const SIMULATOR_OUTPUT_TOKENS = 320;
export const JUDGE_OUTPUT_TOKENS = 320;

export type Parsed<T> = ValueResult<T>;

/** The persona as the simulator and judge read it: the same compact lines the assistant would. */
function renderPersona(profile: Profile): string {
  const text = renderProfile(profile, {
    budgetTokens: Number.MAX_SAFE_INTEGER,
    countTokens: estimateTokens,
  }).text;
  return text.length === 0 ? '(empty)' : text;
}

/** Earlier assistant replies are cut to this many characters in the simulator's transcript. */
const EARLIER_REPLY_CHARS = 600;

/**
 * The conversation as the simulator reads it. Only the newest reply is what it must judge, so it
 * stays whole; earlier ones are cut, which keeps a five-turn session inside a small model's window.
 */
function transcript(turns: readonly BenchTurn[]): string {
  const last = turns.length - 1;
  return turns
    .map((t, i) => {
      if (t.role === 'user') return `User: ${t.content}`;
      const chars = Array.from(t.content);
      const cut =
        i === last || chars.length <= EARLIER_REPLY_CHARS
          ? t.content
          : `${chars.slice(0, EARLIER_REPLY_CHARS).join('').trimEnd()}… (cut)`;
      return `Assistant: ${cut}`;
    })
    .join('\n\n');
}

/** Reads one JSON object out of a model's answer (a code fence or a lead-in sentence tolerated). */
function parseJsonObject(text: string): Parsed<Record<string, unknown>> {
  let body = stripJsonFence(text);
  if (!body.startsWith('{')) {
    const start = body.indexOf('{');
    const end = body.lastIndexOf('}');
    if (start === -1 || end < start) return { ok: false, error: 'the answer is not JSON' };
    body = body.slice(start, end + 1);
  }
  let root: unknown;
  try {
    root = JSON.parse(body);
  } catch {
    return { ok: false, error: 'the answer is not valid JSON (it may have been cut off)' };
  }
  return isPlainObject(root)
    ? { ok: true, value: root }
    : { ok: false, error: 'the answer is not a JSON object' };
}

function unexpectedKeys(root: Record<string, unknown>, allowed: readonly string[]): string | null {
  const extra = Object.keys(root).filter((key) => !allowed.includes(key));
  return extra.length === 0 ? null : `unexpected properties: ${extra.slice(0, 5).join(', ')}`;
}

// The user simulator.

export const SIMULATOR_SCHEMA: Readonly<Record<string, unknown>> = {
  type: 'object',
  properties: {
    satisfied: { type: 'boolean' },
    reply: { type: 'string', maxLength: MAX_SIMULATOR_REPLY },
  },
  required: ['satisfied', 'reply'],
  additionalProperties: false,
};

export interface SimulatorVerdict {
  satisfied: boolean;
  /** The user's next message; empty when satisfied. */
  reply: string;
}

export function simulatorMessages(
  golden: Profile,
  scene: BenchScene,
  turns: readonly BenchTurn[],
  userTurn: number,
  maxTurns: number,
): ChatMessage[] {
  const system = [
    'You play a real person talking to an AI assistant. Stay in character as this person.',
    '',
    'Who you are:',
    '<persona>',
    renderPersona(golden),
    '</persona>',
    '',
    `The situation (${scene.type}): ${scene.description}`,
    `What is going on in your life: ${scene.context}`,
    `What a reply that truly helps you would contain: ${scene.expectedResponse}`,
    '',
    'After each assistant reply, decide whether it gives you what you need, fitted to who you are.',
    '- If it does, answer {"satisfied": true, "reply": ""}.',
    `- If it does not, answer {"satisfied": false, "reply": "..."} with your next message: one to three sentences in your own voice, telling the assistant what it missed about you or your needs (at most ${MAX_SIMULATOR_REPLY} characters).`,
    'Never say that you are simulated, that you have a persona, or what the ideal reply would contain.',
    'Answer with one JSON object only.',
  ].join('\n');
  const user = [
    'The conversation so far:',
    '',
    transcript(turns),
    '',
    `You have written ${userTurn} of at most ${maxTurns} messages. Answer with the JSON object only.`,
  ].join('\n');
  return [
    { role: 'system', content: system },
    { role: 'user', content: user },
  ];
}

export function parseSimulatorOutput(text: string): Parsed<SimulatorVerdict> {
  const parsed = parseJsonObject(text);
  if (!parsed.ok) return parsed;
  const root = parsed.value;
  const extra = unexpectedKeys(root, ['satisfied', 'reply']);
  if (extra !== null) return { ok: false, error: extra };
  const satisfied = ownValue(root, 'satisfied');
  const reply = ownValue(root, 'reply') ?? '';
  if (typeof satisfied !== 'boolean') return { ok: false, error: '"satisfied" must be a boolean' };
  if (typeof reply !== 'string') return { ok: false, error: '"reply" must be text' };
  const trimmed = reply.trim();
  if (!satisfied && trimmed.length === 0) {
    return { ok: false, error: 'an unsatisfied user must say what they need next' };
  }
  if (trimmed.length > MAX_SIMULATOR_REPLY) {
    return { ok: false, error: `"reply" is longer than ${MAX_SIMULATOR_REPLY} characters` };
  }
  return { ok: true, value: { satisfied, reply: satisfied ? '' : trimmed } };
}

// The judge.

/** Anchors for the 0–10 scales; odd scores fall between the anchors around them. */
const HELPFULNESS_ANCHORS: readonly string[] = [
  '0: no answer, off-topic, or wrong in a way that would mislead or harm.',
  '2: touches the topic but is mostly wrong, vague or unusable.',
  '4: partly useful; important parts of what was asked are missing or only generic.',
  '6: correct and usable for the main question, but misses some of what was needed.',
  '8: clear, correct and complete for the request; only minor gaps.',
  '10: fully solves the request: accurate, well organized, nothing needed is missing.',
];

const PERSONALIZATION_ANCHORS: readonly string[] = [
  '0: ignores who the user is, or contradicts it (wrong place, wrong needs, unsuitable advice).',
  '2: a generic answer anyone would get, with at most one incidental fit.',
  '4: some tailoring, but mostly generic, or tailored to wrong assumptions.',
  '6: clearly tailored to a few traits that matter here, misses others that matter.',
  '8: tailored to most traits relevant to this situation (circumstances, preferences, constraints).',
  '10: fits this person throughout, using exactly the traits relevant here, as an ideal reply would.',
];

const SIMILARITY_ANCHORS: readonly string[] = [
  '0: nothing in common, or the learned profile is empty.',
  '2: one or two minor facts right; most are missing or wrong.',
  '4: some key facts right (e.g. occupation or location); most traits and preferences missing.',
  '6: most demographics and some personality traits or preferences right; several gaps or errors.',
  '8: nearly all important facts and most traits and preferences right; minor gaps.',
  '10: the same person: every important fact, trait and preference matches, nothing contradicts.',
];

/**
 * Scores as an enum, not `minimum`/`maximum`: both engines compile an enum into their grammar, so
 * a constrained model cannot write 51 (the tiny test model did, with a bare integer type).
 */
const scoreProperty = { type: 'integer', enum: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10] };

export const JUDGE_SCHEMA: Readonly<Record<string, unknown>> = {
  type: 'object',
  properties: {
    helpfulness: scoreProperty,
    personalization: scoreProperty,
    reason: { type: 'string', maxLength: MAX_REASON },
  },
  required: ['helpfulness', 'personalization', 'reason'],
  additionalProperties: false,
};

export const SIMILARITY_SCHEMA: Readonly<Record<string, unknown>> = {
  type: 'object',
  properties: {
    score: scoreProperty,
    reason: { type: 'string', maxLength: MAX_REASON },
  },
  required: ['score', 'reason'],
  additionalProperties: false,
};

const JUDGE_ROLE =
  'You are a strict, fair evaluator of AI assistant replies. Judge only what is written; do not reward length.';

export function judgeMessages(
  golden: Profile,
  scene: BenchScene,
  query: string,
  reply: string,
): ChatMessage[] {
  const system = [
    JUDGE_ROLE,
    '',
    'Score the reply on two integer scales from 0 to 10.',
    'Helpfulness: how well it answers the request.',
    ...HELPFULNESS_ANCHORS.map((a) => `- ${a}`),
    'Personalization: how well it fits this particular user (the persona below), whether or not the user mentioned those traits.',
    ...PERSONALIZATION_ANCHORS.map((a) => `- ${a}`),
    '',
    'Answer with one JSON object only: {"helpfulness": <0-10>, "personalization": <0-10>, "reason": "<one or two sentences>"}.',
  ].join('\n');
  const user = [
    'The user:',
    '<persona>',
    renderPersona(golden),
    '</persona>',
    `The situation (${scene.type}): ${scene.description}`,
    `What is going on in the user's life: ${scene.context}`,
    `What an ideal reply would contain: ${scene.expectedResponse}`,
    '',
    'The user asked:',
    '<query>',
    query,
    '</query>',
    '',
    'The assistant replied:',
    '<reply>',
    reply,
    '</reply>',
    '',
    'Answer with the JSON object only.',
  ].join('\n');
  return [
    { role: 'system', content: system },
    { role: 'user', content: user },
  ];
}

function readScore(root: Record<string, unknown>, name: string): Parsed<number> {
  const value = ownValue(root, name);
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 10) {
    return { ok: false, error: `"${name}" must be an integer from 0 to 10` };
  }
  return { ok: true, value };
}

function readReason(root: Record<string, unknown>): Parsed<string> {
  const reason = ownValue(root, 'reason');
  if (typeof reason !== 'string') return { ok: false, error: '"reason" must be text' };
  if (reason.length > MAX_REASON) {
    return { ok: false, error: `"reason" is longer than ${MAX_REASON} characters` };
  }
  return { ok: true, value: reason.trim() };
}

export function parseJudgeOutput(text: string): Parsed<SessionScores> {
  const parsed = parseJsonObject(text);
  if (!parsed.ok) return parsed;
  const root = parsed.value;
  const extra = unexpectedKeys(root, ['helpfulness', 'personalization', 'reason']);
  if (extra !== null) return { ok: false, error: extra };
  const helpfulness = readScore(root, 'helpfulness');
  if (!helpfulness.ok) return helpfulness;
  const personalization = readScore(root, 'personalization');
  if (!personalization.ok) return personalization;
  const reason = readReason(root);
  if (!reason.ok) return reason;
  return {
    ok: true,
    value: {
      helpfulness: helpfulness.value,
      personalization: personalization.value,
      reason: reason.value,
    },
  };
}

export function similarityMessages(golden: Profile, learned: Profile): ChatMessage[] {
  const system = [
    JUDGE_ROLE,
    '',
    'Compare a profile an assistant learned about a user with the user’s true persona. Score on an integer scale from 0 to 10 how well the learned profile describes the same person. Wording does not matter; facts do. Wrong facts count against it as much as missing ones.',
    ...SIMILARITY_ANCHORS.map((a) => `- ${a}`),
    '',
    'Answer with one JSON object only: {"score": <0-10>, "reason": "<one or two sentences>"}.',
  ].join('\n');
  const user = [
    'The true persona:',
    '<persona>',
    renderPersona(golden),
    '</persona>',
    '',
    'The learned profile:',
    '<learned>',
    renderPersona(learned),
    '</learned>',
    '',
    'Answer with the JSON object only.',
  ].join('\n');
  return [
    { role: 'system', content: system },
    { role: 'user', content: user },
  ];
}

export function parseSimilarityOutput(text: string): Parsed<{ score: number; reason: string }> {
  const parsed = parseJsonObject(text);
  if (!parsed.ok) return parsed;
  const root = parsed.value;
  const extra = unexpectedKeys(root, ['score', 'reason']);
  if (extra !== null) return { ok: false, error: extra };
  const score = readScore(root, 'score');
  if (!score.ok) return score;
  const reason = readReason(root);
  if (!reason.ok) return reason;
  return { ok: true, value: { score: score.value, reason: reason.value } };
}
