import { describe, expect, it } from 'vitest';
import {
  judgeMessages,
  parseJudgeOutput,
  parseSimilarityOutput,
  parseSimulatorOutput,
  simulatorMessages,
} from '../../src/core/bench/prompts';
import { retrieveEarlierTurns, retrievedInstructions } from '../../src/core/bench/rag';
import { deriveSeed } from '../../src/core/bench/seed';
import { factUpdate, fieldSimilarity, tokenF1 } from '../../src/core/bench/similarity';
import { goldenAt } from '../../src/core/bench/timeline';
import { measureDrift, stabilitySessions } from '../../src/core/bench/stability';
import { makeScene, profileOf } from './bench-factories';

const golden = profileOf({
  Demographics: { Location: 'Berlin, Germany', Occupation: 'intensive-care nurse', Age: '34' },
  Preferences: { Styles: 'short and direct' },
});

describe('field similarity', () => {
  it('is the mean token-set F1 per golden field, by section and normalized key, times 10', () => {
    expect(tokenF1('Berlin, Germany', 'berlin')).toBeCloseTo(2 / 3, 12);
    expect(tokenF1('short and direct', 'Direct and SHORT!')).toBe(1);
    expect(tokenF1('', '')).toBe(0);
    const learned = profileOf({
      demographics: { location: 'Berlin', 'occupation ': 'nurse in intensive care' },
      Preferences: { Formats: 'short and direct' },
    });
    // Location 2/3; occupation: {intensive, care, nurse} vs {nurse, in, intensive, care} = 6/7;
    // Age missing 0; Styles under another key 0.
    expect(fieldSimilarity(golden, learned)).toBeCloseTo((10 * (2 / 3 + 6 / 7)) / 4, 12);
    expect(fieldSimilarity(golden, golden)).toBe(10);
    expect(fieldSimilarity(profileOf({}), golden)).toBe(0);
  });
});

describe('simulator and judge output', () => {
  it('reads a valid simulator answer and refuses the malformed ones', () => {
    expect(parseSimulatorOutput('{"satisfied": true, "reply": ""}')).toEqual({
      ok: true,
      value: { satisfied: true, reply: '' },
    });
    expect(
      parseSimulatorOutput('```json\n{"satisfied": false, "reply": " I am vegan. "}\n```'),
    ).toEqual({
      ok: true,
      value: { satisfied: false, reply: 'I am vegan.' },
    });
    expect(parseSimulatorOutput('{"satisfied": false, "reply": "  "}')).toMatchObject({
      ok: false,
    });
    expect(parseSimulatorOutput('{"satisfied": "yes", "reply": ""}')).toMatchObject({ ok: false });
    expect(parseSimulatorOutput('{"satisfied": true, "reply": "", "mood": 1}')).toMatchObject({
      ok: false,
    });
    expect(parseSimulatorOutput('{"satisfied": true, "rep')).toMatchObject({ ok: false });
  });

  it('accepts only integer scores from 0 to 10', () => {
    expect(
      parseJudgeOutput('Sure: {"helpfulness": 10, "personalization": 0, "reason": "ok"}'),
    ).toEqual({
      ok: true,
      value: { helpfulness: 10, personalization: 0, reason: 'ok' },
    });
    for (const bad of [
      '{"helpfulness": 7.5, "personalization": 3, "reason": "x"}',
      '{"helpfulness": -1, "personalization": 3, "reason": "x"}',
      '{"helpfulness": "8", "personalization": 3, "reason": "x"}',
      '{"helpfulness": 8, "personalization": 3}',
      '[8, 3]',
    ]) {
      expect(parseJudgeOutput(bad), bad).toMatchObject({ ok: false });
    }
    expect(parseSimilarityOutput('{"score": 11, "reason": "x"}')).toMatchObject({ ok: false });
    expect(parseSimilarityOutput('{"score": 4, "reason": "x"}')).toEqual({
      ok: true,
      value: { score: 4, reason: 'x' },
    });
  });

  it('gives the simulator the persona and the scene, and the judge the anchored rubric', () => {
    const scene = makeScene(1);
    const turns = [
      { role: 'user' as const, content: scene.neutralizedQuery },
      { role: 'assistant' as const, content: 'Sure.' },
    ];
    const [system, user] = simulatorMessages(golden, scene, turns, 1, 5);
    expect(system?.content).toContain('Demographics: Location: Berlin, Germany');
    expect(system?.content).toContain(scene.expectedResponse);
    expect(user?.content).toContain('User: Help me with task 1.\n\nAssistant: Sure.');
    const judge = judgeMessages(golden, scene, scene.neutralizedQuery, 'Sure.');
    for (const anchor of ['0: ', '2: ', '4: ', '6: ', '8: ', '10: ']) {
      expect(judge[0]?.content.split(`- ${anchor}`)).toHaveLength(3);
    }
    expect(judge[1]?.content).toContain('<reply>\nSure.\n</reply>');
  });

  it('shows the simulator the newest reply whole and earlier ones cut', () => {
    const long = (word: string) => Array.from({ length: 200 }, () => word).join(' ');
    const turns = [
      { role: 'user' as const, content: 'Q1' },
      { role: 'assistant' as const, content: long('early') },
      { role: 'user' as const, content: 'Q2' },
      { role: 'assistant' as const, content: long('late') },
    ];
    const user = simulatorMessages(golden, makeScene(1), turns, 2, 5)[1]?.content ?? '';
    expect(user).toContain(`Assistant: ${long('late')}`);
    expect(user).not.toContain(long('early'));
    expect(user).toMatch(/Assistant: (early ){99}early… \(cut\)/u);
  });

  it('derives a stable seed per position', () => {
    expect(deriveSeed(7, 'none/p1/s0/judge/a0')).toBe(deriveSeed(7, 'none/p1/s0/judge/a0'));
    expect(deriveSeed(7, 'none/p1/s0/judge/a0')).not.toBe(deriveSeed(7, 'none/p1/s0/judge/a1'));
    expect(deriveSeed(8, 'none/p1/s0/judge/a0')).not.toBe(deriveSeed(7, 'none/p1/s0/judge/a0'));
    expect(deriveSeed(7, 'x')).toBeGreaterThanOrEqual(0);
  });
});

describe('conversations RAG baseline', () => {
  const earlier = [
    { sceneIndex: 0, turnIndex: 0, text: 'I am vegetarian and cook for two kids.' },
    { sceneIndex: 1, turnIndex: 0, text: 'Plan a cheap trip to Lisbon.' },
    { sceneIndex: 1, turnIndex: 2, text: 'We travel by train, never by plane.' },
    { sceneIndex: 2, turnIndex: 0, text: 'Help me with my vegetarian dinner for the kids.' },
  ];

  it('retrieves the turns sharing the rarest words with the query, oldest first, within budget', () => {
    const found = retrieveEarlierTurns('What vegetarian dinner could the kids like?', earlier);
    expect(found.map((t) => t.text)).toEqual([
      'I am vegetarian and cook for two kids.',
      'Help me with my vegetarian dinner for the kids.',
    ]);
    // With room for one turn only, the better match (it also shares "dinner") wins.
    const one = retrieveEarlierTurns('What vegetarian dinner could the kids like?', earlier, 16);
    expect(one.map((t) => t.sceneIndex)).toEqual([2]);
    expect(retrieveEarlierTurns('Tell me a joke', earlier)).toEqual([]);
    expect(retrievedInstructions(found)).toContain('- I am vegetarian and cook for two kids.');
  });
});

describe('profile stability', () => {
  it('injects noise and contradictions whose decoys share nothing with the golden persona', () => {
    const injected = stabilitySessions(golden, 0);
    expect(injected.map((i) => i.kind)).toEqual([
      'noise',
      'contradiction',
      'contradiction',
      'noise',
      'contradiction',
    ]);
    const berliner = profileOf({ Demographics: { Location: 'Tokyo' } });
    expect(stabilitySessions(berliner, 0)[1]?.decoy).toBe('Reykjavik');
  });

  it('measures drift over the stable fields the profile held', () => {
    const before = profileOf({
      Demographics: { Location: 'Berlin', Occupation: 'nurse' },
      Preferences: { Styles: 'short' },
    });
    const after = profileOf({
      Demographics: { Location: 'Tokyo', Age: '71' },
      Preferences: { Styles: 'long' },
    });
    expect(measureDrift(golden, before, after, ['Tokyo', 'circus acrobat', '71'])).toEqual({
      stableFields: 2,
      changed: 2,
      replacedByDecoy: 1,
      drift: 1,
    });
    expect(measureDrift(golden, before, before, [])).toMatchObject({ changed: 0, drift: 0 });
    expect(measureDrift(golden, profileOf({}), after, [])).toMatchObject({ drift: null });
  });
});

describe('facts that change mid-way', () => {
  const persona = {
    id: 'mara',
    name: 'Mara',
    golden: profileOf({ Demographics: { Location: 'Lisbon, Portugal', Age: '34' } }),
    scenes: [0, 1, 2, 3].map(makeScene),
    changes: [
      {
        sceneIndex: 2,
        section: 'Demographics',
        key: 'Location',
        before: 'Berlin',
        after: 'Lisbon',
      },
    ],
  };

  it('gives the persona as it was at each scene', () => {
    const location = (scene: number) =>
      goldenAt(persona, scene).sections[0]?.fields.Location?.value;
    expect([0, 1, 2, 3].map(location)).toEqual([
      'Berlin, Portugal',
      'Berlin, Portugal',
      'Lisbon, Portugal',
      'Lisbon, Portugal',
    ]);
    expect(goldenAt(persona, 3)).toBe(persona.golden);
  });

  it('tells an updated fact from a stale, missing or other one', () => {
    const [change] = persona.changes;
    if (!change) throw new Error('no change');
    const learned = (value: string) => profileOf({ Demographics: { location: value } });
    expect(factUpdate(learned('Lisbon'), change)).toMatchObject({
      status: 'updated',
      learned: 'Lisbon',
    });
    expect(factUpdate(learned('Berlin'), change).status).toBe('stale');
    expect(factUpdate(learned('Berlin, moving to Lisbon'), change).status).toBe('stale');
    expect(factUpdate(learned('Porto'), change).status).toBe('other');
    expect(factUpdate(profileOf({}), change)).toMatchObject({ status: 'missing', learned: null });
  });
});
