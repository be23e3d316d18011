#!/usr/bin/env bash
# Data-parallel training side by side: 1 rank x 2 threads against 2 ranks x 1 thread on the shipped
# ISIC sample (default network, 2 epochs, alternating, two rounds), then the validation AUC of both
# on the HAM sample (15 epochs, seeds 0 and 1). Prints one line a run; see docs/distributed.md.
# Usage: bash bench/distributed_training.sh [BUILD_DIR] [WORK_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}/dermsim
W=${2:-/tmp/dermsim-distributed-bench}
[ -f "$W/isic/cache.bin" ] || "$B" prepare --data data/isic2020 --out "$W/isic" >/dev/null 2>&1
[ -f "$W/ham/cache.bin" ] || "$B" prepare --data data/ham10000 --out "$W/ham" >/dev/null 2>&1
ranks_flag() { if [ "$1" = 1 ]; then echo "--threads 2"; else echo "--nproc $1"; fi; }
for round in 1 2; do
  for n in 1 2; do
    summary=$("$B" train --run "$W/isic" --epochs 2 $(ranks_flag $n) 2>/dev/null | head -1)
    rates=$(tail -n +2 "$W/isic/training-log.csv" | awk -F, '{printf "%.1f ", $7}')
    echo "isic round $round, $n rank(s): images/s per epoch $rates| $summary"
  done
done
for seed in 0 1; do
  for n in 1 2; do
    "$B" train --run "$W/ham" --epochs 15 --seed $seed $(ranks_flag $n) >/dev/null 2>&1
    awk -F, -v s=$seed -v n=$n 'NR > 1 { if ($4 > best) { best = $4; at = $1 } last = $4 }
      END { printf "ham seed %s, %s rank(s): val AUC last epoch %.4f, best %.4f (epoch %s)\n", s, n, last, best, at }' \
      "$W/ham/training-log.csv"
  done
done
