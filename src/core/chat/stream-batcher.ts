/**
 * Collects streamed text and hands it on at most once per tick of `schedule` (a frame), so the
 * worker posts one message per frame instead of one per token.
 */
export type Schedule = (run: () => void) => () => void;

export class StreamBatcher {
  #pending = '';
  #cancel: (() => void) | null = null;
  readonly #flushTo: (text: string) => void;
  readonly #schedule: Schedule;

  constructor(flushTo: (text: string) => void, schedule: Schedule) {
    this.#flushTo = flushTo;
    this.#schedule = schedule;
  }

  push(text: string): void {
    if (text === '') return;
    this.#pending += text;
    this.#cancel ??= this.#schedule(() => {
      this.#cancel = null;
      this.flush();
    });
  }

  /** Sends whatever is pending now; call it before reporting the end of a stream. */
  flush(): void {
    if (this.#cancel) {
      this.#cancel();
      this.#cancel = null;
    }
    if (this.#pending === '') return;
    const text = this.#pending;
    this.#pending = '';
    this.#flushTo(text);
  }
}

/**
 * Two frames at 60 Hz. Text still reads as continuous, and each batch re-renders the reply's
 * Markdown on the main thread, so halving the batches left more CPU to the engine on a two-core
 * machine (`npm run bench:stream`: app/raw 0.935 at 16 ms, 0.966 to 1.02 at 33 ms). A timer, as
 * workers have no requestAnimationFrame in every browser.
 */
export const frameSchedule: Schedule = (run) => {
  const timer = setTimeout(run, 33);
  return () => {
    clearTimeout(timer);
  };
};
