"""Copy-on-write rewrites that change types: the mutator rebuilds a changed expression through
TVM's registered constructor, so its type is the one TVM computes (lanes, dtype), and fields TVM
leaves empty (a thread's IterVar has no `dom`) pass through the visitor and the mutator."""

import numpy as np
import pytest
import tvm
from tir_corpus import gpu_program
from tvm import tirx
from tvm.script import tirx as T

import tvm_extend


@pytest.fixture(scope="module")
def views(test_extensions):
    return tvm_extend.load_extension(str(test_extensions / "libviews_ext.so"))


def dtype(expr) -> str:
    return str(expr.ty.dtype)


def x_plus_one_times_two(x):
    one, two = tirx.const(1, dtype(x)), tirx.const(2, dtype(x))
    return tirx.Mul(tirx.Add(x, one), two)


def test_lane_changing_rewrite_is_typed_by_tvms_constructors(views):
    x = tirx.Var("x", "int32")
    got = views["ramp_var"](x_plus_one_times_two(x), x, 4, True)
    ramp, lanes = tirx.Ramp(x, 1, 4), 4
    expected = tirx.Mul(
        tirx.Add(ramp, tirx.Broadcast(tirx.const(1), lanes)), tirx.Broadcast(tirx.const(2), lanes)
    )
    tvm.ir.assert_structural_equal(got, expected)
    assert dtype(got) == "int32x4" and dtype(got.a) == "int32x4"


def test_ill_typed_rewrite_is_refused_by_tvm_not_kept(views):
    # x -> Ramp(x, 1, 4) alone makes `int32x4 + int32`, which TVM's constructor rejects.
    x = tirx.Var("x", "int32")
    with pytest.raises(Exception, match="mismatched types|dtype|lanes"):
        views["ramp_var"](x_plus_one_times_two(x), x, 4, False)


def test_dtype_changing_rewrite_is_typed_by_tvms_constructors(views):
    x, wide = tirx.Var("x", "int32"), tirx.Var("x64", "int64")
    got = views["widen_var"](x_plus_one_times_two(x), x, wide)
    tvm.ir.assert_structural_equal(got, x_plus_one_times_two(wide))
    assert dtype(got) == "int64" and dtype(got.a) == "int64"


def test_untouched_subtrees_stay_the_same_objects(views):
    x, y, z = (tirx.Var(n, "int32") for n in "xyz")
    untouched = tirx.Sub(y, z)
    assert views["ramp_var"](untouched, x, 4, False).same_as(untouched)
    w = tirx.Var("w", "int32")
    before = tirx.Add(tirx.Mul(x, y), untouched)
    got = views["widen_var"](before, x, w)  # no constants: only x's ancestors are rebuilt
    tvm.ir.assert_structural_equal(got, tirx.Add(tirx.Mul(w, y), untouched))
    assert got.b.same_as(untouched) and got.a.b.same_as(y)


@T.prim_func
def scale_kernel(A: T.Buffer((64,), "int32"), B: T.Buffer((64,), "int32")):
    for i in range(64):
        B[i] = A[i] * 3 + 2


def test_vectorized_loop_is_well_typed_and_computes_the_same(views):
    func = views["vectorize_loop"](scale_kernel, 4)
    loop = func.body
    assert loop.extent.value == 16
    assert dtype(loop.body.value) == "int32x4"  # the load below it too
    assert dtype(loop.body.value.a.a) == "int32x4"
    load = tirx.BufferLoad(scale_kernel.params[0], [tirx.Ramp(loop.loop_var * 4, 1, 4)])
    expected = tirx.Add(
        tirx.Mul(load, tirx.Broadcast(tirx.const(3), 4)), tirx.Broadcast(tirx.const(2), 4)
    )
    tvm.ir.assert_structural_equal(loop.body.value, expected)
    a = np.random.default_rng(0).integers(-100, 100, 64).astype("int32")
    b = tvm.runtime.tensor(np.zeros(64, "int32"))
    tvm.compile(tvm.IRModule({"main": func}), target="llvm")["main"](tvm.runtime.tensor(a), b)
    np.testing.assert_array_equal(b.numpy(), a * 3 + 2)


@pytest.mark.parametrize("seed", range(8))
def test_gpu_style_ir_passes_through_the_visitor_and_mutator(views, seed):
    func = gpu_program(seed)
    assert views["walk_unchanged"](func) > 0  # the identity mutator keeps every object
    rebuilt = views["rebuild_all"](func)
    assert not rebuilt.body.same_as(func.body)
    tvm.ir.assert_structural_equal(rebuilt, func)
