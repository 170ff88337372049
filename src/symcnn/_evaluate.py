"""Exact numeric evaluation of analysis expressions (``Analysis.lambdify``).

Vectorised evaluation runs on int64 arrays only when a bound on every intermediate value proves that no
int64 overflow can happen; otherwise it runs on object arrays of Python ints (exact, slower). The bound is
the expression with every coefficient made positive, every ``floor(x/d)`` replaced by ``|x|`` and every
``max``/``min`` by the sum of its arguments, evaluated in float64 at ``|values|`` with a safety margin.
"""

from __future__ import annotations

import operator

import sympy

from ._errors import SymcnnError
from ._intmath import FloorDiv

__all__ = ["make_function", "resolve_symbols"]

_LIMIT = float(2**60)  # int64 holds 2**63; the margin covers float64 rounding of the bound


def resolve_symbols(free: set, symbols) -> list[sympy.Symbol]:
    """``symbols`` given as names or SymPy symbols (or None: the free symbols sorted by name)."""
    if symbols is None:
        return sorted(free, key=lambda s: s.name)
    if isinstance(symbols, (str, sympy.Symbol)):
        symbols = [symbols]
    try:
        items = list(symbols)
    except TypeError:
        raise SymcnnError(f"lambdify: `symbols`={symbols!r} must be a list of symbols or symbol names") from None
    by_name = {s.name: s for s in free}
    out = []
    for s in items:
        if isinstance(s, str):
            if s not in by_name:
                known = ", ".join(sorted(by_name)) or "none"
                raise SymcnnError(
                    f"lambdify: `symbols` entry {s!r} is not a symbol of this quantity (symbols: {known})"
                )
            s = by_name[s]
        elif not isinstance(s, sympy.Symbol):
            raise SymcnnError(f"lambdify: `symbols` entry {s!r} must be a symbol or a symbol name")
        out.append(s)
    missing = sorted(s.name for s in free if s not in out)
    if missing:
        raise SymcnnError(f"lambdify: `symbols` misses {', '.join(missing)}, which the quantity depends on")
    if len(set(out)) != len(out):
        raise SymcnnError(f"lambdify: `symbols`={[s.name for s in out]} names a symbol twice")
    return out


def _magnitude(e: sympy.Expr) -> sympy.Expr:
    """An expression bounding ``|v|`` for ``e`` and every intermediate value of its evaluation, when the
    symbols are replaced by their absolute values."""
    if e.is_Number:
        return abs(e)
    if e.is_Symbol:
        return e
    if isinstance(e, FloorDiv):
        return _magnitude(e.args[0])
    if e.is_Add or isinstance(e, (sympy.Max, sympy.Min)):
        return sympy.Add(*[_magnitude(a) for a in e.args])
    if e.is_Mul:
        return sympy.Mul(*[_magnitude(a) for a in e.args])
    if e.is_Pow and e.exp.is_Integer and e.exp > 0:
        return _magnitude(e.base) ** e.exp
    if isinstance(e, sympy.Mod):
        return _magnitude(e.args[0]) + _magnitude(e.args[1])
    return sympy.Add(*[_magnitude(a) for a in e.args]) if e.args else e  # Gcd and the like: <= their args


def _check_value(sym: sympy.Symbol, v) -> int:
    try:
        n = operator.index(v)
    except TypeError:
        raise SymcnnError(f"lambdify: {sym}={v!r} is not an integer") from None
    low = 1 if sym.is_positive else (0 if sym.is_nonnegative else None)
    if low is not None and n < low:
        raise SymcnnError(f"lambdify: {sym}={n} must be an integer >= {low}")
    return n


def _python_ints(np, a, sym=None):
    """An object array of Python ints (exact arithmetic) with the shape of ``a``."""
    out = np.empty(a.shape, dtype=object)
    for idx, x in np.ndenumerate(a):
        out[idx] = _check_value(sym, x) if sym is not None else int(x)
    return out


def make_function(expr, args: list[sympy.Symbol], *, vectorized: bool):
    """``expr`` (an expression or a tuple of them) as an exact function of ``args``."""
    if not vectorized:
        fn = sympy.lambdify(args, expr, modules="math")

        def call(*values):
            if len(values) != len(args):
                raise SymcnnError(f"lambdify: expected {len(args)} values ({', '.join(s.name for s in args)})")
            return fn(*(_check_value(s, v) for s, v in zip(args, values, strict=True)))

        return call
    import numpy as np  # only here: `import symcnn` does not need NumPy

    fn = sympy.lambdify(args, expr, modules="numpy")
    exact = sympy.lambdify(args, expr, modules="math")
    exprs = expr if isinstance(expr, tuple) else (expr,)
    bound = sympy.lambdify(args, sympy.Add(*[_magnitude(sympy.sympify(e)) for e in exprs]), modules="numpy")

    def call(*values):
        if len(values) != len(args):
            raise SymcnnError(f"lambdify: expected {len(args)} values ({', '.join(s.name for s in args)})")
        arrays = []
        for s, v in zip(args, values, strict=True):
            a = np.asarray(v)
            if a.dtype.kind == "O":
                a = _python_ints(np, a, s)
            elif a.dtype.kind not in "iu":
                raise SymcnnError(f"lambdify: {s} must be integers, got an array of {a.dtype}")
            low = 1 if s.is_positive else (0 if s.is_nonnegative else None)
            if low is not None and a.size and np.min(a) < low:
                raise SymcnnError(f"lambdify: {s} must be integers >= {low}, got {np.min(a)}")
            arrays.append(a)
        with np.errstate(all="ignore"):
            mags = [np.abs(a.astype(np.float64)) for a in arrays]
            b = np.asarray(bound(*mags), dtype=np.float64)
        small = bool(np.all(np.isfinite(b)) and (b.size == 0 or np.max(b) < _LIMIT)) and all(
            a.dtype.kind != "O" and (a.size == 0 or np.max(np.abs(a.astype(np.float64))) < _LIMIT) for a in arrays
        )
        if small:
            return fn(*(a.astype(np.int64) for a in arrays))
        if all(a.ndim == 0 for a in arrays):  # scalars: plain Python ints (NumPy would cast them to int64)
            return exact(*(int(a.item()) for a in arrays))
        return fn(*(_python_ints(np, a) for a in arrays))

    return call
