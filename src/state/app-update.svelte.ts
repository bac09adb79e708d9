/**
 * The service worker's life as the user sees it: "Ready to work offline" once the first install
 * has precached the app, and "Update available" when a new version is waiting. A new version
 * never takes over by itself (the worker is built with `registerType: 'prompt'`, so no
 * `skipWaiting` without a message): swapping code under a running chat could break a reply
 * mid-stream, so only the user's Reload activates it.
 */

export type AppUpdateStatus =
  /** Nothing to say: no service worker support, still registering, or up to date. */
  | 'idle'
  /** The first install finished: the whole app is cached and opens without a network. */
  | 'offline-ready'
  /** A new version is installed and waits for the user to reload. */
  | 'update-available'
  /** Another tab activated a new version: this one still runs the old code until it reloads. */
  | 'updated-elsewhere'
  /** The user asked to reload; the page goes away as soon as the new version is in control. */
  | 'reloading';

/** The parts of `navigator.serviceWorker` used here, so tests can stand in for the browser. */
export interface ServiceWorkerHost {
  readonly controller: unknown;
  register(url: string, options: { scope: string }): Promise<ServiceWorkerRegistration>;
  addEventListener(type: 'controllerchange', listener: () => void): void;
}

export interface AppUpdateOptions {
  /** The worker script, relative to the app's base URL. */
  scriptUrl: string;
  scope: string;
  host?: ServiceWorkerHost | null;
  reloadPage?: () => void;
  /** How often an open tab asks the server for a new version (the browser also checks on load). */
  checkEveryMs?: number;
}

/** The message Workbox's generated worker answers with `skipWaiting()`. */
const SKIP_WAITING = { type: 'SKIP_WAITING' } as const;
const HOUR = 60 * 60 * 1000;

export class AppUpdate {
  #status = $state<AppUpdateStatus>('idle');
  #registration: ServiceWorkerRegistration | null = null;
  #reloadRequested = false;
  #reloading = false;
  readonly #options: Required<Omit<AppUpdateOptions, 'host'>> & { host: ServiceWorkerHost | null };

  constructor(options: AppUpdateOptions) {
    this.#options = {
      host: options.host === undefined ? defaultHost() : options.host,
      reloadPage:
        options.reloadPage ??
        (() => {
          location.reload();
        }),
      checkEveryMs: options.checkEveryMs ?? HOUR,
      scriptUrl: options.scriptUrl,
      scope: options.scope,
    };
  }

  get status(): AppUpdateStatus {
    return this.#status;
  }

  /** Registers the service worker and watches for installs and new versions. */
  async start(): Promise<void> {
    const host = this.#options.host;
    if (!host) return;
    // Another tab's Reload activates the new version here too (one worker serves every tab):
    // this page keeps its old code, whose not-yet-loaded chunks the new cache no longer holds.
    host.addEventListener('controllerchange', () => {
      if (this.#reloadRequested) this.#reload();
      else if (this.#status !== 'offline-ready') this.#status = 'updated-elsewhere';
    });
    let registration: ServiceWorkerRegistration;
    try {
      registration = await host.register(this.#options.scriptUrl, { scope: this.#options.scope });
    } catch (error) {
      // The app works without it (online only); a browser may refuse, e.g. in private windows.
      console.warn('Persona: the offline service worker could not be registered:', error);
      return;
    }
    this.#registration = registration;
    // A version installed on an earlier visit (or by another tab) may already be waiting.
    if (registration.waiting && registration.active) this.#status = 'update-available';
    registration.addEventListener('updatefound', () => {
      const installing = registration.installing;
      if (installing) this.#watch(installing, registration);
    });
    if (registration.installing) this.#watch(registration.installing, registration);
    if (this.#options.checkEveryMs > 0) {
      setInterval(() => {
        registration.update().catch(() => undefined);
      }, this.#options.checkEveryMs);
    }
  }

  /** Activates the waiting version, then reloads into it. Only ever on the user's click. */
  reload(): void {
    const waiting = this.#registration?.waiting;
    if (this.#status !== 'update-available' || !waiting) {
      this.#reload();
      return;
    }
    this.#status = 'reloading';
    this.#reloadRequested = true;
    // A page loaded with the cache bypassed (shift-reload) is not controlled and never sees a
    // controllerchange: the waiting worker reaching `activated` reloads it instead.
    waiting.addEventListener('statechange', () => {
      if (waiting.state === 'activated') this.#reload();
    });
    waiting.postMessage(SKIP_WAITING);
  }

  dismiss(): void {
    if (this.#status === 'offline-ready') this.#status = 'idle';
  }

  #watch(worker: ServiceWorker, registration: ServiceWorkerRegistration): void {
    worker.addEventListener('statechange', () => {
      if (worker.state !== 'installed') return;
      // With an active worker already there, this one is a new version that now waits; without,
      // it is the first install, and its precache (the whole app) is complete.
      if (registration.active) this.#status = 'update-available';
      else if (this.#status === 'idle') this.#status = 'offline-ready';
    });
  }

  #reload(): void {
    this.#status = 'reloading';
    // Both the controllerchange and the activated state may come: reload once.
    if (this.#reloading) return;
    this.#reloading = true;
    this.#options.reloadPage();
  }
}

function defaultHost(): ServiceWorkerHost | null {
  return typeof navigator !== 'undefined' && 'serviceWorker' in navigator
    ? navigator.serviceWorker
    : null;
}
