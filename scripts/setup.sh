#!/usr/bin/env bash
# Set up the project's virtual environment: the pinned TVM from PyPI (constraints.txt), the
# build tools, and tvm-extend itself. Idempotent; prints the venv's python path last.
# TVM_EXTEND_TVM=<release> selects another supported release (constraints/tvm-<release>.txt)
# in its own venv, .venv-<release>.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/scripts/release.sh"
VENV=${TVM_EXTEND_VENV:-$DEFAULT_VENV}
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip install -q --disable-pip-version-check -c "$CONSTRAINTS")
# cloudpickle and psutil: TVM's RPC server (python -m tvm.exec.rpc_server) needs them.
"${PIP[@]}" apache-tvm apache-tvm-ffi numpy pytest "scikit-build-core>=0.10" cloudpickle psutil >&2
# tvm-extend builds its core against the venv's tvm-ffi, so no build isolation.
"${PIP[@]}" --no-build-isolation --config-settings=cmake.define.TVM_EXTEND_WERROR=ON "$ROOT" >&2
"$PY" -c "import tvm, tvm_extend; print('tvm', tvm.__version__, '| tvm-extend', tvm_extend.__version__)" >&2
echo "$PY"
