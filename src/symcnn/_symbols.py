"""The standard size symbols, with the assumptions every CNN size has.

Sizes, kernels, strides, dilations, channels and groups are integers >= 1; paddings and output paddings are
integers >= 0. SymPy uses these assumptions to decide comparisons (``W + 2*P >= 1`` is always true), so
symbols created without them are refused by the layers (see :func:`symbols`).
"""

from __future__ import annotations

import sympy

from ._errors import SymcnnError

__all__ = ["W", "H", "L", "T", "F", "P", "S", "D", "C", "G", "K", "N", "symbols", "size_symbol"]


def size_symbol(name: str, *, nonnegative: bool = False) -> sympy.Symbol:
    """One integer symbol: positive (a size), or nonnegative (a padding) when ``nonnegative=True``.

    >>> size_symbol("W2").is_positive, size_symbol("P2", nonnegative=True).is_positive
    (True, None)
    """
    if nonnegative:
        return sympy.Symbol(name, integer=True, nonnegative=True)
    return sympy.Symbol(name, integer=True, positive=True)


def symbols(names: str, *, nonnegative: bool = False) -> tuple[sympy.Symbol, ...] | sympy.Symbol:
    """Several integer symbols at once, like :func:`sympy.symbols` (space or comma separated).

    Examples:
        >>> W1, W2 = symbols("W1 W2")
        >>> W1.is_integer and W1.is_positive
        True
    """
    if not isinstance(names, str):
        raise SymcnnError(f"symbols: `names`={names!r} must be a string of names separated by spaces or commas")
    parts = [p for p in names.replace(",", " ").split() if p]
    syms = tuple(size_symbol(p, nonnegative=nonnegative) for p in parts)
    return syms[0] if len(syms) == 1 else syms


W = size_symbol("W")  #: input width
H = size_symbol("H")  #: input height
L = size_symbol("L")  #: input length (1-D)
T = size_symbol("T")  #: input depth (3-D; PyTorch calls this axis D, which here is the dilation)
F = size_symbol("F")  #: kernel size
P = size_symbol("P", nonnegative=True)  #: padding per side
S = size_symbol("S")  #: stride
D = size_symbol("D")  #: dilation
C = size_symbol("C")  #: channels
G = size_symbol("G")  #: groups
K = size_symbol("K")  #: output channels (a second channel count)
N = size_symbol("N")  #: batch size
