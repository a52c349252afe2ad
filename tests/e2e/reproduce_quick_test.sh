#!/usr/bin/env bash
# `scripts/reproduce.sh PAPER --quick` end to end: every model of the paper's
# tables trains (the script exits non-zero if any fails), and the result JSON
# is complete and well-formed (every model with an AUC from each seed, a
# per-scenario table, the paper's numbers and the claims). Orderings are not
# asserted: the quick data is too small to carry them.
# Usage: reproduce_quick_test.sh SOURCE_DIR BUILD_DIR PAPER
set -eu
src=$1
build=$2
paper=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Compiled trainers are cached in the build tree (rebuilt when recc or the
# model file changes), and so are the model variants a reproduction writes
# (rewritten when their model file or the script changes; kept, they keep the
# trainers compiled from them valid); the data and results live in a fresh
# directory.
cache=$build/reproduce-cache
mkdir -p "$cache/bin" "$cache/models-$paper" "$work/out"
ln -s "$cache/bin" "$work/out/bin"
ln -s "$cache/models-$paper" "$work/out/models"
BUILD_DIR=$build "$src/scripts/reproduce.sh" "$paper" --quick --no-build --out "$work/out"
python3 "$src/scripts/lib/reproduce_$paper.py" --validate "$work/out/$paper.json" --seeds 1
