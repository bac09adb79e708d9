/**
 * The service worker's precache (Workbox names it `workbox-precache-v2-<scope>`) holds the app's
 * own code, not the user's data. Erasing everything keeps it: Persona must still open without a
 * network afterwards, and Workbox refills that cache only when a new version installs.
 */
export function isAppShellCache(cacheName: string): boolean {
  return cacheName.startsWith('workbox-precache-');
}
