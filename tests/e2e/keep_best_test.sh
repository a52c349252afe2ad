#!/usr/bin/env bash
# --keep-best, --early-stop and the refusal to resume mid-epoch on other data.
#  1. --keep-best auc with --eval-every: OUT.best.safetensors evaluates to the
#     best value the metrics JSON records, which is the largest AUC printed.
#  2. --keep-best loss --early-stop 2 on eval data whose labels are the train
#     labels flipped (training makes it worse): training stops early, says why,
#     and the metrics JSON records the stop and the smallest loss printed.
#  3. A mid-epoch checkpoint is refused on data with a row changed, a row
#     fewer, or another seed, naming what differs; an epoch-end one resumes on
#     other data.
#  4. Flags that lack what they act on are refused before training.
# Usage: keep_best_test.sh RECC INPUTS_DIR
set -eu
recc=$1
inputs=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rec=$inputs/tiny.rec
row() { echo "$(($1 % 50)),$(($1 * 7 % 40)),$(($1 % 13)).$(($1 % 7))3,$2"; }
{ echo "user_id,item_id,price,click"
  for i in $(seq 0 299); do row "$i" $(( (i % 50) < 10 ? 1 : 0 )); done; } >"$work/train.csv"
{ echo "user_id,item_id,price,click"
  for i in $(seq 0 99); do row $((i * 3)) $(( ((i * 3 % 50) < 10) ^ (i % 4 == 0) )); done
} >"$work/eval.csv"
{ echo "user_id,item_id,price,click"
  for i in $(seq 0 99); do row "$i" $(( (i % 50) < 10 ? 0 : 1 )); done; } >"$work/flipped.csv"
passed=0 failed=0
check() { if eval "$2"; then passed=$((passed + 1)); else echo "FAIL: $1"; failed=$((failed + 1)); fi; }
train() { "$recc" train "$rec" --backend reference --threads 1 --data "$work/train.csv" "$@"; }
# The metric values of the evaluations a training log printed ("... eval: auc X  loss Y").
printed() { grep -o "eval: .*" "$1" | grep -o "$2 [0-9.]*" | cut -d' ' -f2; }
json() { /usr/bin/python3 -c "import json,sys; print(eval(sys.argv[2], {}, {'j': json.load(open(sys.argv[1]))}))" "$@"; }

# 1. Keep the best AUC.
train --epochs 3 --eval-data "$work/eval.csv" --eval-every 7 --keep-best auc \
  --out "$work/m.safetensors" --metrics-json "$work/m.json" >/dev/null 2>"$work/log1"
check "keep-best wrote m.best.safetensors" '[ -f "$work/m.best.safetensors" ]'
"$recc" eval "$rec" --backend reference --threads 1 --init "$work/m.best.safetensors" \
  --data "$work/eval.csv" --metrics-json "$work/best_eval.json" >/dev/null
check "the best checkpoint scores the recorded best auc" \
  '[ "$(json "$work/best_eval.json" "j[\"metrics\"][\"auc\"]")" = "$(json "$work/m.json" "j[\"best\"][\"value\"]")" ]'
best=$(json "$work/m.json" "'%.4f' % j['best']['value']")
largest=$(printed "$work/log1" auc | sort -g | tail -1)
check "the recorded best ($best) is the largest auc printed ($largest)" '[ "$best" = "$largest" ]'
check "11 evaluations were printed (8 every 7 steps, 3 at epoch ends)" \
  '[ "$(printed "$work/log1" auc | wc -l)" = 11 ]'
check "the best model is not the last one here" '[ "$(json "$work/m.json" "j[\"best\"][\"step\"] < j[\"step\"]")" = True ]'
check "a full run records no stop" '[ "$(json "$work/m.json" "j.get(\"stopped\", \"\")")" = "" ]'

# 2. Early stopping on a loss that training makes worse.
train --epochs 20 --eval-data "$work/flipped.csv" --eval-every 4 --keep-best loss \
  --early-stop 2 --out "$work/e.safetensors" --metrics-json "$work/e.json" >/dev/null \
  2>"$work/log2"
check "early stop is reported" 'grep -q "early stop: loss has not improved for 2 evaluations" "$work/log2"'
check "early stop is recorded" \
  '[ "$(json "$work/e.json" "j[\"stopped\"].startswith(\"early stop\")")" = True ]'
check "training stopped before its 20 epochs" '[ "$(json "$work/e.json" "j[\"epoch\"] < 20")" = True ]'
best=$(json "$work/e.json" "'%.4f' % j['best']['value']")
smallest=$(printed "$work/log2" loss | sort -g | head -1)
check "the recorded best loss ($best) is the smallest printed ($smallest)" '[ "$best" = "$smallest" ]'

# The best value and the patience count survive an interruption: stopped at
# step 6 (between the evaluations at 4 and 8) and resumed, training stops at
# the same step with the same best.
train --epochs 20 --eval-data "$work/flipped.csv" --eval-every 4 --keep-best loss \
  --early-stop 2 --max-steps 6 --out "$work/i.safetensors" >/dev/null 2>&1
train --eval-data "$work/flipped.csv" --eval-every 4 --keep-best loss --early-stop 2 \
  --init "$work/i.safetensors" --out "$work/i.safetensors" --metrics-json "$work/i.json" \
  >/dev/null 2>&1
check "a resumed run stops early at the same step with the same best" \
  '[ "$(json "$work/i.json" "(j[\"step\"], j[\"best\"], j[\"stopped\"])")" = "$(json "$work/e.json" "(j[\"step\"], j[\"best\"] | {\"path\": j[\"best\"][\"path\"].replace(\"e.best\", \"i.best\")}, j[\"stopped\"])")" ]'

# 3. Refusing to resume mid-epoch on other data.
train --epochs 2 --max-steps 5 --out "$work/mid.safetensors" >/dev/null 2>&1
sed '5s/^[0-9]*,/49,/' "$work/train.csv" >"$work/changed.csv"
head -n 300 "$work/train.csv" >"$work/fewer.csv"
resume() { "$recc" train "$rec" --backend reference --threads 1 --init "$work/mid.safetensors" "$@" 2>&1 >/dev/null; }
check "a changed row is refused" \
  'resume --data "$work/changed.csv" | grep -q "stopped mid-epoch (epoch 1, after step 5 of 19) on data of 300 rows with fingerprint .* but .*changed.csv has fingerprint [0-9a-f]* (the same row count"'
check "a row fewer is refused" \
  'resume --data "$work/fewer.csv" | grep -q "on data of 300 rows, but .*fewer.csv has 299 rows"'
check "another seed is refused" \
  'resume --data "$work/train.csv" --seed 7 | grep -q "with seed 42, this run has seed 7"'
check "the same data resumes" 'resume --data "$work/train.csv" --out "$work/r.safetensors" | grep -q "^epoch 2/2"'
train --epochs 1 --out "$work/end.safetensors" >/dev/null 2>&1
check "an epoch-end checkpoint resumes on other data" \
  '"$recc" train "$rec" --backend reference --init "$work/end.safetensors" --data "$work/changed.csv" >/dev/null 2>&1'

# 4. Flags without what they act on.
refused() { train "${@:2}" 2>&1 >/dev/null | grep -q -- "$1"; }
check "--checkpoint-every needs --out" 'refused "^error: --checkpoint-every: give" --checkpoint-every 5'
check "--eval-every needs --eval-data" 'refused "^error: --eval-every: give" --eval-every 5'
check "--early-stop needs --keep-best" \
  'refused "^error: --early-stop 2: counts" --early-stop 2 --out "$work/x.safetensors"'
check "--keep-best needs a metric of the model" \
  'train --keep-best ctcvr_auc --eval-data "$work/eval.csv" --out "$work/x.safetensors" 2>&1 | grep -q "model .tiny. has no metric .ctcvr_auc. (it has: loss, auc)"'
check "--keep-best needs --out" 'train --keep-best auc --eval-data "$work/eval.csv" 2>&1 | grep -q "give --out FILE"'

echo "keep_best: $passed passed, $failed failed"
[ "$failed" = 0 ]
