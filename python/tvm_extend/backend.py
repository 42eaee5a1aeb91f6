"""Code generators from extensions (``TVM_EXTEND_REGISTER_BACKEND``, see
``<tvm_extend/backend/backend.h>``).

TVM 0.27 looks up the code generator of a target kind as the global ``target.build.<kind>``.
Extensions serve a kind TVM has no code generator for (``ext_dev``); the tvm-extend core
dispatches that kind's builds to the backend the target's ``model`` names, so several extensions
can serve it side by side::

    target = tvm_extend.backend.target("project_b.counting_c", counters="on")
    lib = tvm.compile(mod, target=target)

For the backend to receive a function, its body must be a device region. While any backend is
loaded, tvm-extend contributes one pass, ``tvm_extend.OffloadToBackend``, to TVM's default
pipeline (before ``tirx.SplitHostDevice``, owner ``tvm_extend``): it marks the whole body of
every function whose target kind a backend serves. TVM then splits it into a kernel that the
backend builds, and a host function (``llvm``) that checks the arguments and calls the kernel.
"""

from __future__ import annotations

import dataclasses
import threading

import tvm

from . import _core, pipeline

OWNER = "tvm_extend"
OFFLOAD_PASS = "tvm_extend.OffloadToBackend"
_DEVICE_ATTRS = ("device_scope", "thread_extent", "virtual_thread")
_lock = threading.Lock()


@dataclasses.dataclass(frozen=True)
class Backend:
    """A loaded code generator."""

    name: str
    target_kind: str
    description: str
    owner: str
    #: (name, default value, doc) of each option
    options: tuple[tuple[str, str, str], ...]


def list_backends() -> list[Backend]:
    """The backends of the loaded extensions, by name."""
    return [
        Backend(
            str(b["name"]),
            str(b["target_kind"]),
            str(b["description"]),
            str(b["owner"]),
            tuple(tuple(str(x) for x in o) for o in b["options"]),
        )
        for b in _core.call("ListBackends")
    ]


def target(
    name: str, host: str | dict | tvm.target.Target = "llvm", **options
) -> tvm.target.Target:
    """A target that builds with backend ``name``, with ``options`` given as ``name=value``.

    Unknown backends and options are reported when TVM builds, by the dispatcher, with the list
    of what is known."""
    kinds = {b.name: b.target_kind for b in list_backends()}
    if name not in kinds:
        known = ", ".join(sorted(kinds)) or "none is loaded"
        raise ValueError(f"unknown backend '{name}'; loaded backends: {known}")
    config = {"kind": kinds[name], "model": name, "host": host}
    if options:
        config["libs"] = [f"{k}={v}" for k, v in options.items()]
    return tvm.target.Target(config)


def modules(lib, name: str) -> list:
    """The runtime modules of backend ``name`` in ``lib`` (what tvm.compile returned, or a
    runtime Module) and everything it imports."""
    found, stack = [], [lib.mod if isinstance(lib, tvm.runtime.Executable) else lib]
    while stack:
        module = stack.pop()
        if module.kind == name:
            found.append(module)
        stack.extend(module.imports)
    return found


def counters(lib, name: str) -> dict:
    """{kernel: {counter: value}} of the modules of backend ``name`` in ``lib``, for backends
    built on the kit's C module whose kernels have counters (<tvm_extend/backend/counters.h>)."""
    out = {}
    for module in modules(lib, name):
        for kernel, values in module.get_function("tvm_extend.counters")().items():
            out[str(kernel)] = {str(k): int(v) for k, v in values.items()}
    return out


def _served_kinds() -> set[str]:
    return {b.target_kind for b in list_backends()}


def _is_device_region(body) -> bool:
    return isinstance(body, tvm.tirx.AttrStmt) and body.attr_key in _DEVICE_ATTRS


@tvm.tirx.transform.prim_func_pass(opt_level=0, name=OFFLOAD_PASS)
def offload_to_backend(func, _mod, _ctx):
    """Marks the body of a function whose target kind a backend serves as a device region."""
    target = func.attrs.get("target") if func.attrs is not None else None
    if target is None or target.kind.name not in _served_kinds():
        return func
    if _is_device_region(func.body):
        return func
    return func.with_body(tvm.tirx.AttrStmt(0, "device_scope", 0, func.body))


def ensure_offload() -> None:
    """Contribute the offload pass to TVM's default pipeline, once. Called when an extension
    with a backend loads."""
    with _lock:
        owners = pipeline.contributors("default")
        if OWNER not in owners:
            pipeline.contribute(
                OWNER, [pipeline.before("tirx.SplitHostDevice", offload_to_backend)]
            )
