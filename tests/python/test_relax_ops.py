"""Relax ops from C++ (tests/extensions/relax_ops.cc): typed inference on BlockBuilder and
TVMScript functions, purity, legalization to call_tir of a PrimFunc made with the TIR builder
(LegalizeOps checked against TVMScript), packed-call lowering, compiled with tvm.compile and run
on the VM against numpy; errors that name the op and the call; unload and load again."""

import shutil

import numpy as np
import pytest
import tvm
import tvm_ffi
from tvm import relax
from tvm.script import ir as I
from tvm.script import relax as R
from tvm.script import tirx as T

import tvm_extend
from conftest import needs_relax_027
from tvm_extend.relax_op import op

pytestmark = needs_relax_027

OP_GET_ATTR = "ir.OpGetAttr"


@pytest.fixture(scope="module")
def ext(relax_ops_extension):
    return relax_ops_extension


def test_ops_are_registered_with_arguments_and_attributes(ext):
    assert ext.relax_ops == [
        "relaxops.scaled_add",
        "relaxops.relu",
        "relaxops.always_fails",
        "relaxops.legalize_fails",
    ]
    scaled_add = tvm.ir.Op.get("relaxops.scaled_add")
    assert scaled_add.num_inputs == 3
    assert [(a.name, a.type_info) for a in scaled_add.arguments] == [
        ("x", "Tensor"),
        ("y", "Tensor"),
        ("alpha", "Prim"),
    ]
    get = tvm.get_global_func(OP_GET_ATTR)
    assert get(scaled_add, "FPurity") is True
    assert get(scaled_add, "FInferType") is not None and get(scaled_add, "FLegalize") is not None
    relu = tvm.ir.Op.get("relaxops.relu")
    assert get(relu, "FCallPacked") == "relaxops.run.relu"
    assert tvm_extend.describe_owner("relaxops.run.relu").startswith("extension 'relaxops'")


def test_inference_on_a_block_builder_function_broadcasts(ext):
    scaled_add = op("relaxops.scaled_add")
    n = tvm.tirx.Var("n", "int64")
    x = relax.Var("x", R.Tensor((n, 1, 3), "float32"))
    y = relax.Var("y", R.Tensor((5, 1), "float32"))
    bb = relax.BlockBuilder()
    with bb.function("main", [x, y]):
        with bb.dataflow():
            z = bb.emit(scaled_add(x, y, T.float32(2)))
            out = bb.emit_output(z)
        bb.emit_func_output(out)
    inferred = bb.get()["main"].body.blocks[0].bindings[0].var.ty
    tvm.ir.assert_structural_equal(inferred, R.Tensor((n, 5, 3), "float32"))


def test_inference_in_tvmscript_and_a_python_wrapper(ext):
    ops = tvm_extend.relax_op.ops("relaxops")

    @R.function
    def main(x: R.Tensor(("n", 3), "float32"), y: R.Tensor((3,), "float32")):
        with R.dataflow():
            z = ops.scaled_add(x, y, T.float32(0.5))
            w = ops.relu(z)
            R.output(w)
        return w

    n = main.params[0].ty.shape[0]
    bindings = main.body.blocks[0].bindings
    tvm.ir.assert_structural_equal(bindings[0].var.ty, R.Tensor((n, 3), "float32"))
    tvm.ir.assert_structural_equal(bindings[1].var.ty, R.Tensor((n, 3), "float32"))
    assert main.ret_ty.shape[0].same_as(n)
    # Pure: it may sit in a dataflow block, and the module is well formed.
    assert relax.analysis.check_well_formed(tvm.IRModule({"main": main}))


@pytest.mark.parametrize(
    "y_type, alpha, message",
    [
        (("int32", (3,)), T.float32(1), "x and y must have one known dtype, got float32 and int32"),
        (("float32", (3,)), T.int32(1), "alpha must be a float32 scalar"),
        (("float32", (2,)), T.float32(1), "the shapes of x and y do not broadcast"),
    ],
)
def test_inference_refuses_a_bad_call_naming_the_op_and_the_call(ext, y_type, alpha, message):
    x = relax.Var("x", R.Tensor((4, 3), "float32"))
    y = relax.Var("y", R.Tensor(y_type[1], y_type[0]))
    bb = relax.BlockBuilder()
    with pytest.raises(TypeError) as info:
        with bb.function("main", [x, y]):
            bb.emit(op("relaxops.scaled_add")(x, y, alpha))
    text = str(info.value)
    assert "type inference of Relax op relaxops.scaled_add failed for" in text
    assert "relaxops.scaled_add(x, y," in text  # the call, printed
    assert message in text


def test_inference_that_throws_names_the_op_and_the_call(ext):
    x = relax.Var("x", R.Tensor((4,), "float32"))
    bb = relax.BlockBuilder()
    with pytest.raises(RuntimeError) as info:
        with bb.function("main", [x]):
            bb.emit(op("relaxops.always_fails")(x))
    assert str(info.value).startswith(
        "type inference of Relax op relaxops.always_fails failed for "
        "T.relaxops.always_fails(x): relaxops.always_fails accepts no call at all "
        "(std::runtime_error)"
    )


def test_legalize_ops_emits_call_tir_of_the_builders_prim_func(ext):
    scaled_add = op("relaxops.scaled_add")
    relu = op("relaxops.relu")

    @I.ir_module
    class Before:
        @R.function
        def main(x: R.Tensor((4, 3), "float32"), y: R.Tensor((3,), "float32")):
            with R.dataflow():
                z = scaled_add(x, y, T.float32(0.5))
                w = relu(z)
                R.output(w)
            return w

    @I.ir_module
    class Expected:
        @T.prim_func
        def scaled_add(
            X: T.Buffer((4, 3), "float32"),
            Y: T.Buffer((3,), "float32"),
            alpha: T.float32,
            Out: T.Buffer((4, 3), "float32"),
        ):
            for i0, i1 in T.grid(4, 3):
                Out[i0, i1] = X[i0, i1] + alpha * Y[i1]

        @R.function
        def main(x: R.Tensor((4, 3), "float32"), y: R.Tensor((3,), "float32")):
            cls = Expected
            with R.dataflow():
                z = R.call_tir(
                    cls.scaled_add, (x, y, T.float32(0.5)), out_ty=R.Tensor((4, 3), "float32")
                )
                w = R.call_pure_packed(
                    "relaxops.run.relu", z, ty_args=(R.Tensor((4, 3), "float32"),)
                )
                R.output(w)
            return w

    After = relax.transform.LegalizeOps()(Before)
    tvm.ir.assert_structural_equal(After, Expected)


def test_compiled_and_run_on_the_vm_against_numpy(ext):
    scaled_add = op("relaxops.scaled_add")
    relu = op("relaxops.relu")

    @R.function
    def main(x: R.Tensor((2, 4, 3), "float32"), y: R.Tensor((4, 1), "float32")):
        with R.dataflow():
            z = scaled_add(x, y, T.float32(-1.5))
            w = relu(z)
            R.output(w)
        return w

    ex = tvm.compile(tvm.IRModule({"main": main}), target="llvm")
    vm = relax.VirtualMachine(ex, tvm.cpu())
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 3)).astype("float32")
    y = rng.standard_normal((4, 1)).astype("float32")
    got = vm["main"](tvm.runtime.tensor(x), tvm.runtime.tensor(y)).numpy()
    np.testing.assert_allclose(got, np.maximum(x - 1.5 * y, 0), rtol=1e-6)


def test_legalization_that_throws_names_the_op_and_the_call(ext):
    fails = op("relaxops.legalize_fails")

    @R.function
    def main(x: R.Tensor((4,), "float32")):
        y = fails(x)
        return y

    with pytest.raises(RuntimeError) as info:
        relax.transform.LegalizeOps()(tvm.IRModule({"main": main}))
    assert (
        "legalization of Relax op relaxops.legalize_fails failed for "
        "T.relaxops.legalize_fails(x): no kernel for this call (std::logic_error)"
    ) in str(info.value)


def test_a_relax_op_name_taken_outside_is_refused_and_nothing_registers(test_extensions):
    tvm.get_global_func("ir.RegisterOp")("relaxclash.add", "registered from Python first")
    with pytest.raises(tvm_extend.DuplicateRegistrationError) as info:
        tvm_extend.load_extension(str(test_extensions / "librelaxclash.so"))
    message = str(info.value)
    assert "the Relax op 'relaxclash.add' is already registered by TVM or a library outside" in (
        message
    )
    assert "extension 'relaxclash' 1.0.0" in message and "relax_clash.cc:" in message
    assert tvm_ffi.get_global_func("relaxclash.one", allow_missing=True) is None


@pytest.mark.parametrize(
    "lib, message",
    [
        (
            "relaxnoinfer",
            r"the Relax op 'relaxnoinfer\.op' \(.*relax_clash\.cc:\d+\) has no type "
            r"inference",
        ),
        (
            "relaxnopacked",
            r"lowers to a call of 'relaxnopacked\.run\.missing' \(call_packed\), but "
            r"neither TVM nor the extension has a global function of that name",
        ),
    ],
)
def test_a_bad_relax_op_spec_is_refused(test_extensions, lib, message):
    with pytest.raises(tvm_extend.ExtensionLoadError, match=message):
        tvm_extend.load_extension(str(test_extensions / f"lib{lib}.so"))
    assert tvm_ffi.get_global_func(f"{lib}.one", allow_missing=True) is None


def test_unload_resets_the_ops_and_loading_again_restores_them(ext, test_extensions, tmp_path):
    copy = tmp_path / "librelax_ops.so"
    shutil.copy(test_extensions / "librelax_ops.so", copy)
    tvm_extend.unload_extension("relaxops")
    scaled_add = tvm.ir.Op.get("relaxops.scaled_add")  # TVM cannot delete an op
    get = tvm.get_global_func(OP_GET_ATTR)
    for key in ("FInferType", "FPurity", "FLegalize"):
        assert get(scaled_add, key) is None
    assert get(tvm.ir.Op.get("relaxops.relu"), "FCallPacked") is None
    assert tvm_ffi.get_global_func("relaxops.run.relu", allow_missing=True) is None
    x = relax.Var("x", R.Tensor((4,), "float32"))
    bb = relax.BlockBuilder()
    with pytest.raises(Exception, match="FInferType"):  # TVM's own error: the op has no inference
        with bb.function("main", [x]):
            bb.emit(op("relaxops.scaled_add")(x, x, T.float32(1)))
    # The same extension loads again (from another file) onto the ops TVM kept.
    tvm_extend.load_extension(str(copy))
    assert get(scaled_add, "FPurity") is True
    assert len(scaled_add.arguments) == 3  # not added twice
    bb = relax.BlockBuilder()
    with bb.function("main", [x]):
        z = bb.emit(op("relaxops.scaled_add")(x, x, T.float32(1)))
        bb.emit_func_output(z)
    tvm.ir.assert_structural_equal(z.ty, R.Tensor((4,), "float32"))
