"""Closed forms: unwrap floor divisions (R6) and isolate one unknown."""

from __future__ import annotations

import sympy

from .._intmath import FloorDiv, ceildiv, decide, floordiv, normalize, smax, smin


def _minimum(s: sympy.Symbol) -> int | None:
    if s.is_positive:
        return 1
    if s.is_nonnegative:
        return 0
    return None


def _split_floor(diff: sympy.Expr):
    """``diff = k*floor(x/a) + rest`` with exactly one FloorDiv term: (k, x, a, rest), else None."""
    terms = sympy.Add.make_args(sympy.expand(diff))
    floors = [(t.as_coeff_Mul()) for t in terms if t.as_coeff_Mul()[1].has(FloorDiv)]
    if len(floors) != 1:
        return None
    k, mono = floors[0]
    if not isinstance(mono, FloorDiv) or not k.is_Integer:
        return None
    rest = sympy.expand(diff - k * mono)
    return int(k), mono.args[0], mono.args[1], rest


def _unwrap(rel) -> list:
    """A relation without its outer floor division, where that is exact over the integers.

    ``floor(x/a) = q``  <=>  ``a*q <= x <= a*q + a - 1``; ``floor(x/a) >= q`` <=> ``x >= a*q``;
    ``floor(x/a) <= q`` <=> ``x <= a*q + a - 1`` (q an integer expression).
    """
    if not isinstance(
        rel, (sympy.Eq, sympy.GreaterThan, sympy.LessThan, sympy.StrictGreaterThan, sympy.StrictLessThan)
    ):
        return [rel]
    diff = sympy.expand(rel.lhs - rel.rhs)
    if isinstance(rel, (sympy.LessThan, sympy.StrictLessThan)):
        diff = -diff
    if isinstance(rel, (sympy.StrictGreaterThan, sympy.StrictLessThan)):
        diff -= 1
    split = _split_floor(diff)
    if split is None or abs(split[0]) != 1:
        return [sympy.Eq(diff, 0) if isinstance(rel, sympy.Eq) else sympy.Ge(diff, 0)]
    k, x, a, rest = split
    q = sympy.expand(-rest * k)  # floor(x/a) = q  (or >= q / <= q)
    if isinstance(rel, sympy.Eq):
        out = [sympy.Ge(x, a * q), sympy.Le(x, a * q + a - 1)]
    elif k > 0:  # floor >= q
        out = [sympy.Ge(x, a * q)]
    else:  # -floor + rest >= 0: floor <= rest
        out = [sympy.Le(x, a * q + a - 1)]
    return [r2 for r in out for r2 in _unwrap(r)]


def _isolate(rel, u: sympy.Symbol):
    """A relation linear in ``u`` with a numeric coefficient as ('lo'|'hi'|'eq', bound), else None."""
    diff = sympy.expand(rel.lhs - rel.rhs)
    if isinstance(rel, (sympy.LessThan, sympy.StrictLessThan)):
        diff = -diff
    if isinstance(rel, (sympy.StrictGreaterThan, sympy.StrictLessThan)):
        diff -= 1
    c = diff.coeff(u)
    r = sympy.expand(diff - c * u)
    if not c.is_Integer or c == 0 or r.has(u):
        return None
    c = int(c)
    if isinstance(rel, sympy.Eq):
        return ("eq", -r / c) if (-r / c).is_Integer or abs(c) == 1 else None
    if not isinstance(
        rel, (sympy.GreaterThan, sympy.StrictGreaterThan, sympy.LessThan, sympy.StrictLessThan)
    ):
        return None
    # c*u + r >= 0
    return ("lo", ceildiv(-r, c)) if c > 0 else ("hi", floordiv(r, -c))


def _closed_form(relations, unknowns):
    """(closed form, numeric interval of the single unknown or None)."""
    rels = [r2 for r in relations for r2 in _unwrap(r)]
    rels = [r for r in rels if decide(r) is not True]
    if len(unknowns) != 1:
        rels = [normalize(r) for r in rels]
        return (sympy.And(*rels) if rels else sympy.true), None
    (u,) = unknowns
    lows, highs, rest = [], [], []
    for r in rels:
        iso = _isolate(r, u) if r.has(u) else None
        if iso is None:
            rest.append(normalize(r))
            continue
        kind, b = iso
        if kind in ("lo", "eq"):
            lows.append(b)
        if kind in ("hi", "eq"):
            highs.append(b)
    m = _minimum(u)
    lo = smax(*lows) if lows else None
    hi = smin(*highs) if highs else None
    parts = []
    if m is not None and (lo is None or decide(sympy.Ge(lo, m)) is not True):
        if lo is not None and lo.is_Integer:
            lo = sympy.Integer(max(int(lo), m))
        elif lo is None:
            lo = sympy.Integer(m)
        else:
            rest.append(sympy.Ge(u, m))
    if lo is not None and hi is not None and lo == hi:
        parts.append(sympy.Eq(u, lo))
    else:
        if lo is not None:
            parts.append(sympy.Ge(u, lo) if lo != m or hi is None else sympy.Le(lo, u, evaluate=False))
        if hi is not None:
            parts.append(sympy.Le(u, hi))
    if lo is not None and hi is not None and lo.is_Integer and hi.is_Integer and lo > hi:
        parts = [sympy.false]
    closed = sympy.And(*parts, *rest) if (parts or rest) else sympy.true
    numeric = None
    if not rest and lo is not None and hi is not None and lo.is_Integer and hi.is_Integer:
        numeric = (int(lo), int(hi))
    elif not rest and lo is not None and hi is not None:
        numeric = None
    return closed, numeric
