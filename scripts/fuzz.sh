#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) into build-fuzz/ and runs each over its corpus
# in fuzz/corpus/<name>/ for SECONDS_PER_TARGET (default 10: the CI smoke, ~1 minute for all).
# New inputs found go to build-fuzz/corpus/<name>/ (the checked-in corpus stays small); a crash
# stops the script with the reproducer saved as build-fuzz/crash-<name>-*.
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     e.g. scripts/fuzz.sh 600 csv decode
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-10}
shift || true
BUILD_DIR=${FUZZ_BUILD_DIR:-build-fuzz}
RSS_LIMIT_MB=${FUZZ_RSS_LIMIT_MB:-2048}

# max_len per target: large enough for a realistic input of that kind, small enough to stay fast.
declare -A MAX_LEN=([csv]=4096 [metadata]=4096 [decode]=16384 [classifier_json]=4096 [image_cache]=16384
                  [model_card]=4096 [reference_index]=8192)

if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$BUILD_DIR" -DDERMSIM_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$BUILD_DIR" -j "$(nproc)" >/dev/null

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(csv metadata decode classifier_json image_cache model_card reference_index)
for name in "${targets[@]}"; do
  seeds=fuzz/corpus/$name
  found=$BUILD_DIR/corpus/$name
  mkdir -p "$found"
  echo "fuzz: $name for ${SECONDS_PER_TARGET}s"
  "$BUILD_DIR/fuzz/fuzz_$name" "$found" "$seeds" -max_total_time="$SECONDS_PER_TARGET" \
    -max_len="${MAX_LEN[$name]}" -rss_limit_mb="$RSS_LIMIT_MB" -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$BUILD_DIR/crash-$name-" 2>"$BUILD_DIR/fuzz-$name.log" || {
    echo "fuzz: $name FAILED (log: $BUILD_DIR/fuzz-$name.log)"; tail -40 "$BUILD_DIR/fuzz-$name.log"; exit 1; }
  grep -E "^stat::(number_of_executed_units|average_exec_per_sec|new_units_added)" "$BUILD_DIR/fuzz-$name.log" |
    tr '\n' ' '; echo
done
echo "fuzz: all ${#targets[@]} targets ran ${SECONDS_PER_TARGET}s without a finding"
