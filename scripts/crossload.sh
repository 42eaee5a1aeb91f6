#!/usr/bin/env bash
# One binary, two TVM releases: the examples' extension libraries, built against the pinned TVM
# (by scripts/test.sh or scripts/demo.sh, in .venv), are loaded into another supported release
# (default 0.26.0, set up in .venv-<release> by scripts/setup.sh) and run on the same corpus in
# both. The numbers they compute must be identical; a library that cannot bind there must be
# refused with the complete list of what does not bind (tests/python/test_across_releases.py).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OTHER=${1:-0.26.0}
PINNED_PY="$ROOT/.venv/bin/python"
SITE=$("$PINNED_PY" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
LIBS=("$SITE/my_custom_pass/libmy_custom_pass.so" "$SITE/tir_passes/libtir_passes.so")
for lib in "${LIBS[@]}"; do
  [ -f "$lib" ] || { echo "crossload: $lib is missing: run scripts/test.sh first" >&2; exit 2; }
done
OTHER_PY=$(TVM_EXTEND_TVM="$OTHER" "$ROOT/scripts/setup.sh")
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
"$PINNED_PY" "$ROOT/scripts/crossload.py" "$OUT/pinned.json" "${LIBS[@]}"
"$OTHER_PY" "$ROOT/scripts/crossload.py" "$OUT/other.json" "${LIBS[@]}"
"$PINNED_PY" "$ROOT/scripts/crossload.py" --compare "$OUT/pinned.json" "$OUT/other.json"
# The precise refusal of what cannot bind there, and the use records.
TVM_EXTEND_OTHER_PYTHON="$OTHER_PY" "$PINNED_PY" -m pytest -q \
  "$ROOT/tests/python/test_across_releases.py"
