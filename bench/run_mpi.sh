#!/usr/bin/env bash
# Training under mpirun on this machine (docs/distributed.md): ESM² and
# SAR-Net on generated data, one process, `mpirun -np 2` with replicated
# tables, the same with --no-overlap (the dense gradients summed after the
# step, not while the backward pass runs) and
# `mpirun -np 2 ... --shard-tables`, one thread per rank, interleaved
# (np 1, np 2, np 2 without overlap, np 2 sharded, np 1, ...). Prints, per model and
# run kind, the median and range of the epoch's samples/s, the samples/s per
# rank, the bytes rank 0 sent per step and the largest rank's peak RSS; writes the
# logs and a summary JSON under out/bench/mpi/. The figures feed the scaling
# estimate in docs/distributed.md.
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
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
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
    for kind in np1 np2 np2_no_overlap np2_sharded; do
      echo "repeat $r/$repeats: $model, $kind" >&2
      # /usr/bin/time -v reports the peak RSS of each rank it runs.
      cmd=(/usr/bin/time -v "$recc" train "models/$model.rec" --threads 1 --epochs 1
           --data "${data[$model]}")
      case $kind in
        np1) "${cmd[@]}" ;;
        np2) mpirun -np 2 "${cmd[@]}" ;;
        np2_no_overlap) mpirun -np 2 "${cmd[@]}" --no-overlap ;;
        np2_sharded) mpirun -np 2 "${cmd[@]}" --shard-tables ;;
      esac >"$out/${model}_${kind}_$r.log" 2>&1
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
print(f"{'model':7} {'run':15} {'samples/s (median, range)':>27} {'per rank':>9} "
      f"{'sent/step/rank':>15} {'peak RSS/rank':>13}")
for model in ("esm2", "sarnet"):
    for kind in ("np1", "np2", "np2_no_overlap", "np2_sharded"):
        np = 1 if kind == "np1" else 2
        logs = [open(f"{out}/{model}_{kind}_{r}.log").read() for r in range(1, repeats + 1)]
        lines = [next(l for l in t.splitlines() if l.startswith("epoch ")) for t in logs]
        rates = [rate(l) for l in lines]
        sent = re.search(r"([\d.]+) (B|KiB|MiB|GiB|bytes) sent per step", lines[0])
        sent_bytes = float(sent.group(1)) * units.get(sent.group(2), 1) if sent else 0.0
        # The largest rank's (mpirun starts one `time` per rank).
        rss = [max(int(m) for m in re.findall(r"Maximum resident set size \(kbytes\): (\d+)", t))
               for t in logs]
        med = statistics.median(rates)
        summary[f"{model}_{kind}"] = {"samples_per_s": rates, "median": med,
                                      "per_rank": med / np, "sent_per_step": sent_bytes,
                                      "rss_kib": rss}
        print(f"{model:7} {kind:15} {med:>10,.0f} ({min(rates):,.0f}-{max(rates):,.0f}) "
              f"{med / np:>9,.0f} {sent_bytes / 2**20:>11.2f} MiB "
              f"{statistics.median(rss) / 1024:>7.0f} MiB")
json.dump(summary, open(f"{out}/summary.json", "w"), indent=1)
EOF
