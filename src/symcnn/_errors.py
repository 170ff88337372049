"""The one exception type symcnn raises for bad input."""

from __future__ import annotations

__all__ = ["SymcnnError"]


class SymcnnError(ValueError):
    """Bad input to symcnn: a layer argument, an input shape, a substitution or a spec.

    Messages name the layer (index and name, when inside a network), the parameter in backticks, the value
    given and what is allowed, e.g. "`output_padding`=2 must be smaller than max(`stride`, `dilation`) = 2".
    It is a `ValueError`, so code that already catches `ValueError` keeps working.
    """


SymcnnError.__module__ = "symcnn"
