#!/usr/bin/env bash
# Long fuzzing runs: builds libFuzzer target TARGET (frontend, csv or
# checkpoint; clang-19 with ASan + UBSan) in ./build-fuzz (or $FUZZ_BUILD_DIR,
# e.g. build/tests/fuzz/work to reuse what ctest built) and fuzzes it for
# SECONDS seconds (default 600) or N executions, then prints the executions,
# exec/s and findings. Exits non-zero with the reproducer's path on a finding.
#   usage: scripts/fuzz.sh TARGET [SECONDS | --runs N]
# e.g.   nice -n 19 scripts/fuzz.sh csv --runs 1000000
# Replay a finding: build-fuzz/fuzz_TARGET build-fuzz/TARGET/crash-<hash>
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: scripts/fuzz.sh TARGET [SECONDS | --runs N]}
shift
start=$(date +%s)
build=$(realpath -m "${FUZZ_BUILD_DIR:-build-fuzz}")
tests/fuzz/run_fuzz.sh "$build" "$target" "${@:-600}"
echo "fuzz $target: $(( $(date +%s) - start )) s wall, build included"
