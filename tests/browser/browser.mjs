// What the browser tests share: Debian's chromium driven by playwright-core (web/node_modules),
// `dermsim serve` started on a free loopback port, and a console-error collector.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';

const require = createRequire(new URL('../../web/package.json', import.meta.url));
const { chromium } = require('playwright-core');

export async function launchBrowser() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',  // Debian's, installed by scripts/install-deps.sh
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** Fails the test with a message (an assertion that can fail). */
export function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
}

/** Every console error and uncaught exception of `page`, to assert there were none. */
export function collectErrors(page) {
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`exception: ${e.message}`));
  return errors;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Starts `dermsim serve --run RUN [extraArgs]` and waits for /healthz; returns { url, stop() }. */
export async function startServe(binary, run, extraArgs = []) {
  const port = await freePort();
  const child = spawn(binary, ['serve', '--run', run, '--port', String(port), ...extraArgs],
                      { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`dermsim serve exited (${child.exitCode}):\n${log}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) throw new Error(`dermsim serve did not answer /healthz in 60 s:\n${log}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    log: () => log,
    stop: () => new Promise((resolve) => {
      child.on('exit', resolve);
      child.kill('SIGTERM');
    }),
  };
}

/** Opens `url` in a fresh chromium page, runs body(page, errors) and closes the browser. */
export async function withPage(url, body) {
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const errors = collectErrors(page);
    await page.goto(url);
    await body(page, errors);
  } finally {
    await browser.close();
  }
}

/** Runs body(server) with `dermsim serve` up, and stops it afterwards. */
export async function withServe(binary, run, extraArgs, body) {
  const server = await startServe(binary, run, extraArgs);
  try {
    await body(server);
  } finally {
    await server.stop();
  }
}

/** Runs `body` and exits non-zero with the error when it throws (CTest reads the exit code). */
export async function runTest(name, body) {
  try {
    await body();
    console.log(`${name}: passed`);
  } catch (error) {
    console.error(`${name}: FAILED\n${error.stack || error}`);
    process.exitCode = 1;
  }
}

/**
 * Pixels of the chart colours on the canvas inside `selector` (web/src: benign and ROC blue
 * #1f5fa8, melanoma red #c0392b, the query's near-black dot): proof that a series was drawn, which
 * a merely non-empty canvas (axes and grid) is not.
 */
export async function chartPixels(page, selector) {
  return page.$eval(`${selector} canvas`, (canvas) => {
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    const counts = { blue: 0, red: 0, dark: 0 };
    for (let i = 0; i < data.length; i += 4) {
      const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
      if (a < 100) continue;
      if (r < 60 && g > 70 && g < 120 && b > 140) counts.blue++;
      else if (r > 150 && g < 90 && b < 80) counts.red++;
      else if (r < 40 && g < 40 && b < 40 && a > 240) counts.dark++;
    }
    return counts;
  });
}

/** --name value pairs of the command line. */
export function parseArgs(names) {
  const args = {};
  for (const name of names) {
    const i = process.argv.indexOf(`--${name}`);
    if (i < 0 || i + 1 >= process.argv.length) throw new Error(`usage: missing --${name}`);
    args[name] = process.argv[i + 1];
  }
  return args;
}
