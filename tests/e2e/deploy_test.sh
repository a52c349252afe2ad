#!/usr/bin/env bash
# A compiled trainer is deployable (docs/deploy.md): it has no RUNPATH/RPATH,
# every library it loads resolves outside /usr/lib/llvm-19 to a package of the
# documented list (dpkg -S), and it trains, evaluates and predicts from another
# directory with LD_LIBRARY_PATH unset. The runtime's loops and ESMM's
# two-thread GEMMs call libomp, so the list's libomp5-19 entry is exercised.
# Usage: deploy_test.sh RECC GEN_FUNNEL MODELS_DIR DOCS_DIR
set -eu
recc=$(readlink -f "$1")
gen=$(readlink -f "$2")
models=$3
docs=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
unset LD_LIBRARY_PATH LD_PRELOAD

# The packages docs/deploy.md lists: the backquoted names in its table.
allowed=$(sed -n '/^## Run-time dependencies/,/^## /p' "$docs/deploy.md" |
  grep -o '^| `[a-z0-9.+-]*`' | tr -d '|` ')
[[ -n $allowed ]] || { echo "FAIL: no package list in $docs/deploy.md"; exit 1; }

"$recc" compile "$models/esmm.rec" -o "$work/trainer" --threads 2 2>/dev/null
status=0
if readelf -d "$work/trainer" | grep -E 'RUNPATH|RPATH'; then
  echo "FAIL: the trainer has a run path"; status=1
fi
readelf -d "$work/trainer" | grep -q 'NEEDED.*libomp.so.5' ||
  { echo "FAIL: the trainer does not load libomp; the test no longer covers it"; status=1; }


# Debian 12 merges /lib into /usr/lib, but dpkg knows each file by the path
# its package ships it at: try both spellings.
package_of() {
  local p=$1 alt
  alt=$([[ $p == /usr/* ]] && echo "${p#/usr}" || echo "/usr$p")
  { dpkg -S "$p" 2>/dev/null || dpkg -S "$alt" 2>/dev/null; } | head -1 | cut -d: -f1
}
ldd "$work/trainer" >"$work/ldd.txt"
cat "$work/ldd.txt"
while read -r line; do
  [[ $line == linux-vdso* ]] && continue
  if [[ $line == *"not found"* ]]; then echo "FAIL: $line"; status=1; continue; fi
  path=$(grep -o '/[^ ]*' <<<"$line" | head -1)
  if [[ $path == /usr/lib/llvm-19/* ]]; then echo "FAIL: $path is in LLVM's tree"; status=1; fi
  pkg=$(package_of "$path")
  if [[ -z $pkg ]]; then echo "FAIL: no package owns $path"; status=1; continue; fi
  if ! grep -qx "$pkg" <<<"$allowed"; then
    echo "FAIL: $path comes from $pkg, which docs/deploy.md does not list"; status=1
  else
    echo "ok   $path <- $pkg"
  fi
done <"$work/ldd.txt"

mkdir "$work/elsewhere"
mv "$work/trainer" "$work/elsewhere/"
cd "$work/elsewhere"
$gen --out data.csv --rows 3000 --seed 1 --users 500 --items 500 2>/dev/null
./trainer train --data data.csv --out m.safetensors --threads 2 >/dev/null 2>&1 ||
  { echo "FAIL: the trainer did not train"; exit 1; }
./trainer eval --ckpt m.safetensors --data data.csv --metrics-json eval.json >/dev/null 2>&1 ||
  { echo "FAIL: the trainer did not evaluate"; exit 1; }
./trainer predict --ckpt m.safetensors --data data.csv --out scores.csv >/dev/null 2>&1 ||
  { echo "FAIL: the trainer did not predict"; exit 1; }
rows=$(($(wc -l <scores.csv) - 1))
[[ $rows -eq 3000 ]] || { echo "FAIL: predict wrote $rows rows, want 3000"; status=1; }
[[ $status -eq 0 ]] && echo "ok: the trainer ran with only the documented packages' libraries"
exit $status
