"""Shared fixtures: the test extensions, built once per session against the installed kit."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# scripts/matrix.sh builds each TVM release's test libraries in a folder of their own.
BUILD = Path(os.environ.get("TVM_EXTEND_BUILD_DIR") or ROOT / "build" / "tests")


def release_constraints() -> Path:
    """The pip constraints of the running TVM release (as scripts/release.sh picks them):
    constraints.txt for the pinned release, constraints/tvm-<release>.txt for another."""
    import tvm

    pinned = ROOT / "constraints.txt"
    if f"apache-tvm=={tvm.__version__}\n" in pinned.read_text():
        return pinned
    return ROOT / "constraints" / f"tvm-{tvm.__version__}.txt"


def site_packages() -> Path:
    """The site-packages folder holding the installed tvm_extend (found without importing it):
    what CMAKE_PREFIX_PATH names for find_package(tvm_extend), the documented way."""
    spec = importlib.util.find_spec("tvm_extend")
    assert spec is not None and spec.submodule_search_locations, "tvm_extend is not installed"
    return Path(spec.submodule_search_locations[0]).parent


def cmake_build(source: Path, build: Path, *extra: str) -> subprocess.CompletedProcess:
    """Configure and build a CMake project against the installed tvm_extend package, found as a
    user's plain `cmake` finds it: through CMAKE_PREFIX_PATH, the package finding its Python."""
    configure = [
        "cmake",
        "-S",
        str(source),
        "-B",
        str(build),
        f"-DCMAKE_PREFIX_PATH={site_packages()}",
        "-DCMAKE_BUILD_TYPE=Release",
        "-DCMAKE_CXX_FLAGS=-Wall -Wextra -Werror",
        *extra,
    ]
    subprocess.run(configure, check=True, capture_output=True, text=True)
    return subprocess.run(
        ["cmake", "--build", str(build), "--parallel", "2"],
        check=True,
        capture_output=True,
        text=True,
    )


# --- synthetic layouts for the CMake package's TVM_PREBUILD_PATH / TVM_SOURCE_DIR ------------


def touch(path: Path, text: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def fake_tvm_tree(
    root: Path, version: str | None, version_in: str = "libinfo.py", libname: str = "libtvm.so"
) -> Path:
    """A TVM source checkout with a build folder (returned), as the seed's TVM_PREBUILD_PATH
    expects. The version sits where a checkout has it: ``libinfo.py`` (TVM 0.27's indented
    fallback), ``base.h`` (``#define TVM_VERSION``) or ``git`` (a tag); None: nowhere."""
    build = root / "build"
    for lib in (libname, "libtvm_runtime.so", "lib/libtvm_ffi.so"):
        touch(build / lib)
    touch(root / "include" / "tvm" / "ir" / "expr.h", "// fake\n")
    touch(root / "3rdparty" / "tvm-ffi" / "include" / "tvm" / "ffi" / "c_api.h", "// fake\n")
    touch(root / "3rdparty" / "tvm-ffi" / "3rdparty" / "dlpack" / "include" / "dlpack" / "dlpack.h")
    touch(
        root / "3rdparty" / "tvm-ffi" / "python" / "tvm_ffi" / "_version.py",
        '__version__ = version = "0.1.9"\n',
    )
    base_h = root / "include" / "tvm" / "runtime" / "base.h"
    libinfo = root / "python" / "tvm" / "libinfo.py"
    if version_in == "libinfo.py" and version:
        touch(
            libinfo,
            f"try:\n    from ._version import version as __version__\n"
            f'except ImportError:\n    __version__ = "{version}"\n',
        )
    else:
        touch(libinfo, "from ._version import version as __version__\n")
    if version_in == "base.h" and version:
        touch(base_h, f'#ifndef TVM_VERSION\n#define TVM_VERSION "{version}"\n#endif\n')
    else:
        touch(base_h, "// no version here\n")
    if version_in == "git" and version:
        git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com"]
        subprocess.run([*git, "init", "-q"], check=True)
        subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "tree"], check=True)
        subprocess.run([*git, "tag", f"v{version}"], check=True)
    return build


def fake_wheel_tvm(site: Path, version: str, ffi: bool = True) -> Path:
    """``site/tvm`` laid out as the apache-tvm wheel installs it (empty libraries), with
    ``site/tvm_ffi`` beside it unless ``ffi`` is False. Returns the tvm folder."""
    tvm_dir = site / "tvm"
    touch(tvm_dir / "__init__.py")
    touch(tvm_dir / "_version.py", f"__version__ = version = '{version}'\n")
    for lib in ("libtvm_compiler.so", "libtvm_runtime.so"):
        touch(tvm_dir / "lib" / lib)
    if ffi:
        touch(site / "tvm_ffi" / "lib" / "libtvm_ffi.so")
        touch(site / "tvm_ffi" / "include" / "tvm" / "ffi" / "c_api.h")
        touch(site / "tvm_ffi" / "_version.py", "__version__ = version = '0.1.9'\n")
    return tvm_dir


def fake_site(prefix: Path, headers: bool = True, tvm: bool = True) -> Path:
    """``prefix/lib/pythonX.Y/site-packages`` holding a copy of the installed tvm_extend (its
    files linked, its CMake package copied, so CMake sees the copy's place) and, with ``tvm``,
    links to the installed TVM and tvm-ffi; no Python in ``prefix/bin``. Returns the folder."""
    site = prefix / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"
    real = site_packages()
    (site / "tvm_extend").mkdir(parents=True)
    for entry in (real / "tvm_extend").iterdir():
        if entry.name == "share":
            shutil.copytree(entry, site / "tvm_extend" / "share")
        elif entry.name != "include" or headers:
            (site / "tvm_extend" / entry.name).symlink_to(entry)
    if tvm:
        for package in ("tvm", "tvm_ffi"):
            (site / package).symlink_to(real / package)
    return site


@pytest.fixture(scope="session")
def test_extensions() -> Path:
    """Folder holding lib<name>.so of every test extension in tests/extensions."""
    build = BUILD / "extensions"
    try:
        cmake_build(ROOT / "tests" / "extensions", build)
    except subprocess.CalledProcessError as err:
        pytest.fail(f"building the test extensions failed:\n{err.stdout}\n{err.stderr}")
    return build


def run_python(code: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run a Python snippet in a fresh interpreter (for import order and process state)."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=300,
    )


def pass_recorder(names: list):
    """A pass instrument class that appends each pass name to `names` before it runs."""
    import tvm

    @tvm.instrument.pass_instrument
    class Record:
        def run_before_pass(self, mod, info):
            names.append(info.name)

    return Record


# --- names per TVM release ---------------------------------------------------------------------
# The tests are written with TVM 0.27's names; these helpers give the running release's. Type keys,
# global functions and op names come from the kit's rename table (python/tvm_extend/schemas/
# renames.json, derived from the release snapshots), Python names from PYTHON_NAMES, the one
# place that knows how TVM's Python modules moved (the table has no Python names).

# TVM 0.27's Python name -> the names earlier supported releases give the same thing.
PYTHON_NAMES = {
    "tvm.sym": ["tvm.arith"],
    "tvm.ir.prim.expr_deep_equal": ["tvm.tirx.analysis.expr_deep_equal"],
}


def tvm_key(key: str) -> str:
    """A type key as TVM 0.27 names it, as the running TVM names it (0.26: tirx.Add for
    prim.Add), through the kit's rename table; for expectations that name types."""
    from tvm_extend import ir_views

    return ir_views.present(key) or key


def tvm_op(name: str) -> str:
    """An op name as TVM 0.27 names it, as the running TVM names it (0.26: tirx.likely for
    prim.likely), through the kit's rename table."""
    import tvm

    from tvm_extend import schemas

    ops = schemas.load_renames().get("ops", {})
    names = [name, *ops.get(name, []), *(new for new, olds in ops.items() if name in olds)]
    running = set(tvm.get_global_func("ir.ListOpNames")())
    return next((n for n in names if n in running), name)


def tvm_attr(path: str):
    """The object TVM 0.27 calls `path` ("tvm.sym.Analyzer"), in the running TVM: the first of
    its names (PYTHON_NAMES, longest prefix) that resolves."""
    import importlib

    prefix = max((p for p in PYTHON_NAMES if path == p or path.startswith(p + ".")), key=len,
                 default=None)  # fmt: skip
    spellings = [path]
    if prefix is not None:
        spellings += [other + path[len(prefix) :] for other in PYTHON_NAMES[prefix]]
    for spelling in spellings:
        parts = spelling.split(".")
        for cut in range(len(parts), 0, -1):
            try:
                obj = importlib.import_module(".".join(parts[:cut]))
            except ImportError:
                continue
            try:
                for part in parts[cut:]:
                    obj = getattr(obj, part)
            except AttributeError:
                break
            return obj
    raise AttributeError(f"the running TVM has no {' or '.join(spellings)}")


def tvm_release() -> tuple[int, int]:
    """(major, minor) of the running TVM."""
    import tvm

    return tuple(int(p) for p in tvm.__version__.split(".")[:2])


# The Relax test extensions (tests/extensions/relax_ops.cc) use TVM 0.27's Relax types.
needs_relax_027 = pytest.mark.skipif(
    tvm_release() < (0, 27),
    reason="the Relax test extensions use TVM 0.27's Relax types (TensorType, FInferType)",
)


@pytest.fixture(scope="module")
def relax_ops_extension(test_extensions):
    """Test extension relaxops (Relax ops and BYOC codegens), loaded unless it is already."""
    import tvm_extend

    for ext in tvm_extend.list_extensions():
        if ext.name == "relaxops" and ext.active:
            return ext
    return tvm_extend.load_extension(str(test_extensions / "librelax_ops.so"))
