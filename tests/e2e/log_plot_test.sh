#!/usr/bin/env bash
# Metrics, training logs and pictures through the driver:
#  - every binary metric of a small funnel model (gauc's reductions, ne,
#    calibration, ctr, pctr, breakdowns by gender, a `where` filter) agrees
#    with a plain-Python recomputation from `recc predict`'s scores;
#  - `recc train --log` on ESMM writes one JSON object per line with the
#    documented keys, and a run killed mid-way keeps its lines;
#  - `recc plot` draws PNG and SVG through gnuplot, `recc graph --png/--svg`
#    renders through Graphviz; either missing is a clear error.
# Usage: log_plot_test.sh RECC GEN_FUNNEL SOURCE_DIR
set -eu
recc=$1
gen=$2
src=$3
inputs=$src/tests/e2e/inputs
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
fail() { echo "FAIL: $*"; exit 1; }
for tool in jq gnuplot dot; do
  command -v "$tool" >/dev/null || { echo "SKIP: '$tool' is not installed (scripts/install-deps.sh installs it)"; exit 0; }
done

# --- metrics against Python -------------------------------------------------
small="--users 60 --items 50 --ctr 0.2 --buy-rate 0.2"
# shellcheck disable=SC2086
"$gen" --out train.csv --rows 1000 --seed 1 $small 2>/dev/null
# shellcheck disable=SC2086
"$gen" --out test.csv --rows 600 --seed 2 $small 2>/dev/null
model=$inputs/funnel_metrics.rec
"$recc" train "$model" --backend reference --data train.csv --out m.safetensors >/dev/null 2>&1
"$recc" eval "$model" --backend reference --ckpt m.safetensors --data test.csv \
  --metrics-json metrics.json >eval.txt
"$recc" predict "$model" --backend reference --ckpt m.safetensors --data test.csv \
  --keep user_id,gender,click,buy --out scores.csv 2>/dev/null
/usr/bin/python3 "$src/tests/e2e/check_metrics.py" scores.csv metrics.json || fail "metrics disagree"
grep -q "^ctr_cal by gender: " eval.txt || fail "no breakdown table printed: $(cat eval.txt)"
echo "ok   metrics agree with Python"

# --- --log on ESMM ----------------------------------------------------------
# Click and purchase rates well above the defaults, so 300 test rows hold purchases.
"$gen" --out f_train.csv --rows 600 --seed 1 --ctr 0.3 --buy-rate 0.3 2>/dev/null
"$gen" --out f_test.csv --rows 300 --seed 2 --ctr 0.3 --buy-rate 0.3 2>/dev/null
"$recc" train "$src/models/esmm.rec" --backend reference --batch 100 --data f_train.csv \
  --eval-data f_test.csv --log run.jsonl --log-every 2 --metrics-json esmm.json >/dev/null 2>&1
jq -e . run.jsonl >/dev/null || fail "run.jsonl: a line is not JSON"
[[ $(jq -s 'map(.kind) | join(",")' run.jsonl) == '"start,train,train,train,eval"' ]] ||
  fail "unexpected lines: $(jq -c -s 'map([.kind, .step])' run.jsonl)"
jq -e -s '[.[] | select(.kind == "train")] | all(
    (.step | type) == "number" and .epoch == 1 and .steps == 2 and (.loss | type) == "number"
    and (.loss_terms | keys) == ["ctcvr", "ctr"] and .samples_per_s > 0 and .lr == 0.0005)' \
  run.jsonl >/dev/null || fail "train lines lack keys: $(head -2 run.jsonl)"
jq -e -s '.[4] | .step == 6 and (.metrics | keys) == ["ctcvr_auc", "ctcvr_gauc", "cvr_auc"]' \
  run.jsonl >/dev/null || fail "eval line: $(tail -1 run.jsonl)"
jq -e '.by_output.p_ctcvr == ["ctcvr_auc", "ctcvr_gauc"] and .by_output.p_cvr == ["cvr_auc"]' \
  esmm.json >/dev/null || fail "by_output: $(jq -c .by_output esmm.json)"
echo "ok   --log: $(wc -l <run.jsonl) lines, steps $(jq -s -c '[.[] | select(.kind == "train") | .step]' run.jsonl)"

# A run killed mid-way (SIGKILL) keeps every line written before: each is flushed.
"$recc" train "$src/models/esmm.rec" --backend reference --batch 10 --data f_train.csv \
  --log killed.jsonl --log-every 1 >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 600); do
  [[ -f killed.jsonl && $(grep -c '"kind":"train"' killed.jsonl) -ge 3 ]] && break
  sleep 0.1
done
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
jq -e . killed.jsonl >/dev/null || fail "killed.jsonl: a line is not JSON"
[[ $(grep -c '"kind":"train"' killed.jsonl) -ge 3 ]] || fail "the killed run's log: $(cat killed.jsonl)"
echo "ok   a run killed at step $(jq -s 'map(.step // 0) | max' killed.jsonl) of 60 kept $(wc -l <killed.jsonl) log lines"

# --- pictures ---------------------------------------------------------------
"$recc" plot run.jsonl -o curves.png >/dev/null
[[ $(head -c 8 curves.png | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]] || fail "curves.png is not a PNG"
"$recc" plot run.jsonl -o curves.svg >/dev/null
grep -q '<svg' curves.svg && grep -q 'ctcvr_gauc' curves.svg || fail "curves.svg lacks the metric curves"
"$recc" graph "$src/models/esmm.rec" --svg graph.svg
grep -q '<svg' graph.svg && grep -q 'p_ctcvr' graph.svg || fail "graph.svg lacks the model's outputs"
"$recc" graph "$src/models/esmm.rec" --eval --png graph.png
[[ $(head -c 4 graph.png | od -An -tx1 | tr -d ' \n') == 89504e47 ]] || fail "graph.png is not a PNG"
echo "ok   plot: $(wc -c <curves.png) B png, $(wc -c <curves.svg) B svg; graph: $(wc -c <graph.svg) B svg"

expect_error() {  # expect_error TEXT COMMAND...
  local text=$1 out
  shift
  if out=$("$@" 2>&1); then fail "succeeded: $*"; fi
  grep -qF -- "$text" <<<"$out" || fail "$*: expected '$text', got: $out"
}
expect_error "recc plot needs 'gnuplot', which is not installed (Debian: apt-get install gnuplot-nox" \
  env PATH=/nonexistent "$recc" plot run.jsonl -o x.png
expect_error "recc graph --svg needs 'dot', which is not installed (Debian: apt-get install graphviz" \
  env PATH=/nonexistent "$recc" graph "$src/models/esmm.rec" --svg x.svg
expect_error "-o x.pdf: expected a .png or .svg file" "$recc" plot run.jsonl -o x.pdf
printf '{"kind":"train","step":1,"loss":0.5}\nnot json\n' >bad.jsonl
expect_error "bad.jsonl:2: not a JSON object" "$recc" plot bad.jsonl -o x.png
# A last line cut short (a run killed while writing) is skipped with a warning.
{ head -3 run.jsonl; printf '{"kind":"train","st'; } >cut.jsonl
out=$("$recc" plot cut.jsonl -o cut.png 2>&1) || fail "plot of a cut log: $out"
grep -q "warning: cut.jsonl:4: skipping the unfinished last line" <<<"$out" || fail "no warning: $out"
echo "ok   missing tools and bad logs are clear errors"
