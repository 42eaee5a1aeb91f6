"""load_extension, list_extensions and friends: the Python face of the C++ loader."""

from __future__ import annotations

import dataclasses
import os

import tvm_ffi

from . import _core
from .errors import ExtensionLoadError
from .finder import find_extension_library

AUTOLOAD_GROUP = "tvm.backends"  # TVM's own; values "tvm_extend.autoloader:<package>"


@dataclasses.dataclass(frozen=True)
class Registration:
    """One global name an extension registered."""

    name: str
    kind: str  # "function", "prim_func_pass", "op" or "backend"
    opt_level: int
    source: str  # "file:line" of the registration macro


@dataclasses.dataclass(frozen=True)
class Extension:
    """A loaded extension, as the loader recorded it."""

    name: str
    version: str
    path: str
    built_tvm_version: str
    built_ffi_package_version: str
    built_ffi_abi_version: str
    compiler: str
    active: bool
    registrations: tuple[Registration, ...]

    @property
    def functions(self) -> list[str]:
        return [r.name for r in self.registrations if r.kind == "function"]

    @property
    def backends(self) -> list[str]:
        return [r.name for r in self.registrations if r.kind == "backend"]

    @property
    def ops(self) -> list[str]:
        return [r.name for r in self.registrations if r.kind == "op"]

    @property
    def passes(self) -> list[str]:
        return [r.name for r in self.registrations if r.kind == "prim_func_pass"]

    def __getitem__(self, name: str):
        """The global function ``<extension>.<name>``, e.g. ``ext["transform.MyPass"]``."""
        full = name if name.startswith(self.name + ".") else f"{self.name}.{name}"
        if full not in {r.name for r in self.registrations}:
            raise KeyError(f"extension '{self.name}' registers no '{full}'")
        return tvm_ffi.get_global_func(full)

    @staticmethod
    def _from_record(record) -> Extension:
        regs = tuple(
            Registration(str(r["name"]), str(r["kind"]), int(r["opt_level"]), str(r["source"]))
            for r in record["registrations"]
        )
        return Extension(
            name=str(record["name"]),
            version=str(record["version"]),
            path=str(record["path"]),
            built_tvm_version=str(record["built_tvm_version"]),
            built_ffi_package_version=str(record["built_ffi_package_version"]),
            built_ffi_abi_version=str(record["built_ffi_abi_version"]),
            compiler=str(record["compiler"]),
            active=bool(record["active"]),
            registrations=regs,
        )


def _looks_like_path(text: str) -> bool:
    # A bare name is a package name even when a folder of that name is in the current
    # directory (as it is inside the package's own source tree).
    return os.sep in text or text.endswith(".so") or text in (".", "..") or os.path.isfile(text)


def load_extension(path_or_package: str | os.PathLike) -> Extension:
    """Load an extension library into the running TVM and register what it collected.

    ``path_or_package`` is a library path, or the name of an installed extension package (see
    :mod:`tvm_extend.finder`). Loading the same library again returns the same record. On any
    error nothing of the extension is registered, and the error names what went wrong:
    :class:`ExtensionLoadError`, :class:`ExtensionVersionError` or
    :class:`DuplicateRegistrationError`.
    """
    target = os.fspath(path_or_package)
    if _looks_like_path(target):
        path = target
    else:
        try:
            path = find_extension_library(target)
        except FileNotFoundError as err:
            raise ExtensionLoadError(str(err)) from None
    return _loaded(Extension._from_record(_core.call("LoadExtension", os.path.abspath(path))))


def inspect_library(path: str | os.PathLike) -> dict:
    """Check a library file the way the loader does before running any of its code: settled,
    a complete ELF shared library for this machine, with the tvm-extend entry point. Raises
    :class:`ExtensionLoadError` saying what is wrong; returns ``{"path", "size",
    "registers_globals_itself"}``. Nothing of the file runs."""
    return dict(_core.call("InspectLibrary", os.path.abspath(os.fspath(path))))


def _loaded(ext: Extension) -> Extension:
    if ext.backends:
        from . import backend

        backend.ensure_offload()
    return ext


def list_extensions() -> list[Extension]:
    """The extensions loaded in this process, in load order (unloaded ones marked inactive)."""
    return [Extension._from_record(r) for r in _core.call("ListExtensions")]


def unload_extension(name: str) -> None:
    """Remove extension ``name``'s global names from TVM. Its library stays mapped, so objects
    its code made (pass instances, functions already fetched) keep working."""
    _core.call("UnloadExtension", name)


def describe_owner(global_name: str) -> str:
    """Who registered ``global_name``: an extension, TVM, Python, or another library."""
    return str(_core.call("DescribeGlobalOwner", global_name))


def autoload() -> list[Extension]:
    """Load every installed extension that asks to be autoloaded: entry points of TVM's group
    ``tvm.backends`` whose value is ``tvm_extend.autoloader:<package>`` (``import tvm`` loads
    them too), and of the older group ``tvm_extend.extensions``. A failing extension is
    reported as a warning naming it and skipped; the rest still load."""
    from . import autoloader as _autoload

    if _autoload.disabled():
        return []
    loaded = []
    for item in _autoload.installed():
        ext = _autoload.load(item.package, item.entry)
        if ext is not None:
            loaded.append(ext)
    return loaded
