#!/usr/bin/env bash
# The main job on the real ISIC 2020 sample shipped in data/: installs what is missing, builds, then
# prepare -> train -> evaluate (test split, once) -> report. Everything lands in runs/isic2020-sample/.
# Override with: RUN=... DATA=... EPOCHS=... bash scripts/main-job.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=${RUN:-runs/isic2020-sample}
DATA=${DATA:-data/isic2020}
EPOCHS=${EPOCHS:-6}

bash scripts/install-deps.sh
bash scripts/build.sh --target dermsim
DERMSIM=./build/dermsim

$DERMSIM prepare --data "$DATA" --out "$RUN"
$DERMSIM train --run "$RUN" --epochs "$EPOCHS"
$DERMSIM evaluate --run "$RUN" --split test
if $DERMSIM report --help >/dev/null 2>&1; then
  $DERMSIM report --run "$RUN"
fi
echo "main job done: results in $RUN (metrics-test.json, model.json, training-log.csv)"
