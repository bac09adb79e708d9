/** `npm run test:e2e` starts here: stop early, saying what to do, when no Chromium is installed. */
import { chromium } from '@playwright/test';
import { chooseChromium } from './chromium';

const choice = chooseChromium(chromium.executablePath());
if (!choice.found) {
  console.error(choice.advice);
  process.exit(1);
}
