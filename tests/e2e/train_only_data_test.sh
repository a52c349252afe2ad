#!/usr/bin/env bash
# A column that only the training graph reads (under train_only) is required
# in training data and optional in evaluation data: train --eval-data, eval
# and predict work on a file without it; training on that file is the usual
# missing-column error.
# Usage: train_only_data_test.sh RECC INPUTS_DIR
set -eu
recc=$1
model=$2/train_only_weight.rec
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
{
  echo "user_id,w,click"
  for i in $(seq 0 63); do echo "$((i % 50)),$((i % 3 + 1)),$((i % 2))"; done
} >"$work/train.csv"
cut -d, -f1,3 "$work/train.csv" >"$work/test.csv"   # no w

"$recc" train "$model" --data "$work/train.csv" --eval-data "$work/test.csv" \
  --out "$work/m.safetensors" >/dev/null
"$recc" eval "$model" --ckpt "$work/m.safetensors" --data "$work/test.csv" | grep -q '^.*test.csv: auc '
"$recc" predict "$model" --ckpt "$work/m.safetensors" --data "$work/test.csv" --out "$work/p.csv" 2>/dev/null
[[ $(wc -l <"$work/p.csv") -eq 65 ]] || { echo "FAIL: predict wrote $(wc -l <"$work/p.csv") lines"; exit 1; }
echo "ok   eval and predict without the training-only column"

if out=$("$recc" train "$model" --data "$work/test.csv" 2>&1); then
  echo "FAIL: training without column 'w' succeeded"; exit 1
fi
grep -q "test.csv: missing column 'w' (model feature 'w'); header has: user_id, click" <<<"$out" \
  || { echo "FAIL: unexpected error: $out"; exit 1; }
echo "ok   training without it: $(grep -m1 "missing column" <<<"$out")"
