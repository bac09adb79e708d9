import * as Comlink from 'comlink';
import { deserializeError, serializeError, type SerializedError } from '../core/errors';

/**
 * Comlink's built-in handler sends only `{name, message, stack}` of a thrown error, so the
 * other side could not tell a lost GPU from a bad URL. This one carries our error code too.
 * Both the worker and the UI install it before any call crosses.
 */
export function installErrorTransfer(): void {
  const builtin = Comlink.transferHandlers.get('throw');
  if (!builtin) return;
  Comlink.transferHandlers.set('throw', {
    canHandle: (value: unknown): value is unknown => builtin.canHandle(value),
    serialize(thrown: unknown) {
      const value = (thrown as { value: unknown }).value;
      return [serializeError(value), []];
    },
    deserialize(wire: unknown) {
      throw deserializeError(wire as SerializedError);
    },
  } satisfies Comlink.TransferHandler<unknown, SerializedError>);
}
