"""How an expression reads: one printer class per target (text, LaTeX), ``fmt`` for values and ``number``.

Like :mod:`sympy.printing`, each target is a printer class with one ``_print_<Class>`` method per kind of
expression. symcnn's own classes (``FloorDiv``, ``ScaledFloor``, ``Gcd``) are recognised by their class name,
so this module needs nothing from the engine; those methods also take precedence over the classes' own
``_sympystr``/``_latex`` hooks (which delegate here, so ``str()`` and :func:`pretty` agree).

Display order of a sum: positive terms before negative ones, input sizes first, constants last.

>>> from symcnn import W, P, F, S, floordiv
>>> pretty(floordiv(W + 2 * P - F, S) + 1)
'floor((W + 2*P - F)/S) + 1'
>>> number(1234567), fmt((3,))
('1,234,567', '(3,)')
"""

from __future__ import annotations

import functools
import numbers
import re
from fractions import Fraction

import sympy
from sympy.printing.latex import LatexPrinter as _SympyLatexPrinter
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.str import StrPrinter as _SympyStrPrinter

from .._errors import SymcnnError

__all__ = ["TextPrinter", "LatexPrinter", "pretty", "latex", "fmt", "number", "text_floordiv", "latex_floordiv"]


# --- display order of a sum ---------------------------------------------------------------------------------

_SIZE_NAME = re.compile(r"^[WHLTN](_?\w*)?$")


@functools.lru_cache(maxsize=8192)
def _term_key(term: sympy.Expr):
    """Sort key of one term of a sum (cached: a deep network prints the same long sums many times)."""
    coeff, mono = term.as_coeff_Mul()
    if mono == 1:
        return (2, 0, "")
    is_size = any(_SIZE_NAME.match(s.name if isinstance(s, sympy.Symbol) else str(s)) for s in mono.free_symbols)
    return (1 if coeff.is_negative else 0, 0 if is_size else 1, sympy.default_sort_key(mono))


def _ordered(expr: sympy.Add) -> list[sympy.Expr]:
    """Display order: positive terms before negative ones, input sizes first, constants last."""
    return sorted(sympy.Add.make_args(expr), key=_term_key)


# --- floor and ceil division (FloorDiv, by class name) ------------------------------------------------------

def _ceil_numerator(x: sympy.Expr, d: sympy.Expr) -> sympy.Expr | None:
    """``y`` when ``floor(x/d)`` is ``ceil(y/d)`` written as ``floor((y + d - 1)/d)``, else None."""
    y = sympy.expand(x - d + 1)
    if y != 0 and len(sympy.Add.make_args(y)) < len(sympy.Add.make_args(x)):
        return y
    return None


def _ceil_sum(expr) -> tuple | None:
    """``(term, y, d)`` when the sum ``expr`` holds ``term = floor((y - 1)/d)`` and a constant >= 1, with ``y`` a
    single term: ``floor((y - 1)/d) + 1`` is ``ceil(y/d)`` (SAME: ``floor((W - 1)/S) + 1`` reads ``ceil(W/S)``).
    With a numeric divisor the engine already keeps the ceiling form inside the FloorDiv."""
    if not isinstance(expr, sympy.Add):
        return None
    floors = [t for t in expr.args if type(t).__name__ == "FloorDiv"]
    if not floors:
        return None
    const = sum((t for t in expr.args if t.is_Number), sympy.Integer(0))
    if not (const.is_Integer and const >= 1):
        return None
    for t in sorted(floors, key=_term_key):  # the display order of the floors (as in _ordered)
        y = sympy.expand(t.args[0] + 1)
        # a sum y too when a constant is left over: floor((W - F - 1)/S) + 2 reads ceil((W - F)/S) + 1
        if y != 0 and (len(sympy.Add.make_args(y)) == 1 or const >= 2):
            return t, y, t.args[1]
    return None


def _collapses(expr) -> bool:
    """True for a sum that prints as one ``ceil(...)`` (it needs no parentheses as a factor)."""
    if not (isinstance(expr, sympy.Add) and len(expr.args) == 2 and sympy.Integer(1) in expr.args):
        return False
    return _ceil_sum(expr) is not None


def _paren(printer, e: sympy.Expr) -> str:
    s = printer._print(e)
    simple = e.is_Atom or isinstance(e, sympy.Function) or (isinstance(printer, _Symcnn) and _collapses(e))
    return s if simple else f"({s})"


def _text_div(printer, num, d, ceil: bool) -> str:
    if printer._settings.get("unicode"):  # inside the brackets a product needs no parentheses: ⌊H·W/4⌋
        body = f"{printer.parenthesize(num, PRECEDENCE['Mul'], strict=True)}/{_paren(printer, d)}"
        return f"⌈{body}⌉" if ceil else f"⌊{body}⌋"
    return f"{'ceil' if ceil else 'floor'}({_paren(printer, num)}/{_paren(printer, d)})"


def _latex_div(printer, num, d, ceil: bool) -> str:
    left, right = (r"\left\lceil ", r" \right\rceil") if ceil else (r"\left\lfloor ", r" \right\rfloor")
    return f"{left}\\frac{{{printer._print(num)}}}{{{printer._print(d)}}}{right}"


def text_floordiv(printer, expr) -> str:
    """``floor(x/d)`` or ``ceil(y/d)`` for a ``FloorDiv(x, d)``, sub-expressions printed by ``printer``
    (``⌊x/d⌋``, ``⌈y/d⌉`` when its ``unicode`` setting is on)."""
    x, d = expr.args
    y = _ceil_numerator(x, d)
    return _text_div(printer, x if y is None else y, d, y is not None)


def latex_floordiv(printer, expr) -> str:
    r"""``\left\lfloor \frac{x}{d} \right\rfloor`` (or the ceiling form) for a ``FloorDiv(x, d)``."""
    x, d = expr.args
    y = _ceil_numerator(x, d)
    return _latex_div(printer, x if y is None else y, d, y is not None)


# --- the printers -----------------------------------------------------------------------------------------

class _Symcnn:
    """Shared by both printers: settings checked against :attr:`_settings_allowed`, dispatch by class name
    before the objects' own hooks, sums in display order."""

    #: the settings a user may pass: name -> (default, allowed values, description)
    _settings_allowed: dict = {}

    def __init__(self, settings=None):
        settings = dict(settings or {})
        for key, value in settings.items():
            if key not in self._settings_allowed:
                allowed = ", ".join(self._settings_allowed) or "none"
                raise SymcnnError(f"{type(self).__name__}: unknown setting `{key}`={value!r}; allowed settings: "
                                  f"{allowed}")
            _default, values, what = self._settings_allowed[key]
            if not any(value is v or (type(value) is type(v) and value == v) for v in values):
                raise SymcnnError(f"{type(self).__name__}: setting `{key}`={value!r} must be {what}")
        super().__init__(settings)

    def _print(self, expr, **kwargs) -> str:
        method = getattr(self, "_print_" + type(expr).__name__, None)
        if method is not None and type(expr).__name__ in self._by_name:
            self._print_level += 1
            try:
                return method(expr, **kwargs)
            finally:
                self._print_level -= 1
        return super()._print(expr, **kwargs)

    #: symcnn's classes, printed here even when they carry their own ``_sympystr``/``_latex``
    _by_name = frozenset({"FloorDiv", "ScaledFloor", "Gcd"})
    _minus = "-"

    def _print_Add(self, expr, order=None):
        ceil = _ceil_sum(expr)
        parts = []
        for t in _ordered(expr):
            if ceil is not None and t is ceil[0]:
                parts.append(self._ceil(ceil[1], ceil[2]))
            elif ceil is not None and t.is_Number:
                if t != 1:
                    parts.append(self._print(t - 1))
            else:
                parts.append(self._print(t))
        out = parts[0]
        for s in parts[1:]:
            out += f" {self._minus} {s[1:].lstrip()}" if s[:1] in "-−" else f" + {s}"
        return out

    def parenthesize(self, item, level, *args, **kwargs):
        if _collapses(item):
            return self._print(item)
        return super().parenthesize(item, level, *args, **kwargs)

    def _print_Mod(self, expr, exp=None):
        a, b = expr.args  # the right operand is parenthesised when it is a product: a mod (b*c)
        return (f"{self.parenthesize(a, PRECEDENCE['Mul'], strict=True)} {self._mod} "
                f"{self.parenthesize(b, PRECEDENCE['Mul'], strict=False)}")


#: printed products, by (printer class, product, settings); cleared when full
_MUL_TEXT: dict = {}
_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_RELATION = {"==": "=", ">=": "≥", "<=": "≤", "!=": "≠", ">": ">", "<": "<"}


class TextPrinter(_Symcnn, _SympyStrPrinter):
    """Plain-text notation (what :func:`pretty` returns): ``floor(x/d)``, ``ceil(x/d)``, ``gcd(a, b)``,
    ``max(a, b)``, ``min(a, b)``, ``a mod b``, in a form the whitelist parser reads back.

    Setting ``unicode=True`` writes it as people do on paper: ``⌊(H + 2P − F)/S⌋ + 1``, ``⌈W/32⌉``, ``C·F²``.
    """

    _settings_allowed = {"unicode": (False, (False, True), "True or False")}
    _default_settings = {**_SympyStrPrinter._default_settings, "unicode": False}
    _mod = "mod"

    def __init__(self, settings=None):
        super().__init__(settings)
        if self._settings["unicode"]:
            self._minus = "−"

    def _print_FloorDiv(self, expr):
        return text_floordiv(self, expr)

    def _ceil(self, y, d) -> str:
        return _text_div(self, y, d, ceil=True)

    def _print_ScaledFloor(self, expr):
        w, s = expr.args
        if self._settings["unicode"]:
            return f"⌊{float(s)!r}·{self.parenthesize(w, PRECEDENCE['Mul'])}⌋"
        return f"floor({float(s)!r}*{self._print(w)})"

    def _call(self, name: str, args) -> str:
        return f"{name}({', '.join(self._print(a) for a in args)})"

    def _print_Gcd(self, expr):
        return self._call("gcd", expr.args)

    def _print_Max(self, expr):
        return self._call("max", expr.args)

    def _print_Min(self, expr):
        return self._call("min", expr.args)

    # --- unicode only: minus sign, middle dot, superscript powers, relation signs -----------------------
    def _signed(self, text: str) -> str:
        return "−" + text[1:] if self._settings["unicode"] and text.startswith("-") else text

    def _print_Integer(self, expr):
        return self._signed(super()._print_Integer(expr))

    def _print_Rational(self, expr):
        return self._signed(super()._print_Rational(expr))

    def _print_Mul(self, expr):
        try:  # a product prints the same under the same settings: deep networks repeat terms like 2*P_i
            key = (type(self), expr, tuple(sorted(self._settings.items())))
            hash(key)
        except TypeError:
            return self._print_Mul_uncached(expr)
        text = _MUL_TEXT.get(key)
        if text is None:
            if len(_MUL_TEXT) >= 8192:
                _MUL_TEXT.clear()
            text = _MUL_TEXT[key] = self._print_Mul_uncached(expr)
        return text

    def _print_Mul_uncached(self, expr):
        text = super()._print_Mul(expr)
        if not self._settings["unicode"]:
            return text
        text = re.sub(r"(?<!\*)\*(?!\*)", "·", self._signed(text))
        return re.sub(r"^(−?[0-9]+)·(?=[A-Za-z(⌊⌈])", r"\1", text)  # 2·P -> 2P

    def _print_Pow(self, expr, rational=False):
        b, e = expr.args
        if self._settings["unicode"] and e.is_Integer and int(e) >= 2:
            return self.parenthesize(b, PRECEDENCE["Pow"], strict=False) + str(int(e)).translate(_SUPERSCRIPT)
        return super()._print_Pow(expr, rational=rational)

    def _print_Relational(self, expr):
        if not self._settings["unicode"]:
            return super()._print_Relational(expr)
        return f"{self._print(expr.lhs)} {_RELATION[expr.rel_op]} {self._print(expr.rhs)}"


class LatexPrinter(_Symcnn, _SympyLatexPrinter):
    r"""LaTeX notation (what :func:`latex` returns), same display order as :class:`TextPrinter`:
    ``\left\lfloor \frac{x}{d} \right\rfloor``, ``\gcd``, ``\max``, ``\min``, ``a \bmod b``.

    Setting ``mul_symbol`` (``None``, ``"dot"``, ``"ldot"``, ``"times"``) is SymPy's.
    """

    _settings_allowed = {"mul_symbol": (None, (None, "dot", "ldot", "times"), 'None, "dot", "ldot" or "times"')}
    _default_settings = {**_SympyLatexPrinter._default_settings}
    _mod = r"\bmod"

    def _call(self, name: str, args, exp=None) -> str:  # arguments in SymPy's LaTeX order
        args = sorted(args, key=sympy.default_sort_key)
        tex = f"{name}\\left({', '.join(self._print(a) for a in args)}\\right)"
        return tex if exp is None else f"{tex}^{{{exp}}}"

    def _print_Gcd(self, expr, exp=None):
        return self._call(r"\gcd", expr.args, exp)

    def _print_Max(self, expr, exp=None):
        return self._call(r"\max", expr.args, exp)

    def _print_Min(self, expr, exp=None):
        return self._call(r"\min", expr.args, exp)

    def _print_Mod(self, expr, exp=None):
        text = super()._print_Mod(expr)
        return text if exp is None else f"\\left({text}\\right)^{{{exp}}}"

    def _print_FloorDiv(self, expr, exp=None):
        tex = latex_floordiv(self, expr)
        return tex if exp is None else f"{tex}^{{{exp}}}"

    def _ceil(self, y, d) -> str:
        return _latex_div(self, y, d, ceil=True)

    def _needs_mul_brackets(self, expr, first=False, last=False) -> bool:
        return not _collapses(expr) and super()._needs_mul_brackets(expr, first=first, last=last)

    def _print_ScaledFloor(self, expr, exp=None):
        w, s = expr.args
        tex = rf"\left\lfloor {float(s)!r} \cdot {self._print(w)} \right\rfloor"
        return tex if exp is None else f"{tex}^{{{exp}}}"


def _printable(expr, func: str):
    """``expr`` as a SymPy object (tuples and lists elementwise); text is refused, never parsed."""
    if isinstance(expr, (tuple, list)):
        return sympy.Tuple(*(_printable(e, func) for e in expr))
    if isinstance(expr, (str, bytes, bytearray)):  # never parsed: user text is not evaluated
        raise SymcnnError(f"{func}: `expr`={expr!r} is text; give a SymPy expression or a number")
    try:
        return sympy.sympify(expr, strict=True)
    except (sympy.SympifyError, TypeError, ValueError):
        raise SymcnnError(f"{func}: `expr`={expr!r} is a {type(expr).__name__}; give a SymPy expression or a "
                          "number") from None


def pretty(expr, **settings) -> str:
    """The display form of an expression: sizes first, then positive terms, negatives, constants.

    Examples:
        >>> from symcnn import W, P, F, S, floordiv
        >>> pretty(floordiv(W + 2 * P - F, S) + 1)
        'floor((W + 2*P - F)/S) + 1'
    """
    return TextPrinter(settings).doprint(_printable(expr, "pretty"))


def latex(expr, **settings) -> str:
    r"""LaTeX in the same display order as :func:`pretty`.

    Examples:
        >>> from symcnn import W, P, F, S, floordiv
        >>> latex(floordiv(W + 2 * P - F, S) + 1)
        '\\left\\lfloor \\frac{W + 2 P - F}{S} \\right\\rfloor + 1'
    """
    return LatexPrinter(settings).doprint(_printable(expr, "latex"))


# --- values -----------------------------------------------------------------------------------------------

def fmt(value) -> str:
    """A value as shown in messages and reprs (display order of :func:`pretty`); a 1-tuple reads ``(3,)``."""
    if isinstance(value, tuple):
        inner = ", ".join(fmt(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, sympy.Basic):
        return pretty(value)
    return repr(value)


def _grouped(n: int) -> str:
    return f"{n:,}"


def number(n) -> str:
    """An exact number for people: integers with thousands separators, rationals as ``p/q``, never a float.

    >>> number(138357544), number(-1000), number(sympy.Rational(-1, 3)), number(Fraction(12345, 2))
    ('138,357,544', '-1,000', '-1/3', '12,345/2')
    """
    if isinstance(n, bool) or isinstance(n, float):
        raise SymcnnError(f"number: {n!r} is a {type(n).__name__}; expected an exact integer or rational "
                          "(int, fractions.Fraction or a SymPy Integer/Rational)")
    if isinstance(n, sympy.Basic):
        if not n.is_Rational:
            raise SymcnnError(f"number: {n} is not an exact integer or rational")
        n = Fraction(int(n.p), int(n.q))
    elif isinstance(n, numbers.Integral):
        n = int(n)
    elif isinstance(n, numbers.Rational):
        n = Fraction(int(n.numerator), int(n.denominator))
    else:
        raise SymcnnError(f"number: {n!r} is a {type(n).__name__}; expected an exact integer or rational "
                          "(int, fractions.Fraction or a SymPy Integer/Rational)")
    if isinstance(n, Fraction):
        if n.denominator == 1:
            return _grouped(n.numerator)
        return f"{_grouped(n.numerator)}/{_grouped(n.denominator)}"
    return _grouped(n)
