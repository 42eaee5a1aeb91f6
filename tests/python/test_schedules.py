"""Schedules from extensions: project_a's register-blocked matmul primitive, its legality check,
its rule and its pass; checked against numpy, with TVMScript before/after comparisons."""

from __future__ import annotations

import numpy as np
import pytest
import tvm
from tir_corpus import matmul
from tvm import s_tir
from tvm.script import tirx as T

project_a = pytest.importorskip("project_a")
TARGET = tvm.target.Target({"kind": "llvm", "mcpu": tvm.target.codegen.llvm_get_system_cpu()})


@T.prim_func(s_tir=True)
def transposed_b(
    A: T.Buffer((32, 16), "float32"),
    B: T.Buffer((32, 16), "float32"),
    C: T.Buffer((32, 32), "float32"),
):
    for i, j, k in T.grid(32, 32, 16):
        with T.sblock("C"):
            vi, vj, vk = T.axis.remap("SSR", [i, j, k])
            with T.init():
                C[vi, vj] = T.float32(0)
            C[vi, vj] = C[vi, vj] + A[vi, vk] * B[vj, vk]


@T.prim_func(s_tir=True)
def elementwise(A: T.Buffer((64,), "float32"), B: T.Buffer((64,), "float32")):
    for i in range(64):
        with T.sblock("B"):
            vi = T.axis.remap("S", [i])
            B[vi] = A[vi] + T.float32(1)


def transforms(sch) -> list[str]:
    """The trace's steps that change the IR (lookups like get_sblock do not)."""
    lines = str(sch.trace).splitlines()
    return [line for line in lines if "get_sblock" not in line and line.strip() != "pass"]


def run(lib, m, n, k, name="func"):
    rng = np.random.default_rng(m * n + k)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    out = tvm.runtime.tensor(np.full((m, n), np.nan, dtype=np.float32))
    lib[name](tvm.runtime.tensor(a), tvm.runtime.tensor(b), out)
    np.testing.assert_allclose(out.numpy(), a @ b, rtol=2e-4, atol=2e-4 * np.sqrt(k))


@pytest.mark.parametrize("m, n, k", [(96, 64, 48), (100, 70, 33), (1, 17, 5), (257, 129, 64)])
def test_the_primitive_gives_numpy_results_for_multiples_and_non_multiples(m, n, k):
    sch = s_tir.Schedule(matmul(m, n, k))
    project_a.matmul_microkernel(sch, "C")
    run(tvm.compile(sch.mod, target=TARGET), m, n, k)


@pytest.mark.parametrize("mr, nr, nc, parallel", [(4, 8, 8, False), (3, 24, 96, True)])
def test_other_tiles_and_serial_code(mr, nr, nc, parallel):
    sch = s_tir.Schedule(matmul(50, 60, 30))
    project_a.matmul_microkernel(sch, "C", mr=mr, nr=nr, nc=nc, parallel=parallel)
    run(tvm.compile(sch.mod, target=TARGET), 50, 60, 30)


def test_the_primitive_packs_operands_and_keeps_an_accumulator_tile():
    sch = s_tir.Schedule(matmul(96, 64, 48))
    project_a.matmul_microkernel(sch, "C", mr=6, nr=16)
    script = sch.mod.script()
    # A in [M/6, K, 6] panels, B in [N/16, K, 16] panels, an accumulator written back per tile
    assert "A_global = T.sblock_alloc_buffer((16, 48, 6))" in script
    assert "B_global = T.sblock_alloc_buffer((4, 48, 16))" in script
    assert "C_global = T.sblock_alloc_buffer((96, 64))" in script
    assert "for ax0, ax1 in T.grid(6, 16)" in script  # the write-back of one 6 x 16 tile
    assert "T.vectorized(16)" in script and "T.unroll(6)" in script and "T.parallel(16)" in script
    # the steps are in the trace, as if called from Python one by one
    trace = str(sch.trace)
    for step in ("cache_read", "transform_layout", "cache_write", "reverse_compute_at"):
        assert step in trace


@pytest.mark.parametrize(
    "func, block, reason",
    [
        (elementwise, "B", "it has 1 iterators, not 3"),
        (transposed_b, "C", "a transposed operand is not supported"),
        (matmul(16, 16, 16, "float64"), "C", "'A' is not float32"),
    ],
)
def test_an_illegal_request_is_refused_and_the_function_is_unchanged(func, block, reason):
    sch = s_tir.Schedule(func)
    before = sch.mod
    trace_before = transforms(sch)
    assert reason in project_a.check_matmul(sch, block)
    with pytest.raises(ValueError, match="The schedule is unchanged") as info:
        project_a.matmul_microkernel(sch, block)
    assert reason in str(info.value) and f"block '{block}'" in str(info.value)
    tvm.ir.assert_structural_equal(sch.mod, before)
    assert transforms(sch) == trace_before


def test_a_scheduled_block_is_refused_without_changing_anything():
    sch = s_tir.Schedule(matmul(32, 32, 32))
    i, _, _ = sch.get_loops("C")
    sch.split(i, [None, 4])
    before = sch.mod
    with pytest.raises(ValueError, match="its loops are already scheduled"):
        project_a.matmul_microkernel(sch, "C")
    tvm.ir.assert_structural_equal(sch.mod, before)


def test_a_bad_tile_is_refused_before_anything_changes():
    sch = s_tir.Schedule(matmul(32, 32, 32))
    before = sch.mod
    with pytest.raises(ValueError, match="nr a multiple of 4"):
        project_a.matmul_microkernel(sch, "C", nr=6)
    tvm.ir.assert_structural_equal(sch.mod, before)


def test_the_rule_schedules_every_matmul_and_leaves_the_rest():
    mm = matmul(64, 48, 32).with_attr("global_symbol", "mm")
    mod = tvm.IRModule({"mm": mm, "add": elementwise})
    sch = s_tir.Schedule(mod)
    assert project_a.apply_rules(sch) == ["mm/C"]
    tvm.ir.assert_structural_equal(sch.mod["add"], mod["add"])
    run(tvm.compile(sch.mod, target=TARGET), 64, 48, 32, name="mm")


def test_the_pass_in_the_default_pipeline_schedules_a_plain_compile():
    from tvm_extend import pipeline

    assert ("project_a.transform.AutoSchedule", "project_a") in pipeline.describe()
    func = matmul(64, 64, 64)
    bound = tvm.tirx.transform.BindTarget(TARGET)(tvm.IRModule({"main": func}))
    after = project_a.AutoSchedule()(bound)
    expected = s_tir.Schedule(bound)
    project_a.matmul_microkernel(expected, "C")
    # The pass records the layout it scheduled with: project_a's object type, in TVM's IR.
    layout = project_a.tile_layout(TARGET)
    scheduled = expected.mod["main"].with_attr("project_a.tile_layout", layout)
    tvm.ir.assert_structural_equal(after, tvm.IRModule({"main": scheduled}))
    run(tvm.compile(func, target=TARGET), 64, 64, 64)


def test_the_tile_layout_is_an_object_type_of_project_a():
    layout = project_a.tile_layout(TARGET)
    assert isinstance(layout, project_a.TileLayout)
    assert (layout.mr, layout.nr, layout.nc) == project_a.default_tile(TARGET)
    assert layout.chosen_by in ("avx512f", "avx2", "sse") and layout.parallel
    same = project_a.TileLayout(layout.mr, layout.nr, layout.nc, True, layout.chosen_by)
    tvm.ir.assert_structural_equal(layout, same)
    assert str(same).startswith("project_a.TileLayout(mr=")
    with tvm.transform.PassContext(config={"project_a.tile": "3x12"}):
        tvm.ir.assert_structural_equal(
            project_a.tile_layout(TARGET),
            project_a.TileLayout(3, 12, max(layout.nc, 12), True, "project_a.tile"),
        )


def test_the_pass_leaves_functions_for_other_targets_alone():
    func = matmul(32, 32, 32).with_attr("target", tvm.target.Target("ext_dev"))
    mod = tvm.IRModule({"main": func})
    tvm.ir.assert_structural_equal(project_a.AutoSchedule()(mod), mod)


@T.prim_func(s_tir=True)
def loops_j_i_k(
    A: T.Buffer((24, 16), "float32"),
    B: T.Buffer((16, 48), "float32"),
    C: T.Buffer((24, 48), "float32"),
):
    for j, i, k in T.grid(48, 24, 16):
        with T.sblock("C"):
            vi, vj, vk = T.axis.remap("SSR", [i, j, k])
            with T.init():
                C[vi, vj] = T.float32(0)
            C[vi, vj] = C[vi, vj] + A[vi, vk] * B[vk, vj]


@T.prim_func(s_tir=True)
def square_of_a(A: T.Buffer((16, 16), "float32"), C: T.Buffer((16, 16), "float32")):
    for i, j, k in T.grid(16, 16, 16):
        with T.sblock("C"):
            vi, vj, vk = T.axis.remap("SSR", [i, j, k])
            with T.init():
                C[vi, vj] = T.float32(0)
            C[vi, vj] = C[vi, vj] + A[vi, vk] * A[vk, vj]


@T.prim_func(s_tir=True)
def predicated(
    A: T.Buffer((16, 16), "float32"),
    B: T.Buffer((16, 16), "float32"),
    C: T.Buffer((16, 16), "float32"),
):
    for i, j, k in T.grid(16, 16, 16):
        with T.sblock("C"):
            vi, vj, vk = T.axis.remap("SSR", [i, j, k])
            T.where(i < 12)
            with T.init():
                C[vi, vj] = T.float32(0)
            C[vi, vj] = C[vi, vj] + A[vi, vk] * B[vk, vj]


@T.prim_func(s_tir=True)
def a_block_named_a_pad(
    A: T.Buffer((14, 16), "float32"),
    B: T.Buffer((16, 32), "float32"),
    C: T.Buffer((14, 32), "float32"),
    X: T.Buffer((14, 16), "float32"),
):
    for i, j in T.grid(14, 16):
        with T.sblock("A_pad"):
            vi, vj = T.axis.remap("SS", [i, j])
            X[vi, vj] = A[vi, vj] * T.float32(2)
    for i, j, k in T.grid(14, 32, 16):
        with T.sblock("C"):
            vi, vj, vk = T.axis.remap("SSR", [i, j, k])
            with T.init():
                C[vi, vj] = T.float32(0)
            C[vi, vj] = C[vi, vj] + A[vi, vk] * B[vk, vj]


@pytest.mark.parametrize(
    "func, reason",
    [
        (loops_j_i_k, "its loops are not i, j, k in this order"),
        (square_of_a, "A, B and C are not three buffers"),
        (predicated, "it has a predicate"),
    ],
)
def test_blocks_the_steps_would_mishandle_are_refused_by_the_check(func, reason):
    sch = s_tir.Schedule(func)
    before = sch.mod
    assert reason in project_a.check_matmul(sch, "C")
    with pytest.raises(ValueError, match=reason):
        project_a.matmul_microkernel(sch, "C")
    tvm.ir.assert_structural_equal(sch.mod, before)


def test_padded_copies_are_found_by_what_they_write_not_by_name():
    sch = s_tir.Schedule(a_block_named_a_pad)
    project_a.matmul_microkernel(sch, "C", mr=7, nr=32, nc=32)
    lib = tvm.compile(sch.mod, target=TARGET)
    rng = np.random.default_rng(1)
    a, b = (
        rng.standard_normal((14, 16), dtype=np.float32),
        rng.standard_normal((16, 32), dtype=np.float32),
    )
    out, x = (tvm.runtime.tensor(np.zeros(s, np.float32)) for s in [(14, 32), (14, 16)])
    lib["a_block_named_a_pad"](tvm.runtime.tensor(a), tvm.runtime.tensor(b), out, x)
    np.testing.assert_allclose(out.numpy(), a @ b, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(x.numpy(), 2 * a)
