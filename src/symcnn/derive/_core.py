"""The machinery shared by every derivation: the records, and :func:`claim`, the one declarative builder.

A derivation states its claim and the helper does the rest:

- ``facts``: what the proof establishes, each a :class:`Fact` made by :func:`identity` (the engine's
  expression equals the derived one, SymPy, all symbols symbolic), :func:`nonneg` (an inequality SymPy decides
  from the symbols' signs), :func:`residues` (a residue split over a stated range) or :func:`fact` (anything
  else, with its scope stated). The :class:`Proof` says exactly what kind of proof it is: the scopes of its
  facts, e.g. ``"symbolic, for all values; residue split over S = 1..8"``.
- ``checks``: :class:`Compare` items, each the engine (a SymPy expression built by the engine's own function,
  or a function of one point) against brute force (a function of one point) over a :class:`Grid` (integer
  axes and a constraint). The helper evaluates, counts cases and mismatches, keeps the first mismatches and
  times it: a :class:`Check`.

``verified`` is True only when every fact holds and every comparison passed on a non-empty grid.

>>> g = Grid(dict(x=range(5))).such_that(lambda p: p["x"] != 2, "x != 2")
>>> c = Compare("identity", g, sympy.Symbol("x"), lambda x: x).run()
>>> c.cases, c.mismatches, c.passed, c.grid
(4, 0, True, 'identity: x 0..4, x != 2')
>>> Compare("off by one", Grid(dict(x=range(3))), sympy.Symbol("x") + 1, lambda x: x).run().examples[0]
{'x': 0, 'engine': 1, 'brute force': 0}
"""

from __future__ import annotations

import inspect
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy
from sympy.printing.pycode import PythonCodePrinter

from .._bibliography import cite, key_of
from .._intmath import FloorDiv, decide_nonneg
from ..present import derivation_html, derivation_latex
from ..present import show as _show

__all__ = [
    "Derivation",
    "Proof",
    "Check",
    "Lemma",
    "Grid",
    "Compare",
    "Fact",
    "claim",
    "identity",
    "nonneg",
    "residues",
    "fact",
    "eq",
    "compare",
    "grid",
    "numeric",
    "to_floor",
    "residue_split",
    "same_expr",
    "SYMBOLIC",
]

#: the scope of a fact proved by SymPy with every symbol symbolic
SYMBOLIC = "symbolic, for all values"


def exhaustive(what: str) -> str:
    """The scope of a fact established by evaluating every case of a finite set."""
    return f"exhaustive check over {what}"


# --- records ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lemma:
    """One fact the proof relies on, whether it was established, and how (``scope``)."""

    text: str
    expr: object
    passed: bool
    scope: str = SYMBOLIC

    def __repr__(self) -> str:
        return f"Lemma({'ok' if self.passed else 'FAILED'}: {self.text})"


@dataclass(frozen=True)
class Proof:
    """How a result was proved.

    ``method`` says precisely what kind of proof it is (the scopes of its lemmas: ``"symbolic, for all
    values"``, ``"residue split over S = 1..8"``, ``"exhaustive check over ..."``), ``detail`` the argument in
    words, ``cases`` counts the symbolic branches, ``lemmas`` the individual facts.
    """

    method: str
    detail: str
    passed: bool
    cases: int = 0
    lemmas: tuple[Lemma, ...] = ()

    def __repr__(self) -> str:
        return f"Proof({self.method}, {'passed' if self.passed else 'FAILED'}, {self.cases} symbolic cases)"


@dataclass(frozen=True)
class Check:
    """Exhaustive comparison of the engine's formula with brute force over a grid."""

    grid: str
    cases: int
    mismatches: int
    examples: tuple[dict, ...] = ()
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.cases > 0 and self.mismatches == 0

    def __repr__(self) -> str:
        return f"Check({self.cases} cases, {self.mismatches} mismatches, grid: {self.grid})"

    def __add__(self, other: Check) -> Check:
        return Check(
            f"{self.grid}; {other.grid}",
            self.cases + other.cases,
            self.mismatches + other.mismatches,
            (self.examples + other.examples)[:5],
            self.seconds + other.seconds,
        )


# --- grids and comparisons --------------------------------------------------------------------------------


def _span(values) -> str:
    v = list(values)
    if isinstance(values, range) and values.step == 1 and v:
        return f"{v[0]}..{v[-1]}"
    if len(v) > 6 or not all(isinstance(x, (int, np.integer)) for x in v):
        return f"({len(v)} values)"
    return "{" + ", ".join(str(x) for x in v) + "}"


@dataclass(frozen=True)
class Grid:
    """The Cartesian product of ``axes`` (name -> values), kept where every constraint holds.

    A constraint is a function of the point arrays (``{name: array}``) returning a boolean array, with the
    words that state it. Names are those of the engine's symbols (``P_l``, ``OP``), so an engine expression is
    evaluated on the grid by symbol name.
    """

    axes: dict
    constraints: tuple = ()
    text: str = ""

    def such_that(self, keep: Callable[[dict], np.ndarray], words: str) -> Grid:
        """The same grid restricted to the points where ``keep`` holds (``words`` says what it is)."""
        return Grid(self.axes, (*self.constraints, (keep, words)), self.text)

    def described(self, text: str) -> Grid:
        """The same grid, described by ``text`` instead of its ranges."""
        return Grid(self.axes, self.constraints, text)

    def describe(self) -> str:
        if self.text:
            return self.text
        parts = [f"{n} {_span(v)}" for n, v in self.axes.items()]
        return ", ".join(parts + [w for _, w in self.constraints if w])

    def points(self) -> dict[str, np.ndarray]:
        """The points as one array per axis (object arrays for non-integer axes)."""
        if not all(all(isinstance(x, (int, np.integer)) for x in v) for v in self.axes.values()):
            import itertools

            rows = list(itertools.product(*self.axes.values()))
            pts = {n: np.empty(len(rows), dtype=object) for n in self.axes}
            for i, row in enumerate(rows):
                for n, x in zip(self.axes, row, strict=True):
                    pts[n][i] = x
        else:
            pts = grid(**self.axes)
        for keep, _ in self.constraints:
            mask = np.asarray(keep(pts), dtype=bool)
            pts = {k: v[mask] for k, v in pts.items()}
        return pts

    def rows(self) -> list[dict]:
        """The points as dicts of Python values."""
        pts = self.points()
        names = list(pts)
        return [dict(zip(names, vals, strict=True)) for vals in zip(*(pts[n].tolist() for n in names), strict=True)]


def _symbol_args(expr, names: Sequence[str]) -> list:
    by_name = {s.name: s for s in sympy.sympify(expr).free_symbols}
    return [by_name.get(n, sympy.Symbol(n)) for n in names]


def evaluate(fn, points: dict[str, np.ndarray], *, exact: bool = False) -> list:
    """Values of ``fn`` at every point: a SymPy expression in the axis symbols (vectorised with NumPy, or
    exactly with :class:`fractions.Fraction` when ``exact``), a function of one point (keyword arguments named
    after the axes), or a constant."""
    names = list(points)
    n = len(next(iter(points.values()))) if points else 0
    if isinstance(fn, sympy.Basic) and not isinstance(fn, sympy.logic.boolalg.BooleanAtom):
        args = _symbol_args(fn, names)
        if exact:
            f = sympy.lambdify(args, fn, [{"Fraction": Fraction, "math": math}, "math"], printer=_FractionPrinter)
            cols = [[Fraction(x) for x in points[k].tolist()] for k in names]
            return [_exact(f(*row)) for row in zip(*cols, strict=True)]
        return np.broadcast_to(np.asarray(numeric(fn, args)(*(points[k] for k in names))), (n,)).tolist()
    if callable(fn):
        cols = [points[k].tolist() for k in names]
        if _positional(fn) == names:  # the same names in the same order: call positionally (faster)
            return [fn(*row) for row in zip(*cols, strict=True)]
        return [fn(**dict(zip(names, row, strict=True))) for row in zip(*cols, strict=True)]
    return [bool(fn) if isinstance(fn, (bool, sympy.logic.boolalg.BooleanAtom)) else fn] * n


class _FractionPrinter(PythonCodePrinter):
    """Python code with exact rational constants (``Fraction(1, 3)``, not ``1/3``)."""

    def _print_Rational(self, e) -> str:
        return f"Fraction({e.p}, {e.q})"

    _print_Half = _print_Rational


def _positional(fn) -> list[str] | None:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return None
    if any(p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) or p.default is not p.empty for p in params):
        return None
    return [p.name for p in params]


def _exact(v):
    """Fractions and SymPy numbers as ints where integral, else :class:`sympy.Rational`; booleans kept."""
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, Fraction):
        return int(v) if v.denominator == 1 else sympy.Rational(v.numerator, v.denominator)
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def same_value(a, b) -> bool:
    """Equality of two values: numbers exactly (floats to 1e-9), sequences element by element."""
    if isinstance(a, (tuple, list)) or isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) or isinstance(b, float):
        return abs(float(a) - float(b)) < 1e-9
    return bool(a == b)


@dataclass(frozen=True)
class Compare:
    """One comparison of a derivation's check: ``engine`` against ``brute`` on every point of ``grid``.

    ``engine`` is built by the engine's own function (a SymPy expression in the axis symbols, so a wrong
    engine formula fails the check) or is a function of one point; ``brute`` is a function of one point
    (keyword arguments named after the axes) that counts, scatters or enumerates, never a closed form.
    """

    what: str
    grid: Grid
    engine: object
    brute: Callable[..., object]

    def run(self) -> Check:
        t0 = time.perf_counter()
        pts = self.grid.points()
        got = evaluate(self.engine, pts)
        want = evaluate(self.brute, pts)
        bad = [i for i, (a, b) in enumerate(zip(got, want, strict=True)) if not same_value(a, b)]
        names = list(pts)
        examples = tuple(
            {**{k: _py(pts[k][i]) for k in names}, "engine": _py(got[i]), "brute force": _py(want[i])}
            for i in bad[:5]
        )
        text = f"{self.what}: {self.grid.describe()}"
        return Check(text, len(want), len(bad), examples, time.perf_counter() - t0)


# --- facts (the proof) --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fact:
    """One fact of a proof, stated now and established when the derivation runs.

    ``test()`` returns ``(passed, evidence, branches)``; ``scope`` says what kind of proof it is.
    """

    text: str
    test: Callable[[], tuple]
    scope: str = SYMBOLIC

    def run(self) -> tuple[Lemma, int]:
        passed, evidence, branches = self.test()
        return Lemma(self.text, evidence, bool(passed), self.scope), branches


def identity(text: str, engine, derived) -> Fact:
    """``engine == derived`` as functions of all their symbols (SymPy, FloorDiv rewritten to floor)."""
    return Fact(text, lambda: (same_expr(engine, derived), sympy.Eq(engine, derived, evaluate=False), 1))


def nonneg(text: str, expr) -> Fact:
    """``expr >= 0`` decided by the engine's sign rules from the symbols' assumptions."""
    return Fact(text, lambda: (decide_nonneg(sympy.expand(expr)) is True, sympy.Ge(expr, 0, evaluate=False), 1))


def residues(text: str, lhs, rhs, modulus: sympy.Symbol, moduli: range, case: Callable[[int, int], dict]) -> Fact:
    """``lhs == rhs`` by a residue split over ``modulus`` in ``moduli`` (see :func:`residue_split`)."""

    def test():
        ok, n, fails = residue_split(lhs, rhs, modulus, moduli, case)
        return ok, tuple(fails), n

    return Fact(text, test, f"residue split over {modulus} = {moduli.start}..{moduli.stop - 1}")


def fact(text: str, test: Callable[[], bool], scope: str, evidence=None, branches: int = 1) -> Fact:
    """Any other fact: ``test()`` decides it; ``scope`` states honestly how."""
    return Fact(text, lambda: (test(), evidence, branches), scope)


def eq(lhs, rhs) -> sympy.Eq:
    """A displayed step ``lhs = rhs`` (never evaluated to True or False)."""
    return sympy.Eq(lhs, rhs, evaluate=False)


def _check_step(expr) -> None:
    if expr is None:
        return
    if isinstance(expr, sympy.logic.boolalg.BooleanAtom) or not isinstance(expr, (sympy.Rel, sympy.And)):
        raise TypeError(f"a step must be an equation or relation with a left-hand side, got {expr!r}")


# --- the derivation ---------------------------------------------------------------------------------------


class Derivation:
    """A derived formula that proves itself.

    Attributes:
        name: stable identifier (``"same_padding"``), used by the docs site.
        title: one-line human title.
        statement: what is claimed (words, formulas as LaTeX between ``$``).
        assumptions: ``(text, SymPy relation or None)`` pairs: the conditions of the claim.
        steps: ordered ``(explanation, equation or relation or None)`` pairs, from the definitions.
        result: the derived formula (SymPy; a dict when several quantities are derived).
        sources: citation keys of :data:`symcnn._bibliography.BIBLIOGRAPHY`, with an optional locator.
        proof: the :class:`Proof` (computed on first access; :meth:`run` recomputes).
        check: the :class:`Check` (idem).
        verified: True only if the proof and the check both passed.
    """

    def __init__(
        self,
        name: str,
        title: str,
        statement: str,
        *,
        steps: Sequence,
        result,
        sources: Sequence[str],
        argument: str,
        facts: Sequence[Fact],
        checks: Sequence[Compare],
        assumptions: Sequence = (),
    ):
        for _, expr in steps:
            _check_step(expr)
        for s in sources:
            cite(key_of(s))
        self.name = name
        self.title = title
        self.statement = statement
        self.assumptions = tuple(assumptions)
        self.steps = tuple(steps)
        self.result = result
        self.sources = tuple(sources)
        self.argument = argument
        self.facts = tuple(facts)
        self.checks = tuple(checks)
        self._proof: Proof | None = None
        self._checked: Check | None = None
        self.seconds = 0.0

    def _prove(self) -> Proof:
        done = [f.run() for f in self.facts]
        lemmas = tuple(lemma for lemma, _ in done)
        scopes = list(dict.fromkeys(lemma.scope for lemma in lemmas))
        return Proof(
            "; ".join(scopes),
            self.argument,
            bool(lemmas) and all(lemma.passed for lemma in lemmas),
            sum(n for _, n in done),
            lemmas,
        )

    def _check(self) -> Check:
        total = Check("nothing compared", 0, 0)  # not passed: a derivation needs at least one comparison
        for i, c in enumerate(self.checks):
            total = c.run() if i == 0 else total + c.run()
        return total

    def run(self) -> Derivation:
        """(Re)run the proof and the exhaustive check; returns self."""
        t0 = time.perf_counter()
        self._proof = self._prove()
        self._checked = self._check()
        self.seconds = time.perf_counter() - t0
        return self

    @property
    def proof(self) -> Proof:
        if self._proof is None:
            self.run()
        return self._proof

    @property
    def check(self) -> Check:
        if self._checked is None:
            self.run()
        return self._checked

    @property
    def verified(self) -> bool:
        return bool(self.proof.passed and self.check.passed)

    def __repr__(self) -> str:
        state = "not run" if self._proof is None else ("verified" if self.verified else "NOT VERIFIED")
        cases = "" if self._checked is None else f", {self._checked.cases} cases"
        return f"<Derivation {self.name}: {state}{cases}>"

    def to_markdown(self) -> str:
        """A Markdown page: statement, assumptions, numbered steps, result, proof and check."""
        out = [f"### {self.title}", "", self.statement, ""]
        if self.assumptions:
            out.append(
                "**Assumptions.** "
                + "; ".join(t if r is None else f"{t} (`{_show(r)}`)" for t, r in self.assumptions)
            )
            out.append("")
        for i, (text, expr) in enumerate(self.steps, 1):
            out.append(f"{i}. {text}" + ("" if expr is None else f" `{_show(expr)}`"))
        out += ["", f"**Result.** `{_show(self.result)}`", ""]
        p, c = self.proof, self.check
        out.append(f"**Proof** ({p.method}; {'passed' if p.passed else 'FAILED'}): {p.detail}")
        out.append("")
        out.append(f"**Check**: {c.cases} cases, {c.mismatches} mismatches; grid: {c.grid}.")
        out.append("")
        out.append("**Sources**: " + "; ".join(self.sources))
        return "\n".join(out)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def _repr_html_(self) -> str:
        """Jupyter: the derivation as HTML (runs the proof and the check if not run yet)."""
        return derivation_html(self)

    def _repr_latex_(self) -> str:
        """Jupyter: the derived result as display math."""
        return derivation_latex(self)



def claim(name: str, title: str, statement: str, **parts) -> Derivation:
    """Build a :class:`Derivation` from its statement and its parts (keywords): ``steps``, ``result``,
    ``sources``, the proof's ``argument`` (words) and ``facts``, the ``checks`` against brute force, and
    optional ``assumptions``. Nothing runs until the derivation is run (or its proof or check is read)."""
    return Derivation(name, title, statement, **parts)


# --- numeric helpers ---------------------------------------------------------------------------------------


def grid(**axes: Iterable[int]) -> dict[str, np.ndarray]:
    """The Cartesian product of integer ranges as flat arrays, one per name.

    >>> g = grid(a=range(2), b=range(3))
    >>> len(g["a"]), g["b"].tolist()
    (6, [0, 1, 2, 0, 1, 2])
    """
    names = list(axes)
    mesh = np.meshgrid(*[np.asarray(list(v), dtype=np.int64) for v in axes.values()], indexing="ij")
    return {n: m.ravel() for n, m in zip(names, mesh, strict=True)}


def numeric(expr, symbols: Sequence[sympy.Symbol]) -> Callable[..., np.ndarray]:
    """``expr`` (a formula returned by the engine) as a vectorised NumPy function of ``symbols``."""
    f = sympy.lambdify(tuple(symbols), expr, "numpy")

    def call(*arrays):
        n = len(arrays[0]) if arrays else 1
        out = f(*arrays)
        return np.broadcast_to(np.asarray(out), (n,)) if np.ndim(out) == 0 else np.asarray(out)

    return call


def compare(grid_text: str, points: dict[str, np.ndarray], got, want, *, labels=("engine", "brute force")) -> Check:
    """Compare two arrays of values over the grid ``points``; the first mismatches become examples.

    >>> c = compare("toy", {"x": np.arange(5)}, np.arange(5), np.arange(5))
    >>> c.cases, c.mismatches, c.passed
    (5, 0, True)
    """
    got, want = list(got), list(want)
    bad = [i for i, (a, b) in enumerate(zip(got, want, strict=True)) if not same_value(a, b)]
    examples = tuple(
        {**{k: _py(v[i]) for k, v in points.items()}, labels[0]: _py(got[i]), labels[1]: _py(want[i])}
        for i in bad[:5]
    )
    return Check(grid_text, len(want), len(bad), examples)


def _py(v):
    v = v.item() if hasattr(v, "item") else v
    return int(v) if isinstance(v, float) and v.is_integer() else v


# --- symbolic proving -------------------------------------------------------------------------------------


def to_floor(expr):
    """Rewrite :class:`FloorDiv` as SymPy ``floor`` of the expanded quotient, so SymPy can pull integer parts
    out (``floor(q + 2/3) = q`` for an integer ``q``)."""
    expr = sympy.sympify(expr)
    return expr.replace(
        lambda e: isinstance(e, FloorDiv), lambda e: sympy.floor(sympy.expand(e.args[0] / e.args[1]))
    )


def _zero(e) -> bool:
    e = sympy.expand(e)
    if e == 0:
        return True
    e = sympy.expand(sympy.piecewise_fold(e))
    return e == 0 or sympy.simplify(e) == 0


def same_expr(a, b) -> bool:
    """Whether two expressions are identical as functions (after rewriting FloorDiv to floor)."""
    return _zero(to_floor(a) - to_floor(b))


def residue_split(
    lhs, rhs, modulus: sympy.Symbol, moduli: Iterable[int], case: Callable[[int, int], dict]
) -> tuple[bool, int, list]:
    """Prove ``lhs == rhs`` by splitting on a residue: for every concrete ``modulus`` value ``s`` in
    ``moduli`` and every residue ``r = 0..s-1`` substitute ``case(s, r)`` (e.g. ``W -> s*q + r - ...`` with a
    symbolic integer ``q``) and show the difference is 0 as a polynomial identity.

    Returns ``(all passed, number of branches, failing (s, r) pairs)``.
    """
    fails, n = [], 0
    for s in moduli:
        for r in range(s):
            sub = {modulus: s, **case(s, r)}
            a = to_floor(sympy.sympify(lhs).subs(sub))
            b = to_floor(sympy.sympify(rhs).subs(sub))
            n += 1
            if not _zero(a - b):
                fails.append((s, r))
    return not fails, n, fails
