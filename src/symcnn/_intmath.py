"""Integer division for symbolic sizes, with the rewrite rules that keep closed forms compact.

SymPy's ``floor`` never collapses ``floor(floor(x/2)/2)``; CNN stacks produce exactly such nests. Like
PyTorch's ``FloorDiv`` (torch/utils/_sympy/functions.py), JAX's shape polynomials and TVM's
``rewrite_simplify``, symcnn keeps its own function class, :class:`FloorDiv`, whose constructor applies
these rules (all numerators are integers, all divisors positive integers):

* R1 ``floor(x/1) = x``; numbers evaluate;
* R2/R3 ``floor((floor(x/a) + y)/b) = floor((x + a*y)/(a*b))`` (R2 is the case y = 0);
* R4 ``floor((a*y + x)/a) = y + floor(x/a)`` (pull out exact multiples) and
  ``floor(g*x/(g*a)) = floor(x/a)`` (cancel a common factor);
* R5 ``ceil(x/a) = floor((x + a - 1)/a)``: ceil division is written through floor division, so there is
  one canonical form; the printers show ``ceil(...)`` again when that is what the numerator says;
* R6/R7 ``floor(x/a)`` lies in ``[(x - a + 1)/a, x/a]``: :func:`decide_nonneg` uses these bounds and the
  symbols' assumptions to decide comparisons, and :func:`smax` / :func:`smin` drop a ``Max``/``Min`` only
  when the comparison is proved. Undecidable comparisons stay symbolic (R12).

>>> from symcnn import W
>>> floordiv(floordiv(floordiv(W, 2), 2), 2)                   # three 2x2/2 pools (R2)
floor(W/8)
>>> floordiv(floordiv(W - 1, 2) + 1 - 1, 2) + 1                 # 3x3/2 pad 1, twice (R3, R4)
ceil(W/4)
>>> floordiv(W + 2 * 3 - 7, 2) + 1                               # 7x7/2 pad 3
ceil(W/2)
>>> pretty(floordiv(W + 31, 32))
'ceil(W/32)'
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import sympy

from .present import latex as latex
from .present import pretty as pretty
from .present._notation import latex_floordiv, text_floordiv

__all__ = [
    "FloorDiv",
    "Gcd",
    "floordiv",
    "ceildiv",
    "mod",
    "smax",
    "smin",
    "decide_nonneg",
    "decide",
    "pretty",
    "latex",
    "as_int",
    "normalize",
]

_ZERO = sympy.Integer(0)
_ONE = sympy.Integer(1)


def _terms(x: sympy.Expr) -> dict[sympy.Expr, sympy.Rational]:
    """The expanded numerator as {monomial: coefficient}; the constant under key 1."""
    x = sympy.expand(x, deep=False, power_exp=False, power_base=False, log=False, multinomial=False)
    out: dict[sympy.Expr, sympy.Rational] = {}
    for term in sympy.Add.make_args(x):
        coeff, mono = term.as_coeff_Mul()
        out[mono] = out.get(mono, _ZERO) + coeff
    return {m: c for m, c in out.items() if c != 0}


def _from_terms(terms: dict[sympy.Expr, sympy.Rational]) -> sympy.Expr:
    return sympy.Add(*[c * m for m, c in terms.items()])


def _divides(monomial_term: sympy.Expr, d: sympy.Expr) -> bool:
    """True when ``monomial_term / d`` is a monomial with an integer coefficient (no denominator left)."""
    _, den = sympy.fraction(monomial_term / d)
    return den == 1


class FloorDiv(sympy.Function):
    """``floor(x / d)`` for an integer ``x`` and a positive integer ``d``, kept in canonical form.

    Construct through :func:`floordiv` (same thing) or :func:`ceildiv`. The constructor rewrites its
    arguments (module docstring) so that equal sizes reached by different routes compare equal.
    """

    nargs = 2
    is_integer = True
    is_finite = True

    @classmethod
    def eval(cls, x, d):  # noqa: C901 - one rule per branch, in the order of the module docstring
        x = sympy.sympify(x)
        d = sympy.sympify(d)
        if d.is_Number:
            if not (d.is_Integer and d > 0):
                raise TypeError(f"FloorDiv divisor must be a positive integer, got {d}")
            if x.is_Number:
                if not x.is_Integer:
                    raise TypeError(f"FloorDiv numerator must be an integer, got {x}")
                return sympy.Integer(int(x) // int(d))
        if d == 1:
            return x
        if x == 0:
            return _ZERO
        terms = _terms(x)
        # R2/R3: absorb one inner floor division whose coefficient is 1.
        inner = sorted((m for m, c in terms.items() if c == 1 and isinstance(m, FloorDiv)),
                       key=sympy.default_sort_key)
        if inner:
            u, a = inner[0].args
            rest = x - inner[0]
            return FloorDiv(u + a * rest, a * d)
        if d.is_Integer:
            di = int(d)
            # R4b: cancel a common integer factor of all coefficients and the divisor.
            g = 0
            for c in terms.values():
                if not c.is_Integer:
                    raise TypeError(f"FloorDiv numerator must have integer coefficients, got {x}")
                g = math.gcd(g, int(c))
            g = math.gcd(g, di)
            if g > 1:
                return FloorDiv(_from_terms({m: c / g for m, c in terms.items()}), di // g)
            # R4: pull out exact multiples; the constant goes to [0, d), other coefficients toward zero.
            pulled, left = _ZERO, {}
            for m, c in terms.items():
                ci = int(c)
                q = ci // di if m == 1 else int(ci / di)
                pulled += q * m
                left[m] = c - q * di
            if pulled != 0:  # the remainder is rebuilt from the expanded terms, never re-expanded
                return pulled + FloorDiv(_from_terms(left), di)
        else:
            # Symbolic divisor: cancel a symbolic factor common to every term, then pull out multiples.
            for f in sympy.Mul.make_args(d):
                if f.is_Number:
                    continue
                f = f.base if f.is_Pow else f
                if all(_divides(c * m, f) for m, c in terms.items()):
                    return FloorDiv(sympy.expand(x / f), d / f)
            pulled = sympy.Add(*[c * m for m, c in terms.items() if _divides(c * m, d)])
            if pulled != 0:
                return sympy.expand(pulled / d) + FloorDiv(x - pulled, d)
        # R6/R7: 0 <= x < d proved -> 0.
        if decide_nonneg(x) is True and decide_nonneg(d - 1 - x) is True:
            return _ZERO
        return None

    def _eval_is_nonnegative(self):
        return self.args[0].is_nonnegative

    def _eval_is_negative(self):
        return self.args[0].is_negative

    def _eval_is_positive(self):
        return (self.args[0] - self.args[1]).is_nonnegative

    # --- printers (the notation lives in symcnn.present; str() and pretty() agree) --------------------
    def _sympystr(self, printer):
        return text_floordiv(printer, self)

    def _latex(self, printer):
        return latex_floordiv(printer, self)

    def _pythoncode(self, printer):
        x, d = self.args
        return f"(({printer._print(x)})//({printer._print(d)}))"

    def _numpycode(self, printer):
        x, d = self.args
        return f"{printer._module_format('numpy.floor_divide')}({printer._print(x)}, {printer._print(d)})"

    def _javascript(self, printer):
        x, d = self.args
        return f"Math.floor(({printer._print(x)})/({printer._print(d)}))"


class Gcd(sympy.Function):
    """Greatest common divisor of two positive integers (symbolic until both are numbers)."""

    nargs = 2
    is_integer = True
    is_positive = True

    @classmethod
    def eval(cls, a, b):
        if a.is_Integer and b.is_Integer:
            return sympy.Integer(math.gcd(int(a), int(b)))
        if a == 1 or b == 1:
            return _ONE
        if a == b:
            return a
        return None

    def _numpycode(self, printer):
        a, b = self.args
        return f"{printer._module_format('numpy.gcd')}({printer._print(a)}, {printer._print(b)})"

    def _pythoncode(self, printer):
        a, b = self.args
        return f"{printer._module_format('math.gcd')}({printer._print(a)}, {printer._print(b)})"


def floordiv(x, d) -> sympy.Expr:
    """``floor(x/d)`` in canonical form (see :class:`FloorDiv`)."""
    return FloorDiv(x, d)


def ceildiv(x, d) -> sympy.Expr:
    """``ceil(x/d) = floor((x + d - 1)/d)`` (R5).

    >>> from symcnn import W, S
    >>> ceildiv(W, S), pretty(ceildiv(W, S))         # stored as floor((W - 1)/S) + 1, shown as people write it
    (floor((W - 1)/S) + 1, 'ceil(W/S)')
    >>> ceildiv(224, 32), ceildiv(225, 32)
    (7, 8)
    """
    x = sympy.sympify(x)
    d = sympy.sympify(d)
    return FloorDiv(x + d - 1, d)


def mod(x, d) -> sympy.Expr:
    """``x mod d`` in ``[0, d)``, written ``x - d*floor(x/d)`` when that is shorter, else :class:`sympy.Mod`."""
    x = sympy.sympify(x)
    d = sympy.sympify(d)
    if x.is_Integer and d.is_Integer:
        return sympy.Integer(int(x) % int(d))
    if d == 1:
        return _ZERO
    return sympy.Mod(x, d)


# --- deciding comparisons (R6, R7, R12) ---------------------------------------------------------------

def _bound(expr: sympy.Expr, lower: bool) -> sympy.Expr:
    """A bound of ``expr`` in which each FloorDiv term is replaced by its lower or upper bound.

    ``floor(u/a)`` lies in ``[(u - a + 1)/a, u/a]``; for a term ``c*floor(u/a)`` the bound used depends on
    the sign of ``c``. Terms that are not linear in a FloorDiv are kept as they are.
    """
    expr = sympy.expand(expr, deep=False)
    out = []
    for term in sympy.Add.make_args(expr):
        coeff, mono = term.as_coeff_Mul()
        if isinstance(mono, FloorDiv) and coeff.is_Number:
            u, a = mono.args
            want_low = (coeff > 0) == lower
            inner = _bound(u, want_low)
            out.append(coeff * ((inner - a + 1) / a if want_low else inner / a))
        else:
            out.append(term)
    return sympy.Add(*out)


_SHIFTS: dict[sympy.Symbol, sympy.Expr] = {}


def _shifted(expr: sympy.Expr) -> sympy.Expr:
    """``expr`` with every positive integer symbol ``s`` written ``s' + 1`` (``s' >= 0``), so that SymPy's
    sign rules see ``W - 1 >= 0``."""
    repl = {}
    for s in expr.free_symbols:
        if s.is_integer and s.is_positive:
            if s not in _SHIFTS:
                _SHIFTS[s] = sympy.Dummy(f"{s.name}_0", integer=True, nonnegative=True) + 1
            repl[s] = _SHIFTS[s]
    return expr.xreplace(repl) if repl else expr


def decide_nonneg(expr) -> bool | None:
    """True if ``expr >= 0`` is proved, False if ``expr < 0`` is proved, None if undecidable.

    Uses the symbols' assumptions (sizes >= 1, paddings >= 0) and the floor-division bounds (R6).

    >>> from symcnn import W, P
    >>> decide_nonneg(W + 2 * P - 1), decide_nonneg(W - 3), decide_nonneg(-W)
    (True, None, False)
    """
    expr = sympy.sympify(expr)
    if expr.is_Number:
        return bool(expr >= 0)
    expr = _shifted(expr)
    if expr.is_nonnegative:
        return True
    if expr.is_negative:
        return False
    if expr.has(FloorDiv):
        lo = _bound(expr, lower=True)
        if lo.is_nonnegative:
            return True
        hi = _bound(expr, lower=False)
        if hi.is_negative:
            return False
    return None


def decide(rel) -> bool | None:
    """Decide a relation between integer expressions: True, False, or None when it stays symbolic.

    >>> from symcnn import W
    >>> decide(sympy.Ge(W + 1, 1)), decide(sympy.Eq(W, W + 1)), decide(sympy.Eq(W, 5))
    (True, False, None)
    """
    if rel is sympy.true or rel is True:
        return True
    if rel is sympy.false or rel is False:
        return False
    lhs, rhs = rel.lhs, rel.rhs
    diff = sympy.expand(lhs - rhs)
    if isinstance(rel, sympy.Eq):
        if diff == 0:
            return True
        if diff.is_Number:
            return False
        if decide_nonneg(diff - 1) is True or decide_nonneg(-diff - 1) is True:
            return False
        return None
    if isinstance(rel, sympy.Ne):
        eq = decide(sympy.Eq(lhs, rhs, evaluate=False))
        return None if eq is None else not eq
    if isinstance(rel, sympy.GreaterThan):
        return decide_nonneg(diff)
    if isinstance(rel, sympy.StrictGreaterThan):
        return decide_nonneg(diff - 1)
    if isinstance(rel, sympy.LessThan):
        return decide_nonneg(-diff)
    if isinstance(rel, sympy.StrictLessThan):
        return decide_nonneg(-diff - 1)
    raise TypeError(f"cannot decide {rel!r}")


def normalize(rel):
    """A relation in a canonical, readable form: ``X >= c`` with the constant on the right, and
    ``floor(u/a) >= c`` rewritten as ``u >= a*c`` (exact for integers), so that implied conditions can be
    recognised (``floor(H/16) >= 2`` becomes ``H >= 32``). Equalities keep their sides.

    >>> from symcnn import H
    >>> normalize(sympy.Ge(floordiv(H, 16) + 2, 4))
    H >= 32
    >>> normalize(sympy.Le(2 * H, 7))
    2*H <= 7
    """
    if not isinstance(rel, (sympy.GreaterThan, sympy.StrictGreaterThan, sympy.LessThan, sympy.StrictLessThan)):
        return rel
    diff = sympy.expand(rel.lhs - rel.rhs)
    if isinstance(rel, (sympy.LessThan, sympy.StrictLessThan)):
        diff = -diff
    if isinstance(rel, (sympy.StrictGreaterThan, sympy.StrictLessThan)):
        diff = diff - 1  # integers: x > 0 <=> x - 1 >= 0
    const, rest = diff.as_independent(*diff.free_symbols, as_Add=True) if diff.free_symbols else (diff, _ZERO)
    bound = -const
    while True:
        coeff, mono = rest.as_coeff_Mul()
        if isinstance(mono, FloorDiv) and coeff.is_Integer and coeff > 0 and bound.is_Integer:
            u, a = mono.args
            need = -((-int(bound)) // int(coeff))  # ceil(bound / coeff)
            rest_u = sympy.expand(u)
            c_u, rest = rest_u.as_independent(*rest_u.free_symbols, as_Add=True)
            bound = sympy.expand(a * need - c_u)
            continue
        break
    terms = sympy.Add.make_args(rest)
    pos = sympy.Add(*[t for t in terms if not t.could_extract_minus_sign()])
    neg = sympy.Add(*[-t for t in terms if t.could_extract_minus_sign()])
    if pos == 0:
        return sympy.Le(neg, -bound, evaluate=False)
    if neg == 0:
        return sympy.Ge(pos, bound, evaluate=False)
    return sympy.Ge(pos, neg + bound, evaluate=False)


def smax(*args) -> sympy.Expr:
    """``Max`` that drops the arguments proved not to be the largest; keeps ``Max`` otherwise (R12)."""
    return _extremum(args, sympy.Max, +1)


def smin(*args) -> sympy.Expr:
    """``Min`` that drops the arguments proved not to be the smallest; keeps ``Min`` otherwise (R12)."""
    return _extremum(args, sympy.Min, -1)


def _extremum(args: Iterable, func, sign: int) -> sympy.Expr:
    kept: list[sympy.Expr] = []
    for a in (sympy.sympify(a) for a in args):
        if any(decide_nonneg(sign * (k - a)) is True for k in kept):
            continue  # an earlier argument already dominates a
        kept = [k for k in kept if decide_nonneg(sign * (a - k)) is not True]
        kept.append(a)
    return kept[0] if len(kept) == 1 else func(*kept)


def as_int(expr) -> int | None:
    """The Python int value of a numeric SymPy expression, else None."""
    expr = sympy.sympify(expr)
    return int(expr) if expr.is_Integer else None
