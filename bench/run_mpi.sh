#!/usr/bin/env bash
# Training under mpirun on this machine (docs/distributed.md): ESM² and
# SAR-Net on generated data, one process and `mpirun -np 2`, one thread per
# rank, interleaved (np 1, np 2, np 1, ...). Prints, per model and rank count,
# the median and range of the epoch's samples/s, the samples/s per rank, and
# the bytes rank 0 sent per step; writes the logs and a summary JSON under
# out/bench/mpi/. The figures feed the scaling estimate in docs/distributed.md.
#
# Usage: bench/run_mpi.sh [--repeats N] [--esm2-rows R] [--sarnet-rows R]
set -euo pipefail
cd "$(dirname "$0")/.."

repeats=3 esm2_rows=60000 sarnet_rows=40960
while (($#)); do
  case "$1" in
    --repeats) repeats=$2; shift 2 ;;
    --esm2-rows) esm2_rows=$2; shift 2 ;;
    --sarnet-rows) sarnet_rows=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "run_mpi.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
for v in repeats esm2_rows sarnet_rows; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "run_mpi.sh: --${v/_/-} must be a positive integer, got '${!v}'" >&2; exit 2; }
done

out=out/bench/mpi
mkdir -p "$out"
recc=build/compiler/tools/recc
[[ -x $recc ]] || scripts/build.sh
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1

[[ -f $out/esm2_$esm2_rows.csv ]] ||
  build/examples/gen_funnel --out "$out/esm2_$esm2_rows.csv" --rows "$esm2_rows" >/dev/null 2>&1
[[ -f $out/sarnet_$sarnet_rows.csv ]] ||
  build/examples/sarnet/gen_sarnet --train "$out/sarnet_$sarnet_rows.csv" \
    --test "$out/sarnet_test.csv" --rows "$sarnet_rows" --test-rows 2048 >/dev/null 2>&1

declare -A data=([esm2]="$out/esm2_$esm2_rows.csv" [sarnet]="$out/sarnet_$sarnet_rows.csv")
echo "load before the runs: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for ((r = 1; r <= repeats; ++r)); do
  for model in esm2 sarnet; do
    for np in 1 2; do
      echo "repeat $r/$repeats: $model, np $np" >&2
      cmd=("$recc" train "models/$model.rec" --threads 1 --epochs 1 --data "${data[$model]}")
      if [[ $np == 1 ]]; then "${cmd[@]}"; else mpirun -np "$np" "${cmd[@]}"; fi \
        >"$out/${model}_np${np}_$r.log" 2>&1
    done
  done
done
echo "load after the runs: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

/usr/bin/python3 - "$out" "$repeats" <<'EOF'
import json, re, statistics, sys
out, repeats = sys.argv[1], int(sys.argv[2])
units = {"B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30}
def rate(text):
    v = re.search(r"([\d.]+)([kM]?) samples/s", text)
    return float(v.group(1)) * {"": 1, "k": 1e3, "M": 1e6}[v.group(2)]
summary = {}
print(f"{'model':8} {'np':>3} {'samples/s (median, range)':>30} {'per rank':>10} {'sent/step/rank':>15}")
for model in ("esm2", "sarnet"):
    for np in (1, 2):
        logs = [open(f"{out}/{model}_np{np}_{r}.log").read() for r in range(1, repeats + 1)]
        lines = [next(l for l in t.splitlines() if l.startswith("epoch ")) for t in logs]
        rates = [rate(l) for l in lines]
        sent = re.search(r"([\d.]+) (B|KiB|MiB|GiB) sent per step", lines[0])
        sent_bytes = float(sent.group(1)) * units[sent.group(2)] if sent else 0.0
        med = statistics.median(rates)
        summary[f"{model}_np{np}"] = {"samples_per_s": rates, "median": med,
                                      "per_rank": med / np, "sent_per_step": sent_bytes}
        print(f"{model:8} {np:>3} {med:>12,.0f} ({min(rates):,.0f}-{max(rates):,.0f}) "
              f"{med / np:>10,.0f} {sent_bytes / 2**20:>11.2f} MiB")
json.dump(summary, open(f"{out}/summary.json", "w"), indent=1)
EOF
