"""Finding extension libraries by package or extension name.

Search order for a name ``NAME``:
 1. each folder in ``TVM_EXTEND_LIBRARY_PATH`` (``os.pathsep``-separated), for ``libNAME.so``;
 2. the installed Python package ``NAME`` (found without importing it or its parents), for
    ``libNAME.so`` in its folder or its ``lib/`` folder, where NAME's last part names the file.
"""

from __future__ import annotations

import importlib.util
import os

LIBRARY_PATH_ENV = "TVM_EXTEND_LIBRARY_PATH"


def library_file_name(name: str) -> str:
    """The file name of extension ``name``'s library: ``lib<name>.so``."""
    return f"lib{name.rsplit('.', 1)[-1]}.so"


def candidate_paths(name: str) -> list[str]:
    """Every place ``find_extension_library(name)`` looks, in order."""
    fname = library_file_name(name)
    out = []
    for folder in os.environ.get(LIBRARY_PATH_ENV, "").split(os.pathsep):
        if folder:
            out.append(os.path.join(folder, fname))
    for pkg_dir in _package_dirs(name):
        out.append(os.path.join(pkg_dir, fname))
        out.append(os.path.join(pkg_dir, "lib", fname))
    return out


def _package_dirs(name: str) -> list[str]:
    """The folders of installed package ``name``, found without importing it or its parents
    (a broken package must not break the search)."""
    top, _, rest = name.partition(".")
    if not top.isidentifier() or not all(p.isidentifier() for p in rest.split(".") if rest):
        return []
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return []
    if spec is None or not spec.submodule_search_locations:
        return []
    return [
        os.path.join(d, *rest.split(".")) if rest else d for d in spec.submodule_search_locations
    ]


def find_extension_library(name: str) -> str:
    """Return the path of extension ``name``'s library, or raise FileNotFoundError."""
    candidates = candidate_paths(name)
    for path in candidates:
        if os.path.isfile(path):
            return os.path.abspath(path)
    looked = "\n  ".join(candidates) if candidates else "(nowhere: no such package)"
    raise FileNotFoundError(
        f"cannot find the library of extension '{name}'. Looked in:\n  {looked}\n"
        f"Install the extension's package, or add the folder holding "
        f"{library_file_name(name)} to {LIBRARY_PATH_ENV}."
    )
