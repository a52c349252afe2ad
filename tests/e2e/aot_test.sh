#!/usr/bin/env bash
# `recc compile` writes a standalone trainer that runs from another directory
# with only its own files, and gives the same metrics as the JIT backend.
# Usage: aot_test.sh RECC INPUTS_DIR
set -eu
recc=$1
inputs=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/build" "$work/elsewhere"

"$recc" compile "$inputs/tiny.rec" -o "$work/build/trainer"
cp "$work/build/trainer" "$work/elsewhere/"
rm -rf "$work/build"

{
  echo "user_id,item_id,price,click"
  for i in $(seq 0 399); do echo "$((i % 50)),$((i * 7 % 40)),$((i % 13)).5,$(( (i % 50) < 10 ? 1 : 0 ))"; done
} >"$work/elsewhere/data.csv"

cd "$work/elsewhere"
./trainer train --data data.csv --out model.safetensors --metrics-json aot.json --epochs 3
./trainer eval --ckpt model.safetensors --data data.csv --metrics-json eval.json
./trainer predict --ckpt model.safetensors --data data.csv --out scores.csv
rows=$(($(wc -l <scores.csv) - 1))
[[ $rows -eq 400 ]] || { echo "FAIL: predict wrote $rows rows, want 400"; exit 1; }

# The same model on the JIT backend from the same seed: same metrics.
"$recc" train "$inputs/tiny.rec" --data data.csv --epochs 3 --metrics-json jit.json >/dev/null
auc() { grep -o '"auc": [0-9.e-]*' "$1" | cut -d' ' -f2; }
echo "aot auc $(auc aot.json), eval auc $(auc eval.json), jit auc $(auc jit.json)"
awk -v a="$(auc aot.json)" -v j="$(auc jit.json)" -v e="$(auc eval.json)" 'BEGIN {
  d = a - j; if (d < 0) d = -d; f = a - e; if (f < 0) f = -f;
  if (a < 0.9 || d > 1e-3 || f > 1e-6) { print "FAIL: AUCs disagree or are too low"; exit 1 }
}'
echo "aot: 1 passed, 0 failed"
