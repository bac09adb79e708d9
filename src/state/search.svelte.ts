import type { SearchHit } from '../worker/contract';
import type { AssistantClient } from './assistant-client';

/** Wait after the last keystroke before searching: one query per pause, not per letter. */
export const SEARCH_DEBOUNCE_MS = 150;
/** While older messages are being indexed, the search is asked again this often. */
export const INDEXING_REFRESH_MS = 1_000;

/** The search box over every conversation: what is typed and what the worker found for it. */
export class SearchState {
  readonly #client: AssistantClient;
  readonly #debounceMs: number;
  #text = $state('');
  #hits = $state.raw<SearchHit[]>([]);
  /** The text the hits answer; differs from `text` while a search is pending. */
  #answered = $state('');
  #indexing = $state(false);
  #failed = $state(false);
  #timer: ReturnType<typeof setTimeout> | null = null;
  /** Answers arrive out of order when typing is fast: only the latest request's counts. */
  #request = 0;

  constructor(client: AssistantClient, debounceMs = SEARCH_DEBOUNCE_MS) {
    this.#client = client;
    this.#debounceMs = debounceMs;
  }

  get text(): string {
    return this.#text;
  }

  get active(): boolean {
    return this.#text.trim() !== '';
  }

  get hits(): SearchHit[] {
    return this.#hits;
  }

  /** Whether the hits shown answer what is typed now. */
  get settled(): boolean {
    return this.#answered === this.#text;
  }

  /** Older messages are still being indexed: some may be missing. */
  get indexing(): boolean {
    return this.#indexing;
  }

  get failed(): boolean {
    return this.#failed;
  }

  setText(text: string): void {
    this.#text = text;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    if (text.trim() === '') {
      this.#show(++this.#request, text, []);
      return;
    }
    this.#schedule(text, this.#debounceMs);
  }

  #schedule(text: string, afterMs: number): void {
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#run(text);
    }, afterMs);
  }

  clear(): void {
    this.setText('');
  }

  async #run(text: string): Promise<void> {
    const request = ++this.#request;
    try {
      const results = await this.#client.api.search.query(text);
      if (request !== this.#request) return;
      this.#indexing = results.indexing;
      this.#show(request, text, results.hits);
      // What is typed stays; the index grows under it, so results fill in as it does.
      if (results.indexing) this.#schedule(text, INDEXING_REFRESH_MS);
    } catch (error) {
      console.error('Persona: the search failed.', error);
      if (request === this.#request) this.#failed = true;
      this.#show(request, text, []);
    }
  }

  #show(request: number, text: string, hits: SearchHit[]): void {
    if (request !== this.#request) return;
    if (hits.length > 0 || text.trim() === '') this.#failed = false;
    this.#hits = hits;
    this.#answered = text;
  }
}
