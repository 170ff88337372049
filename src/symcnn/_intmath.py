"""Integer division for symbolic sizes, with the rewrite rules that keep closed forms compact.

SymPy's ``floor`` never collapses ``floor(floor(x/2)/2)``; CNN stacks produce exactly such nests. Like
PyTorch's ``FloorDiv`` (torch/utils/_sympy/functions.py), JAX's shape polynomials and TVM's
``rewrite_simplify``, symcnn keeps its own function class, :class:`FloorDiv`, whose constructor applies
these rules (all numerators are integers, all divisors positive integers):

* R1 ``floor(x/1) = x``; numbers evaluate;
* R2/R3 ``floor((floor(x/a) + y)/b) = floor((x + a*y)/(a*b))`` (R2 is the case y = 0);
* R4 ``floor((a*y + x)/a) = y + floor(x/a)`` (pull out exact multiples: products are expanded first and a
  term leaves the floor only when ``term/a`` is provably an integer for every value of the symbols) and
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

from ._errors import SymcnnError
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


def _expand(x: sympy.Expr) -> sympy.Expr:
    """Products of sums multiplied out (so every term of a numerator is a monomial), nothing else."""
    if x.is_Atom:
        return x
    terms = sympy.Add.make_args(x)
    if not any((t.is_Mul or t.is_Pow) and t.has(sympy.Add) for t in terms):
        return x  # nothing to multiply out: rebuilding a long sum costs a sort
    return sympy.Add(*[
        sympy.expand(t, deep=False, power_exp=False, power_base=False, log=False, multinomial=True)
        if (t.is_Mul or t.is_Pow) and t.has(sympy.Add) else t
        for t in terms
    ])


def _sympify_arg(v, what: str) -> sympy.Expr:
    """A FloorDiv argument as a SymPy integer expression; anything else is refused with SymcnnError."""
    if isinstance(v, bool) or not isinstance(v, (int, sympy.Basic)):
        raise SymcnnError(f"floordiv: the {what} must be an int or an integer SymPy expression, got {v!r}")
    e = sympy.Integer(v) if isinstance(v, int) else v
    if not isinstance(e, sympy.Expr) or e.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo) or e.is_finite is False:
        raise SymcnnError(f"floordiv: the {what} must be a finite integer expression, got {v!r}")
    if e.is_Number and not e.is_Integer:
        raise SymcnnError(f"floordiv: the {what} must be an integer, got {v!r}")
    return e


def _terms(x: sympy.Expr) -> dict[sympy.Expr, sympy.Rational]:
    """The expanded numerator as {monomial: coefficient}; the constant under key 1."""
    x = _expand(x)
    out: dict[sympy.Expr, sympy.Rational] = {}
    for term in sympy.Add.make_args(x):
        coeff, mono = term.as_coeff_Mul()
        out[mono] = out.get(mono, _ZERO) + coeff
    return {m: c for m, c in out.items() if c != 0}


def _from_terms(terms: dict[sympy.Expr, sympy.Rational]) -> sympy.Expr:
    return sympy.Add(*[c * m for m, c in terms.items()])


def _is_int_valued(e: sympy.Expr) -> bool:
    """True only when ``e`` is an integer for every value of its symbols (a product of integer factors with
    nonnegative integer exponents and an integer coefficient). Never guesses: anything else is False."""
    if e.is_Integer:
        return True
    coeff, mono = e.as_coeff_Mul()
    if not coeff.is_Integer:
        return False
    for f in sympy.Mul.make_args(mono):
        base, exp = f.as_base_exp()
        if not (exp.is_Integer and exp >= 0):
            return False
        if base.is_integer is not True:
            return False
    return True


def _divides(term: sympy.Expr, d: sympy.Expr) -> bool:
    """True when ``term / d`` is provably an integer for every value of the symbols (``term`` a monomial of
    the expanded numerator, ``d`` the divisor)."""
    return _is_int_valued(sympy.expand(term / d, deep=False))


def _poly_quotient(x: sympy.Expr, d: sympy.Expr) -> sympy.Expr | None:
    """The quotient ``Q`` of the polynomial division ``x = Q*d + R`` when it is nonzero and an integer for
    every value of the symbols (integer coefficients), else None."""
    try:
        q, _ = sympy.div(x, d)
    except (sympy.PolynomialError, sympy.GeneratorsNeeded, sympy.CoercionFailed):
        return None
    q = _expand(q)
    if q == 0 or not all(_is_int_valued(t) for t in sympy.Add.make_args(q)):
        return None
    return q


def _check_divisor(d: sympy.Expr) -> None:
    if d.is_Number:
        if not (d.is_Integer and d > 0):
            raise SymcnnError(f"floordiv: the divisor must be a positive integer, got {d}")
        return
    if not isinstance(d, sympy.Expr) or d.is_integer is False or d.is_positive is False:
        raise SymcnnError(f"floordiv: the divisor must be a positive integer, got {d}")


class FloorDiv(sympy.Function):
    """``floor(x / d)`` for an integer ``x`` and a positive integer ``d``, kept in canonical form.

    Construct through :func:`floordiv` (same thing) or :func:`ceildiv`. The constructor rewrites its
    arguments (module docstring) so that equal sizes reached by different routes compare equal. A term
    leaves the floor only when it is provably an integer multiple of the divisor for every value of the
    symbols (products are expanded first), so ``floor((S*(2 - F) + W)/(2*S))`` keeps ``-F*S`` inside.
    """

    nargs = 2
    is_integer = True
    is_finite = True

    def __new__(cls, x, d, **kwargs):
        # checked before SymPy sympifies them: a string is never parsed as an expression
        return super().__new__(cls, _sympify_arg(x, "numerator"), _sympify_arg(d, "divisor"), **kwargs)

    @classmethod
    def eval(cls, x, d):  # noqa: C901 - one rule per branch, in the order of the module docstring
        x = _sympify_arg(x, "numerator")
        d = _sympify_arg(d, "divisor")
        _check_divisor(d)
        if x.is_Number:
            if not x.is_Integer:
                raise SymcnnError(f"floordiv: the numerator must be an integer, got {x}")
            if d.is_Integer:
                return sympy.Integer(int(x) // int(d))
        if d == 1:
            return x
        if x == 0:
            return _ZERO
        terms = _terms(x)
        # R2/R3: absorb one inner floor division whose coefficient is 1 (the rest is an integer: x is).
        inner = sorted((m for m, c in terms.items() if c == 1 and isinstance(m, FloorDiv)),
                       key=sympy.default_sort_key)
        if inner:
            u, a = inner[0].args
            rest = x - inner[0]
            return FloorDiv(u + a * rest, a * d)
        if d.is_Integer:
            di = int(d)
            ints = {m: c for m, c in terms.items() if c.is_Integer and _is_int_valued(m)}
            if len(ints) == len(terms):
                # R4b: cancel a common integer factor of all coefficients and the divisor.
                g = 0
                for c in terms.values():
                    g = math.gcd(g, int(c))
                g = math.gcd(g, di)
                if g > 1:
                    return FloorDiv(_from_terms({m: c / g for m, c in terms.items()}), di // g)
            # R4: pull out exact multiples; the constant goes to [0, d), other coefficients toward zero.
            pulled, left = _ZERO, dict(terms)
            for m, c in ints.items():
                ci = int(c)
                q = ci // di if m == 1 else int(ci / di)
                if q:
                    pulled += q * m
                    left[m] = c - q * di
            if pulled != 0:  # the remainder is rebuilt from the expanded terms, never re-expanded
                return pulled + FloorDiv(_from_terms({m: c for m, c in left.items() if c != 0}), di)
        else:
            # Symbolic divisor: cancel a positive factor common to every term, then pull out exact multiples.
            for f in sympy.Mul.make_args(d):
                if f.is_Number:
                    continue
                f = f.base if f.is_Pow else f
                if f.is_positive is True and f.is_integer is True and \
                        all(_divides(c * m, f) for m, c in terms.items()):
                    return FloorDiv(_expand(x / f), _expand(d / f))
            pulled = {m: c for m, c in terms.items() if _divides(c * m, d)}
            if pulled:  # the remainder is rebuilt from the expanded terms (``x - pulled`` can keep them)
                rest = _from_terms({m: c for m, c in terms.items() if m not in pulled})
                return _expand(_from_terms(pulled) / d) + FloorDiv(rest, d)
            if d.is_Add:  # a sum as divisor: x = Q*d + R with a polynomial Q of integer coefficients
                quotient = _poly_quotient(x, d)
                if quotient is not None:
                    return quotient + FloorDiv(_expand(x - quotient * d), d)
        # R6/R7: 0 <= x < d proved -> 0; -d <= x < 0 proved -> -1.
        if decide_nonneg(x) is True and decide_nonneg(d - 1 - x) is True:
            return _ZERO
        if decide_nonneg(-x - 1) is True and decide_nonneg(x + d) is True:
            return -_ONE
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
    """⌊x/d⌋ in canonical form (see :class:`FloorDiv`)."""
    return FloorDiv(x, d)


def ceildiv(x, d) -> sympy.Expr:
    """⌈x/d⌉ = ⌊(x + d − 1)/d⌋ (R5).

    Examples:
        >>> from symcnn import W, S
        >>> ceildiv(W, S), pretty(ceildiv(W, S))         # stored as floor((W - 1)/S) + 1, shown as people write it
        (floor((W - 1)/S) + 1, 'ceil(W/S)')
        >>> ceildiv(224, 32), ceildiv(225, 32)
        (7, 8)
    """
    x = _sympify_arg(x, "numerator")
    d = _sympify_arg(d, "divisor")
    _check_divisor(d)
    return FloorDiv(x + d - 1, d)


def mod(x, d) -> sympy.Expr:
    """``x mod d`` in ``[0, d)``, written ``x - d*floor(x/d)`` when that is shorter, else :class:`sympy.Mod`."""
    x = _sympify_arg(x, "numerator")
    d = _sympify_arg(d, "divisor")
    _check_divisor(d)
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


_UNKNOWN = object()


def _min_of_monomial(m: sympy.Expr):
    """The least value of a monomial of symbols bounded below (>= 1 or >= 0) and unbounded above, or None
    when ``m`` is not such a monomial."""
    low = 1
    for f in sympy.Mul.make_args(m):
        base, exp = f.as_base_exp()
        if not (base.is_Symbol and exp.is_Integer and exp > 0):
            return None
        if base.is_positive and base.is_integer:
            continue
        if base.is_nonnegative:  # (a positive real that is not an integer: only >= 0 is known)
            low = 0
        else:
            return None
    return low


def _polynomial_sign(expr: sympy.Expr):
    """A fast, exact verdict for a polynomial in symbols that are bounded below and unbounded above:
    True/False/None as :func:`decide_nonneg`, or ``_UNKNOWN`` when the expression is not of that kind (the
    general route then decides). Each monomial is nonnegative and can grow without bound, so

    * every coefficient positive: ``expr >= const + sum(c * least(m))`` (True when that is >= 0);
    * every coefficient negative: the mirror image (False when ``const + sum(c * least(m)) < 0``);
    * both signs and every monomial a distinct single symbol (linear): the symbols are independent, so the
      sum can go to both infinities: undecidable (None).
    """
    const = _ZERO
    pos = neg = _ZERO
    has_pos = has_neg = False
    linear = True
    for term in sympy.Add.make_args(expr):
        coeff, mono = term.as_coeff_Mul()
        if mono == 1:
            const += coeff
            continue
        if not coeff.is_Rational:
            return _UNKNOWN
        low = _min_of_monomial(mono)
        if low is None:
            return _UNKNOWN
        linear = linear and mono.is_Symbol
        if not low:
            has_pos, has_neg = has_pos or coeff.is_positive, has_neg or not coeff.is_positive
        elif coeff.is_positive:  # (low is 0 or 1: skip SymPy arithmetic on long sums)
            has_pos = True
            pos += coeff
        else:
            has_neg = True
            neg += coeff
    if not has_neg:
        return True if const + pos >= 0 else _UNKNOWN
    if not has_pos:
        return False if const + neg < 0 else _UNKNOWN
    return None if linear else _UNKNOWN


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
    fast = _polynomial_sign(expr)
    if fast is not _UNKNOWN:
        return fast
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
        # Monotonicity: floor(x/a) - floor(y/a) lies in [floor((x - y)/a), floor((x - y)/a) + 1].
        lo = _pair_floors(expr, lower=True)
        if lo is not None and decide_nonneg(lo) is True:
            return True
        hi = _pair_floors(expr, lower=False)
        if hi is not None and decide_nonneg(-hi - 1) is True:
            return False
    return None


def _pair_floors(expr: sympy.Expr, lower: bool) -> sympy.Expr | None:
    """``expr`` with each pair ``c*floor(x/a) - c*floor(y/a)`` (same divisor, opposite coefficients) replaced by
    its lower bound ``c*floor((x - y)/a)`` (``lower``) or its upper bound ``c*(floor((x - y)/a) + 1)``;
    None when there is no such pair. Each replacement removes a floor, so recursion on the result ends."""
    terms = _terms(expr)
    floors = [(m, c) for m, c in terms.items() if isinstance(m, FloorDiv) and c.is_Number]
    used: set = set()
    out = dict(terms)
    changed = False
    for m1, c1 in floors:
        if c1 <= 0 or m1 in used:
            continue
        for m2, c2 in floors:
            if m2 in used or m2 == m1 or c2 != -c1 or m2.args[1] != m1.args[1]:
                continue
            used.update((m1, m2))
            del out[m1], out[m2]
            diff = FloorDiv(_expand(m1.args[0] - m2.args[0]), m1.args[1])
            out[_ONE] = out.get(_ONE, _ZERO) + (0 if lower else c1)
            out = _terms(_from_terms(out) + c1 * diff)
            changed = True
            break
    return _from_terms(out) if changed else None


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
    diff = _expand(lhs - rhs)
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
    diff = _expand(rel.lhs - rel.rhs)
    if isinstance(rel, (sympy.LessThan, sympy.StrictLessThan)):
        diff = -diff
    if isinstance(rel, (sympy.StrictGreaterThan, sympy.StrictLessThan)):
        diff = diff - 1  # integers: x > 0 <=> x - 1 >= 0
    terms = _terms(diff)
    bound = -terms.pop(_ONE, _ZERO)
    while len(terms) == 1 and bound.is_Integer:
        (mono, coeff), = terms.items()
        if not (isinstance(mono, FloorDiv) and coeff.is_Integer and coeff > 0):
            break
        u, a = mono.args
        need = -((-int(bound)) // int(coeff))  # ceil(bound / coeff)
        terms = _terms(u)
        bound = _expand(a * need - terms.pop(_ONE, _ZERO))
    pos = sympy.Add(*[c * m for m, c in terms.items() if c > 0])
    neg = sympy.Add(*[-c * m for m, c in terms.items() if not c > 0])
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
