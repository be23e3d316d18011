#!/usr/bin/env bash
# One configuration over several training seeds, on one patient-grouped split: prepare once, then
# for each seed train (TRAIN_ARGS) and evaluate the test split once; prints mean, sd and range of
# every figure (scripts/seed_table.py). The README's Results come from this script.
# With FOLDS=K: `prepare --folds K`, `train --folds`, then the out-of-fold figures and the fold
# ensemble's on the test part, each over the seeds and as an ensemble over the seeds.
# Usage: [FOLDS=5] [PREPARE_ARGS="--image-size 160"] TRAIN_ARGS="--epochs 30" \
#          bash scripts/seeds.sh DATA_DIR OUT_PREFIX [SEED...]
#   e.g. bash scripts/seeds.sh data/isic2020 runs/seeds/isic2020 0 1 2
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=$1
PREFIX=$2
shift 2
SEEDS=("${@:-0 1 2}")
DERMSIM=${DERMSIM:-./build/dermsim}
TRAIN_ARGS=${TRAIN_ARGS:-}
PREPARE_ARGS=${PREPARE_ARGS:-}
FOLDS=${FOLDS:-}
fold_args=() splits=(test)
[ -n "$FOLDS" ] && fold_args=(--folds) splits=(oof test)
# OpenMP workers that sleep instead of spinning: 1.75x training images/s on the shared 2-core host
# (docs/benchmarks.md, loader threads); libgomp reads it when loaded, so dermsim cannot set it itself.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
strata=()
[ -f "$DATA/sources.csv" ] && strata=(--strata "$DATA/sources.csv")
mkdir -p "$(dirname "$PREFIX")"
prepared="$PREFIX-prepared"
$DERMSIM prepare --data "$DATA" --out "$prepared" --fresh ${FOLDS:+--folds "$FOLDS"} $PREPARE_ARGS > "$prepared.prepare.txt" 2>&1 ||
  { cat "$prepared.prepare.txt"; exit 1; }
runs=()
for seed in ${SEEDS[@]}; do
  run="$PREFIX-seed$seed"
  rm -rf "$run" && cp -r "$prepared" "$run"
  /usr/bin/time -f "wall %e s" $DERMSIM train --run "$run" "${fold_args[@]}" --seed "$seed" $TRAIN_ARGS > "$run.train.txt" 2>&1 ||
    { tail -5 "$run.train.txt"; exit 1; }
  for split in "${splits[@]}"; do
    $DERMSIM evaluate --run "$run" --split "$split" "${strata[@]}" > "$run.evaluate-$split.txt" 2>&1 ||
      { tail -5 "$run.evaluate-$split.txt"; exit 1; }
  done
  echo "== $run: $(grep -E '^trained|^wall' "$run.train.txt" | tr '\n' ' ')"
  runs+=("$run")
done
for split in "${splits[@]}"; do
  /usr/bin/python3 scripts/seed_table.py --split "$split" "${strata[@]}" "${runs[@]}"
done
