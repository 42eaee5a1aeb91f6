"""Typed IR views: field access, casts, constructors, visitor and mutator against the real TVM;
load-time schema checks; and an extension compiled once that follows a moved schema."""

import subprocess
import sys

import pytest
import tvm
from tvm.script import tirx as T

import tvm_extend
from conftest import BUILD, ROOT, cmake_build, run_python, tvm_key


@pytest.fixture(scope="module")
def views(test_extensions):
    return tvm_extend.load_extension(str(test_extensions / "libviews_ext.so"))


@T.prim_func
def store_kernel(A: T.Buffer((16,), "int32"), B: T.Buffer((16,), "int32")):
    for i in range(16):
        B[i] = A[i] * 3 + 2


def test_fields_of_every_kind(views):
    text = views["describe"](store_kernel)
    assert text == (
        "loop i in [0, 16) kind=0 | const 0 | const 16 | store B[1 index] | load A dtype 32 | "
        "const 3 | const 2 | "
    )


def test_identity_mutator_returns_the_same_objects(views):
    assert views["identity_keeps_objects"](store_kernel)


def test_mutator_rebuilds_only_what_changed(views):
    @T.prim_func
    def expected(A: T.Buffer((16,), "int32"), B: T.Buffer((16,), "int32")):
        for i in range(16):
            B[i] = A[i] * 4 + 3

    after = views["bump_constants"](store_kernel)
    tvm.ir.assert_structural_equal(after, expected.with_attr("global_symbol", "store_kernel"))
    # The loop bounds were not in a store, so they are the very same objects.
    assert after.body.extent.same_as(store_kernel.body.extent)


def test_constructors_build_what_python_builds(views):
    loop = views["build_loop"](8)
    i = tvm.tirx.Var("i", "int32")
    expected = tvm.tirx.For(
        i, 0, 8, tvm.tirx.ForKind.SERIAL, tvm.tirx.Evaluate(tvm.tirx.Mul(i, tvm.tirx.const(2)))
    )
    tvm.ir.assert_structural_equal(loop, expected, map_free_vars=True)


def test_operators_promote_and_fold_like_tvm(views):
    x, y = tvm.tirx.Var("x", "int32"), tvm.tirx.Var("y", "int64")
    expected = tvm.tirx.all((x + 1) * 2 < tvm.tirx.floordiv(y, 4), x != y)
    tvm.ir.assert_structural_equal(views["operators"](x, y), expected)


def test_builder_builds_what_tvmscript_builds(views):
    @T.prim_func
    def scale(A: T.Buffer((64,), "int32"), B: T.Buffer((64,), "int32")):
        for i in range(64):
            if i < 32:
                B[i] = A[i] * 2
            else:
                B[i] = A[i] + 1

    tvm.ir.assert_structural_equal(views["build_function"](False), scale)


@pytest.mark.parametrize("with_block", [False, True])
def test_built_function_compiles_and_runs(views, with_block):
    import numpy as np

    func = views["build_function"](with_block)
    if with_block:
        assert "T.sblock" in func.script()
    a = np.arange(64, dtype="int32")
    b = tvm.runtime.tensor(np.zeros(64, "int32"))
    tvm.compile(func, target="llvm")["scale"](tvm.runtime.tensor(a), b)
    np.testing.assert_array_equal(b.numpy(), np.where(a < 32, a * 2, a + 1))


def test_misuse_raises_instead_of_reading_wrong_memory(views):
    x = tvm.tirx.Var("x", "int32")
    with pytest.raises(TypeError, match=f"expected tirx.For but got {tvm_key('prim.Add')}"):
        views["for_body_of"](x + 1)
    with pytest.raises(ValueError, match="reading field `kind` of a null `tirx.For` view"):
        views["null_view_kind"]()


def test_mutator_results_are_checked(views):
    @T.prim_func(check_well_formed=False)
    def with_block(A: T.Buffer((4,), "int32")):
        for i in range(4):
            with T.sblock("b"):
                A[i] = 1

    block = tvm_key("s_tir.SBlock")
    with pytest.raises(TypeError, match=f"expected {block} but got tirx.Evaluate"):
        views["mutate_badly"](with_block, False)
    with pytest.raises(ValueError, match=f"returned null for field `body` of `{block}`"):
        views["mutate_badly"](with_block, True)


def test_with_field_copies_on_write(views):
    after = views["replace_loop_body"](store_kernel)
    assert after.body.body.value.value == 7
    assert after.body.extent.same_as(store_kernel.body.extent)
    assert isinstance(store_kernel.body.body, tvm.tirx.BufferStore)  # the input is untouched


def test_transient_global_function_handles(views):
    assert views["transient_handles"](50) == sum(1 + i for i in range(50))


def test_downcast_names_both_types(views):
    x = tvm.tirx.Var("x", "int32")
    with pytest.raises(TypeError, match=f"expected tirx.For but got {tvm_key('prim.Add')}"):
        views["downcast_to_for"](x + 1)


def test_typed_call_of_a_tvm_analysis(views):
    x, y = tvm.tirx.Var("x", "int32"), tvm.tirx.Var("y", "int32")
    assert views["count_free_vars"](tvm.tirx.Evaluate(x + y * x)) == 2


def test_signature_mismatch_refuses_the_load(test_extensions):
    with pytest.raises(tvm_extend.SchemaError) as info:
        tvm_extend.load_extension(str(test_extensions / "libbad_signature.so"))
    message = str(info.value)
    add = tvm_key("prim.Add")
    assert f"global function `{add}` has signature (ir.Expr, ir.Expr, ir.Span) -> {add}" in (
        message
    )
    assert "calls it as (int, bool) -> int" in message
    assert f"running TVM {tvm.__version__}" in message
    assert tvm.get_global_func("bad_signature.call", allow_missing=True) is None


def test_missing_global_refuses_the_load(test_extensions):
    with pytest.raises(
        tvm_extend.SchemaError, match="no global function `tirx.analysis.RemovedInSomeRelease`"
    ):
        tvm_extend.load_extension(str(test_extensions / "libmissing_global.so"))


def test_generated_header_matches_tvm_reflection(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "tvm_extend.ir_views", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    views = tmp_path / "tvm_extend" / "ir"
    header = (views / "tir.h").read_text()
    assert out.stdout.strip().endswith("tir.h")
    assert f"apache-tvm {tvm.__version__}" in header
    assert "#include <tvm_extend/ir/ir.h>" in header
    # The shared ir.* types (Call, Var, IRModule, ...) are in ir.h, which tir.h includes and
    # whose classes it names (tests/python/test_relax_views.py checks the split).
    header += (views / "ir.h").read_text()
    # Every expression and statement type TVM registers has a view, with TVM's field names.
    for key, fields in {
        "prim.Add": ["a", "b"],
        "prim.Select": ["condition", "true_value", "false_value"],
        "prim.Let": ["var", "value", "body"],
        "prim.Cast": ["value"],
        "prim.Ramp": ["base", "stride", "lanes"],
        "prim.Broadcast": ["value", "lanes"],
        "ir.Call": ["op", "args"],
        "tirx.For": ["loop_var", "min", "extent", "kind", "body"],
        "tirx.BufferStore": ["buffer", "value", "indices"],
        "tirx.SeqStmt": ["seq"],
        "tirx.IfThenElse": ["condition", "then_case", "else_case"],
        "tirx.AttrStmt": ["node", "attr_key", "value", "body"],
        "tirx.AllocBuffer": ["buffer", "annotations"],
        "tirx.Evaluate": ["value"],
        "s_tir.SBlock": ["iter_vars", "reads", "writes", "body"],
        "s_tir.SBlockRealize": ["iter_values", "predicate", "block"],
        "tirx.PrimFunc": ["params", "body"],
        "ir.IRModule": ["functions"],
        "tirx.BufferType": ["shape", "strides"],
    }.items():
        key = tvm_key(key)
        assert f'static constexpr const char* kTypeKey = "{key}";' in header, key
        for name in fields:
            assert f'kTypeKey = "{key}"; static constexpr const char* kName = "{name}";' in header


@pytest.fixture(scope="module")
def point_build():
    build = BUILD / "schema"
    cmake_build(ROOT / "tests" / "schema", build, "-DPOINT_VIEWS_DIR=")  # the layouts first
    views_dir = build / "views"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "tvm_extend.ir_views",
            "--out",
            str(views_dir),
            "--only",
            "--type-key",
            "tvm_extend_testing.Point",
            "--preload",
            str(build / "libpoint_v1.so"),
            "--namespace",
            "tvm_extend::testing",
            "--header",
            "tvm_extend/testing/point.h",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    cmake_build(ROOT / "tests" / "schema", build, f"-DPOINT_VIEWS_DIR={views_dir}")
    return build


POINT_RUN = """
import ctypes, sys, tvm, tvm_extend
ctypes.CDLL(sys.argv[1], mode=ctypes.RTLD_GLOBAL)
make = tvm.get_global_func("tvm_extend_testing.MakePoint")
try:
    ext = tvm_extend.load_extension(sys.argv[2])
    print("weighted", ext["weighted"](make(3, 4)))
except tvm_extend.SchemaError as err:
    print("refused", err)
print("alive")
"""


def run_point(build, layout):
    return subprocess.run(
        [
            sys.executable,
            "-c",
            POINT_RUN,
            str(build / f"libpoint_v{layout}.so"),
            str(build / "libpoint_reader.so"),
        ],
        capture_output=True,
        text=True,
    )


def test_views_follow_the_schema_they_were_built_with(point_build):
    out = run_point(point_build, 1)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["weighted", "34", "alive"]


def test_views_follow_reordered_and_extended_fields(point_build):
    out = run_point(point_build, 2)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["weighted", "34", "alive"]


def test_a_changed_field_type_refuses_the_load_and_reads_nothing(point_build):
    out = run_point(point_build, 3)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert text.startswith("refused") and text.strip().endswith("alive")
    assert '`tvm_extend_testing.Point.y` has type {"type":"ffi.String"} (16 bytes)' in text
    assert 'the extension expects {"type":"int"} (8 bytes)' in text
    assert f"running TVM {tvm.__version__}" in text


def test_schema_error_in_a_cpp_only_check():
    # The same check, reached without loading: a view of a type the running TVM lacks.
    result = run_python(
        """
        import tvm, tvm_extend
        print(tvm_extend.SchemaError.__mro__[1].__name__)
        """
    )
    assert result.stdout.strip() == "ExtensionError"
