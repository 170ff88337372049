"""How the site writes a receptive field: a span, a range where it varies, "whole input" after a global layer,
and the per-position rule (first and last input index of output ``n``) where the span is not one number.

Every figure comes from the analysis (``receptive_field.size``, ``span_min``/``span_max``, ``rule``); nothing
here computes a field.
"""

from __future__ import annotations

import sympy

from ..present import number, pretty
from ._core import Page, code

__all__ = ["span_text", "interval_text", "rule_formulas", "varies"]


def _n(x) -> str:
    return number(int(x)) if getattr(x, "is_Integer", False) or isinstance(x, int) else code(x)


def span_text(rf, axis: int = -1) -> str:
    """The span along ``axis`` as text: ``212``, ``188–204`` (smallest and largest over the positions),
    ``whole input`` or ``varies with n`` (symbolic sizes)."""
    i = range(len(rf.lo))[axis]
    if rf.whole[i]:
        return "whole input"
    if rf.size[i] is not None:
        return _n(rf.size[i])
    if rf.span_min[i] is not None:
        return f"{_n(rf.span_min[i])}–{_n(rf.span_max[i])}"
    return "varies with n"


def interval_text(rf, n: int = 0, axis: int = -1) -> str:
    """``[first, last]``: the input indices output ``n`` depends on along ``axis``."""
    lo, hi = rf.interval(n, axis)
    return f"[{_n(lo)}, {_n(hi)}]"


def varies(rf) -> bool:
    """Some axis has a field that is not Distill's constant-stride window (and is not the whole input)."""
    return any(not a and not w for a, w in zip(rf.affine, rf.whole, strict=True))


def rule_formulas(page: Page, rf) -> None:
    """The field as formulas: ``r`` and ``j`` where every output has the same span at a constant step, else the
    first and last input index of output ``n`` (one pair when every axis has the same rule)."""
    if not varies(rf) and all(s is not None for s in rf.size):
        page.formula(r"r", tuple(rf.size))
        page.formula(r"j", tuple(rf.stride))
        return
    rules = [rf.rule(i) for i in range(len(rf.lo))]
    axes = [0] if all(r == rules[0] for r in rules) else range(len(rules))
    for i in axes:
        tail = "" if len(axes) == 1 else rf"_{{{i}}}"
        _rule_formula(page, "first", tail, i if tail else None, rules[i][0])
        _rule_formula(page, "last", tail, i if tail else None, rules[i][1])


#: characters of a rule's plain text that fit the content column as one display formula (about 11 px each)
_FITS = 50


def _rule_formula(page: Page, which: str, tail: str, axis, expr) -> None:
    """One bound of the rule as a display formula; a ``max``/``min`` too wide for the column as the list of its
    terms (one formula each), and a rule too long to typeset usefully (symbolic sizes) named, not printed."""
    words = f"{which}(n)" + ("" if axis is None else f" along axis {axis}")
    text = pretty(expr)
    if len(text) <= _FITS:
        page.formula(rf"\text{{{which}}}{tail}(n)", expr)
    elif isinstance(expr, (sympy.Max, sympy.Min)) and all(len(pretty(a)) <= _FITS for a in expr.args):
        page.para(f"{words} is the {'largest' if isinstance(expr, sympy.Max) else 'smallest'} of:")
        for term in expr.args:
            page.formula("", term)
    else:
        page.para(f"{words} at these sizes is a formula of {len(text):,} characters, too long to typeset usefully: "
                  "`analyze(...).receptive_field.rule(axis)` returns it, and numbers substituted for the "
                  "sizes give its short form.")
