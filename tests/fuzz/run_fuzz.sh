#!/bin/sh
# Builds the front-end fuzz target with clang-19's libFuzzer and ASan/UBSan
# into BUILD_DIR (rebuilding only when a source changed), seeds a corpus with
# every .rec file of the repository, and fuzzes for SECONDS seconds. Exits
# non-zero if libFuzzer finds a crash, a sanitizer report, a leak or a timeout;
# the reproducer is left in BUILD_DIR (crash-*, leak-*, timeout-*).
#   usage: run_fuzz.sh BUILD_DIR [SECONDS]
set -eu
BUILD=${1:?usage: run_fuzz.sh BUILD_DIR [SECONDS]}
SECONDS_TO_RUN=${2:-60}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CXX=${RECC_FUZZ_CXX:-clang++-19}
mkdir -p "$BUILD/obj" "$BUILD/corpus"

SOURCES="$ROOT/tests/fuzz/fuzz_frontend.cpp $(ls "$ROOT"/dsl/*.cpp "$ROOT"/compiler/ir/*.cpp \
  "$ROOT"/compiler/ops/*.cpp "$ROOT"/compiler/passes/*.cpp "$ROOT"/compiler/passes/builtins/*.cpp) \
  $ROOT/runtime/FileRead.cpp"
FLAGS="-std=c++20 -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined \
  -I$ROOT -I/usr/include/eigen3"
OBJS=""
for src in $SOURCES; do
  obj="$BUILD/obj/$(echo "${src#$ROOT/}" | tr '/' '_').o"
  OBJS="$OBJS $obj"
  # Rebuild when the source or any header of the front end is newer.
  if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || \
     [ -n "$(find "$ROOT/dsl" "$ROOT/compiler" "$ROOT/runtime" -name '*.h' -newer "$obj" -o -name '*.def' -newer "$obj" | head -1)" ]; then
    $CXX $FLAGS -c "$src" -o "$obj"
  fi
done
$CXX -fsanitize=fuzzer,address,undefined $OBJS -lfmt -o "$BUILD/fuzz_frontend"

for f in $(find "$ROOT/models" "$ROOT/tests/dsl" -name '*.rec'); do
  cp "$f" "$BUILD/corpus/seed_$(echo "${f#$ROOT/}" | tr '/' '_')"
done
cd "$BUILD"
exec ./fuzz_frontend -max_total_time="$SECONDS_TO_RUN" -timeout=30 -rss_limit_mb=4096 \
  -max_len=16384 -print_final_stats=1 corpus
