#!/usr/bin/env bash
# Installs what is missing, builds everything with warnings as errors, and runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
DERMSIM_WERROR=ON bash scripts/build.sh
cd "${BUILD_DIR:-build}"
ctest --output-on-failure -j "$(nproc)" --timeout 900
