"""The fault suite's cases: every bad input the README's bad-input tables and the tools promise
to report clearly. Adding one:

    Case("loader", "truncated-library", r"ExtensionLoadError: .*truncated",
         setup=[extensions, truncated("ext_b")],  # a setup returning {"FILE": its path}
         snippet="import tvm_extend\ntvm_extend.load_extension(FILE)"),

A snippet's error is matched as ``<ExceptionType>: <message>``; a command line's against its
whole output. Snippets see ``TMP`` (the case's folder), ``EXT`` (with the ``extensions`` setup:
the built tests/extensions) and whatever other setups return; command lines see ``{TMP}`` etc.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

from harness import Case, Setup, extensions, write_file


def key(type_key: str) -> str:
    """A type key as TVM 0.27 names it, as the running TVM names it (conftest.tvm_key), escaped
    for an expectation."""
    from conftest import tvm_key

    return re.escape(tvm_key(type_key))


KERNEL = """\
from tvm.script import tirx as T


@T.prim_func
def kernel(A: T.Buffer((16,), "int32"), B: T.Buffer((16,), "int32")):
    for i in range(16):
        B[i] = A[i] * 8 + A[i] // 4
"""

# A snippet's start: `mod`, a Relax module (main: exp(x + x) on a float32 tensor of 4).
RELAX_MODULE = """\
from tvm import relax
bb = relax.BlockBuilder()
x = relax.Var("x", relax.TensorType((4,), "float32"))
with bb.function("main", [x]):
    with bb.dataflow():
        y = bb.emit_output(relax.op.exp(relax.op.add(x, x)))
    bb.emit_func_output(y)
mod = bb.get()
"""

# A snippet's start: `mod`, an IRModule of the kernel above (written by setup kernel_file).
RUN_ON_KERNEL = """\
import runpy, tvm
mod = tvm.IRModule({"main": runpy.run_path(KERNEL)["kernel"]})
"""

CALLS_UNKNOWN_C = """\
from tvm.script import tirx as T


@T.prim_func
def kernel(A: T.Buffer((8,), "float32")):
    for i in range(8):
        A[i] = T.call_extern("float32", "no_such_c_function", A[i])
"""

VECTORIZED = """\
from tvm.script import tirx as T


@T.prim_func
def kernel(A: T.Buffer((8,), "float32")):
    for i in T.vectorized(8):
        A[i] = A[i] * T.float32(2)
"""

MATMUL = """\
from tvm.script import tirx as T


@T.prim_func(s_tir=True)
def matmul(A: T.Buffer((32, 32), "float32"), B: T.Buffer((32, 32), "float32"),
           C: T.Buffer((32, 32), "float32")):
    for i, j, k in T.grid(32, 32, 32):
        with T.sblock("C"):
            vi, vj, vk = T.axis.remap("SSR", [i, j, k])
            with T.init():
                C[vi, vj] = T.float32(0)
            C[vi, vj] = C[vi, vj] + A[vi, vk] * B[vk, vj]
"""

kernel_file = write_file("kernel.py", KERNEL, "KERNEL")

# A Relax function with add(x, x) for the pattern rewrites of tests/extensions/patterns_ext.cc.
RELAX_ADD = """\
from tvm.script import relax as R


@R.function
def func(x: R.Tensor((4, 8), "float32"), y: R.Tensor((4, 8), "float32")):
    with R.dataflow():
        a = R.add(x, x)
        b = R.add(a, y)
        R.output(b)
    return b
"""
relax_file = write_file("relax_add.py", RELAX_ADD, "RELAX")


def rewrite(then: str) -> str:
    """A snippet loading patterns_ext with `func` (setup relax_file), then running ``then``."""
    return load("patterns_ext", then="import runpy\nfunc = runpy.run_path(RELAX)['func']\n" + then)


LOAD_FILE = "import tvm_extend\ntvm_extend.load_extension(FILE)"


def load(*names: str, then: str = "") -> str:
    """A snippet loading test extensions ``lib<name>.so`` from EXT in order, the last one as
    ``ext``, then running ``then``."""
    lines = ["import tvm, tvm_ffi, tvm_extend"]
    lines += [f'ext = tvm_extend.load_extension(EXT + "/lib{name}.so")' for name in names]
    return "\n".join(lines) + "\n" + then


def compile_with(target: str, before: str = load("sim_backend")) -> str:
    """A snippet compiling the kernel (setup kernel_file) for ``target`` (an expression), after
    ``before`` (by default: loading test extension sim_backend, with its two backends)."""
    return before + RUN_ON_KERNEL + f"tvm.compile(mod, target={target})"


def fake_extension(name: str, library: str | bytes) -> Setup:
    """PYTHONPATH: a folder with package ``name`` advertised as an installed extension (entry
    point), its library a copy of test extension ``library`` or the given bytes."""

    def setup(tmp: Path) -> dict[str, str]:
        site = tmp / "site"
        (site / name).mkdir(parents=True)
        (site / name / "__init__.py").write_text("")
        data = library if isinstance(library, bytes) else None
        if data is None:
            data = (Path(extensions(tmp)["EXT"]) / f"lib{library}.so").read_bytes()
        (site / name / f"lib{name}.so").write_bytes(data)
        dist = site / f"{name}-1.0.dist-info"
        dist.mkdir()
        (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
        (dist / "entry_points.txt").write_text(f"[tvm_extend.extensions]\n{name} = {name}\n")
        return {"SITE": str(site)}

    return setup


def path_with(tools: dict[str, str] | None = None) -> Setup:
    """BIN, for PATH: a folder holding only ``python`` and the given fake tools (name: shell
    script body)."""

    def setup(tmp: Path) -> dict[str, str]:
        bin_dir = tmp / "bin"
        bin_dir.mkdir()
        (bin_dir / "python").symlink_to(sys.executable)
        for name, body in (tools or {}).items():
            (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
            os.chmod(bin_dir / name, 0o755)
        return {"BIN": str(bin_dir)}

    return setup


def requires(package: str) -> Setup:
    """Fails the case's setup when example package ``package`` is not installed."""

    def setup(tmp: Path) -> dict[str, str]:
        if importlib.util.find_spec(package) is None:
            raise RuntimeError(f"{package} is not installed (scripts/test.sh installs examples/)")
        return {}

    return setup


def folder(name: str) -> Setup:
    """An empty folder ``name`` in the case's folder."""

    def setup(tmp: Path) -> dict[str, str]:
        (tmp / name).mkdir()
        return {}

    return setup


def changed_copy(library: str, edit: Callable[[bytearray], None], name: str = "") -> Setup:
    """FILE: a copy of test extension ``lib<library>.so`` changed by ``edit`` (cut off, another
    machine's header, ...), with an old modification time, so the loader need not wait for it."""

    def setup(tmp: Path) -> dict[str, str]:
        data = bytearray((Path(extensions(tmp)["EXT"]) / f"lib{library}.so").read_bytes())
        edit(data)
        path = tmp / (name or f"lib{library}.so")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(bytes(data))
        os.utime(path, (1_000_000_000, 1_000_000_000))
        return {"FILE": str(path)}

    return setup


def cut_at(fraction: float) -> Callable[[bytearray], None]:
    return lambda data: data.__delitem__(slice(int(len(data) * fraction), None))


def set_bytes(offset: int, value: bytes) -> Callable[[bytearray], None]:
    def edit(data: bytearray) -> None:
        data[offset : offset + len(value)] = value

    return edit


def zero_filled(data: bytearray) -> None:
    data[:] = bytes(len(data))  # a linker that sized the file first and has written nothing yet


# The name a refused library registered must not stay behind, pointing into unmapped code.
NOT_LEFT_BEHIND = """
import tvm_ffi
try:
    {load}
finally:
    for _name in {names}:
        assert tvm_ffi.get_global_func(_name, allow_missing=True) is None, _name + " stayed"
"""


def load_and_check(library: str, *names: str) -> str:
    load_line = f'tvm_extend.load_extension(EXT + "/lib{library}.so")'
    return "import tvm, tvm_extend" + NOT_LEFT_BEHIND.format(load=load_line, names=list(names))


# A reload of hot-reload target FILE (a copy of ext_b) while `writer` rewrites it.
RELOAD_WHILE_WRITING = """
import os, threading, time, tvm, tvm_extend
data = open(FILE, "rb").read()
tvm_extend.load_extension(FILE)
def writer():
    with open(FILE, "wb") as out:
        for i in range(0, len(data), len(data) // {chunks} + 1):
            out.write(data[i : i + len(data) // {chunks} + 1]); out.flush(); time.sleep(0.1)
t = threading.Thread(target=writer); t.start(); time.sleep(0.05)
try:
    tvm_extend.reload_extension("ext_b", FILE)
finally:
    t.join()
    assert tvm.get_global_func("ext_b.add_one")(1) == 2, "the running build was lost"
"""


def cmake_probe(tmp: Path) -> dict[str, str]:
    """PROBE (tests/cmake/probe, which finds tvm_extend) and SITE (the site-packages holding
    tvm_extend), for CMAKE_PROBE: a user's plain `cmake` run."""
    from conftest import ROOT, site_packages

    return {"PROBE": str(ROOT / "tests" / "cmake" / "probe"), "SITE": str(site_packages())}


def tvm_tree(
    version: str | None, version_in: str = "libinfo.py", remove: tuple[str, ...] = ()
) -> Setup:
    """TREE: a synthetic TVM source checkout (the version where ``version_in`` says, or none),
    and BUILD, its build folder; the ``remove``d files (relative to TREE) taken away."""

    def setup(tmp: Path) -> dict[str, str]:
        from conftest import fake_tvm_tree

        build = fake_tvm_tree(tmp / "tvm", version, version_in=version_in)
        for rel in remove:
            (tmp / "tvm" / rel).unlink()
        return {"TREE": str(tmp / "tvm"), "BUILD": str(build)}

    return setup


def wheel_tvm_alone(tmp: Path) -> dict[str, str]:
    """WHEEL: site/tvm laid out as the apache-tvm wheel installs it, without tvm_ffi beside."""
    from conftest import fake_wheel_tvm

    return {"WHEEL": str(fake_wheel_tvm(tmp / "site", "0.27.0", ffi=False))}


def package_copy(tmp: Path) -> dict[str, str]:
    """COPY: a site-packages in TMP/prefix holding a copy of tvm_extend (and TVM), with no
    Python in TMP/prefix/bin."""
    from conftest import fake_site

    return {"COPY": str(fake_site(tmp / "prefix"))}


def cmake_says(*phrases: str) -> str:
    """A regex for CMake's message holding the phrases in order; CMake wraps long messages at
    spaces, wherever the case's folder names put them."""
    return ".*".join(r"\s+".join(map(re.escape, phrase.split())) for phrase in phrases)


CMAKE_PROBE = ["cmake", "-S", "{PROBE}", "-B", "{TMP}/b", "-DCMAKE_PREFIX_PATH={SITE}"]
SYSTEM_PATH = {"PATH": "/usr/local/bin:/usr/bin:/bin"}  # no venv, so no Python that has the kit

ONLY_PATH = {"PATH": "{BIN}", "HOME": "{TMP}"}
TVM_PASS = "tirx.transform.StmtSimplify"

# A table, one case in two to four lines: kept as written.
# fmt: off
# A snippet's start for the Relax cases: test extension relaxops loaded, `x` a float32 tensor
# variable, `bb` a BlockBuilder inside a function of x, `op(name)` a call maker.
RELAX_START = load("relax_ops") + """\
from tvm import relax
from tvm.script import relax as R, tirx as T
from tvm_extend.relax_op import op, patterns
x = relax.Var("x", R.Tensor((4,), "float32"))
bb = relax.BlockBuilder()
bb.begin_scope([x])
bb._begin_binding_block()
"""

# ... then `mod`: main(a, b) = a + b, offloaded to codegen `cg` by its pattern table.
OFFLOAD_ADD = """\
bf = relax.BlockBuilder()
a, b = relax.Var("a", R.Tensor((4,), "float32")), relax.Var("b", R.Tensor((4,), "float32"))
with bf.function("main", [a, b]):
    with bf.dataflow():
        out = bf.emit_output(relax.op.add(a, b))
    bf.emit_func_output(out)
mod = relax.transform.FuseOpsByPattern(patterns(cg), annotate_codegen=True)(bf.get())
relax.transform.RunCodegen()(mod)
"""


CASES: list[Case] = [
    # --- loader: README "bad input" table, first rows -------------------------------------
    Case("loader", "missing-file", r"ExtensionLoadError: .*no such file.*libnothing\.so",
         snippet="import tvm_extend\ntvm_extend.load_extension(TMP + '/libnothing.so')"),
    Case("loader", "text-file-named-lib-so", r"ExtensionLoadError: .*not a loadable shared library",
         setup=[write_file("libfake.so", "this is not an ELF file\n")],
         snippet="import tvm_extend\ntvm_extend.load_extension(FILE)"),
    Case("loader", "directory", r"ExtensionLoadError: .*is a directory",
         snippet="import tvm_extend\ntvm_extend.load_extension(TMP)"),
    Case("loader", "unknown-package",
         r"ExtensionLoadError: cannot find the library of extension 'no_such_ext_pkg'"
         r".*TVM_EXTEND_LIBRARY_PATH",
         snippet="import tvm_extend\ntvm_extend.load_extension('no_such_ext_pkg')"),
    Case("loader", "no-entry-point",
         r"ExtensionLoadError: .*has no tvm-extend entry point.*TVM_EXTEND_EXTENSION",
         setup=[extensions], snippet=load("no_entry")),
    Case("loader", "other-tvm",
         r"ExtensionVersionError: .*built against TVM 0\.25\.0.*running TVM is"
         r".*before 0\.26 have another IR model", setup=[extensions], snippet=load("other_tvm")),
    Case("loader", "other-ffi-abi",
         r"ExtensionVersionError: .*built against the tvm-ffi C ABI 0\.1\.99", setup=[extensions],
         snippet=load("other_ffi")),
    Case("loader", "duplicate-name",
         r"DuplicateRegistrationError: .*'dup\.f' is already registered by extension 'dup' 1\.0\.0"
         r".*libdup_one\.so", setup=[extensions], snippet=load("dup_one", "dup_two")),
    Case("loader", "tvm-namespace",
         r"DuplicateRegistrationError: .*namespace 'tirx\.' is already used by TVM",
         setup=[extensions], snippet=load("tvm_clash")),
    Case("loader", "python-namespace",
         r"DuplicateRegistrationError: .*namespace 'pyreg\.' is already used by a Python function",
         setup=[extensions],
         snippet="import tvm_ffi\ntvm_ffi.register_global_func('pyreg.taken', lambda: 1)\n"
         + load("pyreg")),
    Case("loader", "op-name-taken",
         r"DuplicateRegistrationError: .*the op 'ops_clash\.fma' is already registered",
         setup=[extensions],
         snippet="import tvm\ntvm.get_global_func('ir.RegisterOp')('ops_clash.fma', 'first')\n"
         + load("ops_clash")),
    Case("loader", "override-op-attr-taken",
         r"DuplicateRegistrationError: .*the attribute 'llvm\.FLowerIntrinsic' of the op "
         r"'tirx\.exp' is already overridden by extension 'override_a' .*liboverride_a\.so.*"
         r"extension 'override_b' .*liboverride_b\.so.*overrides it again at .*override\.cc:",
         setup=[extensions], snippet=load("override_a", "override_b")),
    Case("loader", "override-unknown-op",
         r"ExtensionLoadError: .*the op 'tirx\.no_such_op' .*but TVM has no op 'tirx\.no_such_op'",
         setup=[extensions], snippet=load("override_missing")),
    Case("loader", "name-outside-prefix",
         r"ExtensionLoadError: .*'somebody_else\.name'.*does not start with 'bad_prefix\.'",
         setup=[extensions], snippet=load("bad_prefix")),
    Case("loader", "factory-throws-midway",
         r"ExtensionLoadError: .*its backend is missing.*Nothing of the extension was registered",
         setup=[extensions], snippet=load("midway")),
    Case("loader", "registering-fails-midway",
         r"ExtensionLoadError: .*'racy\.c'.*put back as they were",
         setup=[extensions], snippet=load("racy")),
    Case("loader", "factory-throws-non-std", r"ExtensionLoadError: .*not a std::exception",
         setup=[extensions], snippet=load("odd_factory")),
    Case("loader", "schema-signature",
         rf"SchemaError: .*global function `{key('prim.Add')}` has signature .*calls it as",
         setup=[extensions], snippet=load("bad_signature")),
    Case("loader", "schema-missing-global",
         r"SchemaError: .*no global function `tirx\.analysis\.RemovedInSomeRelease`",
         setup=[extensions], snippet=load("missing_global")),
    # --- loader: inspected before it runs; code behind the loader's back ------------------
    Case("loader", "truncated-library",
         r"ExtensionLoadError: .*runs past the end of the file.*incomplete or still being written",
         setup=[changed_copy("ext_b", cut_at(0.5))], snippet=LOAD_FILE),
    Case("loader", "cut-inside-the-elf-header",
         r"ExtensionLoadError: .*its ELF header is cut off.*incomplete",
         setup=[changed_copy("ext_b", cut_at(0.0003))], snippet=LOAD_FILE),
    Case("loader", "zero-filled-being-written", r"ExtensionLoadError: .*starts with zero bytes",
         setup=[changed_copy("ext_b", zero_filled)], snippet=LOAD_FILE),
    Case("loader", "another-machine",
         r"ExtensionLoadError: .*built for AArch64 \(64-bit ARM\), but this machine is x86-64",
         setup=[changed_copy("ext_b", set_bytes(18, (183).to_bytes(2, "little")))],
         snippet=LOAD_FILE),
    Case("loader", "32-bit-library", r"ExtensionLoadError: .*a 32-bit ELF file",
         setup=[changed_copy("ext_b", set_bytes(4, b"\x01"))], snippet=LOAD_FILE),
    Case("loader", "object-file", r"ExtensionLoadError: .*an object file \(\.o\)",
         setup=[changed_copy("ext_b", set_bytes(16, b"\x01\x00"))], snippet=LOAD_FILE),
    Case("loader", "plain-static-init-claims-tvm-name",
         r"ExtensionLoadError: .*no tvm-extend entry point.*registers global functions itself",
         setup=[extensions], snippet=load("plain_static")),
    Case("loader", "plain-static-init-fresh-name",
         r"ExtensionLoadError: .*registers global functions itself.*It was not loaded",
         setup=[extensions], snippet=load_and_check("plain_fresh", "plain_fresh.f")),
    Case("loader", "static-init-registers-itself",
         r"ExtensionLoadError: .*static initializers registered global names themselves.*"
         r"'stray_static\.unchecked' \(new\)", setup=[extensions],
         snippet=load_and_check("stray_static", "stray_static.unchecked", "stray_static.checked")),
    Case("loader", "static-init-claims-tvm-name",
         r"ExtensionLoadError: .*static initializers was killed by signal Aborted.*"
         r"tirx\.transform\.StmtSimplify.*It was not loaded into this process",
         setup=[extensions], snippet=load_and_check("static_clash", "static_clash.f")),
    Case("loader", "static-init-throws",
         r"ExtensionLoadError: .*killed by signal Aborted.*the config file is missing",
         setup=[extensions], snippet=load_and_check("static_throws", "static_throws.f")),
    Case("loader", "factory-registers-itself",
         r"ExtensionLoadError: .*registration factories registered global names themselves, "
         r"behind the loader's back: 'racy\.c' \(new\)", setup=[extensions],
         snippet=load_and_check("racy", "racy.a", "racy.b", "racy.c")),
    Case("loader", "factory-calls-the-loader",
         r"ExtensionLoadError: .*cannot load .*libext_b\.so' while the loader is busy to load",
         setup=[extensions], snippet=load_and_check("reenter_load", "reenter_load.seen")),
    Case("loader", "object-type-key-taken",
         r"DuplicateRegistrationError: .*the object type 'objects\.Tile' is already registered by "
         r"TVM or a library outside tvm-extend.*objects\.cc", setup=[extensions],
         snippet="import tvm_ffi\nfrom tvm_ffi.dataclasses import py_class\n"
         "py_class('objects.Tile')(type('Tile', (tvm_ffi.Object,), {'__annotations__': "
         "{'rows': int}}))\n" + load_and_check("objects", "objects.area")),
    Case("loader", "object-type-layout-changed-on-reload",
         r"ExtensionLoadError: .*the object type 'objects\.Tile' .*changed its layout since "
         r".*weight: float.*restart it", setup=[extensions],
         snippet=load("objects", then="tvm_extend.reload_extension('objects', "
                      "EXT + '/libobjects_changed.so')")),
    # --- loader: pass config options (tests/extensions/cfg_*.cc) ---------------------------
    Case("loader", "config-tvm-option",
         r"DuplicateRegistrationError: .*the pass config option 'tirx\.noalias' is already "
         r"registered by TVM .*libtvm_compiler\.so\) as a bool; extension 'tirx' .*cfg_clash\.cc",
         setup=[extensions], snippet=load("cfg_clash")),
    Case("loader", "config-two-libraries",
         r"DuplicateRegistrationError: .*'cfg_ext\.tile' is already registered by extension "
         r"'cfg_ext' 1\.0\.0 \(\S*/libcfg_ext\.so\).*libcfg_ext_copy\.so\) registers it again",
         setup=[extensions], snippet=load("cfg_ext", "cfg_ext_copy")),
    Case("loader", "config-outside-library",
         r"DuplicateRegistrationError: .*'cfg_outside\.tile' is already registered by a library "
         r"outside tvm-extend", setup=[extensions],
         snippet="import ctypes, tvm\nctypes.CDLL(EXT + '/libcfg_foreign.so')\n"
         + load("cfg_outside")),
    Case("loader", "config-type-changed-on-reload",
         r"ExtensionLoadError: .*'cfg_ext\.tile' .*changed its type: .*registered it as an int "
         r".*libcfg_ext_changed\.so\) declares it as a float", setup=[extensions],
         snippet=load("cfg_ext", then="tvm_extend.reload_extension('cfg_ext', "
                      "EXT + '/libcfg_ext_changed.so')")),
    Case("loader", "config-type-changed-after-unload",
         r"ExtensionLoadError: .*'cfg_ext\.tile' .*registered it as an int .*declares it as a "
         r"float", setup=[extensions],
         snippet=load("cfg_ext", then="tvm_extend.unload_extension('cfg_ext')\n"
                      "tvm_extend.load_extension(EXT + '/libcfg_ext_changed.so')")),
    Case("loader", "config-tvm-without-the-function",
         r"ExtensionLoadError: .*'cfg_ext\.tile' .*cannot be registered with TVM .*does not "
         r"export tvm::transform::PassContext::RegisterConfigOption", setup=[extensions],
         env={"TVM_EXTEND_NO_AUTOLOAD": "1"},  # project_a's option would find the function first
         snippet="import tvm, tvm_ffi\nreal = tvm_ffi.get_global_func('transform.ListConfigs')\n"
         "tvm_ffi.register_global_func('transform.ListConfigs', lambda: real(), override=True)\n"
         + load("cfg_ext")),
    Case("loader", "config-wrong-value-type",
         r"TypeError: pass config option 'cfg_ext\.tile' \(of extension 'cfg_ext'\) takes an int, "
         r"not a str \('big'\)", setup=[extensions],
         snippet=load("cfg_ext", then="tvm.transform.PassContext(config={'cfg_ext.tile': 'big'})")),
    Case("loader", "config-read-as-another-type",
         r"TypeError: function cfg_ext\.read_mode_as_int failed: pass config option "
         r"'cfg_ext\.mode' holds a str \('x'\), but this code reads it as an int",
         setup=[extensions],
         snippet=load("cfg_ext", then="with tvm.transform.PassContext(config={'cfg_ext.mode': "
                      "'x'}):\n    ext['read_mode_as_int']()")),
    Case("loader", "config-project-a-bad-tile",
         r"ValueError: pass project_a\.transform\.AutoSchedule failed: pass config option "
         r"project_a\.tile is '6x'; expected \"MRxNR\"",
         setup=[requires("project_a"), write_file("matmul.py", MATMUL, "MATMUL")],
         snippet="import runpy, tvm, project_a\n"
         "mod = tvm.IRModule({'main': runpy.run_path(MATMUL)['matmul']})\n"
         "with tvm.transform.PassContext(config={'project_a.tile': '6x'}):\n"
         "    tvm.compile(mod, target='llvm')"),
    Case("loader", "unload-unknown", r"ExtensionLoadError: .*'nope': it is not loaded",
         snippet="import tvm_extend\ntvm_extend.unload_extension('nope')"),
    # --- call: what an extension's functions and passes do at run time --------------------
    Case("call", "pass-throws",
         r"ValueError: pass throwing\.transform\.Explode failed: cannot handle this loop nest",
         setup=[extensions, kernel_file],
         snippet=load("throwing", then=RUN_ON_KERNEL + "ext['transform.Explode']()(mod)")),
    Case("call", "pass-throws-non-std",
         r"RuntimeError: pass odd_throws\.transform\.ThrowsInt failed: .*not a std::exception",
         setup=[extensions, kernel_file],
         snippet=load("odd_throws", then=RUN_ON_KERNEL + "ext['transform.ThrowsInt']()(mod)")),
    Case("call", "pass-returns-a-module",
         r"TypeError: pass odd_throws\.transform\.ReturnsModule returned ir\.IRModule; "
         r"a PrimFunc pass must return a tirx\.PrimFunc", setup=[extensions, kernel_file],
         snippet=load("odd_throws", then=RUN_ON_KERNEL + "ext['transform.ReturnsModule']()(mod)")),
    Case("call", "relax-pass-throws",
         r"RuntimeError: pass relax_ext\.transform\.Throws failed: the rewrite met something it "
         r"cannot handle \(std::runtime_error\)", setup=[extensions],
         snippet=load("relax_ext", then=RELAX_MODULE + "ext['transform.Throws']()(mod)")),
    Case("call", "relax-pass-throws-in-tvm-compile",
         r"RuntimeError: pass relax_ext\.transform\.Throws failed: the rewrite met something",
         setup=[extensions],
         snippet=load("relax_ext", then=RELAX_MODULE + "from tvm_extend import pipeline\n"
                      "pipeline.contribute('t', [pipeline.before('LegalizeOps', "
                      "'relax_ext.transform.Throws')], ir='relax')\n"
                      "tvm.compile(mod, target='llvm')")),
    Case("call", "relax-pass-returns-a-module",
         r"TypeError: pass relax_ext\.transform\.ReturnsModule returned ir\.IRModule; a Relax "
         r"function pass must return what it was given", setup=[extensions],
         snippet=load("relax_ext", then=RELAX_MODULE + "ext['transform.ReturnsModule']()(mod)")),
    Case("pipeline", "relax-anchor-missing",
         r"PipelineError: .*'NoSuchPass'.*Its passes are: .*LegalizeOps", setup=[extensions],
         snippet=load("relax_ext", then="from tvm_extend import pipeline\n"
                      "pipeline.contribute('t', [pipeline.after('NoSuchPass', "
                      "'relax_ext.transform.AddSelfToMultiply')], ir='relax')")),
    Case("pipeline", "declared-relax-anchor-missing",
         r"PipelineError: extension 'relax_contrib_bad': .*'NoSuchPass'.*LegalizeOps",
         setup=[extensions],
         snippet=load_and_check("relax_contrib_bad", "relax_contrib_bad.transform.SquareToPower",
                                "relax_contrib_bad.runs")),
    Case("call", "wrong-argument-type", r"TypeError: .*ext_b\.add_one.*Expected `int`",
         setup=[extensions], snippet=load("ext_b", then="ext['add_one']('forty-one')")),
    Case("call", "wrong-argument-count", r"TypeError: .*ext_b\.add_one", setup=[extensions],
         snippet=load("ext_b", then="ext['add_one'](1, 2)")),
    Case("call", "view-of-the-wrong-node",
         rf"TypeError: .*expected tirx\.For but got {key('prim.Add')}",
         setup=[extensions],
         snippet=load("views_ext", then="ext['downcast_to_for'](tvm.tirx.Var('x', 'int32') + 1)")),
    Case("call", "function-throws-non-std",
         r"RuntimeError: function odd_throws\.throw_int failed: .*not a std::exception",
         setup=[extensions], snippet=load("odd_throws", then="ext['throw_int'](1)")),
    Case("call", "function-throws-std",
         r"RuntimeError: function odd_throws\.throw_std failed: index 7 is out of range "
         r"\(std::out_of_range\)", setup=[extensions],
         snippet=load("odd_throws", then="ext['throw_std'](7)")),
    # --- call: Relax pattern rewrites with C++ callbacks (tvm_extend/ir/relax_pattern.h) -----
    Case("call", "rewrite-callback-throws",
         r"RuntimeError: function patterns_ext\.throwing failed: rewrite `throwing`: the callback "
         r"failed on `R\.add\(x, x\)`: no replacement for this add \(std::runtime_error\)",
         setup=[extensions, relax_file], snippet=rewrite("ext['throwing'](func, 0)")),
    Case("call", "rewrite-callback-throws-non-std",
         r"RuntimeError: .*rewrite `throwing`: the callback failed on .*not a std::exception",
         setup=[extensions, relax_file], snippet=rewrite("ext['throwing'](func, 2)")),
    Case("call", "rewrite-ill-formed",
         r"ValueError: function patterns_ext\.unbound_var failed: rewrite `unbound_var` produced "
         r"ill-formed IR \(relax\.analysis\.well_formed\): Var ghost is not defined",
         setup=[extensions, relax_file], snippet=rewrite("ext['unbound_var'](func)")),
    Case("call", "rewrite-pass-ill-formed",
         r"ValueError: pass patterns_ext\.transform\.IllFormed failed: rewrite "
         r"`add_to_multiply_rule \| unbound_var_rule` produced ill-formed IR",
         setup=[extensions, relax_file],
         snippet=rewrite("ext['ill_formed_pass']()(tvm.IRModule({'main': func}))")),
    Case("call", "rewrite-ill-typed",
         r"ValueError: function patterns_ext\.ill_typed failed: rewrite `ill_typed` failed: "
         r"Matmul requires the reduction length",
         setup=[extensions, relax_file], snippet=rewrite("ext['ill_typed'](func)")),
    Case("call", "rewrite-never-converges",
         r"RuntimeError: .*rewrite `swap_forever` does not converge",
         setup=[extensions, relax_file],
         snippet=rewrite("ext['never_converges'](ext['add_to_multiply'](func))")),
    # --- reload: a hot reload during a build ------------------------------------------------
    Case("reload", "still-being-written",
         r"ExtensionLoadError: cannot load extension '.*/libext_b\.so': it is still being written",
         setup=[changed_copy("ext_b", lambda data: None)],
         snippet=RELOAD_WHILE_WRITING.format(chunks=80)),
    Case("reload", "overwritten-in-place-while-loaded",
         r"ExtensionLoadError: cannot load extension '.*/libext_b\.so': .*incomplete",
         setup=[changed_copy("ext_b", lambda data: None)],
         snippet="import os, tvm, tvm_extend\ntvm_extend.load_extension(FILE)\n"
         "data = open(FILE, 'rb').read()\nopen(FILE, 'wb').write(data[: len(data) // 2])\n"
         "assert tvm.get_global_func('ext_b.add_one')(1) == 2  # the loaded build runs on\n"
         "os.utime(FILE, (1e9, 1e9))\ntvm_extend.reload_extension('ext_b', FILE)"),
    Case("reload", "cut-off-build",
         r"ExtensionLoadError: cannot load extension '.*/hot/libext_b\.so': .*incomplete",
         setup=[changed_copy("ext_b", lambda data: None, "hot/libext_b.so")],
         snippet="import os, tvm_extend\ntvm_extend.load_extension(FILE)\n"
         "data = open(FILE, 'rb').read()\nopen(FILE, 'wb').write(data[: len(data) // 3])\n"
         "os.utime(FILE, (1e9, 1e9))\ntvm_extend.reload_extension('ext_b', FILE)"),
    # --- tools: tvm-extend new / doctor / opt, load_inline --------------------------------
    Case("tools", "new-tvm",
         r"tvm-extend new: 'tvm' is TVM's own package: a wheel named so would overwrite it",
         argv=["tvm-extend", "new", "tvm"]),
    Case("tools", "new-tvm-namespace", r"tvm-extend new: 'tirx' is a namespace TVM uses",
         argv=["tvm-extend", "new", "tirx"]),
    Case("tools", "new-stdlib-module", r"'json' is a module of Python's standard library",
         argv=["tvm-extend", "new", "json"]),
    Case("tools", "new-installed-module", r"'numpy' is already importable here",
         argv=["tvm-extend", "new", "numpy"]),
    Case("tools", "new-300-characters",
         r"\(300 characters\) cannot name an extension: at most 64 characters",
         argv=["tvm-extend", "new", "a" * 300]),
    Case("tools", "new-bad-name", r"'Bad-Name' cannot name an extension",
         argv=["tvm-extend", "new", "Bad-Name"]),
    Case("tools", "new-unknown-kind", r"--with magic: unknown; choose from pass, function",
         argv=["tvm-extend", "new", "fine", "--with", "magic"]),
    Case("tools", "new-existing-folder", r"taken already exists", setup=[folder("taken")],
         argv=["tvm-extend", "new", "taken"]),
    Case("tools", "inline-300-characters",
         r"ValueError: .*\(300 characters\) cannot name an extension: at most 64 characters",
         snippet="import tvm_extend\ntvm_extend.load_inline('a' * 300, 'int f() { return 1; }')"),
    Case("tools", "inline-bad-name", r"ValueError: 'Not-A-Name' cannot name an extension",
         snippet="import tvm_extend\ntvm_extend.load_inline('Not-A-Name', '')"),
    Case("tools", "doctor-no-build-tools",
         r"C\+\+ compiler: none found .*Fix: .*build tool: neither ninja nor make .*Fix: ",
         setup=[path_with()], env=ONLY_PATH, argv=["python", "-m", "tvm_extend", "doctor"]),
    Case("tools", "doctor-broken-tools",
         r"C\+\+ compiler: .*/c\+\+ does not run .*Fix: .*CMake: .*is version 3\.10; "
         r"tvm-extend needs 3\.18 or newer",
         setup=[path_with({"c++": "exit 1", "cmake": "echo 'cmake version 3.10.2'", "make": ""})],
         env=ONLY_PATH, argv=["python", "-m", "tvm_extend", "doctor"]),
    Case("tools", "doctor-library-without-entry",
         r"noentry: its library .*libnoentry\.so cannot be loaded: it has no tvm-extend entry "
         r"point \(TVMExtendExtensionEntry_v1\).*Fix: ",
         setup=[fake_extension("noentry", "no_entry")],
         env={"PYTHONPATH": "{SITE}"}, argv=["tvm-extend", "doctor"]),
    Case("tools", "doctor-library-not-elf",
         r"notelf: its library .*libnotelf\.so cannot be loaded: it is not a loadable shared "
         r"library \(not an ELF file\)",
         setup=[fake_extension("notelf", b"not a library\n")], env={"PYTHONPATH": "{SITE}"},
         argv=["tvm-extend", "doctor"]),
    Case("tools", "doctor-compat-not-a-library",
         r"doctor --compat: \S+/libnotelf\.so: it is not a loadable shared library",
         setup=[write_file("libnotelf.so", "not a library\n")],
         argv=["tvm-extend", "doctor", "--compat", "{FILE}"]),
    Case("tools", "doctor-compat-malformed-uses",
         r"doctor --compat: used items: 'types' must be a list",
         setup=[write_file("uses.json", '{"types": 3}')],
         argv=["tvm-extend", "doctor", "--uses", "{FILE}"]),
    Case("tools", "doctor-compat-not-json",
         r"doctor --compat: \S+/uses\.json is not JSON",
         setup=[write_file("uses.json", "{not json")],
         argv=["tvm-extend", "doctor", "--uses", "{FILE}"]),
    Case("tools", "opt-output-folder-missing", r"-o \S+/no/out\.py: no such folder",
         setup=[kernel_file],
         argv=["tvm-extend", "opt", "{KERNEL}", "--passes", TVM_PASS, "-o", "{TMP}/no/out.py"]),
    Case("tools", "opt-not-a-pass",
         r"pass 'ir\.IRModule': calling ir\.IRModule\(\) failed, so it is not a pass factory",
         setup=[kernel_file], argv=["tvm-extend", "opt", "{KERNEL}", "--passes", "ir.IRModule"]),
    Case("tools", "opt-binary-input",
         r"lib\.py: not a Python source file \(binary content, a NUL byte at offset \d+\)",
         setup=[write_file("lib.py", b"\x7fELF\x02\x01\x01\x00" + bytes(64))],
         argv=["tvm-extend", "opt", "{FILE}", "--passes", TVM_PASS]),
    Case("tools", "opt-missing-file", r"no such file: missing\.py",
         argv=["tvm-extend", "opt", "missing.py", "--passes", TVM_PASS]),
    Case("tools", "opt-unknown-pass", r"unknown pass 'no\.such\.Pass'", setup=[kernel_file],
         argv=["tvm-extend", "opt", "{KERNEL}", "--passes", "no.such.Pass"]),
    Case("tools", "opt-bad-tvmscript",
         r"bad\.py: TVMScript error:.*Undefined variable: undefined_name.*bad\.py:7:",
         setup=[write_file("bad.py", KERNEL.replace("A[i] // 4", "A[i] // undefined_name"))],
         argv=["tvm-extend", "opt", "{FILE}", "--passes", TVM_PASS]),
    Case("tools", "opt-syntax-error", r"syntax\.py:1:", setup=[write_file("syntax.py", "def (:\n")],
         argv=["tvm-extend", "opt", "{FILE}", "--passes", TVM_PASS]),
    Case("tools", "opt-unknown-pipeline", r"--pipeline nope", setup=[kernel_file],
         argv=["tvm-extend", "opt", "{KERNEL}", "--pipeline", "nope"]),
    Case("tools", "opt-failing-pass",
         r"pass throwing\.transform\.Explode failed.*cannot handle this loop nest",
         setup=[extensions, kernel_file],
         argv=["tvm-extend", "opt", "{KERNEL}", "--load", "{EXT}/libthrowing.so",
               "--passes", "throwing.transform.Explode"]),
    # --- tools: the CMake package (cmake -DCMAKE_PREFIX_PATH=<site-packages>) ---------------
    Case("tools", "cmake-prebuild-not-a-tvm",
         cmake_says("TVM_PREBUILD_PATH=", "/empty is neither a TVM build folder nor a "
                    "pip-installed TVM: it holds no libtvm_compiler.so or libtvm.so"),
         setup=[cmake_probe, folder("empty")],
         argv=[*CMAKE_PROBE, "-DTVM_PREBUILD_PATH={TMP}/empty"]),
    Case("tools", "cmake-prebuild-wheel-without-tvm-ffi",
         cmake_says("/site/tvm is a pip-installed TVM, but tvm-ffi is not installed beside it: "
                    "expected", "/site/tvm_ffi/lib/libtvm_ffi.so"),
         setup=[cmake_probe, wheel_tvm_alone], argv=[*CMAKE_PROBE, "-DTVM_PREBUILD_PATH={WHEEL}"]),
    Case("tools", "cmake-prebuild-incomplete-build",
         cmake_says("/build/libtvm.so but not the rest of a TVM build", "missing:",
                    "libtvm_runtime.so (in", "libtvm_ffi.so (in"),
         setup=[cmake_probe, tvm_tree("0.27.0", remove=("build/libtvm_runtime.so",
                                                        "build/lib/libtvm_ffi.so"))],
         argv=[*CMAKE_PROBE, "-DTVM_PREBUILD_PATH={BUILD}"]),
    Case("tools", "cmake-prebuild-version-unknown",
         cmake_says("cannot tell the TVM version of the build folder", "-DTVM_VERSION="),
         setup=[cmake_probe, tvm_tree(None)], argv=[*CMAKE_PROBE, "-DTVM_PREBUILD_PATH={BUILD}"]),
    Case("tools", "cmake-source-other-release",
         cmake_says("/tvm holds TVM 0.19.0 (python/tvm/libinfo.py), but the TVM it links is")
         + r"\s+\d+\.\d+",
         setup=[cmake_probe, tvm_tree("0.19.0")], argv=[*CMAKE_PROBE, "-DTVM_SOURCE_DIR={TREE}"]),
    Case("tools", "cmake-source-other-release-git",
         cmake_says("/tvm holds TVM v0.19.0 (git describe), but the TVM it links is"),
         setup=[cmake_probe, tvm_tree("0.19.0", version_in="git")],
         argv=[*CMAKE_PROBE, "-DTVM_SOURCE_DIR={TREE}"]),
    Case("tools", "cmake-source-version-unknown",
         cmake_says("cannot tell which TVM release TVM_SOURCE_DIR=", "/tvm holds",
                    "TVM_EXTEND_ALLOW_SOURCE_MISMATCH=ON"),
         setup=[cmake_probe, tvm_tree(None)], argv=[*CMAKE_PROBE, "-DTVM_SOURCE_DIR={TREE}"]),
    Case("tools", "cmake-no-python-for-the-package",
         cmake_says("cannot find the Python that tvm-extend at", "/prefix/lib/",
                    "is installed for", "-DPython_EXECUTABLE="),
         setup=[cmake_probe, package_copy], env=SYSTEM_PATH,
         argv=["cmake", "-S", "{PROBE}", "-B", "{TMP}/b", "-DCMAKE_PREFIX_PATH={COPY}",
               "-DPROBE_EXTENSION=SOURCES;probe_ext.cc"]),
    # --- reload ----------------------------------------------------------------------------
    Case("reload", "not-loaded",
         r"ExtensionLoadError: cannot reload extension 'nothing_here': it is not loaded",
         snippet="import tvm_extend\ntvm_extend.reload_extension('nothing_here')"),
    Case("reload", "missing-file", r"ExtensionLoadError: .*no such file", setup=[extensions],
         snippet=load("ext_b", then="tvm_extend.reload_extension('ext_b', TMP + '/gone.so')")),
    Case("reload", "another-extension", r"ExtensionLoadError: .*that library is extension 'dup'",
         setup=[extensions],
         snippet=load("ext_b",
                      then="tvm_extend.reload_extension('ext_b', EXT + '/libdup_two.so')")),
    # --- pipeline --------------------------------------------------------------------------
    Case("pipeline", "unknown-anchor",
         r"PipelineError: .*NoSuchPass.*Its passes are:.*FlattenBuffer",
         snippet="import tvm, tvm_extend\nfrom tvm_extend import pipeline as P\n"
         "P.register('bad', insert=[P.after('NoSuchPass', tvm.tirx.transform.StmtSimplify())])"),
    # Two passes of the base whose short name is StmtSimplify (TVM 0.27's own pipeline has two;
    # one made here on every release).
    Case("pipeline", "ambiguous-anchor", r"PipelineError: anchor 'StmtSimplify' is ambiguous",
         snippet="import tvm, tvm_extend\nfrom tvm_extend import pipeline as P\n"
         "same = tvm.tirx.transform.prim_func_pass(lambda f, m, c: f, opt_level=0,\n"
         "                                         name='fault.StmtSimplify')\n"
         "P.register('base', insert=[P.after('tirx.FlattenBuffer', same)])\n"
         "P.register('bad', base='base',\n"
         "           insert=[P.after('StmtSimplify', tvm.tirx.transform.StmtSimplify())])"),
    Case("pipeline", "unknown-base", r"PipelineError: unknown base pipeline 'nope'",
         snippet="from tvm_extend import pipeline\npipeline.register('bad', base='nope')"),
    Case("pipeline", "replace-tvm-pipeline", r"PipelineError: cannot replace TVM's own pipeline",
         snippet="from tvm_extend import pipeline\npipeline.register('default')"),
    Case("pipeline", "insert-a-non-pass", r"PipelineError: cannot insert 42: give a Pass",
         snippet="from tvm_extend import pipeline as P\n"
         "P.register('bad', insert=[P.after('tirx.FlattenBuffer', 42)])"),
    Case("pipeline", "insert-an-unknown-global",
         r"PipelineError: .*no global function 'no\.such\.Pass'",
         snippet="from tvm_extend import pipeline as P\n"
         "P.register('bad', insert=[P.after('tirx.FlattenBuffer', 'no.such.Pass')])"),
    Case("pipeline", "contribute-a-non-pass",
         r"PipelineError: contribution of 'x' to 'default': cannot insert 42",
         snippet="from tvm_extend import pipeline as P\n"
         "P.contribute('x', [P.after('tirx.FlattenBuffer', 42)])"),
    Case("pipeline", "contribution-unknown-anchor",
         r"PipelineError: contribution of 'x' to 'default'.*Nope",
         snippet="import tvm\nfrom tvm_extend import pipeline as P\n"
         "P.contribute('x', [P.after('Nope', tvm.tirx.transform.StmtSimplify())])"),
    Case("pipeline", "withdraw-nothing", r"PipelineError: 'x' contributes nothing",
         snippet="from tvm_extend import pipeline\npipeline.withdraw('x')"),
    Case("pipeline", "override-replace-a-replaced-pass",
         r"PipelineError: contribution of 'b' to 'default': cannot replace 'tirx\.StorageRewrite' "
         r"for 'b': 'a' already replaces it",
         snippet="import tvm\nfrom tvm_extend import pipeline as P\n"
         "P.contribute('a', [P.replace('tirx.StorageRewrite', tvm.tirx.transform.StmtSimplify)])\n"
         "P.contribute('b', [P.replace('tirx.StorageRewrite', tvm.tirx.transform.RemoveNoOp)])"),
    Case("pipeline", "override-remove-unknown-anchor",
         r"PipelineError: contribution of 'x' to 'default': cannot remove 'NoSuchPass' "
         r"\(occurrence 1\): the pipeline has 0 such pass\(es\)\. Its passes are:",
         snippet="from tvm_extend import pipeline as P\n"
         "P.contribute('x', [P.remove('NoSuchPass')])"),
    Case("pipeline", "unregister-tvm-pipeline",
         r"PipelineError: 's_tir' is not a tvm_extend pipeline",
         snippet="from tvm_extend import pipeline\npipeline.unregister('s_tir')"),
    # --- backend: README's second bad-input table ------------------------------------------
    Case("backend", "kind-tvm-builds",
         r"serves the target kind 'llvm', but target\.build\.llvm is already registered by TVM",
         setup=[extensions], snippet=load("backend_llvm")),
    Case("backend", "kind-tvm-does-not-know",
         r"serves the target kind 'no_such_kind', which TVM .* does not know", setup=[extensions],
         snippet=load("backend_nokind")),
    Case("backend", "unknown-backend",
         r"ValueError: unknown backend 'nope'; loaded backends: .*sim_backend\.interp",
         setup=[extensions], snippet=load("sim_backend", then="tvm_extend.backend.target('nope')")),
    Case("backend", "target-names-no-backend",
         r"ValueError: .*the ext_dev target names no backend.*'sim_backend\.interp'",
         setup=[extensions, kernel_file],
         snippet=compile_with("{'kind': 'ext_dev', 'host': 'llvm'}")),
    Case("backend", "unknown-ext-dev-model", r"ValueError: .*unknown ext_dev backend 'nope'",
         setup=[extensions, kernel_file],
         snippet=compile_with("{'kind': 'ext_dev', 'model': 'nope', 'host': 'llvm'}")),
    Case("backend", "unknown-option", r"ValueError: .*unknown option 'fast=1'",
         setup=[extensions, kernel_file],
         snippet=compile_with("tvm_extend.backend.target('sim_backend.interp', fast=1)")),
    Case("backend", "build-throws", r"RuntimeError: .*asked to build .* in mode exact",
         setup=[extensions, kernel_file],
         snippet=compile_with("tvm_extend.backend.target('sim_backend.interp', mode='exact')")),
    Case("backend", "build-returns-no-module",
         r"TypeError: .*returned ffi\.String instead of a runtime Module",
         setup=[extensions, kernel_file],
         snippet=compile_with("tvm_extend.backend.target('sim_backend.broken')")),
    # --- the example projects' promises (scripts/test.sh installs them) --------------------
    Case("call", "schedule-bad-tile", r"ValueError: .*nr a multiple of 4",
         setup=[requires("project_a"), write_file("matmul.py", MATMUL, "MATMUL")],
         snippet="import runpy, tvm, project_a\n"
         "sch = tvm.s_tir.Schedule(runpy.run_path(MATMUL)['matmul'])\n"
         "project_a.matmul_microkernel(sch, 'C', nr=6)"),
    Case("backend", "project-name-taken",
         r"DuplicateRegistrationError: .*'project_b' 9\.9\.9.*'project_b' 0\.1\.0|"
         r"DuplicateRegistrationError: .*'project_b' 0\.1\.0.*'project_b' 9\.9\.9",
         setup=[requires("project_b"), extensions],
         snippet="import project_b\n" + load("impostor")),
    Case("backend", "c-compiler-rejects-the-code",
         r"RuntimeError: .*the C compiler .*generated source \S+\.c.*no_such_c_function",
         setup=[requires("project_b"), write_file("kernel.py", CALLS_UNKNOWN_C, "KERNEL")],
         snippet=compile_with("project_b.target()", before="import project_b\n")),
    Case("backend", "vector-code-for-the-c-backend",
         r"ValueError: .*cannot generate .*vector.*kernel",
         setup=[requires("project_b"), write_file("kernel.py", VECTORIZED, "KERNEL")],
         snippet=compile_with("project_b.target()", before="import project_b\n")),
    Case("backend", "c-compiler-missing", r"RuntimeError: .*cannot run '/no/such/cc'",
         setup=[requires("project_b"), kernel_file],
         snippet=compile_with("project_b.target(cc='/no/such/cc')", before="import project_b\n")),
]
# fmt: on


def tvm_release() -> tuple[int, int]:
    """(major, minor) of the installed apache-tvm, read without importing it."""
    from importlib.metadata import version

    return tuple(int(p) for p in version("apache-tvm").split(".")[:2])


# Relax ops and BYOC codegens (tests/extensions/relax_ops.cc, relax_clash.cc): built for TVM 0.27
# only, whose Relax types they use.
RELAX_CASES: list[Case] = [
    Case(
        "loader",
        "relax-op-name-taken",
        r"DuplicateRegistrationError: .*the Relax op 'relaxclash\.add' is already registered by "
        r"TVM or a library outside tvm-extend; extension 'relaxclash' .*relax_clash\.cc:",
        setup=[extensions],
        snippet="import tvm\ntvm.get_global_func('ir.RegisterOp')('relaxclash.add', 'first')\n"
        + load_and_check("relaxclash", "relaxclash.one"),
    ),
    Case(
        "loader",
        "relax-op-without-inference",
        r"ExtensionLoadError: .*the Relax op 'relaxnoinfer\.op' .*has no type inference",
        setup=[extensions],
        snippet=load_and_check("relaxnoinfer", "relaxnoinfer.one"),
    ),
    Case(
        "loader",
        "relax-op-lowered-to-nothing",
        r"ExtensionLoadError: .*lowers to a call of 'relaxnopacked\.run\.missing'",
        setup=[extensions],
        snippet=load_and_check("relaxnopacked", "relaxnopacked.one"),
    ),
    Case(
        "call",
        "relax-inference-throws",
        r"RuntimeError: type inference of Relax op relaxops\.always_fails failed for "
        r"T\.relaxops\.always_fails\(x\): .*accepts no call at all \(std::runtime_error\)",
        setup=[extensions],
        snippet=RELAX_START + 'bb.emit(op("relaxops.always_fails")(x))',
    ),
    Case(
        "call",
        "relax-inference-refuses-a-call",
        r"TypeError: type inference of Relax op relaxops\.scaled_add failed for "
        r"T\.relaxops\.scaled_add\(x, x, 1\): .*alpha must be a float32 scalar",
        setup=[extensions],
        snippet=RELAX_START + 'bb.emit(op("relaxops.scaled_add")(x, x, T.int32(1)))',
    ),
    Case(
        "call",
        "relax-legalization-throws",
        r"RuntimeError: legalization of Relax op relaxops\.legalize_fails failed for "
        r"T\.relaxops\.legalize_fails\(x\): no kernel for this call",
        setup=[extensions],
        snippet=RELAX_START + 'y = bb.emit(op("relaxops.legalize_fails")(x))\n'
        "blk = bb._end_block()\nbb.end_scope()\n"
        "f = relax.Function([x], relax.SeqExpr([blk], y), R.Tensor((4,), 'float32'))\n"
        "relax.transform.LegalizeOps()(tvm.IRModule({'main': f}))",
    ),
    Case(
        "call",
        "relax-op-after-unload",
        r"Cannot find the FInferType attribute registered to op: relaxops\.scaled_add",
        setup=[extensions],
        snippet=RELAX_START + "tvm_extend.unload_extension('relaxops')\n"
        'bb.emit(op("relaxops.scaled_add")(x, x, T.float32(1)))',
    ),
    Case(
        "call",
        "codegen-throws",
        r"RuntimeError: codegen relax\.ext\.relaxops_bad of extension 'relaxops' .*failed for "
        r"function 'fused_relax_add_relaxops_bad': relaxops_bad has no kernel for an add",
        setup=[extensions],
        snippet=RELAX_START + "cg = 'relaxops_bad'\n" + OFFLOAD_ADD,
    ),
    Case(
        "loader",
        "codegen-claimed-twice",
        r"DuplicateRegistrationError: .*the codegen 'relax\.ext\.relaxops_cg' is already "
        r"registered by extension 'relaxops' .*librelax_ops\.so\); extension 'relaxcg_clash' "
        r".*claims it again at .*relax_clash\.cc:",
        setup=[extensions],
        snippet=load("relax_ops") + load_and_check("relaxcg_clash", "relaxcg_clash.one"),
    ),
    Case(
        "call",
        "codegen-after-unload",
        r"Codegen is not found: relax\.ext\.relaxops_cg",
        setup=[extensions],
        snippet=RELAX_START
        + """\
bf = relax.BlockBuilder()
a, b = relax.Var("a", R.Tensor((4, 4), "float32")), relax.Var("b", R.Tensor((4, 4), "float32"))
with bf.function("main", [a, b]):
    with bf.dataflow():
        out = bf.emit_output(relax.op.matmul(a, b))
    bf.emit_func_output(out)
mod = relax.transform.FuseOpsByPattern(patterns("relaxops_cg"), annotate_codegen=True)(bf.get())
tvm_extend.unload_extension("relaxops")
relax.transform.RunCodegen()(mod)
""",
    ),
]
if tvm_release() >= (0, 27):
    CASES += RELAX_CASES

# examples/project_llm (installed: `import tvm` loads it) given bad input.
LLM_START = """\
import tvm, tvm_ffi
from tvm import relax
from tvm.script import relax as R, tirx as T
from tvm_extend.relax_op import op, patterns
bf = relax.BlockBuilder()
x = relax.Var("x", R.Tensor((16, 32), "float32"))
w = relax.Var("w", R.Tensor((24, 32), "float32"))
with bf.function("main", [x, w]):
    with bf.dataflow():
        out = bf.emit_output(relax.op.matmul(x, relax.op.permute_dims(w)))
    bf.emit_func_output(out)
mod = relax.transform.FuseOpsByPattern(patterns("project_llm"), annotate_codegen=True)(bf.get())
[outlined] = [f for _, f in mod.functions.items() if f.attrs and "Codegen" in f.attrs]
codegen = tvm.get_global_func("relax.ext.project_llm")
"""
LLM_CASES: list[Case] = [
    Case(
        "call",
        "llm-codegen-unknown-composite",
        r"ValueError: codegen relax\.ext\.project_llm of extension 'project_llm' .*failed for "
        r"function 'fused_relax_permute_dims_relax_matmul_project_llm': .*unknown composite "
        r"'project_llm\.conv'",
        snippet=LLM_START
        + """\
inner = outlined.body.blocks[0].bindings[0]
blocks = [relax.BindingBlock([
    relax.VarBinding(inner.var, inner.value.with_attr("Composite", "project_llm.conv")),
    *outlined.body.blocks[0].bindings[1:]])]
bad = relax.Function(outlined.params, relax.SeqExpr(blocks, outlined.body.body),
                     outlined.ret_ty, outlined.is_pure, outlined.attrs)
with tvm.target.Target("llvm"):
    codegen([bad], {}, {})
""",
    ),
    Case(
        "call",
        "llm-codegen-without-target",
        r"ValueError: codegen relax\.ext\.project_llm .*failed for function "
        r"'fused_relax_permute_dims_relax_matmul_project_llm': .*no current target",
        snippet=LLM_START + "codegen([outlined], {}, {})",
    ),
    Case(
        "call",
        "llm-codegen-given-a-float16-function",
        r"ValueError: codegen relax\.ext\.project_llm .*failed for function 'half': .*"
        r"parameter 0 is float16, not float32",
        snippet=LLM_START
        + """\
p = [relax.Var(v.name, R.Tensor(v.ty.shape, "float16")) for v in outlined.params]
half = relax.Function(p, relax.SeqExpr([], p[0]), p[0].ty).with_attr("global_symbol", "half")
with tvm.target.Target("llvm"):
    codegen([half], {}, {})
""",
    ),
    Case(
        "call",
        "llm-add-rms-norm-wrong-weight",
        r"TypeError: type inference of Relax op project_llm\.add_rms_norm failed for "
        r"T\.project_llm\.add_rms_norm\(x, x, w, .*weight must have x's dtype",
        snippet=LLM_START
        + """\
bb = relax.BlockBuilder()
w = relax.Var("w", R.Tensor((32,), "float16"))
with bb.function("f", [x, w]):
    bb.emit(op("project_llm.add_rms_norm")(x, x, w, T.float32(1e-5), T.bool(True)))
""",
    ),
    Case(
        "call",
        "llm-clean-up-attrs-not-a-list",
        r"TypeError: .*project_llm\.transform\.CleanUpTIRAttrs.*",
        snippet="import tvm\ntvm.get_global_func('project_llm.transform.CleanUpTIRAttrs')(42)",
    ),
]
if tvm_release() >= (0, 27) and importlib.util.find_spec("project_llm") is not None:
    CASES += LLM_CASES
