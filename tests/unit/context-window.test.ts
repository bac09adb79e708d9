import { describe, expect, it } from 'vitest';
import {
  TEMPLATE_TOKENS_PER_MESSAGE,
  countsAsTurn,
  fitToContext,
  tokenUpperBound,
  type ConversationTurn,
} from '../../src/core/chat/context-window';
import { AppError } from '../../src/core/errors';

const words = (text: string) => Promise.resolve(text.split(/\s+/).filter(Boolean).length);
const turn = (role: ConversationTurn['role'], words: number): ConversationTurn => ({
  role,
  content: Array.from({ length: words }, (_, i) => `w${i}`).join(' '),
});

describe('fitToContext', () => {
  it('keeps the whole conversation when it fits, counting what its bound does not settle', async () => {
    // 5 words of about 3 bytes each: the bound (about 16 + 8 per turn) overshoots a 60-token
    // budget, so the turns are counted, and 2 + 15 words + 4 × 8 fit.
    const turns = [turn('user', 5), turn('assistant', 5), turn('user', 5)];
    const fitted = await fitToContext({
      system: 'be nice',
      turns,
      contextWindow: 70,
      reserveForReply: 10,
      countTokens: words,
    });
    expect(fitted.droppedTurns).toBe(0);
    expect(fitted.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(fitted.promptTokens).toBe(2 + 15 + 4 * TEMPLATE_TOKENS_PER_MESSAGE);
  });

  it('counts nothing when even the upper bound of every text fits', async () => {
    const turns = [turn('user', 5), turn('assistant', 5), turn('user', 5)];
    const counted: string[] = [];
    const fitted = await fitToContext({
      system: 'be nice',
      turns,
      contextWindow: 1000,
      reserveForReply: 100,
      countTokens: (text) => {
        counted.push(text);
        return words(text);
      },
    });
    expect(counted).toEqual([]);
    expect(fitted.droppedTurns).toBe(0);
    expect(fitted.messages).toHaveLength(4);
    const bound = ['be nice', ...turns.map((t) => t.content)]
      .map((text) => tokenUpperBound(text) + TEMPLATE_TOKENS_PER_MESSAGE)
      .reduce((a, b) => a + b, 0);
    expect(fitted.promptTokens).toBe(bound);
  });

  it('bounds tokens by UTF-8 bytes, so non-Latin text is not undercounted', () => {
    expect(tokenUpperBound('')).toBe(1);
    expect(tokenUpperBound('abc')).toBe(4);
    // Three bytes per character in UTF-8, where a tokenizer may spend a token per byte.
    expect(tokenUpperBound('日本語')).toBe(10);
  });

  it('drops the oldest turns first and never starts with an assistant turn', async () => {
    const turns = [
      turn('user', 60),
      turn('assistant', 60),
      turn('user', 60),
      turn('assistant', 5),
      turn('user', 5),
    ];
    const fitted = await fitToContext({
      system: 'sys',
      turns,
      contextWindow: 120,
      reserveForReply: 20,
      countTokens: words,
    });
    // Budget 100: system 9, last user 13 and assistant 13 fit; the 60-word user turn (68) does not,
    // and the kept assistant turn is then dropped so the prompt opens with the user.
    expect(fitted.droppedTurns).toBe(4);
    expect(fitted.messages.map((m) => m.role)).toEqual(['system', 'user']);
    expect(fitted.messages.at(-1)?.content).toBe(turns[4]?.content);
  });

  it('refuses a single message that cannot fit with room for a reply', async () => {
    const attempt = fitToContext({
      system: 'sys',
      turns: [turn('user', 500)],
      contextWindow: 512,
      reserveForReply: 128,
      countTokens: words,
    });
    await expect(attempt).rejects.toBeInstanceOf(AppError);
    await expect(attempt).rejects.toMatchObject({ code: 'context-window-exceeded' });
  });
});

describe('fitToContext in a conversation longer than the window (issue 10)', () => {
  const exact = new Map<string, number>();
  const counting = (counted: string[]) => (text: string) => {
    counted.push(text);
    const n = text.split(/\s+/).filter(Boolean).length;
    exact.set(text, n);
    return Promise.resolve(n);
  };
  const options = {
    system: 'sys',
    contextWindow: 400,
    reserveForReply: 100,
    knownTokens: (text: string) => exact.get(text),
  };

  it('keeps the previous start while everything from there fits, asking the model nothing', async () => {
    const turns = [
      turn('user', 120),
      turn('assistant', 120),
      turn('user', 60),
      turn('assistant', 60),
    ];
    const first = await fitToContext({ ...options, turns, countTokens: counting([]) });
    expect(first.droppedTurns).toBe(2);
    // The next question: the texts already counted are known, the new one is bounded.
    turns.push(turn('user', 5));
    const counted: string[] = [];
    const next = await fitToContext({
      ...options,
      turns,
      countTokens: counting(counted),
      previousStart: first.droppedTurns,
    });
    expect(counted).toEqual([]);
    expect(next.droppedTurns).toBe(2);
    expect(next.messages.slice(0, 3)).toEqual(first.messages.slice(0, 3));
  });

  it('moves the start in steps that leave room, so most replies reuse the prompt before them', async () => {
    const turns: ConversationTurn[] = [];
    const starts: number[] = [];
    let previousStart: number | undefined;
    for (let i = 0; i < 40; i++) {
      turns.push(turn('user', 10 + (i % 3)), turn('assistant', 25));
      const asked = turns.slice(0, -1);
      const fitted = await fitToContext({
        ...options,
        turns: asked,
        countTokens: counting([]),
        previousStart,
      });
      // Never more than fits, counted exactly.
      const tokens = await Promise.all(fitted.messages.map((m) => words(m.content)));
      const size = tokens.reduce((a, n) => a + n + TEMPLATE_TOKENS_PER_MESSAGE, 0);
      expect(size).toBeLessThanOrEqual(options.contextWindow - options.reserveForReply);
      expect(fitted.messages[1]?.role).toBe('user');
      previousStart = fitted.droppedTurns;
      starts.push(previousStart);
    }
    const moves = starts.filter((start, i) => i > 0 && start !== starts[i - 1]).length;
    // Kept whole at first; then dropping a turn or two each time would move it at nearly every
    // reply. In steps of a quarter of the room it moves at about one reply in three.
    expect(starts.at(-1)).toBeGreaterThan(40);
    expect(moves).toBeLessThanOrEqual(starts.length / 3);
  });
});

describe('which stored messages count as turns', () => {
  it('keeps finished, stopped and interrupted text; leaves out failed, empty and unfinished replies', () => {
    expect(countsAsTurn({ content: 'Hi', status: 'complete' })).toBe(true);
    expect(countsAsTurn({ content: 'Half a repl', status: 'stopped' })).toBe(true);
    expect(countsAsTurn({ content: 'Half a repl', status: 'incomplete' })).toBe(true);
    expect(countsAsTurn({ content: 'Oops', status: 'error' })).toBe(false);
    expect(countsAsTurn({ content: '  \n', status: 'complete' })).toBe(false);
    expect(countsAsTurn({ content: 'Still writ', status: 'streaming' })).toBe(false);
  });
});
