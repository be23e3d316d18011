#!/usr/bin/env bash
# Installs what dermsim needs to build, test and run: Debian packages, and the npm packages of web/
# pinned by web/package-lock.json. Idempotent: does nothing (and needs no network) when everything
# is already there.
set -euo pipefail

PACKAGES=(
  build-essential cmake git pkg-config
  libtorch-dev                  # LibTorch 1.13 (CPU, oneDNN)
  libgloo-dev                   # Gloo headers, which LibTorch's c10d headers include (distributed/)
  libopenblas0-openmp           # fast BLAS behind libtorch's matmul (kNN, linear layers)
  libblas-dev                   # cblas.h + libblas.so (-> OpenBLAS) for the neighbour search's sgemm
  libcpp-httplib-dev            # dermsim serve (pulls libssl-dev, zlib1g-dev, libbrotli-dev)
  libturbojpeg0-dev libpng-dev  # image decoding
  libcli11-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev      # libFuzzer + sanitizers for scripts/fuzz.sh
  python3 python3-numpy python3-sklearn python3-torch python3-torchvision  # test oracles only
  nodejs chromium               # web/: npm + esbuild build the page; browser tests drive chromium
)
# Debian ships npm apart from nodejs; NodeSource's nodejs carries its own (and conflicts with Debian's).
command -v npm >/dev/null || PACKAGES+=(npm)

# The page's npm packages, pinned by web/package-lock.json: npm ci only when node_modules differs.
install_web_packages() {
  local web
  web="$(cd "$(dirname "${BASH_SOURCE[0]}")/../web" && pwd)"
  if ! node "$web/installed.mjs" 2>/dev/null; then
    echo "install-deps: npm ci in $web"
    (cd "$web" && npm ci --no-audit --no-fund)
  fi
}

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  install_web_packages
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
install_web_packages
