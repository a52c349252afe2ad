#!/usr/bin/env bash
# The test command: install dependencies, build, run the whole suite under
# ctest, then the sanitizer run (the runtime's tests under ASan + UBSan).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
(cd build && ctest --output-on-failure -j "$(nproc)" --timeout 600)
scripts/test-sanitize.sh
