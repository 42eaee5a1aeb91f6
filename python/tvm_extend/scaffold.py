"""``tvm-extend new NAME``: write a ready extension project.

The project builds with ``pip install --no-build-isolation .`` against the installed TVM and
tvm-extend, and its tests pass at once. ``--with`` chooses what it contains: ``pass`` (a TIR pass
on the typed IR views, with a TVMScript before/after test and a compiled kernel checked against
numpy), ``function`` (a global function), ``op`` (a TIR op with its lowering, used from
TVMScript) and ``backend`` (a code generator for TVM's ext_dev target on the kit's C emitter,
with a kernel compiled through it and checked against numpy).
"""

from __future__ import annotations

import importlib.machinery
import keyword
import os
import re
import sys
from pathlib import Path

AVAILABLE = ("pass", "function", "op", "backend")

CMAKE = """\
cmake_minimum_required(VERSION 3.18)
project({name} LANGUAGES CXX)
find_package(tvm_extend CONFIG REQUIRED)
tvm_extend_add_extension({name} SOURCES {sources})
install(TARGETS {name} LIBRARY DESTINATION {name})
"""

PYPROJECT = """\
# `pip install .` builds in an isolated environment with these requirements (tvm-extend and the
# TVM release from the index); `pip install --no-build-isolation .` builds against the TVM and
# tvm-extend of the environment that will run it, with nothing fetched.
[build-system]
requires = [
  "scikit-build-core>=0.10", "tvm-extend{kit_range}", "apache-tvm>={release},<{next_release}"
]
build-backend = "scikit_build_core.build"

[project]
name = "{dist}"
version = "0.1.0"
description = "A TVM extension built with tvm-extend"
requires-python = ">=3.9"
# The TVM release it is built for: the loader refuses any other (tvm-extend's version policy).
dependencies = ["tvm-extend{kit_range}", "apache-tvm>={release},<{next_release}"]

# `import tvm` loads the extension (TVM calls its tvm.backends entry points).
[project.entry-points."tvm.backends"]
{name} = "tvm_extend.autoloader:{name}"

[tool.scikit-build]
minimum-version = "0.10"
wheel.py-api = "py3"  # the library uses no CPython API: one wheel for every Python 3
cmake.build-type = "Release"
wheel.packages = ["python/{name}"]
build-dir = "build/{{wheel_tag}}"
"""

ENTRY_CC = """\
// The extension's one entry point. Its name prefixes every global name it registers.
#include <tvm_extend/extension.h>

TVM_EXTEND_EXTENSION({name}, "0.1.0");
"""

FUNCTION_CC = """\
// A global function: {name}.greet("TVM") -> "Hello, TVM, from {name}".
#include <tvm_extend/extension.h>

#include <string>

namespace {{
std::string Greet(std::string who) {{ return "Hello, " + who + ", from {name}"; }}
}}  // namespace

TVM_EXTEND_REGISTER_FUNC("{name}.greet", Greet);
"""

PASS_CC = """\
// {name}.transform.FoldIdentities: `x * 1`, `1 * x`, `x + 0`, `0 + x` and `x - 0` become `x`.
// Written with tvm-extend's typed TIR views, generated from the installed TVM and checked
// against the running one when the extension loads.
#include <tvm_extend/extension.h>
#include <tvm_extend/ir/tir.h>
#include <tvm_extend/ir/tir_pass.h>

namespace {{
using namespace tvm_extend::tir;  // NOLINT(build/namespaces)

bool IsConstant(const Expr& e, int64_t value) {{
  IntImm imm = e.as<IntImm>();
  return imm.defined() && imm.value() == value;
}}

class FoldIdentities : public StmtExprMutator {{
 public:
  Expr VisitExpr_(const Mul& op) override {{
    Mul mul = VisitChildren(op);  // children first; the same node if none changed
    if (IsConstant(mul.b(), 1)) return mul.a();
    if (IsConstant(mul.a(), 1)) return mul.b();
    return mul;
  }}
  Expr VisitExpr_(const Add& op) override {{
    Add add = VisitChildren(op);
    if (IsConstant(add.b(), 0)) return add.a();
    if (IsConstant(add.a(), 0)) return add.b();
    return add;
  }}
  Expr VisitExpr_(const Sub& op) override {{
    Sub sub = VisitChildren(op);
    if (IsConstant(sub.b(), 0)) return sub.a();
    return sub;
  }}
}};

tvm::ffi::ObjectRef Run(tvm::ffi::ObjectRef func, tvm::ffi::ObjectRef, tvm::ffi::ObjectRef) {{
  return RewriteBody(func, [](const Stmt& body) {{ return FoldIdentities().VisitStmt(body); }});
}}
}}  // namespace

TVM_EXTEND_REGISTER_PRIM_FUNC_PASS("{name}.transform.FoldIdentities", Run, 0);
"""

OP_CC = """\
// {name}.clamp(x, lo, hi): a TIR op, lowered to min(max(x, lo), hi) for every target.
#include <tvm_extend/extension.h>
#include <tvm_extend/ir/tir.h>
#include <tvm_extend/ir/tir_ops.h>
#include <tvm_extend/op/op.h>

namespace {{
using namespace tvm_extend::tir;  // NOLINT(build/namespaces)

tvm::ffi::ObjectRef LowerClamp(tvm::ffi::ObjectRef call_ref) {{
  Call call(call_ref);
  return min(max(call.args()[0], call.args()[1]), call.args()[2]);
}}
}}  // namespace

TVM_EXTEND_REGISTER_OP("{name}.clamp", [] {{
  return tvm_extend::op::OpSpec("clamp x to [lo, hi]")
      .num_inputs(3)
      .attr("TCallEffectKind", int64_t{{1}})  // pure
      .lower("default", LowerClamp);
}});
"""

TEST_OP = '''\
"""The op {name}.clamp, used from TVMScript and compiled."""

import numpy as np
import tvm
from tvm.script import tirx as T

import {name}  # noqa: F401  (registers the op)


@T.prim_func
def kernel(A: T.Buffer((16,), "int32"), B: T.Buffer((16,), "int32")):
    for i in range(16):
        B[i] = T.call_intrin("int32", "{name}.clamp", A[i], 3, 10)


def test_clamp_kernel_matches_numpy():
    a = np.arange(16, dtype="int32")
    b = tvm.runtime.tensor(np.zeros(16, dtype="int32"))
    tvm.compile(kernel, target="llvm")["kernel"](tvm.runtime.tensor(a), b)
    np.testing.assert_array_equal(b.numpy(), np.clip(a, 3, 10))
'''

BACKEND_CC = """\
// {name}.c: a code generator for TVM's ext_dev target. TVM's own C generator writes the kernels
// (through the kit's <tvm_extend/backend/c_source.h>) after this extension's TIR pass
// {name}.transform.CountStores has given each kernel a store counter; the system C compiler
// compiles them into a runnable module. Select it with tvm_extend.backend.target("{name}.c").
#include <tvm_extend/backend/backend.h>
#include <tvm_extend/backend/c_module.h>
#include <tvm_extend/backend/c_source.h>
#include <tvm_extend/backend/counters.h>
#include <tvm_extend/extension.h>
#include <tvm_extend/ir/tir.h>
#include <tvm_extend/transform/prim_func_pass.h>

#include <string>

namespace {{
using namespace tvm_extend::tir;  // NOLINT(build/namespaces)
using tvm_extend::backend::KernelCounters;

// Change the kernels here, before code generation: one more on the counter before each store.
class CountStores : public StmtExprMutator {{
 public:
  explicit CountStores(const KernelCounters& counters) : counters_(counters) {{}}
  Stmt VisitStmt_(const BufferStore& op) override {{
    tvm::ffi::Array<tvm::ffi::ObjectRef> seq{{counters_.Increment("stores"), op}};
    return SeqStmt::Make(tvm_extend::ir::List<Stmt>(seq));
  }}

 private:
  const KernelCounters& counters_;
}};

tvm::ffi::ObjectRef CountStoresPass() {{
  return tvm_extend::transform::MakePrimFuncPass(
      "{name}.transform.CountStores",
      [](tvm::ffi::ObjectRef func, tvm::ffi::ObjectRef, tvm::ffi::ObjectRef) {{
        KernelCounters counters({{"stores"}});
        return counters.AddTo(func, CountStores(counters).VisitStmt(PrimFunc(func).body()));
      }},
      0);
}}

tvm::ffi::Module Build(tvm::ffi::ObjectRef mod, tvm::ffi::ObjectRef,
                       tvm_extend::backend::Options options) {{
  std::string command =
      std::string(options["cc"]) + " -O2 -std=gnu11 -Werror=implicit-function-declaration";
  return tvm_extend::backend::BuildCSource("{name}.c", mod, command, "", {{CountStoresPass()}});
}}
}}  // namespace

TVM_EXTEND_REGISTER_PRIM_FUNC_PASS_FACTORY("{name}.transform.CountStores", CountStoresPass);

TVM_EXTEND_REGISTER_BACKEND("{name}.c", [] {{
  return tvm_extend::backend::BackendSpec("C for ext_dev, with a store counter per kernel")
      .target_kind("ext_dev")
      .host_memory()  // ext_dev tensors live in host memory
      .option("cc", "cc", "the C compiler")
      .build(Build)
      .load_from_bytes([](tvm::ffi::Bytes bytes) {{
        return tvm_extend::backend::LoadCModule("{name}.c", bytes);
      }});
}});
"""

TEST_BACKEND = '''\
"""The backend {name}.c: a kernel compiled through it for ext_dev, checked against numpy, and
its pass {name}.transform.CountStores before and after."""

import numpy as np
import pytest
import tvm
from tvm.script import tirx as T

import {name}


@T.prim_func
def axpy(A: T.Buffer((64,), "float32"), B: T.Buffer((64,), "float32"), a: T.float32):
    for i in range(64):
        B[i] = A[i] * a + B[i]


def test_axpy_matches_numpy_and_counts_its_stores():
    lib = tvm.compile(axpy, target={name}.target())
    dev = tvm.ext_dev(0)
    x, y = np.random.randn(64).astype("float32"), np.random.randn(64).astype("float32")
    A, B = tvm.runtime.tensor(x, dev), tvm.runtime.tensor(y, dev)
    lib["axpy"](A, B, 3.0)
    np.testing.assert_allclose(B.numpy(), 3 * x + y, rtol=1e-6)
    assert {name}.counters(lib) == {{"axpy_kernel": {{"stores": 64}}}}


def test_count_stores_before_after():
    @T.prim_func
    def before(A: T.Buffer((8,), "float32")):
        for i in range(8):
            A[i] = A[i] + T.float32(1)

    @T.prim_func
    def expected(A: T.Buffer((8,), "float32"), counters_ptr: T.handle("int64", "global")):
        T.func_attr({{"tvm_extend.counters": ["stores"]}})
        counters = T.decl_buffer((1,), "int64", data=counters_ptr)
        for i in range(8):
            counters[0] = counters[0] + T.int64(1)
            A[i] = A[i] + T.float32(1)

    after = {name}.CountStores()(tvm.IRModule({{"main": before}}))["main"]
    tvm.ir.assert_structural_equal(after, expected.with_attr("global_symbol", "before"))


def test_unknown_options_are_refused():
    with pytest.raises(ValueError, match="unknown option"):
        tvm.compile(axpy, target={name}.target(speed="max"))
'''

INIT_BACKEND = '''

def target(host="llvm", **options):
    """An ext_dev target built by this extension's backend ({name}.c)."""
    return tvm_extend.backend.target("{name}.c", host=host, **options)


def counters(lib) -> dict:
    """The counters of the kernels that {name}.c compiled into ``lib``."""
    return tvm_extend.backend.counters(lib, "{name}.c")


def CountStores():  # noqa: N802  (TVM's pass naming)
    """The pass that gives each kernel a store counter ({name}.c runs it before generating C)."""
    return extension["transform.CountStores"]()
'''

INIT_PY = '''\
"""{name}: a TVM extension built with tvm-extend."""

import tvm_extend

extension = tvm_extend.load_extension(__name__)
{api}'''

INIT_PASS = '''

def FoldIdentities():  # noqa: N802  (TVM's pass naming)
    """The TIR pass folding `x * 1`, `x + 0` and `x - 0` into `x`."""
    return extension["transform.FoldIdentities"]()
'''

INIT_FUNCTION = '''

def greet(who: str) -> str:
    """Say hello from C++."""
    return extension["greet"](who)
'''

TEST_PASS = '''\
"""{name}.transform.FoldIdentities: TVMScript before/after, and a compiled kernel."""

import numpy as np
import tvm
from tvm.script import tirx as T

import {name}


@T.prim_func
def before(A: T.Buffer((16,), "int32"), B: T.Buffer((16,), "int32")):
    for i in range(16):
        B[i] = (A[i] * 1 + 0) * 3 - 0


def test_before_after():
    @T.prim_func
    def expected(A: T.Buffer((16,), "int32"), B: T.Buffer((16,), "int32")):
        for i in range(16):
            B[i] = A[i] * 3

    after = {name}.FoldIdentities()(tvm.IRModule({{"main": before}}))["main"]
    tvm.ir.assert_structural_equal(after, expected.with_attr("global_symbol", "before"))


def test_kernel_matches_numpy():
    mod = {name}.FoldIdentities()(tvm.IRModule({{"main": before}}))
    a = np.arange(16, dtype="int32")
    b = tvm.runtime.tensor(np.zeros(16, dtype="int32"))
    tvm.compile(mod, target="llvm")["before"](tvm.runtime.tensor(a), b)
    np.testing.assert_array_equal(b.numpy(), a * 3)
'''

TEST_FUNCTION = '''\
"""{name}.greet."""

import pytest

import {name}


def test_greet():
    assert {name}.greet("TVM") == "Hello, TVM, from {name}"


def test_greet_checks_its_argument():
    with pytest.raises(TypeError, match="{name}.greet"):
        {name}.extension["greet"](42)
'''

README = """\
# {name}

A TVM extension built with [tvm-extend](https://pypi.org/project/tvm-extend/) against the
pip-installed apache-tvm {tvm_version}. Contents: {contents}.

```bash
pip install --no-build-isolation .   # builds src/ against the installed TVM
python -m pytest tests               # TVMScript before/after tests and a compiled kernel
```

```python
import tvm, {name}
{usage}
```
"""


# kind -> (C++ source, test, Python API, usage line, description), each formatted with the name.
KINDS = {
    "pass": (
        PASS_CC,
        TEST_PASS,
        INIT_PASS,
        "mod = {name}.FoldIdentities()(mod)",
        "a TIR pass (`FoldIdentities`)",
    ),
    "function": (
        FUNCTION_CC,
        TEST_FUNCTION,
        INIT_FUNCTION,
        'print({name}.greet("TVM"))',
        "a global function (`greet`)",
    ),
    "op": (
        OP_CC,
        TEST_OP,
        "",
        '# T.call_intrin("int32", "{name}.clamp", x, lo, hi) in TVMScript',
        "a TIR op (`{name}.clamp`)",
    ),
    "backend": (
        BACKEND_CC,
        TEST_BACKEND,
        INIT_BACKEND,
        "lib = tvm.compile(func, target={name}.target())  # ext_dev, built by {name}.c",
        "a code generator for ext_dev (`{name}.c`)",
    ),
}


def kit_range() -> str:
    """The tvm-extend releases a generated project builds with: this one's minor series."""
    from ._version import __version__

    major, minor = (int(p) for p in __version__.split(".")[:2])
    return f">={major}.{minor},<{major}.{minor + 1}"


def release_bounds(tvm_version: str) -> dict:
    """`>=X.Y.Z,<X.Y.(Z+1)`: every repackaging (.postN) of the release, nothing else."""
    m = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", tvm_version)
    major, minor, patch = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    return {"release": f"{major}.{minor}.{patch}", "next_release": f"{major}.{minor}.{patch + 1}"}


MAX_NAME_LENGTH = 64

# Names a project must not take. The first three are packages a wheel would overwrite; the rest
# are namespaces of TVM's global functions and Python packages (tvm.tirx, tvm.relax, ...).
# check_project_name() adds the prefixes the running TVM registers (importing TVM takes under
# a second), so this list only has to cover what a broken TVM could not tell us.
OWN_PACKAGES = {"tvm": "TVM's", "tvm_ffi": "tvm-ffi's", "tvm_extend": "tvm-extend's"}
TVM_NAMESPACES = frozenset(
    "tirx tir relax ir arith sym prim s_tir te topi target runtime transform ffi script "
    "meta_schedule device_api codegen node testing instrument rpc schedule vm contrib "
    "driver autotvm auto_scheduler dlight relay".split()
)


def _shown(name: str) -> str:
    return f"'{name}'" if len(name) <= 40 else f"'{name[:20]}...' ({len(name)} characters)"


def check_name(name: str) -> None:
    """An extension name is a Python identifier of at most 64 characters: it names the
    package, the library and the namespace of its global functions."""
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(
            f"{_shown(name)} cannot name an extension: at most {MAX_NAME_LENGTH} characters "
            "(it becomes file and folder names: the package, lib<name>.so, the build cache)"
        )
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name) or keyword.iskeyword(name):
        raise ValueError(
            f"{_shown(name)} cannot name an extension: use lowercase letters, digits and '_', "
            "starting with a letter (it becomes the Python package, lib<name>.so and the "
            "'<name>.' namespace of its functions)"
        )


def tvm_prefixes() -> set[str]:
    """The first parts of the global function names the installed TVM registers (``tirx`` of
    ``tirx.transform.StmtSimplify``); empty when TVM cannot be imported."""
    try:
        import tvm  # noqa: F401  (registers TVM's functions)
        import tvm_ffi
    except Exception:  # noqa: BLE001  (a broken TVM: the static list still applies)
        return set()
    return {n.split(".", 1)[0] for n in tvm_ffi.registry.list_global_func_names() if "." in n}


def installed_module(name: str) -> str | None:
    """Where top-level module ``name`` would be imported from, ignoring the current folder (a
    project's own source tree holds a folder of its name) and folders without ``__init__.py``;
    None when there is no such module."""
    here = os.getcwd()
    path = [p for p in sys.path if p and os.path.abspath(p) != here]
    try:
        spec = importlib.machinery.PathFinder.find_spec(name, path)
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin in (None, "namespace"):
        return None  # not found, or a folder without __init__.py (a namespace package)
    return os.path.dirname(spec.origin) if spec.submodule_search_locations else spec.origin


def _is_extension_package(name: str) -> bool:
    """Whether an installed package advertises extension ``name`` (a previous copy of the
    project being written again)."""
    from .autoloader import installed

    return any(item.entry == name for item in installed())


def check_project_name(name: str) -> None:
    """check_name(), and the name must not collide with TVM's or Python's own namespaces: the
    project's package would shadow or overwrite a module, or its functions a TVM namespace."""
    check_name(name)
    if name in OWN_PACKAGES:
        raise ValueError(
            f"'{name}' is {OWN_PACKAGES[name]} own package: a wheel named so would overwrite it"
        )
    if name in TVM_NAMESPACES or name in tvm_prefixes():
        raise ValueError(
            f"'{name}' is a namespace TVM uses for its own global functions and modules: the "
            f"extension's '{name}.' functions could not be registered; choose another name"
        )
    if name in sys.builtin_module_names or name in getattr(sys, "stdlib_module_names", ()):
        raise ValueError(
            f"'{name}' is a module of Python's standard library: a package named so would "
            "shadow it; choose another name"
        )
    where = installed_module(name)
    if where is not None and not _is_extension_package(name):
        raise ValueError(
            f"'{name}' is already importable here (from {where}): a package named so would "
            "shadow or overwrite it; choose another name"
        )


def parse_with(text: str) -> list[str]:
    kinds = [k.strip() for k in text.split(",") if k.strip()]
    for kind in kinds:
        if kind not in AVAILABLE:
            raise ValueError(f"--with {kind}: unknown; choose from {', '.join(AVAILABLE)}")
    if not kinds:
        raise ValueError("--with needs at least one of: " + ", ".join(AVAILABLE))
    return kinds


def new_project(name: str, dest: Path, kinds: list[str], tvm_version: str) -> list[Path]:
    """Write the project into ``dest`` (which must not exist) and return the files written."""
    check_project_name(name)
    if dest.exists():
        raise FileExistsError(f"{dest} already exists; choose another folder or remove it")
    sources = ["src/extension.cc"]
    files = {
        "src/extension.cc": ENTRY_CC.format(name=name),
        "pyproject.toml": PYPROJECT.format(
            name=name,
            dist=name.replace("_", "-"),
            kit_range=kit_range(),
            **release_bounds(tvm_version),
        ),
    }
    api, usage, contents = "", [], []
    for kind in kinds:
        source, test, kind_api, kind_usage, description = KINDS[kind]
        files[f"src/{name}_{kind}.cc"] = source.format(name=name)
        sources.append(f"src/{name}_{kind}.cc")
        files[f"tests/test_{name}_{kind}.py"] = test.format(name=name)
        api += kind_api.format(name=name)
        usage.append(kind_usage.format(name=name))
        contents.append(description.format(name=name))
    files["CMakeLists.txt"] = CMAKE.format(name=name, sources=" ".join(sources))
    files[f"python/{name}/__init__.py"] = INIT_PY.format(name=name, api=api)
    files["README.md"] = README.format(
        name=name, tvm_version=tvm_version, contents=" and ".join(contents), usage="\n".join(usage)
    )
    written = []
    for rel, text in files.items():
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)
    return written
