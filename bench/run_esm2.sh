#!/usr/bin/env bash
# ESM² (or ESMM) side by side in one run: `recc bench` (MLIR backend, training
# and inference) and the PyTorch eager peer (bench/torch_esm2.py), interleaved
# (recc, peer, recc, peer, ...) so that a change in the machine's load hits
# both, with the machine's SGEMM rate (OpenBLAS through torch, at the fastest
# correct core type) measured in each peer run. Prints the median and range of
# every figure and of the per-repeat ratios; writes the raw JSON and logs under
# out/bench/MODEL/.
#
# Usage: bench/run_esm2.sh [esm2|esmm] [THREADS] [STEPS] [--repeats N] [--warmup W]
#                          [--reference]
#   THREADS      default 2; STEPS: timed steps per measurement, default 50
#   --repeats    interleaved repeats (default 3)
#   --reference  also time recc's reference executor (double precision) once
set -euo pipefail
cd "$(dirname "$0")/.."

positional=() repeats=3 warmup=5 reference=0
while (($#)); do
  case "$1" in
    --repeats) repeats=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --reference) reference=1; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    -*) echo "run_esm2.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    *) positional+=("$1"); shift ;;
  esac
done
model=${positional[0]:-esm2} threads=${positional[1]:-2} steps=${positional[2]:-50}
[[ $model == esm2 || $model == esmm ]] || { echo "run_esm2.sh: the model must be esm2 or esmm, got '$model'" >&2; exit 2; }
for v in repeats threads steps; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "run_esm2.sh: ${v} must be a positive integer, got '${!v}'" >&2; exit 2; }
done
[[ $warmup =~ ^[0-9]+$ ]] || { echo "run_esm2.sh: --warmup must be a non-negative integer, got '$warmup'" >&2; exit 2; }

out=out/bench/$model
mkdir -p "$out"
recc=build/compiler/tools/recc
scripts/install-deps.sh --bench >/dev/null
[[ -x $recc ]] || scripts/build.sh

echo "load before the runs: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for ((r = 1; r <= repeats; ++r)); do
  echo "repeat $r/$repeats: recc bench $model" >&2
  "$recc" bench "models/$model.rec" --backends mlir --inference --threads "$threads" \
    --steps "$steps" --warmup "$warmup" --json "$out/recc_$r.json" >"$out/recc_$r.log"
  echo "repeat $r/$repeats: pytorch peer" >&2
  /usr/bin/python3 bench/torch_esm2.py --model "$model" --threads "$threads" --steps "$steps" \
    --warmup "$warmup" --json "$out/torch_$r.json" >/dev/null 2>"$out/torch_$r.log"
done
if ((reference)); then
  echo "recc bench $model, reference executor" >&2
  "$recc" bench "models/$model.rec" --backends reference --threads "$threads" --steps 3 \
    --warmup 0 --json "$out/reference.json" | tail -n +2
fi
echo "load after the runs: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

title=ESM²; [[ $model == esmm ]] && title=ESMM
/usr/bin/python3 bench/side_by_side.py --out "$out" --repeats "$repeats" --title "$title" \
  --train-target 2.5 --infer-target 1.2 \
  --json-summary "$out/summary.json"
