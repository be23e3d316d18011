#!/usr/bin/env bash
# The scaling curve (issue 11, "Scale"): wall time and peak RSS of prepare (both layouts), one
# training epoch, evaluate, predict of an 11k test set and similar, at 1k, 4k, 16k and 33k
# synthetic images; then prepare on full-size 6000x4000 JPEGs against a Python decoder peer.
#
#   bash bench/scale.sh [LEVEL...]        # default: 1000 4000 16000 33126
#
# SCALE_FULL_SIZE_IMAGES (default 200) and SCALE_TEST_IMAGES (default 10982) set the other two sets.
# Data and runs go under $SCALE_ROOT (default /tmp/scale-data; never the repository; ~3 GB at all
# levels). Data generation runs niced; the timed commands do not. Every timed command appends one
# row to $SCALE_ROOT/results.tsv (level, step, images, wall s, peak RSS MiB, 1-min load before);
# bench/scale_report.py turns that into the table and the plot of docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=${SCALE_ROOT:-/tmp/scale-data}
BIN=${BUILD_DIR:-build}  # a frozen copy (dermsim, bench/make_scaled_copies) keeps rebuilds out of a long run
DERMSIM=$BIN/dermsim
GEN=$BIN/bench/make_scaled_copies
TEST_IMAGES=${SCALE_TEST_IMAGES:-10982}     # the ISIC 2020 test set's size
FULL_SIZE_IMAGES=${SCALE_FULL_SIZE_IMAGES:-200}
LEVELS=("$@")
[ ${#LEVELS[@]} -gt 0 ] || LEVELS=(1000 4000 16000 33126)
export OMP_WAIT_POLICY=passive
mkdir -p "$ROOT/logs"
RESULTS=$ROOT/results.tsv
[ -f "$RESULTS" ] || printf 'level\tstep\timages\twall_s\tpeak_rss_mib\tload1\n' > "$RESULTS"

# measure LEVEL STEP IMAGES command...: runs the command under /usr/bin/time -v, log in logs/.
measure() {
  local level=$1 step=$2 images=$3
  shift 3
  local log=$ROOT/logs/$level-$step.log load start end
  load=$(cut -d' ' -f1 /proc/loadavg)
  start=$(date +%s.%N)
  /usr/bin/time -v -o "$log.time" "$@" > "$log" 2>&1 || { echo "failed: $* (see $log)" >&2; exit 1; }
  end=$(date +%s.%N)
  local rss
  rss=$(awk '/Maximum resident set size/ {printf "%.0f", $NF / 1024}' "$log.time")
  printf '%s\t%s\t%s\t%.2f\t%s\t%s\n' "$level" "$step" "$images" "$(awk -v a="$start" -v b="$end" 'BEGIN {print b - a}')" \
    "$rss" "$load" | tee -a "$RESULTS"
}

generate() {  # OUT ARGS...: the generator, niced, once
  local out=$1
  shift
  [ -f "$out/.done" ] && return
  rm -rf "$out"
  nice -n 5 "$GEN" --source data/isic2020 --out "$out" "$@"
  touch "$out/.done"
}

generate "$ROOT/test-$TEST_IMAGES" --images "$TEST_IMAGES" --test-set --seed 7
echo "uptime before: $(uptime)" | tee -a "$ROOT/uptime.txt"
for level in "${LEVELS[@]}"; do
  data=$ROOT/data-$level run=$ROOT/run-$level
  generate "$data" --images "$level" --seed "$level"
  rm -rf "$run" "$run-kaggle"
  measure "$level" prepare-official "$level" "$DERMSIM" prepare --data "$data" --out "$run"
  measure "$level" prepare-kaggle "$level" "$DERMSIM" prepare --data "$data/kaggle" --out "$run-kaggle"
  # One epoch = one pass over the benign training images in 2 x 32 batches (README, How it works).
  measure "$level" train-1-epoch "$level" "$DERMSIM" train --run "$run" --epochs 1
  measure "$level" evaluate "$level" "$DERMSIM" evaluate --run "$run"
  measure "$level" predict-test "$TEST_IMAGES" "$DERMSIM" predict --run "$run" \
    --csv "$ROOT/test-$TEST_IMAGES/ISIC_2020_Test_Metadata.csv" --out "$run/predictions-test.csv"
  measure "$level" similar-one "$level" "$DERMSIM" similar --run "$run" \
    "$ROOT/test-$TEST_IMAGES/test/ISIC_S0000000.jpg"
  steps=$(tail -1 "$run/training-log.csv" | cut -d, -f2)  # epoch,step,...
  echo "level $level: the epoch was $steps steps of 64 images; uptime: $(uptime)" | tee -a "$ROOT/uptime.txt"
done

# Full-size originals: dermsim prepare (DCT-scaled TurboJPEG decode) against the Python peer,
# alternating, two rounds each (SCALE_FULL_SIZE_IMAGES=0 skips this).
[ "$FULL_SIZE_IMAGES" -gt 0 ] || exit 0
full=$ROOT/full-$FULL_SIZE_IMAGES
generate "$full" --images "$FULL_SIZE_IMAGES" --width 6000 --height 4000 --noise 12 --melanoma-fraction 0.2 --seed 3
for round in 1 2; do
  rm -rf "$ROOT/run-full"
  measure full-6000x4000 "prepare-r$round" "$FULL_SIZE_IMAGES" "$DERMSIM" prepare --data "$full" \
    --out "$ROOT/run-full"
  measure full-6000x4000 "python-peer-r$round" "$FULL_SIZE_IMAGES" /usr/bin/python3 \
    bench/peer/prepare_peer.py --images "$full/train" --size 128 --workers 2
done
echo "uptime after: $(uptime)" | tee -a "$ROOT/uptime.txt"
