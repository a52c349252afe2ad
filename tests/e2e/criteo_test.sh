#!/usr/bin/env bash
# Criteo's headerless layout end to end: gen_criteo writes tab-separated files
# without a header (label, I1-I13, hex C1-C26, empty cells), models/criteo_dcn.rec
# reads them by its `columns` list, trains one epoch on the MLIR backend, and
# its test AUC must be clearly above chance (a model that ignored its features,
# or a reader that shifted columns, stays near 0.5). Then eval and predict read
# the same layout from the checkpoint, and a row with a missing field is
# refused naming file:line and both counts.
# Usage: criteo_test.sh RECC GEN_CRITEO MODELS_DIR
set -u
recc=$1
gen=$2
models=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
model=$models/criteo_dcn.rec

"$gen" --out "$work/train.txt" --rows 20000 --seed 1 || fail "gen_criteo (train)"
"$gen" --out "$work/test.txt" --rows 5000 --seed 2 || fail "gen_criteo (test)"
[[ $(head -1 "$work/train.txt" | awk -F'\t' '{ print NF }') == 40 ]] ||
  fail "gen_criteo: expected 40 tab-separated fields"
# Deterministic per seed; another seed gives other rows.
"$gen" --out "$work/again.txt" --rows 20000 --seed 1 2>/dev/null
cmp -s "$work/train.txt" "$work/again.txt" || fail "gen_criteo: same seed, different files"
"$gen" --out "$work/again.txt" --rows 20000 --seed 3 2>/dev/null
! cmp -s "$work/train.txt" "$work/again.txt" || fail "gen_criteo: seeds 1 and 3 give one file"

"$recc" check "$model" | grep -q "no header row; 40 columns by position, delimiter tab" ||
  fail "recc check does not show the column list"

"$recc" train "$model" --data "$work/train.txt" --eval-data "$work/test.txt" \
  --batch 128 --threads 2 --out "$work/dcn.safetensors" \
  --metrics-json "$work/train.json" >"$work/train.log" 2>&1 ||
  { cat "$work/train.log"; fail "recc train"; }
metric() { grep -o "\"$2\": [0-9.e-]*" "$work/$1" | head -1 | cut -d' ' -f2; }
auc=$(metric train.json auc)
echo "criteo_dcn: test AUC $auc after one epoch on 20000 rows"
awk "BEGIN { exit !($auc > 0.64) }" || fail "test AUC $auc is not above 0.64"

"$recc" eval "$model" --ckpt "$work/dcn.safetensors" --data "$work/test.txt" \
  --metrics-json "$work/eval.json" >/dev/null 2>&1 || fail "recc eval"
[[ $(metric eval.json auc) == "$auc" ]] || fail "eval AUC $(metric eval.json auc) != $auc"

"$recc" predict "$model" --ckpt "$work/dcn.safetensors" --data "$work/test.txt" \
  --keep C1 --out "$work/scores.csv" >/dev/null 2>&1 || fail "recc predict"
[[ $(wc -l <"$work/scores.csv") == 5001 ]] || fail "predict: expected a header and 5000 rows"

head -3 "$work/test.txt" >"$work/bad.txt"
printf '1\t2\t3\n' >>"$work/bad.txt"
msg=$("$recc" eval "$model" --ckpt "$work/dcn.safetensors" --data "$work/bad.txt" 2>&1)
grep -q "bad.txt:4: expected 40 fields as in the model's 'columns' list, found 3" <<<"$msg" ||
  fail "short row: $msg"
echo "criteo: ok"
