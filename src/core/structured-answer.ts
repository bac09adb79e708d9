import type { FinishReason } from './llm';
import type { Result } from './result';

/**
 * A structured (JSON-schema) answer from a model is untrusted: it is asked for once, and once
 * more when it does not validate; after that the step fails with the reason. The optimizer and
 * PersonaBench's judge and simulator follow the same rule, written here once.
 */
export const STRUCTURED_ATTEMPTS = 2;

/** Reads one structured answer: one cut off at the length limit is refused before parsing. */
export function readStructuredAnswer<T extends object>(
  answer: { finishReason?: FinishReason; text: string },
  parse: (text: string) => Result<T>,
): Result<T> {
  if (answer.finishReason === 'length') {
    return { ok: false, error: 'the answer was cut off at the length limit' };
  }
  return parse(answer.text);
}
