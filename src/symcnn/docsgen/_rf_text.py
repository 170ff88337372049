"""How the site writes a receptive field: a span, a range where it varies, "whole input" after a global layer,
and the per-position rule (first and last input index of output ``n``) where the span is not one number.

Every figure comes from the analysis (``receptive_field.size``, ``span_min``/``span_max``, ``rule``); nothing
here computes a field.
"""

from __future__ import annotations

from ..present import number
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
        page.formula(rf"\text{{first}}{tail}(n)", rules[i][0])
        page.formula(rf"\text{{last}}{tail}(n)", rules[i][1])
