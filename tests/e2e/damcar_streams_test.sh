#!/usr/bin/env bash
# DAMCAR's generator trains on two input streams end to end: exposures from
# gen_damcar (the source, --data) and random-walk samples from walk_sample
# (the target, --stream target=FILE), on small sizes.
#  - bad input: no --stream, an unknown stream, a stream file without a column;
#  - both backends give the same mean loss over the first 5 steps;
#  - a few hundred MLIR steps keep the loss finite; the checkpoint holds the
#    EMA teacher's shadows, and evaluating it gives the final training metrics;
#  - predict on the walk samples (no label column) writes yhat_s and yhat_t;
#  - a compiled trainer takes the same flag and trains.
# MODE "cli" runs all but the compiled trainer, "aot" only it (two ctest
# entries, each under a minute on a busy machine).
# Usage: damcar_streams_test.sh RECC GEN_DAMCAR WALK_SAMPLE MODELS_DIR cli|aot
set -eu
recc=$1
gen=$2
walk=$3
model=$4/damcar.rec
mode=$5
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
fail() { echo "FAIL: $*"; exit 1; }

"$gen" --out d --users 300 --items 300 --authors 40 --exposures-per-user 20 --seed 3 2>/dev/null
"$walk" --exposures d/train.csv --items d/items.csv --out d/s_sam.csv --radius 5 --visits 20 \
  --threads 1 2>/dev/null
sam=$(($(wc -l <d/s_sam.csv) - 1))
echo "source rows $(($(wc -l <d/train.csv) - 1)), target rows $sam"
[[ $sam -ge 50 ]] || fail "walk_sample wrote only $sam target rows"

train=("$recc" train "$model" --model damcar --batch 64 --threads 1)

# expect_error NAME PATTERN CMD...: CMD exits 1 and prints PATTERN.
expect_error() {
  local name=$1 pattern=$2 out rc
  shift 2
  set +e
  out=$("$@" 2>&1)
  rc=$?
  set -e
  [[ $rc -eq 1 ]] || fail "$name: exit code $rc, want 1: $out"
  grep -qF -- "$pattern" <<<"$out" || fail "$name: output lacks '$pattern': $out"
  echo "ok   $name: $pattern"
}
if [[ $mode == aot ]]; then
  # A compiled trainer: the same flag, both batch sizes fixed at compile time.
  "$recc" compile "$model" --model damcar --batch 64 -o trainer 2>compile.log
  grep -q "batch B=64, B1=64" compile.log || fail "compile: $(cat compile.log)"
  expect_error "trainer without --stream" "give its data with --stream target=FILE" \
    ./trainer train --data d/train.csv
  ./trainer train --data d/train.csv --stream target=d/s_sam.csv --epochs 2 --threads 1 \
    --out aot.safetensors 2>aot.log >aot.out
  echo "compiled trainer: $(grep -c '^epoch' aot.log) epochs, $(tail -1 aot.out)"
  grep -q 'nan\|inf' aot.out && fail "non-finite metrics: $(cat aot.out)"
  ./trainer predict --ckpt aot.safetensors --data d/s_sam.csv --out q.csv 2>/dev/null
  [[ "$(head -1 q.csv)" == "yhat_s,yhat_t" ]] || fail "trainer predict header: $(head -1 q.csv)"
  echo "PASS"
  exit 0
fi

cut -d, -f1-4,6- d/s_sam.csv >no_v0.csv
expect_error "no --stream" \
  "--stream: model 'damcar' reads stream 'target' (a 'stream' block) in training; give its data with --stream target=FILE" \
  "${train[@]}" --data d/train.csv
expect_error "unknown stream" \
  "--stream tgt=d/s_sam.csv: model 'damcar' has no stream 'tgt' (its streams: target)" \
  "${train[@]}" --data d/train.csv --stream tgt=d/s_sam.csv
expect_error "not NAME=FILE" "--stream 'd/s_sam.csv': expected NAME=FILE" \
  "${train[@]}" --data d/train.csv --stream d/s_sam.csv
expect_error "missing column" "no_v0.csv: missing column 'v_0' (model feature 'v0_t')" \
  "${train[@]}" --data d/train.csv --stream target=no_v0.csv
expect_error "stream given twice" "stream 'target' is given twice" \
  "${train[@]}" --data d/train.csv --stream target=d/s_sam.csv --stream target=d/s_sam.csv

# The first 5 steps (5 x 64 source rows) on both backends: the same mean loss.
head -n 321 d/train.csv >first.csv
loss() { grep -o 'loss [0-9.e+-]*' | head -1 | cut -d' ' -f2; }
ref=$("${train[@]}" --data first.csv --stream target=d/s_sam.csv --epochs 1 --backend reference 2>&1 | loss)
jit=$("${train[@]}" --data first.csv --stream target=d/s_sam.csv --epochs 1 --backend mlir 2>&1 | loss)
echo "mean loss of the first 5 steps: reference $ref, mlir $jit"
awk -v r="$ref" -v j="$jit" 'BEGIN { d = r - j; if (d < 0) d = -d;
  if (r == "" || d > 1e-3 * (r < 0 ? -r : r)) { print "FAIL: backends disagree"; exit 1 } }'

# A few hundred steps: 4 epochs of the source; the target cycles.
"${train[@]}" --data d/train.csv --stream target=d/s_sam.csv --eval-data d/valid.csv --epochs 4 \
  --out damcar.safetensors --metrics-json train.json 2>train.log >train.out
steps=$(grep -o '^epoch [0-9/]*: [0-9]* steps' train.log | awk '{ s += $3 } END { print s }')
echo "trained $steps steps: $(tail -1 train.out)"
[[ $steps -ge 200 ]] || fail "only $steps steps"
grep -q 'nan\|inf' train.out && fail "non-finite metrics: $(cat train.out)"
# The EMA teacher's shadows are in the checkpoint, and reloading it gives the
# metrics training ended with (the sup loss reads the teacher).
for t in user_emb item_emb author_emb; do
  grep -aqF "state/$t.ema" damcar.safetensors || fail "checkpoint lacks the EMA shadow of $t"
done
"$recc" eval "$model" --model damcar --ckpt damcar.safetensors --data d/valid.csv >eval.out
[[ "$(cat eval.out)" == "$(tail -1 train.out)" ]] ||
  fail "eval of the checkpoint '$(cat eval.out)' differs from training's '$(tail -1 train.out)'"

# Prediction on the walk samples: no finish column; both heads per row.
"$recc" predict "$model" --model damcar --ckpt damcar.safetensors --data d/s_sam.csv --out p.csv
[[ "$(head -1 p.csv)" == "yhat_s,yhat_t" ]] || fail "predict header: $(head -1 p.csv)"
[[ $(($(wc -l <p.csv) - 1)) -eq $sam ]] || fail "predict wrote $(wc -l <p.csv) lines for $sam rows"

echo "PASS"
