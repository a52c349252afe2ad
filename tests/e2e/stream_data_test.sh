#!/usr/bin/env bash
# Data larger than memory: `recc train --stream-buffer` on 800k gen_funnel
# rows (80x its shuffle buffer of 10k rows), given as three parts (gzip, zstd
# or gzip, plain) through a list and a glob, trains to the metrics of the
# in-memory run while its peak RSS stays well below that run's and within a
# few MiB of a streamed run on 2k rows: it does not grow with the data. And
# `predict --stream-rows` writes the file `predict` writes.
# A small model, so that the data and not the tables dominate memory.
# Usage: stream_data_test.sh RECC GEN_FUNNEL
set -eu
recc=$1
gen=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat >"$work/tiny.rec" <<'EOF'
model tiny_funnel {
  input user_id : id(1000)
  input item_id : id(1000)
  input category_id : id(50)
  input num_0, num_1, num_2, num_3 : dense(tanh_zscore)
  label click
  table user_emb[1000, 8]  table item_emb[1000, 8]  table category_emb[50, 8]
  x = concat(embed(user_emb, user_id), embed(item_emb, item_id),
             embed(category_emb, category_id), num_0, num_1, num_2, num_3)
  p = sigmoid(dense(mlp(x, [16]), 1))
  loss ctr = bce(p, click)
  output p
  metric auc = auc(p, click)
  train { optimizer = adam(lr = 0.003)  batch = 500  epochs = 1 }
}
EOF
vocab="--users 1000 --items 1000 --shops 100 --brands 100 --categories 50 --ctr 0.2"
$gen --out "$work/train.csv" --rows 800000 --seed 1 $vocab 2>/dev/null
$gen --out "$work/small.csv" --rows 2000 --seed 3 $vocab 2>/dev/null
$gen --out "$work/test.csv" --rows 20000 --seed 2 $vocab 2>/dev/null
# The same rows in three parts; zstd where its tool is installed (the unit
# tests cover zstd either way).
compress2="gzip -1"
command -v zstd >/dev/null && compress2="zstd -q -1"
head -n 300001 "$work/train.csv" | gzip -1 >"$work/part1.csv.gz"
{ head -n 1 "$work/train.csv"; sed -n '300002,600001p' "$work/train.csv"; } | $compress2 >"$work/part2.csv.z"
{ head -n 1 "$work/train.csv"; tail -n +600002 "$work/train.csv"; } >"$work/part3.csv"

# Peak RSS (KiB) of a command, from getrusage of the child; its output to $log.
peak_rss() {
  local log=$1
  shift
  /usr/bin/python3 - "$log" "$@" <<'EOF'
import resource, subprocess, sys
with open(sys.argv[1], "w") as log:
    rc = subprocess.run(sys.argv[2:], stdout=log, stderr=subprocess.STDOUT).returncode
if rc != 0:
    sys.exit(f"exit status {rc}: {' '.join(sys.argv[2:])}\n" + open(sys.argv[1]).read())
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
EOF
}
train() {  # train LOG ARGS...: peak RSS of `recc train` on the tiny model
  local log=$1
  shift
  peak_rss "$work/$log" "$recc" train "$work/tiny.rec" --eval-data "$work/test.csv" \
    --threads 2 "$@"
}

in_memory=$(train mem.log --data "$work/train.csv")
streamed=$(train stream.log --data "$work/part1.csv.gz" --data "$work/part[23].csv*" \
  --stream-buffer 10000 --out "$work/tiny.safetensors")
small=$(train small.log --data "$work/small.csv" --stream-buffer 10000)

status=0
check() {  # check DESCRIPTION AWK-CONDITION
  if awk "BEGIN { exit !($2) }"; then echo "ok   $1"; else echo "FAIL $1"; status=1; fi
}
auc() { grep -o 'auc [0-9.]*' "$work/$1" | tail -1 | cut -d' ' -f2; }
echo "peak RSS: in memory $((in_memory / 1024)) MiB, streamed $((streamed / 1024)) MiB," \
  "streamed 2k rows $((small / 1024)) MiB; test AUC $(auc mem.log) / $(auc stream.log)"
grep -q -- '--stream-buffer 10000: streaming 800000 rows of 3 files' "$work/stream.log" ||
  { echo "FAIL first pass line"; cat "$work/stream.log"; status=1; }
# In memory: the text (71 MB) and its line index while parsing, then ~44 B a
# row of columns (35 MB); measured +85 MiB over the streamed run.
check "streamed peak RSS $streamed KiB < in-memory $in_memory KiB - 50 MiB" \
  "$streamed < $in_memory - 50 * 1024"
check "streamed peak RSS $streamed KiB < streamed 2k rows $small KiB + 8 MiB" \
  "$streamed < $small + 8 * 1024"
# predict --stream-rows scores chunk by chunk, in whole batches: the same file.
predict() { "$recc" predict "$work/tiny.rec" --ckpt "$work/tiny.safetensors" --data "$work/test.csv" \
  --keep user_id --threads 2 "$@" 2>/dev/null; }
predict --out "$work/scores.csv" && predict --out "$work/streamed.csv" --stream-rows 1200
if cmp -s "$work/scores.csv" "$work/streamed.csv" && [[ $(wc -l <"$work/scores.csv") -eq 20001 ]]; then
  echo "ok   predict --stream-rows writes the scores predict writes"
else
  echo "FAIL predict --stream-rows differs from predict"; status=1
fi
a=$(auc mem.log) b=$(auc stream.log)
check "in-memory test AUC $a > 0.7" "$a > 0.7"
check "streamed test AUC $b > in-memory $a - 0.01" "$b > $a - 0.01"
[[ $status -eq 0 ]] && echo "stream data: 1 passed, 0 failed" || echo "stream data: 0 passed, 1 failed"
exit $status
