// Inlined into report.html (src/report/html_report.cpp): renders the threshold explorer and the
// embedding map from the <script type="application/json" id="report-data"> blob, offline.
import uplotCss from 'uplot/dist/uPlot.min.css';
import chartsCss from './charts.css';
import { addStyles } from './dom.js';
import { renderEmbeddingMap } from './embedding_map.js';
import { indexForThreshold, youdenIndex } from './roc.js';
import { renderThresholdExplorer } from './threshold_explorer.js';

function main() {
  const blob = document.getElementById('report-data');
  if (!blob) return;
  const data = JSON.parse(blob.textContent);
  addStyles('dermsim-chart-styles', uplotCss + chartsCss);
  const roc = data.validation_roc;
  const explorer = document.getElementById('threshold-explorer');
  if (roc && explorer) {
    const saved = Number.isFinite(data.threshold) ? indexForThreshold(roc, data.threshold) : null;
    renderThresholdExplorer(explorer, roc, { startIndex: saved ?? youdenIndex(roc), savedIndex: saved });
  }
  const map = document.getElementById('embedding-map');
  if (data.map && map) renderEmbeddingMap(map, data.map);
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', main);
else main();
