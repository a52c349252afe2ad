#!/usr/bin/env bash
# Retrieval over a corpus (recc eval/predict --corpus) on models whose query
# and item vectors are their dense inputs (inputs/retrieval/ret.rec), so every
# list and metric below is computed by hand from the files:
#   corpus (item: i0,i1)  0:(1,0) 1:(0,1) 2:(1,1) 3:(2,0) 4:(1,1) 5:(-1,0) 6:(0,2)
#   users (u0,u1)         10:(1,0) 11:(0,1) 12:(1,1) 13:(0,0)
#   user 10 ranks 3 | 0 2 4 (ties: smaller index first) | 1 6 | 5;  positives {3,4}
#   user 11 ranks 6 | 1 2 4 | 0 3 5;  positive {0}
#   user 12 ranks 2 3 4 6 | 0 1 | 5;  positive {5}
#   user 13 has no positive (its one row has click 0) and is not averaged.
# Usage: retrieval_test.sh RECC INPUTS_DIR BACKEND
set -eu
recc=$1
dir=$2/retrieval
backend=${3:-mlir}
model=$dir/ret.rec
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
run() { "$recc" "$@" --backend "$backend"; }

for m in ret ret_two; do
  run train "$model" --model $m --data "$dir/train.csv" --out "$work/$m.st" >/dev/null 2>&1
done

# Metrics at K = 1, 2, 4, 7 (NDCG: DCG / ideal DCG with 1/log2(rank + 1)).
run eval "$model" --ckpt "$work/ret.st" --data "$dir/test.csv" --corpus "$dir/corpus.csv" \
  --k 1,2,4,7 --metrics-json "$work/m.json" >"$work/eval.txt"
/usr/bin/python3 - "$work/m.json" <<'PY' || fail "eval metrics"
import json, math, sys
r = json.load(open(sys.argv[1]))["retrieval"]
l2 = lambda n: 1 / math.log2(n + 1)
want = {  # user 10 hits rank 1 (item 3) and 4 (item 4); 11 rank 5; 12 rank 7
    "1": (1/3, 1/3, 0.5/3, 1/3),
    "2": (1/3, 0.5/3, 0.5/3, (1 / (1 + l2(2))) / 3),
    "4": (1/3, 0.5/3, 1/3, ((1 + l2(4)) / (1 + l2(2))) / 3),
    "7": (1, (2/7 + 1/7 + 1/7) / 3, 1, ((1 + l2(4)) / (1 + l2(2)) + l2(5) + l2(7)) / 3),
}
assert (r["users"], r["requests"], r["corpus"], r["positives"]) == (3, 4, 7, 4), r
for k, (hr, p, rec, ndcg) in want.items():
    got = r["k"][k]
    for name, v in zip(("hitrate", "precision", "recall", "ndcg"), (hr, p, rec, ndcg)):
        assert abs(got[name] - v) < 1e-9, (k, name, got[name], v)
PY
grep -q "eval step skipped" "$work/eval.txt" || fail "no note that the eval step was skipped"
grep -q "scoring + selection" "$work/eval.txt" || fail "no time split"
echo "ok   metrics at K = 1, 2, 4, 7"

# --exclude-seen: user 10 clicked 3 and user 11 clicked 6 in training (label
# 1; the label-0 row and the unknown user 19 do not count). At K = 4 user 10
# now hits item 4 at rank 3, user 11 item 0 at rank 4.
run eval "$model" --ckpt "$work/ret.st" --data "$dir/test.csv" --corpus "$dir/corpus.csv" \
  --k 4 --exclude-seen "$dir/train.csv" --metrics-json "$work/seen.json" >/dev/null
/usr/bin/python3 - "$work/seen.json" <<'PY' || fail "exclude-seen metrics"
import json, math, sys
r = json.load(open(sys.argv[1]))["retrieval"]
got = r["k"]["4"]
ndcg = (0.5 / (1 + 1 / math.log2(3)) + 1 / math.log2(5)) / 3
want = {"hitrate": 2/3, "precision": 0.5/3, "recall": 0.5, "ndcg": ndcg}
assert r["excluded_pairs"] == 2, r
for name, v in want.items():
    assert abs(got[name] - v) < 1e-9, (name, got[name], v)
PY
echo "ok   --exclude-seen"

# A positive whose item is not in the corpus counts in Recall's denominator:
# user 11 also clicked item 9, so its Recall@7 is 1/2.
{ cat "$dir/test.csv"; echo "11,0,1,9,1"; } >"$work/test_outside.csv"
run eval "$model" --ckpt "$work/ret.st" --data "$work/test_outside.csv" --corpus "$dir/corpus.csv" \
  --k 7 --metrics-json "$work/outside.json" >"$work/outside.txt"
/usr/bin/python3 - "$work/outside.json" <<'PY' || fail "a positive outside the corpus"
import json, sys
r = json.load(open(sys.argv[1]))["retrieval"]
assert (r["positives"], r["positives_outside_corpus"]) == (5, 1), r
assert abs(r["k"]["7"]["recall"] - (1 + 0.5 + 1) / 3) < 1e-9, r["k"]["7"]
PY
grep -q "1 of 5 positives name items not in the corpus" "$work/outside.txt" || fail "no note on it"
echo "ok   a positive outside the corpus"

# predict: the lists themselves, ties broken by the smaller item index.
run predict "$model" --ckpt "$work/ret.st" --data "$dir/test.csv" --corpus "$dir/corpus.csv" \
  --k 3 --out "$work/p.csv" 2>/dev/null
printf '%s\n' user_key,rank,item_key,score 10,1,3,2 10,2,0,1 10,3,2,1 11,1,6,2 11,2,1,1 \
  11,3,2,1 12,1,2,2 12,2,3,2 12,3,4,2 13,1,0,0 13,2,1,0 13,3,2,0 >"$work/want.csv"
diff "$work/want.csv" "$work/p.csv" || fail "predict lists"
echo "ok   predict lists"

# Two queries per user, (u0,u1) and (u1,u0), merged by the max: user 10 and 11
# both score 2 on items 3 and 6, then 1 on items 0, 1, 2, 4.
run predict "$model" --model ret_two --ckpt "$work/ret_two.st" --data "$dir/test.csv" \
  --corpus "$dir/corpus.csv" --k 3 --out "$work/p2.csv" 2>/dev/null
head -7 "$work/p2.csv" | tail -6 | tr '\n' ' ' | grep -q "^10,1,3,2 10,2,6,2 10,3,0,1 11,1,3,2 11,2,6,2 11,3,0,1 $" \
  || fail "merged lists: $(cat "$work/p2.csv")"
echo "ok   two queries merged by max"

# Bad input: each a clear message and exit 1.
expect_error() {  # expect_error MESSAGE ARGS...
  local want=$1; shift
  if out=$("$@" 2>&1); then fail "succeeded: $*"; fi
  grep -qF -- "$want" <<<"$out" || fail "expected '$want', got: $out"
  echo "ok   error: $(grep -F -- "$want" <<<"$out" | head -1)"
}
printf 'item_id,i0\n0,1\n' >"$work/c_missing.csv"
printf 'item_id,i0,i1\n0,1,0\n1,0,1\n0,2,2\n' >"$work/c_dup.csv"
printf 'user_id,u0,u1,item_id,click\n' >"$work/t_empty.csv"
ev=(run eval "$model" --ckpt "$work/ret.st")
expect_error "c_missing.csv: missing column 'i1' (model feature 'i1'); header has: item_id, i0" \
  "${ev[@]}" --data "$dir/test.csv" --corpus "$work/c_missing.csv"
expect_error "c_dup.csv: item key 'item_id' = 0 appears twice in the corpus (data rows 1 and 3)" \
  "${ev[@]}" --data "$dir/test.csv" --corpus "$work/c_dup.csv"
expect_error "t_empty.csv: no data rows after the header" \
  "${ev[@]}" --data "$work/t_empty.csv" --corpus "$dir/corpus.csv"
expect_error "--user-key 'uid' is not an id input of model 'ret' (its id inputs: user_id, item_id)" \
  "${ev[@]}" --data "$dir/test.csv" --corpus "$dir/corpus.csv" --user-key uid
expect_error "--exclude-seen is a retrieval flag: it needs --corpus" \
  "${ev[@]}" --data "$dir/test.csv" --exclude-seen "$dir/train.csv"
for m in ret_user_side ret_label ret_none; do
  run train "$model" --model $m --data "$dir/train.csv" --out "$work/$m.st" >/dev/null 2>&1
done
bad() { run eval "$model" --model "$1" --ckpt "$work/$1.st" --data "$dir/test.csv" --corpus "$dir/corpus.csv"; }
expect_error "ret.rec:47:15: error: model 'ret_user_side': the item tower of top_k output 'top_items' reads 'u0', which the user tower (the query) reads too" bad ret_user_side
expect_error "ret.rec:63:15: error: model 'ret_label': the item tower of top_k output 'top_items' reads label 'click'" bad ret_label
expect_error "ret.rec: error: model 'ret_none' has no top_k output" bad ret_none
