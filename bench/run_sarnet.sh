#!/usr/bin/env bash
# SAR-Net side by side in one run: `recc bench` (MLIR backend, training and
# inference) and the PyTorch eager peer (bench/torch_sarnet.py), interleaved
# (recc, peer, recc, peer, ...) so that a change in the machine's load hits
# both; then `recc train` on a CSV, against the bench's step rate. Prints the
# median and range of every figure and the ratios of the medians; writes the
# raw JSON and logs under out/bench/sarnet/.
#
# Usage: bench/run_sarnet.sh [--repeats N] [--threads T] [--steps S] [--warmup W]
#                            [--data FILE.csv] [--train-rows N]
#   --data        a CSV with models/sarnet.rec's columns (e.g. the SAR-Net
#                 generator's); default: random rows written by sarnet_data.py
#   --train-rows  rows of that random CSV (default 40 batches of 2048)
set -euo pipefail
cd "$(dirname "$0")/.."

repeats=3 threads=2 steps=10 warmup=2 data="" train_rows=81920
while (($#)); do
  case "$1" in
    --repeats) repeats=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --train-rows) train_rows=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "run_sarnet.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
for v in repeats threads steps train_rows; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "run_sarnet.sh: --${v//_/-} must be a positive integer, got '${!v}'" >&2; exit 2; }
done
[[ $warmup =~ ^[0-9]+$ ]] || { echo "run_sarnet.sh: --warmup must be a non-negative integer, got '$warmup'" >&2; exit 2; }
[[ -z $data || -f $data ]] || { echo "run_sarnet.sh: --data: no such file '$data'" >&2; exit 2; }

out=out/bench/sarnet
mkdir -p "$out"
recc=build/compiler/tools/recc
scripts/install-deps.sh --bench >/dev/null
[[ -x $recc ]] || scripts/build.sh
if [[ -z $data ]]; then
  data=$out/sarnet_random.csv
  echo "writing $train_rows random rows to $data" >&2
  /usr/bin/python3 bench/sarnet_data.py --out "$data" --rows "$train_rows"
fi

echo "load before the runs: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for ((r = 1; r <= repeats; ++r)); do
  echo "repeat $r/$repeats: recc bench" >&2
  "$recc" bench models/sarnet.rec --backends mlir --inference --threads "$threads" \
    --steps "$steps" --warmup "$warmup" --json "$out/recc_$r.json" >"$out/recc_$r.log"
  echo "repeat $r/$repeats: pytorch peer" >&2
  /usr/bin/python3 bench/torch_sarnet.py --threads "$threads" --steps "$steps" --warmup "$warmup" \
    --data "$data" --json "$out/torch_$r.json" >/dev/null 2>"$out/torch_$r.log"
done
echo "recc train on $data" >&2
"$recc" train models/sarnet.rec --data "$data" --threads "$threads" --epochs 1 \
  >"$out/train.log" 2>&1
echo "load after the runs: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

/usr/bin/python3 - "$out" "$repeats" <<'PY'
import json, re, statistics, sys
out, repeats = sys.argv[1], int(sys.argv[2])
recc = [next(r for r in json.load(open(f"{out}/recc_{i}.json"))["results"]) for i in range(1, repeats + 1)]
torch = [json.load(open(f"{out}/torch_{i}.json")) for i in range(1, repeats + 1)]
for r in recc:
    if "error" in r:
        sys.exit(f"recc bench failed: {r['error']}")

def stat(values):
    return statistics.median(values), min(values), max(values)

def row(name, values, unit="", fmt="{:,.0f}"):
    m, lo, hi = stat(values)
    print(f"  {name:<34}{fmt.format(m):>12} {unit:<10} range {fmt.format(lo)} .. {fmt.format(hi)}")
    return m

t0 = torch[0]
print(f"\nSAR-Net, batch {t0['batch']}, {t0['threads']} threads, {repeats} interleaved repeats "
      f"(median, range); OpenBLAS core {t0['blas']['openblas'] and t0['blas']['openblas']['core']}")
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

# The peer's count of useful dense FLOPs (two DIN units at 50 behaviours, ten
# experts' main nets, the gate; training = 3x forward) applies to both.
mflop = t0["dense_mflop_per_sample_train"]
r_gflops = r_train * mflop / 1e3
print(f"\nratios (of the medians):")
print(f"  training   recc / peer            {r_train / p_train:6.2f}x   (target >= 3, goal 4)")
print(f"  inference  recc / peer            {r_infer / p_infer:6.2f}x   (target >= 3)")
print(f"  peak RSS   recc / peer            {r_rss / p_rss:6.2f}    (target <= 1)")
print(f"  recc dense GFLOP/s / SGEMM        {r_gflops / sgemm:6.2f}    ({r_gflops:.1f} GFLOP/s at "
      f"{mflop:.2f} MFLOP/sample; goal >= 0.70)")
print(f"  peer dense GFLOP/s / SGEMM        {p_train * mflop / 1e3 / sgemm:6.2f}")

text = open(f"{out}/train.log").read()
m = re.findall(r"epoch \d+/\d+: (\d+) steps, loss [^,]+, ([\d.]+)([kM]?) samples/s", text)
if not m:
    sys.exit(f"no epoch summary in {out}/train.log:\n{text[-2000:]}")
steps, value, unit = m[-1]
train_rate = float(value) * {"": 1, "k": 1e3, "M": 1e6}[unit]
print(f"  recc train on the CSV / bench     {train_rate / r_train:6.2f}    ({train_rate:,.0f} "
      f"samples/s over {steps} steps, first step included; target >= 0.90)")
if max(loads) > 0.05:
    print(f"warning: other processes used up to {max(loads):.0%} of the CPU during the peer's "
          "measurements; the figures are disturbed")
PY
