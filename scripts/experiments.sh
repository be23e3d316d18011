#!/usr/bin/env bash
# Reproduces the README's results: for one data folder, the default contrastive training and the
# triplet and plain-BCE comparisons, each on the same patient-grouped split (same seed), evaluated
# once on the test split. Usage: bash scripts/experiments.sh DATA_DIR OUT_PREFIX [LOSS...]
#   e.g. bash scripts/experiments.sh ../shared/data/ham10000-sample runs/ham contrastive triplet bce
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=$1
PREFIX=$2
shift 2
LOSSES=("${@:-contrastive triplet bce}")
DERMSIM=${DERMSIM:-./build/dermsim}
# OpenMP workers that sleep instead of spinning: 1.75x training images/s on the shared 2-core host
# (docs/benchmarks.md, loader threads); libgomp reads it when loaded, so dermsim cannot set it itself.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
TRAIN_ARGS=${TRAIN_ARGS:-}  # extra `dermsim train` options, e.g. "--epochs 30"
for loss in ${LOSSES[@]}; do
  run="$PREFIX-$loss"
  $DERMSIM prepare --data "$DATA" --out "$run" --fresh > "$run.prepare.txt" 2>&1 || { cat "$run.prepare.txt"; exit 1; }
  /usr/bin/time -f "wall %e s" $DERMSIM train --run "$run" --loss "$loss" $TRAIN_ARGS > "$run.train.txt" 2>&1
  strata=()
  [ -f "$DATA/sources.csv" ] && strata=(--strata "$DATA/sources.csv")
  $DERMSIM evaluate --run "$run" --split test "${strata[@]}" > "$run.evaluate.txt" 2>&1
  echo "== $run: $(grep -E '^trained|^wall' "$run.train.txt" | tr '\n' ' ')"
  grep -E "^(knn|logistic|prototypes|joint|untrained)|^test AUC" "$run.evaluate.txt"
done
