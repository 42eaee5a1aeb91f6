"""Finding extension libraries by package or extension name.

Search order for a name ``NAME``:
 1. each folder in ``TVM_EXTEND_LIBRARY_PATH`` (``os.pathsep``-separated), for ``libNAME.so``;
 2. the installed Python package ``NAME`` (found without importing it), for ``libNAME.so`` in
    its folder or its ``lib/`` folder.
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
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        for pkg_dir in spec.submodule_search_locations:
            out.append(os.path.join(pkg_dir, fname))
            out.append(os.path.join(pkg_dir, "lib", fname))
    return out


def find_extension_library(name: str) -> str:
    """Return the path of extension ``name``'s library, or raise FileNotFoundError."""
    candidates = candidate_paths(name)
    for path in candidates:
        if os.path.isfile(path):
            return os.path.abspath(path)
    looked = "\n  ".join(candidates) if candidates else "(nowhere: no such package)"
    raise FileNotFoundError(
        f"tvm_extend: cannot find the library of extension '{name}'. Looked in:\n  {looked}\n"
        f"Install the extension's package, or add the folder holding "
        f"{library_file_name(name)} to {LIBRARY_PATH_ENV}."
    )
