"""Code generators from extensions: project_b's counting C backend for ext_dev (TVM's C
generator after project_b's counting pass), served through the tvm-extend core's dispatcher,
compiled by TVM and checked against numpy; and the errors of bad backends, bad targets and bad
options."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import tvm
from tir_corpus import matmul
from tvm.script import tirx as T

import tvm_extend
from tvm_extend import backend as B

project_b = pytest.importorskip("project_b")
DEV = tvm.ext_dev(0)


@T.prim_func
def clamp_axpy(
    A: T.Buffer((64,), "float32"),
    B: T.Buffer((64,), "float32"),
    C: T.Buffer((64,), "float32"),
    hi: T.float32,
):
    for i in range(64):
        C[i] = T.call_intrin("float32", "project_b.clamp", A[i] + B[i] * T.float32(2), -1.0, hi)


@T.prim_func(s_tir=True)
def rowsum_with_scratch(A: T.Buffer((4, 8), "float64"), Out: T.Buffer((4,), "float64")):
    tmp = T.alloc_buffer((8,), "float64")
    for i in range(4):
        for j in range(8):
            with T.sblock("t"):
                vi, vj = T.axis.remap("SS", [i, j])
                tmp[vj] = T.exp(A[vi, vj]) + T.sqrt(T.fabs(A[vi, vj]))
        for j in range(8):
            with T.sblock("s"):
                vi, vj = T.axis.remap("SR", [i, j])
                with T.init():
                    Out[vi] = T.float64(0)
                Out[vi] = Out[vi] + tmp[vj]


@T.prim_func
def integer_ops(A: T.Buffer((32,), "int32"), Out: T.Buffer((32,), "int32")):
    for i in range(32):
        Out[i] = (
            T.floordiv(A[i], 3) * 7
            + T.floormod(A[i], 5)
            + T.Select(A[i] > 0, A[i] >> 1, T.truncdiv(A[i], 2))
        )


@T.prim_func
def calls_unknown_c(A: T.Buffer((8,), "float32")):
    for i in range(8):
        A[i] = T.call_extern("float32", "no_such_c_function", A[i])


@T.prim_func
def vectorized(A: T.Buffer((8,), "float32")):
    for i in T.vectorized(8):
        A[i] = A[i] * T.float32(2)


def tensors(*arrays):
    return [tvm.runtime.tensor(a, DEV) for a in arrays]


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("counting_c"))


def test_the_backend_is_listed_with_its_options():
    (b,) = [b for b in B.list_backends() if b.name == "project_b.counting_c"]
    assert b.target_kind == "ext_dev"
    assert "project_b" in b.owner
    assert [o[0] for o in b.options] == ["cache", "cc", "counters", "opt"]
    assert "target.build.ext_dev" in tvm_extend.describe_owner("target.build.ext_dev") or (
        "tvm-extend core" in tvm_extend.describe_owner("target.build.ext_dev")
    )


def test_an_elementwise_kernel_with_an_op_matches_numpy_and_counts_every_access(cache):
    lib = tvm.compile(clamp_axpy, target=project_b.target(cache=cache))
    a, b = np.random.randn(64).astype("float32"), np.random.randn(64).astype("float32")
    A, Bt, C = tensors(a, b, np.zeros(64, "float32"))
    lib["clamp_axpy"](A, Bt, C, 0.5)
    np.testing.assert_allclose(C.numpy(), np.clip(a + 2 * b, -1, 0.5), rtol=1e-6)
    counts = project_b.profile(lib)["clamp_axpy_kernel"]
    assert counts == {
        "A": {"loads": 64, "stores": 0},
        "B": {"loads": 64, "stores": 0},
        "C": {"loads": 0, "stores": 64},
    }
    lib["clamp_axpy"](A, Bt, C, 0.5)
    assert project_b.profile(lib)["clamp_axpy_kernel"]["A"]["loads"] == 128
    project_b.reset_profile(lib)
    assert project_b.profile(lib)["clamp_axpy_kernel"]["C"]["stores"] == 0


def test_the_c_comes_from_tvms_generator_as_packed_functions(cache):
    lib = tvm.compile(integer_ops, target=project_b.target(cache=cache))
    source = project_b.source_of(lib)
    assert source.startswith("// tvm target: ")  # target.build.c's header
    assert "#define TVM_EXPORTS" in source and '#include "tvm/ffi/c_api.h"' in source
    # MakePackedAPI: the kernel is a tvm-ffi packed function that checks its arguments.
    assert "int32_t __tvm_ffi_integer_ops_kernel(void* self_handle, void* args" in source
    (module,) = tvm_extend.backend.modules(lib, "project_b.counting_c")
    with pytest.raises(TypeError, match="Mismatched type on argument #0 when calling"):
        module["integer_ops_kernel"](1.5, 2.5)


def test_the_counting_pass_before_after():
    @T.prim_func
    def before(A: T.Buffer((8,), "float32"), B: T.Buffer((8,), "float32")):
        for i in range(8):
            if A[i] > T.float32(0):
                B[i] = A[i] * A[i]

    @T.prim_func
    def expected(
        A: T.Buffer((8,), "float32"),
        B: T.Buffer((8,), "float32"),
        project_b_counters_ptr: T.handle("int64", "global"),
    ):
        T.func_attr({"tvm_extend.counters": ["A.loads", "A.stores", "B.loads", "B.stores"]})
        project_b_counters = T.decl_buffer((4,), "int64", data=project_b_counters_ptr)
        for i in range(8):
            project_b_counters[0] = project_b_counters[0] + T.int64(1)
            if A[i] > T.float32(0):
                project_b_counters[0] = project_b_counters[0] + T.int64(2)
                project_b_counters[3] = project_b_counters[3] + T.int64(1)
                B[i] = A[i] * A[i]

    after = project_b.CountAccesses()(tvm.IRModule({"main": before}))["main"]
    tvm.ir.assert_structural_equal(after, expected.with_attr("global_symbol", "before"))


def test_the_counting_pass_counts_each_evaluation_of_a_while_condition(cache):
    @T.prim_func
    def before(A: T.Buffer((1,), "int32")):
        while A[0] < 5:
            A[0] = A[0] + 1

    @T.prim_func
    def expected(A: T.Buffer((1,), "int32"), project_b_counters_ptr: T.handle("int64", "global")):
        T.func_attr({"tvm_extend.counters": ["A.loads", "A.stores"]})
        project_b_counters = T.decl_buffer((2,), "int64", data=project_b_counters_ptr)
        project_b_counters[0] = project_b_counters[0] + T.int64(1)
        while A[0] < 5:
            project_b_counters[0] = project_b_counters[0] + T.int64(1)
            project_b_counters[1] = project_b_counters[1] + T.int64(1)
            A[0] = A[0] + 1
            project_b_counters[0] = project_b_counters[0] + T.int64(1)

    after = project_b.CountAccesses()(tvm.IRModule({"main": before}))["main"]
    tvm.ir.assert_structural_equal(after, expected.with_attr("global_symbol", "before"))
    lib = tvm.compile(before, target=project_b.target(cache=cache))
    (A,) = tensors(np.zeros(1, "int32"))
    lib["before"](A)
    assert A.numpy()[0] == 5
    assert project_b.profile(lib)["before_kernel"]["A"] == {"loads": 6 + 5, "stores": 5}


@T.prim_func
def thread_bound(A: T.Buffer((64,), "float32"), B: T.Buffer((64,), "float32")):
    for bx in T.thread_binding(4, "blockIdx.x"):
        for tx in T.thread_binding(16, "threadIdx.x"):
            B[bx * 16 + tx] = A[bx * 16 + tx] * T.float32(2)


def test_thread_bindings_run_as_serial_loops(cache):
    lib = tvm.compile(thread_bound, target=project_b.target(cache=cache))
    a = np.arange(64, dtype="float32")
    A, B_ = tensors(a, np.zeros(64, "float32"))
    lib["thread_bound"](A, B_)  # the host passes the launch extents too; the kernel drops them
    np.testing.assert_array_equal(B_.numpy(), 2 * a)
    assert project_b.profile(lib)["thread_bound_kernel"]["B"] == {"loads": 0, "stores": 64}
    assert "for (int32_t threadIdx_x = 0; threadIdx_x < 16; ++threadIdx_x)" in (
        project_b.source_of(lib)
    )


def test_the_host_checks_arguments_before_the_kernel_runs(cache):
    lib = tvm.compile(clamp_axpy, target=project_b.target(cache=cache))
    cpu = [tvm.runtime.tensor(np.zeros(64, "float32")) for _ in range(3)]
    with pytest.raises(Exception, match="device_type"):
        lib["clamp_axpy"](*cpu, 1.0)


def test_a_reduction_counts_loads_and_stores_exactly(cache):
    lib = tvm.compile(matmul(16, 24, 8), target=project_b.target(cache=cache))
    a, b = np.random.randn(16, 8).astype("float32"), np.random.randn(8, 24).astype("float32")
    A, Bt, C = tensors(a, b, np.zeros((16, 24), "float32"))
    lib["func"](A, Bt, C)
    np.testing.assert_allclose(C.numpy(), a @ b, rtol=1e-5, atol=1e-5)
    m, n, k = 16, 24, 8
    assert project_b.profile(lib)["func_kernel"] == {
        "A": {"loads": m * n * k, "stores": 0},
        "B": {"loads": m * n * k, "stores": 0},
        "C": {"loads": m * n * k, "stores": m * n * (k + 1)},  # the init, then each update
    }


def test_scratch_allocations_and_math_in_float64(cache):
    lib = tvm.compile(rowsum_with_scratch, target=project_b.target(cache=cache))
    x = np.random.randn(4, 8)
    A, Out = tensors(x, np.zeros(4))
    lib["rowsum_with_scratch"](A, Out)
    np.testing.assert_allclose(Out.numpy(), (np.exp(x) + np.sqrt(np.abs(x))).sum(1), rtol=1e-12)
    assert project_b.profile(lib)["rowsum_with_scratch_kernel"]["tmp"] == {
        "loads": 32,
        "stores": 32,
    }


def test_integer_floor_division_and_shifts_match_numpy(cache):
    lib = tvm.compile(integer_ops, target=project_b.target(cache=cache))
    a = np.random.randint(-100, 100, 32).astype("int32")
    A, Out = tensors(a, np.zeros(32, "int32"))
    lib["integer_ops"](A, Out)
    expected = (a // 3) * 7 + a % 5 + np.where(a > 0, a >> 1, np.trunc(a / 2).astype("int32"))
    np.testing.assert_array_equal(Out.numpy(), expected)


def test_counters_off_generates_no_counting_code(cache):
    lib = tvm.compile(clamp_axpy, target=project_b.target(cache=cache, counters="off"))
    A, Bt, C = tensors(*(np.ones(64, "float32") for _ in range(3)))
    lib["clamp_axpy"](A, Bt, C, 9.0)
    np.testing.assert_allclose(C.numpy(), 3.0)
    assert project_b.profile(lib) == {"clamp_axpy_kernel": {}}
    assert "project_b_counters" not in project_b.source_of(lib)


def test_export_library_round_trips_the_module(cache, tmp_path):
    lib = tvm.compile(integer_ops, target=project_b.target(cache=cache))
    lib.export_library(str(tmp_path / "ints.so"))
    loaded = tvm.runtime.load_module(str(tmp_path / "ints.so"))
    a = np.arange(-16, 16, dtype="int32")
    A, Out = tensors(a, np.zeros(32, "int32"))
    loaded["integer_ops"](A, Out)
    assert Out.numpy()[0] == (-16 // 3) * 7 + (-16 % 5) + (-8)
    # Counters belong to each module, even when both use one cached library.
    assert project_b.profile(loaded)["integer_ops_kernel"]["Out"]["stores"] == 32
    assert project_b.profile(lib)["integer_ops_kernel"]["Out"]["stores"] == 0


def test_a_codegen_failure_names_the_generated_source(cache):
    with pytest.raises(RuntimeError, match="no_such_c_function") as info:
        tvm.compile(calls_unknown_c, target=project_b.target(cache=cache))
    message = str(info.value)
    assert "project_b.counting_c" in message and "C compiler" in message
    path = Path(re.search(r"generated source (\S+\.c)", message).group(1))
    assert path.is_file() and "no_such_c_function" in path.read_text()
    # The process goes on: the next build works.
    tvm.compile(integer_ops, target=project_b.target(cache=cache))


def test_what_the_backend_cannot_generate_is_refused_with_the_node():
    with pytest.raises(ValueError, match=r"cannot generate .*vector.*vectorized_kernel"):
        tvm.compile(vectorized, target=project_b.target())


def test_unknown_options_and_values_are_refused_with_what_is_known():
    with pytest.raises(ValueError, match=r"unknown option 'fast=1'.*'counters' \(count"):
        tvm.compile(integer_ops, target=project_b.target(fast=1))
    with pytest.raises(ValueError, match="option opt=9: give 0, 1, 2 or 3"):
        tvm.compile(integer_ops, target=project_b.target(opt=9))


def test_unknown_or_missing_backends_are_refused_with_the_loaded_ones():
    for config, message in [
        ({"kind": "ext_dev", "model": "nope", "host": "llvm"}, "unknown ext_dev backend 'nope'"),
        ({"kind": "ext_dev", "host": "llvm"}, "the ext_dev target names no backend"),
    ]:
        with pytest.raises(ValueError, match=message) as info:
            tvm.compile(integer_ops, target=tvm.target.Target(config))
        assert "'project_b.counting_c'" in str(info.value)
    with pytest.raises(ValueError, match="unknown backend 'nope'; loaded backends: .*project_b"):
        B.target("nope")


def test_the_offload_pass_is_in_the_default_pipeline_before_the_split():
    names = [n for n, _ in tvm_extend.pipeline.describe("default")]
    assert ("tvm_extend.OffloadToBackend", "tvm_extend") in tvm_extend.pipeline.describe()
    assert names.index("tvm_extend.OffloadToBackend") < names.index("tirx.SplitHostDevice")


def test_a_second_backend_serves_ext_dev_beside_project_b(test_extensions):
    ext = tvm_extend.load_extension(test_extensions / "libsim_backend.so")
    assert ext.backends == ["sim_backend.interp", "sim_backend.broken"]
    with pytest.raises(RuntimeError, match="asked to build integer_ops_kernel in mode exact"):
        tvm.compile(integer_ops, target=B.target("sim_backend.interp", mode="exact"))
    with pytest.raises(TypeError, match="returned ffi.String instead of a runtime Module"):
        tvm.compile(integer_ops, target=B.target("sim_backend.broken"))
    lib = tvm.compile(integer_ops, target=project_b.target())  # still project_b's
    A, Out = tensors(np.ones(32, "int32"), np.zeros(32, "int32"))
    lib["integer_ops"](A, Out)
    assert Out.numpy()[0] == 1


@pytest.mark.parametrize(
    "name, message",
    [
        (
            "backend_llvm",
            r"serves the target kind 'llvm', but target.build.llvm is already "
            r"registered by TVM",
        ),
        ("backend_nokind", r"serves the target kind 'no_such_kind', which TVM .* does not know"),
    ],
)
def test_a_backend_for_a_kind_tvm_builds_or_does_not_know_is_refused(
    test_extensions, name, message
):
    with pytest.raises(tvm_extend.ExtensionError, match=message):
        tvm_extend.load_extension(test_extensions / f"lib{name}.so")
    assert name not in [e.name for e in tvm_extend.list_extensions()]


def test_another_project_claiming_project_bs_name_is_refused_naming_both(test_extensions):
    with pytest.raises(tvm_extend.DuplicateRegistrationError) as info:
        tvm_extend.load_extension(test_extensions / "libimpostor.so")
    message = str(info.value)
    assert "'project_b' 9.9.9" in message and "'project_b' 0.1.0" in message
    assert project_b.make_clamp is not None
    lib = tvm.compile(clamp_axpy, target=project_b.target())  # the real one still works
    assert "clamp_axpy_kernel" in project_b.profile(lib)


def test_re_registering_an_op_is_refused_and_the_op_keeps_working():
    with pytest.raises(Exception, match="project_b.clamp"):
        tvm.get_global_func("ir.RegisterOp")("project_b.clamp", "again, through TVM's own API")
    op = tvm.ir.Op.get("project_b.clamp")
    assert "clamp(x, lo, hi)" in str(op.description)
    lib = tvm.compile(clamp_axpy, target=project_b.target())
    A, Bt, C = tensors(*(np.full(64, 3, "float32") for _ in range(3)))
    lib["clamp_axpy"](A, Bt, C, 2.0)
    np.testing.assert_allclose(C.numpy(), 2.0)


def test_project_bs_pass_lowers_its_op_before_after():
    @T.prim_func
    def before(A: T.Buffer((8,), "float32"), B: T.Buffer((8,), "float32")):
        for i in range(8):
            B[i] = T.call_intrin("float32", "project_b.clamp", A[i], T.float32(-1), T.float32(1))

    @T.prim_func
    def expected(A: T.Buffer((8,), "float32"), B: T.Buffer((8,), "float32")):
        for i in range(8):
            B[i] = T.max(T.min(A[i], T.float32(1)), T.float32(-1))

    after = project_b.LowerOps()(tvm.IRModule({"main": before}))["main"]
    tvm.ir.assert_structural_equal(after, expected.with_attr("global_symbol", "before"))


def test_the_op_built_in_cpp_is_the_call_tvmscript_writes():
    x = tvm.tirx.Var("x", "float32")
    lo, hi = tvm.tirx.const(0.0, "float32"), tvm.tirx.const(2.5, "float32")
    built = project_b.make_clamp(x, lo, hi)
    assert built.op.name == "project_b.clamp"
    tvm.ir.assert_structural_equal(
        built, tvm.tirx.call_intrin("float32", "project_b.clamp", x, lo, hi)
    )


def test_project_as_op_runs_on_llvm_and_in_project_bs_kernels():
    @T.prim_func
    def fma(A: T.Buffer((16,), "float32"), B: T.Buffer((16,), "float32")):
        for i in range(16):
            B[i] = T.call_intrin("float32", "project_a.fma", A[i], T.float32(3), T.float32(1))

    pytest.importorskip("project_a")
    a = np.arange(16, dtype="float32")
    for target, dev in [(tvm.target.Target("llvm"), tvm.cpu()), (project_b.target(), DEV)]:
        out = tvm.runtime.tensor(np.zeros(16, "float32"), dev)
        tvm.compile(fma, target=target)["fma"](tvm.runtime.tensor(a, dev), out)
        np.testing.assert_allclose(out.numpy(), 3 * a + 1)


@T.prim_func
def row_max(A: T.Buffer((4, 8), "float32"), Out: T.Buffer((4,), "float32")):
    for i in range(4):
        Out[i] = T.float32("-inf")
        for j in range(8):
            Out[i] = T.max(Out[i], A[i, j])


def test_infinite_constants_are_valid_c(cache):
    lib = tvm.compile(row_max, target=project_b.target(cache=cache))
    x = np.random.randn(4, 8).astype("float32")
    A, Out = tensors(x, np.zeros(4, "float32"))
    lib["row_max"](A, Out)
    np.testing.assert_array_equal(Out.numpy(), x.max(1))
    assert "(-1.000000e+00f / 0.000000e+00f)" in project_b.source_of(lib)  # TVM prints -inff


@T.prim_func
def narrow_and_bool(
    A: T.Buffer((4,), "uint8"),
    S: T.Buffer((4,), "int8"),
    F: T.Buffer((4,), "float32"),
    U: T.Buffer((4,), "uint8"),
    W: T.Buffer((4,), "int32"),
    M: T.Buffer((4,), "bool"),
    C: T.Buffer((4,), "int32"),
):
    for i in range(4):
        U[i] = (~A[i]) >> T.uint8(4)  # C would widen ~a to int
        W[i] = T.Cast("int32", (S[i] << T.int8(1)) // T.int8(2))  # int8 wraps around
        M[i] = F[i] > T.float32(0)  # bool buffers hold one byte per element
        C[i] = T.Cast("int32", T.Cast("bool", F[i]))  # bool(0.5) is true, not 0


@T.prim_func
def divide_by_argument(A: T.Buffer((4,), "int32"), B: T.Buffer((4,), "int32"), args: T.int32):
    for i in range(4):
        B[i] = T.floordiv(A[i], args) + T.floormod(A[i], args)  # a Let; a parameter named args


def test_narrow_integers_bools_and_runtime_divisors_match_llvm(cache):
    inputs = [
        np.array([0, 1, 15, 255], "uint8"),
        np.array([64, 100, -100, 3], "int8"),
        np.array([0.5, 0.0, -0.25, 2.0], "float32"),
        np.zeros(4, "uint8"),
        np.zeros(4, "int32"),
        np.zeros(4, "bool"),
        np.zeros(4, "int32"),
    ]
    cases = [
        (narrow_and_bool, inputs, ()),
        (divide_by_argument, [np.array([-7, 7, 5, -5], "int32"), np.zeros(4, "int32")], (3,)),
    ]
    for func, arrays, scalars in cases:
        results = []
        for target, dev in [
            (tvm.target.Target("llvm"), tvm.cpu()),
            (project_b.target(cache=cache), DEV),
        ]:
            tensors_ = [tvm.runtime.tensor(a, dev) for a in arrays]
            tvm.compile(func, target=target)[func.attrs["global_symbol"]](*tensors_, *scalars)
            results.append([t.numpy() for t in tensors_])
        for ours, theirs in zip(results[1], results[0]):
            np.testing.assert_array_equal(ours, theirs)


def test_module_functions_outlive_the_module(cache):
    lib = tvm.compile(integer_ops, target=project_b.target(cache=cache))
    (module,) = [m for m in lib.mod.imports if m.kind == "project_b.counting_c"]
    counters, path = (
        module.get_function("tvm_extend.counters"),
        module.get_function("tvm_extend.source_path"),
    )
    del module, lib
    import gc

    gc.collect()
    assert str(path()).endswith("kernels.c")
    assert "integer_ops_kernel" in counters()


def test_the_compiler_runs_without_a_shell(tmp_path):
    odd = tmp_path / "it's; touch INJECTED; echo"
    lib = tvm.compile(integer_ops, target=project_b.target(cache=str(odd)))
    assert not (Path.cwd() / "INJECTED").exists() and not (tmp_path / "INJECTED").exists()
    assert str(odd) in str(project_b.source_of(lib)) or odd.is_dir()


def test_threads_compiling_one_kernel_at_once_share_the_cache(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    target = project_b.target(cache=str(tmp_path))
    with ThreadPoolExecutor(4) as pool:
        libs = list(pool.map(lambda _: tvm.compile(integer_ops, target=target), range(4)))
    for lib in libs:
        A, Out = tensors(np.arange(32, dtype="int32"), np.zeros(32, "int32"))
        lib["integer_ops"](A, Out)
        assert Out.numpy()[3] == 1 * 7 + 3 + 1


@T.prim_func
def scratch_per_iteration(A: T.Buffer((100,), "float32"), B: T.Buffer((100,), "float32")):
    for i in range(100):
        tmp = T.alloc_buffer((i + 1,), "float32")
        tmp[i] = A[i] * T.float32(2)
        B[i] = tmp[i]


@T.prim_func
def scratch_of_runtime_size(
    A: T.Buffer((4096,), "float32"), B: T.Buffer((4096,), "float32"), n: T.int32
):
    for r in range(3):
        tmp = T.alloc_buffer((n,), "float32")
        for j in range(n):
            tmp[j] = A[j] * T.float32(2)
        for j in range(n):
            B[j] = tmp[n - 1 - j] + T.Cast("float32", r)


def test_allocations_are_freed_at_the_end_of_their_scope(cache):
    lib = tvm.compile(scratch_per_iteration, target=project_b.target(cache=cache))
    A, Out = tensors(np.arange(100, dtype="float32"), np.zeros(100, "float32"))
    lib["scratch_per_iteration"](A, Out)  # more iterations than the pool holds allocations
    np.testing.assert_array_equal(Out.numpy(), 2 * np.arange(100, dtype="float32"))
    # Scratch memory of a size known at run time comes from TVM's CPU workspace, and goes back.
    lib = tvm.compile(scratch_of_runtime_size, target=project_b.target(cache=cache))
    a = np.arange(4096, dtype="float32")
    A, Out = tensors(a, np.zeros(4096, "float32"))
    lib["scratch_of_runtime_size"](A, Out, 4096)
    np.testing.assert_array_equal(Out.numpy(), 2 * a[::-1] + 2)
    source = project_b.source_of(lib)
    assert "TVMBackendAllocWorkspace(1, 0" in source
    assert "TVMBackendFreeWorkspace(1, 0, tmp)" in source


def test_a_missing_compiler_and_a_corrupt_saved_module_are_reported():
    with pytest.raises(RuntimeError, match="cannot run '/no/such/cc'"):
        tvm.compile(row_max, target=project_b.target(cc="/no/such/cc"))
    load = tvm.get_global_func("ffi.Module.load_from_bytes.project_b.counting_c")
    with pytest.raises(ValueError, match="saved C backend module is corrupt"):
        load(b"12:not enough")
    with pytest.raises(ValueError, match="saved C backend module is corrupt"):
        load(b"x:")
