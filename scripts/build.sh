#!/usr/bin/env bash
# Configures and builds recc in ./build (Release, Ninja).
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache, where installed, makes rebuilds in other checkouts of the tree cheap.
# Paths inside the tree are hashed relative to it (CCACHE_BASEDIR), so a fresh
# clone in any folder (CI's) hits the objects an earlier checkout compiled.
export CCACHE_BASEDIR="$PWD"
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
cmake -S . -B "${BUILD_DIR:-build}" "${launcher[@]}" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMLIR_DIR=/usr/lib/llvm-19/lib/cmake/mlir \
  -DLLVM_DIR=/usr/lib/llvm-19/lib/cmake/llvm >/dev/null
cmake --build "${BUILD_DIR:-build}" -j "$(nproc)"
