#!/usr/bin/env bash
# Training under mpirun (docs/distributed.md), over loopback with
# --oversubscribe (this machine may have fewer cores than ranks):
#  1. np 2 and np 4 with the same global batch and seed give one process's
#     (also when the data comes as files, each rank reading only its own)
#     train losses (every step), final metrics (AUC, GAUC, a filtered AUC)
#     and parameters, within the stated tolerances (the model has dropout:
#     each rank draws its rows of one process's masks); so does a trainer written
#     by `recc compile --ranks 2` under np 2;
#     under --stream-buffer each rank streams its own files and trains as
#     well as one process;
#  2. resharding: 1 epoch under 4 ranks, resumed for 1 under 2, then for 1
#     in one process, ends where 3 epochs in one process end; a mid-epoch
#     checkpoint resumes under as many ranks byte for byte, and under another
#     count (or in one process) where the uninterrupted run ends; a
#     one-process mid-epoch checkpoint is refused under mpirun with the reason;
#     the same with tables sharded by row (--shard-tables, also evaluating
#     files whose ranks run different numbers of batches), whose checkpoints
#     are written per rank;
#  3. faults end every rank with the rank and the cause, never a hang: bad
#     input in one rank's rows, a batch that does not split over the ranks,
#     a rank killed mid-training (its last checkpoint stays loadable), and
#     commands that run in one process only.
#  4. a model with two input streams, an EMA teacher, a gradient-reversal
#     schedule and clip_norm (DAMCAR's generator) gives one process's losses
#     and metrics under np 2 and 4.
# Usage: mpi_test.sh RECC GEN_FUNNEL INPUTS_DIR GEN_DAMCAR WALK_SAMPLE MODELS_DIR
set -eu
recc=$1
gen=$2
inputs=$3
gen_damcar=$4
walk_sample=$5
models=$6
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# CI runs as root; Open MPI refuses that unless told.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
compare() { python3 "$here/mpi_compare.py" "$@"; }
passed=0
ok() { passed=$((passed + 1)); }
model=$inputs/mpi_funnel.rec
vocab=(--users 5000 --items 3000 --shops 500 --brands 300 --categories 50 --ctr 0.1 --buy-rate 0.1)
"$gen" --out "$work/train.csv" --rows 12000 --seed 3 "${vocab[@]}" >/dev/null 2>&1
"$gen" --out "$work/test.csv" --rows 4000 --seed 4 "${vocab[@]}" >/dev/null 2>&1

# run NP OUTLOG ARGS...: one process for NP = 1, else mpirun -np NP.
run() {
  local np=$1 log=$2
  shift 2
  local cmd=("$recc" train "$model" --threads 1 --data "$work/train.csv" "$@")
  if [[ $np == 1 ]]; then "${cmd[@]}" >"$log" 2>&1; else
    timeout 300 mpirun -np "$np" "${cmd[@]}" >"$log" 2>&1; fi || { cat "$log"; exit 1; }
}

# 1. np 1, 2, 4: the same run. The tolerances hold the float sums' other
# order (each rank's batch mean, then the mean over ranks; measured 1e-6).
for np in 1 2 4; do
  run $np "$work/out$np" --eval-data "$work/test.csv" --epochs 2 --log "$work/log$np.jsonl" \
    --log-every 1 --metrics-json "$work/metrics$np.json" --out "$work/ckpt$np.safetensors"
done
for np in 2 4; do
  compare losses "$work/log1.jsonl" "$work/log$np.jsonl" 1e-5 && ok
  compare metrics "$work/metrics1.json" "$work/metrics$np.json" 1e-4 && ok
  compare ckpt "$work/ckpt1.safetensors" "$work/ckpt$np.safetensors" 1e-3 && ok
done
grep -q "^epoch 2/2: 46 steps" "$work/out4" || { cat "$work/out4"; echo "FAIL: epoch line"; exit 1; }
[[ $(grep -c "^epoch" "$work/out4") == 2 ]] || { echo "FAIL: ranks other than 0 printed"; exit 1; }
ok

# A trainer written by recc compile --ranks 2 runs under mpirun -np 2 like recc
# (and one compiled for one process says what to do).
"$recc" compile "$model" --ranks 2 -o "$work/trainer2" >/dev/null 2>&1
timeout 300 mpirun -np 2 "$work/trainer2" train --threads 1 --data "$work/train.csv" \
  --epochs 2 --log "$work/aot2.jsonl" --log-every 1 >"$work/o" 2>&1 || { cat "$work/o"; exit 1; }
compare losses "$work/log1.jsonl" "$work/aot2.jsonl" 1e-5 && ok
if timeout 120 mpirun -np 4 "$work/trainer2" train --threads 1 --data "$work/train.csv" \
    >"$work/o" 2>&1; then
  echo "FAIL: a trainer compiled for 2 ranks trained under 4"; exit 1
fi
grep -q "compiled for 2 ranks (recc compile --ranks 2), but runs as 4 ranks" "$work/o" ||
  { cat "$work/o"; exit 1; }
ok
# A trainer for one process has no MPI in it (docs/deploy.md) and says so.
"$recc" compile "$model" -o "$work/trainer1" >/dev/null 2>&1
if timeout 120 mpirun -np 2 "$work/trainer1" train --threads 1 --data "$work/train.csv" \
    >"$work/o" 2>&1; then
  echo "FAIL: a trainer compiled without --ranks trained under mpirun"; exit 1
fi
grep -q "compile it with \`recc compile --ranks N\`" "$work/o" || { cat "$work/o"; exit 1; }
ok

# Data in files, at least one per rank: each rank reads only its files.
head -1 "$work/train.csv" >"$work/header"
tail -n +2 "$work/train.csv" | split -l 2500 -d - "$work/part"
for f in "$work"/part0*; do cat "$work/header" "$f" >"$f.csv"; rm "$f"; done
timeout 300 mpirun -np 2 "$recc" train "$model" --threads 1 --data "$work/part*.csv" --epochs 2 \
  --log "$work/parts2.jsonl" --log-every 1 >"$work/o" 2>&1 || { cat "$work/o"; exit 1; }
compare losses "$work/log1.jsonl" "$work/parts2.jsonl" 1e-5 && ok

# Streamed (--stream-buffer): each rank streams its own files and trains its
# slice of each global batch from its own shuffle buffer, so the batches are
# not one process's: the run must train as well (AUC and filtered AUC within
# 0.02 of one process's in-memory run; measured 0.003) and stop every rank at the same step (5 files:
# rank 0 streams 5,000 rows, rank 1 7,000; 39 slices of 128 rows each). Fewer
# files than ranks is refused with what to do.
timeout 300 mpirun -np 2 "$recc" train "$model" --threads 1 --data "$work/part*.csv" --epochs 2 \
  --stream-buffer 1000 --eval-data "$work/test.csv" --metrics-json "$work/stream2.json" \
  >"$work/o" 2>&1 || { cat "$work/o"; exit 1; }
grep -q "^epoch 2/2: 39 steps, .* 2 ranks" "$work/o" || { cat "$work/o"; echo "FAIL: streamed epoch"; exit 1; }
python3 - "$work/metrics1.json" "$work/stream2.json" <<'PY' || exit 1
import json, sys
one, two = (json.load(open(f))["metrics"] for f in sys.argv[1:])
for name in ("ctcvr_auc", "cvr_auc"):
    if abs(one[name] - two[name]) > 0.02:
        sys.exit(f"FAIL: streamed {name} {two[name]:.4f} against {one[name]:.4f} in one process")
print(f"ok: streamed under np 2: ctcvr_auc {two['ctcvr_auc']:.4f} against {one['ctcvr_auc']:.4f}")
PY
ok
# A streamed run stopped mid-epoch resumes under as many ranks to the same bits.
streamed=(timeout 300 mpirun -np 2 "$recc" train "$model" --threads 1 --data "$work/part*.csv"
          --stream-buffer 1000 --epochs 1)
"${streamed[@]}" --out "$work/sw.whole.safetensors" >"$work/o" 2>&1 || { cat "$work/o"; exit 1; }
"${streamed[@]}" --max-steps 20 --out "$work/sw.part.safetensors" >"$work/o" 2>&1 ||
  { cat "$work/o"; exit 1; }
"${streamed[@]}" --init "$work/sw.part.safetensors" --out "$work/sw.rest.safetensors" >"$work/o" 2>&1 ||
  { cat "$work/o"; exit 1; }
compare ckpt "$work/sw.whole.safetensors" "$work/sw.rest.safetensors" 0 && ok
if timeout 120 mpirun -np 2 "$recc" train "$model" --threads 1 --data "$work/train.csv" \
    --stream-buffer 1000 >"$work/o" 2>&1; then
  echo "FAIL: one file streamed by two ranks"; exit 1
fi
grep -q "each rank streams files of its own, so --data needs at least 2 files" "$work/o" ||
  { cat "$work/o"; exit 1; }
ok

# 2. Resharding at epoch ends: 4 ranks, then 2, then one process.
run 1 "$work/o" --epochs 3 --out "$work/straight.safetensors"
run 4 "$work/o" --epochs 1 --out "$work/e1.safetensors"
run 2 "$work/o" --epochs 1 --init "$work/e1.safetensors" --out "$work/e2.safetensors"
run 1 "$work/o" --epochs 1 --init "$work/e2.safetensors" --out "$work/e3.safetensors"
compare ckpt "$work/straight.safetensors" "$work/e3.safetensors" 1e-3 && ok
# Mid-epoch: stopped after step 20 under 2 ranks, resumed under 2, byte for byte ...
run 2 "$work/o" --epochs 1 --out "$work/whole.safetensors"
run 2 "$work/o" --epochs 1 --max-steps 20 --out "$work/part.safetensors"
run 2 "$work/o" --init "$work/part.safetensors" --out "$work/rest.safetensors"
cmp -s "$work/whole.safetensors" "$work/rest.safetensors" || { echo "FAIL: mid-epoch resume"; exit 1; }
ok
# ... and under 4 ranks, and in one process, ending where the uninterrupted run ends.
run 4 "$work/o" --init "$work/part.safetensors" --out "$work/rest4.safetensors"
compare ckpt "$work/whole.safetensors" "$work/rest4.safetensors" 1e-3 && ok
run 1 "$work/o" --init "$work/part.safetensors" --out "$work/rest1.safetensors"
compare ckpt "$work/whole.safetensors" "$work/rest1.safetensors" 1e-3 && ok
# A one-process mid-epoch checkpoint resumes mid-epoch in one process only.
run 1 "$work/o" --epochs 1 --max-steps 20 --out "$work/part1.safetensors"
if timeout 120 mpirun -np 2 "$recc" train "$model" --threads 1 --data "$work/train.csv" \
    --init "$work/part1.safetensors" >"$work/o" 2>&1; then
  echo "FAIL: a one-process mid-epoch checkpoint resumed under 2 ranks"; exit 1
fi
grep -q "in one process, this run has 2 ranks (mpirun); such a checkpoint resumes mid-epoch in one process only" "$work/o" ||
  { cat "$work/o"; exit 1; }
ok

# 2b. Sharded tables (--shard-tables): the same losses and metrics as one
# process; checkpoints written per rank reshard 4 -> 2 -> 1; a mid-epoch
# resume is exact; a shard file alone is refused.
for np in 2 4; do
  run $np "$work/out" --eval-data "$work/test.csv" --epochs 2 --shard-tables \
    --log "$work/slog$np.jsonl" --log-every 1 --metrics-json "$work/smetrics$np.json" \
    --out "$work/sckpt$np.safetensors"
  compare losses "$work/log1.jsonl" "$work/slog$np.jsonl" 1e-5 && ok
  compare metrics "$work/metrics1.json" "$work/smetrics$np.json" 1e-4 && ok
done
# Evaluation data in two files of 300 and 3,700 rows: rank 0 runs 2 batches,
# rank 1 runs 15, each fetching its rows batch by batch; rank 0 joins rank 1's
# other fetches. The metrics are still one process's.
head -301 "$work/test.csv" >"$work/e1.csv"
{ head -1 "$work/test.csv"; tail -n +302 "$work/test.csv"; } >"$work/e2.csv"
run 2 "$work/out" --eval-data "$work/e1.csv,$work/e2.csv" --epochs 2 --shard-tables \
  --metrics-json "$work/smetrics_files.json"
compare metrics "$work/metrics1.json" "$work/smetrics_files.json" 1e-4 && ok
# The sharded checkpoints hold the one-process run's parameters: each is
# loaded in one process (every rank's file) and trained one more step, so that
# both are written in one process's layout, then compared.
for np in 2 4; do
  run 1 "$work/o" --init "$work/sckpt$np.safetensors" --epochs 1 --max-steps 1 \
    --out "$work/sone$np.safetensors"
done
run 1 "$work/o" --init "$work/ckpt1.safetensors" --epochs 1 --max-steps 1 --out "$work/one1.safetensors"
for np in 2 4; do
  compare ckpt "$work/one1.safetensors" "$work/sone$np.safetensors" 1e-3 && ok
done
run 4 "$work/o" --epochs 1 --shard-tables --out "$work/s1.safetensors"
[[ $(ls "$work/s1.safetensors.shards" | wc -l) == 3 ]] || { ls "$work"; echo "FAIL: shard files"; exit 1; }
run 2 "$work/o" --epochs 1 --shard-tables --init "$work/s1.safetensors" --out "$work/s2.safetensors"
run 1 "$work/o" --epochs 1 --init "$work/s2.safetensors" --out "$work/s3.safetensors"
compare ckpt "$work/straight.safetensors" "$work/s3.safetensors" 1e-3 && ok
# A one-process checkpoint (dense tables) into sharded tables and back.
run 1 "$work/o" --epochs 1 --out "$work/d1.safetensors"
run 2 "$work/o" --epochs 1 --shard-tables --init "$work/d1.safetensors" --out "$work/d2.safetensors"
run 1 "$work/o" --epochs 1 --init "$work/d2.safetensors" --out "$work/d3.safetensors"
compare ckpt "$work/straight.safetensors" "$work/d3.safetensors" 1e-3 && ok
run 2 "$work/o" --epochs 1 --shard-tables --checkpoint-every 20 --out "$work/sw.safetensors"
[[ $(ls "$work/sw.safetensors.shards") == "step46-rank1-of-2.safetensors" ]] ||
  { ls "$work/sw.safetensors.shards"; echo "FAIL: earlier shard files left"; exit 1; }
run 2 "$work/o" --epochs 1 --shard-tables --max-steps 20 --out "$work/sp.safetensors"
run 2 "$work/o" --shard-tables --init "$work/sp.safetensors" --out "$work/sr.safetensors"
compare ckpt "$work/sw.safetensors" "$work/sr.safetensors" 0 && ok
compare ckpt "$work/sw.safetensors.shards/step46-rank1-of-2.safetensors" \
  "$work/sr.safetensors.shards/step46-rank1-of-2.safetensors" 0 && ok
if "$recc" eval "$model" --ckpt "$work/sw.safetensors.shards/step46-rank1-of-2.safetensors" \
    --data "$work/test.csv" >"$work/o" 2>&1; then
  echo "FAIL: a shard file loaded alone"; exit 1
fi
grep -q "holds one rank's rows of the sharded checkpoint 'sw.safetensors'" "$work/o" ||
  { cat "$work/o"; exit 1; }
ok

# 3. Faults. Bad input in the last rank's rows: every rank stops, the error
# names the rank, the file, the line and the column.
cp "$work/train.csv" "$work/bad.csv"
sed -i '11000s/^\([^,]*\),[^,]*,/\1,oops,/' "$work/bad.csv"
if timeout 120 mpirun -np 2 "$recc" train "$model" --threads 1 --data "$work/bad.csv" \
    >"$work/o" 2>&1; then
  echo "FAIL: bad input trained"; exit 1
fi
grep -q "error: rank 1 of 2: .*bad.csv:11000:2: .*'oops'" "$work/o" || { cat "$work/o"; exit 1; }
ok
# A global batch of 256 does not split over 3 ranks.
if timeout 120 mpirun -np 3 "$recc" train "$model" --threads 1 --data "$work/train.csv" \
    >"$work/o" 2>&1; then
  echo "FAIL: batch 256 over 3 ranks trained"; exit 1
fi
grep -q "batch 256 of the source of model 'mpi_funnel' does not split over 3 ranks" "$work/o" ||
  { cat "$work/o"; exit 1; }
ok
# A rank killed mid-training: mpirun ends the job; the last checkpoint loads.
timeout 300 mpirun -np 2 "$recc" train "$model" --threads 1 --data "$work/train.csv" \
  --epochs 1000 --checkpoint-every 20 --out "$work/killed.safetensors" \
  --log "$work/killed.jsonl" --log-every 1 >"$work/o" 2>&1 &
job=$!
for _ in $(seq 600); do
  [[ -f "$work/killed.safetensors" ]] && break
  sleep 0.1
done
victim=""
for env in /proc/[0-9]*/environ; do
  if grep -qa "OMPI_COMM_WORLD_RANK=1" "$env" 2>/dev/null &&
     grep -qa "killed.safetensors" "${env%environ}cmdline" 2>/dev/null; then
    victim=${env#/proc/}; victim=${victim%/environ}
  fi
done
[[ -n $victim ]] || { kill $job; cat "$work/o"; echo "FAIL: rank 1 not found"; exit 1; }
kill -9 "$victim"
status=0
wait $job || status=$?
[[ $status != 0 && $status != 124 ]] || { cat "$work/o"; echo "FAIL: status $status"; exit 1; }
"$recc" eval "$model" --ckpt "$work/killed.safetensors" --data "$work/test.csv" \
  >"$work/o" 2>&1 || { cat "$work/o"; echo "FAIL: last checkpoint"; exit 1; }
ok
# recc eval under mpirun: each rank evaluates its rows, the metrics are over all.
"$recc" eval "$model" --ckpt "$work/ckpt1.safetensors" --data "$work/test.csv" \
  --metrics-json "$work/eval1.json" >/dev/null 2>&1
timeout 300 mpirun -np 2 "$recc" eval "$model" --ckpt "$work/ckpt1.safetensors" \
  --data "$work/test.csv" --metrics-json "$work/eval2.json" >"$work/o" 2>&1 || { cat "$work/o"; exit 1; }
compare metrics "$work/eval1.json" "$work/eval2.json" 1e-6 && ok
# Commands that run in one process say so.
"$recc" train "$model" --threads 1 --data "$work/train.csv" --out "$work/c.safetensors" \
  >/dev/null 2>&1
if timeout 120 mpirun -np 2 "$recc" predict "$model" --ckpt "$work/c.safetensors" \
    --data "$work/test.csv" --out "$work/p.csv" >"$work/o" 2>&1; then
  echo "FAIL: predict ran under mpirun"; exit 1
fi
grep -q "\`recc predict\` runs in one process" "$work/o" || { cat "$work/o"; exit 1; }
ok

# 4. Two input streams (the source and DAMCAR's target samples).
"$gen_damcar" --out "$work/d" --users 300 --items 300 --authors 40 --exposures-per-user 20 \
  --seed 3 2>/dev/null
"$walk_sample" --exposures "$work/d/train.csv" --items "$work/d/items.csv" \
  --out "$work/d/target.csv" --radius 5 --visits 20 --threads 1 2>/dev/null
for np in 1 2 4; do
  cmd=("$recc" train "$models/damcar.rec" --model damcar --batch 64 --threads 1 --epochs 2
       --data "$work/d/train.csv" --stream "target=$work/d/target.csv"
       --log "$work/dlog$np.jsonl" --log-every 1 --metrics-json "$work/dmetrics$np.json")
  if [[ $np == 1 ]]; then "${cmd[@]}" >"$work/o" 2>&1; else
    timeout 300 mpirun -np $np "${cmd[@]}" >"$work/o" 2>&1; fi || { cat "$work/o"; exit 1; }
done
for np in 2 4; do
  compare losses "$work/dlog1.jsonl" "$work/dlog$np.jsonl" 1e-5 && ok
  compare metrics "$work/dmetrics1.json" "$work/dmetrics$np.json" 1e-4 && ok
done
echo "mpi: $passed passed, 0 failed"
