#!/usr/bin/env bash
# The main job: set up, build and install the example extensions against the pip-installed TVM,
# then run the demos: the C++ pass inside tvm.compile (IR before and after, the kernel run), and
# two independent projects in one tvm.compile (project_a's matmul schedule, project_b's ext_dev
# backend with load/store counters), and project_llm compiling a transformer block (its matmuls
# offloaded through relax.ext.project_llm), checked against numpy.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY=$("$ROOT/scripts/setup.sh")
"$PY" -m pip install -q --disable-pip-version-check --no-build-isolation \
  -c "$ROOT/constraints.txt" "$ROOT/examples/my_custom_pass" \
  "$ROOT/examples/project_a" "$ROOT/examples/project_b" "$ROOT/examples/project_llm"
"$PY" "$ROOT/examples/my_custom_pass/demo.py"
echo
"$PY" "$ROOT/examples/two_projects.py"
echo
"$PY" "$ROOT/examples/project_llm/transformer_block.py"
