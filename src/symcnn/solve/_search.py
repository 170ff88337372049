"""Numeric search of a box of candidate values: vectorised evaluation, exact re-check of every hit."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import reduce

import numpy as np
import sympy

from .._errors import SymcnnError
from .._intmath import FloorDiv, decide

_MAX_GRID = 20_000_000
_MAX_GRID_BIG = 200_000  # candidates searched with Python integers (values beyond int64)
_MAX_SOLUTIONS = 2_000_000  # solutions listed (an int64 row each, dicts made on access)
_CHUNK = 1_000_000
_VERIFY_LIMIT = 2_000
_NEAREST = 5  # nearest feasible outputs reported when there is no solution

_VMAX = sympy.Function("_vmax")
_VMIN = sympy.Function("_vmin")
_NUMPY = {"_vmax": lambda *a: reduce(np.maximum, a), "_vmin": lambda *a: reduce(np.minimum, a)}


_INT64_SAFE = 2**62  # below this every int64 operation of the evaluation is exact


def _magnitude(expr, bound: int):
    """An upper bound of ``|value|`` of ``expr`` and of every intermediate result when every symbol is at most
    ``bound`` in absolute value (``math.inf`` when the expression is of a kind not analysed here)."""
    if expr is sympy.true or expr is sympy.false or isinstance(expr, bool):
        return 1
    if expr.is_Integer:
        return abs(int(expr))
    if expr.is_Rational:
        return max(abs(int(expr.p)), int(expr.q))
    if expr.is_Symbol:
        return bound
    if expr.is_Mul:
        return math.prod(_magnitude(a, bound) for a in expr.args)
    if expr.is_Pow and expr.exp.is_Integer and expr.exp > 0:
        return _magnitude(expr.base, bound) ** int(expr.exp)
    if isinstance(expr, (sympy.Add, sympy.Max, sympy.Min, sympy.Mod, FloorDiv, sympy.Rel, sympy.And, sympy.Or)):
        return sum(_magnitude(a, bound) for a in expr.args) + 1
    return math.inf


def _numeric(exprs, symbols):
    """A NumPy function of ``symbols`` returning one array per expression (broadcast to the inputs).

    Exact at any size: int64 arrays when every intermediate value provably fits (:func:`_magnitude`), Python
    integers in object arrays otherwise (slower, never wrapped)."""
    exprs = [sympy.sympify(e) for e in exprs]
    numpy_exprs = [e.replace(sympy.Max, _VMAX).replace(sympy.Min, _VMIN) for e in exprs]
    fn = sympy.lambdify(list(symbols), numpy_exprs, modules=[_NUMPY, "numpy"])

    def call(*values):
        values = [np.asarray(v) for v in values]
        bound = max((max(abs(int(v.min())), abs(int(v.max()))) for v in values if v.size), default=0)
        small = max((_magnitude(e, bound) for e in exprs), default=0) < _INT64_SAFE
        values = [v.astype(np.int64 if small else object) for v in values]
        shape = np.broadcast_shapes(*(v.shape for v in values)) if values else ()
        try:
            with np.errstate(divide="ignore", invalid="ignore"):
                out = fn(*values)
        except OverflowError:  # a float-scaled size (floor(W*s) in double, as PyTorch) beyond int64
            raise SymcnnError(
                f"sizes up to {bound} overflow a size computed in double precision (an upsampling by a non-dyadic"
                " scale, evaluated as PyTorch does, in int64): keep the sizes below 2**53"
            ) from None
        return [np.broadcast_to(np.asarray(o), shape) for o in out]

    return call


def _check_exact(relations, point: Mapping) -> bool:
    """Exact re-check of relations at a point (SymPy, no floating point)."""
    m = {k: sympy.Integer(v) for k, v in point.items()}
    return all(decide(r.xreplace(m)) is True for r in relations)


def _grid(rng, unknowns, big: bool):
    sizes = [hi - lo + 1 for lo, hi in (rng[u] for u in unknowns)]
    total = math.prod(sizes)
    limit = _MAX_GRID_BIG if big else _MAX_GRID
    if total > limit:
        desc = ", ".join(f"{u}: {rng[u]}" for u in unknowns)
        why = " (values beyond 2**62 are searched with exact Python integers, slower)" if big else ""
        raise SymcnnError(
            f"solve: `bounds` span {total:,} candidates ({desc}); narrow them to at most {limit:,}{why}"
        )
    return total, sizes


def _points(rng, unknowns, start, stop, sizes, big: bool):
    idx = np.arange(start, stop, dtype=np.int64)
    if big:
        idx = idx.astype(object)
    cols = []
    for u, n in zip(reversed(unknowns), reversed(sizes), strict=True):
        cols.append(rng[u][0] + idx % n)
        idx = idx // n
    return cols[::-1]


def _enumerate(constraints, unknowns, rng, analysis, target):
    """Vectorised search of the box ``rng``; exact re-check of every solution."""
    relations = [c.relation for c in constraints]
    if any(hi < lo for lo, hi in rng.values()):
        return [], [], "the closed form is empty"
    bound = max((abs(v) for r in rng.values() for v in r), default=0)
    big = max((_magnitude(sympy.sympify(e), bound) for e in [*relations, *analysis.output_shape]), default=0)
    big = big >= _INT64_SAFE
    total, sizes = _grid(rng, unknowns, big)
    fn = _numeric(relations, unknowns) if relations else None
    out_exprs = [o for o, t in zip(analysis.output_shape, target, strict=True) if t is not None]
    out_fn = _numeric(out_exprs, unknowns)
    conds_only = [i for i, c in enumerate(constraints) if not c.label.startswith("output ")]
    eqs_only = [i for i in range(len(constraints)) if i not in conds_only]
    blocked: tuple | None = None  # (point, failing labels) where the output matches but a condition fails
    want = [int(t) if t.is_Integer else 0 for t in target if t is not None]
    hits = []  # one (hits, len(unknowns)) array per chunk, in grid order (lexicographic: sorted)
    n_hits = 0
    ever = np.zeros(len(relations), dtype=bool)
    feasible_outputs: dict[tuple, dict] = {}
    for start in range(0, total, _CHUNK):
        cols = _points(rng, unknowns, start, min(total, start + _CHUNK), sizes, big)
        n = len(cols[0]) if cols else 1
        if fn is None:
            ok = np.ones(n, dtype=bool)
        else:
            vals = [np.broadcast_to(v, (n,)).astype(bool) for v in fn(*cols)]
            for i, v in enumerate(vals):
                ever[i] |= v.any()
            ok = np.logical_and.reduce(vals) if vals else np.ones(n, dtype=bool)
            valid = np.logical_and.reduce([vals[i] for i in conds_only]) if conds_only else np.ones(n, bool)
            if blocked is None and eqs_only and not ok.any():
                match = np.flatnonzero(np.logical_and.reduce([vals[i] for i in eqs_only]))
                if len(match):
                    j = match[0]
                    blocked = (
                        {u: int(c[j]) for u, c in zip(unknowns, cols, strict=True)},
                        [constraints[i].label for i in conds_only if not vals[i][j]],
                    )
            if not ok.any() and valid.any() and out_exprs:  # the outputs reachable here nearest the target
                outs = [np.broadcast_to(v, (n,)) for v in out_fn(*cols)]
                where = np.flatnonzero(valid)
                keys = np.stack([o[where] for o in outs], axis=1)
                dist = np.abs(keys - np.asarray(want, dtype=keys.dtype)).sum(axis=1)
                cut = np.unique(dist)[:_NEAREST][-1]  # the 5th smallest distance of this chunk
                for j in np.flatnonzero(dist <= cut)[:10_000]:  # grid order: first point of each output
                    key = tuple(int(x) for x in keys[j])
                    feasible_outputs.setdefault(
                        key, {u: int(c[where[j]]) for u, c in zip(unknowns, cols, strict=True)}
                    )
        where = np.flatnonzero(ok)
        n_hits += len(where)
        if n_hits > _MAX_SOLUTIONS:
            raise SymcnnError(
                f"solve: more than {_MAX_SOLUTIONS:,} solutions within the bounds (searched "
                f"{min(total, start + _CHUNK):,} of {total:,} candidates); at most {_MAX_SOLUTIONS:,} are listed:"
                " narrow `bounds`, fix more of the target, or read the closed form with a symbolic target"
            )
        block = np.empty((len(where), len(unknowns)), dtype=object if big else np.int64)
        for k, c in enumerate(cols):
            block[:, k] = np.broadcast_to(c, (n,))[where]
        hits.append(block)
    hits = Rows(unknowns, np.concatenate(hits) if hits else np.empty((0, len(unknowns)), np.int64))
    for h in hits[:_VERIFY_LIMIT]:
        if not _check_exact(relations, h):  # pragma: no cover - numeric and exact evaluation disagree
            raise SymcnnError(f"solve: internal error, candidate {h} failed the exact re-check")
    reason = None
    nearest = []
    if not hits:
        never = [c.label for c, e in zip(constraints, ever, strict=True) if not e]
        bounds = ", ".join(f"{rng[u][0]} <= {u} <= {rng[u][1]}" for u in unknowns)
        if never:
            reason = "; ".join(never) + f" never holds for {bounds}"
        elif blocked is not None:
            point = ", ".join(f"{k}={v}" for k, v in blocked[0].items())
            reason = (
                f"the output matches first at {point}, but there "
                + "; ".join(blocked[1])
                + f" (and no point of {bounds} satisfies everything)"
            )
        else:
            reason = f"each constraint holds somewhere in {bounds}, but never all at once"
        ranked = sorted(
            feasible_outputs.items(),
            key=lambda kv: (sum(abs(a - b) for a, b in zip(kv[0], want, strict=True)), kv[0]),
        )
        full = []
        for key, point in ranked[:_NEAREST]:
            it = iter(key)
            full.append((tuple(next(it) if t is not None else "*" for t in target), point))
        nearest = full
    return hits, nearest, reason


class Rows(Sequence):
    """The solutions as a read-only sequence of ``{symbol: int}`` dicts, stored as one integer array."""

    def __init__(self, unknowns, array: np.ndarray):
        self.unknowns = tuple(unknowns)
        self.array = array

    def __len__(self) -> int:
        return len(self.array)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self._row(j) for j in range(*i.indices(len(self)))]
        return self._row(range(len(self))[i])

    def _row(self, j: int) -> dict:
        return {u: int(v) for u, v in zip(self.unknowns, self.array[j], strict=True)}

    def __eq__(self, other) -> bool:
        return list(self) == list(other) if isinstance(other, (Sequence, list)) else NotImplemented

    def __repr__(self) -> str:
        return repr(self[:20])[:-1] + (", ...]" if len(self) > 20 else "]")
