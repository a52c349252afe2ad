#!/usr/bin/env bash
# `recc export` writes ONNX that Debian's onnx checker accepts (full check:
# shape inference) and that an independent numpy evaluator (onnx_eval.py) runs
# to the same scores as `recc predict`, within 1e-5 absolute, for ESMM (funnel
# data) and DIN (multi-valued behaviour sequences padded with -1, some rows
# empty), each trained ~190 steps of 32 rows first (ESM², SAR-Net and the
# multi-scenario models, whose ops these two cover, are swept by hand:
# docs/export.md). A two-tower model exports its towers, whose vectors
# here are known from the data (inputs/retrieval/ret.rec). inputs/onnx/ops.rec
# runs the mapped ops those models do not use (attention, layer norm, ...);
# inputs/state.rec, the model state folded into constants.
# Usage: onnx_export_test.sh RECC GEN_FUNNEL MODELS_DIR INPUTS_DIR
set -eu
recc=$(readlink -f "$1")
gen=$(readlink -f "$2")
models=$3
inputs=$4
here=$(cd "$(dirname "$0")" && pwd)
if ! /usr/bin/python3 -c 'import onnx, numpy' 2>/dev/null; then
  echo "SKIP: /usr/bin/python3 has no onnx module (apt-get install python3-onnx)"
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

$gen --out "$work/funnel.csv" --rows 6000 --seed 1 --users 500 --items 500 \
  --buy-rate 0.05 --daction-rate 0.15 2>/dev/null
head -301 "$work/funnel.csv" >"$work/funnel_test.csv"

# DIN's columns: sequences of 0 to 60 ids (cut to 50, padded with -1).
awk 'BEGIN {
  srand(7); print "user_id,item_id,category,scenario,seq_item,seq_cat,click"
  for (r = 0; r < 6000; r++) {
    n = (r % 10 == 0) ? 0 : int(rand() * 61); si = ""; sc = ""
    for (k = 0; k < n; k++) {
      si = si (k ? "|" : "") int(rand() * 2000); sc = sc (k ? "|" : "") int(rand() * 50)
    }
    item = int(rand() * 2000)
    printf "%d,%d,%d,%d,%s,%s,%d\n", int(rand() * 1000), item, item % 50, int(rand() * 20),
      si, sc, (rand() < 0.2 + 0.5 * (item % 3 == 0)) ? 1 : 0
  }
}' >"$work/din.csv"
head -301 "$work/din.csv" >"$work/din_test.csv"

# The op sweep (inputs/onnx/ops.rec): ids 0 to 8 per row, cut to 6, padded.
awk 'BEGIN {
  srand(11); print "user_id,seq,x,c,click"
  for (r = 0; r < 2000; r++) {
    n = (r % 7 == 0) ? 0 : int(rand() * 9); s = ""
    for (k = 0; k < n; k++) s = s (k ? "|" : "") int(rand() * 30)
    x = rand() * 4 - 1
    printf "%d,%s,%.4f,%.3f,%d\n", int(rand() * 50), s, x, rand() * 20, (rand() < 0.3 + 0.3 * (x > 1))
  }
}' >"$work/ops.csv"
head -301 "$work/ops.csv" >"$work/ops_test.csv"
# Model state folded in (inputs/state.rec): batch norm's running statistics,
# a running mean, EMA shadows of a dense head and of a table (its rows gathered).
awk 'BEGIN {
  srand(5); print "user_id,price,age,click"
  for (r = 0; r < 800; r++) {
    u = int(rand() * 30)
    printf "%d,%.2f,%d,%d\n", u, rand() * 50, 18 + int(rand() * 50), (rand() < 0.2 + 0.5 * (u < 8))
  }
}' >"$work/state.csv"
head -201 "$work/state.csv" >"$work/state_test.csv"

status=0
# An op without ONNX mapping is refused, named with its source position,
# before any checkpoint is read.
if out=$("$recc" export "$models/uma2.rec" --ckpt "$work/none.safetensors" -o "$work/u.onnx" 2>&1)
then echo "FAIL: uma2's top_k exported"; status=1; fi
grep -q "uma2.rec:[0-9]*:[0-9]*: op 'top_k' (%[0-9]*) has no ONNX mapping" <<<"$out" ||
  { echo "FAIL: $out"; status=1; }
# So is a dynamic table (ZEUS's 10^8-row query_emb), named with its input.
if out=$("$recc" export "$models/zeus.rec" --model zeus_finetune --ckpt "$work/none.safetensors" \
  -o "$work/z.onnx" 2>&1); then echo "FAIL: a dynamic table exported"; status=1; fi
grep -q "zeus.rec:[0-9]*:[0-9]*: table 'query_emb' of input '[a-z_]*' is dynamic" <<<"$out" ||
  { echo "FAIL: $out"; status=1; }

for m in esmm din ops state; do
  file=$models/$m.rec data=$work/funnel.csv test=$work/funnel_test.csv
  [[ $m == din ]] && data=$work/din.csv test=$work/din_test.csv
  [[ $m == ops ]] && file=$inputs/onnx/ops.rec data=$work/ops.csv test=$work/ops_test.csv
  [[ $m == state ]] && file=$inputs/state.rec data=$work/state.csv test=$work/state_test.csv
  "$recc" train "$file" --data "$data" --batch 32 --epochs 1 \
    --out "$work/$m.safetensors" >/dev/null 2>&1 || { echo "FAIL: $m did not train"; exit 1; }
  "$recc" export "$file" --ckpt "$work/$m.safetensors" -o "$work/$m.onnx"
  "$recc" predict "$file" --ckpt "$work/$m.safetensors" --data "$test" \
    --out "$work/$m.scores.csv" >/dev/null 2>&1
  echo "== $m"
  /usr/bin/python3 "$here/onnx_eval.py" "$work/$m.onnx" "$test" "$work/$m.scores.csv" ||
    status=1
done

# Weights as ONNX external data (a side file; the op sweep's model, whose
# tables and layers of 1 KiB and more go there): the same scores.
"$recc" export "$inputs/onnx/ops.rec" --ckpt "$work/ops.safetensors" -o "$work/ext/ops.onnx" \
  --external-data 2>/dev/null && { echo "FAIL: export wrote into a missing directory"; status=1; }
mkdir "$work/ext"
"$recc" export "$inputs/onnx/ops.rec" --ckpt "$work/ops.safetensors" -o "$work/ext/ops.onnx" \
  --external-data
[[ -s $work/ext/ops.onnx.data ]] || { echo "FAIL: no side file"; status=1; }
echo "== ops, external data"
/usr/bin/python3 "$here/onnx_eval.py" "$work/ext/ops.onnx" "$work/ops_test.csv" \
  "$work/ops.scores.csv" || status=1

# Retrieval: the user tower's query vectors are (u0, u1), the item tower's
# item vectors (i0, i1), whatever training did to the tables.
ret=$inputs/retrieval
"$recc" train "$ret/ret.rec" --model ret --data "$ret/train.csv" --out "$work/ret.st" >/dev/null 2>&1
awk -F, 'NR == 1 { print "top_items.query_0,top_items.query_1"; next } { print $2 "," $3 }' \
  "$ret/test.csv" >"$work/user.want.csv"
awk -F, 'NR == 1 { print "items_0,items_1"; next } { print $2 "," $3 }' \
  "$ret/corpus.csv" >"$work/item.want.csv"
for t in user item; do
  "$recc" export "$ret/ret.rec" --model ret --ckpt "$work/ret.st" --tower $t -o "$work/$t.onnx"
  data=$ret/test.csv
  [[ $t == item ]] && data=$ret/corpus.csv
  echo "== ret, $t tower"
  /usr/bin/python3 "$here/onnx_eval.py" "$work/$t.onnx" "$data" "$work/$t.want.csv" || status=1
done
exit $status
