"""Relax passes from C++ (tests/extensions/relax_ext.cc, relax_contrib.cc): function,
dataflow-block and module passes checked as TVMScript before/after and by running them on
relax.VirtualMachine against numpy; types of rewritten calls; the passes in TVM's Relax
pipelines (tvm_extend.pipeline with ir="relax"), as tvm.compile runs them."""

from __future__ import annotations

import numpy as np
import pytest
import tvm
from tvm import relax
from tvm.script import ir as I  # noqa: N812
from tvm.script import relax as R  # noqa: N812

import tvm_extend
from conftest import pass_recorder, run_python
from tvm_extend import pipeline

pytestmark = pytest.mark.skipif(
    tvm.__version__.startswith("0.26"),
    reason="the Relax functors and passes are written against TVM 0.27's unified IR",
)


@pytest.fixture(scope="module")
def ext(test_extensions):
    return tvm_extend.load_extension(str(test_extensions / "librelax_ext.so"))


def run(mod, *args, **compile_args):
    vm = relax.VirtualMachine(tvm.compile(mod, target="llvm", **compile_args), tvm.cpu())
    return vm["main"](*[tvm.runtime.tensor(a) for a in args]).numpy()


X = np.random.default_rng(1).standard_normal(8).astype("float32")


@I.ir_module
class AddSelf:
    @R.function
    def main(x: R.Tensor((8,), "float32")) -> R.Tensor((8,), "float32"):
        with R.dataflow():
            y = R.add(x, x)
            z = R.exp(y)
            w = R.add(z, y)
            R.output(w)
        return w


def test_function_pass_rewrites_add_of_itself(ext):
    @I.ir_module
    class Expected:
        @R.function
        def main(x: R.Tensor((8,), "float32")) -> R.Tensor((8,), "float32"):
            with R.dataflow():
                y = R.multiply(x, R.const(2, "float32"))
                z = R.exp(y)
                w = R.add(z, y)
                R.output(w)
            return w

    after = ext["transform.AddSelfToMultiply"]()(AddSelf)
    tvm.ir.assert_structural_equal(after, Expected)
    assert isinstance(ext["transform.AddSelfToMultiply"](), relax.transform.FunctionPass)
    expected = np.exp(X + X) + (X + X)
    np.testing.assert_allclose(run(after, X), expected, rtol=1e-5)
    np.testing.assert_allclose(run(AddSelf, X), expected, rtol=1e-5)


@I.ir_module
class Branches:
    @R.function
    def main(x: R.Tensor((4,), "float32"), flag: R.Tensor((), "bool")) -> R.Tensor((4,), "float32"):
        a = R.add(x, x)
        b = a
        if flag:
            c = R.add(b, b)
            r = c
        else:
            r = R.exp(b)
        with R.dataflow():
            d = R.match_cast(r, R.Tensor((4,), "float32"))
            e = R.add(d, x)
            R.output(e)
        return e


def test_function_pass_through_branches_blocks_and_match_cast(ext):
    @I.ir_module
    class Expected:
        @R.function
        def main(x: R.Tensor((4,), "float32"), flag: R.Tensor((), "bool")) -> R.Tensor(
            (4,), "float32"
        ):
            a = R.multiply(x, R.const(2, "float32"))
            b = a
            if flag:
                c = R.multiply(b, R.const(2, "float32"))
                r = c
            else:
                r = R.exp(b)
            with R.dataflow():
                d = R.match_cast(r, R.Tensor((4,), "float32"))
                e = R.add(d, x)
                R.output(e)
            return e

    after = ext["transform.AddSelfToMultiply"]()(Branches)
    tvm.ir.assert_structural_equal(after, Expected)
    relax.analysis.well_formed(after)
    x = X[:4]
    for flag in (True, False):
        vm = relax.VirtualMachine(tvm.compile(after, target="llvm"), tvm.cpu())
        out = vm["main"](tvm.runtime.tensor(x), tvm.runtime.tensor(np.array(flag))).numpy()
        r = (x + x) * 2 if flag else np.exp(x + x)
        np.testing.assert_allclose(out, r + x, rtol=1e-5)


def test_rewrite_that_changes_dtype_retypes_every_later_use(ext):
    """R.add in float16: the bindings after it and the function's result become float16,
    as TVM's type inference says, through the BlockBuilder."""

    @I.ir_module
    class Expected:
        @R.function
        def main(x: R.Tensor((8,), "float32")) -> R.Tensor((8,), "float16"):
            with R.dataflow():
                lv = R.astype(x, "float16")
                lv1 = R.astype(x, "float16")
                y = R.add(lv, lv1)
                z = R.exp(y)
                w = R.add(z, y)  # both float16 now: no cast
                R.output(w)
            return w

    after = ext["transform.DemoteAddToFloat16"]()(AddSelf)
    tvm.ir.assert_structural_equal(after, Expected)
    type_of = tvm.get_global_func("relax_ext.type_of_binding")
    tvm.ir.assert_structural_equal(type_of(after["main"], "w"), R.Tensor((8,), "float16"))
    tvm.ir.assert_structural_equal(after["main"].ret_ty, R.Tensor((8,), "float16"))
    relax.analysis.well_formed(after)
    out = run(after, X)
    assert out.dtype == np.float16
    half = X.astype("float16")
    y = half + half
    np.testing.assert_allclose(out, np.exp(y) + y, rtol=2e-2)


@I.ir_module
class DoubleNegate:
    @R.function
    def main(x: R.Tensor((8,), "float32")) -> R.Tensor((8,), "float32"):
        with R.dataflow():
            a = R.negative(x)
            b = R.negative(a)
            c = R.exp(b)
            R.output(c)
        return c


def test_dataflow_block_pass(ext):
    @I.ir_module
    class Expected:
        @R.function
        def main(x: R.Tensor((8,), "float32")) -> R.Tensor((8,), "float32"):
            with R.dataflow():
                a = R.negative(x)  # noqa: F841  (kept: the pass does not remove dead code)
                b = x
                c = R.exp(b)
                R.output(c)
            return c

    made = ext["transform.FoldDoubleNegate"]()
    assert isinstance(made, relax.transform.DataflowBlockPass)
    after = made(DoubleNegate)
    tvm.ir.assert_structural_equal(after, Expected)
    np.testing.assert_allclose(run(after, X), np.exp(X), rtol=1e-6)


def test_module_pass(ext):
    @I.ir_module
    class Expected:
        @R.function
        def main(x: R.Tensor((8,), "float32")) -> R.Tensor((8,), "float32"):
            R.func_attr({"relax_ext.num_bindings": 3})
            with R.dataflow():
                y = R.multiply(x, R.const(2, "float32"))
                z = R.exp(y)
                w = R.add(z, y)
                R.output(w)
            return w

    made = ext["transform.TagAndRewrite"]()
    assert isinstance(made, tvm.transform.ModulePass)
    after = made(AddSelf)
    tvm.ir.assert_structural_equal(after, Expected)
    np.testing.assert_allclose(run(after, X), np.exp(X + X) + (X + X), rtol=1e-5)


def test_pass_that_throws_names_the_pass(ext):
    with pytest.raises(
        RuntimeError,
        match=r"pass relax_ext\.transform\.Throws failed: the "
        r"rewrite met something it cannot handle \(std::runtime_error\)",
    ):
        ext["transform.Throws"]()(AddSelf)
    with pytest.raises(
        ValueError,
        match=r"pass relax_ext\.transform\.ModuleThrows failed: "
        "no main function",
    ):
        ext["transform.ModuleThrows"]()(AddSelf)
    with pytest.raises(
        TypeError,
        match=r"pass relax_ext\.transform\.ReturnsModule returned "
        r"ir\.IRModule; a Relax function pass must return what it was given",
    ):
        ext["transform.ReturnsModule"]()(AddSelf)


def names_run(mod, **compile_args) -> list[str]:
    names: list[str] = []
    with tvm.transform.PassContext(instruments=[pass_recorder(names)()]):
        tvm.compile(mod, target="llvm", **compile_args)
    return names


def test_derived_relax_pipeline(ext):
    derived = pipeline.register(
        "relax_ext_pipeline",
        insert=[pipeline.before("LegalizeOps", "relax_ext.transform.AddSelfToMultiply")],
        ir="relax",
    )
    try:
        assert derived.ir == "relax"
        listing = pipeline.describe("relax_ext_pipeline", ir="relax")
        mine = ("relax_ext.transform.AddSelfToMultiply", "pipeline 'relax_ext_pipeline'")
        at = listing.index(mine)
        assert listing[at + 1] == ("LegalizeOps", "TVM")
        names = names_run(AddSelf, relax_pipeline="relax_ext_pipeline")
        assert names.index("relax_ext.transform.AddSelfToMultiply") < names.index("LegalizeOps")
        np.testing.assert_allclose(
            run(AddSelf, X, relax_pipeline="relax_ext_pipeline"),
            np.exp(X + X) + (X + X),
            rtol=1e-5,
        )
    finally:
        pipeline.unregister("relax_ext_pipeline", ir="relax")
    assert "relax_ext_pipeline" not in relax.pipeline.PIPELINE_MAP


def test_contribution_to_the_default_relax_pipeline(ext):
    """A plain tvm.compile(relax_mod, target="llvm") runs what is contributed, after its
    anchor; withdrawing puts TVM's pipeline back."""
    original = relax.pipeline.PIPELINE_MAP["default"]
    # Installed extensions (examples/project_llm) may contribute too, as `import tvm` loads them.
    before, before_tir = pipeline.contributors(ir="relax"), pipeline.contributors()
    pipeline.contribute(
        "relax_ext",
        [pipeline.after("LegalizeOps", "relax_ext.transform.DemoteAddToFloat16")],
        ir="relax",
    )
    try:
        assert sorted(pipeline.contributors(ir="relax")) == sorted([*before, "relax_ext"])
        assert pipeline.contributors() == before_tir  # the TIR pipeline is another one
        listing = pipeline.describe(ir="relax")
        at = listing.index(("LegalizeOps", "TVM"))
        assert listing[at + 1] == ("relax_ext.transform.DemoteAddToFloat16", "relax_ext")
        names = names_run(AddSelf)
        assert names.index("LegalizeOps") < names.index("relax_ext.transform.DemoteAddToFloat16")
    finally:
        pipeline.withdraw("relax_ext", ir="relax")
    assert relax.pipeline.PIPELINE_MAP["default"] is original
    assert "relax_ext.transform.DemoteAddToFloat16" not in names_run(AddSelf)


def test_contribution_runs_before_legalization_and_changes_the_result(ext):
    """Before LegalizeOps, the float16 rewrite decides what TIR is made: the compiled main
    returns float16."""
    pipeline.contribute(
        "relax_ext",
        [pipeline.before("LegalizeOps", "relax_ext.transform.DemoteAddToFloat16")],
        ir="relax",
    )
    try:
        out = run(AddSelf, X)
    finally:
        pipeline.withdraw("relax_ext", ir="relax")
    assert out.dtype == np.float16
    assert run(AddSelf, X).dtype == np.float32


def test_remove_and_replace_in_a_relax_pipeline(ext):
    pipeline.contribute(
        "a",
        [
            pipeline.remove("KillAfterLastUse"),
            pipeline.replace("RewriteDataflowReshape", "relax_ext.transform.AddSelfToMultiply"),
        ],
        ir="relax",
    )
    try:
        listing = dict(pipeline.describe(ir="relax"))
        assert listing["KillAfterLastUse"] == "removed by a"
        replaced = listing["relax_ext.transform.AddSelfToMultiply"]
        assert replaced == "a (replaces RewriteDataflowReshape)"
        names = names_run(AddSelf)
        assert "KillAfterLastUse" not in names and "RewriteDataflowReshape" not in names
        with pytest.raises(tvm_extend.PipelineError, match="'a' already removes it"):
            pipeline.contribute("b", [pipeline.remove("KillAfterLastUse")], ir="relax")
        np.testing.assert_allclose(run(AddSelf, X), np.exp(X + X) + (X + X), rtol=1e-5)
    finally:
        pipeline.withdraw("a", ir="relax")
    assert "KillAfterLastUse" in names_run(AddSelf)


def test_bad_anchor_and_unknown_relax_pipeline(ext):
    before = pipeline.contributors(ir="relax")
    with pytest.raises(
        tvm_extend.PipelineError, match=r"'NoSuchPass'.*Its passes are:.*LegalizeOps"
    ):
        pipeline.contribute(
            "x",
            [pipeline.after("NoSuchPass", "relax_ext.transform.AddSelfToMultiply")],
            ir="relax",
        )
    assert pipeline.contributors(ir="relax") == before
    with pytest.raises(tvm_extend.PipelineError, match="unknown Relax pipeline 'nope'"):
        pipeline.contribute("x", [], pipeline="nope", ir="relax")
    with pytest.raises(tvm_extend.PipelineError, match="unknown base Relax pipeline 'nope'"):
        pipeline.register("x", base="nope", ir="relax")
    with pytest.raises(tvm_extend.PipelineError, match="unknown IR 'mlir'"):
        pipeline.describe(ir="mlir")


DECLARED = """
import numpy as np, tvm, tvm_extend
from tvm import relax
from tvm_extend import pipeline
bb = relax.BlockBuilder()
x = relax.Var("x", relax.TensorType((8,), "float32"))
with bb.function("main", [x]):
    with bb.dataflow():
        y = bb.emit_output(relax.op.multiply(x, x))
    bb.emit_func_output(y)
mod = bb.get()
installed = set(pipeline.contributors(ir="relax"))  # extensions `import tvm` loaded
ext = tvm_extend.load_extension({lib!r})
print("declared", [sorted(c.items()) for c in ext.contributions],
      [f for f in ext.functions if "pipeline" in f])
print("describe", [e for e in pipeline.describe(ir="relax") if e[1] not in installed | {{"TVM"}}])
runs = tvm.get_global_func("relax_contrib.runs")
ex = tvm.compile(mod, target="llvm")   # a plain tvm.compile: no pipeline named
vm = relax.VirtualMachine(ex, tvm.cpu())
data = np.arange(8, dtype="float32")
print("ran", runs(), np.allclose(vm["main"](tvm.runtime.tensor(data)).numpy(), data * data))
tvm_extend.unload_extension("relax_contrib")
print("after-unload", [c for c in pipeline.contributors(ir="relax") if c not in installed])
"""


def test_extension_declares_its_place_in_the_default_pipeline(test_extensions):
    """TVM_EXTEND_CONTRIBUTE_PASS: loading the extension (as `import tvm` does for installed
    ones) puts its pass into TVM's default Relax pipeline; unloading withdraws it."""
    done = run_python(DECLARED.format(lib=str(test_extensions / "librelax_contrib.so")))
    assert done.returncode == 0, done.stderr
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines())
    declared = {
        "pass": "relax_contrib.transform.SquareToPower",
        "ir": "relax",
        "pipeline": "default",
        "where": "before",
        "anchor": "LegalizeOps",
    }
    assert lines["declared"] == f"{[sorted(declared.items())]} []"
    assert lines["describe"] == "[('relax_contrib.transform.SquareToPower', 'relax_contrib')]"
    assert lines["ran"] == "1 True"
    assert lines["after-unload"] == "[]"


def test_declared_contribution_with_a_missing_anchor_refuses_the_load(test_extensions):
    code = """
import tvm, tvm_ffi, tvm_extend
try:
    tvm_extend.load_extension({lib!r})
except tvm_extend.PipelineError as err:
    print("refused:", err)
print("left:", tvm_ffi.get_global_func("relax_contrib_bad.transform.SquareToPower",
                                       allow_missing=True))
""".format(lib=str(test_extensions / "librelax_contrib_bad.so"))
    done = run_python(code)
    assert done.returncode == 0, done.stderr
    assert "refused: extension 'relax_contrib_bad':" in done.stdout
    assert "'NoSuchPass'" in done.stdout and "LegalizeOps" in done.stdout
    assert "left: None" in done.stdout
