#!/usr/bin/env bash
# Resuming mid-epoch is exact: a run interrupted twice by --max-steps (once in
# each epoch) and resumed with --init ends with the same checkpoint, byte for
# byte, as the same 2-epoch run uninterrupted. The interrupted runs also write
# --checkpoint-every 5 and stop between those steps: when checkpoints are
# written changes nothing (a table EMA shadow's lazy state is saved whole).
# Models: tiny (a tanh_zscore feature), state (batch norm, a running mean, EMA
# shadows of a dense head and of a table) and, on the reference backend, a
# model with a second input stream.
# Usage: midepoch_resume_test.sh RECC INPUTS_DIR BACKEND [MODELS]
set -eu
recc=$1
inputs=$2
backend=$3
models=${4:-tiny state}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
here=$(dirname "$0")
{
  echo "user_id,item_id,price,age,click"
  for i in $(seq 0 303); do
    echo "$((i % 30)),$((i * 7 % 40)),$((i % 13)).$((i % 7))3,$((i % 5)).5,$(( (i % 30) < 8 ? 1 : 0 ))"
  done
} >"$work/data.csv"
passed=0
# One thread: the comparison is of bytes, so no reduction order may vary.
train() {
  "$recc" train "$1" --backend "$backend" --threads 1 --data "$work/data.csv" "${@:2}" \
    >"$work/log" 2>&1 || { cat "$work/log"; exit 1; }
}
for model in $models; do
  rec=$inputs/$model.rec
  train "$rec" --epochs 2 --out "$work/straight.safetensors"
  # 304 rows in batches of 16: 19 steps an epoch (on either backend, whether or
  # not it drops a partial batch); stop at step 12 (epoch 1) and at step 23
  # (epoch 2, its 4th step), then finish.
  every=(--checkpoint-every 5)
  train "$rec" "${every[@]}" --epochs 2 --max-steps 12 --out "$work/part.safetensors"
  grep -q "stopped after --max-steps 12 (step 12)" "$work/log" ||
    { echo "FAIL: $model: no --max-steps stop line"; cat "$work/log"; exit 1; }
  train "$rec" "${every[@]}" --max-steps 11 --init "$work/part.safetensors" \
    --out "$work/part.safetensors"
  grep -q '"epoch_step":4' <(head -c 20000 "$work/part.safetensors" | tr -d '\\') ||
    { echo "FAIL: $model: the second stop is not at step 4 of epoch 2"; exit 1; }
  train "$rec" "${every[@]}" --init "$work/part.safetensors" --out "$work/resumed.safetensors"
  if ! cmp -s "$work/straight.safetensors" "$work/resumed.safetensors"; then
    echo "FAIL: $model ($backend): uninterrupted and resumed mid-epoch checkpoints differ:"
    /usr/bin/python3 "$here/ckpt_compare.py" "$work/straight.safetensors" \
      "$work/resumed.safetensors" | grep -v '^same' || echo "(metadata only)"
    exit 1
  fi
  passed=$((passed + 1))
done
# Streamed data (--stream-buffer, docs/data.md): the resumed epoch draws the
# batches it already ran from the shuffle buffer again without running them,
# and ends where the uninterrupted streamed run ends; an in-memory run may not
# resume it mid-epoch (another row order).
if [ "$backend" = reference ]; then
  buffer=(--stream-buffer 50)
  train "$inputs/tiny.rec" "${buffer[@]}" --epochs 2 --out "$work/straight.safetensors"
  train "$inputs/tiny.rec" "${buffer[@]}" --epochs 2 --max-steps 12 --out "$work/part.safetensors"
  if "$recc" train "$inputs/tiny.rec" --threads 1 --data "$work/data.csv" \
       --init "$work/part.safetensors" >"$work/log" 2>&1 ||
     ! grep -q "through a shuffle buffer of 50 rows (--stream-buffer), this run reads it in memory" "$work/log"; then
    echo "FAIL: an in-memory run resumed a streamed mid-epoch checkpoint:"; cat "$work/log"; exit 1
  fi
  train "$inputs/tiny.rec" "${buffer[@]}" --init "$work/part.safetensors" \
    --out "$work/resumed.safetensors"
  cmp -s "$work/straight.safetensors" "$work/resumed.safetensors" ||
    { echo "FAIL: streamed: uninterrupted and resumed mid-epoch checkpoints differ"; exit 1; }
  passed=$((passed + 1))
fi
# A model with a second input stream (cycled by step, docs/streams.md): 42 rows
# in batches of 4 make 11 steps an epoch; stop at step 13 (epoch 2) and finish.
if [ "$backend" = reference ]; then
  cat >"$work/two.rec" <<'REC'
model two {
  input x : dense
  label y
  stream tgt batch = 3 {
    input xt from "x" : dense
  }
  block lin(v) { return dense(v, 1) }
  a = lin(x)
  b = lin(xt, share = a)
  loss ce = bce_logits(a, y)
  loss dom = mean(softplus(b))
  sa = sigmoid(a)
  output sa
  train { optimizer = adam(lr = 0.01)  batch = 4 }
}
REC
  { echo "x,y"; for i in $(seq 0 41); do echo "$((i % 7)).$((i % 3)),$((i % 2))"; done; } >"$work/data.csv"
  { echo "x"; for i in $(seq 0 10); do echo "$((i % 5)).25"; done; } >"$work/tgt.csv"
  streams=(--stream tgt="$work/tgt.csv")
  train "$work/two.rec" "${streams[@]}" --epochs 3 --out "$work/straight.safetensors"
  train "$work/two.rec" "${streams[@]}" --epochs 3 --max-steps 13 --out "$work/part.safetensors"
  train "$work/two.rec" "${streams[@]}" --init "$work/part.safetensors" --out "$work/resumed.safetensors"
  cmp -s "$work/straight.safetensors" "$work/resumed.safetensors" ||
    { echo "FAIL: two streams: uninterrupted and resumed mid-epoch checkpoints differ"; exit 1; }
  passed=$((passed + 1))
fi
echo "midepoch_resume ($backend): $passed passed, 0 failed"
