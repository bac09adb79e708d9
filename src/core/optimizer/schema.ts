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

function changeSchema(
  sectionNames: readonly string[] | undefined,
  quotes: readonly string[] | undefined,
): Record<string, unknown> {
  return {
    type: 'object',
    properties: {
      op: { type: 'string', enum: ['set', 'remove'] },
      section:
        sectionNames === undefined || sectionNames.length === 0
          ? { type: 'string', maxLength: MAX_SECTION_NAME_LENGTH }
          : { type: 'string', enum: [...sectionNames] },
      key: { type: 'string', maxLength: MAX_KEY_LENGTH },
      value: { type: 'string', maxLength: MAX_VALUE_LENGTH },
      evidence:
        quotes === undefined
          ? { type: 'string', maxLength: MAX_QUOTE_LENGTH }
          : { type: 'string', enum: quotes.slice(-MAX_EVIDENCE_CHOICES) },
    },
    required: ['op', 'section', 'key', 'value', 'evidence'],
    additionalProperties: false,
  };
}

/**
 * The schema, optionally narrowing `section` to the profile's section names so a constrained model
 * cannot invent sections it is not allowed to create, and `evidence` to the user's statements in
 * the conversations (grounding.ts), so the model chooses a quote instead of copying one. With no
 * statement to quote there is nothing to learn, and the list must stay empty.
 */
export function optimizerOutputSchema(
  sectionNames?: readonly string[],
  quotes?: readonly string[],
): Record<string, unknown> {
  return {
    type: 'object',
    properties: {
      changes: {
        type: 'array',
        items: changeSchema(sectionNames, quotes),
        maxItems: quotes?.length === 0 ? 0 : MAX_CHANGES_PER_RUN,
      },
    },
    required: ['changes'],
    additionalProperties: false,
  };
}

export const OPTIMIZER_OUTPUT_SCHEMA: Readonly<Record<string, unknown>> = optimizerOutputSchema();
