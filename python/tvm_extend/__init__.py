"""tvm-extend: extend Apache TVM out of tree.

``import tvm_extend`` imports TVM, loads the tvm-extend core, and autoloads installed extensions
(entry-point group ``tvm_extend.extensions``; set ``TVM_EXTEND_NO_AUTOLOAD=1`` to skip). The
order of ``import tvm``, ``import tvm_extend`` and an extension's own import does not matter:
extensions register through the loader, never at library load time.
"""

from . import (
    _core,  # noqa: F401  (loads TVM and the core library)
    pipeline,
)
from .errors import (
    DuplicateRegistrationError,
    ExtensionError,
    ExtensionLoadError,
    ExtensionVersionError,
    PipelineError,
)
from .finder import find_extension_library
from .loader import (
    Extension,
    Registration,
    autoload,
    describe_owner,
    list_extensions,
    load_extension,
    unload_extension,
)

__version__ = "0.1.0"

__all__ = [
    "DuplicateRegistrationError",
    "Extension",
    "ExtensionError",
    "ExtensionLoadError",
    "ExtensionVersionError",
    "PipelineError",
    "Registration",
    "autoload",
    "describe_owner",
    "find_extension_library",
    "list_extensions",
    "load_extension",
    "pipeline",
    "unload_extension",
]

autoload()
