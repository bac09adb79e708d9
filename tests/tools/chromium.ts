/**
 * Which Chromium the end-to-end tests drive, and what to say when there is none: without one,
 * Playwright fails deep in its launch with an error that does not say what to do (issue 12).
 */
import { existsSync } from 'node:fs';

/** Debian's Chromium, which CI installs. */
export const SYSTEM_CHROMIUM = '/usr/bin/chromium';

export type ChromiumChoice =
  { found: true; executablePath: string | undefined } | { found: false; advice: string };

/**
 * The system Chromium when present (`executablePath` set), else Playwright's own download when
 * it was installed (`executablePath` undefined: Playwright finds it), else what to do.
 */
export function chooseChromium(
  playwrightChromium: string,
  exists: (path: string) => boolean = existsSync,
): ChromiumChoice {
  if (exists(SYSTEM_CHROMIUM)) return { found: true, executablePath: SYSTEM_CHROMIUM };
  if (playwrightChromium !== '' && exists(playwrightChromium)) {
    return { found: true, executablePath: undefined };
  }
  return {
    found: false,
    advice: [
      'The end-to-end tests need Chromium, and none was found:',
      `  - not at ${SYSTEM_CHROMIUM} (Debian/Ubuntu: sudo apt-get install chromium), and`,
      `  - not Playwright's own${playwrightChromium ? ` (${playwrightChromium})` : ''}.`,
      'Install one, e.g. `npx playwright install chromium` (downloads about 150 MB), then run',
      '`npm test` again. `npm run check`, `npm run lint` and `npm run test:unit` need no browser.',
    ].join('\n'),
  };
}
