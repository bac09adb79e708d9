/**
 * Reloads the page and reopens a given view afterwards. Needed where a change only takes effect in
 * a fresh page: the Content Security Policy is fixed for a page's lifetime.
 */
export type StartView = 'models' | 'privacy';

const KEY = 'persona.startView';

export function reloadInto(view: StartView): void {
  sessionStorage.setItem(KEY, view);
  location.reload();
}

/** The view a reload asked for, once: the next start opens the usual view again. */
export function takeStartView(): StartView | null {
  const view = sessionStorage.getItem(KEY);
  sessionStorage.removeItem(KEY);
  return view === 'models' || view === 'privacy' ? view : null;
}
