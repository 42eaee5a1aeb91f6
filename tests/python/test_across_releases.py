"""Use-based binding, and one extension binary across TVM releases (docs/version-policy.md).

The tests that load a binary into another TVM release run when TVM_EXTEND_OTHER_PYTHON names
that release's Python (scripts/crossload.sh sets it up; .ci/run runs it for 0.26.0).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import tvm
from tvm import tirx

import tvm_extend
from conftest import run_python

OTHER_PYTHON = os.environ.get("TVM_EXTEND_OTHER_PYTHON")
# Built on the pinned release (0.27), whose IR these tests name.
on_027 = pytest.mark.skipif(
    tuple(int(x) for x in tvm.__version__.split(".")[:2]) < (0, 27),
    reason="names IR that TVM 0.27 has (the pinned release)",
)
needs_other = pytest.mark.skipif(
    not OTHER_PYTHON, reason="TVM_EXTEND_OTHER_PYTHON (scripts/crossload.sh) not set"
)


def run_in(python: str, code: str, *args) -> subprocess.CompletedProcess:
    """`code` run by another Python (another TVM release), extensions not autoloaded."""
    env = dict(os.environ, TVM_EXTEND_NO_AUTOLOAD="1")
    return subprocess.run(
        [python, "-c", code, *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def strong(uses: dict, section: str) -> set:
    if section == "fields":
        return {(f["type"], f["name"]) for f in uses["fields"] if not f["weak"]}
    return {t["key"] for t in uses[section] if not t.get("weak")}


def test_the_record_lists_what_the_code_uses(test_extensions):
    ext = tvm_extend.load_extension(test_extensions / "libuses_few.so")
    try:
        assert strong(ext.uses, "types") == {"tirx.For", "ir.IntImm"}
        assert strong(ext.uses, "fields") == {("tirx.For", "extent"), ("ir.IntImm", "value")}
        # No visitor: nothing is used weakly, and nothing else binds.
        assert all(not t["weak"] for t in ext.uses["types"] + ext.uses["fields"])
        assert ext.uses["globals"] == []
        loop = tirx.For(tirx.Var("i", "int32"), 0, 16, tirx.ForKind.SERIAL, tirx.Evaluate(0))
        assert tvm.get_global_func("uses_few.extent_of")(loop) == 16
        assert tvm.get_global_func("uses_few.extent_of")(tirx.Evaluate(0)) == -1
    finally:
        tvm_extend.unload_extension("uses_few")


@on_027
def test_functors_are_weak_uses_and_renames_are_listed(test_extensions):
    ext = tvm_extend.load_extension(test_extensions / "libviews_ext.so")
    try:
        weak = {t["key"] for t in ext.uses["types"] if t["weak"]}
        # The visitor dispatches on every expression and statement type: weakly, where the
        # extension's own code does not name the type.
        assert {"prim.Shuffle", "tirx.While", "prim.BitwiseXor", "tirx.AssertStmt"} <= weak
        shuffle = next(t for t in ext.uses["types"] if t["key"] == "prim.Shuffle")
        assert shuffle["alternatives"] == ["tirx.Shuffle"]
        assert "tirx.For" in strong(ext.uses, "types")  # its code reads loops
        # What its own code reads is strong.
        assert ("tirx.For", "extent") in strong(ext.uses, "fields")
        # The record is what the library itself reports, without loading (doctor --compat).
        assert ext.uses == json.loads(used_schema_of(test_extensions / "libviews_ext.so"))
    finally:
        tvm_extend.unload_extension("views_ext")


def used_schema_of(library) -> str:
    code = (
        "import ctypes, sys, tvm_ffi; lib = ctypes.CDLL(sys.argv[1]); "
        "f = lib.TVMExtendUsedSchema; f.restype = ctypes.c_char_p; print(f().decode())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(library)], capture_output=True, text=True, check=True
    )
    return out.stdout


def test_functors_walk_unknown_types_by_reflection(test_extensions):
    # generic_walk's views have no prim.Mul and no prim.Add: the visitor still finds the
    # variables inside them, and the mutator rebuilds them.
    tvm_extend.load_extension(test_extensions / "libgeneric_walk.so")
    try:
        x, y, z = tirx.Var("x", "int32"), tirx.Var("y", "int32"), tirx.Var("z", "int32")
        expr = (x + y) * (y - x) + tirx.Max(z, x * 3)
        assert tvm.get_global_func("generic_walk.vars_of")(expr).split() == [
            "x",
            "y",
            "y",
            "x",
            "z",
            "x",
        ]
        renamed = tvm.get_global_func("generic_walk.rename")(expr, "x", z)
        tvm.ir.assert_structural_equal(renamed, (z + y) * (y - z) + tirx.Max(z, z * 3))
        same = tvm.get_global_func("generic_walk.rename")(expr, "none", z)
        assert same.same_as(expr)  # nothing changed: the very same object
    finally:
        tvm_extend.unload_extension("generic_walk")


def test_exact_release_only_for_tvm_cpp_abi(test_extensions):
    ext = tvm_extend.load_extension(test_extensions / "libuses_few.so")
    try:
        assert ext.exact_tvm_release is False
    finally:
        tvm_extend.unload_extension("uses_few")


@on_027
def test_doctor_compat_reads_real_libraries(test_extensions):
    def doctor(lib):
        return subprocess.run(
            [sys.executable, "-m", "tvm_extend", "doctor", "--compat", str(lib)],
            capture_output=True,
            text=True,
            env=dict(os.environ, TVM_EXTEND_NO_AUTOLOAD="1"),
        )

    few = doctor(test_extensions / "libuses_few.so")
    assert few.returncode == 0, few.stdout + few.stderr
    assert few.stdout.count("binds") >= 3  # 0.26.0, 0.27.0, 0.27.0.post1
    new = doctor(test_extensions / "libuses_new_ir.so")
    assert new.returncode == 1, new.stdout + new.stderr
    text = new.stdout
    assert "0.26.0" in text and "prim.LShift" in text and "ir.TensorLoad" in text


@needs_other
def test_one_binary_on_another_release(test_extensions):
    code = (
        "import sys, tvm, tvm_extend; from tvm import tirx\n"
        "e = tvm_extend.load_extension(sys.argv[1])\n"
        "loop = tirx.For(tirx.Var('i', 'int32'), 0, 16, tirx.ForKind.SERIAL, tirx.Evaluate(0))\n"
        "print(tvm.__version__, e.built_tvm_version, "
        "tvm.get_global_func('uses_few.extent_of')(loop))\n"
    )
    out = run_in(OTHER_PYTHON, code, test_extensions / "libuses_few.so")
    assert out.returncode == 0, out.stderr
    other, built, extent = out.stdout.split()
    assert built == tvm.__version__ and other != tvm.__version__
    assert extent == "16"


@needs_other
def test_refused_on_another_release_with_every_problem(test_extensions):
    code = (
        "import sys, tvm_extend\n"
        "try:\n"
        "    tvm_extend.load_extension(sys.argv[1])\n"
        "    print('LOADED')\n"
        "except tvm_extend.SchemaError as err:\n"
        "    print(err)\n"
        "print('alive', sorted(e.name for e in tvm_extend.list_extensions()))\n"
    )
    out = run_in(OTHER_PYTHON, code, test_extensions / "libuses_new_ir.so")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    other = run_in(OTHER_PYTHON, "import tvm; print(tvm.__version__)").stdout.split()[-1]
    if tuple(int(p) for p in other.split(".")[:2]) >= (0, 27):  # the same IR: everything binds
        assert text.startswith("LOADED"), text
        return
    assert "2 problems" in text, text
    assert "no IR node type `prim.LShift`, so its field(s) a cannot bind" in text
    assert "no IR node type `ir.TensorLoad`, so its field(s) source cannot bind" in text
    assert "left_shift" not in text  # the renamed helper binds (tirx.left_shift)
    assert "Nothing of the extension was registered" in text
    assert text.strip().endswith("alive []")


@on_027
def test_loads_on_its_own_release(test_extensions):
    result = run_python(
        f"""
        import tvm, tvm_extend
        from tvm import tirx
        tvm_extend.load_extension({str(test_extensions / "libuses_new_ir.so")!r})
        x = tirx.Var("x", "int32")
        print(tvm.get_global_func("uses_new_ir.describe")(x << 2))
        """,
        env={"TVM_EXTEND_NO_AUTOLOAD": "1"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "shift of ir.Var"


def test_the_compiled_rename_table_is_the_shipped_one():
    # include/tvm_extend/ir/renames.h is made from python/tvm_extend/schemas/renames.json.
    root = os.path.join(os.path.dirname(__file__), "..", "..")
    out = subprocess.run(
        [sys.executable, os.path.join(root, "scripts", "renames_header.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
