"""``import tvm`` loads installed extensions, through TVM's own entry-point group.

An extension package declares one entry point::

    [project.entry-points."tvm.backends"]
    myext = "tvm_extend.autoloader:myext"

At the end of ``import tvm``, TVM calls every entry point of the group ``tvm.backends``
(``tvm/backend/_autoload_backends.py``; ``TVM_DEVICE_BACKEND_AUTOLOAD=0`` turns that off). The
attribute after the colon names the extension's package: this module answers any such name with
a function that loads the package's library through the loader, with all of its checks. A broken
extension becomes a warning naming it, never a failed ``import tvm``. ``import tvm_extend`` loads
the same extensions (and those of the older group ``tvm_extend.extensions``), so the order of
``import tvm``, ``import tvm_extend`` and an extension's own import does not matter.
``TVM_EXTEND_NO_AUTOLOAD=1`` turns off tvm-extend's part.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import warnings
from collections.abc import Callable

GROUP = "tvm.backends"
LEGACY_GROUP = "tvm_extend.extensions"
TARGET = "tvm_extend.autoloader"
NO_AUTOLOAD_ENV = "TVM_EXTEND_NO_AUTOLOAD"


def disabled() -> bool:
    return os.environ.get(NO_AUTOLOAD_ENV, "").lower() in ("1", "true", "yes", "on")


@dataclasses.dataclass(frozen=True)
class Installed:
    """An installed extension that asks to be autoloaded."""

    entry: str  # the entry point's name
    package: str  # the Python package holding lib<package>.so
    dist: str  # the distribution that declares it
    group: str


def installed() -> list[Installed]:
    """Every installed extension that asks to be autoloaded, by entry-point name."""
    from importlib.metadata import entry_points

    out = []
    for ep in entry_points(group=GROUP):
        module, _, attr = ep.value.partition(":")
        if module.strip() == TARGET and attr.strip():
            out.append(Installed(ep.name, attr.strip(), _dist(ep), GROUP))
    for ep in entry_points(group=LEGACY_GROUP):
        out.append(Installed(ep.name, ep.module, _dist(ep), LEGACY_GROUP))
    return sorted(out, key=lambda i: i.entry)


def _dist(ep) -> str:
    return ep.dist.name if getattr(ep, "dist", None) is not None else ep.module


# package -> its extension, or None when loading it failed: each is tried (and warned about)
# once per process, whether TVM's entry point or tvm_extend's own autoload gets to it first.
_tried: dict[str, object] = {}


def load(package: str, entry: str = ""):
    """Load extension package ``package``; a failure is a warning naming it. Returns the
    extension, or None."""
    from .loader import load_extension

    if package in _tried:
        return _tried[package]
    _tried[package] = None
    try:
        _tried[package] = load_extension(package)
        return _tried[package]
    except Exception as err:  # noqa: BLE001  (one broken extension must not break import tvm)
        warnings.warn(
            f"tvm_extend: autoload of extension '{entry or package}' ({package}) failed: "
            f"{type(err).__name__}: {err}",
            RuntimeWarning,
            stacklevel=3,
        )
        return None


def _core_ready() -> bool:
    core = sys.modules.get("tvm_extend._core")
    return core is not None and getattr(core, "READY", False)


def __getattr__(package: str) -> Callable[[], None]:
    """The entry point ``tvm_extend.autoloader:<package>``: a function that loads ``package``."""
    if package.startswith("__"):
        raise AttributeError(package)

    def autoload_entry() -> None:
        # While tvm_extend itself is being imported (it imports tvm, which calls this), its
        # core is not loaded yet; tvm_extend's own autoload loads every extension right after.
        if disabled() or not _core_ready():
            return
        load(package)

    autoload_entry.__name__ = f"autoload_{package}"
    return autoload_entry
