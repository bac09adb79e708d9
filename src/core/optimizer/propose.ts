import type { GenerateRequest, GenerateResult } from '../llm';
import { AppError } from '../errors';
import { sectionTemplate } from '../profile/defaults';
import { sameName } from '../profile/normalize';
import { renderProfile } from '../profile/render';
import { estimateTokens } from '../tokens';
import type { Profile } from '../profile/types';
import { applyOptimizerOutput, type OptimizerOutcome } from './apply-output';
import { userStatements } from './grounding';
import { buildOptimizerPrompt, type OptimizerPrompt } from './prompt';
import { optimizerOutputSchema } from './schema';
import type { OptimizerSession } from './transcript';
import { STRUCTURED_ATTEMPTS, readStructuredAnswer } from '../structured-answer';

/**
 * One optimizer step, shared by the app's background learning and the PersonaBench lab so the lab
 * measures exactly what users get: the same prompt, output schema, temperature, retry and
 * validation. It asks for changes and checks them against the profile; storing the result (a
 * revision, proposals, or the lab's record) is the caller's business.
 */

/**
 * Tokens the optimizer may answer with, at most half the window. A real model answers in a few
 * hundred, but eight changes with every string at its maxLength can take about 2000, and an answer
 * cut off at the limit is lost whole.
 */
export const OPTIMIZER_OUTPUT_TOKENS = 2048;

export interface ProposeInput {
  profile: Profile;
  sessions: readonly OptimizerSession[];
  contextWindow: number;
  /** The chat prompt's profile budget: over it, the optimizer is asked to consolidate. */
  profileTokenBudget: number;
  now: number;
}

/** Generates one answer; `attempt` is 0, then 1 for the retry. Throws to abandon the step. */
export type ProposeGenerate = (
  request: GenerateRequest,
  attempt: number,
) => Promise<GenerateResult>;

export interface ProposeAttempt {
  request: GenerateRequest;
  result: GenerateResult;
  /** Why this answer was refused, when it was. */
  error?: string;
}

export interface ProposeResult {
  prompt: OptimizerPrompt;
  /** The last attempt's outcome: valid changes applied to `profile`, or why it failed twice. */
  outcome: OptimizerOutcome;
  /** The last answer, so a caller whose profile changed meanwhile can apply it again. */
  text: string;
  attempts: ProposeAttempt[];
}

/**
 * The keys the optimizer may file facts under: the built-in sections' suggestions and every key
 * the profile already has (so a key the user added becomes learnable).
 */
export function learnableKeys(profile: Profile): string[] {
  const keys: string[] = [];
  const add = (key: string): void => {
    if (!keys.some((known) => sameName(known, key))) keys.push(key);
  };
  for (const section of profile.sections) {
    sectionTemplate(section.name)?.suggestedKeys.forEach(add);
    Object.keys(section.fields).forEach(add);
  }
  return keys;
}

export async function proposeProfileChanges(
  input: ProposeInput,
  generate: ProposeGenerate,
): Promise<ProposeResult> {
  const { profile, sessions, contextWindow, now } = input;
  const rendered = renderProfile(profile, {
    budgetTokens: input.profileTokenBudget,
    countTokens: estimateTokens,
  });
  const maxTokens = Math.min(OPTIMIZER_OUTPUT_TOKENS, Math.floor(contextWindow / 2));
  const prompt = buildOptimizerPrompt({
    profile,
    sessions,
    contextWindow,
    reserveForOutput: maxTokens,
    countTokens: estimateTokens,
    now,
    profileOverBudget: rendered.overBudget,
  });
  const included = new Set(prompt.includedMessageIds);
  // Oldest first, so the schema keeps the newest when there are too many to offer.
  const quotes = [
    ...new Set(
      sessions
        .flatMap((session) => session.messages)
        .filter((message) => message.role === 'user' && included.has(message.id))
        .sort((a, b) => a.createdAt - b.createdAt)
        .flatMap((message) => userStatements(message.content)),
    ),
  ];
  const schema = optimizerOutputSchema({
    sectionNames: profile.sections.map((s) => s.name),
    quotes,
    keys: learnableKeys(profile),
  });

  // The model is untrusted: one retry for output that does not validate, then the step fails
  // with the reason and the profile stays as it was.
  let outcome: OptimizerOutcome = { ok: false, error: 'no answer' };
  let text = '';
  const attempts: ProposeAttempt[] = [];
  for (let attempt = 0; attempt < STRUCTURED_ATTEMPTS && !outcome.ok; attempt++) {
    const request: GenerateRequest = {
      messages: prompt.messages,
      maxTokens,
      temperature: 0,
      seed: attempt,
      jsonSchema: schema,
    };
    const result = await generate(request, attempt);
    if (result.finishReason === 'abort') {
      throw new AppError('aborted', 'The profile update was stopped.');
    }
    text = result.text;
    outcome = readStructuredAnswer(result, (answer) =>
      applyOptimizerOutput(answer, { profile, sessions, now }),
    );
    attempts.push(outcome.ok ? { request, result } : { request, result, error: outcome.error });
  }
  return { prompt, outcome, text, attempts };
}
