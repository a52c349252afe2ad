#!/usr/bin/env bash
# Every paper model side by side with its PyTorch peer, in one table (median
# and range over interleaved repeats), plus the data reader's rate and the time
# from .rec to a JIT-ready step of every model. Writes out/bench/all.md and
# out/bench/all.json; see bench/README.md, "Every model in one table".
#
# Usage: bench/run_all.sh [--repeats N] [--threads T] [--quick] [--only PARTS]
#   --quick  tiny steps, one repeat: checks that everything runs, measures nothing
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --bench >/dev/null
[[ -x build/compiler/tools/recc && -x build/bench/read_rate && -x build/examples/gen_funnel ]] \
  || scripts/build.sh
exec /usr/bin/python3 bench/run_all.py "$@"
