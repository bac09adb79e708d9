/**
 * Seeds for the simulator, judge and assistant calls, derived from the run's seed and the call's
 * position (condition, persona, scene, turn, attempt), so a repeated run asks every question with
 * the same seed however the run was interrupted and resumed. FNV-1a, 32 bits.
 */
export function deriveSeed(runSeed: number, position: string): number {
  let hash = 0x811c9dc5;
  for (const char of `${runSeed}|${position}`) {
    hash ^= char.codePointAt(0) ?? 0;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  // Engines take a non-negative 31-bit seed.
  return hash & 0x7fffffff;
}
