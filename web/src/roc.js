// Operating points on the validation ROC of /api/model (docs/web-api.md): one entry per distinct
// validation score, highest threshold first; a case is called malignant when score >= threshold.
// The first threshold may be null or non-finite: the point where nothing is called malignant.

/** Sensitivity, specificity and the confusion matrix at ROC entry `index`. */
export function operatingPoint(roc, index) {
  const tpr = roc.tpr[index];
  const fpr = roc.fpr[index];
  const tp = Math.round(tpr * roc.positives);
  const fp = Math.round(fpr * roc.negatives);
  return {
    threshold: roc.threshold[index],
    sensitivity: tpr,
    specificity: 1 - fpr,
    tp, fn: roc.positives - tp, fp, tn: roc.negatives - fp,
  };
}

/** The decision rule of dermsim (metrics/ranking.h); a missing threshold calls nothing malignant. */
export function isCalledMalignant(probability, threshold) {
  return threshold !== null && Number.isFinite(threshold) && probability >= threshold;
}

/** The entry whose decisions equal "score >= t": the last one with threshold >= t. */
export function indexForThreshold(roc, t) {
  let best = 0;
  roc.threshold.forEach((threshold, i) => {
    if (threshold === null || !Number.isFinite(threshold) || threshold >= t) best = i;
  });
  return best;
}

/** The entry maximising Youden's J = TPR - FPR (the higher threshold among ties). */
export function youdenIndex(roc) {
  let best = 0;
  roc.tpr.forEach((tpr, i) => {
    if (tpr - roc.fpr[i] > roc.tpr[best] - roc.fpr[best]) best = i;
  });
  return best;
}

export function percent(fraction) {
  return `${Math.round(100 * fraction)} %`;
}

/** "catches 80 % of melanomas at 21 % false alarms" */
export function describeOperatingPoint(sensitivity, specificity) {
  return `catches ${percent(sensitivity)} of melanomas at ${percent(1 - specificity)} false alarms`;
}

export function formatThreshold(threshold) {
  return threshold === null || !Number.isFinite(threshold) ? 'above every score' : threshold.toFixed(3);
}
