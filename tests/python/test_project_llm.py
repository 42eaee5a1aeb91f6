"""examples/project_llm, installed (``import tvm`` loads it; nothing here imports the package
at collection time, and no test changes process state that outlives it):

- a transformer block compiled by a plain tvm.compile with and without project_llm gives
  numpy's result; installed, project_llm joins TVM's default Relax pipeline (checked in a fresh
  process that never imports project_llm);
- the codegen relax.ext.project_llm and its C++ pattern table: every matmul of the block
  outlined and offloaded; what is not offloaded (float16, int32, symbolic shapes, no transposed
  weight) and modules it must leave alone (no matmul, private functions);
- the passes FuseAddRMSNorm, FuseTransposeMatmul, CleanUpTIRAttrs and ScheduleCPUKernels,
  each checked with TVMScript before/after and assert_structural_equal, and run on the VM
  against numpy;
- bad input to the codegen is named; the example builds as a wheel from its directory.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import tvm
import tvm_ffi
from tvm import relax
from tvm.script import ir as I
from tvm.script import relax as R
from tvm.script import tirx as T

import tvm_extend
from conftest import ROOT, needs_relax_027, run_python

EXAMPLE = ROOT / "examples" / "project_llm"
pytestmark = [
    needs_relax_027,
    pytest.mark.skipif(
        importlib.util.find_spec("project_llm") is None,
        reason="examples/project_llm is not installed (scripts/test.sh installs it)",
    ),
]


def load_block():
    path = EXAMPLE / "transformer_block.py"
    spec = importlib.util.spec_from_file_location("transformer_block", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


block = load_block()
TARGET = tvm.target.Target.from_device(tvm.cpu())
DENSE, BATCH = 5, 2  # the block's projections (qkv, o, gate, up, down) and attention's matmuls


@pytest.fixture(scope="module")
def llm():
    """The extension `import tvm` loaded (the package adds Python names only)."""
    import project_llm

    return project_llm


def make_pass(name: str, *args) -> tvm.transform.Pass:
    return tvm_ffi.get_global_func(f"project_llm.transform.{name}")(*args)


def op(name: str):
    return tvm_extend.relax_op.op(f"project_llm.{name}")


def run_vm(executable, name: str, *args):
    vm = relax.VirtualMachine(executable, tvm.cpu())
    out = vm[name](*[tvm.runtime.tensor(a) for a in args])
    if isinstance(out, tvm.runtime.Tensor):
        return out.numpy()
    return [o.numpy() for o in out]


def compile_default(mod):
    return tvm.compile(mod, target=TARGET)


def pipeline_module(mod):
    """What TVM's default Relax pipeline (with project_llm's passes) makes of `mod`."""
    with TARGET:
        return relax.get_pipeline("default")(mod)


# --- the transformer block ---------------------------------------------------------------


def test_block_with_project_llm_gives_numpys_result():
    args = block.inputs()
    out = run_vm(compile_default(block.relax_module()), "forward", *args)
    ref = block.reference(*args)
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())


def test_installed_project_llm_joins_the_default_pipeline_without_import():
    """A fresh process: `import tvm` autoloads project_llm; a plain tvm.compile offloads the
    matmuls, fuses add + RMSNorm and schedules the other kernels; project_llm (the Python
    package) is never imported."""
    code = f"""
import importlib.util, sys, numpy as np, tvm
from tvm import relax
import tvm_extend
spec = importlib.util.spec_from_file_location("b", {str(EXAMPLE / "transformer_block.py")!r})
b = importlib.util.module_from_spec(spec); spec.loader.exec_module(b)
target = tvm.target.Target.from_device(tvm.cpu())
print("owners", sorted({{o for _, o in tvm_extend.pipeline.describe(ir="relax")}}))
with target:
    mod = relax.get_pipeline("default")(b.relax_module())
print("external", len(mod.attrs["external_mods"]))
print("fused", any(gv.name_hint == "add_rms_norm" for gv in mod.get_global_vars()))
print("parallel", "T.parallel" in mod["softmax"].script())
ex = tvm.compile(b.relax_module(), target=target)
vm = relax.VirtualMachine(ex, tvm.cpu())
args = b.inputs()
out = vm["forward"](*[tvm.runtime.tensor(a) for a in args]).numpy()
ref = b.reference(*args)
print("close", bool(np.allclose(out, ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())))
print("imported", "project_llm" in sys.modules)
"""
    done = run_python(code)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines())
    assert "'project_llm'" in lines["owners"]
    assert int(lines["external"]) == DENSE + BATCH - 1  # gate and up share one kernel
    assert lines["fused"] == "True" and lines["parallel"] == "True"
    assert lines["close"] == "True"
    assert lines["imported"] == "False"


def test_block_without_project_llm_gives_numpys_result():
    """TVM alone (no extension autoloaded), in a fresh process: the same numbers."""
    code = f"""
import importlib.util, numpy as np, sys, tvm, tvm_ffi
from tvm import relax
spec = importlib.util.spec_from_file_location("b", {str(EXAMPLE / "transformer_block.py")!r})
b = importlib.util.module_from_spec(spec); spec.loader.exec_module(b)
assert tvm_ffi.get_global_func("relax.ext.project_llm", allow_missing=True) is None
lib = tvm.compile(b.relax_module(), target=tvm.target.Target.from_device(tvm.cpu()))
vm = relax.VirtualMachine(lib, tvm.cpu())
args = b.inputs()
out = vm["forward"](*[tvm.runtime.tensor(a) for a in args]).numpy()
ref = b.reference(*args)
np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())
"""
    done = run_python(code, env={"TVM_EXTEND_NO_AUTOLOAD": "1"})
    assert done.returncode == 0, done.stderr[-3000:]


def test_default_pipeline_lists_project_llms_passes_in_place():
    listing = tvm_extend.pipeline.describe(ir="relax")
    names = [name for name, _ in listing]
    owners = dict(listing)
    for name in ("OffloadMatmul", "FuseAddRMSNorm", "ScheduleCPUKernels"):
        assert owners[f"project_llm.transform.{name}"] == "project_llm"
    legalize = names.index("LegalizeOps")
    assert names.index("project_llm.transform.OffloadMatmul") < legalize
    assert names.index("project_llm.transform.FuseAddRMSNorm") < legalize
    reshape = names.index("RewriteDataflowReshape")
    assert names.index("project_llm.transform.ScheduleCPUKernels") == reshape + 1


# --- the codegen and OffloadMatmul -----------------------------------------------------------


def fused_for_codegen(mod):
    fuse = relax.transform.FuseOpsByPattern(
        tvm_extend.relax_op.patterns("project_llm"), bind_constants=False, annotate_codegen=True
    )
    return fuse(mod)


def test_patterns_are_the_codegens_and_outline_every_matmul():
    names = [p.name for p in tvm_extend.relax_op.patterns("project_llm")]
    assert names == ["project_llm.dense", "project_llm.batch_matmul"]  # dense is tried first
    mod = fused_for_codegen(block.relax_module())
    composites = []
    for binding in mod["forward"].body.blocks[0].bindings:
        value = binding.value
        if isinstance(value, relax.Call) and isinstance(value.op, tvm.ir.GlobalVar):
            callee = mod[value.op]
            assert callee.attrs["Codegen"] == "project_llm"
            bindings = callee.body.blocks[0].bindings
            [inner] = [b.value for b in bindings if isinstance(b.value, relax.Function)]
            composites.append(str(inner.attrs["Composite"]))
    expected = ["project_llm.batch_matmul"] * BATCH + ["project_llm.dense"] * DENSE
    assert sorted(composites) == expected
    assert "R.matmul" not in mod["forward"].script()


def test_offload_makes_one_external_module_per_kernel(llm):
    with TARGET:
        mod = llm.transform.OffloadMatmul()(block.relax_module())
    text = mod["forward"].script()
    assert "R.matmul" not in text
    assert text.count("R.call_dps_packed(") == DENSE + BATCH
    symbols = {
        line.split('R.call_dps_packed("')[1].split('"')[0]
        for line in text.splitlines()
        if "R.call_dps_packed(" in line
    }
    assert len(symbols) == DENSE + BATCH - 1  # gate and up share one kernel
    externals = mod.attrs["external_mods"]
    assert len(externals) == len(symbols)
    assert all(any(m.implements_function(s) for m in externals) for s in symbols)
    assert [gv.name_hint for gv in mod.get_global_vars()] == ["forward"]


def test_a_private_function_without_matmuls_compiles_as_without_project_llm(llm):
    """In TVM's default pipeline, project_llm keeps every Relax function of a module: a private
    `main` too (which RunCodegen's dead-code elimination drops unless it is an entry), so a test
    that compiles one runs the same after project_llm was imported."""

    @R.function(private=True)
    def main(x: R.Tensor((8,), "float32")):
        with R.dataflow():
            y = R.add(x, x)
            R.output(y)
        return y

    mod = tvm.IRModule({"main": main})
    with TARGET:
        assert [gv.name_hint for gv in llm.offload()(mod).get_global_vars()] == ["main"]
    vm = relax.VirtualMachine(tvm.compile(mod, target=TARGET), tvm.cpu())
    x = np.arange(8, dtype="float32")
    np.testing.assert_array_equal(vm["main"](tvm.runtime.tensor(x)).numpy(), 2 * x)


def test_dense_on_two_dimensional_input_and_what_is_not_matched():
    @I.ir_module
    class Module:
        @R.function
        def main(
            x: R.Tensor((32, 64), "float32"),
            w: R.Tensor((48, 64), "float32"),
            h: R.Tensor((32, 64), "float16"),
            v: R.Tensor((48, 64), "float16"),
            b: R.Tensor((64, 48), "float32"),
            i: R.Tensor((32, 64), "int32"),
            j: R.Tensor((48, 64), "int32"),
        ):
            with R.dataflow():
                y = R.matmul(x, R.permute_dims(w))  # offloaded: dense
                z = R.matmul(h, R.permute_dims(v))  # float16: not
                u = R.matmul(x, b)  # no transposed weight, no batch: not
                k = R.matmul(i, R.permute_dims(j))  # int32: not
                R.output(y, z, u, k)
            return (y, z, u, k)

    with TARGET:
        text = make_pass("OffloadMatmul")(Module)["main"].script()
    assert text.count("R.call_dps_packed(") == 1
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((32, 64), "float32"), rng.standard_normal((48, 64), "float32")
    h, v = x.astype("float16"), w.astype("float16")
    b = rng.standard_normal((64, 48), "float32")
    i, j = rng.integers(-5, 5, (32, 64), "int32"), rng.integers(-5, 5, (48, 64), "int32")
    y, z, u, k = run_vm(compile_default(Module), "main", x, w, h, v, b, i, j)
    np.testing.assert_allclose(y, x @ w.T, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(z, h @ v.T, rtol=1e-2, atol=1e-1)
    np.testing.assert_allclose(u, x @ b, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(k, i @ j.T)


def test_offload_leaves_other_modules_as_they_are(llm):
    """No matmul, a symbolic shape, private functions (called or not): OffloadMatmul changes
    nothing, and a plain tvm.compile of each still gives numpy's result."""

    @I.ir_module
    class NoMatmul:
        @R.function
        def main(x: R.Tensor((4, 8), "float32")):
            with R.dataflow():
                y = R.add(x, x)
                R.output(y)
            return y

    @I.ir_module
    class Symbolic:
        @R.function
        def main(x: R.Tensor(("n", 64), "float32"), w: R.Tensor((48, 64), "float32")):
            with R.dataflow():
                y = R.matmul(x, R.permute_dims(w))
                R.output(y)
            return y

    @I.ir_module
    class Private:
        @R.function(private=True)
        def helper(x: R.Tensor((4, 8), "float32")) -> R.Tensor((4, 8), "float32"):
            with R.dataflow():
                y = R.multiply(x, x)
                R.output(y)
            return y

        @R.function(private=True)
        def unused(x: R.Tensor((4, 8), "float32")) -> R.Tensor((4, 8), "float32"):
            return x

        @R.function
        def main(x: R.Tensor((4, 8), "float32")):
            cls = Private
            y = cls.helper(x)
            return y

    for mod in (NoMatmul, Symbolic, Private):
        with TARGET:
            tvm.ir.assert_structural_equal(llm.transform.OffloadMatmul()(mod), mod)
    x = np.arange(32, dtype="float32").reshape(4, 8)
    np.testing.assert_allclose(run_vm(compile_default(NoMatmul), "main", x), x + x)
    np.testing.assert_allclose(run_vm(compile_default(Private), "main", x), x * x)
    rng = np.random.default_rng(2)
    xs, w = rng.standard_normal((5, 64), "float32"), rng.standard_normal((48, 64), "float32")
    np.testing.assert_allclose(
        run_vm(compile_default(Symbolic), "main", xs, w), xs @ w.T, rtol=1e-4, atol=1e-4
    )


def test_offload_keeps_private_functions_of_a_module_it_changes(llm):
    @I.ir_module
    class Module:
        @R.function(private=True)
        def unused(x: R.Tensor((4, 8), "float32")) -> R.Tensor((4, 8), "float32"):
            return x

        @R.function
        def main(x: R.Tensor((32, 64), "float32"), w: R.Tensor((48, 64), "float32")):
            with R.dataflow():
                y = R.matmul(x, R.permute_dims(w))
                R.output(y)
            return y

    with TARGET:
        mod = llm.transform.OffloadMatmul()(Module)
    assert sorted(gv.name_hint for gv in mod.get_global_vars()) == ["main", "unused"]
    tvm.ir.assert_structural_equal(mod["unused"], Module["unused"])
    assert "R.call_dps_packed(" in mod["main"].script()


def test_offload_needs_an_llvm_target(llm):
    """Without a current target (or for another kind) the pass leaves the module alone."""
    mod = block.relax_module()
    tvm.ir.assert_structural_equal(llm.transform.OffloadMatmul()(mod), mod)


@pytest.mark.parametrize(
    ("mcpu", "tile"),
    [("skylake-avx512", (8, 16)), ("haswell", (8, 8)), ("nehalem", (4, 4))],
)
def test_tile_follows_the_cpu_features(mcpu, tile):
    target = tvm.target.Target({"kind": "llvm", "mcpu": mcpu})
    tile_of = tvm_ffi.get_global_func("project_llm.codegen.tile")
    assert tuple(int(v) for v in tile_of(target)) == tile


def outlined_functions():
    mod = fused_for_codegen(block.relax_module())
    return [f for _, f in mod.functions.items() if f.attrs and "Codegen" in f.attrs]


def with_composite(func, composite: str):
    """An outlined function whose composite claims to be `composite`."""
    inner = func.body.blocks[0].bindings[0]
    blocks = [
        relax.BindingBlock(
            [
                relax.VarBinding(inner.var, inner.value.with_attr("Composite", composite)),
                *func.body.blocks[0].bindings[1:],
            ]
        )
    ]
    return relax.Function(
        func.params, relax.SeqExpr(blocks, func.body.body), func.ret_ty, func.is_pure, func.attrs
    )


def test_codegen_failure_names_the_codegen_and_the_function():
    func = outlined_functions()[0]
    symbol = str(func.attrs["global_symbol"])
    codegen = tvm.get_global_func("relax.ext.project_llm")
    with TARGET, pytest.raises(ValueError) as err:
        codegen([with_composite(func, "project_llm.conv")], {}, {})
    message = str(err.value)
    assert "relax.ext.project_llm" in message and symbol in message
    assert "unknown composite 'project_llm.conv'" in message


def test_codegen_needs_a_target():
    codegen = tvm.get_global_func("relax.ext.project_llm")
    with pytest.raises(ValueError, match="no current target"):
        codegen(outlined_functions()[:1], {}, {})


# --- FuseAddRMSNorm and project_llm.add_rms_norm --------------------------------------------


def rms_norm_ref(s, w, eps=1e-5):
    return s / np.sqrt(np.mean(s * s, axis=-1, keepdims=True) + np.float32(eps)) * w


def test_fuse_add_rms_norm_keeps_the_sum_when_it_is_used():
    add_rms_norm = op("add_rms_norm")

    @I.ir_module
    class Before:
        @R.function
        def main(
            x: R.Tensor((2, 16, 64), "float32"),
            r: R.Tensor((2, 16, 64), "float32"),
            w: R.Tensor((64,), "float32"),
        ):
            with R.dataflow():
                s = R.add(x, r)
                h = R.nn.rms_norm(s, w, axes=[-1], epsilon=1e-5)
                out = R.add(s, h)
                R.output(out)
            return out

    @I.ir_module
    class After:
        @R.function
        def main(
            x: R.Tensor((2, 16, 64), "float32"),
            r: R.Tensor((2, 16, 64), "float32"),
            w: R.Tensor((64,), "float32"),
        ):
            with R.dataflow():
                both = add_rms_norm(x, r, w, T.float32(1e-5), T.bool(True))
                s = both[0]
                h = both[1]
                out = R.add(s, h)
                R.output(out)
            return out

    tvm.ir.assert_structural_equal(make_pass("FuseAddRMSNorm")(Before), After)
    rng = np.random.default_rng(3)
    x, r = rng.standard_normal((2, 2, 16, 64), "float32")
    w = rng.standard_normal(64).astype("float32")
    expected = (x + r) + rms_norm_ref(x + r, w)
    for mod in (Before, After):  # the default pipeline fuses Before itself
        np.testing.assert_allclose(
            run_vm(compile_default(mod), "main", x, r, w), expected, rtol=1e-5, atol=1e-5
        )


def test_fuse_add_rms_norm_returns_the_norm_alone_when_the_sum_is_unused():
    add_rms_norm = op("add_rms_norm")

    @I.ir_module
    class Before:
        @R.function
        def main(
            x: R.Tensor((8, 48), "float32"),
            r: R.Tensor((8, 48), "float32"),
            w: R.Tensor((48,), "float32"),
        ):
            with R.dataflow():
                s = R.add(x, r)
                h = R.nn.rms_norm(s, w, axes=[1], epsilon=1e-6)
                R.output(h)
            return h

    @I.ir_module
    class After:
        @R.function
        def main(
            x: R.Tensor((8, 48), "float32"),
            r: R.Tensor((8, 48), "float32"),
            w: R.Tensor((48,), "float32"),
        ):
            with R.dataflow():
                h = add_rms_norm(x, r, w, T.float32(1e-6), T.bool(False))
                R.output(h)
            return h

    tvm.ir.assert_structural_equal(make_pass("FuseAddRMSNorm")(Before), After)
    # Its legalization: one call_tir of the op's own kernel.
    with TARGET:
        legal = relax.transform.LegalizeOps()(After)
    assert "R.call_tir(rms_norm_of_sum," in legal["main"].script()
    rng = np.random.default_rng(4)
    x, r = rng.standard_normal((2, 8, 48), "float32")
    w = rng.standard_normal(48).astype("float32")
    np.testing.assert_allclose(
        run_vm(compile_default(After), "main", x, r, w),
        rms_norm_ref(x + r, w, 1e-6),
        rtol=1e-5,
        atol=1e-5,
    )


def test_fuse_add_rms_norm_leaves_what_it_does_not_fuse():
    @I.ir_module
    class Module:
        @R.function
        def main(
            x: R.Tensor(("n", 64), "float32"),
            r: R.Tensor(("n", 64), "float32"),
            b: R.Tensor((64,), "float32"),
            w: R.Tensor((64,), "float32"),
            y: R.Tensor((8, 64), "float16"),
            wy: R.Tensor((64,), "float16"),
            z: R.Tensor((8, 64), "float32"),
        ):
            with R.dataflow():
                s = R.add(x, r)  # symbolic shape
                h = R.nn.rms_norm(s, w, axes=[-1], epsilon=1e-5)
                t = R.add(y, y)  # float16
                g = R.nn.rms_norm(t, wy, axes=[-1], epsilon=1e-5)
                u = R.add(z, b)  # broadcast
                k = R.nn.rms_norm(u, w, axes=[-1], epsilon=1e-5)
                q = R.nn.rms_norm(z, w, axes=[-1], epsilon=1e-5)  # no add
                R.output(h, g, k, q)
            return (h, g, k, q)

    tvm.ir.assert_structural_equal(make_pass("FuseAddRMSNorm")(Module), Module)


def test_add_rms_norm_type_inference_names_the_op():
    add_rms_norm = op("add_rms_norm")
    x = relax.Var("x", R.Tensor((4, 8), "float32"))
    w = relax.Var("w", R.Tensor((8,), "float16"))
    bb = relax.BlockBuilder()
    with bb.function("main", [x, w]):
        with pytest.raises(TypeError, match=r"add_rms_norm.*weight must have x's dtype"):
            bb.emit(add_rms_norm(x, x, w, T.float32(1e-5), T.bool(False)))
        bb.emit_func_output(x)


# --- FuseTransposeMatmul and project_llm.matmul_nt -----------------------------------------


def test_fuse_transpose_matmul_is_right_without_the_codegen():
    matmul_nt = op("matmul_nt")

    @I.ir_module
    class Before:
        @R.function
        def main(
            x: R.Tensor((1, 16, 64), "float32"),
            w: R.Tensor((48, 64), "float32"),
            v: R.Tensor((2, 48, 64), "float32"),
        ):
            with R.dataflow():
                y = R.matmul(x, R.permute_dims(w, axes=[1, 0]))
                z = R.matmul(x, R.permute_dims(v, axes=[0, 2, 1]))  # a batched weight: not
                R.output(y, z)
            return (y, z)

    @I.ir_module
    class Expected:
        @R.function
        def main(
            x: R.Tensor((1, 16, 64), "float32"),
            w: R.Tensor((48, 64), "float32"),
            v: R.Tensor((2, 48, 64), "float32"),
        ):
            with R.dataflow():
                y = matmul_nt(x, w)
                lv = R.permute_dims(v, axes=[0, 2, 1])
                z = R.matmul(x, lv)
                R.output(y, z)
            return (y, z)

    fused = make_pass("FuseTransposeMatmul")(Before)
    tvm.ir.assert_structural_equal(fused, Expected)
    # The codegen's patterns do not see the fused matmul: it runs as the op's own kernel.
    with TARGET:
        offloaded = make_pass("OffloadMatmul")(fused)
        legal = relax.transform.LegalizeOps()(fused)
    assert "R.call_dps_packed(" not in offloaded["main"].script()
    assert "R.call_tir(matmul_nt," in legal["main"].script()
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((1, 16, 64), "float32"), rng.standard_normal((48, 64), "float32")
    v = rng.standard_normal((2, 48, 64), "float32")
    lib = tvm.compile(fused, target=TARGET, relax_pipeline="default_build")
    y, z = run_vm(lib, "main", x, w, v)
    np.testing.assert_allclose(y, x @ w.T, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(z, x @ v.transpose(0, 2, 1), rtol=1e-4, atol=1e-4)


def test_matmul_nt_on_symbolic_shapes_and_float16_legalizes_to_tvms_ops():
    matmul_nt = op("matmul_nt")

    @I.ir_module
    class Module:
        @R.function
        def main(
            x: R.Tensor(("n", 32), "float32"),
            w: R.Tensor((16, 32), "float32"),
            h: R.Tensor((4, 32), "float16"),
            v: R.Tensor((16, 32), "float16"),
        ):
            with R.dataflow():
                y = matmul_nt(x, w)
                g = matmul_nt(h, v)
                R.output(y, g)
            return (y, g)

    rng = np.random.default_rng(6)
    x, w = rng.standard_normal((3, 32), "float32"), rng.standard_normal((16, 32), "float32")
    h, v = x[:1].repeat(4, 0).astype("float16"), w.astype("float16")
    y, g = run_vm(compile_default(Module), "main", x, w, h, v)
    np.testing.assert_allclose(y, x @ w.T, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(g, h @ v.T, rtol=1e-2, atol=1e-1)


# --- CleanUpTIRAttrs ----------------------------------------------------------------------------


def test_clean_up_tir_attrs_removes_the_given_attributes():
    @I.ir_module
    class Before:
        @T.prim_func
        def kernel(a: T.Buffer((4,), "float32"), b: T.Buffer((4,), "float32")):
            T.func_attr({"op_pattern": 0, "tirx.is_scheduled": True, "tirx.noalias": True})
            for i in range(4):
                b[i] = a[i] * T.float32(2)

        @T.prim_func
        def other(a: T.Buffer((4,), "float32")):
            T.func_attr({"op_pattern": 8})
            for i in range(4):
                a[i] = T.float32(0)

    @I.ir_module
    class After:
        @T.prim_func
        def kernel(a: T.Buffer((4,), "float32"), b: T.Buffer((4,), "float32")):
            T.func_attr({"tirx.noalias": True})
            for i in range(4):
                b[i] = a[i] * T.float32(2)

        @T.prim_func
        def other(a: T.Buffer((4,), "float32")):
            for i in range(4):
                a[i] = T.float32(0)

    cleaned = make_pass("CleanUpTIRAttrs", ["op_pattern", "tirx.is_scheduled"])(Before)
    tvm.ir.assert_structural_equal(cleaned, After)
    assert cleaned["kernel"].attrs["tirx.noalias"]
    untouched = make_pass("CleanUpTIRAttrs", ["not_there"])(Before)
    tvm.ir.assert_structural_equal(untouched, Before)
    lib = tvm.compile(cleaned, target=TARGET)
    a, b = np.arange(4, dtype="float32"), np.zeros(4, "float32")
    ta, tb = tvm.runtime.tensor(a), tvm.runtime.tensor(b)
    lib["kernel"](ta, tb)
    np.testing.assert_allclose(tb.numpy(), a * 2)


# --- ScheduleCPUKernels -----------------------------------------------------------------------


def test_schedule_cpu_kernels_parallelizes_and_vectorizes_legalized_ops():
    @I.ir_module
    class Module:
        @R.function
        def main(x: R.Tensor((4, 128, 256), "float32")):
            with R.dataflow():
                s = R.nn.silu(x)
                p = R.nn.softmax(s, axis=-1)
                R.output(p)
            return p

    with TARGET:
        legal = relax.transform.LegalizeOps()(Module)
        scheduled = make_pass("ScheduleCPUKernels")(legal)
    silu, softmax = scheduled["silu"].script(), scheduled["softmax"].script()
    assert "T.parallel" in silu and "T.vectorized" in silu
    assert softmax.count("T.parallel") == 1 and "T.vectorized" in softmax  # one row loop
    assert "compute" not in silu  # the sigmoid is inlined into the multiply
    # Each kernel alone against numpy.
    x = np.random.default_rng(7).standard_normal((4, 128, 256)).astype("float32")
    silu_ref = x / (1 + np.exp(-x))
    e = np.exp(silu_ref - silu_ref.max(-1, keepdims=True))
    np.testing.assert_allclose(
        run_vm(compile_default(Module), "main", x), e / e.sum(-1, keepdims=True), rtol=1e-5,
        atol=1e-6,
    )  # fmt: skip
    for name in ("silu", "softmax"):
        kernel = scheduled[name].with_attr("global_symbol", name)
        lib = tvm.compile(tvm.IRModule({name: kernel}), target=TARGET)
        out = tvm.runtime.tensor(np.zeros_like(x))
        lib[name](tvm.runtime.tensor(x if name == "silu" else silu_ref), out)
        want = silu_ref if name == "silu" else e / e.sum(-1, keepdims=True)
        np.testing.assert_allclose(out.numpy(), want, rtol=1e-5, atol=1e-6)


def test_schedule_cpu_kernels_leaves_scheduled_and_symbolic_kernels():
    @I.ir_module
    class Module:
        @T.prim_func(s_tir=True)
        def done(a: T.Buffer((1024, 1024), "float32"), b: T.Buffer((1024, 1024), "float32")):
            T.func_attr({"tirx.is_scheduled": True})
            for i, j in T.grid(1024, 1024):
                with T.sblock("b"):
                    vi, vj = T.axis.remap("SS", [i, j])
                    b[vi, vj] = a[vi, vj]

        @T.prim_func(s_tir=True)
        def symbolic(var_a: T.handle, var_b: T.handle):
            n = T.int64()
            a = T.match_buffer(var_a, (n, 64), "float32")
            b = T.match_buffer(var_b, (n, 64), "float32")
            for i, j in T.grid(n, 64):
                with T.sblock("b"):
                    vi, vj = T.axis.remap("SS", [i, j])
                    b[vi, vj] = a[vi, vj]

    with TARGET:
        tvm.ir.assert_structural_equal(make_pass("ScheduleCPUKernels")(Module), Module)
    # No target, or not a CPU one: nothing to do.
    tvm.ir.assert_structural_equal(make_pass("ScheduleCPUKernels")(Module), Module)


# --- the package -----------------------------------------------------------------------------


def test_python_package_adds_names_only(llm):
    assert llm.extension.name == "project_llm"
    assert llm.extension.relax_ops == ["project_llm.add_rms_norm", "project_llm.matmul_nt"]
    assert [p.name for p in llm.patterns()] == ["project_llm.dense", "project_llm.batch_matmul"]
    assert llm.transform.FuseAddRMSNorm().info.name == "project_llm.transform.FuseAddRMSNorm"
    assert isinstance(llm.offload(), tvm.transform.Pass)


def test_example_builds_as_a_wheel_from_its_directory(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-build-isolation", "--no-deps",
         "-w", str(tmp_path), str(EXAMPLE)],
        capture_output=True, text=True, timeout=900,
        env=dict(os.environ, CMAKE_BUILD_PARALLEL_LEVEL="1"),
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    [wheel] = tmp_path.glob("project_llm-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        entry = zf.read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
        meta = zf.read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert "project_llm/libproject_llm.so" in names
    assert "project_llm/__init__.py" in names and "project_llm/transform.py" in names
    assert "project_llm = tvm_extend.autoloader:project_llm" in entry
    assert "Requires-Dist: project-a" in meta
