import { AppError } from '../core/errors';

/**
 * Who may use the model, in order: a reply the user waits for, a model load or unload the user
 * asked for, the profile optimizer, then the PersonaBench lab. `maintenance` (an import or erase
 * replacing the data) outranks everything and holds the engine until the data is back.
 */
export const LEASE_PRIORITY = {
  lab: 0,
  learning: 1,
  model: 2,
  chat: 3,
  maintenance: 4,
} as const;

export type LeaseRole = keyof typeof LEASE_PRIORITY;

/** The right to use the engine until `release`. */
export interface Lease {
  readonly role: LeaseRole;
  /**
   * Aborted when someone who outranks the holder asks for the engine: the holder stops its
   * model call, puts its work back where it came from (never fails it), and releases.
   */
  readonly signal: AbortSignal;
  /** Gives the engine back; idempotent, so a `finally` may always call it. */
  release(): void;
}

export interface AcquireOptions {
  /**
   * Wait for the engine (default). When false, the call resolves null at once unless the engine
   * is free or held by someone it outranks, who is then asked to yield: background work never
   * queues behind work that matters more.
   */
  wait?: boolean;
  /**
   * Ask every holder to yield, whatever its rank: a model load or unload replaces the engine
   * under a reply too (the reply ends as stopped, with its text).
   */
  displace?: boolean;
  /** Gives up waiting: the call rejects with `aborted`. */
  signal?: AbortSignal;
}

interface Holder {
  role: LeaseRole;
  controller: AbortController;
}

interface Waiter {
  role: LeaseRole;
  displace: boolean;
  grant: (lease: Lease) => void;
  reject: (error: unknown) => void;
}

/**
 * One engine, shared by the chat, model loads, the optimizer and the lab, with one rule for all
 * of them (issue 9): at most one holder; a newcomer that outranks it asks it to yield through its
 * lease's signal; the engine goes to the highest-ranked waiter (first come within a rank) only
 * when the holder releases it. Releasing is the only signal that the engine is free.
 */
export class EngineLease {
  #holder: Holder | null = null;
  readonly #waiting: Waiter[] = [];
  readonly #onRelease = new Set<(role: LeaseRole) => void>();

  /** The role that holds the engine now, or null when it is free. */
  get holder(): LeaseRole | null {
    return this.#holder?.role ?? null;
  }

  acquire(role: LeaseRole, options: AcquireOptions & { wait: false }): Promise<Lease | null>;
  acquire(role: LeaseRole, options?: AcquireOptions): Promise<Lease>;
  acquire(role: LeaseRole, options: AcquireOptions = {}): Promise<Lease | null> {
    const { wait = true, displace = false, signal } = options;
    if (signal?.aborted) return Promise.reject(aborted());
    const rank = LEASE_PRIORITY[role];
    if (!this.#holder && this.#waiting.length === 0) return Promise.resolve(this.#grant(role));
    if (!wait) {
      const holderRank = this.#holder ? LEASE_PRIORITY[this.#holder.role] : -1;
      const outranked = this.#waiting.some((w) => LEASE_PRIORITY[w.role] >= rank);
      if (holderRank >= rank || outranked) return Promise.resolve(null);
    }
    return new Promise<Lease>((resolve, reject) => {
      const waiter: Waiter = { role, displace, grant: resolve, reject };
      // Highest rank first; within a rank, first come first served.
      const at = this.#waiting.findIndex((w) => LEASE_PRIORITY[w.role] < rank);
      this.#waiting.splice(at < 0 ? this.#waiting.length : at, 0, waiter);
      signal?.addEventListener(
        'abort',
        () => {
          const index = this.#waiting.indexOf(waiter);
          if (index < 0) return;
          this.#waiting.splice(index, 1);
          reject(aborted());
        },
        { once: true },
      );
      this.#askToYield();
    });
  }

  /** Calls `listener` with the role of every holder that releases the engine. */
  onRelease(listener: (role: LeaseRole) => void): () => void {
    this.#onRelease.add(listener);
    return () => this.#onRelease.delete(listener);
  }

  #askToYield(): void {
    const holder = this.#holder;
    const first = this.#waiting[0];
    if (!holder || !first) return;
    if (first.displace || LEASE_PRIORITY[first.role] > LEASE_PRIORITY[holder.role]) {
      holder.controller.abort(
        new AppError('aborted', 'The engine was needed for something more urgent.'),
      );
    }
  }

  #grant(role: LeaseRole): Lease {
    const holder: Holder = { role, controller: new AbortController() };
    this.#holder = holder;
    let released = false;
    return {
      role,
      signal: holder.controller.signal,
      release: () => {
        if (released) return;
        released = true;
        this.#release(holder);
      },
    };
  }

  #release(holder: Holder): void {
    if (this.#holder !== holder) return;
    this.#holder = null;
    const next = this.#waiting.shift();
    if (next) {
      next.grant(this.#grant(next.role));
      // A waiter that outranks the new holder asks it to yield at once.
      this.#askToYield();
    }
    for (const listener of this.#onRelease) listener(holder.role);
  }
}

const aborted = () => new AppError('aborted', 'Stopped waiting for the model.');
