"""project_llm: an MLC-LLM-style TVM extension, out of tree.

- A BYOC codegen, ``relax.ext.project_llm`` (C++: ``project_llm.codegen.matmul``), that compiles
  the matmuls of a Relax module to register-blocked CPU kernels: a Linear layer's projection
  ``matmul(x, permute_dims(w))`` on project_a's micro-kernel, and attention's batched matmuls.
- Its pattern table (``project_llm.dense``, ``project_llm.batch_matmul``) and :func:`offload`,
  the passes that send matched matmuls to the codegen (FuseOpsByPattern + RunCodegen).
- Imported, it joins TVM's default Relax pipeline, so a plain ``tvm.compile`` of a Relax module
  offloads its matmuls.
"""

from __future__ import annotations

import project_a  # noqa: F401  (its micro-kernel schedules the dense kernels)
import tvm
import tvm_ffi
from tvm import relax
from tvm.relax.dpl import is_op, wildcard

import tvm_extend

extension = tvm_extend.load_extension(__name__)

CODEGEN = "project_llm"


# --- patterns -----------------------------------------------------------------------------------


def _tensor(expr):
    """(shape as ints, dtype) of a statically shaped tensor expression, or None."""
    ty = expr.ty
    if not isinstance(ty, relax.TensorType) or ty.shape is None:
        return None
    try:
        shape = [int(v) for v in ty.shape.values]
    except (TypeError, AttributeError):
        return None
    return shape, str(ty.dtype)


def _check_dense(ctx) -> bool:
    x, w = _tensor(ctx.annotated_expr["x"]), _tensor(ctx.annotated_expr["w"])
    transpose = ctx.annotated_expr["w_t"]
    if x is None or w is None or x[1] != "float32" or w[1] != "float32":
        return False
    axes = transpose.attrs.axes
    if axes is not None and [int(a) for a in axes] != [1, 0]:
        return False
    return len(w[0]) == 2 and len(x[0]) >= 2 and x[0][-1] == w[0][1]


def _check_batch_matmul(ctx) -> bool:
    a, b = _tensor(ctx.annotated_expr["a"]), _tensor(ctx.annotated_expr["b"])
    if a is None or b is None or a[1] != "float32" or b[1] != "float32":
        return False
    (sa, _), (sb, _) = a, b
    return len(sa) >= 3 and len(sa) == len(sb) and sa[:-2] == sb[:-2] and sa[-1] == sb[-2]


def patterns() -> list[tuple]:
    """project_llm's pattern table: (name, pattern, annotations, check) as TVM's registry takes
    them; later entries are tried first."""
    a, b = wildcard(), wildcard()
    batch_matmul = is_op("relax.matmul")(a, b)
    x, w = wildcard(), wildcard()
    w_t = is_op("relax.permute_dims")(w)
    dense = is_op("relax.matmul")(x, w_t)
    return [
        ("project_llm.batch_matmul", batch_matmul, {"a": a, "b": b}, _check_batch_matmul),
        ("project_llm.dense", dense, {"x": x, "w": w, "w_t": w_t}, _check_dense),
    ]


def offload() -> tvm.transform.Pass:
    """The passes that send the matched matmuls to ``relax.ext.project_llm``: FuseOpsByPattern
    with project_llm's patterns (annotated for the codegen), then RunCodegen. Every Relax
    function of the module stays an entry of RunCodegen, whose dead-code elimination would
    otherwise drop the functions without a global symbol (a private ``main``) from every
    ``tvm.compile`` once project_llm joined the default pipeline."""
    from tvm.relax.backend.pattern_registry import get_patterns_with_prefix

    @tvm.transform.module_pass(opt_level=0, name="project_llm.transform.Offload")
    def _offload(mod, _ctx):
        entries = [gv.name_hint for gv, f in mod.functions.items() if isinstance(f, relax.Function)]
        mod = relax.transform.FuseOpsByPattern(
            get_patterns_with_prefix("project_llm"), bind_constants=False, annotate_codegen=True
        )(mod)
        return relax.transform.RunCodegen(entry_functions=entries)(mod)

    return _offload


# --- registration -------------------------------------------------------------------------------

# TEMPORARY until the kit's codegen registration: the codegen is the C++ function
# project_llm.codegen.matmul; RunCodegen looks it up as relax.ext.project_llm.
if tvm.get_global_func("relax.ext.project_llm", allow_missing=True) is None:
    tvm_ffi.register_global_func("relax.ext.project_llm", extension["codegen.matmul"])

# TEMPORARY until the kit's pattern registration: TVM's Python pattern registry.
if not relax.backend.pattern_registry.get_patterns_with_prefix("project_llm"):
    relax.backend.pattern_registry.register_patterns(patterns())


# TEMPORARY until tvm_extend.pipeline covers Relax pipelines: TVM's default Relax pipeline (the
# one tvm.compile uses, relax.pipeline.PIPELINE_MAP["default"]) runs project_llm's offload first.
def _join_default_pipeline() -> None:
    from tvm.relax import pipeline as relax_pipeline

    base = relax_pipeline.PIPELINE_MAP["default"]
    if getattr(base, "project_llm", False):
        return

    def default_with_project_llm(**kwargs):
        rest = base(**kwargs)

        @tvm.transform.module_pass(opt_level=0, name="project_llm.default_pipeline")
        def _pipeline(mod, _ctx):
            return rest(offload()(mod))

        return _pipeline

    default_with_project_llm.project_llm = True
    relax_pipeline.PIPELINE_MAP["default"] = default_with_project_llm
    relax_pipeline.PIPELINE_MAP["default_build"] = default_with_project_llm


_join_default_pipeline()
