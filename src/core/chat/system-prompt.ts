import { personalizationInstructions, renderProfile } from '../profile/render';
import { estimateTokens } from '../tokens';
import type { Profile } from '../profile/types';

/** Sampling temperature of chat replies: some variety without drifting off the question. */
export const CHAT_TEMPERATURE = 0.7;
/**
 * Small models fall into loops ("The capital of France is Paris. The capital of France is…") until
 * the length limit; a mild penalty on recently used tokens breaks most of them without changing
 * ordinary text. Measured with SmolLM2-135M by `npm run bench:repetition`.
 */
export const CHAT_REPEAT_PENALTY = 1.1;
/** Replies longer than this are rare in chat and would starve the prompt of history. */
export const MAX_REPLY_TOKENS = 1024;

/** Tokens kept free for a reply: `MAX_REPLY_TOKENS`, or a quarter of a window too small for it. */
export function replyTokenReserve(contextWindow: number): number {
  return Math.min(MAX_REPLY_TOKENS, Math.floor(contextWindow / 4));
}

/** The assistant's standing instructions, before any personalization. */
export function baseSystemPrompt(now: Date): string {
  const date = now.toISOString().slice(0, 10);
  return [
    'You are Persona, a helpful assistant that runs entirely on the user’s own device.',
    'Answer clearly and concisely. Use Markdown for lists, tables and code.',
    `Today is ${date}.`,
  ].join(' ');
}

/**
 * The chat system prompt with the profile rendered into it, exactly as the assistant sends it;
 * `profile` null (personalization off, temporary chat) or empty gives the base prompt alone.
 */
export function personalizedSystemPrompt(
  now: Date,
  profile: Profile | null,
  profileTokenBudget: number,
): string {
  const base = baseSystemPrompt(now);
  if (profile === null) return base;
  const rendered = renderProfile(profile, {
    budgetTokens: profileTokenBudget,
    countTokens: estimateTokens,
  });
  const personal = personalizationInstructions(rendered.text);
  return personal ? `${base}\n\n${personal}` : base;
}
