#!/usr/bin/env bash
# The main job: set up, build and install the example extension against the pip-installed TVM,
# then run the demo (the C++ pass inside tvm.compile, IR before and after, the kernel run).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY=$("$ROOT/scripts/setup.sh")
"$PY" -m pip install -q --disable-pip-version-check --no-build-isolation \
  -c "$ROOT/constraints.txt" "$ROOT/examples/my_custom_pass"
"$PY" "$ROOT/examples/my_custom_pass/demo.py"
