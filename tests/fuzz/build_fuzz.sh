#!/bin/sh
# Builds libFuzzer target TARGET (frontend, csv or checkpoint) with clang-19,
# ASan and UBSan into BUILD_DIR/fuzz_TARGET. Objects are shared between the
# targets (BUILD_DIR/obj) and rebuilt only when their source or any header of
# the tree is newer, so a second target or a rebuild costs little.
#   usage: build_fuzz.sh BUILD_DIR TARGET
# RECC_FUZZ_CXX picks the compiler (default clang++-19); RECC_FUZZ_OPT the
# optimization level (default -O1, libFuzzer's usual choice). Compiles go
# through ccache when it is installed, as the main build's do: on a fresh
# checkout (CI) the ~100 sanitized objects otherwise take minutes of one core.
set -eu
BUILD=${1:?usage: build_fuzz.sh BUILD_DIR TARGET}
TARGET=${2:?usage: build_fuzz.sh BUILD_DIR TARGET}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CXX=${RECC_FUZZ_CXX:-clang++-19}
CCACHE=$(command -v ccache || true)
# -g makes ccache hash the working directory; a fresh clone's differs, so
# leave it out (debug info then names sources relative to the tree).
export CCACHE_NOHASHDIR=1
export CCACHE_BASEDIR="$ROOT"   # tree paths hashed relative to the clone
OPT=${RECC_FUZZ_OPT:--O1}
mkdir -p "$BUILD/obj"

# The runtime minus the command-line front ends (CLI11), as an archive so a
# target links only the objects it uses.
RUNTIME=$(ls "$ROOT"/runtime/*.cpp | grep -v -e TrainerApp.cpp -e TrainerFlags.cpp -e TrainerMain.cpp)
FRONTEND=$(ls "$ROOT"/dsl/*.cpp "$ROOT"/compiler/ir/*.cpp "$ROOT"/compiler/ops/*.cpp \
  "$ROOT"/compiler/passes/*.cpp "$ROOT"/compiler/passes/builtins/*.cpp)
case "$TARGET" in
  frontend) SOURCES="$FRONTEND" ;;
  csv|checkpoint) SOURCES="" ;;
  *) echo "build_fuzz.sh: unknown target '$TARGET' (frontend, csv or checkpoint)" >&2; exit 2 ;;
esac

FLAGS="-std=c++20 $OPT -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined \
  -I$ROOT -I/usr/include/eigen3"
# compile SRC: echoes the object, rebuilt when the source or any header of
# the tree is newer.
compile() {
  obj="$BUILD/obj/$(echo "${1#$ROOT/}" | tr '/' '_').o"
  if [ ! -f "$obj" ] || [ "$1" -nt "$obj" ] || [ "$0" -nt "$obj" ] || \
     [ -n "$(find "$ROOT/dsl" "$ROOT/compiler" "$ROOT/runtime" -name '*.h' -newer "$obj" -o -name '*.def' -newer "$obj" | head -1)" ]; then
    $CCACHE $CXX $FLAGS -c "$1" -o "$obj"
  fi
  echo "$obj"
}

OBJS="$(compile "$ROOT/tests/fuzz/fuzz_$TARGET.cpp")"
for src in $SOURCES; do OBJS="$OBJS $(compile "$src")"; done
RUNTIME_OBJS=""
for src in $RUNTIME; do RUNTIME_OBJS="$RUNTIME_OBJS $(compile "$src")"; done
rm -f "$BUILD/libruntime.a"
ar rcs "$BUILD/libruntime.a" $RUNTIME_OBJS
# libomp: runtime/Parallel.cpp's thread cap calls it (its loop pragma is
# compiled without -fopenmp here, so the loops run on one thread).
$CXX -fsanitize=fuzzer,address,undefined $OBJS "$BUILD/libruntime.a" -ltbb -lfmt -lz -lzstd -lfarmhash \
  -L/usr/lib/llvm-19/lib -lomp -o "$BUILD/fuzz_$TARGET"
