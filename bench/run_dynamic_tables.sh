#!/usr/bin/env bash
# Dynamic tables at ZEUS's sizes (issue: 10^8-row tables):
#  1. `recc train models/zeus.rec --model dnn` (query_emb and product_emb are
#     10^8 x 32, dynamic by default) on data touching about 10^6 distinct ids
#     of each, one epoch with a checkpoint, under /usr/bin/time: peak RSS, and
#     the rows the checkpoint stores per table;
#  2. build/bench/table_throughput: gather and update of a dynamic table vs a
#     dense one at the same batch, interleaved in one run.
# zeus_pretrain itself needs the word-segment bags of the data reader; `dnn`
# has the same global tables and id inputs without them.
#   bench/run_dynamic_tables.sh [BUILD_DIR] [WORK_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
work=${2:-/tmp/recc-dynamic-bench}
mkdir -p "$work"
data=$work/zeus_ids.csv
[ -s "$data" ] || python3 bench/zeus_ids_data.py "$data"
echo "data: $(($(wc -l <"$data") - 1)) rows"
/usr/bin/time -v "$build/compiler/tools/recc" train models/zeus.rec --model dnn --data "$data" \
  --epochs 1 --threads 2 --out "$work/dnn.safetensors" 2>"$work/time.txt" | tail -3
grep -E "Maximum resident|Elapsed" "$work/time.txt"
grep -E "^error" "$work/time.txt" || true
python3 - "$work/dnn.safetensors" <<'PY'
import json, struct, sys
with open(sys.argv[1], "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    h = json.loads(f.read(n))
for k, v in sorted(h.items()):
    if k.startswith("ids/"):
        print(f"checkpoint: {k} holds {v['shape'][0]} rows (of 100000000)")
PY
ls -l "$work/dnn.safetensors" | awk '{printf "checkpoint: %.1f MB\n", $5 / 1e6}'
"$build/bench/table_throughput"
