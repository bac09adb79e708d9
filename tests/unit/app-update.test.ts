import { describe, expect, it, vi } from 'vitest';
import { AppUpdate } from '../../src/state/app-update.svelte';

/** A service worker as far as the page sees one: a state and a message port. */
class FakeWorker extends EventTarget {
  state: ServiceWorkerState = 'installing';
  readonly messages: unknown[] = [];
  postMessage(message: unknown): void {
    this.messages.push(message);
  }
  moveTo(state: ServiceWorkerState): void {
    this.state = state;
    this.dispatchEvent(new Event('statechange'));
  }
}

class FakeRegistration extends EventTarget {
  installing: FakeWorker | null = null;
  waiting: FakeWorker | null = null;
  active: FakeWorker | null = null;
  update(): Promise<void> {
    return Promise.resolve();
  }
  /** The browser found a new script: it starts installing. */
  found(): FakeWorker {
    const worker = new FakeWorker();
    this.installing = worker;
    this.dispatchEvent(new Event('updatefound'));
    return worker;
  }
  /** The installing worker finished its install (precache complete). */
  installed(worker: FakeWorker): void {
    this.installing = null;
    if (this.active) this.waiting = worker;
    worker.moveTo('installed');
  }
}

class FakeHost extends EventTarget {
  controller: FakeWorker | null = null;
  constructor(
    readonly registration: FakeRegistration,
    private readonly failure: Error | null = null,
  ) {
    super();
  }
  register(): Promise<ServiceWorkerRegistration> {
    if (this.failure) return Promise.reject(this.failure);
    return Promise.resolve(this.registration as unknown as ServiceWorkerRegistration);
  }
  /** Another worker took control of this page. */
  controllerChanged(worker: FakeWorker): void {
    this.controller = worker;
    this.dispatchEvent(new Event('controllerchange'));
  }
}

async function started(registration = new FakeRegistration()) {
  const host = new FakeHost(registration);
  const reloadPage = vi.fn();
  const update = new AppUpdate({
    scriptUrl: '/sw.js',
    scope: '/',
    host: host,
    reloadPage,
    checkEveryMs: 0,
  });
  await update.start();
  return { update, host, registration, reloadPage };
}

/** A registration whose version 1 is active and controls the page. */
function runningVersionOne(): FakeRegistration {
  const registration = new FakeRegistration();
  registration.active = new FakeWorker();
  registration.active.state = 'activated';
  return registration;
}

describe('AppUpdate', () => {
  it('says "ready to work offline" once the first install has precached the app', async () => {
    const { update, registration } = await started();
    expect(update.status).toBe('idle');
    const worker = registration.found();
    expect(update.status).toBe('idle');
    registration.installed(worker);
    expect(update.status).toBe('offline-ready');
    update.dismiss();
    expect(update.status).toBe('idle');
  });

  it('offers a new version without activating it, and activates it only on Reload', async () => {
    const { update, host, registration, reloadPage } = await started(runningVersionOne());
    const next = registration.found();
    registration.installed(next);
    expect(update.status).toBe('update-available');
    expect(next.messages).toEqual([]);
    expect(reloadPage).not.toHaveBeenCalled();

    update.reload();
    expect(update.status).toBe('reloading');
    expect(next.messages).toEqual([{ type: 'SKIP_WAITING' }]);
    // The page goes only once the new version is in control, and only once.
    expect(reloadPage).not.toHaveBeenCalled();
    next.moveTo('activating');
    host.controllerChanged(next);
    next.moveTo('activated');
    expect(reloadPage).toHaveBeenCalledTimes(1);
  });

  it('offers a version that was already waiting when the page opened', async () => {
    const registration = runningVersionOne();
    registration.waiting = new FakeWorker();
    registration.waiting.state = 'installed';
    const { update } = await started(registration);
    expect(update.status).toBe('update-available');
  });

  it('never reloads when another tab activated a new version: it says so instead', async () => {
    const { update, host, registration, reloadPage } = await started(runningVersionOne());
    const next = registration.found();
    registration.installed(next);
    host.controllerChanged(next);
    expect(update.status).toBe('updated-elsewhere');
    expect(reloadPage).not.toHaveBeenCalled();
    update.reload();
    expect(reloadPage).toHaveBeenCalledTimes(1);
  });

  it('keeps working without a service worker when registration fails or is unsupported', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const host = new FakeHost(new FakeRegistration(), new Error('SecurityError'));
    const failing = new AppUpdate({
      scriptUrl: '/sw.js',
      scope: '/',
      host: host,
      checkEveryMs: 0,
    });
    await expect(failing.start()).resolves.toBeUndefined();
    expect(failing.status).toBe('idle');
    expect(warn).toHaveBeenCalledOnce();
    warn.mockRestore();

    const unsupported = new AppUpdate({ scriptUrl: '/sw.js', scope: '/', host: null });
    await unsupported.start();
    expect(unsupported.status).toBe('idle');
  });
});
