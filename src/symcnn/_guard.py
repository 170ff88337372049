"""Arguments of public helpers as SymPy values, never by parsing text (user text is not evaluated)."""

from __future__ import annotations

import sympy

from ._errors import SymcnnError

__all__ = ["as_value"]


def as_value(value, func: str, arg: str):
    """``value`` (an int, a number or a SymPy object) as a SymPy object; a ``str``/``bytes`` is refused.

    >>> as_value(3, "f", "size")
    3
    >>> as_value("3", "f", "size")
    Traceback (most recent call last):
    ...
    symcnn.SymcnnError: f: `size`='3' is text; give an int or a SymPy expression (symcnn never evaluates text)
    """
    if isinstance(value, (str, bytes, bytearray)):
        raise SymcnnError(f"{func}: `{arg}`={value!r} is text; give an int or a SymPy expression "
                          "(symcnn never evaluates text)")
    try:
        return sympy.sympify(value, strict=True)  # strict: no string parsing, no fallback to str(value)
    except (sympy.SympifyError, TypeError, ValueError):
        raise SymcnnError(f"{func}: `{arg}`={value!r} is a {type(value).__name__}; give an int or a SymPy "
                          "expression") from None
