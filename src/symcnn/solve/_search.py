"""Numeric search of a box of candidate values: vectorised evaluation, exact re-check of every hit."""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import reduce

import numpy as np
import sympy

from .._errors import SymcnnError
from .._intmath import decide

_MAX_GRID = 20_000_000
_CHUNK = 1_000_000
_VERIFY_LIMIT = 2_000

_VMAX = sympy.Function("_vmax")
_VMIN = sympy.Function("_vmin")
_NUMPY = {"_vmax": lambda *a: reduce(np.maximum, a), "_vmin": lambda *a: reduce(np.minimum, a)}


def _numeric(exprs, symbols):
    """A NumPy function of ``symbols`` returning one array per expression (broadcast to the inputs)."""
    exprs = [sympy.sympify(e).replace(sympy.Max, _VMAX).replace(sympy.Min, _VMIN) for e in exprs]
    fn = sympy.lambdify(list(symbols), exprs, modules=[_NUMPY, "numpy"])

    def call(*values):
        values = [np.asarray(v, dtype=np.int64) for v in values]
        shape = np.broadcast_shapes(*(v.shape for v in values)) if values else ()
        with np.errstate(divide="ignore", invalid="ignore"):
            out = fn(*values)
        return [np.broadcast_to(np.asarray(o), shape) for o in out]

    return call


def _check_exact(relations, point: Mapping) -> bool:
    """Exact re-check of relations at a point (SymPy, no floating point)."""
    m = {k: sympy.Integer(v) for k, v in point.items()}
    return all(decide(r.xreplace(m)) is True for r in relations)


def _grid(rng, unknowns):
    sizes = [hi - lo + 1 for lo, hi in (rng[u] for u in unknowns)]
    total = math.prod(sizes)
    if total > _MAX_GRID:
        desc = ", ".join(f"{u}: {rng[u]}" for u in unknowns)
        raise SymcnnError(
            f"solve: `bounds` span {total:,} candidates ({desc}); narrow them to at most {_MAX_GRID:,}"
        )
    return total, sizes


def _points(rng, unknowns, start, stop, sizes):
    idx = np.arange(start, stop, dtype=np.int64)
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
    total, sizes = _grid(rng, unknowns)
    fn = _numeric(relations, unknowns) if relations else None
    out_exprs = [o for o, t in zip(analysis.output_shape, target, strict=True) if t is not None]
    out_fn = _numeric(out_exprs, unknowns)
    conds_only = [i for i, c in enumerate(constraints) if not c.label.startswith("output ")]
    eqs_only = [i for i in range(len(constraints)) if i not in conds_only]
    blocked: tuple | None = None  # (point, failing labels) where the output matches but a condition fails
    hits = []
    ever = np.zeros(len(relations), dtype=bool)
    feasible_outputs: dict[tuple, dict] = {}
    for start in range(0, total, _CHUNK):
        cols = _points(rng, unknowns, start, min(total, start + _CHUNK), sizes)
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
            if not ok.any() and valid.any() and out_exprs and len(feasible_outputs) < 10_000:
                outs = [np.broadcast_to(v, (n,)) for v in out_fn(*cols)]
                where = np.flatnonzero(valid)
                keys = np.stack([o[where] for o in outs], axis=1)
                _, first = np.unique(keys, axis=0, return_index=True)
                for j in first[:10_000]:
                    key = tuple(int(x) for x in keys[j])
                    feasible_outputs.setdefault(
                        key, {u: int(c[where[j]]) for u, c in zip(unknowns, cols, strict=True)}
                    )
        for j in np.flatnonzero(ok):
            hits.append({u: int(c[j]) for u, c in zip(unknowns, cols, strict=True)})
    for h in hits[:_VERIFY_LIMIT]:
        if not _check_exact(relations, h):  # pragma: no cover - numeric and exact evaluation disagree
            raise SymcnnError(f"solve: internal error, candidate {h} failed the exact re-check")
    hits.sort(key=lambda h: tuple(h[u] for u in unknowns))
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
        want = [int(t) if t.is_Integer else 0 for t in target if t is not None]
        ranked = sorted(
            feasible_outputs.items(),
            key=lambda kv: (sum(abs(a - b) for a, b in zip(kv[0], want, strict=True)), kv[0]),
        )
        full = []
        for key, point in ranked[:5]:
            it = iter(key)
            full.append((tuple(next(it) if t is not None else "*" for t in target), point))
        nearest = full
    return hits, nearest, reason
