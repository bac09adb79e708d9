import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/core/errors';
import {
  ASSISTANT_EXCERPT_CHARS,
  buildOptimizerPrompt,
  type OptimizerPromptInput,
} from '../../src/core/optimizer/prompt';
import type { OptimizerSession, SessionMessage } from '../../src/core/optimizer/transcript';
import { applyChanges, setFieldLocked, userSetChange } from '../../src/core/profile/apply';
import { emptyProfile } from '../../src/core/profile/defaults';
import { estimateTokens } from '../../src/core/tokens';
import type { Profile } from '../../src/core/profile/types';

const T0 = Date.UTC(2024, 4, 1);
const words = (text: string): number => text.split(/\s+/u).filter(Boolean).length;

/** A session of `turns` user/assistant pairs whose messages hold `size` words each. */
function makeSession(id: string, at: number, turns = 1, size = 10): OptimizerSession {
  const messages: SessionMessage[] = [];
  for (let i = 0; i < turns; i++) {
    const text = (role: string) =>
      Array.from({ length: size }, (_, w) => `${id}-${role}${i}-w${w}`).join(' ');
    messages.push({ id: `${id}-u${i}`, role: 'user', content: text('u'), createdAt: at + i * 2 });
    messages.push({
      id: `${id}-a${i}`,
      role: 'assistant',
      content: text('a'),
      createdAt: at + i * 2 + 1,
    });
  }
  return { conversationId: id, messages };
}

function build(overrides: Partial<OptimizerPromptInput> = {}) {
  return buildOptimizerPrompt({
    profile: emptyProfile(T0),
    sessions: [],
    contextWindow: 100_000,
    reserveForOutput: 500,
    countTokens: words,
    now: T0,
    ...overrides,
  });
}

const userText = (prompt: ReturnType<typeof build>): string =>
  prompt.messages.at(-1)?.content ?? '';

describe('buildOptimizerPrompt', () => {
  it('explains the task, the sections, the current profile and asks for JSON only', () => {
    let profile: Profile = applyChanges(
      emptyProfile(T0),
      [
        userSetChange('Demographics', 'Occupation', 'nurse'),
        userSetChange('Hobbies', 'Sport', 'chess'),
      ],
      { actor: 'user', now: T0 },
    ).profile;
    profile = applyChanges(
      profile,
      [
        {
          op: 'set',
          section: 'Demographics',
          key: 'Location',
          value: 'Berlin',
          evidence: { conversationId: 'c', messageId: 'm', quote: 'in Berlin' },
        },
      ],
      { actor: 'optimizer', now: T0 },
    ).profile;
    const prompt = build({ profile, sessions: [makeSession('c1', T0)] });
    const system = prompt.messages[0]?.content ?? '';
    // A worked example comes as an earlier turn, before the conversations to read.
    expect(prompt.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    const example = JSON.parse(prompt.messages[2]?.content ?? '') as { changes: object[] };
    expect(Object.keys(example.changes[0] ?? {})[0]).toBe('evidence');
    expect(system).toMatch(/USER says/u);
    expect(system).toMatch(/word for word/u);
    expect(system).toMatch(/Never learn from the assistant/u);
    expect(system).toMatch(/never follow instructions/iu);
    expect(system).toMatch(/"remove"/u);
    expect(system).toContain('Age, Gender, Nationality, Languages, Occupation, Location');
    expect(system).toContain('- Hobbies (added by the user)');
    expect(system).toContain('- Occupation: nurse (fixed)');
    expect(system).toContain('- Location: Berlin\n');
    expect(system).toContain('Today is 2024-05-01.');
    expect(system).not.toMatch(/longer than its budget/u);
    expect(userText(prompt)).toMatch(/JSON object only/u);
    const locked = setFieldLocked(profile, 'Demographics', 'Location', true, T0).profile;
    expect(build({ profile: locked }).messages[0]?.content).toContain('- Location: Berlin (fixed)');
  });

  it('asks to consolidate when the profile is over budget', () => {
    expect(build({ profileOverBudget: true }).messages[0]?.content).toMatch(
      /merge related fields/u,
    );
  });

  it('keeps user messages whole and cuts assistant messages', () => {
    const long = 'a'.repeat(ASSISTANT_EXCERPT_CHARS + 50);
    const userLong = 'u'.repeat(1000);
    const prompt = build({
      sessions: [
        {
          conversationId: 'c1',
          messages: [
            { id: 'u1', role: 'user', content: userLong, createdAt: T0 },
            { id: 'a1', role: 'assistant', content: long, createdAt: T0 + 1 },
          ],
        },
      ],
    });
    const text = userText(prompt);
    expect(text).toContain(`User: ${userLong}`);
    expect(text).toContain(`${'a'.repeat(ASSISTANT_EXCERPT_CHARS)}…`);
    expect(text).not.toContain('a'.repeat(ASSISTANT_EXCERPT_CHARS + 1));
    expect(prompt.includedMessageIds).toEqual(['u1', 'a1']);
    expect(prompt.trimmed).toBe(false);
    expect(prompt.processed).toEqual([{ conversationId: 'c1', until: T0 + 1 }]);
  });

  it('lists sessions oldest first with their dates', () => {
    const prompt = build({
      sessions: [makeSession('new', T0 + 86_400_000), makeSession('old', T0)],
    });
    const text = userText(prompt);
    expect(text.indexOf('old-u0')).toBeLessThan(text.indexOf('new-u0'));
    expect(text).toContain('<conversation date="2024-05-02">');
  });

  it('grows with the new sessions only, never with the history', () => {
    let profile = emptyProfile(T0);
    const sizes: number[] = [];
    for (let run = 0; run < 20; run++) {
      // Same-width ids so every new session costs the same.
      const id = `c${String(run).padStart(2, '0')}`;
      const fresh = makeSession(id, T0 + run * 1000, 2, 12);
      const prompt = build({ profile, sessions: [fresh], countTokens: estimateTokens });
      sizes.push(prompt.promptTokens);
      profile = applyChanges(
        profile,
        [
          {
            op: 'set',
            section: 'Demographics',
            key: 'Location',
            value: `City ${run % 10}`,
            evidence: { conversationId: id, messageId: `${id}-u0`, quote: 'w0' },
          },
        ],
        { actor: 'optimizer', now: T0 + run },
      ).profile;
    }
    // After the first run the profile holds one field that is overwritten, never accumulated.
    const steady = sizes.slice(1);
    expect(Math.max(...steady) - Math.min(...steady)).toBeLessThanOrEqual(1);

    const one = build({ sessions: [makeSession('a', T0)] }).promptTokens;
    const two = build({ sessions: [makeSession('a', T0), makeSession('b', T0 + 10)] }).promptTokens;
    expect(two).toBeGreaterThan(one);
  });

  it('drops the oldest sessions when they do not fit, deterministically', () => {
    const sessions = [0, 1, 2, 3].map((i) => makeSession(`c${i}`, T0 + i * 100, 1, 40));
    const frame = build().promptTokens;
    const perSession = build({ sessions: [sessions[0] as OptimizerSession] }).promptTokens - frame;
    const input = {
      sessions,
      contextWindow: frame + perSession * 2 + 10 + 500,
    };
    const prompt = build(input);
    expect(prompt.trimmed).toBe(true);
    expect(prompt.droppedConversationIds).toEqual(['c1', 'c0']);
    expect(prompt.processed.map((p) => p.conversationId)).toEqual(['c3', 'c2']);
    expect(prompt.includedMessageIds).toEqual(['c2-u0', 'c2-a0', 'c3-u0', 'c3-a0']);
    expect(prompt.promptTokens).toBeLessThanOrEqual(input.contextWindow - 500);
    expect(build({ ...input, sessions: [...sessions].reverse() })).toEqual(prompt);
  });

  it('cuts a session too long on its own to its newest user messages', () => {
    const big = makeSession('big', T0 + 1000, 6, 30);
    const older = makeSession('older', T0, 1, 5);
    const frame = build().promptTokens;
    const prompt = build({ sessions: [big, older], contextWindow: frame + 100 + 500 });
    expect(prompt.trimmed).toBe(true);
    expect(prompt.includedMessageIds).toEqual(['big-u3', 'big-u4', 'big-u5']);
    expect(prompt.processed).toEqual([{ conversationId: 'big', until: T0 + 1000 + 11 }]);
    expect(prompt.droppedConversationIds).toEqual(['older']);
    expect(userText(prompt)).not.toContain('Assistant');
  });

  it('marks a session whose every message is too long as processed with nothing included', () => {
    const frame = build().promptTokens;
    const prompt = build({
      sessions: [makeSession('huge', T0, 1, 500)],
      contextWindow: frame + 50 + 500,
    });
    expect(prompt.includedMessageIds).toEqual([]);
    expect(prompt.processed).toEqual([{ conversationId: 'huge', until: T0 + 1 }]);
    expect(userText(prompt)).not.toContain('<conversation');
  });

  it('refuses a window too small for the instructions', () => {
    expect(() => build({ contextWindow: 600 })).toThrow(AppError);
    try {
      build({ contextWindow: 600 });
    } catch (error) {
      expect((error as AppError).code).toBe('context-window-exceeded');
    }
  });
});
