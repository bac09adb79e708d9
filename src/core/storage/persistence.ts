/**
 * When to ask the browser for persistent storage. Without it a browser may evict the whole site
 * under storage pressure: downloaded models, and the conversations and profile with them.
 * Asking right after the first model download ties the request to the moment the user has
 * something worth keeping (and Chromium weighs such engagement when it decides).
 */

/** What the browser says about this site's storage. */
export type PersistenceStatus = 'persisted' | 'not-persisted' | 'unsupported';

export interface PersistenceFacts {
  status: PersistenceStatus;
  /** Persona asked on its own before, in this browser: it asks by itself only once. */
  askedBefore: boolean;
  /** A model that was not cached before this load is cached now. */
  downloadedModel: boolean;
}

/** Whether to call `navigator.storage.persist()` without the user pressing a button. */
export function shouldAskForPersistence(facts: PersistenceFacts): boolean {
  return facts.status === 'not-persisted' && !facts.askedBefore && facts.downloadedModel;
}

/** A model counts as downloaded when it is cached after its load and was not before. */
export function isNewDownload(cachedBefore: boolean, cachedAfter: boolean): boolean {
  return !cachedBefore && cachedAfter;
}
