"""The example pass: TVMScript before/after, and kernels compiled by TVM checked against numpy."""

import re

import numpy as np
import pytest
import tvm
from tvm.script import tirx as T

import my_custom_pass
import tvm_extend

# TVM 0.27 prints shifts and masks as operators (prim.LShift nodes); 0.26 makes them calls and
# prints T.shift_left(a, b): the expectations below accept what the running release prints.
CALLS = {"<<": "T.shift_left", ">>": "T.shift_right", "&": "T.bitwise_and"}


def shows(script: str, op: str, operand: str | None = None) -> bool:
    """Whether TVMScript `script` has `op` (with `operand` on its right, when given)."""
    if operand is None:
        return op in script or CALLS[op] + "(" in script
    call = re.escape(CALLS[op]) + r"\([^,()]*(\[[^\]]*\])?, " + re.escape(operand) + r"\)"
    return f"{op} {operand}" in script or re.search(call, script) is not None


def apply(func):
    return my_custom_pass.MulDivToShift()(tvm.IRModule({"main": func}))["main"]


def test_pass_is_a_tvm_pass():
    p = my_custom_pass.MulDivToShift()
    assert isinstance(p, tvm.transform.Pass)
    assert isinstance(p, tvm.tirx.transform.PrimFuncPass)
    assert p.info.name == "my_custom_pass.transform.MulDivToShift"
    assert p.info.opt_level == 0


def test_mul_floordiv_floormod_by_powers_of_two():
    @T.prim_func
    def before(A: T.Buffer((16,), "int32"), B: T.Buffer((16,), "int32")):
        for i in range(16):
            B[i] = A[i] * 8 + 4 * A[i] + A[i] // 16 + A[i] % 32

    @T.prim_func
    def expected(A: T.Buffer((16,), "int32"), B: T.Buffer((16,), "int32")):
        for i in range(16):
            B[i] = (A[i] << 3) + (A[i] << 2) + (A[i] >> 4) + T.bitwise_and(A[i], 31)

    tvm.ir.assert_structural_equal(apply(before), expected.with_attr("global_symbol", "before"))


def test_leaves_non_powers_of_two_and_floats_alone():
    @T.prim_func
    def before(A: T.Buffer((16,), "int32"), F: T.Buffer((16,), "float32")):
        for i in range(16):
            A[i] = A[i] * 3 + A[i] // 6 + A[i] % 10 + A[i] * 1
            F[i] = F[i] * T.float32(4)

    after = apply(before)
    tvm.ir.assert_structural_equal(after, before)
    # Nothing changed, so the pass hands back the very same function object (copy-on-write).
    assert after.same_as(before)


def test_truncating_division_only_for_unsigned():
    @T.prim_func
    def before(A: T.Buffer((8,), "int32"), U: T.Buffer((8,), "uint32")):
        for i in range(8):
            A[i] = T.truncdiv(A[i], 4) + T.truncmod(A[i], 4)
            U[i] = T.truncdiv(U[i], T.uint32(4)) + T.truncmod(U[i], T.uint32(8))

    @T.prim_func
    def expected(A: T.Buffer((8,), "int32"), U: T.Buffer((8,), "uint32")):
        for i in range(8):
            A[i] = T.truncdiv(A[i], 4) + T.truncmod(A[i], 4)
            U[i] = (U[i] >> T.uint32(2)) + T.bitwise_and(U[i], T.uint32(7))

    tvm.ir.assert_structural_equal(apply(before), expected.with_attr("global_symbol", "before"))


def test_nested_and_int64_indices():
    @T.prim_func
    def before(A: T.Buffer((64,), "int64"), B: T.Buffer((64,), "int64")):
        for i in range(T.int64(64)):
            B[i] = (A[i] * T.int64(2)) // T.int64(4) * T.int64(16)

    @T.prim_func
    def expected(A: T.Buffer((64,), "int64"), B: T.Buffer((64,), "int64")):
        for i in range(T.int64(64)):
            B[i] = ((A[i] << T.int64(1)) >> T.int64(2)) << T.int64(4)

    tvm.ir.assert_structural_equal(apply(before), expected.with_attr("global_symbol", "before"))


def test_rewrite_expr_and_count():
    x = tvm.tirx.Var("x", "int32")
    tvm.ir.assert_structural_equal(my_custom_pass.rewrite_expr(x * 4), x << 2)
    assert my_custom_pass.count_candidates(x * 4 + x * 3 + x // 2) == 2


@T.prim_func
def kernel(A: T.Buffer((257,), "int32"), B: T.Buffer((257,), "int32")):
    for i in range(257):
        B[i] = A[i] * 16 + A[i] // 8 - A[i] % 4 + (A[i] * 2) // 2


def run(lib, a):
    out = tvm.runtime.tensor(np.zeros_like(a))
    lib["main"](tvm.runtime.tensor(a), out)
    return out.numpy()


@pytest.mark.parametrize("seed", [0, 1])
def test_compiled_kernel_matches_numpy(seed):
    a = np.random.default_rng(seed).integers(-(2**20), 2**20, 257).astype("int32")
    mod = tvm.IRModule({"main": kernel})
    transformed = my_custom_pass.MulDivToShift()(mod)
    assert shows(transformed.script(), "<<") and shows(transformed.script(), ">>")
    expected = a * 16 + np.floor_divide(a, 8) - np.mod(a, 4) + np.floor_divide(a * 2, 2)
    got = run(tvm.compile(transformed, target="llvm"), a)
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(got, run(tvm.compile(mod, target="llvm"), a))


def test_in_sequential_with_instruments():
    names = []

    @tvm.instrument.pass_instrument
    class Record:
        def run_after_pass(self, mod, info):
            names.append(info.name)

    seq = tvm.transform.Sequential(
        [tvm.tirx.transform.StmtSimplify(), my_custom_pass.MulDivToShift()]
    )
    with tvm.transform.PassContext(opt_level=3, instruments=[Record()]):
        out = seq(tvm.IRModule({"main": kernel}))
    assert names.index("my_custom_pass.transform.MulDivToShift") > names.index("tirx.StmtSimplify")
    assert shows(out.script(), ">>", "3") and shows(out.script(), "&", "3")


def test_disabled_by_pass_context():
    with tvm.transform.PassContext(disabled_pass=["my_custom_pass.transform.MulDivToShift"]):
        out = tvm.transform.Sequential([my_custom_pass.MulDivToShift()])(
            tvm.IRModule({"main": kernel})
        )
    assert not shows(out.script(), "<<")


def test_inside_tvm_compile_through_a_derived_pipeline():
    tvm_extend.pipeline.register(
        "test_mdts",
        insert=[tvm_extend.pipeline.after("tirx.FlattenBuffer", my_custom_pass.MulDivToShift)],
    )
    try:
        seen = {}

        @tvm.instrument.pass_instrument
        class Capture:
            def run_after_pass(self, mod, info):
                if info.name == "my_custom_pass.transform.MulDivToShift":
                    seen["mod"] = mod

        a = np.arange(-128, 129, dtype="int32")
        with tvm.transform.PassContext(instruments=[Capture()]):
            lib = tvm.compile(
                tvm.IRModule({"main": kernel}), target="llvm", tir_pipeline="test_mdts"
            )
        assert shows(seen["mod"].script(), ">>", "3") and shows(seen["mod"].script(), "&", "3")
        np.testing.assert_array_equal(
            run(lib, a), run(tvm.compile(tvm.IRModule({"main": kernel}), target="llvm"), a)
        )
    finally:
        tvm_extend.pipeline.unregister("test_mdts")


@pytest.mark.parametrize("seed", range(4))
def test_takes_gpu_style_ir(seed):
    from tir_corpus import gpu_program

    mod = tvm.IRModule({"main": gpu_program(seed)})
    text = my_custom_pass.MulDivToShift()(mod)["main"].script()
    assert 'thread="threadIdx.x"' in text and 'scope="local"' in text
