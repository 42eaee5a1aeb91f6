#!/usr/bin/env bash
# Style checks, run by scripts/test.sh (and so by CI), the same as .pre-commit-config.yaml:
# clang-format (Google style, 100 columns: .clang-format) on every C/C++ file, ruff on Python.
# Installs the pinned tools into the project's venv. `scripts/lint.sh --fix` rewrites instead.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY=${PY:-$("$ROOT/scripts/setup.sh")}
"$PY" -m pip install -q --disable-pip-version-check "clang-format==18.1.8" "ruff==0.17.6" >&2
BIN=$(dirname "$PY")
cd "$ROOT"
# Tracked and new files that exist (a file deleted but not yet committed is skipped).
mapfile -t CPP < <(git ls-files --cached --others --exclude-standard '*.cc' '*.h' '*.cpp' '*.hpp' |
  while read -r f; do [ -f "$f" ] && echo "$f"; done)
PYDIRS=(python tests bench examples)
if [ "${1:-}" = "--fix" ]; then
  "$BIN/clang-format" -i "${CPP[@]}"
  "$BIN/ruff" check --fix -q "${PYDIRS[@]}"
  "$BIN/ruff" format -q "${PYDIRS[@]}"
  exit 0
fi
status=0
"$BIN/clang-format" --dry-run --Werror "${CPP[@]}" || {
  echo "lint: clang-format: run scripts/lint.sh --fix" >&2
  status=1
}
"$BIN/ruff" check -q "${PYDIRS[@]}" || status=1
"$BIN/ruff" format --check -q "${PYDIRS[@]}" || {
  echo "lint: ruff format: run scripts/lint.sh --fix" >&2
  status=1
}
[ "$status" = 0 ] && echo "lint: clang-format and ruff clean (${#CPP[@]} C/C++ files)" >&2
exit "$status"
