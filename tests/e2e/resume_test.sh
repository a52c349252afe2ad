#!/usr/bin/env bash
# Resuming is exact: training 2 epochs straight and training 1 epoch, then
# resuming from its checkpoint with --init for 1 more, give byte-identical
# checkpoints (the tiny model has a tanh_zscore feature, whose statistics
# must survive the checkpoint at full precision).
# Usage: resume_test.sh RECC INPUTS_DIR
set -eu
recc=$1
inputs=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
{
  echo "user_id,item_id,price,click"
  for i in $(seq 0 299); do echo "$((i % 50)),$((i * 7 % 40)),$((i % 13)).$((i % 7))3,$(( (i % 50) < 10 ? 1 : 0 ))"; done
} >"$work/data.csv"
# One thread: the comparison is of bytes, so no reduction order may vary.
train() { "$recc" train "$inputs/tiny.rec" --backend reference --threads 1 --data "$work/data.csv" "$@" >/dev/null 2>&1; }
train --epochs 2 --out "$work/straight.safetensors"
train --epochs 1 --out "$work/first.safetensors"
train --epochs 1 --init "$work/first.safetensors" --out "$work/resumed.safetensors"
if cmp -s "$work/straight.safetensors" "$work/resumed.safetensors"; then
  echo "resume: 1 passed, 0 failed"
else
  echo "FAIL: 2 epochs straight and 1 + 1 resumed differ"; exit 1
fi
