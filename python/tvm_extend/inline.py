"""``tvm_extend.load_inline``: a C++ extension compiled from strings, and hot reload.

load_inline builds with the kit's own CMake package, so an inline extension is built exactly
as a packaged one (flags, run path, version stamp, typed IR views). Builds are cached by a hash
of the sources, flags and versions under ``$TVM_EXTEND_CACHE_DIR`` (default
``~/.cache/tvm_extend/inline``); a file lock makes concurrent builds of the same extension
safe, across threads and processes. On a terminal it shows progress while the compiler runs.

Calling load_inline again with changed sources reloads the extension in place (see
:func:`reload_extension`).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import tvm
import tvm_ffi

from . import _core
from ._version import __version__
from .errors import ExtensionError, ExtensionLoadError
from .loader import Extension, _loaded, list_extensions, load_extension

__all__ = ["BuildError", "InlineExtension", "load_inline", "reload_extension"]

HEADER = """\
#include <tvm_extend/extension.h>
#include <tvm_extend/ir/analysis.h>
#include <tvm_extend/ir/tir.h>
#include <tvm_extend/ir/tir_builder.h>
#include <tvm_extend/ir/tir_ops.h>
"""

CMAKE = """\
cmake_minimum_required(VERSION 3.18)
project({name} LANGUAGES CXX)
find_package(tvm_extend CONFIG REQUIRED)
tvm_extend_add_extension({name} SOURCES inline.cc)
target_compile_options({name} PRIVATE {cflags})
"""


class BuildError(ExtensionError):
    """The compiler refused an inline extension; the message holds its diagnostics."""


class InlineExtension:
    """A loaded inline extension: its functions and pass factories as attributes."""

    def __init__(self, extension: Extension, build_dir: Path, cached: bool):
        self.extension = extension
        self.build_dir = build_dir
        self.cached = cached

    def __getattr__(self, attr: str):
        for reg in self.extension.registrations:
            if reg.name.rsplit(".", 1)[-1] == attr:
                return tvm_ffi.get_global_func(reg.name)
        raise AttributeError(f"inline extension '{self.extension.name}' has no '{attr}'")

    def __repr__(self) -> str:
        names = ", ".join(r.name for r in self.extension.registrations)
        return f"<inline extension {self.extension.name} ({names}) built in {self.build_dir}>"


def cache_root() -> Path:
    root = os.environ.get("TVM_EXTEND_CACHE_DIR")
    return Path(root) if root else Path.home() / ".cache" / "tvm_extend" / "inline"


def _source(name: str, cpp_sources, functions, passes) -> str:
    if isinstance(cpp_sources, str):
        cpp_sources = [cpp_sources]
    lines = [HEADER, f'TVM_EXTEND_EXTENSION({name}, "inline");', *cpp_sources]
    lines += [f'TVM_EXTEND_REGISTER_FUNC("{name}.{fn}", {fn});' for fn in functions]
    lines += [
        f'TVM_EXTEND_REGISTER_PRIM_FUNC_PASS("{name}.transform.{p}", {p}, 0);' for p in passes
    ]
    return "\n".join(lines) + "\n"


class _Progress:
    """Elapsed time on a terminal while the compiler runs; nothing when output is not a tty."""

    def __init__(self, what: str, enabled: bool):
        self.what, self.enabled = what, enabled
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        start = time.perf_counter()
        frames = "|/-\\"
        i = 0
        while not self.done.wait(0.2):
            sys.stderr.write(f"\r{frames[i % 4]} {self.what} ({time.perf_counter() - start:.1f} s)")
            sys.stderr.flush()
            i += 1
        sys.stderr.write(f"\r  {self.what}: done in {time.perf_counter() - start:.1f} s\n")

    def __enter__(self):
        if self.enabled:
            self.thread.start()
        return self

    def __exit__(self, *exc):
        if self.enabled:
            self.done.set()
            self.thread.join()


def _build(name: str, build_dir: Path, source: str, cflags: list[str], verbose: bool) -> Path:
    library = build_dir / "build" / f"lib{name}.so"
    stamp = build_dir / "complete"
    if stamp.exists() and library.exists():
        return library
    src = build_dir / "src"
    src.mkdir(parents=True, exist_ok=True)
    (src / "inline.cc").write_text(source)
    (src / "CMakeLists.txt").write_text(
        CMAKE.format(name=name, cflags=" ".join(cflags) if cflags else "-Wall")
    )
    cmake_dir = os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "share", "cmake", "tvm_extend"
    )
    steps = [
        [
            "cmake",
            "-S",
            str(src),
            "-B",
            str(build_dir / "build"),
            "-DCMAKE_BUILD_TYPE=Release",
            f"-Dtvm_extend_DIR={cmake_dir}",
            f"-DPython_EXECUTABLE={sys.executable}",
        ],
        ["cmake", "--build", str(build_dir / "build"), "--parallel", str(os.cpu_count() or 2)],
    ]
    with _Progress(
        f"tvm_extend: building inline extension '{name}'", sys.stderr.isatty() or verbose
    ):
        for step in steps:
            result = subprocess.run(step, capture_output=True, text=True)
            if result.returncode != 0:
                log = (result.stdout + result.stderr).strip().splitlines()
                raise BuildError(
                    f"building inline extension '{name}' failed (sources and build in "
                    f"{build_dir}):\n" + "\n".join(log[-60:])
                )
    stamp.write_text(source)
    return library


def load_inline(
    name: str,
    cpp_sources: str | list[str],
    functions: list[str] | tuple = (),
    passes: list[str] | tuple = (),
    extra_cflags: list[str] | tuple = (),
    build_directory: str | os.PathLike | None = None,
    verbose: bool = False,
) -> InlineExtension:
    """Compile C++ source strings into extension ``name`` and load it.

    ``functions`` are C++ function names registered as ``name.<fn>``; ``passes`` are PrimFunc
    pass bodies (``ObjectRef(ObjectRef func, ObjectRef mod, ObjectRef ctx)``) registered as
    ``name.transform.<pass>``. The sources may also use the registration macros themselves.
    Loading changed sources under a name already loaded reloads that extension in place.
    """
    from .scaffold import check_name

    check_name(name)
    source = _source(name, cpp_sources, list(functions), list(passes))
    cflags = list(extra_cflags)
    key_text = "\n".join(
        [
            source,
            *cflags,
            tvm.__version__,
            tvm_ffi.__version__,
            __version__,
            shutil.which("c++") or "",
        ]
    )
    key = hashlib.sha256(key_text.encode()).hexdigest()[:16]
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    build_dir = Path(build_directory) if build_directory else root / f"{name}-{key}"
    with open(root / f"{name}-{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one build of a given extension at a time
        cached = (build_dir / "complete").exists()
        library = _build(name, build_dir, source, cflags, verbose)
    for ext in list_extensions():
        if ext.name == name and ext.active:
            if ext.path == str(library.resolve()):
                return InlineExtension(ext, build_dir, cached)
            return InlineExtension(reload_extension(name, library), build_dir, cached)
    return InlineExtension(load_extension(str(library)), build_dir, cached)


def reload_extension(name: str, path: str | os.PathLike | None = None) -> Extension:
    """Replace loaded extension ``name`` by a new build of its library, in this process.

    ``path`` defaults to the file the extension was first loaded from, rebuilt in place. The
    new build is loaded from a private copy (a library cannot be mapped twice from one path),
    checked like any load, and swapped in atomically: new calls through TVM's global table and
    new pass instances use the new code; if the new build is refused, the old one stays.

    What was made by the old code stays valid and keeps running the old code: functions
    fetched before the reload, pass objects, and objects they created. The old copy is never
    unmapped, so no call can dangle; its code pages are released (read again if old code runs),
    so what each reload keeps resident is bounded (bench/reload_memory.py, docs/loader.md).
    """
    current = [e for e in list_extensions() if e.name == name and e.active]
    if not current:
        raise ExtensionLoadError(f"cannot reload extension '{name}': it is not loaded")
    # The record names the user's file, also after earlier reloads (never a private copy).
    source = Path(path) if path is not None else Path(current[0].path)
    if not source.is_file():
        raise ExtensionLoadError(f"cannot reload extension '{name}': no such file '{source}'")
    # The loader waits for a file still being written (bounded), maps a private copy of it
    # (a library cannot be mapped twice from one path), and names this file in its errors.
    record = _core.call("ReloadExtension", name, str(source.resolve()))
    return _loaded(Extension._from_record(record))
