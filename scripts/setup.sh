#!/usr/bin/env bash
# Set up the project's virtual environment: the pinned TVM from PyPI (constraints.txt), the
# build tools, and tvm-extend itself. Idempotent; prints the venv's python path last.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${TVM_EXTEND_VENV:-$ROOT/.venv}
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip install -q --disable-pip-version-check -c "$ROOT/constraints.txt")
# cloudpickle and psutil: TVM's RPC server (python -m tvm.exec.rpc_server) needs them.
"${PIP[@]}" apache-tvm apache-tvm-ffi numpy pytest "scikit-build-core>=0.10" cloudpickle psutil >&2
# tvm-extend builds its core against the venv's tvm-ffi, so no build isolation.
"${PIP[@]}" --no-build-isolation --config-settings=cmake.define.TVM_EXTEND_WERROR=ON "$ROOT" >&2
"$PY" -c "import tvm, tvm_extend; print('tvm', tvm.__version__, '| tvm-extend', tvm_extend.__version__)" >&2
echo "$PY"
