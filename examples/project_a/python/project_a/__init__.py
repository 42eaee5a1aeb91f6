"""project_a: a TileLang-style TVM extension, out of tree.

- :func:`matmul_microkernel`: a composite schedule primitive on TVM's ``tvm.s_tir.Schedule``:
  packs A and B into panels and tiles a float32 matmul block around an mr x nr register-blocked
  micro-kernel. It checks legality first and changes nothing when it refuses.
- :func:`apply_rules`: the rule that applies it to every matmul block of a schedule's module.
- :func:`AutoSchedule`: a pass that applies the rule to CPU functions; this package contributes
  it to TVM's default pipeline, so a plain ``tvm.compile`` of a matmul gets the fast schedule.
- ``project_a.fma(a, b, c)``: a TIR op lowered for every target.
- ``project_a.tile``: a pass config option that sets the micro-kernel's tile for the rule and the
  pass (``"MRxNR"`` or ``"MRxNRxNC"``; by default it is chosen from the CPU's features).
"""

from __future__ import annotations

import tvm

import tvm_extend
from tvm_extend import pipeline

extension = tvm_extend.load_extension(__name__)


def _host():
    return tvm.target.Target.from_device(tvm.cpu())


def default_tile(target=None) -> tuple[int, int, int]:
    """(mr, nr, nc) for a CPU target (this machine's by default): 7 x 32 with AVX-512, 6 x 16
    with AVX2, 4 x 8 otherwise; or as the pass config option ``project_a.tile`` of the current
    PassContext sets it (``PassContext(config={"project_a.tile": "4x8"})``: "MRxNR[xNC]")."""
    layout = tile_layout(target)
    return (layout.mr, layout.nr, layout.nc)


def tile_layout(target=None):
    """The micro-kernel's tile layout for a CPU target (this machine's by default), as the rule
    and the AutoSchedule pass use it: a ``project_a.TileLayout`` (fields mr, nr, nc, parallel,
    chosen_by), the extension's object type. ``TileLayout(7, 32, 1024, True, "avx512f")``
    makes one; the pass records it on each function it schedules (attribute
    ``project_a.tile_layout``)."""
    return extension["schedule.default_tile"](target or _host())


TileLayout = extension.types["project_a.TileLayout"]


def matmul_microkernel(sch, block, mr=None, nr=None, nc=None, parallel=True, target=None):
    """Schedule matmul ``block`` (a name or an SBlockRV) of ``sch`` for CPUs: an mr x nr
    accumulator tile in vector registers, A and B packed into panels, B in blocks of nc
    columns; tiles left out come from :func:`default_tile` for ``target``. Raises ValueError,
    with the schedule unchanged, when the block is not a float32 C[i, j] += A[i, k] * B[k, j]
    with constant extents and unscheduled loops."""
    dmr, dnr, dnc = default_tile(target)
    extension["schedule.matmul_microkernel"](sch, block, mr or dmr, nr or dnr, nc or dnc, parallel)


def check_matmul(sch, block) -> str:
    """Why the primitive would refuse ``block``, or "" when it would take it."""
    return str(extension["schedule.check_matmul"](sch, block))


def apply_rules(sch, target=None) -> list[str]:
    """Apply the primitive, with the tile for ``target`` (this machine by default), to every
    block that passes its check, in every function of the schedule's module; returns
    "function/block" of each one scheduled."""
    return [str(s) for s in extension["schedule.apply_rules"](sch, target or _host())]


def AutoSchedule():  # noqa: N802  (TVM's pass naming)
    """A pass that applies the rule to each CPU (llvm, c) function with blocks."""
    return extension["transform.AutoSchedule"]()


if "project_a" not in pipeline.contributors("default"):
    pipeline.contribute("project_a", [pipeline.before("s_tir.CanonicalizeLoop", AutoSchedule)])
