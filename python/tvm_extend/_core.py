"""Loading the tvm-extend core library and reaching its ``tvm_extend.*`` global functions."""

from __future__ import annotations

import ctypes
import os

import tvm  # noqa: F401  (TVM and tvm-ffi must be loaded before the core library)
import tvm_ffi

_PKG_DIR = os.path.dirname(os.path.abspath(__file__))
CORE_LIBRARY = os.path.join(_PKG_DIR, "lib", "libtvm_extend.so")

_core_handle = None


def _load_core() -> None:
    global _core_handle
    if _core_handle is not None:
        return
    if not os.path.exists(CORE_LIBRARY):
        raise ImportError(
            f"tvm_extend: the core library {CORE_LIBRARY} is missing; reinstall tvm-extend "
            "(pip install tvm-extend)"
        )
    _core_handle = ctypes.CDLL(CORE_LIBRARY, mode=ctypes.RTLD_LOCAL)
    init = _core_handle.TVMExtendCoreInit
    init.restype = ctypes.c_int
    if init() < 0:
        raise ImportError("tvm_extend: the core library failed to initialise")
    tvm_ffi.get_global_func("tvm_extend.SetRunningTVMVersion")(tvm.__version__)


_load_core()
# The loader is usable: tvm_extend.autoloader's entry points may load extensions from now on.
READY = True


def call(name: str, *args):
    """Call the core's global function ``tvm_extend.<name>``."""
    return tvm_ffi.get_global_func("tvm_extend." + name)(*args)
