"""project_llm's passes, each a ``tvm.transform.Pass`` made by the extension's C++ (the global
functions ``project_llm.transform.<Name>``)."""

from __future__ import annotations

from collections.abc import Sequence

import tvm
import tvm_ffi


def _make(name: str, *args) -> tvm.transform.Pass:
    return tvm_ffi.get_global_func(f"project_llm.transform.{name}")(*args)


def OffloadMatmul() -> tvm.transform.Pass:  # noqa: N802 (TVM's naming of passes)
    """FuseOpsByPattern with the codegen's patterns, then RunCodegen (module pass)."""
    return _make("OffloadMatmul")


def FuseAddRMSNorm() -> tvm.transform.Pass:  # noqa: N802
    """``rms_norm(add(x, r), w)`` over the last axis -> ``project_llm.add_rms_norm``."""
    return _make("FuseAddRMSNorm")


def FuseTransposeMatmul() -> tvm.transform.Pass:  # noqa: N802
    """``matmul(x, permute_dims(w))`` -> ``project_llm.matmul_nt(x, w)``."""
    return _make("FuseTransposeMatmul")


def CleanUpTIRAttrs(  # noqa: N802
    attrs: Sequence[str] = ("op_pattern", "tirx.is_scheduled"),
) -> tvm.transform.Pass:
    """Remove the attributes ``attrs`` from every PrimFunc of the module."""
    return _make("CleanUpTIRAttrs", list(attrs))


def ScheduleCPUKernels() -> tvm.transform.Pass:  # noqa: N802
    """A parallel, vectorized CPU schedule for every unscheduled PrimFunc (module pass)."""
    return _make("ScheduleCPUKernels")
