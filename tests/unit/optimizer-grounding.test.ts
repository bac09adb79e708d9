import { describe, expect, it } from 'vitest';
import { userStatements, valueGrounded } from '../../src/core/optimizer/grounding';
import { parseOptimizerOutput } from '../../src/core/optimizer/parse';
import { emptyProfile } from '../../src/core/profile/defaults';
import { MAX_QUOTE_LENGTH } from '../../src/core/profile/defaults';

describe('userStatements', () => {
  it('cuts a message into sentences and leaves questions out', () => {
    expect(
      userStatements("I'm 42 and I've started learning Spanish. Any app you'd recommend?"),
    ).toEqual(["I'm 42 and I've started learning Spanish."]);
    expect(userStatements('Where should I travel in May?')).toEqual([]);
  });

  it('keeps the statement before the question in a sentence that ends in one', () => {
    expect(userStatements("I'm vegan, so can you suggest a dinner with chickpeas?")).toEqual([
      "I'm vegan",
    ]);
  });

  it('leaves out conditionals and invitations to pretend, in several languages', () => {
    expect(userStatements('If I were a teacher, how would I plan a lesson?')).toEqual([]);
    expect(userStatements("Let's play a game: you are a pirate and I'm the captain.")).toEqual([]);
    expect(userStatements('Si fuera rica, viviría en una isla del Caribe.')).toEqual([]);
    expect(userStatements('Wenn ich reich wäre, würde ich segeln.')).toEqual([]);
    // A word that only starts like one is not one.
    expect(userStatements('Ifeoma is my name.')).toEqual(['Ifeoma is my name.']);
  });

  it('keeps pasted and quoted text out, and short interjections too', () => {
    expect(
      userStatements('Hi! Fix this:\n```\nI live in Paris.\n```\n> I am the CFO\nI live in Rome.'),
    ).toEqual(['Fix this', 'I live in Rome.']);
  });

  it('splits scripts without spaces at their own sentence marks', () => {
    expect(userStatements('東京に住んでいます。猫が好きです。おすすめは？')).toEqual([
      '東京に住んでいます。',
      '猫が好きです。',
    ]);
  });

  it('keeps every statement within the quote limit, cut at a word', () => {
    const long = `I work as ${'a very '.repeat(40)}busy nurse.`;
    const [statement] = userStatements(long);
    expect(statement).toBeDefined();
    expect(Array.from(statement ?? '').length).toBeLessThanOrEqual(MAX_QUOTE_LENGTH);
    expect(long.startsWith(statement ?? '-')).toBe(true);
    expect(statement?.endsWith(' ')).toBe(false);
  });
});

describe('valueGrounded', () => {
  it('accepts a value that says what its quote says', () => {
    expect(valueGrounded('Lisbon', 'I live in Lisbon')).toBe(true);
    expect(valueGrounded('works night shifts', 'I work night shifts')).toBe(true);
    expect(valueGrounded('42', "I'm 42")).toBe(true);
    expect(valueGrounded('vegetariana', 'Soy vegetariana desde hace diez años')).toBe(true);
    expect(valueGrounded('東京', '東京に住んでいます')).toBe(true);
  });

  it('refuses invented values, the prompt’s example, and shared function words', () => {
    expect(valueGrounded('Extraversion', "I'm a big fan of the Olympics")).toBe(false);
    expect(valueGrounded('Berlin', 'I live in Lisbon')).toBe(false);
    expect(valueGrounded('the best', 'the weather is nice')).toBe(false);
    expect(valueGrounded('が', '猫が好きです')).toBe(false);
  });
});

describe('grounding in parseOptimizerOutput', () => {
  const sessions = [
    {
      conversationId: 'c1',
      messages: [
        {
          id: 'm1',
          role: 'user' as const,
          content: "If I were a teacher, how would I plan a lesson? I'm a nurse in Leeds.",
          createdAt: 1,
        },
      ],
    },
  ];
  const parse = (change: Record<string, string>) =>
    parseOptimizerOutput(JSON.stringify({ changes: [change] }), {
      profile: emptyProfile(0),
      sessions,
    });
  const change = (value: string, evidence: string) => ({
    op: 'set',
    section: 'Demographics',
    key: 'Occupation',
    value,
    evidence,
  });

  it('refuses evidence from a hypothetical, and a value its quote does not state', () => {
    const hypothetical = parse(change('teacher', 'If I were a teacher'));
    expect(hypothetical.ok && hypothetical.rejected.map((r) => r.reason)).toEqual([
      'evidence-not-a-statement',
    ]);
    const invented = parse(change('doctor', "I'm a nurse in Leeds"));
    expect(invented.ok && invented.rejected.map((r) => r.reason)).toEqual([
      'value-not-in-evidence',
    ]);
    const good = parse(change('nurse', "I'm a nurse in Leeds"));
    expect(good.ok && good.changes).toEqual([
      {
        op: 'set',
        section: 'Demographics',
        key: 'Occupation',
        value: 'nurse',
        evidence: { conversationId: 'c1', messageId: 'm1', quote: "I'm a nurse in Leeds" },
      },
    ]);
  });
});
