"""``tvm-extend doctor``: report TVM, tvm-ffi, tvm-extend, the build tools and every installed
extension, state each problem with its fix, and exit non-zero when there is one.

``tvm-extend doctor --compat LIB_OR_PACKAGE`` (or ``--uses FILE``) checks an extension's used
items against the shipped schema snapshot of each supported TVM release, without installing it."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from importlib.metadata import PackageNotFoundError, version

# TVM_EXTEND_ENTRY_SYMBOL of include/tvm_extend/extension/abi.h: what every extension exports.
ENTRY_SYMBOL = "TVMExtendExtensionEntry_v1"
MIN_CMAKE = (3, 18)  # cmake_minimum_required of the kit's CMake package

FIXES = {
    "ExtensionVersionError": "rebuild it against the running TVM: "
    "pip install --no-build-isolation --force-reinstall --no-deps {dist}",
    "SchemaError": "rebuild it against the running TVM (its IR schema changed): "
    "pip install --no-build-isolation --force-reinstall --no-deps {dist}",
    "DuplicateRegistrationError": "two installed extensions claim the same names; uninstall "
    "one of them (pip uninstall {dist}) or rename its extension",
    "ExtensionLoadError": "reinstall it (pip install --no-build-isolation --force-reinstall "
    "--no-deps {dist}), or point TVM_EXTEND_LIBRARY_PATH at its library",
}


def _dist_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def _version_line(cmd: list[str]) -> tuple[str | None, str]:
    """Run ``cmd`` (a ``--version`` query): (first line of its output, "") or (None, why not)."""
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as err:
        return None, f"{type(err).__name__}: {err}"
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or [""]
        return None, f"exit status {done.returncode} {tail[0]}".strip()
    return ((done.stdout or done.stderr).strip().splitlines() or [""])[0], ""


def _python_package_tool(package: str, tool: str) -> str | None:
    """The ``tool`` program the pip package ``package`` ships (``cmake``, ``ninja``), if any."""
    from .scaffold import installed_module

    folder = installed_module(package)
    exe = os.path.join(folder, "data", "bin", tool) if folder else ""
    return exe if exe and os.access(exe, os.X_OK) else None


def check_compiler() -> tuple[str, str | None]:
    """(report line, problem or None) for the C++ compiler CMake would pick."""
    cxx = os.environ.get("CXX", "").strip()
    if cxx:
        words = shlex.split(cxx)
        exe = shutil.which(words[0])
        if exe is None:
            return f"C++        CXX={cxx}: not found", (
                f"C++ compiler: CXX={cxx} names no program on PATH. Fix: set CXX to an "
                "installed C++ compiler (g++, clang++), or unset it"
            )
        cmd = [exe, *words[1:], "--version"]
    else:
        exe = next(filter(None, map(shutil.which, ("c++", "g++", "clang++"))), None)
        if exe is None:
            return "C++        none found", (
                "C++ compiler: none found (CXX is unset and none of c++, g++, clang++ is on "
                "PATH). Fix: install one (apt-get install g++), or set CXX to one"
            )
        cmd = [exe, "--version"]
    line, why = _version_line(cmd)
    if line is None:
        return f"C++        {exe}: does not run", (
            f"C++ compiler: {exe} does not run ({why}). Fix: reinstall it, or set CXX to "
            "another C++ compiler"
        )
    return f"C++        {line} ({exe})", None


def check_cmake() -> tuple[str, str | None]:
    exe = shutil.which("cmake") or _python_package_tool("cmake", "cmake")
    fix = "Fix: pip install 'cmake>=3.18', or install CMake 3.18 or newer"
    if exe is None:
        return "CMake      none found", (
            f"CMake: not on PATH and the cmake Python package is not installed. {fix}"
        )
    line, why = _version_line([exe, "--version"])
    if line is None:
        return f"CMake      {exe}: does not run", f"CMake: {exe} does not run ({why}). {fix}"
    m = re.search(r"version (\d+)\.(\d+)", line)
    if m is None:
        return f"CMake      {exe}: unknown version", (
            f"CMake: {exe} --version printed no version ({line!r}). {fix}"
        )
    found = (int(m.group(1)), int(m.group(2)))
    if found < MIN_CMAKE:
        return f"CMake      {line} ({exe}): too old", (
            f"CMake: {exe} is version {found[0]}.{found[1]}; tvm-extend needs "
            f"{MIN_CMAKE[0]}.{MIN_CMAKE[1]} or newer. {fix}"
        )
    return f"CMake      {line} ({exe})", None


def check_build_tool() -> tuple[str, str | None]:
    exe = shutil.which("ninja") or shutil.which("make") or _python_package_tool("ninja", "ninja")
    if exe is None:
        return "build tool none found", (
            "build tool: neither ninja nor make is on PATH, and the ninja Python package is "
            "not installed. Fix: pip install ninja, or apt-get install make"
        )
    return f"build tool {exe}", None


def check_library(path: str) -> tuple[str, str] | None:
    """(problem, fix) when extension library ``path`` is not a complete shared library for this
    machine with the tvm-extend entry point: the loader's own inspection, which reads the file
    and never runs it."""
    from .errors import ExtensionLoadError
    from .loader import inspect_library

    try:
        inspect_library(path)
    except ExtensionLoadError as err:
        reason = str(err).split("': ", 1)[-1].rstrip(".")
        return (
            f"its library {path} cannot be loaded: {reason}",
            "rebuild it with tvm_extend_add_extension() and TVM_EXTEND_EXTENSION(name, version), "
            "then reinstall it: {reinstall}",
        )
    return None


def run(out) -> int:
    os.environ.setdefault("TVM_EXTEND_NO_AUTOLOAD", "1")
    import tvm
    import tvm_ffi

    from . import _core, autoloader, loader
    from ._version import __version__
    from .errors import ExtensionError
    from .finder import find_extension_library

    w = out.write
    versions = _core.call("RunningVersions")
    w(f"TVM        {tvm.__version__} at {os.path.dirname(tvm.__file__)}\n")
    w(
        f"tvm-ffi    {tvm_ffi.__version__} (C ABI {versions['ffi_abi']}) at "
        f"{os.path.dirname(tvm_ffi.__file__)}\n"
    )
    w(f"tvm-extend {__version__} at {os.path.dirname(os.path.abspath(__file__))}\n")
    problems: list[str] = []
    w("\nBuild tools (building extensions, load_inline):\n")
    for check in (check_compiler, check_cmake, check_build_tool):
        line, problem = check()
        w(f"  {line}\n")
        if problem:
            problems.append(problem)
    eps = autoloader.installed()
    w(f"\nInstalled extensions ({len(eps)}, entry-point group {autoloader.GROUP}):\n")
    for ep in eps:
        dist = ep.dist
        if ep.group != autoloader.GROUP:
            w(f"  {ep.entry}: declared in the older group {ep.group}; still loaded\n")
        try:
            path = find_extension_library(ep.package)
        except FileNotFoundError:
            path = None  # load_extension says where it looked
        bad = check_library(path) if path is not None else None
        if bad is not None:
            reinstall = "pip install --no-build-isolation --force-reinstall --no-deps " + dist
            w(f"  {ep.entry} (package {dist} {_dist_version(dist)}): FAILED\n    {bad[0]}\n")
            problems.append(f"{ep.entry}: {bad[0]}. Fix: {bad[1].format(reinstall=reinstall)}")
            continue
        try:
            ext = loader.load_extension(ep.package)
        except ExtensionError as err:
            kind = type(err).__name__
            w(f"  {ep.entry} (package {dist} {_dist_version(dist)}): FAILED\n")
            w(f"    {kind}: {err}\n")
            problems.append(
                f"{ep.entry}: {kind}. Fix: "
                + FIXES.get(kind, FIXES["ExtensionLoadError"]).format(dist=dist)
            )
            continue
        except Exception as err:  # noqa: BLE001  (a broken package must not stop the report)
            w(f"  {ep.entry} (package {dist}): FAILED\n    {type(err).__name__}: {err}\n")
            problems.append(
                f"{ep.entry}: {type(err).__name__}. Fix: "
                + FIXES["ExtensionLoadError"].format(dist=dist)
            )
            continue
        w(f"  {ext.name} {ext.version} (package {dist}): OK\n")
        w(f"    library      {ext.path} (exports {ENTRY_SYMBOL})\n")
        w(
            f"    built with   TVM {ext.built_tvm_version}, tvm-ffi {ext.built_ffi_package_version}"
            f" (C ABI {ext.built_ffi_abi_version}), {ext.compiler}\n"
        )
        w("    versions     match the running TVM and tvm-ffi\n")
        w("    schema       every IR type, field and TVM function it uses is present\n")
        options = ext.config_options
        for reg in ext.registrations:
            line = f"{reg.name} ({reg.kind.replace('_', ' ')})"
            if reg.name in options:  # a pass config option: its type, default and doc
                o = options[reg.name]
                line = f"{reg.name} (pass config {o.type}, default {o.default!r})" + (
                    f": {o.doc}" if o.doc else ""
                )
            w(f"    registers    {line}\n")
    if problems:
        w(f"\n{len(problems)} problem(s):\n")
        for p in problems:
            w(f"  - {p}\n")
        return 1
    w("\nNo problems found.\n")
    return 0


# --- doctor --compat: which TVM releases an extension binds on, from the shipped snapshots ------

USED_SCHEMA_SYMBOL = "TVMExtendUsedSchema"  # const char* (JSON) of the items an extension uses
_NO_SYMBOL = 3  # exit status of the probe when the library does not export it

# Run in a separate process: loading the library runs its static initializers.
_PROBE = f"""
import ctypes, sys
import tvm_ffi  # noqa: F401  (the library needs libtvm_ffi.so loaded)
lib = ctypes.CDLL(sys.argv[1])
try:
    fn = lib.{USED_SCHEMA_SYMBOL}
except AttributeError:
    sys.exit({_NO_SYMBOL})
fn.restype = ctypes.c_char_p
text = fn()
sys.stdout.write(text.decode("utf-8", "replace") if text else "")
"""


class CompatInputError(Exception):
    """Input `doctor --compat` cannot use: one line, exit status 2."""


class NoUseRecords(Exception):
    """The library was built by a kit that records no used items."""


def _one_line(text: str) -> str:
    return " ".join(text.split())


def used_items_of_library(target: str) -> dict:
    """The used-items JSON of extension library `target` (a path or a package name), read from
    its exported ``TVMExtendUsedSchema()`` in a probe process."""
    import sys

    os.environ.setdefault("TVM_EXTEND_NO_AUTOLOAD", "1")  # before TVM's own autoloading
    from .loader import _looks_like_path

    if _looks_like_path(target):
        path = target
    else:
        from .finder import find_extension_library

        try:
            path = find_extension_library(target)
        except FileNotFoundError:
            raise CompatInputError(
                f"'{target}' is neither a library file nor an installed extension package"
            ) from None
    if not os.path.isfile(path):
        what = "not a file" if os.path.exists(path) else "no such file"
        raise CompatInputError(f"{path}: {what}")
    from .errors import ExtensionLoadError
    from .loader import inspect_library

    try:
        inspect_library(path)  # reads the file; none of its code runs here
    except ExtensionLoadError as err:
        reason = str(err).split("': ", 1)[-1]  # after "cannot load extension 'PATH'"
        raise CompatInputError(f"{path}: {_one_line(reason)}") from None
    env = dict(os.environ, TVM_EXTEND_NO_AUTOLOAD="1")
    try:
        done = subprocess.run(
            [sys.executable, "-c", _PROBE, os.path.abspath(path)],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
    except subprocess.TimeoutExpired:
        raise CompatInputError(f"{path}: reading its used items timed out") from None
    if done.returncode == _NO_SYMBOL:
        raise NoUseRecords(path)
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        raise CompatInputError(f"{path}: reading its used items failed: {tail}")
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError as err:
        raise CompatInputError(f"{path}: {USED_SCHEMA_SYMBOL}() returned no JSON ({err})") from None


def run_compat(out, target: str | None = None, uses_file: str | None = None) -> int:
    """Print, per shipped snapshot, "binds" or every problem. 0: binds on every release, 1:
    not on some (or the library has no used items), 2: unusable input."""
    import sys

    from . import schemas

    try:
        if uses_file is not None:
            source = uses_file
            uses = schemas.read_json(uses_file)
        else:
            source = target
            uses = used_items_of_library(target)
        schemas.validate_uses(uses)
    except NoUseRecords as lib:
        out.write(
            f"{lib}: this extension was built by a kit without use records "
            f"(it exports no {USED_SCHEMA_SYMBOL}); rebuild it with a tvm-extend that records "
            "them to check it offline\n"
        )
        return 1
    except (CompatInputError, ValueError) as err:
        sys.stderr.write(f"tvm-extend doctor --compat: {_one_line(str(err))}\n")
        return 2
    running = _dist_version("apache-tvm")
    n = {k: len(uses.get(k, [])) for k in ("types", "fields", "globals")}
    out.write(
        f"{source}: uses {n['types']} types, {n['fields']} fields, "
        f"{n['globals']} global functions\n"
    )
    releases = schemas.shipped()
    if not releases:
        sys.stderr.write("tvm-extend doctor --compat: this tvm-extend ships no schema snapshots\n")
        return 2
    status = 0
    for release, path in releases.items():
        snapshot = schemas.load_snapshot(path)
        problems, renamed = schemas.bind(uses, snapshot)
        mark = " (running)" if release == running else ""
        if problems:
            status = 1
            out.write(f"TVM {release}{mark}: does not bind, {len(problems)} problem(s):\n")
            for p in problems:
                out.write(f"  - {p}\n")
        else:
            via = f" (through older names: {'; '.join(renamed)})" if renamed else ""
            out.write(f"TVM {release}{mark}: binds{via}\n")
    return status
