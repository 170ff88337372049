"""Periodic structure of floor divisions: slope and period of an expression, residue classes merged into
progressions."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
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


def _residue_classes(kinds, sps, period: int, fn):
    """Every residue ``r`` of ``X mod period`` (index ``r``): ``(present, first, last, unbounded)`` arrays,
    the valid sizes of the class being ``first, first + period, ..., last`` (no ``last`` when unbounded).

    On one class each relation ``diff(X) >= 0`` / ``== 0`` is linear in ``k`` (``X = base + k*period``), with
    the integer slope ``slope*period``: one vectorised pass over the period, ``O(period * relations)``."""
    base = np.arange(1, period + 1, dtype=np.int64)
    d0s = [np.broadcast_to(d, (period,)) for d in fn(base)] if fn else []
    dt = object if any(d.dtype == object for d in d0s) else np.int64
    kmin = np.zeros(period, dtype=dt)
    kmax = np.zeros(period, dtype=dt)
    unbounded = np.ones(period, dtype=bool)
    dead = np.zeros(period, dtype=bool)
    for (kind, _), (slope, _), d0 in zip(kinds, sps, d0s, strict=True):
        d0 = d0.astype(dt)
        step = slope * period  # exact integer shift of diff per period (an integer by construction)
        assert step.denominator == 1
        step = int(step)
        if step == 0:
            dead |= (d0 < 0) if kind == "ge" else (d0 != 0)
            continue
        if kind == "ge" and step > 0:  # d0 + step*k >= 0
            kmin = np.maximum(kmin, -(d0 // step))  # ceil(-d0/step)
            continue
        if kind == "ge":
            k = d0 // (-step)
            lo_k, hi_k = None, k
        else:  # d0 + step*k == 0
            dead |= (d0 % step) != 0
            k = -d0 // step
            lo_k, hi_k = k, k
        if lo_k is not None:
            kmin = np.maximum(kmin, lo_k)
        kmax = np.where(unbounded, hi_k, np.minimum(kmax, hi_k))
        unbounded[:] = False
    present = ~dead & (unbounded | (kmin <= kmax))
    first, last = base + period * kmin, base + period * kmax
    # base = 1..period: residue r = base % period sits one place on
    return tuple(np.roll(a, 1) for a in (present, first, last, unbounded))


def _prime_factors(n: int) -> list[int]:
    out, q = [], 2
    while q * q <= n:
        while n % q == 0:
            out.append(q)
            n //= q
        q += 1
    return out + ([n] if n > 1 else [])


def _progressions(classes, period: int) -> list[Progression]:
    """Merge residue classes (from :func:`_residue_classes`) into few progressions: the period is divided by
    each of its prime factors while the classes still merge (``O(period * log(period))``)."""
    p = period
    for q in sorted(set(_prime_factors(period))):
        while p % q == 0 and _merge_at(p // q, classes, period) is not None:
            p //= q
    return _merge_at(p, classes, period)


def _merge_at(p: int, classes, period: int) -> list[Progression] | None:
    """The classes mod ``p`` as progressions ``{X = c mod p, lo <= X <= hi}`` if they are exactly that, else None."""
    present, first, last, unbounded = classes
    m = period // p
    grid = present.reshape(m, p)  # row k, column c: residue r = k*p + c
    any_, all_ = grid.any(0), grid.all(0)
    if (any_ & ~all_).any():
        return None
    cols = np.flatnonzero(all_)
    if not len(cols):
        return []
    f = first.reshape(m, p)[:, cols]
    la = last.reshape(m, p)[:, cols]
    u = unbounded.reshape(m, p)[:, cols]
    u_all = u.all(0)
    if (u.any(0) & ~u_all).any():
        return None
    r = np.arange(period, dtype=np.int64).reshape(m, p)[:, cols]
    if f.dtype == object:
        r = r.astype(object)
    lo, hi = f.min(0), la.max(0)
    want_first = lo + (r - lo) % period
    want_last = hi - (hi - r) % period
    bounded = ~u_all
    if (f != want_first).any() or (((la != want_last) | (want_last < want_first)) & bounded).any():
        return None
    out = [Progression(int(lo[j]), p, None if u_all[j] else int(hi[j])) for j in range(len(cols))]
    return sorted(out, key=lambda g: g.start)


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
