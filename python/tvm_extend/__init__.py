"""tvm-extend: extend Apache TVM out of tree.

``import tvm_extend`` imports TVM, loads the tvm-extend core, and autoloads installed extensions
(entry-point group ``tvm_extend.extensions``; set ``TVM_EXTEND_NO_AUTOLOAD=1`` to skip). The
order of ``import tvm``, ``import tvm_extend`` and an extension's own import does not matter:
extensions register through the loader, never at library load time.
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
    "unload_extension",
]


# The command line (`python -m tvm_extend ...`, the `tvm-extend` script) must stay fast and work
# even when an installed extension is broken, so it skips importing TVM and autoloading here and
# loads what each command needs itself. sys.argv[0] is "-m" while Python locates a -m module.
_RUN_AS_MAIN = bool(sys.argv) and (
    sys.argv[0] == "-m" or os.path.basename(sys.argv[0]) == "tvm-extend"
)

if not _RUN_AS_MAIN:
    from . import (
        _core,  # noqa: F401  (loads TVM and the core library)
        backend,
        pipeline,
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
