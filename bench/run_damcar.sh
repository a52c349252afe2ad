#!/usr/bin/env bash
# DAMCAR side by side in one run, for each of its two trained models: `recc bench`
# (MLIR backend, training and inference, models/damcar.rec, batch 512) and the
# PyTorch eager peer (bench/torch_damcar.py, the same model), interleaved (recc,
# peer, recc, peer, ...) so that a change in the machine's load hits both.
#   damcar      the label generator: 512 source + 512 target rows a step, GRL,
#               the EMA teacher updated after every step (recc bench feeds
#               the target stream too)
#   damcar_ret  the DSSM retrieval model at batch 512
# Prints, per model, the median and range of every figure and the ratios of the
# medians (targets: training >= 2x the peer, peak RSS <= the peer's); writes the
# raw JSON and logs under out/bench/damcar/MODEL/.
#
# Usage: bench/run_damcar.sh [--repeats N] [--threads T] [--steps S] [--warmup W]
#                            [--models damcar,damcar_ret]
set -euo pipefail
cd "$(dirname "$0")/.."

repeats=3 threads=2 steps=100 warmup=10 models=damcar,damcar_ret
while (($#)); do
  case "$1" in
    --repeats) repeats=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --models) models=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "run_damcar.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
for v in repeats threads steps; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "run_damcar.sh: --$v must be a positive integer, got '${!v}'" >&2; exit 2; }
done
[[ $warmup =~ ^[0-9]+$ ]] || { echo "run_damcar.sh: --warmup must be a non-negative integer, got '$warmup'" >&2; exit 2; }
IFS=, read -ra list <<<"$models"
for m in "${list[@]}"; do
  [[ $m == damcar || $m == damcar_ret ]] || { echo "run_damcar.sh: --models: unknown model '$m' (damcar, damcar_ret)" >&2; exit 2; }
done

recc=build/compiler/tools/recc
scripts/install-deps.sh --bench >/dev/null
[[ -x $recc ]] || scripts/build.sh

echo "load before the runs: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for m in "${list[@]}"; do
  out=out/bench/damcar/$m
  mkdir -p "$out"
  for ((r = 1; r <= repeats; ++r)); do
    echo "$m, repeat $r/$repeats: recc bench" >&2
    "$recc" bench models/damcar.rec --model "$m" --backends mlir --inference --threads "$threads" \
      --steps "$steps" --warmup "$warmup" --json "$out/recc_$r.json" >"$out/recc_$r.log"
    echo "$m, repeat $r/$repeats: pytorch peer" >&2
    /usr/bin/python3 bench/torch_damcar.py --model "$m" --threads "$threads" --steps "$steps" \
      --warmup "$warmup" --json "$out/torch_$r.json" >/dev/null 2>"$out/torch_$r.log"
  done
done
echo "load after the runs: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

for m in "${list[@]}"; do
  /usr/bin/python3 bench/side_by_side.py --out "out/bench/damcar/$m" --repeats "$repeats" \
    --title "DAMCAR $m" --train-target 2 --json-summary "out/bench/damcar/$m/summary.json"
done
