"""Offline compatibility: the shipped reflection snapshots of the supported TVM releases, the rename
table derived from them, the binding rules (tvm_extend.schemas.check) and `tvm-extend doctor
--compat`. The used-items files in tests/compat/ are hand-made in the shape the kit's C++ side
records."""

import copy
import gzip
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tvm

from conftest import ROOT
from tvm_extend import schemas

USES = ROOT / "tests" / "compat"
RELEASES = ("0.26.0", "0.27.0", "0.27.0.post1")
TVM_EXTEND = [sys.executable, "-m", "tvm_extend"]


def uses(name: str) -> dict:
    return json.loads((USES / f"{name}.json").read_text())


@pytest.fixture(scope="module")
def snaps() -> dict:
    return {v: schemas.load_snapshot(v) for v in RELEASES}


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kw)


# --- snapshots ---------------------------------------------------------------------------------


def test_every_supported_release_has_a_small_snapshot(snaps):
    assert list(schemas.shipped()) == list(RELEASES)
    for version, snap in snaps.items():
        path = Path(schemas.shipped()[version])
        assert path.stat().st_size < 64 * 1024, f"{path.name} grew to {path.stat().st_size} bytes"
        assert snap["tvm"] == version and snap["tvm_ffi"] == "0.1.15.post2"
        assert "ir.Expr" in snap["types"] and "tirx.PrimFunc" in snap["types"]
        assert "ffi.GetGlobalFuncMetadata" in snap["globals"] and "tirx.exp" in snap["ops"]
        assert not any(g.startswith("tvm_extend.") for g in snap["globals"])
        for key, t in snap["types"].items():  # every parent is in the snapshot too
            assert t["parent"] is None or t["parent"] in snap["types"], key
    assert snaps["0.26.0"]["types"]["ir.IntImm"]["fields"] == [["value", '{"type":"int"}', 8]]
    bigint = [["value", '{"type":"ffi.BigInt"}', 16]]
    assert snaps["0.27.0"]["types"]["ir.IntImm"]["fields"] == bigint
    # 0.27.0 and its post release: the same reflection, as the research measured.
    assert {k: v for k, v in snaps["0.27.0"].items() if k != "tvm"} == {
        k: v for k, v in snaps["0.27.0.post1"].items() if k != "tvm"
    }


def test_the_running_tvms_snapshot_equals_a_fresh_dump(tmp_path):
    import tvm

    out = tmp_path / "now.json.gz"
    done = run([sys.executable, "-m", "tvm_extend.schemas", "dump", "--out", str(out)])
    assert done.returncode == 0, done.stderr
    shipped = schemas.shipped().get(tvm.__version__)
    assert shipped, f"no snapshot ships for the running TVM {tvm.__version__}"
    assert schemas.load_snapshot(str(out)) == schemas.load_snapshot(shipped)
    # Deterministic bytes: re-dumping a release gives no diff in git.
    assert gzip.decompress(out.read_bytes()) == gzip.decompress(Path(shipped).read_bytes())
    assert out.read_bytes() == Path(shipped).read_bytes()


# --- renames -----------------------------------------------------------------------------------


def test_renames_are_derived_from_the_snapshots(snaps, tmp_path):
    table = schemas.load_renames()
    assert table["derived_from"] == list(RELEASES)
    out = tmp_path / "renames.json"
    cmd = [sys.executable, "-m", "tvm_extend.schemas", "renames", *RELEASES, "--out", str(out)]
    done = run(cmd)
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text()) == table  # the shipped table is the script's output
    types, globals_ = table["types"], table["globals"]
    assert types["prim.Mul"] == ["tirx.Mul"]
    assert types["sym.Analyzer"] == ["arith.Analyzer"]
    assert types["s_tir.TensorIntrin"] == ["tirx.TensorIntrin"]
    assert globals_["prim._OpAdd"] == ["tirx._OpAdd"]
    assert globals_["sym.AnalyzerSimplify"] == ["arith.AnalyzerSimplify"]  # typed sym.Analyzer
    assert globals_["tirx.RegisterOpLowerIntrinsic"] == ["ir.RegisterOpLowerIntrinsic"]
    # Not pure renames: a new parent (ir.Constant, ir.OpaqueExpr) or a retyped field
    # (tirx.BufferRegion became ir.TensorRegion), so binding must not treat them as the same.
    for new in ("ir.StringImm", "s_tir.SBlock", "s_tir.SBlockRealize", "te.Reduce"):
        assert new not in types
    assert "s_tir.SBlock" not in globals_
    # The research counts (44 type and 135 global renames, by name) less those: see
    # docs/version-policy.md.
    assert (len(types), len(globals_)) == (43, 130)
    # One function also moved between namespace levels (same last name and schema).
    assert globals_["prim.expr_deep_equal"] == ["tirx.analysis.expr_deep_equal"]
    # Ops renamed when only their namespace changed, one on each side (ir/renames.h: GetOp finds
    # an op under either name); intrinsics that moved within tirx. (tirx.ptx.any_sync ->
    # tirx.cuda.any_sync) are left out, as are ops new in 0.27 (tirx.ptx.clz beside prim.clz).
    assert table["ops"] == {
        f"prim.{name}": [f"tirx.{name}"]
        for name in ("ceil", "clz", "if_then_else", "likely", "log2", "vscale")
    }


# --- binding rules -----------------------------------------------------------------------------


def test_binds_on_every_release(snaps):
    for snap in snaps.values():
        assert schemas.check(uses("binds_everywhere"), snap) == []


def test_binds_on_026_only_through_the_alternatives(snaps):
    u = uses("via_alternatives")
    for version, snap in snaps.items():
        problems, renamed = schemas.bind(u, snap)
        assert problems == [], version
        assert bool(renamed) == (version == "0.26.0"), renamed
    assert "type prim.Mul as tirx.Mul" in schemas.bind(u, snaps["0.26.0"])[1]
    assert "global prim._OpAdd as tirx._OpAdd" in schemas.bind(u, snaps["0.26.0"])[1]
    # Without the alternatives the same items do not bind on 0.26: the rename table maps the
    # keys inside schemas and parents, never the items themselves (the loader binds only the
    # names the extension lists).
    bare = copy.deepcopy(u)
    for item in bare["types"] + bare["globals"]:
        item["alternatives"] = []
    problems = schemas.check(bare, snaps["0.26.0"])
    assert (
        "type prim.Mul: TVM 0.26.0 has no such IR node type, so its field(s) a, b, ty cannot bind"
    ) in problems
    assert any(p.startswith("global prim._OpAdd: TVM 0.26.0 has no such") for p in problems)
    assert schemas.check(bare, snaps["0.27.0"]) == []


def test_parents_and_field_schemas_follow_the_renames(snaps):
    u = {
        "types": [
            {
                "key": "sym.IterSplitExpr",
                "alternatives": ["arith.IterSplitExpr"],
                "parent": "sym.IterMapExpr",
            },
        ],
        "fields": [
            {
                "type": "sym.IterSplitExpr",
                "name": "source",
                "schema": '{"type":"sym.IterMark"}',
                "size": 8,
            },
            {
                "type": "sym.IterSplitExpr",
                "name": "span",
                "schema": '{"type":"ir.Span"}',
                "size": 8,
            },  # an ancestor's field (ir.Expr.span)
        ],
    }
    for snap in snaps.values():
        assert schemas.check(u, snap) == []
    # Without the renames the field's schema differs; the parent is no problem, since a parent
    # the release does not have at all is not checked (as the loader does).
    assert schemas.check(u, snaps["0.26.0"], renames={"types": {}, "globals": {}}) == [
        'field sym.IterSplitExpr.source: is {"type":"arith.IterMark"} (8 bytes) in TVM 0.26.0, '
        'expected {"type":"sym.IterMark"} (8 bytes)',
    ]


def test_every_problem_on_026_at_once(snaps):
    u = uses("refused_on_026")
    assert schemas.check(u, snaps["0.27.0"]) == []
    assert schemas.check(u, snaps["0.27.0.post1"]) == []
    assert schemas.check(u, snaps["0.26.0"]) == [
        "type ir.Constant: TVM 0.26.0 has no such IR node type",
        "type ir.TensorLoad: TVM 0.26.0 has no such IR node type, so its field(s) source "
        "cannot bind",
        "type prim.Mul: TVM 0.26.0 has no such IR node type",
        # ir.IntImm binds: its parent ir.Constant is new in 0.27, and its value is read through
        # the field's getter whether TVM stores an int or an ffi.BigInt.
        "global prim.left_shift: TVM 0.26.0 has no such function, expected "
        "(ir.Expr, ir.Expr, Any) -> ir.Expr",
    ]


def test_the_full_027_tir_header_on_026(snaps):
    """Every type and field of the 0.27-generated <tvm_extend/ir/tir.h> (frozen from
    ir_views.collect on 0.27.0.post1, no alternatives): the counts the research measured by
    loading it, 90 types = 40 ok / 48 missing / 2 reparented, 189 fields = 98 ok / 87 of a
    missing type / 1 missing / 3 retyped."""
    u = uses("tir_header_0.27")
    assert (len(u["types"]), len(u["fields"])) == (90, 189)
    assert schemas.check(u, snaps["0.27.0"]) == []
    problems = schemas.check(u, snaps["0.26.0"])
    missing = [p for p in problems if p.startswith("type") and "no such" in p]
    # The loader's rules: ir.IntImm and ir.StringImm (reparented under 0.27's new ir.Constant)
    # bind, and so does IntImm.value (int on 0.26, ffi.BigInt on 0.27, read by its getter).
    unread = sum(
        len(p.split("field(s) ")[1].split(" cannot")[0].split(", "))
        for p in missing
        if "field(s)" in p
    )
    reparented = [p for p in problems if p.startswith("type") and "its parent" in p]
    no_field = [p for p in problems if p.startswith("field") and "has no field" in p]
    retyped = [p for p in problems if p.startswith("field") and "has no field" not in p]
    assert (len(missing), len(reparented), unread, len(no_field), len(retyped)) == (48, 0, 87, 1, 2)
    assert len(problems) == 51
    assert "field tirx.IterVar.span: tirx.IterVar has no field 'span' in TVM 0.26.0" in no_field[0]


def test_weak_items(snaps):
    # Used only by a visitor's dispatch: may be missing ...
    u = {
        "types": [{"key": "ir.TensorLoad", "parent": "ir.Expr", "weak": True}],
        "fields": [
            {
                "type": "ir.TensorLoad",
                "name": "source",
                "schema": '{"type":"ir.Expr"}',
                "size": 8,
                "weak": True,
            },
            {
                "type": "tirx.BufferStore",
                "name": "predicate",
                "schema": '{"type":"ir.Expr"}',
                "size": 8,
                "weak": True,
            },
        ],
        "globals": [{"name": "prim.no_such_function", "weak": True}],
    }
    assert schemas.check(u, snaps["0.27.0"]) == []  # BufferStore.predicate: gone in 0.27
    # ... but one that exists with another schema is a problem.
    assert schemas.check(u, snaps["0.26.0"]) == [
        'field tirx.BufferStore.predicate: is {"type":"Optional","args":[{"type":"ir.Expr"}]} '
        '(8 bytes) in TVM 0.26.0, expected {"type":"ir.Expr"} (8 bytes)'
    ]
    strong = copy.deepcopy(u)
    for item in strong["types"] + strong["fields"] + strong["globals"]:
        item["weak"] = False
    assert len(schemas.check(strong, snaps["0.26.0"])) == 3


def test_global_signatures(snaps):
    snap = snaps["0.27.0"]

    def check(name, signature):
        return schemas.check({"globals": [{"name": name, "signature": signature}]}, snap)

    assert check("prim._OpAdd", ["ir.Expr", "Any", "Any", ""]) == []
    # A subtype returned, a subtype passed.
    assert check("prim._OpAdd", ["ffi.Object", "ir.Expr", "ir.Expr", "ir.Span"]) == []
    assert (
        check(
            "tirx.For",
            ["tirx.Stmt", "ir.Var", "ir.Expr", "ir.Expr", "int", "tirx.Stmt", "", "", "", ""],
        )
        == []
    )  # Optional[T] takes T; int takes int
    assert check("ir.GetOp", ["ir.Op", "std::string"]) == []
    assert check("prim._OpAdd", ["prim.Add", "", "", ""]) == [
        "global prim._OpAdd: has signature (ir.Expr, ir.Expr, ir.Span) -> ir.Expr in TVM 0.27.0, "
        "expected (Any, Any, Any) -> prim.Add"
    ]
    assert check("prim._OpAdd", ["ir.Expr", "prim.Add", "", ""]) == []  # a subtype passed
    assert check("prim._OpAdd", ["ir.Expr", "", ""]) != []  # arity
    assert check("prim._OpAdd", ["ir.Expr", "ffi.String", "", ""]) != []
    assert check("prim.left_shift", ["ir.Expr", "ir.Expr", "ir.Expr", ""]) == []  # no schema


@pytest.mark.parametrize(
    "bad, why",
    [
        ([], "must be a JSON object"),
        ({"types": {}}, "'types' must be a list"),
        ({"types": [{"name": "x"}]}, "types[0] has no 'key'"),
        ({"types": [{"key": "x", "weak": "no"}]}, "'weak' has the wrong type"),
        ({"fields": [{"type": "ir.IntImm", "name": "value", "size": "8"}]}, "'size'"),
        ({"fields": [{"type": "t", "name": "n", "schema": "{oops"}]}, "'schema' is not JSON"),
        ({"globals": [{"name": "f", "signature": [1]}]}, "list of strings"),
        ({"ops": []}, "unknown section"),
    ],
)
def test_malformed_uses(snaps, bad, why):
    with pytest.raises(ValueError, match=None) as err:
        schemas.check(bad, snaps["0.27.0"])
    assert why in str(err.value) and "\n" not in str(err.value)


# --- tvm-extend doctor --compat ----------------------------------------------------------------


def test_doctor_compat_from_a_uses_file():
    done = run([*TVM_EXTEND, "doctor", "--uses", str(USES / "via_alternatives.json")])
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].endswith("uses 6 types, 6 fields, 5 global functions")
    running = f"TVM {tvm.__version__}"
    lines = [line.replace(f"{running} (running)", running) for line in lines]
    assert lines[1].startswith("TVM 0.26.0: binds (through older names: type prim.Mul as tirx.Mul")
    assert lines[2:] == ["TVM 0.27.0: binds", "TVM 0.27.0.post1: binds"]
    done = run([*TVM_EXTEND, "doctor", "--uses", str(USES / "refused_on_026.json")])
    assert done.returncode == 1
    assert re.search(r"TVM 0\.26\.0( \(running\))?: does not bind, 4 problem\(s\):", done.stdout)
    assert "  - type ir.Constant: TVM 0.26.0 has no such IR node type" in done.stdout
    assert re.search(r"TVM 0\.27\.0\.post1( \(running\))?: binds", done.stdout)


def c_library(tmp_path: Path, name: str, used: str | None) -> Path:
    """A tiny library with the kit's entry point and, when `used` is given, TVMExtendUsedSchema
    returning it: what the kit's C++ side will export."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    src = tmp_path / f"{name}.c"
    body = "int TVMExtendExtensionEntry_v1(void* a, void* b) { (void)a; (void)b; return 0; }\n"
    if used is not None:
        body += f"const char* TVMExtendUsedSchema(void) {{ return {json.dumps(used)}; }}\n"
    src.write_text(body)
    lib = tmp_path / f"lib{name}.so"
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(lib), str(src)], check=True)
    return lib


def test_doctor_compat_reads_the_library(tmp_path):
    lib = c_library(tmp_path, "recorded", (USES / "refused_on_026.json").read_text())
    done = run([*TVM_EXTEND, "doctor", "--compat", str(lib)])
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith(f"{lib}: uses 5 types, 3 fields, 2 global functions\n")
    assert re.search(r"TVM 0\.26\.0( \(running\))?: does not bind, 4 problem\(s\):", done.stdout)
    assert re.search(r"^TVM 0\.27\.0( \(running\))?: binds$", done.stdout, re.M)
    old = c_library(tmp_path, "oldkit", None)
    done = run([*TVM_EXTEND, "doctor", "--compat", str(old)])
    assert done.returncode == 1
    assert "built by a kit without use records" in done.stdout and "rebuild it" in done.stdout
    assert "binds" not in done.stdout


@pytest.mark.parametrize(
    "kind", ["text", "not_json", "wrong_shape", "missing", "no_package", "lib_not_json", "no_entry"]
)
def test_doctor_compat_bad_input(tmp_path, kind):
    text = tmp_path / "notes.txt"
    text.write_text("hello\n")
    arg = {
        "text": ["--compat", str(text)],
        "not_json": ["--uses", str(text)],
        "missing": ["--uses", str(tmp_path / "nothing.json")],
        "no_package": ["--compat", "no_such_extension_package"],
    }.get(kind)
    if kind == "wrong_shape":
        bad = tmp_path / "bad.json"
        bad.write_text('{"types": [{"name": "prim.Mul"}]}')
        arg = ["--uses", str(bad)]
    elif kind == "lib_not_json":
        arg = ["--compat", str(c_library(tmp_path, "garbled", "{not json"))]
    elif kind == "no_entry":
        cc = shutil.which("cc") or pytest.skip("no C compiler")
        (tmp_path / "plain.c").write_text("int f(void) { return 1; }\n")
        lib = tmp_path / "libplain.so"
        src = str(tmp_path / "plain.c")
        subprocess.run([cc, "-shared", "-fPIC", "-o", str(lib), src], check=True)
        arg = ["--compat", str(lib)]
    done = run([*TVM_EXTEND, "doctor", *arg])
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tvm-extend doctor --compat: "), done.stderr
    assert done.stdout == ""
