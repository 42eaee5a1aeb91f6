"""Owned overrides of TVM's behaviour: attributes and lowerings of TVM's own ops, passes of TVM's
pipelines replaced or removed, builtins with TVM's call effects. Each has an owner, a second
owner is refused naming both, and taking it back restores what TVM had."""

import numpy as np
import pytest
import tvm
import tvm_ffi
from tvm.script import tirx as T

import tvm_extend
from conftest import pass_recorder, run_python
from tvm_extend import pipeline

OP_GET_ATTR = tvm.get_global_func("ir.OpGetAttr")
EXP_LOWERING = "tirx.exp[llvm.FLowerIntrinsic]"


def attr(op: str, key: str):
    return OP_GET_ATTR(tvm.ir.Op.get(op), key)


def loaded(name: str) -> bool:
    return any(e.name == name and e.active for e in tvm_extend.list_extensions())


@pytest.fixture
def ext(test_extensions):
    """Loads test extension lib<name>.so; whatever the test loaded is unloaded after it."""

    def load(library: str):
        return tvm_extend.load_extension(str(test_extensions / f"lib{library}.so"))

    yield load
    for name in (
        "override_a",
        "override_b",
        "override_throws",
        "override_missing",
        "override_foreign",
    ):
        if loaded(name):
            tvm_extend.unload_extension(name)


@T.prim_func
def exp_kernel(A: T.Buffer((8,), "float32"), B: T.Buffer((8,), "float32")):
    for i in range(8):
        B[i] = T.exp(A[i])


def run_exp() -> np.ndarray:
    """exp_kernel compiled for llvm, run on 0..7."""
    lib = tvm.compile(exp_kernel, target="llvm")
    b = tvm.runtime.tensor(np.zeros(8, "float32"))
    lib["exp_kernel"](tvm.runtime.tensor(np.arange(8, dtype="float32")), b)
    return b.numpy()


EXP = np.exp(np.arange(8, dtype="float32"))


# --- attributes and lowerings of TVM's ops ---------------------------------------------------


def test_a_lowering_override_changes_codegen_and_unload_restores_tvms(ext):
    tvms = attr("tirx.exp", "llvm.FLowerIntrinsic")
    np.testing.assert_allclose(run_exp(), EXP, rtol=1e-5)
    a = ext("override_a")
    assert a.overrides == [("tirx.exp", "llvm.FLowerIntrinsic"), ("tirx.atan", "TVectorizable")]
    assert {r.kind for r in a.registrations} == {"function", "op_override"}
    assert "override_a" in tvm_extend.describe_owner(EXP_LOWERING)
    # The extension's lowering (x + 100) is what LLVM code generation uses now.
    np.testing.assert_array_equal(run_exp(), np.arange(8) + 100)
    tvm_extend.unload_extension("override_a")
    # TVM's own lowering object is back, and the same kernel computes exp again.
    assert attr("tirx.exp", "llvm.FLowerIntrinsic").same_as(tvms)
    np.testing.assert_allclose(run_exp(), EXP, rtol=1e-5)
    assert tvm_extend.describe_owner(EXP_LOWERING) == ""


def test_a_value_override_is_reset_when_tvm_had_none(ext):
    assert attr("tirx.atan", "TVectorizable") is None
    ext("override_a")
    assert attr("tirx.atan", "TVectorizable") is True
    tvm_extend.unload_extension("override_a")
    assert attr("tirx.atan", "TVectorizable") is None


def test_two_extensions_overriding_one_attribute_the_second_is_refused(ext):
    ext("override_a")
    with pytest.raises(tvm_extend.DuplicateRegistrationError) as info:
        ext("override_b")
    message = str(info.value)
    assert (
        "the attribute 'llvm.FLowerIntrinsic' of the op 'tirx.exp' is already overridden by "
        "extension 'override_a' 1.0.0" in message
    )
    assert "extension 'override_b' 1.0.0" in message and "override.cc:" in message
    assert "liboverride_a.so" in message and "liboverride_b.so" in message
    # Nothing of the refused extension is registered; the first one's lowering stays.
    assert tvm_ffi.get_global_func("override_b.added", allow_missing=True) is None
    np.testing.assert_array_equal(run_exp(), np.arange(8) + 100)
    # Once the first owner is gone, the second may override it.
    tvm_extend.unload_extension("override_a")
    ext("override_b")
    np.testing.assert_array_equal(run_exp(), np.arange(8) + 7)
    tvm_extend.unload_extension("override_b")
    np.testing.assert_allclose(run_exp(), EXP, rtol=1e-5)


def test_an_override_of_an_op_tvm_does_not_have_is_refused(ext):
    with pytest.raises(tvm_extend.ExtensionLoadError) as info:
        ext("override_missing")
    message = str(info.value)
    assert "overrides the attribute 'TVectorizable' of the op 'tirx.no_such_op'" in message
    assert "TVM has no op 'tirx.no_such_op'" in message and "override_missing.cc:7" in message
    assert not loaded("override_missing")


def test_an_override_of_an_extensions_op_is_refused(ext, test_extensions):
    # ops_ext registers the op ops_ext.fma: its attributes are its own OpSpec's.
    if not loaded("ops_ext"):
        tvm_extend.load_extension(str(test_extensions / "libops_ext.so"))
    with pytest.raises(tvm_extend.DuplicateRegistrationError) as info:
        ext("override_foreign")
    message = str(info.value)
    assert "overrides the attribute 'TVectorizable' of the op 'ops_ext.fma'" in message
    assert "that op belongs to extension 'ops_ext' 1.0.0" in message
    assert attr("ops_ext.fma", "TVectorizable") is None


def test_reload_takes_the_override_over_and_one_without_it_restores_tvms(ext, test_extensions):
    tvms = attr("tirx.exp", "llvm.FLowerIntrinsic")
    ext("override_a")
    tvm_extend.reload_extension("override_a", str(test_extensions / "liboverride_a2.so"))
    np.testing.assert_array_equal(run_exp(), np.arange(8) + 200)
    assert "liboverride_a2.so" in tvm_extend.describe_owner(EXP_LOWERING)
    # A build without the overrides: TVM's lowering and attribute come back.
    tvm_extend.reload_extension("override_a", str(test_extensions / "liboverride_a_none.so"))
    assert attr("tirx.exp", "llvm.FLowerIntrinsic").same_as(tvms)
    assert attr("tirx.atan", "TVectorizable") is None
    np.testing.assert_allclose(run_exp(), EXP, rtol=1e-5)
    tvm_extend.reload_extension("override_a", str(test_extensions / "liboverride_a.so"))
    np.testing.assert_array_equal(run_exp(), np.arange(8) + 100)


def test_a_throwing_lowering_is_an_error_naming_the_override(ext):
    @T.prim_func
    def log_kernel(A: T.Buffer((8,), "float32"), B: T.Buffer((8,), "float32")):
        for i in range(8):
            B[i] = T.log(A[i])

    ext("override_throws")
    with pytest.raises(RuntimeError) as info:
        tvm.compile(log_kernel, target="llvm")
    assert (
        "override tirx.log[llvm.FLowerIntrinsic] of extension 'override_throws' failed: "
        "no log for this target today (std::out_of_range)" in str(info.value)
    )
    tvm_extend.unload_extension("override_throws")
    assert tvm.compile(log_kernel, target="llvm") is not None


# --- builtins with TVM's call effects ----------------------------------------------------------


@pytest.fixture(scope="module")
def effects(test_extensions):
    return tvm_extend.load_extension(str(test_extensions / "libeffects.so"))


def test_call_effects_are_tvms_values(effects):
    kinds = tvm.tirx.CallEffectKind
    assert attr("effects.pure_add", "TCallEffectKind") == kinds.Pure.value
    assert attr("effects.read_add", "TCallEffectKind") == kinds.ReadState.value
    assert attr("effects.opaque_add", "TCallEffectKind") == kinds.Opaque.value


def test_tvms_passes_respect_the_call_effect(effects):
    @T.prim_func
    def f(A: T.Buffer((8,), "int32"), B: T.Buffer((8,), "int32")):
        T.evaluate(T.call_intrin("int32", "effects.pure_add", A[0], 1))
        T.evaluate(T.call_intrin("int32", "effects.read_add", A[0], 2))
        T.evaluate(T.call_intrin("int32", "effects.opaque_add", A[0], 3))
        for i in range(8):
            B[i] = T.call_intrin("int32", "effects.pure_add", A[i], 1) + T.call_intrin(
                "int32", "effects.opaque_add", A[i], 2
            )

    def calls(func) -> list[str]:
        text = func.script()
        names = ("effects.pure_add", "effects.read_add", "effects.opaque_add")
        return sorted(name for name in names for _ in range(text.count(name + "(")))

    assert calls(f) == sorted(
        ["effects.pure_add", "effects.read_add", "effects.opaque_add"]
        + ["effects.pure_add", "effects.opaque_add"]
    )
    # Dead-code elimination: an unused pure or state-reading call goes, an opaque one stays.
    cleaned = tvm.tirx.transform.RemoveNoOp()(tvm.IRModule({"main": f}))["main"]
    assert sorted(calls(cleaned)) == [
        "effects.opaque_add",
        "effects.opaque_add",
        "effects.pure_add",
    ]
    # And the used calls compile through their lowerings.
    lib = tvm.compile(f, target="llvm")
    a = np.arange(8, dtype="int32")
    b = tvm.runtime.tensor(np.zeros(8, "int32"))
    lib["f"](tvm.runtime.tensor(a), b)
    np.testing.assert_array_equal(b.numpy(), 2 * a + 3)


# --- TVM's pipelines: replace and remove -------------------------------------------------------


@T.prim_func
def times_four(A: T.Buffer((8,), "int32")):
    for i in range(8):
        A[i] = A[i] * 4


def compiled_passes() -> list[str]:
    seen: list[str] = []
    with tvm.transform.PassContext(instruments=[pass_recorder(seen)()]):
        lib = tvm.compile(times_four, target="llvm")
    a = tvm.runtime.tensor(np.arange(8, dtype="int32"))
    lib["times_four"](a)
    np.testing.assert_array_equal(a.numpy(), np.arange(8) * 4)
    return seen


def test_replace_and_remove_run_in_tvm_compile_and_withdraw_restores():
    others = pipeline.describe()
    tvms = compiled_passes()
    assert "tirx.StorageRewrite" in tvms and "tirx.VectorizeLoop" in tvms
    pipeline.contribute(
        "test_swaps",
        [
            pipeline.replace("tirx.StorageRewrite", tvm.tirx.transform.StmtSimplify),
            pipeline.remove("tirx.VectorizeLoop"),
        ],
    )
    try:
        seen = compiled_passes()
        assert "tirx.StorageRewrite" not in seen and "tirx.VectorizeLoop" not in seen
        assert len(seen) == len(tvms) - 1
        entries = pipeline.describe()
        assert ("tirx.VectorizeLoop", "removed by test_swaps") in entries
        assert ("tirx.StmtSimplify", "test_swaps (replaces tirx.StorageRewrite)") in entries
        k = entries.index(("tirx.StmtSimplify", "test_swaps (replaces tirx.StorageRewrite)"))
        assert entries[k - 1][0] == "s_tir.InjectDoubleBuffer"  # where StorageRewrite was
        assert "tirx.VectorizeLoop" not in pipeline.pass_names("default")
    finally:
        pipeline.withdraw("test_swaps")
    assert pipeline.describe() == others
    assert compiled_passes() == tvms


def test_replacing_or_removing_a_pass_another_owner_took_is_refused():
    pipeline.contribute(
        "first_owner",
        [
            pipeline.replace("StorageRewrite", tvm.tirx.transform.StmtSimplify),
            pipeline.remove("tirx.VectorizeLoop"),
        ],
    )
    try:
        with pytest.raises(tvm_extend.PipelineError) as info:
            pipeline.contribute(
                "second_owner",
                [pipeline.replace("tirx.StorageRewrite", "tirx.transform.RemoveNoOp")],
            )
        assert str(info.value) == (
            "contribution of 'second_owner' to 'default': cannot replace 'tirx.StorageRewrite' "
            "for 'second_owner': 'first_owner' already replaces it (one owner per pass; "
            "withdraw 'first_owner' first)"
        )
        with pytest.raises(tvm_extend.PipelineError, match="'first_owner' already removes it"):
            pipeline.contribute("second_owner", [pipeline.remove("tirx.VectorizeLoop")])
        assert "second_owner" not in pipeline.contributors()
        # A derived pipeline on top of it is refused the same way, naming both.
        with pytest.raises(
            tvm_extend.PipelineError,
            match="cannot remove 'tirx.StorageRewrite' for pipeline 'test_mine': 'first_owner'",
        ):
            pipeline.register("test_mine", insert=[pipeline.remove("tirx.StorageRewrite")])
        # Inserting next to a replaced pass is fine: anchors keep naming TVM's pass.
        pipeline.contribute(
            "second_owner", [pipeline.after("tirx.StorageRewrite", tvm.tirx.transform.RemoveNoOp)]
        )
        pipeline.withdraw("second_owner")
    finally:
        pipeline.withdraw("first_owner")
    # Withdrawn: the second owner may now replace it.
    pipeline.contribute("second_owner", [pipeline.remove("tirx.VectorizeLoop")])
    pipeline.withdraw("second_owner")


def test_removing_an_anchor_that_does_not_exist_is_refused():
    with pytest.raises(
        tvm_extend.PipelineError,
        match=r"cannot remove 'NoSuchPass' \(occurrence 1\): the pipeline has 0 such pass",
    ):
        pipeline.contribute("x", [pipeline.remove("NoSuchPass")])
    assert "x" not in pipeline.contributors()
    with pytest.raises(tvm_extend.PipelineError, match="cannot replace 42: give a Pass"):
        pipeline.contribute("x", [pipeline.replace("tirx.StorageRewrite", 42)])


def test_a_derived_pipeline_replaces_and_removes():
    pipeline.register(
        "test_swapped",
        insert=[
            pipeline.remove("tirx.VectorizeLoop"),
            pipeline.replace("tirx.StorageRewrite", tvm.tirx.transform.StmtSimplify),
        ],
    )
    try:
        names = pipeline.pass_names("test_swapped")
        assert "tirx.VectorizeLoop" not in names and "tirx.StorageRewrite" not in names
        assert ("tirx.VectorizeLoop", "removed by pipeline 'test_swapped'") in pipeline.describe(
            "test_swapped"
        )
        assert tvm.compile(times_four, target="llvm", tir_pipeline="test_swapped") is not None
    finally:
        pipeline.unregister("test_swapped")


# --- project_a: an attribute on one of TVM's ops -----------------------------------------------

RSQRT_VECTORIZED = """
import tvm, tvm_ffi, tvm_extend

f = tvm.script.from_source('''
@T.prim_func
def f(A: T.Buffer((16,), "float32"), B: T.Buffer((16,), "float32")):
    for i in T.vectorized(16):
        B[i] = T.rsqrt(A[i])
''')
one_vector_call = tvm.script.from_source('''
@T.prim_func
def f(A: T.Buffer((16,), "float32"), B: T.Buffer((16,), "float32")):
    B[T.Ramp(0, 1, 16)] = T.rsqrt(A[T.Ramp(0, 1, 16)])
''')

def vectorized():
    out = tvm.tirx.transform.VectorizeLoop()(tvm.IRModule({"main": f}))["main"]
    return tvm_ffi.structural_equal(out, one_vector_call)

import project_a
print(vectorized())
tvm_extend.unload_extension("project_a")
print(vectorized())
"""


def test_project_a_makes_tvms_rsqrt_vectorizable():
    project_a = pytest.importorskip("project_a")
    assert ("tirx.rsqrt", "TVectorizable") in project_a.extension.overrides
    assert attr("tirx.rsqrt", "TVectorizable") is True

    @T.prim_func
    def rsqrt(A: T.Buffer((16,), "float32"), B: T.Buffer((16,), "float32")):
        for i in T.vectorized(16):
            B[i] = T.rsqrt(A[i])

    @T.prim_func
    def one_vector_call(A: T.Buffer((16,), "float32"), B: T.Buffer((16,), "float32")):
        B[T.Ramp(0, 1, 16)] = T.rsqrt(A[T.Ramp(0, 1, 16)])  # no loop

    vectorized = tvm.tirx.transform.VectorizeLoop()(tvm.IRModule({"main": rsqrt}))
    tvm.ir.assert_structural_equal(
        vectorized["main"], one_vector_call.with_attr("global_symbol", "rsqrt")
    )
    lib = tvm.compile(rsqrt, target="llvm")
    a = np.arange(1, 17, dtype="float32")
    b = tvm.runtime.tensor(np.zeros(16, "float32"))
    lib["rsqrt"](tvm.runtime.tensor(a), b)
    np.testing.assert_allclose(b.numpy(), 1 / np.sqrt(a), rtol=1e-6)
    # Unloading project_a (in a process of its own) gives TVM's scalar loop back.
    result = run_python(RSQRT_VECTORIZED)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "False"]
