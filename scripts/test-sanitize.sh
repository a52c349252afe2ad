#!/usr/bin/env bash
# The sanitizer run of CI: builds the runtime with ASan + UBSan
# (RECC_SANITIZE=ON, without the MLIR backend) in ./build-asan and runs its
# tests: the CSV/TSV reader, the checkpoint reader and writer, atomic files,
# tables, optimizers, state, metrics, batching, the trainer and the memory
# check. A sanitizer report fails the run. The front end (the model reader)
# runs under ASan + UBSan in the fuzz tests (ctest -L fuzz). The whole suite is
# not run this way: the compiler, the MLIR JIT and the whole-model tests would
# add about CI's whole budget again (see README, "Tests").
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build-asan}
launcher=()
# RelWithDebInfo compiles with -g, which makes ccache hash the working
# directory: a fresh clone (CI) would miss every object of the last run.
export CCACHE_NOHASHDIR=1
export CCACHE_BASEDIR="$PWD"   # tree paths hashed relative to the clone
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
cmake -S . -B "$build" "${launcher[@]}" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DRECC_SANITIZE=ON -DRECC_WITH_MLIR=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" --target recc_runtime_tests
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
"$build/tests/runtime/recc_runtime_tests" --gtest_brief=1
