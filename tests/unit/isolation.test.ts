import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { ISOLATION_HEADERS, isolationServiceWorkerScript } from '../../src/core/security/isolation';

type Listener = (event: FakeFetchEvent) => void;

/** Just enough of a FetchEvent: Workbox calls `respondWith` once, synchronously. */
class FakeFetchEvent {
  answered: Promise<Response> | null = null;
  constructor(readonly request: { mode: string }) {}
  respondWith(response: Response | Promise<Response>): void {
    this.answered = Promise.resolve(response);
  }
}

/** Runs the generated script against a fake worker scope, then a stand-in for Workbox. */
function serviceWorker(answer: () => Response) {
  const listeners: Listener[] = [];
  const scope = {
    addEventListener: (type: string, listener: Listener) => {
      if (type === 'fetch') listeners.push(listener);
    },
  };
  runInNewContext(isolationServiceWorkerScript(), { self: scope, Headers, Response });
  // Workbox registers its fetch listener after the imported script, as in sw.js.
  listeners.push((event) => {
    event.respondWith(answer());
  });
  return async (mode: string): Promise<Response | null> => {
    const event = new FakeFetchEvent({ mode });
    for (const listener of listeners) listener(event);
    return event.answered;
  };
}

describe('the service worker isolation script', () => {
  it('adds COOP and COEP to the page Workbox answers, keeping its own headers and body', async () => {
    const fetchAs = serviceWorker(
      () =>
        new Response('<html>cached</html>', {
          headers: { 'Content-Security-Policy': "default-src 'self'", 'Content-Type': 'text/html' },
        }),
    );
    const page = await fetchAs('navigate');
    expect(page?.headers.get('Cross-Origin-Opener-Policy')).toBe('same-origin');
    expect(page?.headers.get('Cross-Origin-Embedder-Policy')).toBe('require-corp');
    expect(page?.headers.get('Content-Security-Policy')).toBe("default-src 'self'");
    expect(await page?.text()).toBe('<html>cached</html>');
  });

  it('leaves other requests as Workbox answered them', async () => {
    const fetchAs = serviceWorker(() => new Response('console.log(1)'));
    const script = await fetchAs('cors');
    expect(script?.headers.get('Cross-Origin-Embedder-Policy')).toBeNull();
  });

  it('sends the same headers as the servers', () => {
    expect(isolationServiceWorkerScript()).toContain(JSON.stringify(ISOLATION_HEADERS));
  });
});
