#!/usr/bin/env bash
# Reproduces a paper's experiments with recc and compares them with the paper:
#   scripts/reproduce.sh PAPER [--quick] [--no-build] [--out DIR] [--jobs N] [--seed-count N]
# PAPER is one of the scripts/lib/reproduce_PAPER.py (today: sarnet, uma2, zeus, damcar). Builds
# recc and the paper's data generator unless --no-build, then runs the
# reproduction, which prints the paper's tables beside recc's measurements and
# writes out/reproduce/PAPER.json (--out DIR: DIR/PAPER.json). --quick runs
# small data to check that everything trains (the test suite runs it). Other
# flags go to the paper's script (damcar: --rank deepfm|dcn, the frozen ranker;
# dcn writes DIR/damcar_dcn.json).
set -euo pipefail
cd "$(dirname "$0")/.."
usage="usage: scripts/reproduce.sh PAPER [--quick] [--no-build] [--out DIR] [--jobs N] [--seed-count N]"
paper=${1:?$usage}
shift
script=scripts/lib/reproduce_$paper.py
if [[ ! -f $script ]]; then
  have=$(cd scripts/lib && ls reproduce_*.py | sed -n 's/^reproduce_\(.*\)\.py$/\1/p' | grep -v '^common$' | tr '\n' ' ')
  echo "error: no reproduction for '$paper' (have: $have)" >&2
  exit 2
fi
build=${BUILD_DIR:-build}
args=()
for a in "$@"; do
  if [[ $a == --no-build ]]; then nobuild=1; else args+=("$a"); fi
done
# Each paper names the targets it needs (recc and its data generator).
declare -A targets=([sarnet]="recc gen_sarnet" [uma2]="recc gen_uma2" [zeus]="recc gen_zeus"
                  [damcar]="recc gen_damcar walk_sample")
if [[ -z ${nobuild:-} ]]; then
  if [[ -f $build/build.ninja ]]; then
    cmake --build "$build" -j "$(nproc)" --target ${targets[$paper]:-recc}
  else
    scripts/build.sh
  fi
fi
exec python3 "$script" --build "$build" "${args[@]}"
