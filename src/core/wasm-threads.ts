/**
 * How many threads llama.cpp gets on WebAssembly. Pure policy, measured with `npm run bench:cpu`.
 */

/** Beyond this, decoding a small model is bound by memory bandwidth, not by cores. */
export const MAX_WASM_THREADS = 8;

export interface ThreadEnvironment {
  /** `navigator.hardwareConcurrency`: logical cores, SMT siblings included. */
  hardwareConcurrency: number;
  /** Without isolation there is no `SharedArrayBuffer`, so wasm threads cannot exist. */
  crossOriginIsolated: boolean;
}

/**
 * - not isolated: 1, the single-thread build is all there is;
 * - up to 2 logical cores: all of them. The page needs little while a reply streams (it gets
 *   batches, `bench:stream`), and one thread would leave half of such a machine idle. The risk:
 *   llama.cpp's threads wait for each other at every step, so when other programs keep both
 *   cores busy, 2 threads can be far slower than 1 (native llama.cpp alike; `bench:cpu` on a
 *   shared, overloaded 2-core VM measured it);
 * - 3 or 4: one fewer, leaving a core for the page, the browser and the rest of the machine;
 * - more: half, at least 4, at most `MAX_WASM_THREADS`. Large counts are mostly SMT siblings,
 *   which llama.cpp does not gain from (its own default is the physical core count).
 */
export function chooseWasmThreads(environment: ThreadEnvironment): number {
  if (!environment.crossOriginIsolated) return 1;
  const cores = Math.max(1, Math.floor(environment.hardwareConcurrency) || 1);
  if (cores <= 2) return cores;
  if (cores <= 4) return cores - 1;
  return Math.min(MAX_WASM_THREADS, Math.max(4, Math.floor(cores / 2)));
}
