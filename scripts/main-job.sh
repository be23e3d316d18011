#!/usr/bin/env bash
# The main job on the real ISIC 2020 sample shipped in data/: installs what is missing, builds, then
# prepare -> train -> evaluate (test split, once) -> report. Everything lands in runs/isic2020-sample/.
# Training uses the recommended defaults (30 epochs: ~4 min here on 2 cores). Override with
# RUN=... DATA=... TRAIN_ARGS="--epochs 5" bash scripts/main-job.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=${RUN:-runs/isic2020-sample}
DATA=${DATA:-data/isic2020}
TRAIN_ARGS=${TRAIN_ARGS:-}
# OpenMP workers that sleep instead of spinning: 1.75x training images/s on the shared 2-core host
# (docs/benchmarks.md, loader threads); libgomp reads it when loaded, so dermsim cannot set it itself.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}

bash scripts/install-deps.sh
bash scripts/build.sh --target dermsim
DERMSIM=./build/dermsim

# --fresh: this job trains anew, so an earlier training of the run is set aside (RUN/superseded/).
$DERMSIM prepare --data "$DATA" --out "$RUN" --fresh
$DERMSIM train --run "$RUN" $TRAIN_ARGS
# The shipped ISIC sample says which of two copies each image came from (tied to the label):
# report AUC within each source as well.
STRATA=()
[ -f "$DATA/sources.csv" ] && STRATA=(--strata "$DATA/sources.csv")
$DERMSIM evaluate --run "$RUN" --split test "${STRATA[@]}"
$DERMSIM report --run "$RUN"
echo "main job done: results in $RUN (metrics-test.json, model.json, training-log.csv)"
