#!/usr/bin/env bash
# All the tests: set up, install the examples, the style checks (scripts/lint.sh: clang-format
# and ruff, as .pre-commit-config.yaml), then pytest (which also builds and runs the GoogleTest
# binary, builds every example out of tree from a clean folder, and runs the fault suite).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/scripts/release.sh"
if ! [ -f /usr/include/gtest/gtest.h ] || ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && apt-get install -y -qq libgtest-dev chromium) >&2
  else
    echo "test.sh: install libgtest-dev and chromium (apt-get install libgtest-dev chromium)" >&2
    exit 1
  fi
fi
PY=$("$ROOT/scripts/setup.sh")
"$PY" -m pip install -q --disable-pip-version-check --no-build-isolation \
  -c "$CONSTRAINTS" "$ROOT/examples/my_custom_pass" "$ROOT/examples/tir_passes" \
  "$ROOT/examples/project_a" "$ROOT/examples/project_b" "$ROOT/examples/project_llm"
cd "$ROOT"
PY="$PY" "$ROOT/scripts/lint.sh"
exec "$PY" -m pytest -q tests "$@"
