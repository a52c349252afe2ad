#!/usr/bin/env bash
# ZEUS's three stages (spec zeus.md 3.1) on models/zeus.rec with small
# vocabularies (a copy made here; the paper's 10^8-row tables need tables
# allocated on first touch) and small random data (zeus_data.py):
#   S1  zeus_pretrain on spontaneous searches (recc train, JIT);
#   S2  zeus_finetune from S1 on the scenarios pooled: M0 (a compiled trainer,
#       --init-from the S1 checkpoint);
#   S3  zeus_finetune again from M0 on each scenario's rows: M1..M3 (the same
#       trainer, --init-from M0's checkpoint).
# The global tables query_emb and product_emb are frozen in S2 and S3, so every
# M_k holds them bit for bit as S1 left them (the zoo shares them); everything
# else is fine-tuned and differs between the M_k.
# Usage: zeus_stages_test.sh RECC SOURCE_DIR
set -eu
recc=$(realpath "$1")
src=$(realpath "$2")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
fail() { echo "FAIL: $*"; exit 1; }
sed -e 's/100000000/1000/g' -e 's/1000000/300/g' -e 's/50000/50/g' -e 's/batch = 1024/batch = 64/' \
  "$src/models/zeus.rec" >zeus_small.rec
python3 "$src/tests/e2e/zeus_data.py" .
compare() { python3 "$src/tests/e2e/ckpt_compare.py" "$1" "$2" >cmp.txt; }
expect() {  # expect VERDICT NAME...
  local verdict=$1; shift
  for name in "$@"; do grep -qx "$verdict $name" cmp.txt || fail "$name: want '$verdict', got: $(grep " $name\$" cmp.txt)"; done
}
global=(query_emb product_emb)
private=(qws_emb pws_emb scn_emb enc_q.h.dense0.w u_q.ffn0.dense0.w logit.mlp0.l0.w logit.dense0.w)

"$recc" train zeus_small.rec --model zeus_pretrain --data pre.csv --out s1.safetensors \
  --metrics-json s1.json >/dev/null 2>&1 || fail "S1 zeus_pretrain"
"$recc" compile zeus_small.rec --model zeus_finetune -o finetune >/dev/null 2>&1
./finetune train --data all.csv --init-from s1.safetensors --out m0.safetensors \
  --metrics-json m0.json >/dev/null 2>&1 || fail "S2 zeus_finetune from S1"
compare s1.safetensors m0.safetensors
expect same "${global[@]}"
expect differs "${private[@]}"
for k in 0 1 2; do
  ./finetune train --data scn$k.csv --init-from m0.safetensors --out m$((k + 1)).safetensors \
    --metrics-json m$((k + 1)).json >/dev/null 2>&1 || fail "S3 zeus_finetune on scenario $k"
  compare s1.safetensors m$((k + 1)).safetensors
  expect same "${global[@]}"
  expect differs "${private[@]}"
done
compare m1.safetensors m3.safetensors
expect same "${global[@]}"
expect differs "${private[@]}"
for j in s1 m0 m1 m2 m3; do
  grep -q '"auc": 0\.[0-9]' $j.json || fail "$j: no AUC in $(cat $j.json)"
done
echo "zeus stages: S1 -> S2 (M0) -> S3 (M1..M3) passed"
