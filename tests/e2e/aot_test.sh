#!/usr/bin/env bash
# `recc compile` writes a standalone trainer that runs from another directory
# with only its own files, and gives the same metrics as the JIT backend; a
# model with state keeps it in its checkpoint.
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
# The trainer validates its flags like recc: a nonsense value is an error
# naming the flag, not a silent default.
for args in "--epochs 0" "--threads -2"; do
  # shellcheck disable=SC2086
  if out=$(./trainer train --data data.csv $args 2>&1); then
    echo "FAIL: trainer accepted $args"; exit 1
  fi
  grep -q -- "^${args%% *}: must be an integer from" <<<"$out" || { echo "FAIL: $args: $out"; exit 1; }
done
# ... and checks its output paths before training.
if out=$(./trainer train --data data.csv --out nodir/m.safetensors 2>&1); then
  echo "FAIL: trainer accepted --out in a missing directory"; exit 1
fi
grep -q -- "^error: --out: cannot write 'nodir/m.safetensors'" <<<"$out" || { echo "FAIL: $out"; exit 1; }
./trainer train --data data.csv --out model.safetensors --metrics-json aot.json --epochs 3 \
  --log aot.jsonl --log-every 10
# --log works in a standalone trainer as in recc: 25 steps an epoch, a line
# every 10 steps and at each epoch's end (9 in all), and the final evaluation.
[[ $(grep -c '^{"kind":"train","step":' aot.jsonl) -eq 9 && $(grep -c '^{"kind":"eval"' aot.jsonl) -eq 1 ]] \
  || { echo "FAIL: aot.jsonl: $(cat aot.jsonl)"; exit 1; }
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

# A model with state (batch_norm's running statistics, a running mean, EMA
# shadows of a head and a table): the standalone trainer keeps it across
# steps and in its checkpoint, so evaluating the reloaded checkpoint gives
# exactly the metrics training ended with, and the JIT agrees.
"$recc" compile "$inputs/state.rec" -o "$work/state_trainer"
{
  echo "user_id,price,age,click"
  for i in $(seq 0 319); do echo "$((i % 25)),$((i % 13)).5,$((i % 7)),$(( (i % 25) < 8 ? 1 : 0 ))"; done
} >state.csv
"$work/state_trainer" train --data state.csv --out state.safetensors --metrics-json st_aot.json --epochs 3
"$work/state_trainer" eval --ckpt state.safetensors --data state.csv --metrics-json st_eval.json
"$recc" train "$inputs/state.rec" --data state.csv --epochs 3 --metrics-json st_jit.json >/dev/null
loss() { grep -o '"loss": [0-9.e-]*' "$1" | cut -d' ' -f2; }
echo "state: aot auc $(auc st_aot.json) loss $(loss st_aot.json), eval auc $(auc st_eval.json)" \
  "loss $(loss st_eval.json), jit auc $(auc st_jit.json)"
awk -v a="$(auc st_aot.json)" -v j="$(auc st_jit.json)" -v e="$(auc st_eval.json)" \
    -v la="$(loss st_aot.json)" -v le="$(loss st_eval.json)" 'BEGIN {
  d = a - j; if (d < 0) d = -d; f = a - e; if (f < 0) f = -f; g = la - le; if (g < 0) g = -g;
  if (a < 0.7 || d > 1e-3 || f > 1e-9 || g > 1e-9) { print "FAIL: state model metrics disagree"; exit 1 }
}'
echo "aot: 2 passed, 0 failed"
