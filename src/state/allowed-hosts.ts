/**
 * The origins the user allowed beyond the built-in model hosts (their self-hosted model servers).
 * Kept in localStorage, not IndexedDB, because the start-up script (`csp-bootstrap.js`) must read
 * them synchronously to write the page's Content Security Policy before anything else loads. A
 * policy cannot be loosened once the page has it, so every change takes effect on reload.
 */
import {
  ALLOWED_HOSTS_STORAGE_KEY,
  DEFAULT_MODEL_HOSTS,
  ORIGIN_PATTERN,
  originOf,
} from '../core/security/csp';
import type { ModelSpec } from '../engine/engine';

/** The user's origins, as the start-up script will read them: malformed entries are skipped. */
export function userAllowedHosts(): string[] {
  let stored: unknown;
  try {
    stored = JSON.parse(localStorage.getItem(ALLOWED_HOSTS_STORAGE_KEY) ?? '[]');
  } catch {
    return [];
  }
  if (!Array.isArray(stored)) return [];
  return stored.filter(
    (host): host is string => typeof host === 'string' && ORIGIN_PATTERN.test(host),
  );
}

/** Replaces the list (an import, a wipe); the caller reloads the page. */
export function setUserAllowedHosts(hosts: readonly string[]): void {
  const valid = [...new Set(hosts.filter((host) => ORIGIN_PATTERN.test(host)))];
  if (valid.length === 0) localStorage.removeItem(ALLOWED_HOSTS_STORAGE_KEY);
  else localStorage.setItem(ALLOWED_HOSTS_STORAGE_KEY, JSON.stringify(valid));
}

export function removeUserAllowedHost(origin: string): void {
  setUserAllowedHosts(userAllowedHosts().filter((host) => host !== origin));
}

/** Whether a built-in source (`https://host` or `https://*.host`) already admits `origin`. */
function coveredByDefaults(origin: string): boolean {
  return DEFAULT_MODEL_HOSTS.some(({ source }) => {
    if (source === origin) return true;
    const wildcard = /^(https?:\/\/)\*\.(.+)$/.exec(source);
    if (!wildcard) return false;
    const [, scheme = '', domain = ''] = wildcard;
    return origin.startsWith(scheme) && origin.endsWith(`.${domain}`);
  });
}

function originsOf(spec: ModelSpec): string[] {
  const urls = spec.engine === 'wllama' ? [spec.url] : [spec.modelUrl, spec.modelLibUrl];
  return urls.map(originOf).filter((origin): origin is string => origin !== null);
}

/**
 * Allows the origins a newly added model downloads from. Returns true when the list changed, in
 * which case the page must reload before the model can be fetched.
 */
export function allowHostsFor(spec: ModelSpec): boolean {
  const current = userAllowedHosts();
  const added = originsOf(spec).filter(
    (origin) => !coveredByDefaults(origin) && !current.includes(origin),
  );
  if (added.length === 0) return false;
  setUserAllowedHosts([...current, ...added]);
  return true;
}
