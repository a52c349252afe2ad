#!/usr/bin/env bash
# Bad input end to end: each case must exit non-zero with a message naming the
# place (file:line:col, row/column, tensor and shapes), and never crash.
# Usage: bad_input_test.sh RECC INPUTS_DIR
set -u
recc=$1
inputs=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
passed=0

# expect_fail NAME PATTERN CMD...: CMD must exit 1 (not crash) and print PATTERN.
expect_fail() {
  local name=$1 pattern=$2
  shift 2
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  if [[ $rc -ne 1 ]]; then
    echo "FAIL $name: exit code $rc (want 1)"; echo "$out" | tail -5; failures=$((failures + 1))
  elif ! grep -qE -- "$pattern" <<<"$out"; then
    echo "FAIL $name: output lacks /$pattern/"; echo "$out" | tail -5; failures=$((failures + 1))
  else
    echo "ok   $name: $(grep -E -m1 -- "$pattern" <<<"$out")"; passed=$((passed + 1))
  fi
}

# expect_reject NAME PATTERN CMD...: CMD must exit non-zero without a crash
# (a usage error exits with CLI11's code) and print PATTERN.
expect_reject() {
  local name=$1 pattern=$2
  shift 2
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  if [[ $rc -eq 0 || $rc -ge 128 ]]; then
    echo "FAIL $name: exit code $rc (want an error, not a crash)"; echo "$out" | tail -5; failures=$((failures + 1))
  elif ! grep -qE -- "$pattern" <<<"$out"; then
    echo "FAIL $name: output lacks /$pattern/"; echo "$out" | tail -5; failures=$((failures + 1))
  else
    echo "ok   $name: $(grep -E -m1 -- "$pattern" <<<"$out")"; passed=$((passed + 1))
  fi
}

# --- model files ------------------------------------------------------------
expect_fail syntax-error 'syntax_error.rec:6:3: error: ' "$recc" check "$inputs/syntax_error.rec"
expect_fail unknown-name "unknown_name.rec:5:37: error: .*'user_idd'" "$recc" check "$inputs/unknown_name.rec"
expect_fail shape-mismatch 'shape_mismatch.rec:6:19: error: .*\[B,3\].*\[B,4\]' "$recc" check "$inputs/shape_mismatch.rec"
sed 's/user_emb\[50, 4\]/user_emb[9007199254740992, 16777216]/' "$inputs/tiny.rec" >"$work/huge.rec"
expect_fail huge-table "huge.rec:[0-9]+:[0-9]+: error: table 'user_emb' \[9007199254740992, 16777216\] is too large" \
  "$recc" check "$work/huge.rec"
# Declared sizes whose byte counts overflow are refused at their place, by
# name: a parameter, a per-id (`by =`) parameter of [vocab, ...] shape.
{ sed -n '2,9p' "$inputs/tiny.rec"; echo '  w = param([16777216, 16777216, 16777216])'; sed -n '10,$p' "$inputs/tiny.rec"; } >"$work/huge_param.rec"
expect_fail huge-param "huge_param.rec:9:[0-9]+: error: parameter '[a-z0-9_.]+' \[16777216,16777216,16777216\] is too large" \
  "$recc" check "$work/huge_param.rec"
{ sed -n '2,9p' "$inputs/tiny.rec"; echo '  input scn : id(4096)'; echo '  w = param([16777216, 16777216], by = scn)'; sed -n '10,$p' "$inputs/tiny.rec"; } >"$work/huge_by.rec"
expect_fail huge-per-id-param "huge_by.rec:10:[0-9]+: error: parameter '[a-z0-9_.]+' \[4096,16777216,16777216\] is too large" \
  "$recc" check "$work/huge_by.rec"
expect_fail missing-model-file 'nope.rec.*cannot open' "$recc" check "$work/nope.rec"

# --- data files -------------------------------------------------------------
good="$work/good.csv"
{
  echo "user_id,item_id,price,click"
  for i in $(seq 0 199); do echo "$((i % 50)),$((i * 7 % 40)),$((i % 13)).5,$(( (i % 50) < 10 ? 1 : 0 ))"; done
} >"$good"
train() { "$recc" train "$inputs/tiny.rec" --backend reference "$@"; }

printf 'user_id,price,click\n1,2.0,0\n' >"$work/missing.csv"
expect_fail missing-column "missing.csv: missing column 'item_id'" train --data "$work/missing.csv"
printf 'user_id,item_id,price,click\n1,2,2.0,0\n3,4,abc,1\n' >"$work/nonnum.csv"
expect_fail non-numeric "nonnum.csv:3:3: non-numeric value 'abc' in column 'price'" train --data "$work/nonnum.csv"
printf 'user_id,item_id,price,click\n1,2,2.0,0\n3,40,1.0,1\n' >"$work/vocab.csv"
expect_fail id-out-of-range "vocab.csv:3:2: id 40 out of range for 'item_id' \(vocabulary 40\)" train --data "$work/vocab.csv"
printf 'user_id,item_id,price,click\n1,2,2.0,0\n3,4,nan,1\n' >"$work/nan.csv"
expect_fail nan-dense "nan.csv:3:3: NaN in dense column 'price'" train --data "$work/nan.csv"
# Several files (lists, globs, gzip): errors name the flag or the file.
expect_fail glob-no-match "^error: --data '$work/day\*.csv': no file matches" train --data "$work/day*.csv"
expect_fail list-missing-file "^error: --eval-data $work/gone.csv: no such file" \
  train --data "$good" --eval-data "$work/nonnum.csv,$work/gone.csv"
printf 'item_id,user_id,price,click\n2,1,2.0,0\n' >"$work/swapped.csv"
expect_fail header-differs "swapped.csv:1: header differs from that of .*vocab.csv" \
  train --data "$work/vocab.csv,$work/swapped.csv"
gzip -c "$work/nonnum.csv" >"$work/nonnum.csv.gz"
expect_fail gzip-error-line "nonnum.csv.gz:3:3: non-numeric value 'abc' in column 'price'" \
  train --data "$work/nonnum.csv.gz" --stream-buffer 100

# --- numeric flags that make no sense are refused, naming the flag -----------
m="$inputs/tiny.rec"
for args in "train --data $good --batch 0" "train --data $good --batch -5" "train --data $good --batch 99999999999" \
            "train --data $good --epochs 0" "train --data $good --epochs -1" "train --data $good --threads -2" \
            "train --data $good --threads 0" "train --data $good --epochs 1.5" \
            "eval --ckpt x --data $good --threads 0" "predict --ckpt x --data $good --out y --threads -1" \
            "compile -o $work/t --batch 0" "compile -o $work/t --threads 3" "emit-mlir --batch -1" \
            "emit-mlir --threads 0" "bench --steps 0" "bench --reference-steps -1" "bench --warmup -1" \
            "bench --threads 0" "bench --batch 0"; do
  read -r cmd rest <<<"$args"
  flag=$(grep -oE -- '--[a-z-]+ [^ ]+$' <<<"$args" | cut -d' ' -f1)
  # shellcheck disable=SC2086
  expect_reject "flag $cmd $flag" "^$flag: must be an integer from" "$recc" $cmd "$m" $rest
done
expect_reject "flag train --backend" "^--backend: " "$recc" train "$m" --data "$good" --backend jit
expect_reject "flag bench --backends" "^--backends: " "$recc" bench "$m" --backends mlir,gpu

# --- output paths are checked before any work starts -------------------------
nodir="$work/nodir"
expect_fail out-missing-dir "^error: --out: cannot write '$nodir/m.safetensors': directory '$nodir': No such file" \
  train --data "$good" --out "$nodir/m.safetensors"
expect_fail out-is-dir "^error: --out: cannot write '$work': it is a directory" train --data "$good" --out "$work"
expect_fail metrics-json-missing-dir "^error: --metrics-json: cannot write '$nodir/m.json'" \
  train --data "$good" --metrics-json "$nodir/m.json"
printf 'x' >"$work/afile"
expect_fail out-under-file "^error: --out: cannot write '$work/afile/m': '$work/afile' is not a directory" \
  train --data "$good" --out "$work/afile/m"
expect_fail eval-metrics-json "^error: --metrics-json: cannot write '$nodir/m.json'" \
  "$recc" eval "$m" --backend reference --ckpt "$work/none" --data "$good" --metrics-json "$nodir/m.json"
expect_fail predict-out "^error: --out: cannot write '$work': it is a directory" \
  "$recc" predict "$m" --backend reference --ckpt "$work/none" --data "$good" --out "$work"
expect_fail compile-out "^error: -o: cannot write '$nodir/t'" "$recc" compile "$m" -o "$nodir/t"
expect_fail bench-json "^error: --json: cannot write '$nodir/b.json'" "$recc" bench "$m" --json "$nodir/b.json"
# Refused before the first epoch: nothing was trained.
if train --data "$good" --out "$nodir/m.safetensors" 2>&1 | grep -q 'epoch'; then
  echo "FAIL out-missing-dir: an epoch ran before the bad --out was reported"; failures=$((failures + 1))
else
  echo "ok   out-missing-dir: refused before training"; passed=$((passed + 1))
fi

# --- directories, pipes and tiny values ---------------------------------------
expect_fail data-is-dir "^error: $work: is a directory, not a data file" train --data "$work"
expect_fail ckpt-is-dir "^error: $work: is a directory, not a checkpoint" \
  "$recc" eval "$m" --backend reference --ckpt "$work" --data "$good"
expect_fail model-is-dir "$work: error: is a directory, not a model file" "$recc" check "$work"
expect_ok() {
  local name=$1
  shift
  local out
  if out=$("$@" 2>&1); then
    echo "ok   $name"; passed=$((passed + 1))
  else
    echo "FAIL $name: exit code $?"; echo "$out" | tail -5; failures=$((failures + 1))
  fi
}
expect_ok data-from-process-substitution train --data <(cat "$good")
expect_ok data-gzip-from-pipe train --data <(gzip -c "$good")
gzip -c "$good" >"$work/good.csv.gz"
expect_ok data-glob-and-gzip-streamed train --data "$work/goo[d].csv" --data "$work/good.csv.gz" \
  --stream-buffer 64
expect_fail stream-from-pipe "^error: --stream-buffer: /dev/fd/[0-9]+ is not a regular file" \
  train --data <(cat "$good") --stream-buffer 64
{ head -1 "$good"; sed -n '2,50p' "$good"; echo "3,4,1e-50,0"; } >"$work/tiny_values.csv"
expect_ok dense-value-below-float-range train --data "$work/tiny_values.csv"

# --- checkpoints ------------------------------------------------------------
ckpt="$work/tiny.safetensors"
if ! train --data "$good" --out "$ckpt" >/dev/null 2>&1; then
  echo "FAIL training the tiny model on good data"; failures=$((failures + 1))
fi
size=$(stat -c %s "$ckpt")
head -c $((size - 100)) "$ckpt" >"$work/truncated.safetensors"
expect_fail truncated-checkpoint 'truncated' "$recc" eval "$inputs/tiny.rec" --backend reference --ckpt "$work/truncated.safetensors" --data "$good"
sed 's/user_emb\[50, 4\]/user_emb[50, 6]/' "$inputs/tiny.rec" >"$work/tiny6.rec"
expect_fail mismatched-checkpoint "tiny.safetensors: tensor '.*' has shape \[[0-9,]*\] in checkpoint but \[[0-9,]*\] in model" "$recc" eval "$work/tiny6.rec" --backend reference --ckpt "$ckpt" --data "$good"

# --- resource limits: refused up front with the estimate, never an abort ------
# A batch whose activations no machine has (2^24 rows through 4096-wide
# layers), under an address-space limit as well so the outcome is the same on
# any machine: check, train on either backend and eval name the batch size,
# the estimate and the limit.
sed -e 's/batch = 16/batch = 16777216/' -e 's/\[8\]/[4096, 4096]/' "$inputs/tiny.rec" >"$work/bigbatch.rec"
limited() { (ulimit -v 1500000; "$@"); }  # kB
expect_fail check-batch-too-big "^error: model 'tiny' at batch size 16777216 needs about [0-9.]+ (TiB|GiB).*step activations.*only [0-9.]+ [GM]iB of memory is available" \
  limited "$recc" check "$work/bigbatch.rec"
expect_fail train-batch-too-big "at batch size 16777216 needs .*only [0-9.]+ [GM]iB of memory is available.*try a smaller --batch" \
  limited "$recc" train "$work/bigbatch.rec" --data "$good"
expect_fail train-batch-too-big-reference "^error: model 'tiny' at batch size 16777216 needs about .*step activations" \
  limited "$recc" train "$work/bigbatch.rec" --backend reference --data "$good"
expect_fail train-flag-batch-too-big "at batch size 16777216 needs" \
  limited "$recc" train "$inputs/tiny.rec" --batch 16777216 --data "$good"
# A table (2.2 GiB with its Adam slots) larger than the address-space limit: eval names it and its bytes
# instead of dying with a bare std::bad_alloc.
sed 's/user_emb\[50, 4\]/user_emb[50000000, 4]/' "$inputs/tiny.rec" >"$work/wide.rec"
expect_fail eval-table-too-big "needs about 2.2 GiB .*largest table 'user_emb' \[50000000, 4\], 2.2 GiB\), but only .* available \(the address-space limit" \
  limited "$recc" eval "$work/wide.rec" --backend reference --ckpt "$ckpt" --data "$good"
expect_fail train-table-too-big "largest table 'user_emb' \[50000000, 4\]" \
  limited "$recc" train "$work/wide.rec" --data "$good"
# The same table declared dynamic: the memory check counts the rows the data
# touches (its 50 user ids), so training and evaluation run under the same
# limit, and the checkpoint stores those rows only.
sed 's/user_emb\[50, 4\]/user_emb[50000000, 4] dynamic/' "$inputs/tiny.rec" >"$work/wide_dynamic.rec"
dynck="$work/dynamic.safetensors"
if limited "$recc" train "$work/wide_dynamic.rec" --backend reference --data "$good" --out "$dynck" >/dev/null 2>"$work/dyn.err" &&
   limited "$recc" eval "$work/wide_dynamic.rec" --backend reference --ckpt "$dynck" --data "$good" >/dev/null 2>>"$work/dyn.err" &&
   grep -aq '"ids/user_emb":{"data_offsets":\[[0-9]*,[0-9]*\],"dtype":"I64","shape":\[50\]' "$dynck"; then
  echo "ok   dynamic-table-fits: trained and evaluated under the limit, 50 rows stored"; passed=$((passed + 1))
else
  echo "FAIL dynamic-table-fits: $(head -c 400 "$work/dyn.err")"; failures=$((failures + 1))
fi

# --- a NaN loss stops training and keeps the last good checkpoint -------------
{
  echo "user_id,x,click"
  for i in $(seq 0 99); do echo "$((i % 50)),$((i + 1)).0,$((i % 2))"; done
} >"$work/pos.csv"
{
  echo "user_id,x,click"
  for i in $(seq 0 99); do echo "$((i % 50)),$(( i >= 60 && i < 70 ? -1 : i + 1 )).0,$((i % 2))"; done
} >"$work/neg.csv"
nanck="$work/nan.safetensors"
"$recc" train "$inputs/nan_loss.rec" --backend reference --data "$work/pos.csv" --out "$nanck" >/dev/null 2>&1
before=$(sha256sum "$nanck" | cut -d' ' -f1)
expect_fail nan-loss 'non-finite|NaN' "$recc" train "$inputs/nan_loss.rec" --backend reference --data "$work/neg.csv" --init "$nanck" --out "$nanck"
after=$(sha256sum "$nanck" | cut -d' ' -f1)
if [[ "$before" != "$after" ]]; then
  echo "FAIL nan-loss: the last good checkpoint was overwritten"; failures=$((failures + 1))
else
  echo "ok   nan-loss: last good checkpoint kept"; passed=$((passed + 1))
fi

echo "bad input: $passed passed, $failures failed"
[[ $failures -eq 0 ]]
