#!/usr/bin/env bash
# ESM² (or ESMM) training throughput, side by side in one run: recc's MLIR
# backend, recc's reference executor, and the PyTorch eager peer, with the
# machine's SGEMM rate (OpenBLAS through torch) measured in the same run.
# Prints ratios; writes the raw JSON under out/bench/.
# Usage: bench/run_esm2.sh [esm2|esmm] [THREADS] [STEPS]
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-esm2}
threads=${2:-2}
steps=${3:-50}
out=out/bench
mkdir -p "$out"
scripts/install-deps.sh --bench >/dev/null
[[ -x build/compiler/tools/recc ]] || scripts/build.sh

build/compiler/tools/recc bench "models/$model.rec" --backends mlir,reference \
  --threads "$threads" --steps "$steps" --reference-steps 3 --json "$out/recc_$model.json"
/usr/bin/python3 bench/torch_esm2.py --model "$model" --threads "$threads" --steps "$steps" \
  --json "$out/torch_$model.json" >/dev/null

/usr/bin/python3 - "$out/recc_$model.json" "$out/torch_$model.json" <<'PY'
import json, sys
recc = json.load(open(sys.argv[1]))
torch = json.load(open(sys.argv[2]))
by = {r["backend"]: r for r in recc["results"] if "error" not in r}
sgemm = torch["sgemm_gflops"]
print(f"\n{recc['model']}: batch {torch['batch']}, {torch['threads']} threads, "
      f"{recc['dense_mflop_per_sample_train']:.2f} dense MFLOP/sample; SGEMM {sgemm:.0f} GFLOP/s")
print(f"{'':<12}{'samples/s':>12}{'GFLOP/s':>10}{'of SGEMM':>10}{'peak RSS MB':>13}")
rows = [(k, v["train_samples_per_second"], v["dense_gflops"], v["peak_rss_mb"]) for k, v in by.items()]
rows.append(("pytorch", torch["train_samples_per_s"], torch["train_gflops"], torch["peak_rss_mib"]))
for name, sps, gf, rss in rows:
    print(f"{name:<12}{sps:>12.0f}{gf:>10.1f}{gf / sgemm:>10.0%}{rss:>13.0f}")
if "mlir" in by:
    m = by["mlir"]
    print(f"\nmlir / pytorch training throughput: {m['train_samples_per_second'] / torch['train_samples_per_s']:.2f}x")
    print(f"mlir dense GFLOP/s / SGEMM:         {m['dense_gflops'] / sgemm:.2f}")
    print(f"mlir peak RSS / pytorch peak RSS:   {m['peak_rss_mb'] / torch['peak_rss_mib']:.2f}")
    print(f"mlir JIT compile of the train step: {m['compile_seconds']:.1f} s")
if torch.get("other_load_train", 0) > 0.05:
    print(f"warning: other processes used {torch['other_load_train']:.0%} of the CPU during the torch run")
PY
