"""Relax ops and BYOC codegens that extensions register, from Python.

An extension's Relax op (``TVM_EXTEND_REGISTER_RELAX_OP``) is a TVM op like ``relax.add``:
``op("myext.scaled_add")`` returns a function making a ``relax.Call`` of it, which TVMScript
accepts inside ``@R.function`` (the parser runs Python calls that return Relax expressions) and
a BlockBuilder emits, inferring its type through the extension's C++ inference::

    scaled_add = tvm_extend.relax_op.op("myext.scaled_add")

    @R.function
    def main(x: R.Tensor((4, 3), "float32"), y: R.Tensor((3,), "float32")):
        z = scaled_add(x, y, T.float32(0.5))
        return z

An extension's codegen (``TVM_EXTEND_REGISTER_CODEGEN``) is served as ``relax.ext.<name>``;
:func:`patterns` gives its pattern table for ``relax.transform.FuseOpsByPattern``.
"""

from __future__ import annotations

from collections.abc import Callable

import tvm
from tvm import relax


def op(name: str) -> Callable[..., relax.Call]:
    """A function ``f(*args)`` making a call of the Relax op ``name``. Its type is inferred
    when the call is normalized (emitted by a BlockBuilder, or parsed in TVMScript)."""
    the_op = tvm.ir.Op.get(name)

    def make(*args) -> relax.Call:
        return relax.Call(the_op, [relax.convert_to_expr(a) for a in args])

    make.__name__ = name.rsplit(".", 1)[-1]
    make.__qualname__ = name
    make.__doc__ = the_op.description
    return make


class _Ops:
    """``ops(ext).scaled_add(...)``: the Relax ops of one extension, by their short names."""

    def __init__(self, names: list[str]):
        for name in names:
            setattr(self, name.rsplit(".", 1)[-1], op(name))


def ops(extension) -> _Ops:
    """The Relax ops of ``extension`` (a loaded :class:`tvm_extend.Extension` or its name) as
    attributes: ``ops("myext").scaled_add(x, y, alpha)``."""
    from .loader import list_extensions

    if isinstance(extension, str):
        found = [e for e in list_extensions() if e.name == extension and e.active]
        if not found:
            raise KeyError(f"no loaded extension is called '{extension}'")
        extension = found[0]
    return _Ops(extension.relax_ops)


def patterns(codegen: str) -> list:
    """The pattern table of the codegen ``codegen`` (``relax.ext.<codegen>``), in priority
    order, for ``relax.transform.FuseOpsByPattern(patterns(name), annotate_codegen=True)``."""
    from tvm.relax.backend.pattern_registry import get_patterns_with_prefix

    return list(get_patterns_with_prefix(codegen + "."))
