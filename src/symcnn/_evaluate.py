"""Exact numeric evaluation of analysis expressions (``Analysis.lambdify``).

Vectorised evaluation runs on int64 arrays only when a bound on every intermediate value proves that no
int64 overflow can happen; otherwise it runs on object arrays of Python ints (exact, slower). The bound is
the expression with every coefficient made positive, every ``floor(x/d)`` replaced by ``|x|`` and every
``max``/``min`` by the sum of its arguments, evaluated in float64 at ``|values|`` with a safety margin.
"""

from __future__ import annotations

import contextlib
import gc
import math
import operator
from fractions import Fraction

import sympy

from ._errors import SymcnnError
from ._intmath import FloorDiv

__all__ = ["make_function", "resolve_symbols", "Substituter", "free_symbols_of", "gc_paused"]

@contextlib.contextmanager
def gc_paused():
    """Python's cyclic garbage collector paused for the block (restored as it was): analysing and reading long
    networks allocates many small SymPy objects and no reference cycles worth a collection pass."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


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


# --- substitution ---------------------------------------------------------------------------------------

class _NotNumeric(Exception):
    """An expression the exact evaluator does not handle (a symbol without a value, an unknown function)."""


_RELATIONS = {
    sympy.GreaterThan: operator.ge, sympy.StrictGreaterThan: operator.gt, sympy.LessThan: operator.le,
    sympy.StrictLessThan: operator.lt, sympy.Equality: operator.eq, sympy.Unequality: operator.ne,
}


class Substituter:
    """``expr.xreplace(mapping)`` for many expressions sharing subexpressions (the layers of one analysis),
    each distinct subexpression visited once. When every symbol has a number, the value is computed in exact
    Python arithmetic (ints and Fractions) instead of rebuilding SymPy trees."""

    def __init__(self, mapping: dict, *, try_numeric: bool = True):
        self.mapping = mapping
        self.try_numeric = try_numeric
        self.numeric = {k: _exact(v) for k, v in mapping.items() if v.is_Rational}
        self._num: dict = {}
        self._sym: dict = {}
        self._out: dict = {}

    def __call__(self, expr):
        hit = self._out.get(expr)
        if hit is not None:
            return hit
        try:
            if not self.try_numeric:
                raise _NotNumeric
            v = self._value(expr)
        except _NotNumeric:
            out = self._rebuild(expr)
        else:
            if isinstance(v, bool):
                out = sympy.true if v else sympy.false
            else:
                out = sympy.Integer(v) if isinstance(v, int) else sympy.Rational(v.numerator, v.denominator)
        self._out[expr] = out
        return out

    def _value(self, e):  # noqa: C901 - one branch per node type
        hit = self._num.get(e)
        if hit is not None:
            return hit
        if e.is_Symbol:
            if e not in self.numeric:
                raise _NotNumeric
            v = self.numeric[e]
        elif e.is_Rational:
            v = _exact(e)
        elif e.is_Add:
            v = sum((self._value(a) for a in e.args), 0)
        elif e.is_Mul:
            v = 1
            for a in e.args:
                v = v * self._value(a)
        elif e.is_Pow:
            b, x = self._value(e.base), self._value(e.exp)
            if not isinstance(x, int) or (x < 0 and b == 0):
                raise _NotNumeric
            v = b**x if x >= 0 else Fraction(1, b ** -x)
        elif isinstance(e, FloorDiv):
            x, d = self._value(e.args[0]), self._value(e.args[1])
            if not (isinstance(x, int) and isinstance(d, int) and d > 0):
                raise _NotNumeric  # the general route raises the proper error
            v = x // d
        elif isinstance(e, (sympy.Max, sympy.Min)):
            vals = [self._value(a) for a in e.args]
            v = max(vals) if isinstance(e, sympy.Max) else min(vals)
        elif isinstance(e, sympy.Mod):
            x, d = self._value(e.args[0]), self._value(e.args[1])
            if d == 0:
                raise _NotNumeric
            v = x % d
        elif type(e) in _RELATIONS:
            v = _RELATIONS[type(e)](self._value(e.args[0]), self._value(e.args[1]))
        elif e.func.__name__ == "Gcd":
            x, d = self._value(e.args[0]), self._value(e.args[1])
            if not (isinstance(x, int) and isinstance(d, int)):
                raise _NotNumeric
            v = math.gcd(x, d)
        elif isinstance(e, (sympy.floor, sympy.ceiling)):
            x = self._value(e.args[0])
            v = math.floor(x) if isinstance(e, sympy.floor) else math.ceil(x)
        else:
            raise _NotNumeric
        if isinstance(v, Fraction) and v.denominator == 1:
            v = v.numerator
        self._num[e] = v
        return v

    def _rebuild(self, e):
        hit = self._sym.get(e)
        if hit is not None:
            return hit
        if e in self.mapping:
            out = self.mapping[e]
        elif not e.args:
            out = e
        else:
            args = tuple(self._rebuild(a) for a in e.args)
            out = e if all(a is b for a, b in zip(args, e.args, strict=True)) else e.func(*args)
        self._sym[e] = out
        return out


def _exact(v: sympy.Rational):
    return int(v) if v.is_Integer else Fraction(int(v.p), int(v.q))


def free_symbols_of(exprs) -> set[sympy.Symbol]:
    """The free symbols of many expressions sharing subexpressions, each distinct subexpression visited once."""
    seen: set = set()
    out: set = set()
    stack = [e for e in exprs if isinstance(e, sympy.Basic)]
    while stack:
        e = stack.pop()
        if e in seen:
            continue
        seen.add(e)
        if e.is_Symbol:
            out.add(e)
        elif e.args:
            stack.extend(e.args)
    return out
