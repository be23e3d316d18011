// Threshold explorer: the validation ROC with a slider along it; moving the slider shows the
// sensitivity, specificity and confusion matrix that threshold had on validation.
import uPlot from 'uplot';
import { el } from './dom.js';
import { describeOperatingPoint, formatThreshold, isCalledMalignant, operatingPoint, percent } from './roc.js';

const kChartSize = { width: 420, height: 340 };

/**
 * Renders into `container`. `startIndex`: the ROC entry the slider starts at (the saved threshold).
 * `savedIndex` (optional) marks the model's own threshold on the curve. Returns
 * { setQueryProbability(p) }, after which the readout also says how p fares at each threshold.
 */
export function renderThresholdExplorer(container, roc, { startIndex, savedIndex = null }) {
  const n = roc.threshold.length;
  let current = startIndex;
  let queryProbability = null;  // the uploaded image's, once there is one

  const slider = el('input', {
    type: 'range', id: `${container.id}-slider`, min: 0, max: n - 1, step: 1, value: startIndex,
    'aria-describedby': `${container.id}-readout`,
  });
  const label = el('label', { for: slider.id }, 'Threshold (slide to the left: fewer cases called malignant)');
  const readout = el('p', { id: `${container.id}-readout`, class: 'readout', 'aria-live': 'polite' });
  const cells = { tp: el('td'), fn: el('td'), fp: el('td'), tn: el('td') };
  const matrix = el('table', { class: 'confusion' },
    el('caption', {}, `Confusion matrix on validation (${roc.positives} melanomas, ${roc.negatives} benign)`),
    el('tr', {}, el('th', { scope: 'col' }, 'truth \\ called'), el('th', { scope: 'col' }, 'melanoma'),
       el('th', { scope: 'col' }, 'benign')),
    el('tr', {}, el('th', { scope: 'row' }, 'melanoma'), cells.tp, cells.fn),
    el('tr', {}, el('th', { scope: 'row' }, 'benign'), cells.fp, cells.tn));
  const chartBox = el('div', { class: 'chart', role: 'img', 'aria-label': 'Validation ROC curve' });
  container.classList.add('explorer');
  container.replaceChildren(chartBox, el('div', { class: 'explorer-controls' }, label, slider, readout, matrix));

  // A dot per marked point, drawn after the curve: the slider's (filled) and the saved one (ring).
  function drawMarkers(u) {
    const ctx = u.ctx;
    const dot = (index, filled) => {
      const x = u.valToPos(roc.fpr[index], 'x', true);
      const y = u.valToPos(roc.tpr[index], 'y', true);
      ctx.beginPath();
      ctx.arc(x, y, 6 * devicePixelRatio, 0, 2 * Math.PI);
      ctx.lineWidth = 2 * devicePixelRatio;
      ctx.strokeStyle = '#111';
      ctx.fillStyle = '#111';
      filled ? ctx.fill() : ctx.stroke();
    };
    if (savedIndex !== null) dot(savedIndex, false);
    dot(current, true);
  }

  const chart = new uPlot({
    ...kChartSize,
    scales: { x: { time: false, range: [0, 1] }, y: { range: [0, 1] } },
    axes: [{ label: 'false-alarm rate (1 - specificity)' }, { label: 'sensitivity' }],
    series: [{ label: 'FPR' }, { label: 'ROC', stroke: '#1f5fa8', width: 2, points: { show: false } },
             { label: 'chance', stroke: '#999', dash: [4, 4], points: { show: false } }],
    legend: { show: false },
    cursor: { show: false },
    hooks: { draw: [drawMarkers] },
  }, [roc.fpr, roc.tpr, roc.fpr], chartBox);

  function show(index) {
    current = index;
    const p = operatingPoint(roc, index);
    readout.textContent = `Threshold ${formatThreshold(p.threshold)}: sensitivity ${percent(p.sensitivity)}, ` +
      `specificity ${percent(p.specificity)}; ${describeOperatingPoint(p.sensitivity, p.specificity)}.` +
      (queryProbability === null ? '' : ` Your image (P = ${queryProbability.toFixed(3)}) would be ` +
        (isCalledMalignant(queryProbability, p.threshold) ? 'flagged.' : 'not flagged.'));
    slider.setAttribute('aria-valuetext', `threshold ${formatThreshold(p.threshold)}, ` +
      `sensitivity ${percent(p.sensitivity)}, specificity ${percent(p.specificity)}`);
    cells.tp.textContent = p.tp;
    cells.fn.textContent = p.fn;
    cells.fp.textContent = p.fp;
    cells.tn.textContent = p.tn;
    chart.redraw(false, false);
  }
  slider.addEventListener('input', () => show(Number(slider.value)));
  show(startIndex);
  return {
    setQueryProbability(probability) {
      queryProbability = probability;
      show(current);
    },
  };
}
