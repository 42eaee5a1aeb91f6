"""tir_passes: TIR passes written in C++ with tvm-extend's typed IR views."""

import tvm_extend

extension = tvm_extend.load_extension(__name__)


def UnrollByAnnotation(max_steps: int = -1):  # noqa: N802  (TVM's pass naming)
    """Unroll loops annotated for unrolling (``T.unroll``) with a constant trip count, while
    trip count x body statements <= max_steps (negative: no limit)."""
    return extension["transform.UnrollByAnnotation"](max_steps)


def StrengthReduce():  # noqa: N802
    """Integer *, /, % by 2^k to shifts and masks; truncating / and % only where TVM's arithmetic
    analyzer proves the dividend non-negative under the enclosing loops' ranges."""
    return extension["transform.StrengthReduce"]()


def LoopInvariantCodeMotion():  # noqa: N802
    """Compute loop-invariant pure expressions once, in bindings placed before their loop."""
    return extension["transform.LoopInvariantCodeMotion"]()


def RemoveNoOp():  # noqa: N802
    """Remove statements that do nothing, as TVM's ``tvm.tirx.transform.RemoveNoOp()`` does."""
    return extension["transform.RemoveNoOp"]()


def NarrowDataType(bits: int = 32):  # noqa: N802
    """int64 loop variables and index arithmetic narrowed to ``bits`` where TVM's analyzer proves
    they fit, as ``tvm.tirx.transform.NarrowDataType(bits)`` does."""
    return extension["transform.NarrowDataType"](bits)


def VectorizeLoop():  # noqa: N802
    """Loops of kind VECTORIZED with a constant extent become vector code: the loop variable
    becomes a Ramp, scalars are broadcast where they meet vectors, and a statement that cannot
    be vectorized becomes a serial loop over the lanes, as TVM's tirx.transform.VectorizeLoop."""
    return extension["transform.VectorizeLoop"]()
