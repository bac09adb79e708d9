import { liveQuery } from 'dexie';

/**
 * A Dexie live query as a rune-backed value: re-runs whenever the tables it read change, in
 * this tab or another. Call `stop()` when its owner goes away.
 *
 * The value is replaced whole, never changed in place, so it is held raw: a deep proxy made
 * every field of every row a signal (issue 11: 2,000 conversations, 500 revisions).
 */
export class LiveValue<T> {
  #value = $state.raw<T>() as T;
  #error = $state<unknown>(null);
  #unsubscribe: () => void;

  constructor(query: () => Promise<T>, initial: T) {
    this.#value = initial;
    const subscription = liveQuery(query).subscribe({
      next: (value) => {
        this.#value = value;
        this.#error = null;
      },
      error: (error: unknown) => {
        this.#error = error;
      },
    });
    this.#unsubscribe = () => {
      subscription.unsubscribe();
    };
  }

  get value(): T {
    return this.#value;
  }

  get error(): unknown {
    return this.#error;
  }

  stop(): void {
    this.#unsubscribe();
  }
}
