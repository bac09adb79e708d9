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
 * - up to 4 logical cores: one fewer (at least 1), leaving a core for the page, the browser and
 *   the rest of the machine. llama.cpp's threads wait for each other at every step, so when
 *   anything else wants a core, one stalled thread holds up the rest: on a shared 2-core machine
 *   `bench:cpu` measured 2 threads decoding 5 to 15 times slower than 1 (native llama.cpp alike),
 *   and the end-to-end suite timed out;
 * - more: half, at least 4, at most `MAX_WASM_THREADS`. Large counts are mostly SMT siblings,
 *   which llama.cpp does not gain from (its own default is the physical core count).
 */
export function chooseWasmThreads(environment: ThreadEnvironment): number {
  if (!environment.crossOriginIsolated) return 1;
  const cores = Math.max(1, Math.floor(environment.hardwareConcurrency) || 1);
  if (cores <= 4) return Math.max(1, cores - 1);
  return Math.min(MAX_WASM_THREADS, Math.max(4, Math.floor(cores / 2)));
}
