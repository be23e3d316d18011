// The page of `dermsim serve` (GET /): pick or drop an image -> probability, decision at the saved
// threshold and what it means on validation, the nearest reference lesions, the saliency overlay;
// below, the threshold explorer and the embedding map. Uses only the routes of docs/web-api.md.
import uplotCss from 'uplot/dist/uPlot.min.css';
import chartsCss from './charts.css';
import pageCss from './page.css';
import { addStyles, el } from './dom.js';
import { renderEmbeddingMap } from './embedding_map.js';
import { describeOperatingPoint, indexForThreshold, percent } from './roc.js';
import { renderThresholdExplorer } from './threshold_explorer.js';

const $ = (id) => document.getElementById(id);
let embeddingMap = null;
let thresholdExplorer = null;
let queryUrl = null;

async function getJson(path) {
  const response = await fetch(path);
  const body = await response.json();
  if (!response.ok) throw new Error(`${path}: ${response.status} ${body.error || ''}`);
  return body;
}

function showError(message) {
  $('error').textContent = message;
  $('error').hidden = false;
}

// "0.830 (95 % CI 0.770–0.880)"; low and high are null where no interval was computed.
function interval(metric) {
  if (!metric || !Number.isFinite(metric.value)) return '–';
  if (!Number.isFinite(metric.low) || !Number.isFinite(metric.high)) return metric.value.toFixed(3);
  return `${metric.value.toFixed(3)} (95 % CI ${metric.low.toFixed(3)}–${metric.high.toFixed(3)})`;
}

function renderModelCard(card) {
  const c = card.classifier || {};
  const v = c.validation || {};
  const n = card.network || {};
  const train = ((card.data || {}).split || {}).train || {};
  const lines = [
    `Network: ${n.backbone} backbone trained with ${n.loss} loss, ${n.embedding_dim}-dimensional embedding ` +
      `at ${n.image_size} px (${card.references} reference lesions from ${train.patients} training patients).`,
    `Classifier: ${c.description}. Saved threshold ${c.threshold.toFixed(3)} (${c.threshold_rule}), chosen on ` +
      `validation, where it ${describeOperatingPoint(v.sensitivity, v.specificity)} (AUC ${v.auc.toFixed(3)}).`,
    card.test
      ? `Test split, scored once: AUC ${interval(card.test.auc)}, balanced accuracy ` +
        `${interval(card.test.balanced_accuracy)}, sensitivity ${percent(card.test.sensitivity)}, ` +
        `specificity ${percent(card.test.specificity)}.`
      : 'Not yet scored on the test split.',
  ];
  $('model-summary').replaceWith(...lines.map((text) => el('p', {}, text)));
  renderMetadataFields(c.with_metadata);
  const versions = card.versions || {};
  $('versions').textContent = `dermsim ${versions.dermsim}, LibTorch ${versions.libtorch}; ` +
    `run ${(card.data || {}).run}. The card says: ${card.disclaimer}.`;
}

// Shown only when the run has a classifier that reads age, sex and site (docs/web-api.md).
function renderMetadataFields(withMetadata) {
  if (!withMetadata) return;
  const option = (value) => el('option', { value }, value);
  $('sex-input').append(...withMetadata.sexes.map(option));
  $('site-input').append(...withMetadata.sites.map(option));
  $('metadata-note').textContent = `Given any of them, the image is scored by ${withMetadata.description} ` +
    `(validation AUC ${withMetadata.validation_auc.toFixed(3)}); without them, from the image alone.`;
  $('metadata-fields').hidden = false;
}

function appendMetadata(form) {
  for (const [field, id] of [['age', 'age-input'], ['sex', 'sex-input'], ['site', 'site-input']]) {
    const value = $(id).value.trim();
    if (value !== '') form.append(field, value);
  }
}

function renderNeighbour(n) {
  const label = n.label === 1 ? 'melanoma' : 'benign';
  return el('li', { class: label === 'melanoma' ? 'malignant' : 'benign' },
    el('img', { src: n.thumbnail, alt: `${n.image}, ${label}` }),
    el('span', { class: 'label' }, label), el('br'),
    `distance ${n.distance.toFixed(3)}`, el('br'),
    n.image, el('br'), n.patient);
}

function renderPrediction(card, prediction) {
  const v = card.classifier.validation;
  $('probability').textContent = `P(melanoma) = ${prediction.probability.toFixed(3)}`;
  $('probability').dataset.value = String(prediction.probability);
  const decision = $('decision');
  decision.className = `decision ${prediction.malignant ? 'malignant' : 'benign'}`;
  decision.textContent = prediction.malignant
    ? `At or above the saved threshold ${prediction.threshold.toFixed(3)}: flagged as suspicious`
    : `Below the saved threshold ${prediction.threshold.toFixed(3)}: not flagged`;
  $('threshold-meaning').textContent = prediction.used_metadata
    ? 'This threshold was chosen on validation for the classifier that reads age, sex and site.'
    : `On validation this threshold ${describeOperatingPoint(v.sensitivity, v.specificity)}.`;
  $('scored-with').textContent = prediction.used_metadata
    ? `Scored from the image with the age, sex and site given (${prediction.classifier}).`
    : `Scored from the image alone (${prediction.classifier}).`;
  $('query-image').src = queryUrl;
  $('saliency-figure').hidden = !prediction.saliency;
  if (prediction.saliency) $('saliency-image').src = prediction.saliency;
  $('neighbours').replaceChildren(...prediction.similar.map(renderNeighbour));
  $('result').hidden = false;
  thresholdExplorer.setQueryProbability(prediction.probability);
  if (embeddingMap && prediction.map) embeddingMap.setQuery(prediction.map, prediction.similar.map((n) => n.image));
}

async function predict(card, file) {
  // Whatever was shown belongs to the previous file: hidden until this one has its answer.
  $('error').hidden = true;
  $('result').hidden = true;
  $('status').textContent = `Analysing ${file.name}…`;
  const form = new FormData();
  form.append('image', file);
  appendMetadata(form);
  let response;
  try {
    response = await fetch(`/api/predict?k=${encodeURIComponent($('k-input').value)}`, { method: 'POST', body: form });
  } catch (error) {
    $('status').textContent = '';
    showError(`Could not reach the server: ${error.message}`);
    return;
  }
  const body = await response.json().catch(() => ({}));
  $('status').textContent = '';
  if (!response.ok) {
    showError(`The server refused ${file.name} (${response.status}): ${body.error || response.statusText}`);
    return;
  }
  if (queryUrl) URL.revokeObjectURL(queryUrl);
  queryUrl = URL.createObjectURL(file);
  renderPrediction(card, body);
  $('status').textContent = `Done: ${file.name}.`;
}

function wireUpload(card) {
  const input = $('image-input');
  input.addEventListener('change', () => {
    if (input.files.length) predict(card, input.files[0]);
  });
  const zone = $('drop-zone');
  zone.addEventListener('dragover', (event) => {
    event.preventDefault();
    zone.classList.add('dragging');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('dragging'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('dragging');
    if (event.dataTransfer.files.length) predict(card, event.dataTransfer.files[0]);
  });
}

async function main() {
  addStyles('dermsim-styles', uplotCss + chartsCss + pageCss);
  let card;
  try {
    card = await getJson('/api/model');
  } catch (error) {
    showError(`Could not load the model card: ${error.message}`);
    return;
  }
  renderModelCard(card);
  const roc = card.validation_roc;
  const saved = indexForThreshold(roc, card.classifier.threshold);
  thresholdExplorer = renderThresholdExplorer($('threshold-explorer'), roc, { startIndex: saved, savedIndex: saved });
  wireUpload(card);
  try {
    embeddingMap = renderEmbeddingMap($('embedding-map'), await getJson('/api/map'));
  } catch (error) {
    showError(`Could not load the embedding map: ${error.message}`);
  }
}

main();
