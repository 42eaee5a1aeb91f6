"""examples/project_llm: a transformer block compiled by tvm.compile with and without
project_llm gives numpy's result; its matmuls are offloaded to relax.ext.project_llm (the
outlined functions and the external calls counted in the Relax module); the codegen's tile
follows the CPU's features; bad input to the codegen is named; the example builds as a wheel
from its directory."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import tvm
from tvm import relax
from tvm.script import ir as I
from tvm.script import relax as R

from conftest import ROOT

project_llm = pytest.importorskip("project_llm")

EXAMPLE = ROOT / "examples" / "project_llm"


def load_block():
    path = EXAMPLE / "transformer_block.py"
    spec = importlib.util.spec_from_file_location("transformer_block", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


block = load_block()
TARGET = tvm.target.Target.from_device(tvm.cpu())
DENSE, BATCH = 5, 2  # the block's projections (qkv, o, gate, up, down) and attention's matmuls


def run_block(executable) -> tuple[np.ndarray, np.ndarray]:
    vm = relax.VirtualMachine(executable, tvm.cpu())
    args = block.inputs()
    return vm["forward"](*[tvm.runtime.tensor(a) for a in args]).numpy(), block.reference(*args)


def test_block_with_project_llm_gives_numpys_result():
    out, ref = run_block(tvm.compile(block.relax_module(), target=TARGET))
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())


def test_block_without_project_llm_gives_numpys_result():
    """TVM alone (no extension autoloaded, project_llm not imported), in a fresh process."""
    code = f"""
import importlib.util, numpy as np, sys, tvm
from tvm import relax
spec = importlib.util.spec_from_file_location("b", {str(EXAMPLE / "transformer_block.py")!r})
b = importlib.util.module_from_spec(spec); spec.loader.exec_module(b)
assert "project_llm" not in sys.modules
lib = tvm.compile(b.relax_module(), target=tvm.target.Target.from_device(tvm.cpu()))
text = b.relax_module().script()
vm = relax.VirtualMachine(lib, tvm.cpu())
args = b.inputs()
out = vm["forward"](*[tvm.runtime.tensor(a) for a in args]).numpy()
ref = b.reference(*args)
np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())
print("external modules:", len(lib.mod.imports[0].imports) if lib.mod.imports else 0)
"""
    env = dict(os.environ, TVM_EXTEND_NO_AUTOLOAD="1")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr[-3000:]


def offloaded(mod: tvm.IRModule) -> tvm.IRModule:
    with TARGET:
        return project_llm.offload()(mod)


def test_patterns_outline_every_matmul_for_the_codegen():
    from tvm.relax.backend.pattern_registry import get_patterns_with_prefix

    fuse = relax.transform.FuseOpsByPattern(
        get_patterns_with_prefix("project_llm"), bind_constants=False, annotate_codegen=True
    )
    mod = fuse(block.relax_module())
    # Outlined functions of the same shapes are one function called twice (gate and up).
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


def test_matmuls_are_offloaded_to_one_external_module():
    mod = offloaded(block.relax_module())
    text = mod["forward"].script()
    assert "R.matmul" not in text
    assert text.count("R.call_dps_packed(") == DENSE + BATCH
    [external] = mod.attrs["external_mods"]
    symbols = [
        line.split('R.call_dps_packed("')[1].split('"')[0]
        for line in text.splitlines()
        if "R.call_dps_packed(" in line
    ]
    assert len(set(symbols)) == DENSE + BATCH - 1  # gate and up share one kernel
    assert all(external.implements_function(s) for s in symbols), symbols
    # The outlined functions are gone from the module: only forward remains.
    assert [gv.name_hint for gv in mod.get_global_vars()] == ["forward"]


def test_plain_tvm_compile_uses_project_llm():
    """Imported, project_llm joins TVM's default Relax pipeline (the one tvm.compile uses)."""
    with TARGET:
        mod = relax.get_pipeline("default")(block.relax_module())
    assert len(mod.attrs["external_mods"]) == 1
    assert "matmul" not in " ".join(gv.name_hint for gv in mod.get_global_vars())


def test_a_private_function_without_matmuls_compiles_as_without_project_llm():
    """Joined to the default pipeline, project_llm keeps every Relax function of a module: a
    private `main` too, which RunCodegen's dead-code elimination drops unless it is an entry."""

    @R.function(private=True)
    def main(x: R.Tensor((8,), "float32")):
        with R.dataflow():
            y = R.add(x, x)
            R.output(y)
        return y

    mod = tvm.IRModule({"main": main})
    assert [gv.name_hint for gv in offloaded(mod).get_global_vars()] == ["main"]
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
        ):
            with R.dataflow():
                y = R.matmul(x, R.permute_dims(w))  # offloaded: dense
                z = R.matmul(h, R.permute_dims(v))  # float16: not
                u = R.matmul(x, b)  # no transposed weight, no batch: not
                R.output(y, z, u)
            return (y, z, u)

    mod = offloaded(Module)
    text = mod["main"].script()
    assert text.count("R.call_dps_packed(") == 1
    assert text.count("R.matmul(") == 2
    lib = tvm.compile(Module, target=TARGET)
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((32, 64), "float32"), rng.standard_normal((48, 64), "float32")
    h, v = x.astype("float16"), w.astype("float16")
    b = rng.standard_normal((64, 48), "float32")
    vm = relax.VirtualMachine(lib, tvm.cpu())
    y, _, u = vm["main"](*[tvm.runtime.tensor(a) for a in (x, w, h, v, b)])
    np.testing.assert_allclose(y.numpy(), x @ w.T, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(u.numpy(), x @ b, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    ("mcpu", "tile"),
    [("skylake-avx512", (8, 16)), ("haswell", (8, 8)), ("nehalem", (4, 4))],
)
def test_tile_follows_the_cpu_features(mcpu, tile):
    target = tvm.target.Target({"kind": "llvm", "mcpu": mcpu})
    assert tuple(int(v) for v in project_llm.extension["codegen.tile"](target)) == tile


def outlined_functions():
    from tvm.relax.backend.pattern_registry import get_patterns_with_prefix

    fuse = relax.transform.FuseOpsByPattern(
        get_patterns_with_prefix("project_llm"), bind_constants=False, annotate_codegen=True
    )
    mod = fuse(block.relax_module())
    return [f for _, f in mod.functions.items() if f.attrs and "Codegen" in f.attrs]


def test_codegen_failure_names_the_codegen_and_the_function():
    func = outlined_functions()[0]
    symbol = str(func.attrs["global_symbol"])
    inner = func.body.blocks[0].bindings[0]
    renamed = relax.Function(
        func.params,
        relax.SeqExpr(
            [
                relax.BindingBlock(
                    [
                        relax.VarBinding(
                            inner.var, inner.value.with_attr("Composite", "project_llm.conv")
                        ),
                        *func.body.blocks[0].bindings[1:],
                    ]
                )
            ],
            func.body.body,
        ),
        func.ret_ty,
        func.is_pure,
        func.attrs,
    )
    codegen = tvm.get_global_func("relax.ext.project_llm")
    with TARGET, pytest.raises(ValueError) as err:
        codegen([renamed], {}, {})
    message = str(err.value)
    assert "codegen project_llm" in message and symbol in message
    assert "unknown composite 'project_llm.conv'" in message


def test_codegen_needs_a_target():
    codegen = tvm.get_global_func("relax.ext.project_llm")
    with pytest.raises(ValueError, match="no current target"):
        codegen(outlined_functions()[:1], {}, {})


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
    assert "project_llm/__init__.py" in names
    assert "project_llm = tvm_extend.autoloader:project_llm" in entry
    assert "Requires-Dist: project-a" in meta
