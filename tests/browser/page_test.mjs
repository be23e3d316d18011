// The page of `dermsim serve` in chromium: upload a sample image, wait for the probability and the
// neighbour thumbnails, compare them with what /api/predict answers for the same file, check the
// charts were drawn and the console stayed clean, save a screenshot; a second image dropped on the
// page replaces the result; then bad uploads must show their error in the page.
//   node page_test.mjs --binary dermsim --run RUN --image IMAGE.jpg --dropped OTHER.jpg --out DIR
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { chartPixels, check, parseArgs, runTest, withPage, withServe } from './browser.mjs';

const args = parseArgs(['binary', 'run', 'image', 'dropped', 'out']);
const kMaxUploadMb = 1;  // small, so the oversized upload below stays small too

async function predictDirectly(url, imageBytes, fields = {}) {
  const form = new FormData();
  form.append('image', new Blob([imageBytes], { type: 'image/jpeg' }), basename(args.image));
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  const response = await fetch(`${url}/api/predict?k=8`, { method: 'POST', body: form });
  check(response.ok, `/api/predict answered ${response.status}`);
  return response.json();
}

async function uploadAndCheck(page, url) {
  const expected = await predictDirectly(url, readFileSync(args.image));
  await page.setInputFiles('#image-input', args.image);
  await page.waitForSelector('#result:not([hidden])');
  await page.waitForFunction(() => document.querySelectorAll('#neighbours li').length === 8);
  const shown = await page.$eval('#probability', (p) => ({ value: p.dataset.value, text: p.textContent }));
  check(Number(shown.value) === expected.probability,
        `page shows probability ${shown.value}, /api/predict answers ${expected.probability}`);
  check(shown.text.includes(expected.probability.toFixed(3)), `probability text "${shown.text}"`);
  const decision = await page.textContent('#decision');
  check(decision.includes(expected.malignant ? 'flagged as suspicious' : 'not flagged'), `decision "${decision}"`);
  check((await page.textContent('#threshold-meaning')).match(/catches \d+ % of melanomas at \d+ % false alarms/),
        'the saved threshold is explained');

  // Every thumbnail decoded, in the server's order, with its label and distance.
  await page.waitForFunction(() => [...document.querySelectorAll('#neighbours img, #saliency-image')]
    .every((img) => img.complete && img.naturalWidth > 0));
  const neighbours = await page.$$eval('#neighbours li', (items) => items.map((li) => li.textContent));
  neighbours.forEach((text, i) => {
    const n = expected.similar[i];
    check(text.includes(n.label === 1 ? 'melanoma' : 'benign') && text.includes(n.image) &&
          text.includes(n.distance.toFixed(3)), `neighbour ${i}: "${text}" against ${n.image}`);
  });
  check(await page.isVisible('#saliency-image'), 'saliency overlay shown');
}

// The optional age, sex and site: shown exactly when the run has a classifier that reads them;
// filled in, the page's answer is the server's for the same fields, and says what it used.
async function metadataFieldsCheck(page, url) {
  const withMetadata = (await (await fetch(`${url}/api/model`)).json()).classifier.with_metadata;
  check((await page.isVisible('#metadata-fields')) === Boolean(withMetadata),
        `metadata fields visible exactly when the card has with_metadata (${JSON.stringify(withMetadata)})`);
  check((await page.textContent('#scored-with')).includes('image alone'), 'the first upload used the image alone');
  if (!withMetadata) return;
  const fields = { age: '75', sex: 'male', site: withMetadata.sites[0] };
  const expected = await predictDirectly(url, readFileSync(args.image), fields);
  check(expected.used_metadata, '/api/predict used the fields');
  await page.fill('#age-input', fields.age);
  await page.selectOption('#sex-input', fields.sex);
  await page.selectOption('#site-input', fields.site);
  await dropFile(page, args.image);
  await page.waitForFunction((p) => document.getElementById('probability').dataset.value === String(p),
                             expected.probability);
  const scored = await page.textContent('#scored-with');
  check(scored.includes('age, sex and site given'), `scored-with "${scored}"`);
  await page.fill('#age-input', '');
  await page.selectOption('#sex-input', '');
  await page.selectOption('#site-input', '');
}

// Drops the file on the drop zone as a user dragging it from a file manager would.
async function dropFile(page, path) {
  const transfer = await page.evaluateHandle(({ name, base64 }) => {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const data = new DataTransfer();
    data.items.add(new File([bytes], name, { type: 'image/jpeg' }));
    return data;
  }, { name: basename(path), base64: readFileSync(path).toString('base64') });
  await page.dispatchEvent('#drop-zone', 'dragover', { dataTransfer: transfer });
  await page.dispatchEvent('#drop-zone', 'drop', { dataTransfer: transfer });
}

async function badUploadShowsError(page, file, expectedStatuses) {
  await page.setInputFiles('#image-input', file);
  await page.waitForFunction((name) => {
    const error = document.getElementById('error');
    return !error.hidden && error.textContent.includes(name);
  }, file.name);
  const message = await page.textContent('#error');
  check(expectedStatuses.some((status) => message.includes(`(${status})`)),
        `error for ${file.name}: "${message}", expected status ${expectedStatuses.join(' or ')}`);
  check(!(await page.isVisible('#result')), `no earlier result is shown beside the error for ${file.name}`);
}

async function checkPage(server, page, errors) {
  await page.waitForSelector('#embedding-map canvas');
  const rocPixels = await chartPixels(page, '#threshold-explorer');
  check(rocPixels.blue > 200, `ROC curve drawn (${JSON.stringify(rocPixels)})`);
  const mapBefore = await chartPixels(page, '#embedding-map');
  check(mapBefore.blue > 200 && mapBefore.red > 50, `reference points drawn (${JSON.stringify(mapBefore)})`);

  await uploadAndCheck(page, server.url);
  const mapAfter = await chartPixels(page, '#embedding-map');
  check(mapAfter.dark > mapBefore.dark + 50, `query placed on the map (${mapBefore.dark} -> ${mapAfter.dark} dark pixels)`);
  check(errors.length === 0, `console errors: ${errors.join('; ')}`);
  await page.screenshot({ path: join(args.out, 'page-after-upload.png'), fullPage: true });
  await metadataFieldsCheck(page, server.url);

  const dropped = await predictDirectly(server.url, readFileSync(args.dropped));
  await dropFile(page, args.dropped);
  await page.waitForFunction((p) => document.getElementById('probability').dataset.value === String(p),
                             dropped.probability);
  check((await page.textContent('#status')).includes(basename(args.dropped)), 'the dropped file was analysed');

  const text = Buffer.from('not an image at all\n');
  await badUploadShowsError(page, { name: 'notes.txt', mimeType: 'text/plain', buffer: text }, [400, 415]);
  const truncated = readFileSync(args.image).subarray(0, 600);
  await badUploadShowsError(page, { name: 'truncated.jpg', mimeType: 'image/jpeg', buffer: truncated }, [400]);
  const huge = Buffer.alloc((kMaxUploadMb + 1) << 20, 0xff);
  await badUploadShowsError(page, { name: 'huge.jpg', mimeType: 'image/jpeg', buffer: huge }, [413]);
  await page.screenshot({ path: join(args.out, 'page-error.png') });
  // Chromium logs each refused request ("Failed to load resource"); nothing else may appear.
  const unexpected = errors.filter((e) => !/Failed to load resource.*status of 4\d\d/.test(e));
  check(unexpected.length === 0, `console errors after bad uploads: ${unexpected.join('; ')}`);
}

const serveArgs = ['--max-upload-mb', String(kMaxUploadMb)];
await runTest('page_test', () => withServe(args.binary, args.run, serveArgs,
  (server) => withPage(server.url, (page, errors) => checkPage(server, page, errors))));
