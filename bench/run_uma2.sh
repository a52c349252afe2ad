#!/usr/bin/env bash
# UMA² side by side in one run: `recc bench` (MLIR backend, training and
# inference, models/uma2.rec at the paper's vocabularies, batch 512) and the
# PyTorch eager peer (bench/torch_uma2.py, the same model), interleaved (recc,
# peer, recc, peer, ...) so that a change in the machine's load hits both.
# Prints the median and range of every figure and the ratios of the medians;
# writes the raw JSON and logs under out/bench/uma2/.
#
# Usage: bench/run_uma2.sh [--repeats N] [--threads T] [--steps S] [--warmup W]
#                          [--data FILE.csv]
#   --data   a training CSV of examples/uma2/gen_uma2 for the peer (e.g.
#            ss_abc_fixed.csv); default: the peer's random rows
set -euo pipefail
cd "$(dirname "$0")/.."

repeats=3 threads=2 steps=40 warmup=5 data=""
while (($#)); do
  case "$1" in
    --repeats) repeats=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "run_uma2.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
for v in repeats threads steps; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "run_uma2.sh: --$v must be a positive integer, got '${!v}'" >&2; exit 2; }
done
[[ $warmup =~ ^[0-9]+$ ]] || { echo "run_uma2.sh: --warmup must be a non-negative integer, got '$warmup'" >&2; exit 2; }
[[ -z $data || -f $data ]] || { echo "run_uma2.sh: --data: no such file '$data'" >&2; exit 2; }

out=out/bench/uma2
mkdir -p "$out"
recc=build/compiler/tools/recc
scripts/install-deps.sh --bench >/dev/null
[[ -x $recc ]] || scripts/build.sh
peer_data=()
[[ -n $data ]] && peer_data=(--data "$data")

echo "load before the runs: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for ((r = 1; r <= repeats; ++r)); do
  echo "repeat $r/$repeats: recc bench" >&2
  "$recc" bench models/uma2.rec --backends mlir --inference --threads "$threads" \
    --steps "$steps" --warmup "$warmup" --json "$out/recc_$r.json" >"$out/recc_$r.log"
  echo "repeat $r/$repeats: pytorch peer" >&2
  /usr/bin/python3 bench/torch_uma2.py --threads "$threads" --steps "$steps" --warmup "$warmup" \
    "${peer_data[@]}" --json "$out/torch_$r.json" >/dev/null 2>"$out/torch_$r.log"
done
echo "load after the runs: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

/usr/bin/python3 bench/side_by_side.py --out "$out" --repeats "$repeats" --title "UMA²" \
  --train-target 2 \
  --json-summary "$out/summary.json"
