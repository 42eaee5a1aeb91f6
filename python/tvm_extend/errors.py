"""The errors of tvm-extend. Each maps a tvm-ffi error kind raised by the C++ loader."""

import tvm_ffi


class ExtensionError(RuntimeError):
    """Base of every tvm-extend loading error."""


class ExtensionLoadError(ExtensionError):
    """The file is missing, not a library, has no entry point, or a factory failed."""


class ExtensionVersionError(ExtensionError):
    """The extension was built against another TVM or tvm-ffi; both versions are named."""


class DuplicateRegistrationError(ExtensionError):
    """A global name is claimed twice; both owners are named."""


class SchemaError(ExtensionError):
    """An IR type or field the extension uses is missing or changed in the running TVM; the
    message names the type, the field, what was expected and the TVM version."""


class PipelineError(ValueError):
    """A pipeline cannot be derived: unknown base or anchor pass, or a bad insertion."""


for _cls in (
    ExtensionLoadError,
    ExtensionVersionError,
    DuplicateRegistrationError,
    SchemaError,
    PipelineError,
):
    tvm_ffi.register_error(_cls.__name__, _cls)
