#!/usr/bin/env bash
# Corpus retrieval side by side: `recc bench-retrieval` (the exact top-K that
# `recc eval/predict --corpus` run: blocked SGEMM + bounded selection) and the
# PyTorch peer (bench/torch_retrieval.py: torch.matmul + torch.topk per block
# of users), on random vectors of the same sizes, interleaved (recc, peer,
# recc, peer, ...) so that a change in the machine's load hits both. Each side
# also measures the machine's SGEMM (OpenBLAS, 1024^3) in the same run. Prints
# the median and range of every figure and the ratio of the medians; writes
# the raw JSON under out/bench/retrieval/.
#
# Usage: bench/run_retrieval.sh [--repeats N] [--threads T] [--items N] [--users U]
#                               [--dim D] [--k K]
set -euo pipefail
cd "$(dirname "$0")/.."

repeats=3 threads=2 items=300000 users=10000 dim=64 k=200
while (($#)); do
  case "$1" in
    --repeats) repeats=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --items) items=$2; shift 2 ;;
    --users) users=$2; shift 2 ;;
    --dim) dim=$2; shift 2 ;;
    --k) k=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "run_retrieval.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
for v in repeats threads items users dim k; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "run_retrieval.sh: --$v must be a positive integer, got '${!v}'" >&2; exit 2; }
done

out=out/bench/retrieval
mkdir -p "$out"
recc=build/compiler/tools/recc
scripts/install-deps.sh --bench >/dev/null
[[ -x $recc ]] || scripts/build.sh
sizes=(--items "$items" --users "$users" --dim "$dim" --k "$k" --threads "$threads")

echo "load before the runs: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for ((r = 1; r <= repeats; ++r)); do
  echo "repeat $r/$repeats: recc bench-retrieval" >&2
  # recc's OpenBLAS picks its core type by the CPU's flags (runtime/BlasGemm.cpp) unless the
  # environment pins one; the peer does not keep a pin either (torch_common.py).
  env -u OPENBLAS_CORETYPE "$recc" bench-retrieval "${sizes[@]}" --gemm openblas --reps 1 \
    --json "$out/recc_$r.json" >"$out/recc_$r.log"
  echo "repeat $r/$repeats: pytorch peer" >&2
  /usr/bin/python3 bench/torch_retrieval.py "${sizes[@]}" --reps 1 --json "$out/torch_$r.json" \
    >/dev/null 2>"$out/torch_$r.log"
done
echo "load after the runs: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

/usr/bin/python3 bench/side_by_side.py --kind retrieval --out "$out" --repeats "$repeats" \
  --title "corpus retrieval" --infer-target 2 \
  --json-summary "$out/summary.json"
