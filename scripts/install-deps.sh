#!/usr/bin/env bash
# Installs what dermsim needs to build, test and run, from Debian packages only. Idempotent: does
# nothing (and needs no network) when everything is already there.
set -euo pipefail

PACKAGES=(
  build-essential cmake git pkg-config
  libtorch-dev                  # LibTorch 1.13 (CPU, oneDNN)
  libopenblas0-openmp           # fast BLAS behind libtorch's matmul (kNN, linear layers)
  libblas-dev                   # cblas.h + libblas.so (-> OpenBLAS) for the neighbour search's sgemm
  libcpp-httplib-dev            # dermsim serve (pulls libssl-dev, zlib1g-dev, libbrotli-dev)
  libturbojpeg0-dev libpng-dev  # image decoding
  libcli11-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev      # libFuzzer + sanitizers for scripts/fuzz.sh
  python3 python3-numpy python3-sklearn python3-torch python3-torchvision  # test oracles only
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
