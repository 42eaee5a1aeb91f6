"""project_llm: an MLC-LLM-style TVM extension, out of tree, in C++ (``src/``).

Installed, ``import tvm`` loads it (its ``tvm.backends`` entry point); importing this package is
not needed. What it registers:

- a BYOC codegen, ``relax.ext.project_llm``, with its pattern table (``project_llm.dense``:
  ``matmul(x, permute_dims(w))``, ``project_llm.batch_matmul``), compiling the matmuls of a
  Relax module to register-blocked CPU kernels (project_a's micro-kernel for the projections);
- Relax passes, each a ``tvm.transform.Pass`` named ``project_llm.transform.<Name>``
  (:mod:`project_llm.transform`): OffloadMatmul, FuseAddRMSNorm, FuseTransposeMatmul,
  CleanUpTIRAttrs and ScheduleCPUKernels;
- Relax ops ``project_llm.add_rms_norm`` and ``project_llm.matmul_nt`` (:data:`ops`);
- its places in TVM's default Relax pipeline: OffloadMatmul and FuseAddRMSNorm before
  LegalizeOps, ScheduleCPUKernels after RewriteDataflowReshape. A plain
  ``tvm.compile(relax_mod, target="llvm")`` uses them (``tvm_extend.pipeline.describe(ir="relax")``
  lists them with their owner).
"""

from __future__ import annotations

import tvm

import tvm_extend

from . import transform

extension = tvm_extend.load_extension(__name__)

CODEGEN = "project_llm"

#: The Relax ops, by their short names: ``ops.add_rms_norm(x, r, w, eps, with_sum)``.
ops = tvm_extend.relax_op.ops(extension)


def patterns() -> list:
    """The codegen's pattern table, in priority order (for FuseOpsByPattern)."""
    return tvm_extend.relax_op.patterns(CODEGEN)


def offload() -> tvm.transform.Pass:
    """The pass that sends the matched matmuls to ``relax.ext.project_llm`` (FuseOpsByPattern
    with :func:`patterns`, then RunCodegen); it needs a current llvm target."""
    return transform.OffloadMatmul()


__all__ = ["CODEGEN", "extension", "offload", "ops", "patterns", "transform"]
