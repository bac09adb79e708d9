/**
 * Every open tab runs its own assistant worker on the same database. Before one tab imports or
 * erases, the others must stop writing too: a BroadcastChannel tells them, and the Web Locks that
 * replies and profile updates hold tell when they have. Afterwards they reload, as the tab that
 * replaced the data does, since everything they show was read from the old data.
 */
import type { DataApi } from '../worker/contract';
import { OPTIMIZER_LOCK, REPLY_LOCK_PREFIX } from '../worker/lock-names';

const DATA_CHANNEL = 'persona-data';

/** `replacing`: stop; `kept`: the import failed and nothing changed; `replaced`: reload. */
export type DataAnnouncement = 'replacing' | 'kept' | 'replaced';

/** How long another tab may take to stop before the import or erase goes ahead anyway. */
export const OTHER_TABS_TIMEOUT_MS = 10_000;

/**
 * One channel per page for sending and receiving: a channel never receives its own messages, so
 * the tab that announces does not react to itself.
 */
let pageChannel: BroadcastChannel | null = null;
const channel = (): BroadcastChannel | null => {
  if (typeof BroadcastChannel === 'undefined') return null;
  pageChannel ??= new BroadcastChannel(DATA_CHANNEL);
  return pageChannel;
};

export function announce(message: DataAnnouncement): void {
  channel()?.postMessage(message);
}

/** Resolves once no tab holds a reply or profile-update lock, or after `timeoutMs`. */
export async function untilOtherTabsStopped(timeoutMs = OTHER_TABS_TIMEOUT_MS): Promise<void> {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks;
  if (!locks) return;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const held = (await locks.query()).held ?? [];
    const busy = held.some(
      ({ name = '' }) => name === OPTIMIZER_LOCK || name.startsWith(REPLY_LOCK_PREFIX),
    );
    if (!busy || Date.now() > deadline) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Makes this tab follow another tab's import or erase: its worker stops when asked, takes work
 * again when the other tab kept the data, and the page reloads once the data was replaced.
 * Returns a function that stops following.
 */
export function followDataReplacement(
  worker: { readonly api: { data: DataApi } },
  reload: () => void,
): () => void {
  const shared = channel();
  if (!shared) return () => undefined;
  const onMessage = (event: MessageEvent<unknown>) => {
    if (event.data === 'replacing') void worker.api.data.quiesce();
    else if (event.data === 'kept') void worker.api.data.resume();
    else if (event.data === 'replaced') reload();
  };
  shared.addEventListener('message', onMessage);
  return () => {
    shared.removeEventListener('message', onMessage);
  };
}
