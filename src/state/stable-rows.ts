/**
 * Keeps the object of every row that did not change between two reads of a live query (issue
 * 11): a component given the same object does not render it again, so a save of one streaming
 * reply re-renders that reply, not every message on screen. Returns `previous` itself when no
 * row changed, so assigning it wakes nothing.
 */
export function keepUnchangedRows<T extends { id: string }>(
  previous: readonly T[],
  next: T[],
): T[] {
  if (previous.length === 0) return next;
  const byId = new Map(previous.map((row) => [row.id, row]));
  let allSame = previous.length === next.length;
  const rows = next.map((row, index) => {
    const old = byId.get(row.id);
    const kept = old !== undefined && sameData(old, row) ? old : row;
    if (kept !== previous[index]) allSame = false;
    return kept;
  });
  return allSame ? (previous as T[]) : rows;
}

/** Equality of data as IndexedDB returns it: primitives, arrays and plain objects. */
export function sameData(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, index) => sameData(item, b[index]));
  }
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = Object.keys(left).filter((key) => left[key] !== undefined);
  const otherKeys = Object.keys(right).filter((key) => right[key] !== undefined);
  return (
    keys.length === otherKeys.length &&
    keys.every((key) => Object.hasOwn(right, key) && sameData(left[key], right[key]))
  );
}
