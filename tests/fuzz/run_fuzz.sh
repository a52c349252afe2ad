#!/bin/sh
# Builds libFuzzer target TARGET (build_fuzz.sh) into BUILD_DIR and fuzzes it
# from its seed corpus for SECONDS seconds or N executions, then reports the
# executions, their rate and the findings. Exits non-zero if libFuzzer finds a
# crash, a sanitizer report, a leak, an out-of-memory or a timeout; the
# reproducer is left in BUILD_DIR/TARGET (crash-*, leak-*, oom-*, timeout-*).
#   usage: run_fuzz.sh BUILD_DIR TARGET [SECONDS | --runs N]
# Seeds: tests/fuzz/corpus/TARGET, plus every .rec file of the repository for
# the front end. New inputs libFuzzer finds go to BUILD_DIR/TARGET/corpus,
# never into the committed seeds.
set -eu
BUILD=${1:?usage: run_fuzz.sh BUILD_DIR TARGET [SECONDS | --runs N]}
TARGET=${2:?usage: run_fuzz.sh BUILD_DIR TARGET [SECONDS | --runs N]}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LIMIT="-max_total_time=${3:-60}"
if [ "${3:-}" = "--runs" ]; then LIMIT="-runs=${4:?--runs needs a count}"; fi

"$ROOT/tests/fuzz/build_fuzz.sh" "$BUILD" "$TARGET"
WORK="$BUILD/$TARGET"
mkdir -p "$WORK/corpus" "$WORK/seeds"
rm -f "$WORK"/crash-* "$WORK"/leak-* "$WORK"/oom-* "$WORK"/timeout-* "$WORK"/slow-unit-*
cp "$ROOT/tests/fuzz/corpus/$TARGET"/* "$WORK/seeds/"
if [ "$TARGET" = frontend ]; then
  for f in $(find "$ROOT/models" "$ROOT/tests/dsl" "$ROOT/tests/e2e" -name '*.rec'); do
    cp "$f" "$WORK/seeds/$(echo "${f#$ROOT/}" | tr '/' '_')"
  done
fi
# Inputs are bounded to 4 KiB (libFuzzer's usual bound): most mutants fail
# in the lexer or the first reader check, whose cost grows with the input, so
# 16 KiB inputs ran at 0.6 times the rate. Larger seeds (a few shipped model
# files) are read truncated; the small models, the error cases and the e2e
# inputs reach every stage.
MAXLEN=4096
# Cheaper ASan bookkeeping (no allocation stacks, a small quarantine): a
# finding is still a finding; replay its reproducer without these options for
# full stacks (build_fuzz.sh's binary, run on the file).
export ASAN_OPTIONS=${ASAN_OPTIONS:-malloc_context_size=0:quarantine_size_mb=16}
cd "$WORK"
set +e
"$BUILD/fuzz_$TARGET" $LIMIT -timeout=30 -rss_limit_mb=4096 -max_len=$MAXLEN \
  -print_final_stats=1 -artifact_prefix="$WORK/" corpus seeds >log.txt 2>&1
rc=$?
set -e
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' log.txt)
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' log.txt)
findings=$(ls crash-* leak-* oom-* timeout-* 2>/dev/null | wc -l)
echo "fuzz $TARGET: ${execs:-?} executions, ${rate:-?} exec/s, corpus $(ls corpus | wc -l) inputs," \
     "$findings findings (exit $rc); log: $WORK/log.txt"
if [ "$rc" -ne 0 ] || [ "$findings" -ne 0 ]; then
  grep -E -A30 "^==[0-9]+==ERROR|runtime error|deadly signal|uncaught|terminate" log.txt | head -60
  ls "$WORK"/crash-* "$WORK"/leak-* "$WORK"/oom-* "$WORK"/timeout-* 2>/dev/null || true
  exit 1
fi
