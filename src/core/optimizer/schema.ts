import {
  MAX_KEY_LENGTH,
  MAX_QUOTE_LENGTH,
  MAX_SECTION_NAME_LENGTH,
  MAX_VALUE_LENGTH,
} from '../profile/defaults';

/**
 * The JSON Schema the optimizer's output must match. It constrains generation in both engines
 * (WebLLM's `response_format.schema`, wllama's json_schema grammar), so it keeps to the subset
 * both understand: no `$ref`, `oneOf` or `pattern`; `enum`, `maxLength`, `maxItems`, `required`
 * and `additionalProperties: false` only. `value` is always required so the shape stays flat;
 * a `remove` carries "". The schema only narrows what the model can write: `parse.ts` checks
 * every rule again, because a model can stop mid-object or an engine can ignore a keyword.
 */

/** More than a handful of changes per run is a sign of a model rewriting rather than learning. */
export const MAX_CHANGES_PER_RUN = 8;

/**
 * Statements offered as evidence at most: the enum becomes part of the grammar, and a longer list
 * only slows sampling. The newest are kept; older ones were learned from in earlier runs.
 */
export const MAX_EVIDENCE_CHOICES = 96;

export interface OptimizerSchemaOptions {
  /** The profile's sections: a constrained model cannot invent sections it may not create. */
  sectionNames?: readonly string[];
  /** The user's statements (grounding.ts): the model chooses a quote instead of copying one. */
  quotes?: readonly string[];
  /** The keys it may file a fact under: small models otherwise invent keys like "Premise 1". */
  keys?: readonly string[];
}

/**
 * Engines count `maxLength` in characters (code points), the profile's limits count UTF-16 units
 * as JavaScript does, and a character outside the Basic Multilingual Plane (an emoji, rare CJK)
 * takes two: the schema asks for at most half, so nothing it lets a model write is too long for
 * the profile (found by tests/unit/optimizer-schema-agreement.test.ts).
 */
const inCharacters = (utf16Units: number): number => Math.floor(utf16Units / 2);

const enumOr = (
  values: readonly string[] | undefined,
  maxLength: number,
): Record<string, unknown> =>
  values === undefined || values.length === 0
    ? { type: 'string', maxLength: inCharacters(maxLength) }
    : { type: 'string', enum: [...values] };

/**
 * Evidence comes first: engines generate properties in the schema's order, so the model picks
 * the user's sentence before it writes a key and value, and writes them from that sentence
 * (measured in `npm run bench:learning`: values are copied from the chosen quote instead of from
 * elsewhere in the prompt).
 */
function changeSchema(options: OptimizerSchemaOptions): Record<string, unknown> {
  return {
    type: 'object',
    properties: {
      // An empty enum is not a schema engines accept; with no quote the list is empty anyway.
      evidence: enumOr(options.quotes?.slice(-MAX_EVIDENCE_CHOICES), MAX_QUOTE_LENGTH),
      op: { type: 'string', enum: ['set', 'remove'] },
      section: enumOr(options.sectionNames, MAX_SECTION_NAME_LENGTH),
      key: enumOr(options.keys, MAX_KEY_LENGTH),
      // Never empty: a "set" needs a value (a "remove" ignores it), and an engine that may write
      // "" sometimes does (found by tests/unit/optimizer-schema-agreement.test.ts).
      value: { type: 'string', minLength: 1, maxLength: inCharacters(MAX_VALUE_LENGTH) },
    },
    required: ['evidence', 'op', 'section', 'key', 'value'],
    additionalProperties: false,
  };
}

/**
 * The schema, narrowed by `options` (see OptimizerSchemaOptions). With no statement to quote
 * there is nothing to learn, and the list must stay empty.
 */
export function optimizerOutputSchema(
  options: OptimizerSchemaOptions = {},
): Record<string, unknown> {
  return {
    type: 'object',
    properties: {
      changes: {
        type: 'array',
        items: changeSchema(options),
        maxItems: options.quotes?.length === 0 ? 0 : MAX_CHANGES_PER_RUN,
      },
    },
    required: ['changes'],
    additionalProperties: false,
  };
}
