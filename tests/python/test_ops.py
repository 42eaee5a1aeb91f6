"""New TIR ops from an extension: registered through TVM's op functions after the loader's
checks, usable from TVMScript and C++, lowered by TVM's LowerIntrin inside tvm.compile."""

import numpy as np
import pytest
import tvm
import tvm_ffi
from tvm.script import tirx as T

import tvm_extend


@pytest.fixture(scope="module")
def ops(test_extensions):
    return tvm_extend.load_extension(str(test_extensions / "libops_ext.so"))


def test_op_is_registered_with_its_attributes(ops):
    assert ops.ops == ["ops_ext.fma"]
    assert [r.kind for r in ops.registrations] == ["op", "function"]
    op = tvm.ir.Op.get("ops_ext.fma")
    assert tvm.get_global_func("ir.OpGetAttr")(op, "TCallEffectKind") == 1
    assert tvm.get_global_func("ir.OpHasAttr")(op, "llvm.FLowerIntrinsic")


def test_op_from_tvmscript_compiles_and_matches_numpy(ops):
    @T.prim_func
    def fma(A: T.Buffer((8,), "float32"), B: T.Buffer((8,), "float32")):
        for i in range(8):
            B[i] = T.call_intrin("float32", "ops_ext.fma", A[i], A[i], T.float32(1))

    lib = tvm.compile(fma, target="llvm")
    a = np.arange(8, dtype="float32")
    b = tvm.runtime.tensor(np.zeros(8, "float32"))
    lib["fma"](tvm.runtime.tensor(a), b)
    np.testing.assert_allclose(b.numpy(), a * a + 1)


def test_op_from_cpp(ops):
    x, y, z = (tvm.tirx.Var(n, "float32") for n in "xyz")
    call = ops["make_fma"](x, y, z)
    assert isinstance(call, tvm.ir.Call) and call.op.name == "ops_ext.fma"
    assert [str(a) for a in call.args] == ["x", "y", "z"]


def test_an_op_name_taken_outside_is_refused_and_nothing_registers(test_extensions):
    tvm.get_global_func("ir.RegisterOp")("ops_clash.fma", "registered from Python first")
    with pytest.raises(tvm_extend.DuplicateRegistrationError) as info:
        tvm_extend.load_extension(str(test_extensions / "libops_clash.so"))
    message = str(info.value)
    assert "the op 'ops_clash.fma' is already registered by TVM or a library outside" in message
    assert "libops_clash.so" in message and "ops_clash.cc" in message
    assert tvm_ffi.get_global_func("ops_clash.one", allow_missing=True) is None


def test_unloading_resets_the_op_attributes(test_extensions, tmp_path):
    import shutil

    copy = tmp_path / "libops_ext.so"
    shutil.copy(test_extensions / "libops_ext.so", copy)
    if tvm_ffi.get_global_func("ops_ext.make_fma", allow_missing=True) is not None:
        tvm_extend.unload_extension("ops_ext")
    tvm_extend.load_extension(str(copy))
    op = tvm.ir.Op.get("ops_ext.fma")
    tvm_extend.unload_extension("ops_ext")
    # TVM resets an attribute to None (OpHasAttr stays true for a reset key).
    assert tvm.get_global_func("ir.OpGetAttr")(op, "TCallEffectKind") is None
    assert tvm.get_global_func("ir.OpGetAttr")(op, "llvm.FLowerIntrinsic") is None
    # Loading again sets them again on the op TVM still knows.
    tvm_extend.load_extension(str(copy))
    assert tvm.get_global_func("ir.OpGetAttr")(op, "TCallEffectKind") == 1
