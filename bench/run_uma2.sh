#!/usr/bin/env bash
# UMA² side by side in one run: `recc bench` (MLIR backend, training and
# inference, models/uma2.rec at the paper's vocabularies, batch 512) and the
# PyTorch eager peer (bench/torch_uma2.py, the same model), interleaved (recc,
# peer, recc, peer, ...) so that a change in the machine's load hits both.
# Prints the median and range of every figure and the ratios of the medians;
# writes the raw JSON and logs under out/bench/uma2/.
#
# Usage: bench/run_uma2.sh [--repeats N] [--threads T] [--steps S] [--warmup W]
#                          [--data FILE.csv]
#   --data   a training CSV of examples/uma2/gen_uma2 for the peer (e.g.
#            ss_abc_fixed.csv); default: the peer's random rows
set -euo pipefail
cd "$(dirname "$0")/.."

repeats=3 threads=2 steps=20 warmup=3 data=""
while (($#)); do
  case "$1" in
    --repeats) repeats=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "run_uma2.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
for v in repeats threads steps; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "run_uma2.sh: --$v must be a positive integer, got '${!v}'" >&2; exit 2; }
done
[[ $warmup =~ ^[0-9]+$ ]] || { echo "run_uma2.sh: --warmup must be a non-negative integer, got '$warmup'" >&2; exit 2; }
[[ -z $data || -f $data ]] || { echo "run_uma2.sh: --data: no such file '$data'" >&2; exit 2; }

out=out/bench/uma2
mkdir -p "$out"
recc=build/compiler/tools/recc
scripts/install-deps.sh --bench >/dev/null
[[ -x $recc ]] || scripts/build.sh
peer_data=()
[[ -n $data ]] && peer_data=(--data "$data")

echo "load before the runs: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for ((r = 1; r <= repeats; ++r)); do
  echo "repeat $r/$repeats: recc bench" >&2
  "$recc" bench models/uma2.rec --backends mlir --inference --threads "$threads" \
    --steps "$steps" --warmup "$warmup" --json "$out/recc_$r.json" >"$out/recc_$r.log"
  echo "repeat $r/$repeats: pytorch peer" >&2
  /usr/bin/python3 bench/torch_uma2.py --threads "$threads" --steps "$steps" --warmup "$warmup" \
    "${peer_data[@]}" --json "$out/torch_$r.json" >/dev/null 2>"$out/torch_$r.log"
done
echo "load after the runs: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

/usr/bin/python3 - "$out" "$repeats" <<'PY'
import json, statistics, sys
out, repeats = sys.argv[1], int(sys.argv[2])
recc = [next(r for r in json.load(open(f"{out}/recc_{i}.json"))["results"]) for i in range(1, repeats + 1)]
torch = [json.load(open(f"{out}/torch_{i}.json")) for i in range(1, repeats + 1)]
for r in recc:
    if "error" in r:
        sys.exit(f"recc bench failed: {r['error']}")

def row(name, values, unit="", fmt="{:,.0f}"):
    m, lo, hi = statistics.median(values), min(values), max(values)
    print(f"  {name:<34}{fmt.format(m):>12} {unit:<10} range {fmt.format(lo)} .. {fmt.format(hi)}")
    return m

t0 = torch[0]
print(f"\nUMA², batch {t0['batch']}, {t0['threads']} threads, {repeats} interleaved repeats "
      f"(median, range); peer data: {t0['data']}")
print("recc (MLIR backend, `recc bench`):")
r_train = row("training", [r["train_samples_per_second"] for r in recc], "samples/s")
r_infer = row("inference (eval step)", [r["infer_samples_per_second"] for r in recc], "samples/s")
r_rss = row("peak RSS", [r["peak_rss_mb"] for r in recc], "MB")
row("JIT compile, train step", [r["compile_seconds"] for r in recc], "s", "{:.1f}")
print("pytorch eager peer:")
p_train = row("training", [t["train_samples_per_s"] for t in torch], "samples/s")
p_infer = row("inference", [t["infer_samples_per_s"] for t in torch], "samples/s")
p_rss = row("peak RSS", [t["peak_rss_mib"] for t in torch], "MiB")
sgemm = row("SGEMM 1024^3 (torch.mm)", [t["sgemm_gflops"] for t in torch], "GFLOP/s", "{:.1f}")
loads = [max(t["other_load_train"], t["other_load_infer"]) for t in torch]
row("other processes' CPU share", loads, "", "{:.2f}")

mflop = t0["dense_mflop_per_sample_train"]
print(f"\nratios (of the medians):")
print(f"  training   recc / peer            {r_train / p_train:6.2f}x   (target >= 2)")
print(f"  inference  recc / peer            {r_infer / p_infer:6.2f}x")
print(f"  peak RSS   recc / peer            {r_rss / p_rss:6.2f}    (target <= 1)")
print(f"  recc dense GFLOP/s / SGEMM        {r_train * mflop / 1e3 / sgemm:6.2f}    "
      f"({r_train * mflop / 1e3:.1f} GFLOP/s at {mflop:.2f} MFLOP/sample)")
print(f"  peer dense GFLOP/s / SGEMM        {p_train * mflop / 1e3 / sgemm:6.2f}")
if max(loads) > 0.05:
    print(f"warning: other processes used up to {max(loads):.0%} of the CPU during the peer's "
          "measurements; the figures are disturbed")
PY
