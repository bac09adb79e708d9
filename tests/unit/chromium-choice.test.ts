import { describe, expect, it } from 'vitest';
import { chooseChromium, SYSTEM_CHROMIUM } from '../tools/chromium';

describe('chooseChromium (issue 12)', () => {
  const only =
    (...paths: string[]) =>
    (path: string) =>
      paths.includes(path);

  it('prefers the system Chromium, else Playwright’s own', () => {
    expect(chooseChromium('/pw/chrome', only(SYSTEM_CHROMIUM, '/pw/chrome'))).toEqual({
      found: true,
      executablePath: SYSTEM_CHROMIUM,
    });
    expect(chooseChromium('/pw/chrome', only('/pw/chrome'))).toEqual({
      found: true,
      executablePath: undefined,
    });
  });

  it('without either, says how to install one and what runs without it', () => {
    const choice = chooseChromium('/pw/chrome', only());
    expect(choice.found).toBe(false);
    if (choice.found) return;
    expect(choice.advice).toContain('npx playwright install chromium');
    expect(choice.advice).toContain('apt-get install chromium');
    expect(choice.advice).toContain('npm run test:unit');
  });
});
