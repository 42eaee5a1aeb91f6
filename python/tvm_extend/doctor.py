"""``tvm-extend doctor``: report TVM, tvm-ffi, tvm-extend and every installed extension, state
each problem with its fix, and exit non-zero when there is one."""

from __future__ import annotations

import os
from importlib.metadata import PackageNotFoundError, entry_points, version

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


def run(out) -> int:
    os.environ.setdefault("TVM_EXTEND_NO_AUTOLOAD", "1")
    import tvm
    import tvm_ffi

    from . import _core, loader
    from ._version import __version__
    from .errors import ExtensionError

    w = out.write
    versions = _core.call("RunningVersions")
    w(f"TVM        {tvm.__version__} at {os.path.dirname(tvm.__file__)}\n")
    w(
        f"tvm-ffi    {tvm_ffi.__version__} (C ABI {versions['ffi_abi']}) at "
        f"{os.path.dirname(tvm_ffi.__file__)}\n"
    )
    w(f"tvm-extend {__version__} at {os.path.dirname(os.path.abspath(__file__))}\n")
    problems: list[str] = []
    eps = sorted(entry_points(group=loader.AUTOLOAD_GROUP), key=lambda e: e.name)
    w(f"\nInstalled extensions ({len(eps)}, entry-point group {loader.AUTOLOAD_GROUP}):\n")
    for ep in eps:
        dist = ep.dist.name if ep.dist is not None else ep.module
        try:
            ext = loader.load_extension(ep.module)
        except ExtensionError as err:
            kind = type(err).__name__
            w(f"  {ep.name} (package {dist} {_dist_version(dist)}): FAILED\n")
            w(f"    {kind}: {err}\n")
            problems.append(
                f"{ep.name}: {kind}. Fix: "
                + FIXES.get(kind, FIXES["ExtensionLoadError"]).format(dist=dist)
            )
            continue
        except Exception as err:  # noqa: BLE001  (a broken package must not stop the report)
            w(f"  {ep.name} (package {dist}): FAILED\n    {type(err).__name__}: {err}\n")
            problems.append(
                f"{ep.name}: {type(err).__name__}. Fix: "
                + FIXES["ExtensionLoadError"].format(dist=dist)
            )
            continue
        w(f"  {ext.name} {ext.version} (package {dist}): OK\n")
        w(f"    library      {ext.path}\n")
        w(
            f"    built with   TVM {ext.built_tvm_version}, tvm-ffi {ext.built_ffi_package_version}"
            f" (C ABI {ext.built_ffi_abi_version}), {ext.compiler}\n"
        )
        w("    versions     match the running TVM and tvm-ffi\n")
        w("    schema       every IR type, field and TVM function it uses is present\n")
        for reg in ext.registrations:
            w(f"    registers    {reg.name} ({reg.kind.replace('_', ' ')})\n")
    if problems:
        w(f"\n{len(problems)} problem(s):\n")
        for p in problems:
            w(f"  - {p}\n")
        return 1
    w("\nNo problems found.\n")
    return 0
