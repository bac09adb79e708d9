import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { userStatements } from '../../src/core/optimizer/grounding';
import { parseOptimizerOutput } from '../../src/core/optimizer/parse';
import { optimizerOutputSchema } from '../../src/core/optimizer/schema';
import type { OptimizerSession } from '../../src/core/optimizer/transcript';
import { emptyProfile } from '../../src/core/profile/defaults';
import { cleanText } from '../../src/core/profile/normalize';

/**
 * The optimizer's answer is described twice: the generation schema the engine enforces and the
 * parser that reads the answer item by item (see docs/ARCHITECTURE.md, "Shared rules"). They must
 * agree: whatever the schema lets a model write, the parser reads as well-formed; it may still
 * drop an item for what only the conversation can tell (grounding, repeats), never for its shape.
 */

const SHAPE_REASONS = new Set(['invalid-shape', 'too-long', 'missing-field', 'too-many-changes']);

const said = [
  'I just moved to Berlin.',
  'I work as a nurse on night shifts.',
  'My daughter is called Mia.',
  'I am allergic to peanuts.',
  'I prefer short answers with code first.',
];

const session: OptimizerSession = {
  conversationId: 'c1',
  messages: said.map((content, index) => ({
    id: `m${index}`,
    role: 'user' as const,
    content,
    createdAt: 1_700_000_000_000 + index,
  })),
};

interface StringSchema {
  enum?: string[];
  minLength?: number;
  maxLength?: number;
}

/**
 * A string the schema admits: one of its enum, or any characters (engines count code points) within
 * its lengths. Text is cleaned (trimmed, spaces collapsed) before the parser checks it, which the
 * schema cannot say without `pattern` (neither engine supports it): so free text here is not blank.
 */
const admitted = (schema: StringSchema): fc.Arbitrary<string> =>
  schema.enum
    ? fc.constantFrom(...schema.enum)
    : fc
        .string({
          unit: 'binary',
          minLength: schema.minLength ?? 0,
          maxLength: schema.maxLength ?? 40,
          // Long strings too: the limits are where the two descriptions could part.
          size: 'max',
        })
        .filter((text) => cleanText(text).length > 0);

describe('the generation schema and the parser agree', () => {
  it('reads every answer the schema admits as well-formed', () => {
    const profile = emptyProfile(1_700_000_000_000);
    const schema = optimizerOutputSchema({
      sectionNames: profile.sections.map((s) => s.name),
      quotes: said.flatMap((text) => userStatements(text)),
      keys: ['Location', 'Occupation', 'Family', 'Health', 'Answer style'],
    }) as {
      properties: {
        changes: {
          maxItems: number;
          items: {
            properties: Record<'evidence' | 'op' | 'section' | 'key' | 'value', StringSchema>;
          };
        };
      };
    };
    const { items, maxItems } = schema.properties.changes;
    const change = fc.record({
      evidence: admitted(items.properties.evidence),
      op: admitted(items.properties.op),
      section: admitted(items.properties.section),
      key: admitted(items.properties.key),
      value: admitted(items.properties.value),
    });
    fc.assert(
      fc.property(fc.array(change, { maxLength: maxItems }), (changes) => {
        const parsed = parseOptimizerOutput(JSON.stringify({ changes }), {
          profile,
          sessions: [session],
        });
        expect(parsed.ok).toBe(true);
        if (!parsed.ok) return;
        const shape = parsed.rejected.filter((r) => SHAPE_REASONS.has(r.reason));
        expect(shape).toEqual([]);
        expect(parsed.changes.length + parsed.rejected.length).toBe(changes.length);
      }),
      { numRuns: 200 },
    );
  }, 60_000);
});
