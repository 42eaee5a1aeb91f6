"""project_b: a hardware vendor's TVM extension, out of tree.

- ``project_b.counting_c``, a code generator for TVM's ``ext_dev`` target kind: TVM's own C
  generator, after the pass :func:`CountAccesses` has given each kernel a load and a store
  counter per buffer, compiled by the system C compiler. :func:`target` makes a target for it;
  :func:`profile` reads the counters of a compiled module.
- ``project_b.clamp(x, lo, hi)``, a TIR op lowered by TVM's LowerIntrin for llvm and ext_dev,
  and by this package's own pass :func:`LowerOps`, which it contributes to TVM's default
  pipeline.
"""

from __future__ import annotations

import tvm

import tvm_extend
from tvm_extend import pipeline

extension = tvm_extend.load_extension(__name__)
BACKEND = "project_b.counting_c"


def LowerOps():  # noqa: N802  (TVM's pass naming)
    """Lower project_b's ops (project_b.clamp) to TIR arithmetic."""
    return extension["transform.LowerOps"]()


def CountAccesses():  # noqa: N802  (TVM's pass naming)
    """The pass that gives each kernel a load and a store counter per buffer (int64, in a buffer
    that is the kernel's last parameter); the backend runs it before code generation unless the
    target says counters=off."""
    return extension["transform.CountAccesses"]()


def make_clamp(x, lo, hi):
    """A call of project_b.clamp, built in C++."""
    return extension["make_clamp"](x, lo, hi)


def target(host="llvm", **options) -> tvm.target.Target:
    """An ext_dev target built by project_b's backend. Options: counters ("on"/"off"), opt
    ("0".."3"), cc (the C compiler), cache (folder for the generated source)."""
    return tvm_extend.backend.target(BACKEND, host=host, **options)


def profile(lib) -> dict:
    """Load and store counts per kernel and buffer of a module compiled with project_b's
    backend: {kernel: {buffer: {"loads": n, "stores": n}}}."""
    if not tvm_extend.backend.modules(lib, BACKEND):
        raise ValueError("this module has no kernel compiled by project_b's backend")
    out = {}
    for kernel, counters in tvm_extend.backend.counters(lib, BACKEND).items():
        per_buffer = out.setdefault(kernel, {})
        for name, value in counters.items():  # "<buffer>.loads" / "<buffer>.stores"
            buffer, what = name.rsplit(".", 1)
            per_buffer.setdefault(buffer, {"loads": 0, "stores": 0})[what] = value
    return out


def reset_profile(lib) -> None:
    """Set every counter of the module back to zero."""
    for m in tvm_extend.backend.modules(lib, BACKEND):
        m.get_function("tvm_extend.reset_counters")()


def source_of(lib) -> str:
    """The generated C source of the module's kernels."""
    return "\n".join(m.inspect_source() for m in tvm_extend.backend.modules(lib, BACKEND))


if "project_b" not in pipeline.contributors("default"):
    pipeline.contribute("project_b", [pipeline.before("tirx.FlattenBuffer", LowerOps)])
