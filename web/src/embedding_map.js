// Embedding map: the reference set on the two principal axes stored in the index (GET /api/map),
// benign and melanoma in two colours, and the query placed on the same axes once there is one.
import uPlot from 'uplot';
import { el } from './dom.js';

const kChartSize = { width: 520, height: 420 };

// The data's extent plus a margin, so the outermost points are not cut in half by the frame.
function paddedRange(u, min, max) {
  const margin = 0.05 * (max - min || 1);
  return [min - margin, max + margin];
}

function axisLabel(name, variance) {
  return Number.isFinite(variance) ? `${name} (${Math.round(100 * variance)} % of variance)` : name;
}

// In uPlot's x-y mode a scatter series is one whose path is its points.
function pointsSeries(label, colour, size) {
  return { label, fill: colour, stroke: colour, width: 0, paths: uPlot.paths.points(),
           points: { show: false, size, width: 0 } };
}

/** Renders into `container`; returns { setQuery({x, y}) } to place (or move) the query. */
export function renderEmbeddingMap(container, map) {
  const xy = (label) => {
    const pts = map.points.filter((p) => p.label === label);
    return [pts.map((p) => p.x), pts.map((p) => p.y)];
  };
  const benign = xy(0);
  const malignant = xy(1);
  const variance = map.explained_variance || [];
  const chartBox = el('div', { class: 'chart', role: 'img',
    'aria-label': `Embedding map: ${benign[0].length} benign and ${malignant[0].length} melanoma reference lesions` });
  const queryKey = el('span', { hidden: true }, el('span', { class: 'swatch query' }), ' your image');
  const legend = el('p', { class: 'map-legend' },
    el('span', { class: 'swatch benign' }), ` benign (${benign[0].length})  `,
    el('span', { class: 'swatch malignant' }), ` melanoma (${malignant[0].length})  `, queryKey);
  container.replaceChildren(chartBox, legend);

  const chart = new uPlot({
    ...kChartSize,
    mode: 2,
    scales: { x: { time: false, range: paddedRange }, y: { range: paddedRange } },
    axes: [{ label: axisLabel(`${(map.method || 'pca').toUpperCase()} axis 1`, variance[0]) },
           { label: axisLabel('axis 2', variance[1]) }],
    series: [{}, pointsSeries('benign', 'rgba(31,95,168,0.55)', 4),
             pointsSeries('melanoma', 'rgba(192,57,43,0.8)', 5),
             pointsSeries('your image', '#111', 14)],
    legend: { show: false },
    cursor: { show: false },
  }, [null, benign, malignant, [[], []]], chartBox);

  return {
    chart,
    setQuery(query) {
      chart.setData([null, benign, malignant, [[query.x], [query.y]]]);
      queryKey.hidden = false;
    },
  };
}
