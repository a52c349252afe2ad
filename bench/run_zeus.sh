#!/usr/bin/env bash
# ZEUS side by side in one run: `recc bench` (MLIR backend, training and
# inference) and the PyTorch eager peer (bench/torch_zeus.py), interleaved
# (recc, peer, recc, peer, ...), for one stage: pre-training (zeus_pretrain,
# every table trainable) or fine-tuning (zeus_finetune, the global tables
# frozen). Then `recc train` on a gen_zeus file, against the bench's step rate.
# Prints the median and range of every figure and the ratios of the medians;
# writes the raw JSON and logs under out/bench/zeus_STAGE/.
#
# Usage: bench/run_zeus.sh [--stage pretrain|finetune] [--repeats N] [--threads T]
#                          [--steps S] [--warmup W] [--data DIR] [--skip-train]
#   --data        gen_zeus's output folder (default: generated into
#                 out/bench/zeus_data with gen_zeus's defaults); the peer reads
#                 pretrain.csv or train.csv
#   --skip-train  no `recc train` run (and no train/bench ratio)
set -euo pipefail
cd "$(dirname "$0")/.."

stage=pretrain repeats=3 threads=2 steps=10 warmup=2 data="" skip_train=0
while (($#)); do
  case "$1" in
    --stage) stage=$2; shift 2 ;;
    --repeats) repeats=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --skip-train) skip_train=1; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "run_zeus.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ $stage == pretrain || $stage == finetune ]] || { echo "run_zeus.sh: --stage must be pretrain or finetune, got '$stage'" >&2; exit 2; }
for v in repeats threads steps; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "run_zeus.sh: --$v must be a positive integer, got '${!v}'" >&2; exit 2; }
done
[[ $warmup =~ ^[0-9]+$ ]] || { echo "run_zeus.sh: --warmup must be a non-negative integer, got '$warmup'" >&2; exit 2; }
[[ -z $data || -d $data ]] || { echo "run_zeus.sh: --data: no such folder '$data'" >&2; exit 2; }

out=out/bench/zeus_$stage
mkdir -p "$out"
recc=build/compiler/tools/recc
scripts/install-deps.sh --bench >/dev/null
[[ -x $recc && -x build/examples/zeus/gen_zeus ]] || scripts/build.sh
if [[ -z $data ]]; then
  data=out/bench/zeus_data
  [[ -f $data/train.csv ]] || build/examples/zeus/gen_zeus --out "$data" 2>/dev/null
fi
model=zeus_$stage csv=$data/pretrain.csv
[[ $stage == finetune ]] && csv=$data/train.csv
rows=$(( (steps + warmup) * 1024 ))

echo "load before the runs: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for ((r = 1; r <= repeats; ++r)); do
  echo "repeat $r/$repeats: recc bench $model" >&2
  "$recc" bench models/zeus.rec --model "$model" --backends mlir --inference --threads "$threads" \
    --steps "$steps" --warmup "$warmup" --json "$out/recc_$r.json" >"$out/recc_$r.log"
  echo "repeat $r/$repeats: pytorch peer" >&2
  /usr/bin/python3 bench/torch_zeus.py --stage "$stage" --threads "$threads" --steps "$steps" \
    --warmup "$warmup" --data "$csv" --max-rows "$rows" --json "$out/torch_$r.json" \
    >/dev/null 2>"$out/torch_$r.log"
done
train_log=()
if ((!skip_train)); then
  echo "recc train $model on $csv" >&2
  init=()
  if [[ $stage == finetune ]]; then
    "$recc" train models/zeus.rec --model zeus_pretrain --data "$data/pretrain.csv" --threads "$threads" \
      --out "$out/pretrain.safetensors" >"$out/pretrain.log" 2>&1
    init=(--init-from "$out/pretrain.safetensors")
  fi
  "$recc" train models/zeus.rec --model "$model" --data "$csv" --threads "$threads" --epochs 1 \
    "${init[@]}" >"$out/train.log" 2>&1
  train_log=(--train-log "$out/train.log")
fi
echo "load after the runs: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

/usr/bin/python3 bench/side_by_side.py --out "$out" --repeats "$repeats" --title "ZEUS $stage" \
  --train-target 3 --infer-target 3 "${train_log[@]}" \
  --json-summary "$out/summary.json"
