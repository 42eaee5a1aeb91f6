"""my_custom_pass: a C++ TIR pass built against the pip-installed TVM with tvm-extend.

Importing this package loads its library through tvm-extend (if autoload has not already);
the import order of tvm, tvm_extend and this package does not matter.
"""

import tvm_extend

extension = tvm_extend.load_extension(__name__)


def MulDivToShift():  # noqa: N802  (TVM's pass naming)
    """The PrimFunc pass rewriting integer *, //, % by 2^k into shifts and masks."""
    return extension["transform.MulDivToShift"]()


def rewrite_expr(expr):
    """Apply the rewrite to one PrimExpr."""
    return extension["rewrite_expr"](expr)


def count_candidates(func):
    """How many rewritable operations a PrimFunc holds."""
    return extension["count_candidates"](func)


from . import transform  # noqa: E402, F401  (my_custom_pass.transform.MulDivToShift, as in the seed)
