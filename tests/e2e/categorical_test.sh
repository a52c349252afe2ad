#!/usr/bin/env bash
# Logs as they come, end to end (tests/e2e/inputs/categorical.rec): a model
# trains on string user ids (hashed), categories from a vocabulary file,
# bucketized prices, log1p counts and empty cells, learns the signal planted
# in the category and the user, then evaluates a file with ids outside a
# vocabulary: refused by default with file:row:column, read as id 0 under
# --unseen oov, dropped under --unseen skip; the counts are in the metrics
# JSON. With a third argument "aot", a compiled trainer reads the same way.
# Usage: categorical_test.sh RECC INPUTS_DIR [aot]
set -u
recc=$1
inputs=$2
aot=${3:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
model=$inputs/categorical.rec

# Clicks: category shoes, or a user whose id starts with "fan-". Some cells
# are empty (defaults), some categories unknown (id 0).
awk 'BEGIN {
  srand(7); print "click,user,cat,price,cnt,slot"
  split("shoes hats bags socks scarves", cats, " ")
  for (i = 0; i < 2000; i++) {
    fan = rand() < 0.3; u = (fan ? "fan-" : "u-") sprintf("%x", int(rand() * 40))
    c = cats[1 + int(rand() * 5)]; if (rand() < 0.05) c = ""
    price = rand() < 0.1 ? "" : sprintf("%.2f", rand() * 200 - 5)
    cnt = rand() < 0.1 ? "" : int(rand() * 1000)
    click = (c == "shoes" || fan) ? (rand() < 0.9) : (rand() < 0.1)
    printf "%d,%s,%s,%s,%s,%d\n", click, u, c, price, cnt, int(rand() * 10)
  }
}' >"$work/train.csv"

# 8 rows: slot 12 and slot -1 lie outside id(10) (rows 3 and 6 of the file
# after the header: lines 4 and 7); "boots" is not in the vocabulary file
# (read as id 0, in every mode); user "new-user" was never seen (hashed).
cat >"$work/eval.csv" <<'CSV'
click,user,cat,price,cnt,slot
1,fan-3,hats,5,10,1
0,u-7,hats,50,3,2
1,u-1,shoes,,7,12
0,u-2,boots,1,0,3
1,fan-9,bags,0.5,,4
0,new-user,socks,20,1,-1
1,fan-1,shoes,150,9,5
0,u-5,hats,2,2,6
CSV

"$recc" train "$model" --data "$work/train.csv" --backend reference --out "$work/m.st" \
  --metrics-json "$work/train.json" >"$work/train.log" 2>&1 || { cat "$work/train.log"; fail "train"; }
/usr/bin/python3 - "$work/train.json" <<'PY' || fail "the model did not learn the planted signal"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["metrics"]["auc"] > 0.8, m
print("train auc %.4f" % m["metrics"]["auc"])
PY

# Default: an error naming file:row:column, the value and the vocabulary.
out=$("$recc" eval "$model" --ckpt "$work/m.st" --data "$work/eval.csv" --backend reference 2>&1)
rc=$?
[[ $rc -eq 1 ]] || fail "eval with unseen ids exited $rc (want 1): $out"
grep -q "eval.csv:4:6: id 12 out of range for 'slot' (vocabulary 10); --unseen oov maps such ids to id 0, --unseen skip skips their rows" <<<"$out" \
  || fail "unexpected refusal: $out"

# check_json FILE ROWS SKIPPED OOV POLICY
check_json() {
  /usr/bin/python3 - "$@" <<'PY'
import json, sys
path, rows, skipped, oov, policy = sys.argv[1:]
m = json.load(open(path))
want = {"policy": policy, "skipped_rows": int(skipped), "oov_ids": int(oov)}
assert m["rows"] == int(rows), (m["rows"], rows)
assert m["unseen"] == want, (m["unseen"], want)
PY
}
for backend in reference ${aot:+mlir}; do
  "$recc" eval "$model" --ckpt "$work/m.st" --data "$work/eval.csv" --backend $backend \
    --unseen oov --metrics-json "$work/oov.json" >"$work/oov.log" 2>&1 || fail "eval --unseen oov: $(cat "$work/oov.log")"
  check_json "$work/oov.json" 8 0 3 oov || fail "--unseen oov counts ($backend)"
  grep -q "eval.csv: 3 ids read as the out-of-vocabulary id 0" "$work/oov.log" || fail "oov not reported: $(cat "$work/oov.log")"
  "$recc" eval "$model" --ckpt "$work/m.st" --data "$work/eval.csv" --backend $backend \
    --unseen skip --metrics-json "$work/skip.json" >"$work/skip.log" 2>&1 || fail "eval --unseen skip: $(cat "$work/skip.log")"
  check_json "$work/skip.json" 6 2 1 skip || fail "--unseen skip counts ($backend)"
  grep -q "eval.csv: --unseen skip: skipped 2 rows" "$work/skip.log" || fail "skip not reported: $(cat "$work/skip.log")"
done
# predict --keep: the id columns beside the scores, for the rows kept.
"$recc" predict "$model" --ckpt "$work/m.st" --data "$work/eval.csv" --backend reference \
  --unseen skip --keep user,slot --out "$work/scores.csv" 2>/dev/null || fail "predict --unseen skip"
[[ $(($(wc -l <"$work/scores.csv") - 1)) -eq 6 ]] || fail "predict --unseen skip wrote $(wc -l <"$work/scores.csv") lines"
[[ $(cut -d, -f1,2 "$work/scores.csv" | tr '\n' ' ') == "user,slot fan-3,1 u-7,2 u-2,3 fan-9,4 fan-1,5 u-5,6 " ]] \
  || fail "predict --keep columns: $(cat "$work/scores.csv")"
[[ $(head -1 "$work/scores.csv") == "user,slot,p" ]] || fail "predict --keep header: $(head -1 "$work/scores.csv")"
out=$("$recc" predict "$model" --ckpt "$work/m.st" --data "$work/eval.csv" --backend reference \
  --keep user,p --unseen oov --out "$work/x.csv" 2>&1)
grep -q "missing column 'p' (--keep column)" <<<"$out" || fail "predict --keep of a missing column: $out"

if [[ -n $aot ]]; then
  "$recc" compile "$model" -o "$work/trainer" >/dev/null 2>&1 || fail "compile"
  (cd / && "$work/trainer" eval --ckpt "$work/m.st" --data "$work/eval.csv" --unseen skip \
    --metrics-json "$work/aot.json" >/dev/null 2>&1) || fail "compiled trainer eval"
  check_json "$work/aot.json" 6 2 1 skip || fail "compiled trainer --unseen skip counts"
  cmp <(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["metrics"])' "$work/skip.json") \
      <(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["metrics"])' "$work/aot.json") \
    || fail "compiled trainer metrics differ from the JIT's"
fi
echo "ok: categorical features and unseen ids"
