"""load_extension, list_extensions and friends: the Python face of the C++ loader."""

from __future__ import annotations

import dataclasses
import json
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
    kind: str  # "function", "prim_func_pass", "op", "relax_op", "codegen", "backend", ...
    opt_level: int
    source: str  # "file:line" of the registration macro


@dataclasses.dataclass(frozen=True)
class ConfigOption:
    """A pass config option an extension registered with TVM (TVM keeps it after unload)."""

    name: str
    type: str  # "bool", "int", "float" or "str", as transform.ListConfigs names it
    default: bool | int | float | str
    doc: str
    extension: str  # the extension it belongs to
    source: str  # "file:line" of the registration macro
    active: bool  # False once its extension was unloaded (TVM keeps the option)


def config_options() -> list[ConfigOption]:
    """Every pass config option extensions registered in this process, unloaded ones' too."""
    return [
        ConfigOption(
            str(o["name"]),
            str(o["type"]),
            o["default"] if not isinstance(o["default"], str) else str(o["default"]),
            str(o["doc"]),
            str(o["extension"]),
            str(o["source"]),
            bool(o["active"]),
        )
        for o in _core.call("ListConfigOptions")
    ]


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
    #: It uses TVM's C++ ABI (built with LINK_TVM or TVM_SOURCE_DIR): only the release it was
    #: built against loads it. Otherwise any release from 0.26 on where what it uses binds.
    exact_tvm_release: bool = False
    #: What its code uses of TVM's IR: {"types": [...], "fields": [...], "globals": [...]}, each
    #: with the other names it binds under and whether the use is weak (only the functors'
    #: dispatch); None when it uses no views (see docs/version-policy.md).
    uses: dict | None = None

    @property
    def functions(self) -> list[str]:
        return [
            r.name
            for r in self.registrations
            if r.kind == "function" and not r.name.endswith(CONTRIBUTION_SUFFIX)
        ]

    @property
    def contributions(self) -> list[dict]:
        """The places in TVM's pipelines its passes take (TVM_EXTEND_CONTRIBUTE_PASS): {"pass",
        "ir", "pipeline", "where", "anchor"} each."""
        return [
            {str(k): str(v) for k, v in dict(tvm_ffi.get_global_func(r.name)()).items()}
            for r in self.registrations
            if r.name.endswith(CONTRIBUTION_SUFFIX) and tvm_ffi.get_global_func(r.name, True)
        ]

    @property
    def backends(self) -> list[str]:
        return [r.name for r in self.registrations if r.kind == "backend"]

    @property
    def ops(self) -> list[str]:
        return [r.name for r in self.registrations if r.kind == "op"]

    @property
    def relax_ops(self) -> list[str]:
        """The names of the Relax ops it registered (:func:`tvm_extend.relax_op.op` calls them)."""
        return [r.name for r in self.registrations if r.kind == "relax_op"]

    @property
    def codegens(self) -> list[str]:
        """The BYOC codegens it serves, by name: ``relax.ext.<name>`` is its claimed global."""
        prefix = "relax.ext."
        return [r.name[len(prefix) :] for r in self.registrations if r.kind == "codegen"]

    @property
    def overrides(self) -> list[tuple[str, str]]:
        """(op, attribute) of each of TVM's op attributes it overrides (``"op[attribute]"``)."""
        return [
            (r.name[: r.name.index("[")], r.name[r.name.index("[") + 1 : -1])
            for r in self.registrations
            if r.kind == "op_override"
        ]

    @property
    def object_types(self) -> list[str]:
        """The type keys of the object types it registered."""
        return [r.name for r in self.registrations if r.kind == "object_type"]

    @property
    def types(self) -> dict[str, type]:
        """type key -> the Python class of each object type it registered (made for it, with
        its fields as read-only attributes and its constructor from the fields in order)."""
        return {key: object_class(key) for key in self.object_types}

    @property
    def passes(self) -> list[str]:
        return [r.name for r in self.registrations if r.kind == "prim_func_pass"]

    @property
    def config_options(self) -> dict[str, ConfigOption]:
        """name -> :class:`ConfigOption` of each pass config option it registered (set them
        with ``tvm.transform.PassContext(config={name: value})``)."""
        names = [r.name for r in self.registrations if r.kind == "pass_config"]
        known = {o.name: o for o in config_options()} if names else {}
        return {name: known[name] for name in names if name in known}

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
            exact_tvm_release=bool(record["exact_tvm_release"]),
            uses=json.loads(str(record["uses"])) if str(record["uses"]) else None,
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


_object_classes: dict[str, type] = {}


def object_class(type_key: str) -> type:
    """The Python class of an extension's object type ``type_key``, made on first use with
    tvm_ffi.register_object; a type outlives its extension, and so does its class."""
    cls = _object_classes.get(type_key)
    if cls is None:
        name = type_key.rsplit(".", 1)[-1]
        attrs = {"__module__": type_key.rsplit(".", 1)[0], "__doc__": f"tvm-extend: {type_key}"}
        cls = tvm_ffi.register_object(type_key)(type(name, (tvm_ffi.Object,), attrs))
        _object_classes[type_key] = cls
    return cls


def _loaded(ext: Extension) -> Extension:
    for key in ext.object_types:  # objects of these types come back to Python as their class
        object_class(key)
    if ext.backends:
        from . import backend

        backend.ensure_offload()
    declared = [r.name for r in ext.registrations if r.name.endswith(CONTRIBUTION_SUFFIX)]
    if declared:
        from . import pipeline

        try:
            pipeline.contribute_declared(ext.name, [tvm_ffi.get_global_func(n)() for n in declared])
        except Exception:
            unload_extension(ext.name)  # all or nothing: the extension does not stay half loaded
            raise
    return ext


# TVM_EXTEND_CONTRIBUTE_PASS registers "<pass>.pipeline_contribution" (registry.h).
CONTRIBUTION_SUFFIX = ".pipeline_contribution"


def list_extensions() -> list[Extension]:
    """The extensions loaded in this process, in load order (unloaded ones marked inactive)."""
    return [Extension._from_record(r) for r in _core.call("ListExtensions")]


def unload_extension(name: str) -> None:
    """Remove extension ``name``'s global names from TVM. Its library stays mapped, so objects
    its code made (pass instances, functions already fetched) keep working. The pipeline
    contributions it declared (TVM_EXTEND_CONTRIBUTE_PASS) are withdrawn."""
    from . import pipeline

    pipeline.withdraw_declared(name)
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
