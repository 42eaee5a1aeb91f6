"""tvm-extend: extend Apache TVM out of tree.

``import tvm`` alone loads installed extensions: each declares an entry point
``myext = "tvm_extend.autoloader:myext"`` in TVM's own group ``tvm.backends``
(:mod:`tvm_extend.autoloader`). ``import tvm_extend`` imports TVM, loads the tvm-extend core, and
loads the same extensions (set ``TVM_EXTEND_NO_AUTOLOAD=1`` to skip). The order of ``import
tvm``, ``import tvm_extend`` and an extension's own import does not matter: extensions register
through the loader, never at library load time.
"""

import os
import sys

from ._version import __version__

__all__ = [
    "BuildError",
    "InlineExtension",
    "load_inline",
    "reload_extension",
    "DuplicateRegistrationError",
    "Extension",
    "ExtensionError",
    "ExtensionLoadError",
    "ExtensionVersionError",
    "PipelineError",
    "Registration",
    "SchemaError",
    "__version__",
    "autoload",
    "backend",
    "describe_owner",
    "find_extension_library",
    "inspect_library",
    "list_extensions",
    "load_extension",
    "pipeline",
    "relax_op",
    "unload_extension",
]


# The command line (`python -m tvm_extend ...`, the `tvm-extend` script, `python -m
# tvm_extend.schemas`, whose snapshot must hold TVM's globals only) must stay fast and work
# even when an installed extension is broken, so it skips importing TVM and autoloading here and
# loads what each command needs itself. Only tvm_extend's own command line: `python -m
# tvm.exec.rpc_server` also imports tvm (and so this package) while sys.argv[0] is "-m".
def _run_as_main() -> bool:
    if sys.argv and os.path.basename(sys.argv[0]) == "tvm-extend":
        return True
    orig = getattr(sys, "orig_argv", None)  # Python 3.10+: the interpreter's own command line
    if orig is None:
        return bool(sys.argv) and sys.argv[0] == "-m"
    return any(
        arg == "-m"
        and orig[i + 1 : i + 2] in (["tvm_extend"], ["tvm_extend.__main__"], ["tvm_extend.schemas"])
        for i, arg in enumerate(orig)
    )


_RUN_AS_MAIN = _run_as_main()

if not _RUN_AS_MAIN:
    from . import (
        _core,  # noqa: F401  (loads TVM and the core library)
        backend,
        pipeline,
        relax_op,
    )
    from .errors import (
        DuplicateRegistrationError,
        ExtensionError,
        ExtensionLoadError,
        ExtensionVersionError,
        PipelineError,
        SchemaError,
    )
    from .finder import find_extension_library
    from .inline import BuildError, InlineExtension, load_inline, reload_extension
    from .loader import (
        Extension,
        Registration,
        autoload,
        describe_owner,
        inspect_library,
        list_extensions,
        load_extension,
        unload_extension,
    )

    autoload()
