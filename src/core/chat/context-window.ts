import { AppError } from '../errors';
import type { ChatMessage } from '../../engine/engine';

/**
 * Chat templates wrap every message in role markers (`<|im_start|>user\n … <|im_end|>\n`);
 * counting only the content would overfill the window by this much per message.
 */
export const TEMPLATE_TOKENS_PER_MESSAGE = 8;

export interface ConversationTurn {
  role: 'user' | 'assistant';
  content: string;
}

export interface FitOptions {
  system: string;
  /** The whole conversation, oldest first, ending with the user turn to answer. */
  turns: ConversationTurn[];
  contextWindow: number;
  /** Tokens kept free for the reply. */
  reserveForReply: number;
  countTokens: (text: string) => Promise<number>;
}

export interface FittedPrompt {
  messages: ChatMessage[];
  /** How many of the oldest turns were left out of the prompt (never out of the conversation). */
  droppedTurns: number;
  promptTokens: number;
}

/**
 * Keeps the system prompt and as many of the newest turns as fit. Older turns go first, whole:
 * a turn cut in half reads to the model as something the user never said.
 */
export async function fitToContext(options: FitOptions): Promise<FittedPrompt> {
  const { system, turns, contextWindow, reserveForReply, countTokens } = options;
  const budget = contextWindow - reserveForReply;
  const systemTokens = (await countTokens(system)) + TEMPLATE_TOKENS_PER_MESSAGE;
  let used = systemTokens;
  let firstKept = turns.length;
  for (let i = turns.length - 1; i >= 0; i--) {
    const turn = turns[i];
    if (turn === undefined) break;
    const cost = (await countTokens(turn.content)) + TEMPLATE_TOKENS_PER_MESSAGE;
    if (used + cost > budget) break;
    used += cost;
    firstKept = i;
  }
  if (turns.length > 0 && firstKept === turns.length) {
    throw new AppError(
      'context-window-exceeded',
      `Your message is too long for this model: it does not fit in its ${contextWindow}-token context window with room for a reply. Shorten it or choose a model with a larger context.`,
    );
  }
  // A prompt must not open with an assistant turn: some chat templates reject that.
  while (firstKept < turns.length - 1 && turns[firstKept]?.role === 'assistant') {
    firstKept++;
  }
  const kept = turns.slice(firstKept);
  return {
    messages: [{ role: 'system', content: system }, ...kept],
    droppedTurns: firstKept,
    promptTokens: used,
  };
}
