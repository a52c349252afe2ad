#!/usr/bin/env bash
# The GRL divergence of DAMCAR's generator, shown on one input stream, and the
# recipe that keeps it finite (docs/divergence.md, "The GRL divergence").
# Usage: [RUNS="default recipe ..."] [EPOCHS=N] examples/damcar/divergence/divergence.sh [BUILD_DIR] [OUT_DIR]
# Writes OUT_DIR/data (gen_damcar at 5,000 users and videos, seed 1) and one log per
# run; each epoch's line carries the loss, eval AUC, the largest row norm of h
# (--check-norms h=1e30 never stops: it only measures) and, with clip_norm, the
# gradient norms.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../../build}
out=${2:-out/divergence}
recc=$build/compiler/tools/recc
mkdir -p "$out"
if [[ ! -f $out/data/mixed.csv ]]; then
  "$build/examples/damcar/gen_damcar" --out "$out/data" --users 5000 --items 5000 --authors 500 --seed 1
  # Unexposed pairs drawn uniformly (the baselines' target domain, spec A28).
  "$build/examples/damcar/walk_sample" --exposures "$out/data/train.csv" \
    --items "$out/data/items.csv" --out "$out/data/unexposed.csv" --random
  python3 "$here/mix_domains.py" "$out/data/train.csv" "$out/data/unexposed.csv" "$out/data/mixed.csv"
  python3 - "$out/data/valid.csv" "$out/data/valid_exposed.csv" <<'PY'
import csv, sys
with open(sys.argv[1]) as f, open(sys.argv[2], 'w', newline='') as g:
    r = csv.DictReader(f); cols = [c for c in r.fieldnames if c != 'watch_time']
    w = csv.writer(g); w.writerow(cols + ['exposed'])
    for d in r: w.writerow([d[c] for c in cols] + ['1'])
PY
fi

# run NAME EPOCHS SED...: the generator rewritten by the sed expressions, trained.
# RUNS="name ..." runs only those; EPOCHS=N overrides each run's epochs.
run() {
  local name=$1 epochs=${EPOCHS:-$2}
  shift 2
  [[ -z ${RUNS:-} || " $RUNS " == *" $name "* ]] || return 0
  sed "$@" "$here/grl_generator.rec" >"$out/$name.rec"
  echo "== $name: $(grep -E 'grad_reverse|train \{' "$out/$name.rec" | sed 's/^ *//' | tr '\n' ' ')"
  "$recc" train "$out/$name.rec" --data "$out/data/mixed.csv" \
    --eval-data "$out/data/valid_exposed.csv" --epochs "$epochs" --threads 1 \
    --check-norms h=1e30 --check-norms-every 50 2>&1 | tr '\r' '\n' |
    grep -E '^(epoch|error|  )' | tee "$out/$name.log" || true
}

# The spec's defaults: constant λ2 = 0.3, Adagrad 0.01.
run default 4 -e 's/batch = 512 }/batch = 512 }/'
# The recipe: DANN's ramp (spec A2's option) and clip_norm.
run recipe 4 -e 's/grad_reverse(h, 0.3)/grad_reverse(h, 0.3, schedule = dann)/' \
  -e 's/batch = 512 }/batch = 512  clip_norm = 1 }/'
# A large constant coefficient: the encoder wins against Ψ and h grows without bound.
run lambda10 4 -e 's/grad_reverse(h, 0.3)/grad_reverse(h, 10.0)/'
run lambda10_recipe 4 -e 's/grad_reverse(h, 0.3)/grad_reverse(h, 10.0, schedule = linear, warmup = 0.5)/' \
  -e 's/batch = 512 }/batch = 512  clip_norm = 5 }/'
# SGD instead of Adagrad: nothing damps the steps, and the step goes non-finite; recc
# names the first op that overflowed.
run lambda10_sgd 1 -e 's/grad_reverse(h, 0.3)/grad_reverse(h, 10.0)/' -e 's/adagrad(lr = 0.01)/sgd(lr = 0.05)/'
run lambda10_sgd_clip 2 -e 's/grad_reverse(h, 0.3)/grad_reverse(h, 10.0)/' \
  -e 's/adagrad(lr = 0.01)/sgd(lr = 0.05)/' -e 's/batch = 512 }/batch = 512  clip_norm = 1 }/'
