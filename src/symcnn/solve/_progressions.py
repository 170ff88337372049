"""Periodic structure of floor divisions: slope and period of an expression, residue classes merged into
progressions."""

from __future__ import annotations

import math
from fractions import Fraction

import sympy

from .._intmath import FloorDiv
from .results import Progression


def _slope_period(expr, x):
    """(slope, period) with ``expr(X + period) = expr(X) + slope*period`` for every integer X, or None."""
    expr = sympy.sympify(expr)
    if not expr.has(x):
        return Fraction(0), 1
    if expr == x:
        return Fraction(1), 1
    if expr.is_Add or expr.is_Mul:
        if expr.is_Mul:
            coeff, rest = expr.as_coeff_Mul()
            if rest.is_Mul or not coeff.is_Rational:
                return None
            sp = _slope_period(rest, x)
            return None if sp is None else (sp[0] * Fraction(int(coeff.p), int(coeff.q)), sp[1])
        parts = [_slope_period(a, x) for a in expr.args]
        if any(p is None for p in parts):
            return None
        return sum((p[0] for p in parts), Fraction(0)), math.lcm(*(p[1] for p in parts))
    if isinstance(expr, (FloorDiv, sympy.Mod)):
        u, a = expr.args
        if not a.is_Integer:
            return None
        sp = _slope_period(u, x)
        if sp is None:
            return None
        slope, per = sp
        shift = slope * per / int(a)  # floor shifts by this per period of u; make it an integer
        per *= shift.denominator
        if isinstance(expr, sympy.Mod):
            return Fraction(0), per
        return slope / int(a), per
    if isinstance(expr, (sympy.Max, sympy.Min)):
        parts = [_slope_period(a, x) for a in expr.args]
        if any(p is None for p in parts) or len({p[0] for p in parts}) != 1:
            return None
        return parts[0][0], math.lcm(*(p[1] for p in parts))
    return None


def _progressions(per_residue: dict[int, tuple[int, int | None]], period: int) -> list[Progression]:
    """Merge residue classes ``{r: (first, last)}`` (mod ``period``) into as few progressions as possible."""
    for p in sorted(d for d in range(1, period + 1) if period % d == 0):
        out = []
        ok = True
        for c in range(p):
            subs = [r for r in range(period) if r % p == c]
            present = [r for r in subs if r in per_residue]
            if not present:
                continue
            if len(present) != len(subs):
                ok = False
                break
            lo = min(per_residue[r][0] for r in subs)
            his = [per_residue[r][1] for r in subs]
            hi = (
                None if all(h is None for h in his) else (max(his) if all(h is not None for h in his) else -1)
            )
            if hi == -1:
                ok = False
                break
            for r in subs:  # each sub-class must be exactly {X = r mod period, lo <= X <= hi}
                first = lo + (r - lo) % period
                last = None if hi is None else hi - (hi - r) % period
                if per_residue[r] != (first, last) or (last is not None and last < first):
                    ok = False
                    break
            if not ok:
                break
            out.append(Progression(lo, p, hi))
        if ok:
            return sorted(out, key=lambda g: g.start)
    raise AssertionError("unreachable: p = period always works")  # pragma: no cover


def _relation_diff(rel):
    """``(kind, diff)``: the relation as ``diff >= 0`` ('ge'), ``== 0`` ('eq') or ``!= 0`` ('ne')."""
    diff = sympy.expand(rel.lhs - rel.rhs)
    if isinstance(rel, sympy.Eq):
        return "eq", diff
    if isinstance(rel, sympy.Ne):
        return "ne", diff
    if isinstance(rel, (sympy.LessThan, sympy.StrictLessThan)):
        diff = -diff
    if isinstance(rel, (sympy.StrictGreaterThan, sympy.StrictLessThan)):
        diff -= 1
    return "ge", diff
