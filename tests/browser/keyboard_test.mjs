// The page with the keyboard only: Tab reaches the labelled file picker, Space opens it, the result
// arrives, and Tab reaches the threshold slider, which the arrow keys move.
//   node keyboard_test.mjs --binary dermsim --run RUN --image IMAGE.jpg
import { formatThreshold } from '../../web/src/roc.js';
import { check, parseArgs, runTest, withPage, withServe } from './browser.mjs';

const args = parseArgs(['binary', 'run', 'image']);

/** Presses Tab until the element with `id` has the focus; returns how many presses it took. */
async function tabTo(page, id) {
  for (let presses = 1; presses <= 20; ++presses) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(() => document.activeElement && document.activeElement.id) === id) return presses;
  }
  throw new Error(`check failed: 20 presses of Tab never reached #${id}`);
}

async function checkKeyboardOnly(page, errors) {
  // Listening first: Playwright intercepts the file dialog only once the listener is installed.
  const chooserOpened = page.waitForEvent('filechooser');
  await page.waitForSelector('#threshold-explorer input[type=range]');

  await tabTo(page, 'image-input');
  const label = await page.evaluate(() => [...document.activeElement.labels].map((l) => l.textContent).join());
  check(/choose a dermoscopic image/i.test(label), `the file picker is labelled ("${label}")`);
  await page.keyboard.press('Space');
  await (await chooserOpened).setFiles(args.image);
  await page.waitForSelector('#result:not([hidden])');
  await page.waitForFunction(() => document.querySelectorAll('#neighbours li img[alt]').length === 8);

  await tabTo(page, 'threshold-explorer-slider');
  const readout = '#threshold-explorer .readout';
  const before = await page.textContent(readout);
  await page.keyboard.press('Home');
  const atHome = await page.textContent(readout);
  const highest = await page.evaluate(async () => (await (await fetch('/api/model')).json()).validation_roc.threshold[0]);
  check(atHome !== before && atHome.startsWith(`Threshold ${formatThreshold(highest)}:`),
        `Home moves the slider to the highest threshold ${highest} ("${before}" -> "${atHome}")`);
  check(errors.length === 0, `console errors: ${errors.join('; ')}`);
}

await runTest('keyboard_test', () => withServe(args.binary, args.run, [],
  (server) => withPage(server.url, checkKeyboardOnly)));
