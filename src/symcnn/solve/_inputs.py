"""Checks of the arguments shared by the solvers (before any analysis runs on them)."""

from __future__ import annotations

import numpy as np
import sympy

from .._errors import SymcnnError


def check_input_shape(which: str, input_shape) -> tuple:
    """``input_shape`` as ``(C, *spatial)`` of ints or integer SymPy expressions, else a SymcnnError."""
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) < 2:
        raise SymcnnError(f"{which}: `input_shape`={input_shape!r} must be a tuple (C, *spatial), e.g. (3, sc.H, sc.W)")
    for v in input_shape:
        ok = (isinstance(v, (int, np.integer)) and not isinstance(v, bool)) or (
            isinstance(v, sympy.Expr) and not v.has(sympy.Float, sympy.nan, sympy.zoo) and v.is_integer is True
            and v.is_finite is not False
        )
        if not ok:
            raise SymcnnError(
                f"{which}: `input_shape` entry {v!r} must be an int or an integer symbol expression (such as"
                " sc.W or 2*sc.W + 1); floats, NaN and infinities are not sizes"
            )
    return tuple(int(v) if isinstance(v, np.integer) else v for v in input_shape)
