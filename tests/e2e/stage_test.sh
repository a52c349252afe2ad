#!/usr/bin/env bash
# Stage transfer (`train { init = m  freeze = [...] }`, inputs/stages.rec)
# through `recc train` and a trainer written by `recc compile`:
#  - the flags are checked first: a model with `init` needs --init-from (or
#    --init), a model without one refuses --init-from, the two exclude each
#    other, and a checkpoint lacking a parameter is refused, naming it;
#  - fine-tuning from the earlier stage keeps the frozen table and tower bit
#    for bit, changes the rest, and allocates no optimizer state for them;
#  - the compiled trainer does the same, and per-subset fine-tuning from the
#    fine-tuned model (ZEUS's S3, from M0) still leaves them untouched.
# Usage: stage_test.sh RECC INPUTS_DIR
set -eu
recc=$(realpath "$1")
inputs=$(realpath "$2")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
{
  echo "user_id,item_id,price,click"
  for i in $(seq 0 319); do echo "$((i % 50)),$((i * 7 % 40)),$((i % 13)).5,$(( (i % 50) < 10 ? 1 : 0 ))"; done
} >data.csv
{ head -1 data.csv; sed -n '2~2p' data.csv; } >even.csv
{ head -1 data.csv; sed -n '3~2p' data.csv; } >odd.csv
model=$inputs/stages.rec
fail() { echo "FAIL: $*"; exit 1; }
expect_error() {  # expect_error MESSAGE COMMAND...: the command fails printing MESSAGE
  local want=$1; shift
  if out=$("$@" 2>&1); then fail "$* succeeded"; fi
  grep -qF -- "$want" <<<"$out" || fail "$*: expected '$want', got: $out"
}
# Each line of `ckpt_compare.py A B` is "same|differs|only-first|only-second NAME".
compare() { python3 "$here/ckpt_compare.py" "$1" "$2" >cmp.txt; }
expect() {  # expect VERDICT NAME...
  local verdict=$1; shift
  for name in "$@"; do grep -qx "$verdict $name" cmp.txt || fail "$name: want '$verdict', got: $(grep " $name\$" cmp.txt)"; done
}

"$recc" train "$model" --model pre --data data.csv --out pre.safetensors >/dev/null 2>&1

expect_error "error: --init-from: model 'ft' starts from the trained parameters of model 'pre' (train { init = pre }); give that model's checkpoint with --init-from FILE" \
  "$recc" train "$model" --model ft --data data.csv
expect_error "error: --init-from: model 'pre' declares no earlier stage" \
  "$recc" train "$model" --model pre --data data.csv --init-from pre.safetensors
expect_error "error: --init and --init-from exclude each other" \
  "$recc" train "$model" --model ft --data data.csv --init-from pre.safetensors --init pre.safetensors
expect_error "error: pre.safetensors: checkpoint of model 'pre' lacks 2 tensors of model 'ft_head' ('p.dense1.w', 'p.dense1.b')" \
  "$recc" train "$model" --model ft_head --data data.csv --init-from pre.safetensors
expect_error "error: missing.safetensors: cannot open checkpoint" \
  "$recc" train "$model" --model ft --data data.csv --init-from missing.safetensors

frozen=(item_emb h.mlp0.l0.w h.mlp0.l0.b)
trained=(user_emb p.dense0.w p.dense0.b)
check_stage() {  # check_stage FROM TO: frozen kept, the rest trained, no state for frozen
  compare "$1" "$2"
  expect same "${frozen[@]}"
  expect differs "${trained[@]}"
  expect only-first adagrad_acc/item_emb adagrad_acc/h.mlp0.l0.w adagrad_acc/h.mlp0.l0.b
  expect differs adagrad_acc/user_emb adagrad_acc/p.dense0.w
}

log=$("$recc" train "$model" --model ft --data data.csv --init-from pre.safetensors --out m0.safetensors 2>&1)
grep -qF "init-from pre.safetensors: 4 parameters and 2 tables of model 'pre' loaded by name (init = pre); frozen: item_emb, h; optimizer state starts fresh" <<<"$log" \
  || fail "no transfer summary in: $log"
check_stage pre.safetensors m0.safetensors

"$recc" compile "$model" --model ft -o ft_trainer >/dev/null 2>&1
expect_error "error: --init-from: model 'ft' starts from" ./ft_trainer train --data data.csv
./ft_trainer train --data data.csv --init-from pre.safetensors --out aot_m0.safetensors >/dev/null 2>&1
check_stage pre.safetensors aot_m0.safetensors
# Per-subset fine-tuning from M0 (ZEUS's S3): the frozen tensors are still
# those of the first stage, the others diverge per subset.
./ft_trainer train --data even.csv --init-from aot_m0.safetensors --out m_even.safetensors >/dev/null 2>&1
./ft_trainer train --data odd.csv --init-from aot_m0.safetensors --out m_odd.safetensors >/dev/null 2>&1
check_stage pre.safetensors m_even.safetensors
compare m_even.safetensors m_odd.safetensors
expect same "${frozen[@]}"
expect differs "${trained[@]}"
# Resuming a fine-tuned model from its own checkpoint needs no --init-from.
./ft_trainer train --data data.csv --init m0.safetensors --epochs 1 >/dev/null 2>&1 || fail "--init resume"
echo "stages: 4 passed, 0 failed"
