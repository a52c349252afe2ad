#!/usr/bin/env bash
# SAR-Net side by side in one run: `recc bench` (MLIR backend, training and
# inference) and the PyTorch eager peer (bench/torch_sarnet.py), interleaved
# (recc, peer, recc, peer, ...) so that a change in the machine's load hits
# both; then `recc train` on a CSV, against the bench's step rate. Prints the
# median and range of every figure and the ratios of the medians; writes the
# raw JSON and logs under out/bench/sarnet/.
#
# Usage: bench/run_sarnet.sh [--repeats N] [--threads T] [--steps S] [--warmup W]
#                            [--data FILE.csv] [--train-rows N] [--skip-train]
#   --data        a CSV with models/sarnet.rec's columns (e.g. the SAR-Net
#                 generator's); default: random rows written by sarnet_data.py
#   --train-rows  rows of that random CSV (default 40 batches of 2048)
#   --skip-train  no `recc train` run (and no train/bench ratio)
set -euo pipefail
cd "$(dirname "$0")/.."

repeats=3 threads=2 steps=10 warmup=2 data="" train_rows=81920 skip_train=0
while (($#)); do
  case "$1" in
    --repeats) repeats=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --train-rows) train_rows=$2; shift 2 ;;
    --skip-train) skip_train=1; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "run_sarnet.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
for v in repeats threads steps train_rows; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "run_sarnet.sh: --${v//_/-} must be a positive integer, got '${!v}'" >&2; exit 2; }
done
[[ $warmup =~ ^[0-9]+$ ]] || { echo "run_sarnet.sh: --warmup must be a non-negative integer, got '$warmup'" >&2; exit 2; }
[[ -z $data || -f $data ]] || { echo "run_sarnet.sh: --data: no such file '$data'" >&2; exit 2; }

out=out/bench/sarnet
mkdir -p "$out"
recc=build/compiler/tools/recc
scripts/install-deps.sh --bench >/dev/null
[[ -x $recc ]] || scripts/build.sh
if [[ -z $data ]]; then
  data=$out/sarnet_random.csv
  echo "writing $train_rows random rows to $data" >&2
  /usr/bin/python3 bench/sarnet_data.py --out "$data" --rows "$train_rows"
fi

echo "load before the runs: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for ((r = 1; r <= repeats; ++r)); do
  echo "repeat $r/$repeats: recc bench" >&2
  "$recc" bench models/sarnet.rec --backends mlir --inference --threads "$threads" \
    --steps "$steps" --warmup "$warmup" --json "$out/recc_$r.json" >"$out/recc_$r.log"
  echo "repeat $r/$repeats: pytorch peer" >&2
  /usr/bin/python3 bench/torch_sarnet.py --threads "$threads" --steps "$steps" --warmup "$warmup" \
    --data "$data" --json "$out/torch_$r.json" >/dev/null 2>"$out/torch_$r.log"
done
train_log=()
if ((!skip_train)); then
  echo "recc train on $data" >&2
  "$recc" train models/sarnet.rec --data "$data" --threads "$threads" --epochs 1 \
    >"$out/train.log" 2>&1
  train_log=(--train-log "$out/train.log")
fi
echo "load after the runs: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

/usr/bin/python3 bench/side_by_side.py --out "$out" --repeats "$repeats" --title SAR-Net \
  --train-target 3 --infer-target 3 "${train_log[@]}" \
  --json-summary "$out/summary.json"
