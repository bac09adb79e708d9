/** Test data for the PersonaBench lab: personas, scenes, and a scripted cast for every role. */
import type {
  BenchCondition,
  BenchDataset,
  BenchPersona,
  BenchScene,
  BenchSettings,
} from '../../src/core/bench/types';
import type { Profile } from '../../src/core/profile/types';
import type { GenerateRequest, WllamaModelSpec } from '../../src/engine/engine';
import type { LabStartRequest } from '../../src/worker/contract';

export function profileOf(sections: Record<string, Record<string, string>>): Profile {
  return {
    updatedAt: 1_700_000_000_000,
    sections: Object.entries(sections).map(([name, fields]) => ({
      name,
      builtIn: true,
      fields: Object.fromEntries(
        Object.entries(fields).map(([key, value]) => [
          key,
          {
            value,
            updatedAt: 1_700_000_000_000,
            source: 'user' as const,
            locked: false,
            evidence: [],
          },
        ]),
      ),
    })),
  };
}

export function makeScene(n: number): BenchScene {
  return {
    type: 'Everyday help',
    description: `Scene ${n}: the user needs help with task ${n}.`,
    context: `Context of scene ${n}.`,
    expectedResponse: `A reply that helps with task ${n} for a nurse in Berlin.`,
    personalizedQuery: `As a nurse in Berlin, help me with task ${n}.`,
    neutralizedQuery: `Help me with task ${n}.`,
  };
}

function makePersona(id: string, name: string, scenes: number): BenchPersona {
  return {
    id,
    name,
    golden: profileOf({
      Demographics: { Location: 'Berlin, Germany', Occupation: 'intensive-care nurse' },
      Preferences: { Styles: 'short and direct' },
    }),
    scenes: Array.from({ length: scenes }, (_, i) => makeScene(i + 1)),
  };
}

export function makeDataset(personas = 2, scenes = 3): BenchDataset {
  const names = ['Mara', 'Jonas', 'Aiko'];
  return {
    name: 'test-set',
    personas: Array.from({ length: personas }, (_, i) =>
      makePersona(`p${i + 1}`, names[i] ?? `P${i + 1}`, scenes),
    ),
  };
}

export const spec = (id = 'tiny.gguf'): WllamaModelSpec => ({
  engine: 'wllama',
  id,
  url: `http://127.0.0.1:1/${id}`,
});

export function labRequest(
  conditions: BenchCondition[],
  overrides: Partial<BenchSettings> = {},
  dataset: BenchDataset = makeDataset(),
): LabStartRequest {
  return {
    dataset,
    roles: { assistant: spec(), simulator: spec(), judge: spec() },
    settings: { conditions, maxTurns: 3, seed: 7, stability: false, ...overrides },
  };
}

export type CallKind = 'assistant' | 'simulator' | 'judge' | 'similarity' | 'optimizer';

/** Which role a request is for, from the output schema it asks for. */
export function kindOf(request: GenerateRequest): CallKind {
  const properties = (request.jsonSchema?.properties ?? {}) as Record<string, unknown>;
  if ('satisfied' in properties) return 'simulator';
  if ('helpfulness' in properties) return 'judge';
  if ('score' in properties) return 'similarity';
  if ('changes' in properties) return 'optimizer';
  return 'assistant';
}

/** The text of the last user message the simulator saw, to script turn by turn. */
export const systemOf = (request: GenerateRequest): string =>
  request.messages.find((m) => m.role === 'system')?.content ?? '';

/**
 * A cast that plays every role sensibly: the simulator mentions Berlin once, then is satisfied;
 * the judge gives 8 and 6; the optimizer learns the location from the simulator's words.
 */
export function defaultCast(request: GenerateRequest): string {
  switch (kindOf(request)) {
    case 'assistant':
      return 'Here is some help with your task.';
    case 'simulator': {
      const sawTurns = (request.messages[1]?.content.match(/^User: /gmu) ?? []).length;
      return sawTurns >= 2
        ? JSON.stringify({ satisfied: true, reply: '' })
        : JSON.stringify({ satisfied: false, reply: 'I live in Berlin, by the way.' });
    }
    case 'judge':
      return JSON.stringify({ helpfulness: 8, personalization: 6, reason: 'Fine.' });
    case 'similarity':
      return JSON.stringify({ score: 5, reason: 'Half of it.' });
    case 'optimizer':
      return JSON.stringify({
        changes: [
          {
            op: 'set',
            section: 'Demographics',
            key: 'Location',
            value: 'Berlin',
            evidence: 'I live in Berlin',
          },
        ],
      });
  }
}
