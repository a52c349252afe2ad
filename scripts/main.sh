#!/usr/bin/env bash
# The main job: install dependencies, build recc, generate the synthetic
# impression -> click -> DAction -> purchase funnel, train ESMM and ESM² on it
# with the MLIR backend, and print their test metrics side by side. Training
# curves: out/main/MODEL.log.jsonl, drawn in out/main/MODEL.curves.png.
# Environment: TRAIN_ROWS (default 2000000), TEST_ROWS (500000), EPOCHS (1),
# BACKEND (mlir), THREADS (all cores).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh

train_rows=${TRAIN_ROWS:-2000000}
test_rows=${TEST_ROWS:-500000}
epochs=${EPOCHS:-1}
backend=${BACKEND:-mlir}
threads=${THREADS:-$(nproc)}
out=out/main
mkdir -p "$out"

gen=build/examples/gen_funnel
recc=build/compiler/tools/recc
[[ -f $out/train.csv ]] || $gen --out "$out/train.csv" --rows "$train_rows" --seed 1
[[ -f $out/test.csv ]] || $gen --out "$out/test.csv" --rows "$test_rows" --seed 2

for model in esmm esm2; do
  echo "== training $model ($backend backend, $epochs epoch(s), $threads threads)"
  $recc train "models/$model.rec" --backend "$backend" --data "$out/train.csv" \
    --eval-data "$out/test.csv" --epochs "$epochs" --threads "$threads" \
    --out "$out/$model.safetensors" --metrics-json "$out/$model.metrics.json" \
    --log "$out/$model.log.jsonl"
  $recc plot "$out/$model.log.jsonl" -o "$out/$model.curves.png"
done

echo
echo "== test metrics ($test_rows impressions; CVR AUC on clicked impressions)"
printf '%-8s %12s %12s %12s %10s\n' model cvr_auc ctcvr_auc ctcvr_gauc loss
for model in esmm esm2; do
  # An undefined metric is null in the JSON; it prints as nan.
  read -r cvr ctcvr gauc loss < <(jq -r \
    '[.metrics.cvr_auc, .metrics.ctcvr_auc, .metrics.ctcvr_gauc, .loss] | map(. // "nan") | @tsv' \
    "$out/$model.metrics.json")
  printf '%-8s %12.4f %12.4f %12.4f %10.4f\n' "$model" "$cvr" "$ctcvr" "$gauc" "$loss"
done
