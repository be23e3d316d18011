// Embedding map: the reference set on the two principal axes stored in the index (GET /api/map),
// benign and melanoma in two colours, and the query placed on the same axes once there is one, its
// nearest reference lesions ringed (near in the embedding need not mean near on two axes).
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

function ringsSeries(label, colour, size) {
  return { label, fill: 'transparent', stroke: colour, width: 1.5, paths: uPlot.paths.points(),
           points: { show: false, size, width: 1.5 } };
}

/**
 * Renders into `container`; returns { setQuery({x, y}, neighbourImages) } to place (or move) the
 * query and ring the reference points of those image names.
 */
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
  const byImage = new Map(map.points.map((p) => [p.image, p]));
  const queryKey = el('span', { hidden: true }, el('span', { class: 'swatch query' }), ' your image  ',
                      el('span', { class: 'swatch ring' }), ' its most similar lesions');
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
             ringsSeries('most similar', '#111', 11), pointsSeries('your image', '#111', 14)],
    legend: { show: false },
    cursor: { show: false },
  }, [null, benign, malignant, [[], []], [[], []]], chartBox);

  return {
    setQuery(query, neighbourImages) {
      const near = neighbourImages.map((image) => byImage.get(image)).filter(Boolean);
      chart.setData([null, benign, malignant, [near.map((p) => p.x), near.map((p) => p.y)], [[query.x], [query.y]]]);
      queryKey.hidden = false;
    },
  };
}
