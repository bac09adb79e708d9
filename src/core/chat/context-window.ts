import { AppError } from '../errors';
import type { ChatMessage } from '../llm';

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
  /** A text's exact count when it is known without asking the model (counted before). */
  knownTokens?: (text: string) => number | undefined;
  /**
   * Where this conversation's previous prompt started (an index into `turns`). Kept while the
   * prompt still fits from there: the model then finds the prompt it has already read, the
   * history unchanged, in its cache, and reads only what was added (issue 10).
   */
  previousStart?: number;
}

export interface FittedPrompt {
  messages: ChatMessage[];
  /** How many of the oldest turns were left out of the prompt (never out of the conversation). */
  droppedTurns: number;
  /** The prompt's size as counted, or its upper bound when it fitted without counting. */
  promptTokens: number;
}

const utf8 = new TextEncoder();

/**
 * No token covers more characters than this in the vocabularies we run (long ones are runs of
 * spaces or punctuation in code). Text longer than this many characters per token of budget
 * cannot fit, so a conversation's history is read only that far back (issue 11).
 */
export const MAX_CHARS_PER_TOKEN = 16;

/**
 * How many characters of history, read from the newest message backwards, are enough to fill
 * the prompt: anything older would be left out by `fitToContext` anyway.
 */
export function historyCharBudget(contextWindow: number, reserveForReply: number): number {
  return Math.max(0, contextWindow - reserveForReply) * MAX_CHARS_PER_TOKEN;
}

/**
 * No more tokens than this: byte-level BPE tokens and SentencePiece byte-fallback pieces each
 * cover at least one byte of UTF-8, and SentencePiece may add one leading-space marker.
 */
export function tokenUpperBound(text: string): number {
  return utf8.encode(text).length + 1;
}

/**
 * When older turns must go, the history kept fills at most this share of the room: what the next
 * turns add then fits without moving the start again, so the prompt the model has cached stays
 * the prompt's beginning for several turns. Moving it every turn (keeping all that fits) made
 * every reply in a long conversation read its whole history again.
 */
export const FILL_WHEN_MOVING = 0.75;

/**
 * Keeps the system prompt and as many of the newest turns as fit. Older turns go first, whole:
 * a turn cut in half reads to the model as something the user never said. In a conversation
 * longer than the window the start stays where the previous prompt started while that fits, and
 * moves in steps (`FILL_WHEN_MOVING`), not by a turn or two each time.
 *
 * A conversation whose upper bound fits is sent whole without counting anything: on wllama each
 * count is a pass of the text through the model, which would make every follow-up message wait
 * for its previous reply and itself to be read once more before the real prompt.
 */
export async function fitToContext(options: FitOptions): Promise<FittedPrompt> {
  const { system, turns, contextWindow, reserveForReply, countTokens, previousStart } = options;
  const budget = contextWindow - reserveForReply;
  const bound = [system, ...turns.map((t) => t.content)].reduce(
    (sum, text) => sum + tokenUpperBound(text) + TEMPLATE_TOKENS_PER_MESSAGE,
    0,
  );
  if (bound <= budget) return keepFrom(system, turns, 0, bound);
  if (previousStart !== undefined && previousStart >= 0 && previousStart < turns.length) {
    // Without asking the model: on wllama a count is a pass of the text through it, which also
    // takes the place of the cached prompt.
    const atMost = (text: string) =>
      (options.knownTokens?.(text) ?? tokenUpperBound(text)) + TEMPLATE_TOKENS_PER_MESSAGE;
    const since = [system, ...turns.slice(previousStart).map((t) => t.content)].reduce(
      (sum, text) => sum + atMost(text),
      0,
    );
    if (since <= budget) return keepFrom(system, turns, previousStart, since);
  }
  const systemTokens = (await countTokens(system)) + TEMPLATE_TOKENS_PER_MESSAGE;
  let used = systemTokens;
  let firstKept = turns.length;
  const costs: number[] = [];
  for (let i = turns.length - 1; i >= 0; i--) {
    const turn = turns[i];
    if (turn === undefined) break;
    const cost = (await countTokens(turn.content)) + TEMPLATE_TOKENS_PER_MESSAGE;
    if (used + cost > budget) break;
    costs[i] = cost;
    used += cost;
    firstKept = i;
  }
  if (firstKept > 0) {
    // Turns must go: the history kept fills up to `fill`, the message to answer the whole room.
    const fill = Math.floor(budget * FILL_WHEN_MOVING);
    while (firstKept < turns.length - 1 && used > fill) {
      used -= costs[firstKept] ?? 0;
      firstKept++;
    }
  }
  if (turns.length > 0 && firstKept === turns.length) {
    throw new AppError(
      'context-window-exceeded',
      `Your message is too long for this model: it does not fit in its ${contextWindow}-token context window with room for a reply. Shorten it or choose a model with a larger context.`,
    );
  }
  return keepFrom(system, turns, firstKept, used);
}

function keepFrom(
  system: string,
  turns: ConversationTurn[],
  first: number,
  promptTokens: number,
): FittedPrompt {
  let firstKept = first;
  // A prompt must not open with an assistant turn: some chat templates reject that.
  while (firstKept < turns.length - 1 && turns[firstKept]?.role === 'assistant') {
    firstKept++;
  }
  const kept = turns.slice(firstKept);
  return {
    messages: [{ role: 'system', content: system }, ...kept],
    droppedTurns: firstKept,
    promptTokens,
  };
}

/**
 * Whether a stored message is part of the conversation a model should read, for a reply's history
 * and for learning alike: failed and empty replies say nothing to build on, and a reply still
 * being written is not finished. (A stopped, cut-off or interrupted reply keeps its text.)
 */
export function countsAsTurn(message: { content: string; status: string }): boolean {
  return (
    message.status !== 'error' && message.status !== 'streaming' && message.content.trim() !== ''
  );
}
