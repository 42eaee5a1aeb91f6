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
# Every example whose pyproject's apache-tvm range holds the release under test (project_llm
# needs 0.27's Relax); one that does not is uninstalled, so that no older build of it runs.
mapfile -t EXAMPLES < <("$PY" - "$ROOT"/examples/*/pyproject.toml <<'PYTHON'
import sys, tomllib
from importlib.metadata import version
from packaging.requirements import Requirement

tvm = version("apache-tvm")
for path in sys.argv[1:]:
    project = tomllib.load(open(path, "rb"))["project"]
    deps = [Requirement(d) for d in project.get("dependencies", [])]
    spec = next((d.specifier for d in deps if d.name == "apache-tvm"), None)
    if spec is None or spec.contains(tvm, prereleases=True):
        print(path.rsplit("/", 1)[0])
    else:
        print(f"test.sh: {project['name']} needs apache-tvm{spec}, not {tvm}: left out",
              file=sys.stderr)
        print(f"-{project['name']}")
PYTHON
)
INSTALL=()
for example in "${EXAMPLES[@]}"; do
  if [ "${example:0:1}" = - ]; then
    "$PY" -m pip uninstall -q -y "${example:1}" 2>/dev/null || true
  else
    INSTALL+=("$example")
  fi
done
"$PY" -m pip install -q --disable-pip-version-check --no-build-isolation \
  -c "$CONSTRAINTS" "${INSTALL[@]}"
cd "$ROOT"
PY="$PY" "$ROOT/scripts/lint.sh"
exec "$PY" -m pytest -q tests "$@"
