#!/usr/bin/env bash
# Configures (once) and builds dermsim into build/. Extra arguments go to `cmake --build`.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
# ccache, where installed, lets worktrees and rebuilds reuse objects; nothing requires it.
LAUNCHER=()
if command -v ccache >/dev/null; then
  LAUNCHER=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$(cd .. && pwd)}
  export CCACHE_SLOPPINESS=${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}
fi
if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DDERMSIM_WERROR=${DERMSIM_WERROR:-OFF} "${LAUNCHER[@]}"
fi
cmake --build "$BUILD_DIR" -j "$(nproc)" "$@"
