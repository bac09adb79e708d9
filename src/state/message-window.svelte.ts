import { liveQuery } from 'dexie';
import type { Message } from '../db';
import type { MessageReads } from './database-reads';
import { keepUnchangedRows } from './stable-rows';

/** Messages read at a time: a few screens' worth, so a page is read in a few milliseconds. */
export const MESSAGE_PAGE = 50;

/** The stretch of the conversation loaded, by `createdAt`, both ends inclusive. */
interface Range {
  /** `-Infinity` once the conversation's first message is loaded. */
  from: number;
  /** `null` while the window runs to the newest message, where new ones appear. */
  to: number | null;
}

interface Page {
  rows: Message[];
  hasOlder: boolean;
  hasNewer: boolean;
}

/**
 * The part of one conversation the page has loaded (issue 11): the newest page first, older and
 * newer pages as the user scrolls, or the page around a message an evidence link points at. A
 * live query watches only this stretch, so a reply saved every 200 ms re-reads a page, not a
 * conversation of thousands of messages, and a write elsewhere does not re-read it at all.
 *
 * Rows are kept in `$state.raw` and an unchanged row keeps its object, so a save of the
 * streaming reply changes one row and re-renders one message, not every field of every message.
 */
export class MessageWindow {
  readonly conversationId: string;
  readonly #reads: MessageReads;
  #rows = $state.raw<Message[]>([]);
  #hasOlder = $state(false);
  #hasNewer = $state(false);
  #prepended = $state(false);
  #loaded = $state(false);
  /** Null until the newest page has been read; then pinned, so new messages add to it. */
  #range: Range | null = null;
  #unsubscribe: (() => void) | null = null;
  /** A page is being added; scrolling asks again and again until it arrives. */
  #extending = false;
  #stopped = false;

  /** `around`: a message to open the conversation at, instead of its newest page. */
  constructor(reads: MessageReads, conversationId: string, around?: string) {
    this.#reads = reads;
    this.conversationId = conversationId;
    if (around === undefined) {
      this.#watch();
    } else {
      void this.showAround(around).then(
        (found) => {
          if (!found) this.#watch();
        },
        () => {
          this.#watch();
        },
      );
    }
  }

  /** The loaded messages, oldest first. */
  get rows(): Message[] {
    return this.#rows;
  }

  get hasOlder(): boolean {
    return this.#hasOlder;
  }

  /** The newest messages are not loaded: the user jumped back to an older one. */
  get hasNewer(): boolean {
    return this.#hasNewer;
  }

  /** The last change added rows before the first one: a list keeps its place from the end. */
  get prepended(): boolean {
    return this.#prepended;
  }

  /** The first page has been read. */
  get loaded(): boolean {
    return this.#loaded;
  }

  /** Adds the page of messages before the first loaded one. */
  async loadOlder(): Promise<void> {
    const first = this.#rows[0];
    if (this.#extending || !this.#hasOlder || !first || !this.#range) return;
    this.#extending = true;
    try {
      const older = await this.#reads.before(this.conversationId, first.createdAt, MESSAGE_PAGE);
      this.#range = { from: startOf(older), to: this.#range.to };
      this.#watch();
    } catch (error) {
      this.#extending = false;
      throw error;
    }
  }

  /** Adds the page of messages after the last loaded one, when the newest are not loaded. */
  async loadNewer(): Promise<void> {
    const last = this.#rows.at(-1);
    if (this.#extending || !this.#hasNewer || !last || !this.#range) return;
    this.#extending = true;
    try {
      const newer = await this.#reads.after(this.conversationId, last.createdAt, MESSAGE_PAGE + 1);
      this.#range = { from: this.#range.from, to: endOf(newer, MESSAGE_PAGE) };
      this.#watch();
    } catch (error) {
      this.#extending = false;
      throw error;
    }
  }

  /**
   * Loads the page around a message unless it is loaded already. Resolves to false when the
   * message is not in this conversation (then the window shows the newest page).
   */
  async showAround(messageId: string): Promise<boolean> {
    if (this.#rows.some((m) => m.id === messageId)) return true;
    const target = await this.#reads.message(messageId);
    if (target?.conversationId !== this.conversationId) return false;
    const half = Math.floor(MESSAGE_PAGE / 2);
    const [before, after] = await Promise.all([
      this.#reads.before(this.conversationId, target.createdAt, half),
      this.#reads.after(this.conversationId, target.createdAt, half + 1),
    ]);
    this.#range = {
      from: before.length < half ? -Infinity : startOf(before),
      to: endOf(after, half),
    };
    this.#watch();
    return true;
  }

  /** Back to the newest page, where a new message appears. */
  showNewest(): void {
    if (this.#range === null || this.#range.to === null) return;
    this.#range = null;
    this.#watch();
  }

  stop(): void {
    this.#stopped = true;
    this.#unsubscribe?.();
    this.#unsubscribe = null;
  }

  #watch(): void {
    if (this.#stopped) return;
    this.#unsubscribe?.();
    const subscription = liveQuery(() => this.#read()).subscribe({
      next: (page) => {
        this.#accept(page);
      },
      error: (error: unknown) => {
        this.#extending = false;
        console.error('Reading the conversation failed', error);
      },
    });
    this.#unsubscribe = () => {
      subscription.unsubscribe();
    };
  }

  async #read(): Promise<Page> {
    const { conversationId } = this;
    const range = this.#range;
    const rows = range
      ? await this.#reads.inRange(conversationId, range.from, range.to)
      : await this.#reads.newest(conversationId, MESSAGE_PAGE);
    const first = rows[0];
    const last = rows.at(-1);
    const [older, newer] = await Promise.all([
      first && range?.from !== -Infinity
        ? this.#reads.before(conversationId, first.createdAt, 1)
        : [],
      last && range && range.to !== null
        ? this.#reads.after(conversationId, last.createdAt, 1)
        : [],
    ]);
    return { rows, hasOlder: older.length > 0, hasNewer: newer.length > 0 };
  }

  #accept(page: Page): void {
    if (this.#stopped) return;
    // The newest page is pinned where it starts: later messages join it, none slide out.
    this.#range ??= { from: page.hasOlder ? startOf(page.rows) : -Infinity, to: null };
    const previousFirst = this.#rows[0];
    this.#prepended =
      previousFirst !== undefined && page.rows.findIndex((m) => m.id === previousFirst.id) > 0;
    this.#rows = keepUnchangedRows(this.#rows, page.rows);
    this.#hasOlder = page.hasOlder;
    this.#hasNewer = page.hasNewer;
    this.#loaded = true;
    this.#extending = false;
  }
}

/** Where a window starting with these rows begins: the conversation's start when there are none. */
function startOf(rows: Message[]): number {
  return rows[0]?.createdAt ?? -Infinity;
}

/**
 * Where a window ends that takes `count` of these following rows: open to the newest message
 * when they are all there is.
 */
function endOf(following: Message[], count: number): number | null {
  if (following.length <= count) return null;
  return following[count - 1]?.createdAt ?? null;
}
