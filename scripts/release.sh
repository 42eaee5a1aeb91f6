# Sourced by the scripts: which TVM release to set up and test. The pinned one
# (constraints.txt, in .venv) unless TVM_EXTEND_TVM=<release> names another supported release
# (constraints/tvm-<release>.txt, in .venv-<release>).
if [ -n "${TVM_EXTEND_TVM:-}" ]; then
  CONSTRAINTS="$ROOT/constraints/tvm-$TVM_EXTEND_TVM.txt"
  if [ ! -f "$CONSTRAINTS" ]; then
    echo "TVM_EXTEND_TVM=$TVM_EXTEND_TVM: not a supported release (have: $(cd "$ROOT/constraints" && ls tvm-*.txt | sed 's/^tvm-//; s/\.txt$//' | tr '\n' ' '))" >&2
    exit 2
  fi
  DEFAULT_VENV="$ROOT/.venv-$TVM_EXTEND_TVM"
  # The test libraries of each release are built in a folder of their own (tests/conftest.py).
  export TVM_EXTEND_BUILD_DIR="${TVM_EXTEND_BUILD_DIR:-$ROOT/build/tests-$TVM_EXTEND_TVM}"
else
  CONSTRAINTS="$ROOT/constraints.txt"
  DEFAULT_VENV="$ROOT/.venv"
fi
