#!/usr/bin/env bash
# The release matrix: for each supported TVM release (constraints/tvm-*.txt, or those named),
# the README's test command under that release (TVM_EXTEND_TVM=<release> ./scripts/test.sh: a
# venv of its own, .venv-<release>, the kit and every example built there, the whole suite with
# its own test build folder). Then the pinned release's binaries are loaded into every other
# release (scripts/crossload.sh). About 10 minutes per release on 2 cores.
#   scripts/matrix.sh [--quick] [release...]
# --quick runs only the tests that say whether the kit works on a release (the loader, the
# views, the examples' passes, the offline compatibility check): about 4 minutes per release.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
QUICK=0
if [ "${1:-}" = "--quick" ]; then
  QUICK=1
  shift
fi
if [ $# -gt 0 ]; then
  RELEASES=("$@")
else
  mapfile -t RELEASES < <(cd "$ROOT/constraints" && ls tvm-*.txt | sed 's/^tvm-//; s/\.txt$//')
fi
QUICK_TESTS=(tests/python/test_loader.py tests/python/test_ir_views.py
             tests/python/test_tir_passes.py tests/python/test_my_custom_pass.py
             tests/python/test_compat.py)
status=0
summary=()
for release in "${RELEASES[@]}"; do
  echo "=== TVM $release" >&2
  if [ $QUICK = 1 ]; then
    PY=$(TVM_EXTEND_TVM="$release" "$ROOT/scripts/setup.sh")
    "$PY" -m pip install -q --disable-pip-version-check --no-build-isolation \
      -c "$ROOT/constraints/tvm-$release.txt" "$ROOT/examples/my_custom_pass" \
      "$ROOT/examples/tir_passes"
    run=(bash -c 'ROOT=$0 && cd "$ROOT" && source scripts/release.sh && "$1" -m pytest -q "${@:2}"'
         "$ROOT" "$PY" "${QUICK_TESTS[@]}")
  else
    run=("$ROOT/scripts/test.sh")
  fi
  if TVM_EXTEND_TVM="$release" "${run[@]}"; then
    summary+=("TVM $release: passed")
  else
    summary+=("TVM $release: FAILED")
    status=1
  fi
done
pinned=$(sed -n 's/^apache-tvm==//p' "$ROOT/constraints.txt")
for release in "${RELEASES[@]}"; do
  if [ "$release" != "$pinned" ]; then
    if "$ROOT/scripts/crossload.sh" "$release"; then
      summary+=("crossload $pinned -> $release: passed")
    else
      summary+=("crossload $pinned -> $release: FAILED")
      status=1
    fi
  fi
done
printf '=== %s\n' "${summary[@]}" >&2
exit $status
