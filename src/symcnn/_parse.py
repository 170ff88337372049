"""A whitelist parser for the size expressions users type (spec files, ``--subs``, ``--stride 2*S``).

The grammar is tiny and produces SymPy objects directly; nothing typed by a user ever reaches ``eval``,
``sympify`` or ``parse_expr``::

    expr    := term (("+" | "-") term)*
    term    := unary (("*" | "/" | "//" | "%" | "mod") unary)*
    unary   := ("-" | "+") unary | power
    power   := atom ("**" unary)?          exponent: an integer 0..8
    atom    := INTEGER | NAME | FUNC "(" expr ("," expr)* ")" | "(" expr ")"
    FUNC    := floor | ceil | min | max | mod | gcd

``a // b`` and ``floor(a/b)`` are :func:`symcnn.floordiv`, ``ceil(a/b)`` is :func:`symcnn.ceildiv`,
``min``/``max`` keep only the arguments that may be extreme; ``a mod b`` is ``a % b`` (the form
:func:`symcnn.pretty` prints), ``gcd(a, b)`` of integers. The cost of what follows is bounded before it is
paid: an expression may use at most ``MAX_SYMBOLS`` distinct symbols and expand to at most ``MAX_TERMS`` terms
(estimated without expanding: the product of the factors' term counts), so ``(a0+b0)*(a1+b1)*...`` is refused
with the limit it hit instead of making every later step exponential. Names are integer symbols: the standard ones
(``W, H, L, T, F, P, S, D, C, G, K, N``) are symcnn's own objects, other names become positive integer
symbols, except names starting with ``P`` followed by digits or ``_`` (paddings), which are non-negative.

>>> from symcnn import pretty
>>> pretty(parse_expr_safe("floor((W + 2*P - F)/S) + 1"))
'floor((W + 2*P - F)/S) + 1'
>>> parse_expr_safe("2**3 * W // 4")
2*W
>>> parse_expr_safe("__import__('os')")
Traceback (most recent call last):
    ...
symcnn.SymcnnError: expression "__import__('os')": unexpected character '_' at column 1; allowed: integers, \
symbol names, + - * / // % mod ** ( ) and floor, ceil, min, max, mod, gcd
"""

from __future__ import annotations

import math
import re

import sympy

from . import _symbols
from ._errors import SymcnnError
from ._intmath import Gcd, ceildiv, floordiv, mod, smax, smin

__all__ = ["parse_expr_safe", "parse_int_or_symbol", "parse_shape_text", "split_top", "symbol_for", "MAX_LENGTH",
           "MAX_SYMBOLS", "MAX_TERMS"]

#: longest expression accepted (characters)
MAX_LENGTH = 4000
#: most distinct symbols in one expression
MAX_SYMBOLS = 16
#: most terms one expression may expand to (``(a + b)*(c + d)`` expands to 4)
MAX_TERMS = 64
_MAX_DEPTH = 60
_MAX_EXPONENT = 8
_MAX_DIGITS = 18
_ALLOWED = "integers, symbol names, + - * / // % mod ** ( ) and floor, ceil, min, max, mod, gcd"
_FUNCS = {"floor": 1, "ceil": 1, "min": None, "max": None, "mod": 2, "gcd": 2}
_TOKEN = re.compile(r"\s*(?:(?P<int>[0-9]+)|(?P<name>[A-Za-z][A-Za-z0-9_]*)|(?P<op>\*\*|//|[-+*/%(),]))")
_STANDARD = {s.name: s for s in (_symbols.W, _symbols.H, _symbols.L, _symbols.T, _symbols.F, _symbols.P,
                                 _symbols.S, _symbols.D, _symbols.C, _symbols.G, _symbols.K, _symbols.N)}
_PADDING_NAME = re.compile(r"^P(?:[0-9_].*)?$")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,30}$")


def symbol_for(name: str) -> sympy.Symbol:
    """The integer symbol a name stands for (the standard symbols are symcnn's own objects).

    >>> from symcnn import P
    >>> symbol_for("P") is P, symbol_for("P1").is_nonnegative, symbol_for("W2").is_positive
    (True, True, True)
    """
    if name in _STANDARD:
        return _STANDARD[name]
    if not _NAME.match(name) or name in _FUNCS:
        raise SymcnnError(f"symbol name {name!r} must be a letter then letters, digits or _ (at most 31), "
                          f"and not one of {', '.join(_FUNCS)}")
    return _symbols.size_symbol(name, nonnegative=bool(_PADDING_NAME.match(name)))


class _Parser:
    def __init__(self, text: str, what: str):
        self.text = text
        self.what = what
        self.tokens: list[tuple[str, str, int]] = []
        pos = 0
        while pos < len(text):
            if text[pos:].strip() == "":
                break
            m = _TOKEN.match(text, pos)
            if m is None:
                col = pos + len(text[pos:]) - len(text[pos:].lstrip()) + 1
                self.fail(f"unexpected character {text[col - 1]!r} at column {col}; allowed: {_ALLOWED}")
            kind = m.lastgroup
            self.tokens.append((kind, m.group(kind), m.start(kind) + 1))
            pos = m.end()
        self.i = 0
        self.depth = 0

    def fail(self, message: str):
        raise SymcnnError(f"{self.what} {self.text!r}: {message}")

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str, int]:
        tok = self.peek()
        if tok is None:
            self.fail("unexpected end of expression" + (f" (expected {value!r})" if value else ""))
        if value is not None and tok[1] != value:
            self.fail(f"expected {value!r} at column {tok[2]}, found {tok[1]!r}")
        self.i += 1
        return tok

    def at(self, *values: str) -> bool:
        tok = self.peek()
        return tok is not None and tok[0] == "op" and tok[1] in values

    def at_word(self, word: str) -> bool:
        tok = self.peek()
        return tok is not None and tok[0] == "name" and tok[1] == word

    def parse(self) -> sympy.Expr:
        if not self.tokens:
            self.fail("is empty")
        value = self.expr()
        tok = self.peek()
        if tok is not None:
            self.fail(f"unexpected {tok[1]!r} at column {tok[2]}")
        if isinstance(value, sympy.Basic) and not value.is_Number:
            self.check_size(value, "the expression")
        return value

    def expr(self) -> sympy.Expr:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            self.fail(f"is nested more than {_MAX_DEPTH} levels deep")
        value = self.term()
        while self.at("+", "-"):
            op = self.take()[1]
            rhs = self.term()
            value = value + rhs if op == "+" else value - rhs
        self.depth -= 1
        return value

    def term(self) -> sympy.Expr:
        value = self.unary()
        while self.at("*", "/", "//", "%") or self.at_word("mod"):
            op, col = self.take()[1:]
            rhs = self.unary()
            if op == "*":
                value = self.bounded(value * rhs, col)
                continue
            if rhs.is_positive is not True:  # P (may be 0) or W - 1 (0 at W = 1) could divide by zero
                self.fail(f"the divisor after {op!r} at column {col} must be positive for every value of its "
                          f"symbols, got {rhs}")
            if op == "/":
                value = value / rhs
            elif op == "//":
                value = self.integer_op(floordiv, value, rhs, col, op)
            else:
                value = self.integer_op(mod, value, rhs, col, op)
        return value

    def integer_op(self, fn, a, b, col, op):
        if a.is_integer is not True or b.is_integer is not True:
            self.fail(f"{op!r} at column {col} needs integer operands")
        try:
            return fn(a, b)
        except (TypeError, ValueError) as e:
            self.fail(f"{op!r} at column {col}: {e}")

    def unary(self) -> sympy.Expr:
        if self.at("-", "+"):
            op = self.take()[1]
            self.depth += 1
            if self.depth > _MAX_DEPTH:
                self.fail(f"is nested more than {_MAX_DEPTH} levels deep")
            value = self.unary()
            self.depth -= 1
            return -value if op == "-" else value
        return self.power()

    def power(self) -> sympy.Expr:
        base = self.atom()
        if self.at("**"):
            col = self.take()[2]
            self.depth += 1  # 1**1**1**... nests through unary() too
            if self.depth > _MAX_DEPTH:
                self.fail(f"is nested more than {_MAX_DEPTH} levels deep")
            exp = self.unary()
            self.depth -= 1
            if not (exp.is_Integer and 0 <= int(exp) <= _MAX_EXPONENT):
                self.fail(f"the exponent after '**' at column {col} must be an integer 0..{_MAX_EXPONENT}, got {exp}")
            if base.is_Integer and abs(int(base)) > 1 and int(exp) * len(str(abs(int(base)))) > _MAX_DIGITS * 4:
                self.fail(f"the power at column {col} is too large (more than {_MAX_DIGITS * 4} digits)")
            return self.bounded(base ** int(exp), col)
        return base

    def bounded(self, value: sympy.Expr, col: int) -> sympy.Expr:
        """Refuse a product or power whose size would explode later (``((H + 1)**8)**8``, long products)."""
        if isinstance(value, sympy.Basic) and not value.is_Number:
            for p in value.atoms(sympy.Pow):
                if p.exp.is_Integer and abs(int(p.exp)) > _MAX_EXPONENT:
                    self.fail(f"the term at column {col} has degree {int(p.exp)}; at most {_MAX_EXPONENT} is allowed")
            self.check_size(value, f"the product at column {col}")
        elif value.is_Integer and len(str(abs(int(value)))) > _MAX_DIGITS * 4:
            self.fail(f"the number at column {col} has more than {_MAX_DIGITS * 4} digits")
        return value

    def check_size(self, value: sympy.Expr, what: str) -> None:
        n = len(value.free_symbols)
        if n > MAX_SYMBOLS:
            self.fail(f"{what} uses {n} distinct symbols; at most {MAX_SYMBOLS} are allowed")
        terms = expanded_terms(value)
        if terms > MAX_TERMS:
            shown = f"more than {MAX_TERMS ** 2}" if terms > MAX_TERMS ** 2 else str(terms)
            self.fail(f"{what} expands to {shown} terms; at most {MAX_TERMS} are allowed")

    def atom(self) -> sympy.Expr:
        tok = self.take()
        kind, text, col = tok
        if kind == "int":
            if len(text) > _MAX_DIGITS:
                self.fail(f"the integer at column {col} has more than {_MAX_DIGITS} digits")
            return sympy.Integer(int(text))
        if kind == "name":
            if text in _FUNCS:
                return self.call(text, col)
            if self.at("("):
                self.fail(f"{text!r} at column {col} is not a function; functions: {', '.join(_FUNCS)}")
            if len(text) > 31:
                self.fail(f"the name at column {col} is longer than 31 characters")
            return symbol_for(text)
        if text == "(":
            value = self.expr()
            self.take(")")
            return value
        self.fail(f"unexpected {text!r} at column {col}")

    def call(self, name: str, col: int) -> sympy.Expr:
        self.take("(")
        args = [self.expr()]
        while self.at(","):
            self.take()
            args.append(self.expr())
        self.take(")")
        n = _FUNCS[name]
        if (n is not None and len(args) != n) or (n is None and len(args) < 2):
            want = f"{n} argument(s)" if n is not None else "at least 2 arguments"
            self.fail(f"{name}() at column {col} takes {want}, got {len(args)}")
        if name in ("min", "max"):
            return (smin if name == "min" else smax)(*args)
        if name == "gcd":
            if any(a.is_integer is not True for a in args) or all(a == 0 for a in args):
                self.fail(f"gcd() at column {col} needs integers, not both 0, got {args[0]}, {args[1]}")
            return Gcd(*args)
        if name == "mod":
            if args[1].is_positive is not True:
                self.fail(f"mod() at column {col}: the divisor must be positive, got {args[1]}")
            return self.integer_op(mod, args[0], args[1], col, "mod")
        num, den = sympy.fraction(sympy.together(args[0]))
        if den.is_positive is not True or num.is_integer is not True or den.is_integer is not True:
            self.fail(f"{name}() at column {col} needs an integer divided by a positive integer")
        return self.integer_op(floordiv if name == "floor" else ceildiv, num, den, col, name)


def expanded_terms(e: sympy.Basic, cap: int = MAX_TERMS ** 2) -> int:
    """How many terms ``e`` has once products of sums are multiplied out, computed without expanding (a sum
    adds, a product multiplies, ``s**n`` counts the monomials of degree ``n``); the arguments of functions
    (``floor``, ``Max``, ...) are expanded on their own, so the largest of them counts too. Capped at ``cap``.

    >>> from symcnn import H, W
    >>> expanded_terms((H + 1)*(W + 1)), expanded_terms((H + W + 1)**2), expanded_terms(H)
    (4, 6, 1)
    """
    if e.is_Atom:
        return 1
    if e.is_Add:
        return min(cap, sum(expanded_terms(a, cap) for a in e.args))
    if e.is_Mul:
        n = 1
        for a in e.args:
            n = min(cap, n * expanded_terms(a, cap))
        return n
    if e.is_Pow:
        t = expanded_terms(e.base, cap)
        k = int(e.exp) if e.exp.is_Integer and e.exp > 0 else 1
        return min(cap, math.comb(t + k - 1, k)) if t < cap else cap
    inner = max((expanded_terms(a, cap) for a in e.args), default=1)  # floor(...), Max(...): expanded inside
    return inner if inner > MAX_TERMS else 1


def split_top(text: str, seps: str) -> list[str]:
    """Split ``text`` at separator characters outside parentheses; the ``x`` of a ``max(`` call is not a
    separator (so ``3xmax(H,8)xW`` has three parts).

    >>> split_top("3xmax(H, 8)xW", "x,"), split_top("H=1, W=max(2, 3)", ",")
    (['3', 'max(H, 8)', 'W'], ['H=1', ' W=max(2, 3)'])
    """
    parts, depth, cur = [], 0, ""
    for i, ch in enumerate(text):
        depth += (ch == "(") - (ch == ")")
        if depth == 0 and ch in seps and not (ch == "x" and text[max(0, i - 2):i].lower() == "ma"
                                               and text[i + 1:].lstrip().startswith("(")):
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return parts


def parse_shape_text(text: str, what: str = "--input") -> tuple:
    """``3x224x224``, ``3xHxW`` or ``3,H,2*W`` -> a shape tuple (entries: ints or expressions); the one splitter
    of shape strings (command line and spec files).

    >>> parse_shape_text("3xHxW"), parse_shape_text("1, 2*H, max(W, 8)")
    ((3, H, W), (1, 2*H, Max(8, W)))
    """
    if not isinstance(text, str):
        raise SymcnnError(f"{what}: {text!r} is a {type(text).__name__}, not a string")
    if len(text) > MAX_LENGTH:
        raise SymcnnError(f"{what}: the shape has {len(text)} characters; at most {MAX_LENGTH} are allowed")
    parts = split_top(text, "x,×")
    if not text.strip() or any(not p.strip() for p in parts):
        raise SymcnnError(f"{what}: {text!r} must look like 3x224x224 or 3xHxW (channels first, no batch)")
    return tuple(parse_int_or_symbol(p.strip(), what) for p in parts)


def parse_expr_safe(text: str, what: str = "expression") -> sympy.Expr:
    """Parse ``text`` with the whitelist grammar (module docstring) into a SymPy expression.

    Raises:
        SymcnnError: naming ``what``, the text, the column and what is allowed.

    >>> parse_expr_safe("max(W - 3, 1) + ceil(H/2)", what="--input")
    ceil(H/2) + Max(1, W - 3)
    >>> parse_expr_safe("W**9")
    Traceback (most recent call last):
        ...
    symcnn.SymcnnError: expression 'W**9': the exponent after '**' at column 2 must be an integer 0..8, got 9
    """
    if not isinstance(text, str):
        raise SymcnnError(f"{what}: {text!r} is a {type(text).__name__}, not a string")
    if len(text) > MAX_LENGTH:
        raise SymcnnError(f"{what}: the expression has {len(text)} characters; at most {MAX_LENGTH} are allowed")
    return _Parser(text, what).parse()


def parse_int_or_symbol(text: str, what: str):
    """An int when the expression is a number, else the SymPy expression.

    >>> parse_int_or_symbol("2*3", "--stride"), parse_int_or_symbol("S", "--stride")
    (6, S)
    """
    value = parse_expr_safe(text, what)
    return int(value) if value.is_Integer else value
