#!/usr/bin/env bash
# Sharded inference side by side: `predict --dir` over the 1,100 images of the shipped ISIC sample as
# 1 rank x 2 threads against 2 ranks x 1 thread (--nproc 2), alternating, three rounds, on a run
# trained for one epoch (default network, 128 px). Wall time of the whole command (start, model load,
# decode, embed, write), with the load average just before each run; then whether the two
# predictions.csv are byte-identical (they need not be: 2 threads and 1 thread round differently).
# Prints one line a run; see docs/distributed.md.
# Usage: bash bench/distributed_inference.sh [BUILD_DIR] [WORK_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}/dermsim
W=${2:-/tmp/dermsim-inference-bench}
[ -f "$W/isic/cache.bin" ] || "$B" prepare --data data/isic2020 --out "$W/isic" >/dev/null 2>&1
[ -f "$W/isic/model.json" ] || "$B" train --run "$W/isic" --epochs 1 --threads 2 >/dev/null 2>&1
ranks_flag() { if [ "$1" = 1 ]; then echo "--threads 2"; else echo "--nproc $1"; fi; }
for round in 1 2 3; do
  for n in 1 2; do
    load=$(cut -d' ' -f1 /proc/loadavg)
    start=$(date +%s.%N)
    images=$("$B" predict --run "$W/isic" --dir data/isic2020/train --out "$W/predictions-$n.csv" \
      $(ranks_flag $n) 2>/dev/null | sed -n 's/^wrote [^:]*: \([0-9]*\) images.*/\1/p')
    end=$(date +%s.%N)
    awk -v r=$round -v n=$n -v i="$images" -v s=$start -v e=$end -v l=$load 'BEGIN {
      printf "round %s, %s rank(s): %s images in %.2f s = %.1f images/s (load average before: %s)\n",
             r, n, i, e - s, i / (e - s), l }'
  done
done
if cmp -s "$W/predictions-1.csv" "$W/predictions-2.csv"; then
  echo "predictions.csv of 1 and 2 ranks: byte-identical"
else
  echo "predictions.csv of 1 and 2 ranks: differ in $(diff "$W/predictions-1.csv" "$W/predictions-2.csv" | grep -c '^<') rows (thread count)"
fi
