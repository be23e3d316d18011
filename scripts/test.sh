#!/usr/bin/env bash
# Installs what is missing, builds everything with warnings as errors, runs the whole suite, then
# a seconds-long smoke of every fuzz target (clang, ASan + UBSan; see scripts/fuzz.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
DERMSIM_WERROR=ON bash scripts/build.sh
(cd "${BUILD_DIR:-build}" && ctest --output-on-failure -j "$(nproc)" --timeout 900)
bash scripts/fuzz.sh 10
