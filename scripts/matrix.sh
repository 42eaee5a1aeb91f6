#!/usr/bin/env bash
# The release matrix: for each supported TVM release (constraints/tvm-*.txt, or those named),
# a venv of its own (.venv-<release>), the kit and the examples built there, and the tests that
# say whether the kit works on it (the loader, the views, the examples' passes, the offline
# compatibility check). Then the pinned release's binaries are loaded into every other release
# (scripts/crossload.sh). Takes about 6 minutes per release on 2 cores.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ $# -gt 0 ]; then
  RELEASES=("$@")
else
  mapfile -t RELEASES < <(cd "$ROOT/constraints" && ls tvm-*.txt | sed 's/^tvm-//; s/\.txt$//')
fi
TESTS=(tests/python/test_loader.py tests/python/test_ir_views.py tests/python/test_tir_passes.py
       tests/python/test_my_custom_pass.py tests/python/test_compat.py)
status=0
for release in "${RELEASES[@]}"; do
  echo "=== TVM $release" >&2
  PY=$(TVM_EXTEND_TVM="$release" "$ROOT/scripts/setup.sh")
  "$PY" -m pip install -q --disable-pip-version-check --no-build-isolation \
    -c "$ROOT/constraints/tvm-$release.txt" "$ROOT/examples/my_custom_pass" \
    "$ROOT/examples/tir_passes"
  if ! (cd "$ROOT" && TVM_EXTEND_TVM="$release" && source scripts/release.sh &&
        "$PY" -m pytest -q "${TESTS[@]}"); then
    echo "=== TVM $release: FAILED" >&2
    status=1
  fi
done
for release in "${RELEASES[@]}"; do
  if [ "$release" != "$(sed -n 's/^apache-tvm==//p' "$ROOT/constraints.txt")" ]; then
    "$ROOT/scripts/crossload.sh" "$release" || status=1
  fi
done
exit $status
