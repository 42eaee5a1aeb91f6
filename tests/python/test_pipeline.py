"""tvm_extend.pipeline: derived TIR pipelines with passes inserted by anchor."""

import pytest
import tvm
import tvm_ffi
from tvm.script import tirx as T

import my_custom_pass
import tvm_extend
from conftest import pass_recorder, run_python
from tvm_extend import pipeline


def test_base_passes_are_tvms_default():
    # TVM's own passes (installed extensions may have contributed others to the default one)
    names = [name for name, owner in pipeline.describe("default") if owner == "TVM"]
    assert names[0] == "s_tir.CanonicalizeLoop"
    assert "tirx.FlattenBuffer" in names and names[-1] == "tirx.BF16StorageLegalize"


def test_insert_before_and_after_in_order():
    derived = pipeline.register(
        "test_order",
        insert=[
            pipeline.after("tirx.FlattenBuffer", "my_custom_pass.transform.MulDivToShift"),
            pipeline.before("FlattenBuffer", my_custom_pass.MulDivToShift),
            pipeline.after("tirx.StmtSimplify", my_custom_pass.MulDivToShift()),
        ],
    )
    try:
        names = pipeline.pass_names("test_order")
        base = pipeline.pass_names("default")
        i = names.index("tirx.FlattenBuffer")
        assert names[i - 1] == names[i + 1] == "my_custom_pass.transform.MulDivToShift"
        j = names.index("tirx.StmtSimplify")
        assert names[j + 1] == "my_custom_pass.transform.MulDivToShift"
        assert len(names) == len(base) + 3
        assert [n for n in names if not n.startswith("my_custom_pass")] == base
        assert derived.name == "test_order"
    finally:
        pipeline.unregister("test_order")


def test_unknown_anchor_is_refused_with_the_pass_list():
    with pytest.raises(
        tvm_extend.PipelineError, match="NoSuchPass.*Its passes are:.*FlattenBuffer"
    ):
        pipeline.register(
            "bad", insert=[pipeline.after("NoSuchPass", my_custom_pass.MulDivToShift)]
        )
    with pytest.raises(ValueError, match="Unknown pre-built pipeline bad"):
        tvm.tirx.get_tir_pipeline("bad")


def test_ambiguous_anchor_and_bad_base():
    # A short name two passes of the base share (TVM 0.27's own pipeline has s_tir.StmtSimplify
    # and tirx.StmtSimplify; 0.26's runs tirx.StmtSimplify twice): made here on every release.
    same_short_name = tvm.tirx.transform.prim_func_pass(
        lambda f, mod, ctx: f, opt_level=0, name="test_ambiguous.StmtSimplify"
    )
    pipeline.register(
        "test_ambiguous", insert=[pipeline.after("tirx.FlattenBuffer", same_short_name)]
    )
    try:
        with pytest.raises(
            tvm_extend.PipelineError,
            match=r"anchor 'StmtSimplify' is ambiguous: \[.*'test_ambiguous.StmtSimplify', "
            r"'tirx.StmtSimplify'\]",
        ):
            pipeline.register(
                "bad",
                base="test_ambiguous",
                insert=[pipeline.after("StmtSimplify", my_custom_pass.MulDivToShift)],
            )
    finally:
        pipeline.unregister("test_ambiguous")
    with pytest.raises(tvm_extend.PipelineError, match="unknown base pipeline 'nope'"):
        pipeline.register("bad", base="nope")
    with pytest.raises(tvm_extend.PipelineError, match="cannot replace TVM's own pipeline"):
        pipeline.register("default")


def test_occurrence_selects_the_nth_pass():
    pipeline.register(
        "test_nth",
        insert=[pipeline.after("s_tir.ThreadSync", my_custom_pass.MulDivToShift, occurrence=3)],
    )
    try:
        names = pipeline.pass_names("test_nth")
        k = names.index("my_custom_pass.transform.MulDivToShift")
        assert names[k - 1] == "s_tir.ThreadSync" and names[k + 1] == "s_tir.InferFragment"
    finally:
        pipeline.unregister("test_nth")


def test_derive_from_a_derived_pipeline_and_compile():
    pipeline.register(
        "test_one", insert=[pipeline.after("tirx.FlattenBuffer", my_custom_pass.MulDivToShift)]
    )
    pipeline.register(
        "test_two",
        base="test_one",
        insert=[pipeline.before("tirx.MakePackedAPI", tvm.tirx.transform.RemoveNoOp)],
    )
    try:
        names = pipeline.pass_names("test_two")
        assert "my_custom_pass.transform.MulDivToShift" in names
        assert names[names.index("tirx.MakePackedAPI") - 1] == "tirx.RemoveNoOp"

        @T.prim_func
        def f(A: T.Buffer((8,), "int32")):
            for i in range(8):
                A[i] = A[i] * 4

        lib = tvm.compile(f, target="llvm", tir_pipeline="test_two")
        assert lib is not None
    finally:
        pipeline.unregister("test_two")
        pipeline.unregister("test_one")


def test_tvms_old_add_lower_pass_is_gone():
    # What the seed's users reached for no longer exists in TVM; tvm_extend.pipeline replaces it.
    with pytest.raises(Exception, match="tir.add_lower_pass"):
        tvm.transform.PassContext(
            config={"tir.add_lower_pass": [(1, my_custom_pass.MulDivToShift())]}
        )


def test_instruments_see_each_pass_once_and_config_is_honoured():
    pipeline.register(
        "test_instr",
        insert=[pipeline.after("tirx.FlattenBuffer", my_custom_pass.MulDivToShift)],
    )
    try:
        names = []
        Record = pass_recorder(names)

        @T.prim_func
        def f(A: T.Buffer((8,), "int32")):
            for i in range(8):
                A[i] = A[i] * 4

        with tvm.transform.PassContext(instruments=[Record()]):
            tvm.compile(f, target="llvm", tir_pipeline="test_instr")
        assert names.count("my_custom_pass.transform.MulDivToShift") == 1
        assert names.count("tirx.FlattenBuffer") == 1
        assert "_pipeline" not in names  # the base pipeline's dry run is not instrumented
        # Config decides the pass list, as in TVM's own pipeline.
        with tvm.transform.PassContext(config={"tirx.disable_cse_tir": True}):
            assert "tirx.CommonSubexprElim" not in pipeline.pass_names("test_instr")
        assert "tirx.CommonSubexprElim" in pipeline.pass_names("test_instr")
    finally:
        pipeline.unregister("test_instr")


def test_config_dependent_anchor_fails_clearly_or_is_optional():
    with tvm.transform.PassContext(config={"tirx.use_async_copy": True}):
        pipeline.register(
            "test_async",
            insert=[pipeline.after("s_tir.LowerAsyncDMA", my_custom_pass.MulDivToShift)],
        )
        assert "my_custom_pass.transform.MulDivToShift" in pipeline.pass_names("test_async")
    pipeline.register(
        "test_async_opt",
        insert=[pipeline.after("s_tir.LowerAsyncDMA", my_custom_pass.MulDivToShift, optional=True)],
    )
    try:

        @T.prim_func
        def f(A: T.Buffer((8,), "int32")):
            for i in range(8):
                A[i] = A[i] * 4

        with pytest.raises(tvm_extend.PipelineError) as info:
            tvm.compile(f, target="llvm", tir_pipeline="test_async")
        message = str(info.value)
        assert "pipeline 'test_async' (derived from 'default')" in message
        assert "s_tir.LowerAsyncDMA" in message and "PassContext config" in message
        # The optional insertion is skipped where its anchor is absent.
        assert tvm.compile(f, target="llvm", tir_pipeline="test_async_opt") is not None
        assert "my_custom_pass.transform.MulDivToShift" not in pipeline.pass_names("test_async_opt")
    finally:
        pipeline.unregister("test_async")
        pipeline.unregister("test_async_opt")


def test_register_refuses_a_taken_name():
    with pytest.raises(tvm_extend.PipelineError, match="'adreno'.*already registered by"):
        pipeline.register("adreno", base="s_tir")
    pipeline.register("test_taken")
    try:
        with pytest.raises(tvm_extend.PipelineError, match="already registered by tvm_extend"):
            pipeline.register("test_taken")
    finally:
        pipeline.unregister("test_taken")


def test_deriving_is_safe_while_other_threads_build_sequentials():
    import threading

    @T.prim_func
    def f(A: T.Buffer((8,), "int32")):
        for i in range(8):
            A[i] = A[i] * 4

    @T.prim_func
    def shifted(A: T.Buffer((8,), "int32")):
        for i in range(8):
            A[i] = A[i] << 2

    mod = tvm.IRModule({"main": f})
    expected = shifted.with_attr("global_symbol", "f")
    errors, untransformed = [], []
    stop = threading.Event()

    def derive():
        try:
            while not stop.is_set():
                assert len(pipeline.pass_names("default")) > 30
        except Exception as err:  # noqa: BLE001
            errors.append(err)

    thread = threading.Thread(target=derive)
    thread.start()
    try:
        for _ in range(1500):
            seq = tvm.transform.Sequential([my_custom_pass.MulDivToShift()])
            assert isinstance(seq, tvm.transform.Sequential)
            if not tvm_ffi.structural_equal(seq(mod)["main"], expected):
                untransformed.append(1)
    finally:
        stop.set()
        thread.join()
    assert not errors and not untransformed


CONTRIBUTE = """
import tvm, tvm_extend, my_custom_pass, tir_passes
from tvm_extend import pipeline as P
contributions = {{
    "tir_passes": [P.after("tirx.FlattenBuffer", tir_passes.StrengthReduce)],
    "my_custom_pass": [P.after("tirx.FlattenBuffer", my_custom_pass.MulDivToShift)],
}}
for owner in {order!r}:
    P.contribute(owner, contributions[owner])
print([entry for entry in P.describe() if entry[1] in {order!r}])
"""


def test_contributions_compose_in_a_fixed_order_whatever_the_load_order():
    outs = []
    for order in (["tir_passes", "my_custom_pass"], ["my_custom_pass", "tir_passes"]):
        result = run_python(CONTRIBUTE.format(order=order))
        assert result.returncode == 0, result.stderr
        outs.append(result.stdout.strip())
    assert outs[0] == outs[1]
    assert outs[0] == str(
        [
            ("my_custom_pass.transform.MulDivToShift", "my_custom_pass"),
            ("tir_passes.transform.StrengthReduce", "tir_passes"),
        ]
    )


def test_contributions_run_inside_tvm_compile_and_can_be_withdrawn():
    import numpy as np
    from tvm.tirx import compilation_pipeline

    original = compilation_pipeline.PIPELINE_MAP["s_tir"]
    others = pipeline.describe()  # other installed extensions may contribute already
    pipeline.contribute(
        "my_custom_pass", [pipeline.after("tirx.FlattenBuffer", my_custom_pass.MulDivToShift)]
    )
    try:
        seen = []
        Record = pass_recorder(seen)

        @T.prim_func
        def f(A: T.Buffer((8,), "int32"), B: T.Buffer((8,), "int32")):
            for i in range(8):
                B[i] = A[i] * 4

        with tvm.transform.PassContext(instruments=[Record()]):
            lib = tvm.compile(f, target="llvm")  # TVM's default pipeline, as users call it
        assert "my_custom_pass.transform.MulDivToShift" in seen
        b = tvm.runtime.tensor(np.zeros(8, "int32"))
        lib["f"](tvm.runtime.tensor(np.arange(8, dtype="int32")), b)
        np.testing.assert_array_equal(b.numpy(), np.arange(8) * 4)
        derived = [e for e in pipeline.describe("default") if e[1] == "my_custom_pass"]
        assert derived == [("my_custom_pass.transform.MulDivToShift", "my_custom_pass")]
    finally:
        pipeline.withdraw("my_custom_pass")
    # Withdrawn: the pipeline is as it was (TVM's own object when nobody else contributes).
    assert pipeline.describe() == others
    if all(owner == "TVM" for _, owner in others):
        assert compilation_pipeline.PIPELINE_MAP["s_tir"] is original


def test_describe_names_the_owner_of_each_pass_of_a_derived_pipeline():
    pipeline.register(
        "test_owned", insert=[pipeline.before("tirx.MakePackedAPI", tvm.tirx.transform.RemoveNoOp)]
    )
    try:
        entries = pipeline.describe("test_owned")
        assert ("tirx.RemoveNoOp", "pipeline 'test_owned'") in entries
        ours = [e for e in entries if e[1] in ("TVM", "pipeline 'test_owned'")]
        assert ours[0] == ("s_tir.CanonicalizeLoop", "TVM")
    finally:
        pipeline.unregister("test_owned")


def test_contribution_errors():
    with pytest.raises(tvm_extend.PipelineError, match="contribution of 'x' to 'default'.*Nope"):
        pipeline.contribute("x", [pipeline.after("Nope", my_custom_pass.MulDivToShift)])
    pipeline.contribute("x", [pipeline.after("tirx.FlattenBuffer", my_custom_pass.MulDivToShift)])
    try:
        with pytest.raises(tvm_extend.PipelineError, match="'x' already contributes"):
            pipeline.contribute("x", [])
    finally:
        pipeline.withdraw("x")
    with pytest.raises(tvm_extend.PipelineError, match="'x' contributes nothing"):
        pipeline.withdraw("x")
    with pytest.raises(tvm_extend.PipelineError, match="unknown pipeline 'nope'"):
        pipeline.contribute("x", [], pipeline="nope")


def test_pipeline_misuse_is_refused():
    with pytest.raises(tvm_extend.PipelineError, match="'s_tir' is not a tvm_extend pipeline"):
        pipeline.unregister("s_tir")
    pipeline.register("test_derived")
    try:
        with pytest.raises(tvm_extend.PipelineError, match="'test_derived' is a tvm_extend"):
            pipeline.contribute("x", [], pipeline="test_derived")
    finally:
        pipeline.unregister("test_derived")
