"""The tir_passes example: passes written with the typed IR views, checked against TVM's own
counterparts on generated programs, with TVMScript before/after tests and kernels run."""

import numpy as np
import pytest
import tir_passes
import tvm
from tir_corpus import random_program
from tvm.script import tirx as T


def test_unroll_matches_tvms_unroll_loop_on_200_generated_programs():
    unrolled = 0
    for seed in range(200):
        mod = tvm.IRModule({"main": random_program(seed)})
        ours = tir_passes.UnrollByAnnotation()(mod)
        theirs = tvm.tirx.transform.UnrollLoop()(mod)
        tvm.ir.assert_structural_equal(ours, theirs)
        unrolled += not ours["main"].body.same_as(mod["main"].body)
    assert unrolled > 100  # the corpus does exercise unrolling


@T.prim_func
def two_loops(A: T.Buffer((16,), "int32"), B: T.Buffer((16,), "int32")):
    for i in T.unroll(2):
        B[i] = A[i] + 1
    for j in T.unroll(8):
        B[j + 8] = A[j] * 2


def test_unroll_respects_the_size_limit():
    @T.prim_func
    def expected(A: T.Buffer((16,), "int32"), B: T.Buffer((16,), "int32")):
        B[0] = A[0] + 1
        B[1] = A[1] + 1
        for j in T.unroll(8):
            B[j + 8] = A[j] * 2

    after = tir_passes.UnrollByAnnotation(max_steps=4)(tvm.IRModule({"main": two_loops}))
    tvm.ir.assert_structural_equal(after["main"], expected.with_attr("global_symbol", "two_loops"))


def test_unroll_leaves_serial_loops_and_returns_the_same_function():
    @T.prim_func
    def serial(A: T.Buffer((4,), "int32")):
        for i in range(4):
            A[i] = A[i] + 1

    after = tir_passes.UnrollByAnnotation()(tvm.IRModule({"main": serial}))["main"]
    assert after.same_as(serial)


@pytest.mark.parametrize("seed", [3, 7, 11, 42])
def test_unrolled_kernels_compute_the_same(seed):
    mod = tvm.IRModule({"main": random_program(seed)})
    a = np.random.default_rng(seed).integers(-100, 100, 64).astype("int32")

    def run(m):
        b = tvm.runtime.tensor(np.zeros(64, "int32"))
        tvm.compile(m, target="llvm")["main"](tvm.runtime.tensor(a), b)
        return b.numpy()

    np.testing.assert_array_equal(run(tir_passes.UnrollByAnnotation()(mod)), run(mod))


@T.prim_func
def divisions(A: T.Buffer((64,), "int32"), B: T.Buffer((64,), "int32")):
    for i in range(64):
        B[i] = T.truncdiv(i, 4) + T.truncmod(i + 3, 8) + T.truncdiv(A[i], 4) + A[i] // 16 + i * 8


def test_strength_reduce_uses_the_analyzer_for_truncation():
    @T.prim_func
    def expected(A: T.Buffer((64,), "int32"), B: T.Buffer((64,), "int32")):
        for i in range(64):
            B[i] = (
                T.shift_right(i, 2)
                + T.bitwise_and(i + 3, 7)
                + T.truncdiv(A[i], 4)  # A[i] may be negative: left alone
                + T.shift_right(A[i], 4)
                + T.shift_left(i, 3)
            )

    after = tir_passes.StrengthReduce()(tvm.IRModule({"main": divisions}))["main"]
    tvm.ir.assert_structural_equal(after, expected.with_attr("global_symbol", "divisions"))


def test_strength_reduce_keeps_a_loop_that_may_be_negative():
    @T.prim_func
    def negative(B: T.Buffer((8,), "int32")):
        for i in range(8):
            B[i] = T.truncdiv(i - 4, 2)

    after = tir_passes.StrengthReduce()(tvm.IRModule({"main": negative}))["main"]
    assert after.same_as(negative)


def test_strength_reduced_kernel_matches_numpy():
    a = np.random.default_rng(0).integers(-1000, 1000, 64).astype("int32")
    mod = tvm.IRModule({"main": divisions})
    out = tvm.runtime.tensor(np.zeros(64, "int32"))
    tvm.compile(tir_passes.StrengthReduce()(mod), target="llvm")["main"](tvm.runtime.tensor(a), out)
    i = np.arange(64, dtype="int32")
    expected = (i // 4) + ((i + 3) % 8) + np.trunc(a / 4).astype("int32") + a // 16 + i * 8
    np.testing.assert_array_equal(out.numpy(), expected)


def test_licm_hoists_shared_invariant_expressions():
    @T.prim_func
    def before(A: T.Buffer((16,), "int32"), x: T.int32, y: T.int32):
        for i in range(16):
            A[i] = A[i] * (x * y + 3) + (x * y + 3)

    @T.prim_func
    def expected(A: T.Buffer((16,), "int32"), x: T.int32, y: T.int32):
        licm_0: T.let[T.int32] = x * y + 3
        for i in range(16):
            A[i] = A[i] * licm_0 + licm_0

    after = tir_passes.LoopInvariantCodeMotion()(tvm.IRModule({"main": before}))["main"]
    tvm.ir.assert_structural_equal(after, expected.with_attr("global_symbol", "before"))


def test_licm_hoists_to_the_right_loop_and_not_loads_or_divisions():
    @T.prim_func
    def before(A: T.Buffer((64,), "int32"), B: T.Buffer((4,), "int32"), x: T.int32):
        for j in range(4):
            for i in range(16):
                A[i] = A[i] + j * 4 + B[0] * 2 + T.truncdiv(i, x) + (i + x)

    @T.prim_func
    def expected(A: T.Buffer((64,), "int32"), B: T.Buffer((4,), "int32"), x: T.int32):
        for j in range(4):
            licm_0: T.let[T.int32] = j * 4
            for i in range(16):
                A[i] = A[i] + licm_0 + B[0] * 2 + T.truncdiv(i, x) + (i + x)

    after = tir_passes.LoopInvariantCodeMotion()(tvm.IRModule({"main": before}))["main"]
    tvm.ir.assert_structural_equal(after, expected.with_attr("global_symbol", "before"))


def test_licm_kernel_matches_the_original():
    @T.prim_func
    def kernel(A: T.Buffer((64,), "int32"), B: T.Buffer((64,), "int32"), x: T.int32):
        for j in range(4):
            for i in range(16):
                B[j * 16 + i] = A[j * 16 + i] * (x * 3 + j) + (x - 1) * (j + 2)

    mod = tvm.IRModule({"main": kernel})
    hoisted = tir_passes.LoopInvariantCodeMotion()(mod)
    assert "licm_" in hoisted.script()
    a = np.random.default_rng(1).integers(-50, 50, 64).astype("int32")

    def run(m):
        out = tvm.runtime.tensor(np.zeros(64, "int32"))
        tvm.compile(m, target="llvm")["main"](tvm.runtime.tensor(a), out, 7)
        return out.numpy()

    np.testing.assert_array_equal(run(hoisted), run(mod))


def test_unroll_renews_bindings_so_the_result_compiles():
    @T.prim_func
    def before(A: T.Buffer((4,), "int32")):
        for i in T.unroll(2):
            x: T.let[T.int32] = A[i] + 1
            A[i] = x * 2

    ours = tir_passes.UnrollByAnnotation()(tvm.IRModule({"main": before}))
    tvm.ir.assert_structural_equal(
        ours, tvm.tirx.transform.UnrollLoop()(tvm.IRModule({"main": before}))
    )
    assert tvm.compile(ours, target="llvm") is not None  # each copy defines its own `x`


def test_licm_leaves_block_iteration_variables_alone():
    @T.prim_func(check_well_formed=False)
    def before(A: T.Buffer((16,), "int32"), x: T.int32):
        for i in range(16):
            with T.sblock("b"):
                vi = T.axis.spatial(16, i)
                A[vi] = A[vi] + vi * 3 + x

    after = tir_passes.LoopInvariantCodeMotion()(tvm.IRModule({"main": before}))["main"]
    assert "licm_" not in after.script()


@pytest.mark.parametrize("seed", range(6))
def test_passes_take_gpu_style_ir(seed):
    """Thread bindings (IterVars without a domain), blocks and local allocations pass through
    every pass; UnrollByAnnotation matches TVM's UnrollLoop and keeps a function without
    annotated loops as the same object."""
    from tir_corpus import gpu_program

    mod = tvm.IRModule({"main": gpu_program(seed)})
    tvm.ir.assert_structural_equal(
        tir_passes.UnrollByAnnotation()(mod), tvm.tirx.transform.UnrollLoop()(mod)
    )
    serial = tvm.IRModule({"main": gpu_program(seed, unroll=False)})
    assert tir_passes.UnrollByAnnotation()(serial)["main"].same_as(serial["main"])
    for make_pass in (tir_passes.StrengthReduce, tir_passes.LoopInvariantCodeMotion):
        for m in (mod, serial):
            text = make_pass()(m)["main"].script()
            assert 'thread="threadIdx.x"' in text and 'scope="local"' in text


def test_remove_no_op_matches_tvms_on_200_generated_programs():
    from tir_corpus import noop_program

    changed = 0
    for seed in range(200):
        mod = tvm.IRModule({"main": noop_program(seed)})
        theirs = tvm.tirx.transform.RemoveNoOp()(mod)
        tvm.ir.assert_structural_equal(tir_passes.RemoveNoOp()(mod), theirs)
        changed += not theirs["main"].body.same_as(mod["main"].body)
    assert changed > 100  # the corpus does exercise the pass


def test_remove_no_op_removes_what_does_nothing_and_keeps_effects():
    @T.prim_func
    def before(A: T.Buffer((16,), "int32"), n: T.int32):
        T.evaluate(n + 1)
        for i in range(4):
            for j in range(i - 4):  # never runs
                A[j] = 1
        for i in range(n):
            T.evaluate(i)
        if n < 3:
            T.evaluate(0)
        else:
            A[0] = 1
        A[4] = A[4]
        A[5] = A[5] + 0
        A[6] = A[7]
        with T.attr(0, "pragma_x", 1):
            T.evaluate(0)
        x: T.let[T.int32] = n + 1  # noqa: F841  (bindings stay, as in TVM)
        for i in range(n):
            T.evaluate(T.call_extern("int32", "f", i))

    @T.prim_func
    def expected(A: T.Buffer((16,), "int32"), n: T.int32):
        if not n < 3:
            A[0] = 1
        A[6] = A[7]
        x: T.let[T.int32] = n + 1  # noqa: F841
        for i in range(n):
            T.evaluate(T.call_extern("int32", "f", i))

    after = tir_passes.RemoveNoOp()(tvm.IRModule({"main": before}))["main"]
    tvm.ir.assert_structural_equal(after, expected.with_attr("global_symbol", "before"))


def test_remove_no_op_keeps_a_loop_whose_bound_calls_out():
    from tir_corpus import seq
    from tvm import tirx

    i = tirx.Var("i", "int32")
    call = tirx.call_extern("int32", "f")
    body = seq([tirx.For(i, 0, call, tirx.ForKind.SERIAL, tirx.Evaluate(i + 1))])
    after = tir_passes.RemoveNoOp()(tvm.IRModule({"main": tirx.PrimFunc([], body)}))["main"]
    tvm.ir.assert_structural_equal(after.body, tirx.Evaluate(call))


def test_remove_no_op_kernel_matches_numpy():
    @T.prim_func
    def kernel(A: T.Buffer((16,), "int32"), B: T.Buffer((16,), "int32")):
        for i in range(16):
            B[i] = A[i] * 2
            B[i] = B[i] + 0
            for j in range(i - 16):
                B[j] = 0
            if i < 8:
                T.evaluate(0)
            else:
                B[i] = B[i] + 1

    before = tvm.IRModule({"main": kernel})
    mod = tir_passes.RemoveNoOp()(before)
    tvm.ir.assert_structural_equal(mod, tvm.tirx.transform.RemoveNoOp()(before))
    a = np.arange(16, dtype="int32")
    out = tvm.runtime.tensor(np.zeros(16, "int32"))
    tvm.compile(mod, target="llvm")["kernel"](tvm.runtime.tensor(a), out)
    np.testing.assert_array_equal(out.numpy(), a * 2 + (a >= 8))


def test_narrow_datatype_matches_tvms_on_200_generated_programs():
    from tir_corpus import int64_program

    changed = 0
    for seed in range(200):
        mod = tvm.IRModule({"main": int64_program(seed)})
        theirs = tvm.tirx.transform.NarrowDataType(32)(mod)
        tvm.ir.assert_structural_equal(tir_passes.NarrowDataType(32)(mod), theirs)
        changed += not theirs["main"].body.same_as(mod["main"].body)
    assert changed > 100


def test_narrow_datatype_narrows_what_fits_and_casts_at_the_seams():
    @T.prim_func
    def before(
        A: T.Buffer((T.int64(64),), "float32"), B: T.Buffer((T.int64(64),), "float32"), n: T.int64
    ):
        for i in range(T.int64(8)):
            for j in range(T.int64(8)):
                B[i * T.int64(8) + j] = A[i * T.int64(8) + j] * T.float32(2)
        for k in range(n):  # unbounded: stays int64
            B[k] = A[k]
        for k in range(T.int64(4)):
            x: T.let[T.int64] = k * T.int64(2)
            B[x] = A[x + T.int64(1)]
        for k in range(T.int64(3000000000)):  # does not fit
            B[k] = A[k]

    @T.prim_func
    def expected(
        A: T.Buffer((T.int64(64),), "float32"), B: T.Buffer((T.int64(64),), "float32"), n: T.int64
    ):
        for i in range(8):
            for j in range(8):
                B[i * 8 + j] = A[i * 8 + j] * T.float32(2)
        for k in range(n):
            B[k] = A[k]
        for k in range(4):
            x: T.let[T.int32] = k * 2
            B[x] = A[T.Cast("int64", x) + T.int64(1)]
        for k in range(T.int64(3000000000)):
            B[k] = A[k]

    after = tir_passes.NarrowDataType(32)(tvm.IRModule({"main": before}))["main"]
    tvm.ir.assert_structural_equal(after, expected.with_attr("global_symbol", "before"))


def test_narrow_datatype_leaves_int32_programs_as_they_are():
    after = tir_passes.NarrowDataType(32)(tvm.IRModule({"main": divisions}))["main"]
    assert after.same_as(divisions)


def test_narrowed_kernel_matches_numpy():
    @T.prim_func
    def kernel(A: T.Buffer((T.int64(64),), "float32"), B: T.Buffer((T.int64(64),), "float32")):
        for i in range(T.int64(8)):
            for j in range(T.int64(8)):
                x: T.let[T.int64] = i * T.int64(8) + j
                B[x] = A[T.int64(63) - x] * T.float32(2) + T.Cast("float32", T.floordiv(x, 3))

    before = tvm.IRModule({"main": kernel})
    mod = tir_passes.NarrowDataType(32)(before)
    tvm.ir.assert_structural_equal(mod, tvm.tirx.transform.NarrowDataType(32)(before))
    # int32 loops; uses of the (int32) binding in int64 arithmetic are cast back, as in TVM
    assert "T.grid(8, 8)" in mod["main"].script() and 'T.Cast("int64", x)' in mod["main"].script()
    a = np.random.default_rng(2).standard_normal(64).astype("float32")
    out = tvm.runtime.tensor(np.zeros(64, "float32"))
    tvm.compile(mod, target="llvm")["kernel"](tvm.runtime.tensor(a), out)
    x = np.arange(64)
    np.testing.assert_allclose(out.numpy(), a[63 - x] * 2 + x // 3, rtol=1e-6)


def test_narrow_datatype_narrows_an_allocated_buffer_and_keeps_shifts_typed():
    @T.prim_func
    def before(A: T.Buffer((T.int64(64),), "float32"), C: T.Buffer((T.int64(64),), "int32")):
        L = T.alloc_buffer((T.int64(64),), "float32")
        for i in range(T.int64(64)):
            L[i] = A[i]
        for i in range(T.int64(8)):
            A[i << T.int64(2)] = L[i >> T.int64(1)]
            C[i & T.int64(3)] = T.Cast("int32", (i << T.int64(1)) + T.int64(1))

    mod = tvm.IRModule({"main": before})
    after = tir_passes.NarrowDataType(32)(mod)
    tvm.ir.assert_structural_equal(after, tvm.tirx.transform.NarrowDataType(32)(mod))
    text = after["main"].script()
    assert "T.alloc_buffer((64,))" in text  # shape and layout narrowed: a new buffer variable
    assert 'T.Cast("int64", i) << T.int64(1)' in text  # a value keeps its width, promoted
