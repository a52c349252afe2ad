#!/usr/bin/env bash
# Divergence made visible (docs/divergence.md): a model engineered to overflow
# (inputs/overflow.rec: s grows towards 100, exp(s) overflows float at step 11)
#  - stops on each backend with a message naming the step, the bad output and
#    the first op that went non-finite: exp 'h' at overflow.rec:6:7, its
#    shape and element, and its finite input 's';
#  - keeps the last good checkpoint;
#  - in a standalone trainer (no graph to replay) names the step and output and
#    says to rerun with `recc train`;
#  - with --check-norms s=50 stops earlier, naming the value whose row norm
#    passed the limit; bad --check-norms values are errors naming the flag;
#  - with `clip_norm = 1` trains all 20 epochs: each SGD step moves s by at
#    most lr·1, so s stays below 88.7.
# Usage: divergence_test.sh RECC INPUTS_DIR
set -u
recc=$1
inputs=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
passed=0

check() {  # check NAME PATTERN OUTPUT: OUTPUT must match PATTERN
  if grep -qE -- "$2" <<<"$3"; then
    echo "ok   $1: $(grep -E -m1 -- "$2" <<<"$3")"; passed=$((passed + 1))
  else
    echo "FAIL $1: output lacks /$2/"; echo "$3" | tail -8; failures=$((failures + 1))
  fi
}

run() {  # run CMD...: prints its output; fails the test unless it exits 1
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  [[ $rc -eq 1 ]] || { echo "FAIL: exit code $rc (want 1): $*" >&2; failures=$((failures + 1)); }
  echo "$out"
}

{ echo "x,y"; for i in $(seq 1 16); do echo "1,1"; done; } >"$work/data.csv"
model="$inputs/overflow.rec"

for backend in reference mlir; do
  # Two good epochs first: their checkpoint must survive the bad step.
  "$recc" train "$model" --backend "$backend" --data "$work/data.csv" --epochs 2 \
    --out "$work/$backend.safetensors" >/dev/null 2>&1
  before=$(sha256sum "$work/$backend.safetensors" | cut -d' ' -f1)
  out=$(run "$recc" train "$model" --backend "$backend" --data "$work/data.csv" \
    --init "$work/$backend.safetensors" --out "$work/$backend.safetensors")
  check "$backend step" "non-finite output at step 11 \(epoch 3, batch 3\): output 'h' \[4,1\] is inf" "$out"
  check "$backend op" "overflow.rec:6:7: op exp 'h' \(forward\) \[4,1\] is inf at element \[0,0\]" "$out"
  check "$backend inputs" "overflow.rec:5:7: add 's' \[4,1\], largest \|x\| 89\." "$out"
  check "$backend checkpoint" "checkpoint '.*' was not overwritten" "$out"
  after=$(sha256sum "$work/$backend.safetensors" | cut -d' ' -f1)
  if [[ "$before" == "$after" ]]; then echo "ok   $backend: last good checkpoint kept"; passed=$((passed + 1))
  else echo "FAIL $backend: the last good checkpoint was overwritten"; failures=$((failures + 1)); fi
done

out=$(run "$recc" train "$model" --backend mlir --data "$work/data.csv" --check-norms s=50 \
  --check-norms-every 1)
check "check-norms" "^error: --check-norms 50: at step [0-9]+ \(epoch [0-9]+, batch [0-9]+\), .*overflow.rec:5:7: op add 's' \(forward\) \[4,1\] has row 0 of L2 norm 5[0-9.]+ \(limit 50\)" "$out"
out=$(run "$recc" train "$model" --backend mlir --data "$work/data.csv" --check-norms 1e6)
check "check-norms every 100" "non-finite output at step 11 " "$out"
out=$(run "$recc" train "$model" --data "$work/data.csv" --check-norms zz=5)
check "check-norms unknown value" "--check-norms: the model has no batched value named 'zz' \(values: .*'?h'?" "$out"
out=$(run "$recc" train "$model" --data "$work/data.csv" --check-norms s=-1)
check "check-norms bad limit" "--check-norms: expected X or NAME=X with X a positive number.*got 's=-1'" "$out"

sed 's/epochs = 20 }/epochs = 20  clip_norm = 1 }/' "$model" >"$work/clipped.rec"
for backend in reference mlir; do
  if out=$("$recc" train "$work/clipped.rec" --backend "$backend" --data "$work/data.csv" 2>&1); then
    check "clip_norm $backend trains" "epoch 20/20" "$out"
  else
    echo "FAIL clip_norm $backend: $(tail -3 <<<"$out")"; failures=$((failures + 1))
  fi
done

if "$recc" compile "$model" -o "$work/trainer" >/dev/null 2>&1; then
  out=$(run "$work/trainer" train --data "$work/data.csv")
  check "standalone step" "non-finite output at step 11 \(epoch 3, batch 3\): output 'h'" "$out"
  check "standalone advice" "run \`recc train\` on the model file" "$out"
  out=$(run "$work/trainer" train --data "$work/data.csv" --check-norms 5)
  check "standalone check-norms" "--check-norms: this trainer has no graph" "$out"
else
  echo "FAIL: recc compile"; failures=$((failures + 1))
fi

echo "divergence: $passed passed, $failures failed"
[[ $failures -eq 0 ]]
