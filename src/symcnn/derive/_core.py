"""The machinery shared by every derivation: the :class:`Derivation` record, the symbolic provers and the
exhaustive numeric checker.

A derivation is built from definitions (``steps``), proved symbolically (``proof``) and checked against brute
force on a stated grid (``check``). ``verified`` is True only when both pass and the grid was not empty.

>>> import numpy as np
>>> c = compare("toy", {"x": np.arange(5)}, np.arange(5), np.arange(5))
>>> c.cases, c.mismatches, c.passed
(5, 0, True)
>>> compare("toy", {"x": np.arange(3)}, np.array([0, 1, 3]), np.arange(3)).examples
({'x': 2, 'formula': 3, 'brute force': 2},)
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import sympy

from .._intmath import FloorDiv, decide_nonneg
from ..present import derivation_html, derivation_latex
from ..present import show as _show

__all__ = [
    "Derivation",
    "Proof",
    "Check",
    "Lemma",
    "compare",
    "grid",
    "numeric",
    "to_floor",
    "residue_split",
    "nonneg_lemmas",
    "same_expr",
]


# --- records ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lemma:
    """One symbolic fact the proof relies on, with whether SymPy established it."""

    text: str
    expr: object
    passed: bool

    def __repr__(self) -> str:
        return f"Lemma({'ok' if self.passed else 'FAILED'}: {self.text})"


@dataclass(frozen=True)
class Proof:
    """How a result was proved symbolically.

    ``method`` names the technique (``"identity"``, ``"residue split"``, ``"symbolic residue"``, ...),
    ``detail`` says honestly what is symbolic and what was enumerated (which strides, which layer counts),
    ``cases`` counts the symbolic branches, ``lemmas`` the individual facts.
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


class Derivation:
    """A derived formula that proves itself.

    Attributes:
        name: stable identifier (``"same_padding"``), used by the docs site.
        title: one-line human title.
        statement: what is claimed (text).
        assumptions: ``(text, SymPy relation or None)`` pairs: the conditions of the claim.
        steps: ordered ``(explanation, SymPy expression or relation)`` pairs, from the definitions.
        result: the derived formula (SymPy; a dict when several quantities are derived).
        sources: textual references (FORMULAS.md sections and the documents they cite).
        proof: the :class:`Proof` (computed on first access; :meth:`run` recomputes).
        check: the :class:`Check` (idem).
        verified: True only if the proof and the check both passed.
    """

    def __init__(
        self,
        name: str,
        title: str,
        statement: str,
        assumptions: Sequence,
        steps: Sequence,
        result,
        sources: Sequence[str],
        prove: Callable[[], Proof],
        check: Callable[[], Check],
    ):
        self.name = name
        self.title = title
        self.statement = statement
        self.assumptions = tuple(assumptions)
        self.steps = tuple(steps)
        self.result = result
        self.sources = tuple(sources)
        self._prove = prove
        self._check = check
        self._proof: Proof | None = None
        self._checked: Check | None = None
        self.seconds = 0.0

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
            out.append(f"{i}. {text}" + ("" if expr is None else f": `{_show(expr)}`"))
        out += ["", f"**Result.** `{_show(self.result)}`", ""]
        p, c = self.proof, self.check
        out.append(f"**Proof** ({p.method}, {'passed' if p.passed else 'FAILED'}): {p.detail}")
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


# --- numeric checking -------------------------------------------------------------------------------------


def grid(**axes: Iterable[int]) -> dict[str, np.ndarray]:
    """The Cartesian product of integer ranges as flat arrays, one per name.

    >>> g = grid(a=range(2), b=range(3))
    >>> len(g["a"]), g["b"].tolist()
    (6, [0, 1, 2, 0, 1, 2])
    """
    names = list(axes)
    mesh = np.meshgrid(*[np.asarray(list(v), dtype=np.int64) for v in axes.values()], indexing="ij")
    return {n: m.ravel() for n, m in zip(names, mesh, strict=True)}


def restrict(points: dict[str, np.ndarray], keep: np.ndarray) -> dict[str, np.ndarray]:
    """The grid points where ``keep`` is True."""
    return {k: v[keep] for k, v in points.items()}


def numeric(expr, symbols: Sequence[sympy.Symbol]) -> Callable[..., np.ndarray]:
    """``expr`` (a formula returned by the engine) as a vectorised NumPy function of ``symbols``."""
    f = sympy.lambdify(tuple(symbols), expr, "numpy")

    def call(*arrays):
        n = len(arrays[0]) if arrays else 1
        out = f(*arrays)
        return np.broadcast_to(np.asarray(out), (n,)) if np.ndim(out) == 0 else np.asarray(out)

    return call


def compare(
    grid_text: str,
    points: dict[str, np.ndarray],
    got,
    want,
    *,
    t0: float | None = None,
    labels=("formula", "brute force"),
) -> Check:
    """Compare two arrays of values over the grid ``points``; the first mismatches become examples."""
    got, want = np.asarray(got), np.asarray(want)
    bad = np.flatnonzero(~np.isclose(got.astype(float), want.astype(float), rtol=0, atol=1e-9))
    examples = tuple(
        {**{k: _py(v[i]) for k, v in points.items()}, labels[0]: _py(got[i]), labels[1]: _py(want[i])}
        for i in bad[:5]
    )
    seconds = 0.0 if t0 is None else time.perf_counter() - t0
    return Check(grid_text, int(len(want)), int(len(bad)), examples, seconds)


def _py(v):
    v = v.item() if hasattr(v, "item") else v
    return int(v) if isinstance(v, float) and v.is_integer() else v


def brute_map(fn: Callable[..., object], points: dict[str, np.ndarray], names: Sequence[str]) -> np.ndarray:
    """Apply a brute-force function point by point (Python ints in, a number out)."""
    cols = [points[n].tolist() for n in names]
    return np.array([fn(*args) for args in zip(*cols, strict=True)], dtype=float)


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


def nonneg_lemmas(items: Sequence[tuple[str, object]]) -> tuple[Lemma, ...]:
    """Each ``(text, expr)`` with ``expr >= 0`` decided by the engine's sign rules (symbols' assumptions)."""
    return tuple(Lemma(text, e, decide_nonneg(sympy.expand(e)) is True) for text, e in items)


def product_points(**axes) -> list[dict]:
    """All combinations as dicts (small grids only)."""
    names = list(axes)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*axes.values())]


@dataclass
class Timer:
    start: float = field(default_factory=time.perf_counter)

    def __call__(self) -> float:
        return time.perf_counter() - self.start
