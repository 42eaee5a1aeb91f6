"""my_custom_pass.transform.MulDivToShift(), spelled as in the seed's Python usage."""

from . import MulDivToShift

__all__ = ["MulDivToShift"]
