import { describe, expect, it } from 'vitest';
import { chooseWasmThreads, MAX_WASM_THREADS } from '../../src/core/wasm-threads';

const isolated = (hardwareConcurrency: number): number =>
  chooseWasmThreads({ hardwareConcurrency, crossOriginIsolated: true });

describe('chooseWasmThreads', () => {
  it('is one thread without cross-origin isolation, however many cores there are', () => {
    for (const cores of [1, 2, 8, 64]) {
      expect(chooseWasmThreads({ hardwareConcurrency: cores, crossOriginIsolated: false })).toBe(1);
    }
  });

  it('leaves a core free on machines of up to 4 cores', () => {
    expect(isolated(1)).toBe(1);
    expect(isolated(2)).toBe(1);
    expect(isolated(3)).toBe(2);
    expect(isolated(4)).toBe(3);
  });

  it('takes half of a larger count, at least 4 and at most the cap', () => {
    expect(isolated(6)).toBe(4);
    expect(isolated(8)).toBe(4);
    expect(isolated(12)).toBe(6);
    expect(isolated(16)).toBe(MAX_WASM_THREADS);
    expect(isolated(128)).toBe(MAX_WASM_THREADS);
  });

  it('never exceeds the cores, never drops below one, and never falls as cores grow', () => {
    let previous = 0;
    for (let cores = 1; cores <= 64; cores++) {
      const threads = isolated(cores);
      expect(threads).toBeGreaterThanOrEqual(Math.max(1, previous));
      expect(threads).toBeLessThanOrEqual(cores);
      previous = threads;
    }
  });

  it('treats a missing or odd core count as one core', () => {
    expect(isolated(0)).toBe(1);
    expect(isolated(Number.NaN)).toBe(1);
  });
});
