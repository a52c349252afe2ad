#!/usr/bin/env bash
# Data larger than memory: `recc train --stream-buffer` on a file ~20x its
# shuffle buffer (gen_funnel, 200k rows, buffer 10k rows) trains to sane
# metrics while its peak RSS stays well below the in-memory run's; the same
# rows given as gzip + zstd parts read as the same data set (same row count,
# same first-pass statistics, hence the same loss up to the order of rows).
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
$gen --out "$work/train.csv" --rows 200000 --seed 1 $vocab 2>/dev/null
$gen --out "$work/test.csv" --rows 20000 --seed 2 $vocab 2>/dev/null

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
streamed=$(train stream.log --data "$work/train.csv" --stream-buffer 10000)
# The same rows in three parts, gzip and zstd, through a list and a glob.
head -n 80001 "$work/train.csv" | gzip -1 >"$work/part1.csv.gz"
# zstd when its tool is installed (the unit tests cover zstd either way).
compress2="gzip -1"
command -v zstd >/dev/null && compress2="zstd -q -1"
{ head -n 1 "$work/train.csv"; sed -n '80002,150001p' "$work/train.csv"; } | $compress2 >"$work/part2.csv.z"
{ head -n 1 "$work/train.csv"; tail -n +150002 "$work/train.csv"; } >"$work/part3.csv"
parts=$(train parts.log --data "$work/part1.csv.gz" --data "$work/part[23].csv*" --stream-buffer 10000)

status=0
check() {  # check DESCRIPTION AWK-CONDITION
  if awk "BEGIN { exit !($2) }"; then echo "ok   $1"; else echo "FAIL $1"; status=1; fi
}
auc() { grep -o 'auc [0-9.]*' "$work/$1" | tail -1 | cut -d' ' -f2; }
loss() { grep -o 'epoch 1/1: [0-9]* steps, loss [0-9.]*' "$work/$1" | tail -1 | sed 's/.*loss //'; }
echo "peak RSS: in memory $((in_memory / 1024)) MiB, streamed $((streamed / 1024)) MiB," \
  "parts $((parts / 1024)) MiB; test AUC $(auc mem.log) / $(auc stream.log) / $(auc parts.log)"
grep -q -- '--stream-buffer 10000: streaming 200000 rows of 1 file' "$work/stream.log" ||
  { echo "FAIL first pass line"; cat "$work/stream.log"; status=1; }
grep -q -- 'streaming 200000 rows of 3 files' "$work/parts.log" ||
  { echo "FAIL parts: first pass line"; cat "$work/parts.log"; status=1; }
# The data set in memory is ~150 B a row (30 MB) plus the text (~25 MB) while parsing.
check "streamed peak RSS $streamed KiB < in-memory $in_memory KiB - 30 MiB" \
  "$streamed < $in_memory - 30 * 1024"
check "parts peak RSS $parts KiB < in-memory $in_memory KiB - 30 MiB" \
  "$parts < $in_memory - 30 * 1024"
for log in mem stream parts; do
  check "$log: test AUC $(auc $log.log) > 0.6" "$(auc $log.log) > 0.6"
done
# One file or three parts: the same rows in the same order through the same
# buffer and seed, so the same batches and the same epoch loss.
check "parts loss $(loss parts.log) == one-file loss $(loss stream.log)" \
  "\"$(loss parts.log)\" == \"$(loss stream.log)\""
[[ $status -eq 0 ]] && echo "stream data: 1 passed, 0 failed" || echo "stream data: 0 passed, 1 failed"
exit $status
