"""Symbols, grids and helpers shared by the size derivations (convolution, padding, transposed, pooling).

Every derivation imports the engine's function through its module (``_conv.conv_output_size``), so the proof
and the check cover the code users run (and a monkeypatched engine is caught).
"""

from __future__ import annotations

import sympy

from .._symbols import D, F, S, W  # noqa: F401 - S, W: the doctest below
from . import _brute
from ._core import Grid

#: paddings, output_padding and the residue-split unknowns r, t, m: nonnegative integers
Pl, Pr, OP, r, t, m = sympy.symbols("P_l P_r OP r t m", integer=True, nonnegative=True)
X, n = sympy.symbols("X n", integer=True, positive=True)  # a size to recover; an SPP level
#: the quotient of a residue split: any integer, nonnegative, positive
q, qn, qp = (sympy.Symbol("q", integer=True, **a) for a in ({}, {"nonnegative": True}, {"positive": True}))
k = sympy.Symbol("k", real=True)
F_EFF = D * (F - 1) + 1
MODULI = range(1, 9)  # concrete strides for the residue splits

#: the standard grid: W <= 40, F <= 7, S <= 5, P <= 4, D <= 3
STD = Grid(dict(W=range(1, 41), F=range(1, 8), S=range(1, 6), P=range(0, 5), D=range(1, 4)))
#: the same without padding
STD_NOPAD = Grid(dict(W=range(1, 41), F=range(1, 8), S=range(1, 6), D=range(1, 4)))


def solve_linear_le(rel: sympy.Le, var: sympy.Symbol) -> sympy.Le:
    """Solve ``lhs <= rhs``, linear in ``var`` with a coefficient SymPy proves positive, as ``var <= bound``.

    >>> solve_linear_le(sympy.Le(k * S - 3, W), k)
    k <= (W + 3)/S
    """
    diff = sympy.expand(rel.lhs - rel.rhs)
    coeff = diff.coeff(var)
    if not (coeff.is_positive and sympy.expand(diff - coeff * var).has(var) is False):
        raise ValueError(f"cannot solve {rel} for {var}")
    return sympy.Le(var, sympy.factor(-(diff - coeff * var) / coeff))


def feff(g):
    """The effective kernel on grid arrays."""
    return g["D"] * (g["F"] - 1) + 1


def windows(W, F, S, P=0, D=1):  # noqa: F811 - the axis names, as the engine's symbols
    """Brute force: the number of windows of a symmetric padding (enumerated by the reference)."""
    return _brute.count_windows(W, F, S, P, P, D)


