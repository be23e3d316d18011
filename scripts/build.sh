#!/usr/bin/env bash
# Configures (once) and builds dermsim into build/. Extra arguments go to `cmake --build`.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DDERMSIM_WERROR=${DERMSIM_WERROR:-OFF}
fi
cmake --build "$BUILD_DIR" -j "$(nproc)" "$@"
