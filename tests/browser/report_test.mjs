// report.html in chromium, opened as a file with no server: every chart must have rendered (the
// static SVG plots and the interactive threshold explorer and embedding map of web/src/report.js),
// the console stays clean and nothing is fetched from anywhere.
//   node report_test.mjs --report RUN/report.html --out DIR
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chartPixels, check, parseArgs, runTest, withPage } from './browser.mjs';

const args = parseArgs(['report', 'out']);

async function checkReport(page, errors) {
  check(await page.$('#report-data'), 'the report carries its data blob');

  const svgs = await page.$$eval('svg', (all) => all.map((svg) => svg.querySelectorAll('path, polyline, circle').length));
  check(svgs.length >= 3 && svgs.every((marks) => marks > 0), `static charts drawn (marks per SVG: ${svgs})`);

  await page.waitForSelector('#threshold-explorer canvas');
  const roc = await chartPixels(page, '#threshold-explorer');
  check(roc.blue > 200, `threshold explorer drew the ROC (${JSON.stringify(roc)})`);
  const readout = '#threshold-explorer .readout';
  const before = await page.textContent(readout);
  await page.focus('#threshold-explorer input[type=range]');
  for (let i = 0; i < 5; ++i) await page.keyboard.press('ArrowLeft');
  const after = await page.textContent(readout);
  check(/sensitivity \d+ %, specificity \d+ %/.test(after) && after !== before,
        `the slider moves the operating point ("${before}" -> "${after}")`);

  const map = await chartPixels(page, '#embedding-map');
  check(map.blue > 200 && map.red > 20, `embedding map drew both classes (${JSON.stringify(map)})`);
  check(errors.length === 0, `console errors: ${errors.join('; ')}`);
  const fetched = await page.evaluate(() => performance.getEntriesByType('resource').map((r) => r.name)
    .filter((url) => !/^(file|data):/.test(url)));
  check(fetched.length === 0, `the report fetched ${fetched.join(', ')}`);
  await page.screenshot({ path: join(args.out, 'report.png'), fullPage: true });
}

await runTest('report_test', () => withPage(pathToFileURL(resolve(args.report)).href, checkReport));
