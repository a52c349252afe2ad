#!/usr/bin/env bash
# Installs the Debian 12 packages recc needs to build, test and run. Safe to
# re-run: apt-get skips what is already installed.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ccache
  llvm-19-dev llvm-19-tools libmlir-19-dev mlir-19-tools
  libeigen3-dev libtbb-dev libfmt-dev nlohmann-json3-dev libcli11-dev zlib1g-dev libzstd-dev
  libfarmhash-dev
  # training over several processes (docs/distributed.md) and its tests
  libopenmpi-dev openmpi-bin
  libgtest-dev libgmock-dev clang-19 libclang-rt-19-dev libomp-19-dev
  # recc export (ONNX) and its test: the checker and numpy of Debian's python3.
  libonnx-dev libprotobuf-dev python3-onnx python3-numpy
  # recc plot (gnuplot), recc graph --png/--svg (Graphviz), scripts/main.sh (jq)
  gnuplot-nox graphviz jq
)
if [[ "${1:-}" == "--bench" ]]; then
  # The PyTorch peer of the benchmark, over the threaded OpenBLAS.
  packages+=(python3 python3-torch python3-numpy libopenblas0-pthread)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
fi
