"""Inverse problems: the kernel, stride, padding, dilation, output_padding or input size that hit a target.

Three solvers, all built on :func:`symcnn.analyze` run with the unknowns as symbols:

* :func:`solve` -- layer arguments (or input sizes) left as symbols, a target output shape: the closed form
  (FORMULAS.md §8, obtained by unwrapping every ``floor(x/a) = q`` into ``a*q <= x <= a*q + a - 1``, rule R6)
  and every solution inside bounds, each re-checked exactly;
* :func:`valid_input_sizes` -- the input sizes for which a network runs (every condition of the analysis
  holds), or loses no pixel to rounding (``exact=True``: every floor division exact), as arithmetic
  progressions found on one period of the floor divisions (lcm of the divisors), plus the explicit list;
* :func:`mirror_output_padding` -- the ``output_padding`` of every transposed layer of a decoder that
  restores the size of its encoder stage, as a formula in the input size (``(X + 2P - F_eff) mod S``).

Framework semantics come from the layers themselves: an integer ``padding`` is PyTorch's, ``padding="same"``
is TensorFlow / ONNX SAME_UPPER at any stride, ``ceil_mode=True`` is PyTorch's ceil-mode pooling and a
``(left, right)`` pair is an explicit asymmetric padding (TensorFlow explicit / ONNX ``pads``).

>>> import symcnn as sc
>>> r = solve(sc.Conv2d(3, 64, kernel_size=7, stride=2, padding=sc.P), (3, 224, 224), (64, 112, 112))
>>> r.closed_form                     # ceil((111*2 - 224 + 7)/2) <= P <= floor((112*2 - 1 - 224 + 7)/2)
Eq(P, 3)
>>> list(r)
[{P: 3}]
"""

from __future__ import annotations

import dataclasses
import html
import math
from collections.abc import Mapping
from fractions import Fraction
from functools import reduce

import numpy as np
import sympy

from ._analysis import Analysis, analyze
from ._errors import SymcnnError
from ._graph import Graph, Sequential
from ._intmath import FloorDiv, ceildiv, decide, floordiv, normalize, pretty, smax, smin
from ._symbols import size_symbol
from .layers._base import Layer, fmt
from .layers.conv import _ConvNd, effective_kernel
from .layers.pool import _PoolNd
from .layers.transposed import _ConvTransposeNd

__all__ = [
    "solve",
    "Solutions",
    "valid_input_sizes",
    "InputSizes",
    "Progression",
    "mirror_output_padding",
    "OutputPaddings",
    "DEFAULT_BOUNDS",
]

#: default search ranges per role, used when ``bounds`` does not name an unknown
DEFAULT_BOUNDS = {
    "kernel_size": (1, 11),
    "stride": (1, 8),
    "dilation": (1, 4),
    "padding": (0, 10),
    "output_padding": (0, 7),
    "input size": (1, 1024),
    "other": (0, 64),
}
_ROLE_ORDER = ("kernel_size", "stride", "dilation", "padding", "output_padding", "input size", "other")
_MAX_GRID = 20_000_000
_MAX_SIZES = 1_000_000  # explicit sizes listed by valid_input_sizes
_CHUNK = 1_000_000
_VERIFY_LIMIT = 2_000


# --- numeric evaluation -------------------------------------------------------------------------------------

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


# --- closed forms: unwrap floor divisions (R6) and isolate one unknown --------------------------------------


def _split_floor(diff: sympy.Expr):
    """``diff = k*floor(x/a) + rest`` with exactly one FloorDiv term: (k, x, a, rest), else None."""
    terms = sympy.Add.make_args(sympy.expand(diff))
    floors = [(t.as_coeff_Mul()) for t in terms if t.as_coeff_Mul()[1].has(FloorDiv)]
    if len(floors) != 1:
        return None
    k, mono = floors[0]
    if not isinstance(mono, FloorDiv) or not k.is_Integer:
        return None
    rest = sympy.expand(diff - k * mono)
    return int(k), mono.args[0], mono.args[1], rest


def _unwrap(rel) -> list:
    """A relation without its outer floor division, where that is exact over the integers.

    ``floor(x/a) = q``  <=>  ``a*q <= x <= a*q + a - 1``; ``floor(x/a) >= q`` <=> ``x >= a*q``;
    ``floor(x/a) <= q`` <=> ``x <= a*q + a - 1`` (q an integer expression).
    """
    if not isinstance(
        rel, (sympy.Eq, sympy.GreaterThan, sympy.LessThan, sympy.StrictGreaterThan, sympy.StrictLessThan)
    ):
        return [rel]
    diff = sympy.expand(rel.lhs - rel.rhs)
    if isinstance(rel, (sympy.LessThan, sympy.StrictLessThan)):
        diff = -diff
    if isinstance(rel, (sympy.StrictGreaterThan, sympy.StrictLessThan)):
        diff -= 1
    split = _split_floor(diff)
    if split is None or abs(split[0]) != 1:
        return [sympy.Eq(diff, 0) if isinstance(rel, sympy.Eq) else sympy.Ge(diff, 0)]
    k, x, a, rest = split
    q = sympy.expand(-rest * k)  # floor(x/a) = q  (or >= q / <= q)
    if isinstance(rel, sympy.Eq):
        out = [sympy.Ge(x, a * q), sympy.Le(x, a * q + a - 1)]
    elif k > 0:  # floor >= q
        out = [sympy.Ge(x, a * q)]
    else:  # -floor + rest >= 0: floor <= rest
        out = [sympy.Le(x, a * q + a - 1)]
    return [r2 for r in out for r2 in _unwrap(r)]


def _isolate(rel, u: sympy.Symbol):
    """A relation linear in ``u`` with a numeric coefficient as ('lo'|'hi'|'eq', bound), else None."""
    diff = sympy.expand(rel.lhs - rel.rhs)
    if isinstance(rel, (sympy.LessThan, sympy.StrictLessThan)):
        diff = -diff
    if isinstance(rel, (sympy.StrictGreaterThan, sympy.StrictLessThan)):
        diff -= 1
    c = diff.coeff(u)
    r = sympy.expand(diff - c * u)
    if not c.is_Integer or c == 0 or r.has(u):
        return None
    c = int(c)
    if isinstance(rel, sympy.Eq):
        return ("eq", -r / c) if (-r / c).is_Integer or abs(c) == 1 else None
    if not isinstance(
        rel, (sympy.GreaterThan, sympy.StrictGreaterThan, sympy.LessThan, sympy.StrictLessThan)
    ):
        return None
    # c*u + r >= 0
    return ("lo", ceildiv(-r, c)) if c > 0 else ("hi", floordiv(r, -c))


@dataclasses.dataclass(frozen=True)
class _Constraint:
    relation: sympy.Basic
    label: str  # where it comes from and what it means


# --- roles of the unknowns ----------------------------------------------------------------------------------

_ROLE_ATTRS = ("kernel_size", "stride", "dilation", "padding", "output_padding")


def _roles(analysis: Analysis) -> dict[sympy.Symbol, tuple[str, str]]:
    """Symbol -> (role, where) from the layer arguments and the input shape."""
    out: dict[sympy.Symbol, tuple[str, str]] = {}
    for v in analysis.input_shape[1:]:
        for s in sympy.sympify(v).free_symbols:
            out.setdefault(s, ("input size", "input"))
    for r in analysis.layers:
        for attr in _ROLE_ATTRS:
            value = getattr(r.layer, attr, None)
            if value is None or isinstance(value, str):
                continue
            for s in sympy.Tuple(*_flatten(value)).free_symbols:
                out.setdefault(s, (attr, f"layer {r.index} '{r.name}'"))
    return out


def _flatten(value):
    if isinstance(value, (tuple, list)):
        for v in value:
            yield from _flatten(v)
    else:
        yield sympy.sympify(value)


def _minimum(s: sympy.Symbol) -> int | None:
    if s.is_positive:
        return 1
    if s.is_nonnegative:
        return 0
    return None


# --- solve --------------------------------------------------------------------------------------------------


class Solutions:
    """The result of :func:`solve`: closed form, explicit solutions in bounds, and why there are none.

    Iterating yields one ``{symbol: int}`` dict per solution, in the order kernel, stride, dilation, padding,
    output_padding (smallest first). ``closed_form`` is a SymPy relation (or ``And``) over the unknowns;
    ``bounds`` the search ranges used (``default_bounds`` names those not given by the caller).
    """

    def __init__(
        self,
        unknowns,
        closed_form,
        solutions,
        bounds,
        default_bounds,
        exact_set,
        reason,
        nearest,
        constraints,
        target,
        params,
    ):
        self.unknowns: tuple[sympy.Symbol, ...] = unknowns
        self.closed_form = closed_form
        self.solutions: list[dict] = solutions
        self.bounds: dict = bounds
        self.default_bounds: tuple[sympy.Symbol, ...] = default_bounds
        self.exact_set = exact_set  # True: the list is the whole solution set (bounds irrelevant)
        self.reason: str | None = reason
        self.nearest: list = nearest
        self.constraints: tuple[_Constraint, ...] = constraints
        self.target = target
        self.parameters = params

    def __iter__(self):
        return iter([dict(s) for s in self.solutions])

    def __len__(self) -> int:
        return len(self.solutions)

    def __bool__(self) -> bool:
        return bool(self.solutions)

    def __getitem__(self, i):
        return self.solutions[i]

    def _rows(self) -> list[str]:
        return [", ".join(f"{k}={v}" for k, v in s.items()) for s in self.solutions]

    def _bounds_text(self) -> str:
        if self.parameters:
            return f"closed form only (symbolic parameters {', '.join(map(str, self.parameters))})"
        if self.exact_set:
            return "all solutions (no bounds needed)"
        parts = [
            f"{lo} <= {s} <= {hi}" + (" (default)" if s in self.default_bounds else "")
            for s, (lo, hi) in self.bounds.items()
        ]
        return "within " + ", ".join(parts)

    def __repr__(self) -> str:
        names = ", ".join(str(u) for u in self.unknowns)
        lines = [
            f"Solutions for ({names}) -> output {fmt(self.target)}: {len(self)} found, {self._bounds_text()}",
            f"  closed form: {_show(self.closed_form)}",
        ]
        rows = self._rows()
        shown = rows[:20]
        lines += [f"  {r}" for r in shown]
        if len(rows) > len(shown):
            lines.append(f"  ... {len(rows) - len(shown)} more")
        if self.reason:
            lines.append(f"  no solution: {self.reason}")
        if self.nearest:
            lines.append(
                "  nearest feasible outputs: "
                + "; ".join(
                    f"{fmt(o)} with {', '.join(f'{k}={v}' for k, v in s.items())}" for o, s in self.nearest
                )
            )
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        names = [str(u) for u in self.unknowns]
        out = [
            f"**{len(self)} solution(s)** for output `{fmt(self.target)}`, {self._bounds_text()}  ",
            f"closed form: `{_show(self.closed_form)}`",
            "",
        ]
        if self.solutions:
            out += ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
            out += ["| " + " | ".join(str(s[u]) for u in self.unknowns) + " |" for s in self.solutions[:200]]
        if self.reason:
            out.append(f"\nno solution: {self.reason}")
        if self.nearest:
            out.append("\nnearest feasible outputs: " + "; ".join(f"`{fmt(o)}`" for o, _ in self.nearest))
        return "\n".join(out)

    def _repr_latex_(self) -> str:
        """Jupyter: the closed form as display math."""
        return _latex_display(self.closed_form)

    def _repr_html_(self) -> str:
        esc = html.escape
        head = "".join(f"<th>{esc(str(u))}</th>" for u in self.unknowns)
        body = "".join(
            "<tr>" + "".join(f"<td>{s[u]}</td>" for u in self.unknowns) + "</tr>"
            for s in self.solutions[:200]
        )
        extra = f"<p>no solution: {esc(self.reason)}</p>" if self.reason else ""
        if self.nearest:
            extra += (
                "<p>nearest feasible outputs: " + esc("; ".join(fmt(o) for o, _ in self.nearest)) + "</p>"
            )
        return (
            f"<p><b>{len(self)} solution(s)</b> for output <code>{esc(fmt(self.target))}</code>, "
            f"{esc(self._bounds_text())}<br>closed form: <code>{esc(_show(self.closed_form))}</code></p>"
            f"<table><tr>{head}</tr>{body}</table>{extra}"
        )


def _show(expr) -> str:
    if expr is sympy.true or expr is True:
        return "True (any value)"
    if expr is sympy.false or expr is False:
        return "False (no value)"
    if isinstance(expr, sympy.And):
        return " & ".join(_show(a) for a in expr.args)
    if isinstance(expr, sympy.Or):
        return " | ".join(f"({_show(a)})" for a in expr.args)
    if isinstance(expr, sympy.Rel):
        return f"{pretty(expr.lhs)} {expr.rel_op} {pretty(expr.rhs)}".replace("==", "=")
    return pretty(expr)


def _latex_display(expr) -> str:
    """``$$...$$`` of a closed form (relation, ``And``/``Or`` of relations, or a boolean)."""
    from ._intmath import latex

    if expr is sympy.true or expr is True:
        return "$$\\text{any value}$$"
    if expr is sympy.false or expr is False:
        return "$$\\text{no value}$$"
    return f"$${latex(expr)}$$"


def _as_target(output_shape, n: int):
    if isinstance(output_shape, (int, sympy.Basic)) and not isinstance(output_shape, bool):
        output_shape = (output_shape,)
    if not isinstance(output_shape, (tuple, list)):
        raise SymcnnError(f"solve: `output_shape`={output_shape!r} must be a tuple such as (64, 112, 112)")
    if len(output_shape) != n:
        raise SymcnnError(
            f"solve: `output_shape`={tuple(output_shape)!r} has {len(output_shape)} entries; the model"
            f" output has {n} (channels first, without batch; use None for an entry that may be anything)"
        )
    out = []
    for v in output_shape:
        if v is None:
            out.append(None)
            continue
        if (
            isinstance(v, bool)
            or not isinstance(v, (int, sympy.Basic))
            or (isinstance(v, sympy.Basic) and v.is_integer is not True)
        ):
            raise SymcnnError(
                f"solve: `output_shape` entry {v!r} must be a positive int, an integer symbol or None"
            )
        v = sympy.sympify(v)
        if v.is_Integer and v < 1:
            raise SymcnnError(f"solve: `output_shape` entry {v} must be >= 1")
        out.append(v)
    return tuple(out)


def _check_bounds(bounds, unknowns) -> dict:
    if bounds is None:
        return {}
    if not isinstance(bounds, Mapping):
        raise SymcnnError(f"solve: `bounds`={bounds!r} must be a dict {{symbol: (low, high)}}")
    by_name = {u.name: u for u in unknowns}
    out = {}
    for key, value in bounds.items():
        s = by_name.get(key) if isinstance(key, str) else key
        if s not in unknowns:
            names = ", ".join(u.name for u in unknowns) or "none"
            raise SymcnnError(
                f"solve: `bounds` key {key!s} is not an unknown of this problem (unknowns: {names})"
            )
        if (
            not isinstance(value, (tuple, list))
            or len(value) != 2
            or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value)
        ):
            raise SymcnnError(f"solve: `bounds`[{s}]={value!r} must be a pair of ints (low, high)")
        lo, hi = int(value[0]), int(value[1])
        if lo > hi:
            raise SymcnnError(f"solve: `bounds`[{s}]=({lo}, {hi}) is empty: low must be <= high")
        m = _minimum(s)
        if m is not None and lo < m:
            what = "positive" if m == 1 else "non-negative"
            raise SymcnnError(f"solve: `bounds`[{s}]=({lo}, {hi}): {s} is {what}, so low must be >= {m}")
        out[s] = (lo, hi)
    return out


def solve(model, input_shape, output_shape, *, bounds=None, unknowns=None) -> Solutions:
    """Every value of the unknown layer arguments (or input sizes) for which ``model`` maps ``input_shape`` to
    ``output_shape`` and is valid (every condition of the analysis holds, merges included).

    Args:
        model: a layer, ``Sequential`` or ``Graph`` whose unknown arguments are integer symbols
            (``sc.P``, ``sc.S``, ``sc.symbols("P1 P2", nonnegative=True)``, ...).
        input_shape: ``(C, *spatial)``; symbols here are unknown input sizes.
        output_shape: the target, same rank as the output; ``None`` entries are free; symbols give a symbolic
            closed form (then no explicit list).
        bounds: ``{symbol: (low, high)}`` search ranges; unknowns not named get :data:`DEFAULT_BOUNDS` by role
            (stated in the result). When one unknown is isolated exactly, its closed form replaces the bounds.
        unknowns: the symbols to solve for; default: every free symbol of the problem. Other symbols stay
            parameters of the closed form.

    Returns:
        :class:`Solutions`.

    >>> import symcnn as sc
    >>> r = solve(sc.Conv2d(3, 64, kernel_size=sc.F, stride=sc.S, padding=sc.P), (3, 224, 224),
    ...           (64, 112, 112),
    ...           bounds={sc.F: (1, 5), sc.S: (1, 4), sc.P: (0, 2)})
    >>> [tuple(s.values()) for s in r]        # (F, S, P): 112 = floor((224 + 2P - F)/S) + 1
    [(1, 2, 0), (2, 2, 0), (3, 2, 1), (4, 2, 1), (5, 2, 2)]
    >>> from symcnn import W, P
    >>> O = sc.symbols("O")
    >>> solve(sc.Conv1d(1, 1, 7, stride=2, padding=P), (1, W), (1, O), unknowns=[P]).closed_form
    Eq(P, O + floor((-W)/2) + 3)
    """
    try:
        analysis = analyze(model, input_shape)
    except SymcnnError as e:
        raise SymcnnError(f"solve: the model cannot be analysed with its unknowns: {e}") from None
    target = _as_target(output_shape, len(analysis.output_shape))
    roles = _roles(analysis)

    constraints: list[_Constraint] = []
    axis_names = ["channels", *("spatial axis " + str(i + 1) for i in range(len(target) - 1))]
    for i, (o, t) in enumerate(zip(analysis.output_shape, target, strict=True)):
        if t is None:
            continue
        rel = sympy.Eq(o, t)
        verdict = decide(rel)
        label = f"output {axis_names[i]}: {pretty(o)} = {pretty(t)}"
        if verdict is True:
            continue
        constraints.append(_Constraint(sympy.Eq(o, t, evaluate=False) if verdict is False else rel, label))
    for c in analysis.conditions:
        constraints.append(_Constraint(c.relation, f"{c.where}: {c.message}"))

    free: set[sympy.Symbol] = set()
    for c in constraints:
        free |= c.relation.free_symbols
    for t in target:
        if t is not None:
            free -= t.free_symbols
    if unknowns is None:
        unk = free | set(roles) - {s for t in target if t is not None for s in t.free_symbols}
        unk = {s for s in unk if s in free or s in roles}
    else:
        if isinstance(unknowns, sympy.Symbol):
            unknowns = [unknowns]
        unk = set()
        for u in unknowns:
            if not isinstance(u, sympy.Symbol):
                raise SymcnnError(f"solve: `unknowns` entry {u!r} must be a symbol")
            if u not in roles and u not in free:
                raise SymcnnError(
                    f"solve: `unknowns` entry {u} does not occur in the model or its input shape"
                )
            unk.add(u)
    order = sorted(unk, key=lambda s: (_ROLE_ORDER.index(roles.get(s, ("other",))[0]), s.name))
    unknowns_t = tuple(order)
    params = tuple(sorted(free - unk, key=lambda s: s.name))
    relations = [c.relation for c in constraints]

    closed, interval = _closed_form(relations, unknowns_t)
    user_bounds = _check_bounds(bounds, unknowns_t)
    show_target = tuple("*" if t is None else t for t in target)

    # a constraint false for every value
    for c in constraints:
        if c.relation is sympy.false or decide(c.relation) is False:
            return Solutions(
                unknowns_t,
                sympy.false,
                [],
                user_bounds,
                (),
                True,
                c.label,
                [],
                tuple(constraints),
                show_target,
                params,
            )
    if params:
        return Solutions(
            unknowns_t, closed, [], user_bounds, (), False, None, [], tuple(constraints), show_target, params
        )

    rng: dict[sympy.Symbol, tuple[int, int]] = {}
    defaults = []
    exact_set = False
    for u in unknowns_t:
        if u in user_bounds:
            rng[u] = user_bounds[u]
            continue
        role = roles.get(u, ("other",))[0]
        lo, hi = DEFAULT_BOUNDS.get(role, DEFAULT_BOUNDS["other"])
        lo = max(lo, _minimum(u) or 0)
        if role == "padding":  # a padding up to the largest effective kernel or target is plausible
            hi = max(hi, *(int(t) for t in target if t is not None and t.is_Integer))
        rng[u] = (lo, hi)
        defaults.append(u)
    if interval is not None and len(unknowns_t) == 1:
        (u,) = unknowns_t
        lo, hi = interval
        if lo is not None and hi is not None and lo <= hi:  # the closed form is the whole set
            lo = max(lo, _minimum(u) or 0)
            if u in user_bounds:
                lo, hi = max(lo, user_bounds[u][0]), min(hi, user_bounds[u][1])
            else:
                defaults, exact_set = [], True
            rng[u] = (lo, max(hi, lo - 1))
    sols, nearest, reason = _enumerate(constraints, unknowns_t, rng, analysis, target)
    if exact_set and not sols:
        reason = reason or "the closed form is empty"
    return Solutions(
        unknowns_t,
        closed,
        sols,
        rng,
        tuple(defaults),
        exact_set,
        reason,
        nearest,
        tuple(constraints),
        show_target,
        params,
    )


def _closed_form(relations, unknowns):
    """(closed form, numeric interval of the single unknown or None)."""
    rels = [r2 for r in relations for r2 in _unwrap(r)]
    rels = [r for r in rels if decide(r) is not True]
    if len(unknowns) != 1:
        rels = [normalize(r) for r in rels]
        return (sympy.And(*rels) if rels else sympy.true), None
    (u,) = unknowns
    lows, highs, rest = [], [], []
    for r in rels:
        iso = _isolate(r, u) if r.has(u) else None
        if iso is None:
            rest.append(normalize(r))
            continue
        kind, b = iso
        if kind in ("lo", "eq"):
            lows.append(b)
        if kind in ("hi", "eq"):
            highs.append(b)
    m = _minimum(u)
    lo = smax(*lows) if lows else None
    hi = smin(*highs) if highs else None
    parts = []
    if m is not None and (lo is None or decide(sympy.Ge(lo, m)) is not True):
        if lo is not None and lo.is_Integer:
            lo = sympy.Integer(max(int(lo), m))
        elif lo is None:
            lo = sympy.Integer(m)
        else:
            rest.append(sympy.Ge(u, m))
    if lo is not None and hi is not None and lo == hi:
        parts.append(sympy.Eq(u, lo))
    else:
        if lo is not None:
            parts.append(sympy.Ge(u, lo) if lo != m or hi is None else sympy.Le(lo, u, evaluate=False))
        if hi is not None:
            parts.append(sympy.Le(u, hi))
    if lo is not None and hi is not None and lo.is_Integer and hi.is_Integer and lo > hi:
        parts = [sympy.false]
    closed = sympy.And(*parts, *rest) if (parts or rest) else sympy.true
    numeric = None
    if not rest and lo is not None and hi is not None and lo.is_Integer and hi.is_Integer:
        numeric = (int(lo), int(hi))
    elif not rest and lo is not None and hi is not None:
        numeric = None
    return closed, numeric


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


# --- valid input sizes --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Progression:
    """The sizes ``start, start + step, ...`` up to ``stop`` (inclusive; None: unbounded)."""

    start: int
    step: int
    stop: int | None = None

    def __contains__(self, x: int) -> bool:
        return x >= self.start and (self.stop is None or x <= self.stop) and (x - self.start) % self.step == 0

    def describe(self, name: str) -> str:
        if self.stop is not None and self.stop == self.start:
            return f"{name} = {self.start}"
        upper = "" if self.stop is None else f", {name} <= {self.stop}"
        if self.step == 1:
            return f"{name} >= {self.start}{upper}"
        return f"{name} ≡ {self.start % self.step} (mod {self.step}), {name} >= {self.start}{upper}"

    def as_sympy(self, x: sympy.Symbol):
        parts = [sympy.Ge(x, self.start)]
        if self.step > 1:
            parts.append(sympy.Eq(sympy.Mod(x - self.start, self.step), 0))
        if self.stop is not None:
            parts.append(sympy.Le(x, self.stop))
        return sympy.And(*parts)

    def values(self, lo: int, hi: int) -> np.ndarray:
        top = hi if self.stop is None else min(hi, self.stop)
        first = (
            self.start if lo <= self.start else self.start + -(-(lo - self.start) // self.step) * self.step
        )
        return np.arange(first, top + 1, self.step, dtype=np.int64) if first <= top else np.zeros(0, np.int64)


def _ranges(values: list[int]) -> str:
    """``[0, 57, 58, 59, 60]`` -> ``"0, 57..60"``."""
    out, i = [], 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and values[j + 1] == values[j] + 1:
            j += 1
        out.append(str(values[i]) if j == i else f"{values[i]}..{values[j]}")
        i = j + 1
    return ", ".join(out)


class InputSizes:
    """The result of :func:`valid_input_sizes`.

    Iterating yields the valid sizes (ints) of ``symbol`` within ``between``. ``progressions`` describe the
    whole set (beyond ``between``) when ``periodic`` is True; ``closed_form`` is a SymPy condition on
    ``symbol`` (the progressions, or the raw conditions of the analysis when they are not periodic, e.g.
    spatial pyramid pooling, whose divisors depend on the size).
    """

    def __init__(
        self, symbol, sizes, between, progressions, periodic, conditions, exact, period, reason=None
    ):
        self.symbol = symbol
        self.sizes: list[int] = [int(s) for s in sizes]
        self.between = between
        self.progressions: tuple[Progression, ...] = tuple(progressions)
        self.periodic = periodic
        self.conditions = conditions
        self.exact = exact
        self.period = period
        self.reason = reason

    @property
    def closed_form(self):
        if self.periodic:
            parts = [p.as_sympy(self.symbol) for p in self.progressions]
            return sympy.Or(*parts) if parts else sympy.false
        return sympy.And(*self.conditions) if self.conditions else sympy.true

    def __iter__(self):
        return iter(self.sizes)

    def __len__(self) -> int:
        return len(self.sizes)

    def __contains__(self, x) -> bool:
        if self.periodic:
            return any(x in p for p in self.progressions)
        return x in set(self.sizes)

    def describe(self) -> str:
        name = str(self.symbol)
        if self.reason:
            return f"none ({self.reason})"
        if self.periodic:
            if not self.progressions:
                return "none"
            progs = self.progressions
            step = progs[0].step
            t = min(p.start for p in progs)
            if len(progs) > 2 and all(
                p.step == step and p.stop is None and p.start == t + (p.start - t) % step for p in progs
            ):  # one threshold, several residues
                res = sorted(p.start % step for p in progs)
                return f"{name} mod {step} in {{{_ranges(res)}}}, {name} >= {t}"
            return " or ".join(p.describe(name) for p in self.progressions)
        return _show(self.closed_form) + f"  (size-dependent divisors: listed within {self.between})"

    def _head(self) -> str:
        what = "exact (no pixel lost to rounding)" if self.exact else "valid (the network runs)"
        return f"{what} input sizes {self.symbol}: {self.describe()}"

    def __repr__(self) -> str:
        lo, hi = self.between
        shown = ", ".join(map(str, self.sizes[:12])) + (", ..." if len(self.sizes) > 12 else "")
        return f"InputSizes({self._head()}; {len(self)} in [{lo}, {hi}]: {shown})"

    def _repr_markdown_(self) -> str:
        lo, hi = self.between
        return (
            f"**{html.escape(self._head())}**  \n{len(self)} sizes in [{lo}, {hi}]: "
            + ", ".join(map(str, self.sizes[:50]))
            + (" ..." if len(self.sizes) > 50 else "")
        )

    def _repr_latex_(self) -> str:
        """Jupyter: the closed form (a condition on the size) as display math."""
        return _latex_display(self.closed_form)

    def _repr_html_(self) -> str:
        lo, hi = self.between
        return (
            f"<p><b>{html.escape(self._head())}</b><br>{len(self)} sizes in [{lo}, {hi}]: "
            + ", ".join(map(str, self.sizes[:50]))
            + (" ..." if len(self.sizes) > 50 else "")
            + "</p>"
        )


def _layers_in_order(model):
    if isinstance(model, Layer):
        yield model
    elif isinstance(model, Sequential):
        for m in model:
            yield from _layers_in_order(m)
    elif isinstance(model, Graph):
        for node in model._order:
            if node.module is not None:
                yield from _layers_in_order(node.module)


def _default_input(model, which: str):
    """(channels, spatial rank) from the first layers: rank from the first windowed layer, channels from the
    first layer that declares ``in_channels`` (pooling keeps the channels)."""
    dims = cin = None
    for layer in _layers_in_order(model):
        dims = dims if dims is not None else getattr(layer, "_dims", None)
        cin = getattr(layer, "in_channels", None)
        if cin is not None:
            break
    if dims is None or cin is None:
        raise SymcnnError(
            f"{which}: cannot infer the input shape from the layers of {type(model).__name__}; pass "
            "`input_shape`, e.g. (3, sc.H, sc.W)"
        )
    return cin, dims


def _slope_period(expr, x):
    """(slope, period) with ``expr(X + period) = expr(X) + slope*period`` for every integer X, or None."""
    expr = sympy.sympify(expr)
    if not expr.has(x):
        return Fraction(0), 1
    if expr == x:
        return Fraction(1), 1
    if expr.is_Add or expr.is_Mul:
        if expr.is_Mul:
            coeff, rest = expr.as_coeff_Mul()
            if rest.is_Mul or not coeff.is_Rational:
                return None
            sp = _slope_period(rest, x)
            return None if sp is None else (sp[0] * Fraction(int(coeff.p), int(coeff.q)), sp[1])
        parts = [_slope_period(a, x) for a in expr.args]
        if any(p is None for p in parts):
            return None
        return sum((p[0] for p in parts), Fraction(0)), math.lcm(*(p[1] for p in parts))
    if isinstance(expr, (FloorDiv, sympy.Mod)):
        u, a = expr.args
        if not a.is_Integer:
            return None
        sp = _slope_period(u, x)
        if sp is None:
            return None
        slope, per = sp
        shift = slope * per / int(a)  # floor shifts by this per period of u; make it an integer
        per *= shift.denominator
        if isinstance(expr, sympy.Mod):
            return Fraction(0), per
        return slope / int(a), per
    if isinstance(expr, (sympy.Max, sympy.Min)):
        parts = [_slope_period(a, x) for a in expr.args]
        if any(p is None for p in parts) or len({p[0] for p in parts}) != 1:
            return None
        return parts[0][0], math.lcm(*(p[1] for p in parts))
    return None


def _progressions(per_residue: dict[int, tuple[int, int | None]], period: int) -> list[Progression]:
    """Merge residue classes ``{r: (first, last)}`` (mod ``period``) into as few progressions as possible."""
    for p in sorted(d for d in range(1, period + 1) if period % d == 0):
        out = []
        ok = True
        for c in range(p):
            subs = [r for r in range(period) if r % p == c]
            present = [r for r in subs if r in per_residue]
            if not present:
                continue
            if len(present) != len(subs):
                ok = False
                break
            lo = min(per_residue[r][0] for r in subs)
            his = [per_residue[r][1] for r in subs]
            hi = (
                None if all(h is None for h in his) else (max(his) if all(h is not None for h in his) else -1)
            )
            if hi == -1:
                ok = False
                break
            for r in subs:  # each sub-class must be exactly {X = r mod period, lo <= X <= hi}
                first = lo + (r - lo) % period
                last = None if hi is None else hi - (hi - r) % period
                if per_residue[r] != (first, last) or (last is not None and last < first):
                    ok = False
                    break
            if not ok:
                break
            out.append(Progression(lo, p, hi))
        if ok:
            return sorted(out, key=lambda g: g.start)
    raise AssertionError("unreachable: p = period always works")  # pragma: no cover


def _relation_diff(rel):
    """``(kind, diff)``: the relation as ``diff >= 0`` ('ge'), ``== 0`` ('eq') or ``!= 0`` ('ne')."""
    diff = sympy.expand(rel.lhs - rel.rhs)
    if isinstance(rel, sympy.Eq):
        return "eq", diff
    if isinstance(rel, sympy.Ne):
        return "ne", diff
    if isinstance(rel, (sympy.LessThan, sympy.StrictLessThan)):
        diff = -diff
    if isinstance(rel, (sympy.StrictGreaterThan, sympy.StrictLessThan)):
        diff -= 1
    return "ge", diff


def valid_input_sizes(model, between=(1, 1024), *, axis=-1, exact=False, input_shape=None) -> InputSizes:
    """The input sizes of one spatial axis for which ``model`` runs (every condition holds: kernels fit,
    merges agree), or with ``exact=True`` for which it also loses no pixel to rounding (every floor
    division of a layer output size is exact).

    Axes are independent; ``axis`` picks one (index into the spatial axes, default the last). The closed form
    is found on one period of the floor divisions (the lcm of the divisors): on each residue class every
    condition is linear in the size, so one period decides the whole set.

    Args:
        model: layer, ``Sequential`` or ``Graph``.
        between: ``(low, high)`` of the explicit list.
        axis: the spatial axis (``-1``: last).
        exact: keep only sizes where every division is exact.
        input_shape: ``(C, *spatial)``; default: the first layer's channels and rank, all axes symbolic.

    Examples:
        >>> import symcnn as sc
        >>> net = sc.Sequential(sc.Conv2d(3, 8, 3, stride=2, padding=1), sc.MaxPool2d(2))
        >>> r = valid_input_sizes(net, between=(1, 40), exact=True)
        >>> r.describe()                     # 3x3/2 pad 1 exact iff W odd; then the pool needs ceil(W/2) even
        'W ≡ 3 (mod 4), W >= 3'
        >>> list(r)[:4]
        [3, 7, 11, 15]
    """
    which = "valid_input_sizes"
    if (
        not isinstance(between, (tuple, list))
        or len(between) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in between)
    ):
        raise SymcnnError(f"{which}: `between`={between!r} must be a pair of ints (low, high)")
    lo, hi = int(between[0]), int(between[1])
    if lo > hi or hi < 1:
        raise SymcnnError(f"{which}: `between`=({lo}, {hi}) must satisfy low <= high and high >= 1")
    lo = max(lo, 1)
    if hi - lo + 1 > _MAX_SIZES:  # the closed form covers every size; the explicit list is what is bounded
        raise SymcnnError(f"{which}: `between`=({lo}, {hi}) spans {hi - lo + 1:,} sizes; at most {_MAX_SIZES:,} "
                          "are listed (the closed form, .describe(), holds for every size)")
    if not isinstance(exact, bool):
        raise SymcnnError(f"{which}: `exact`={exact!r} must be True or False")

    if input_shape is None:
        cin, dims = _default_input(model, which)
        names = {1: ("L",), 2: ("H", "W"), 3: ("T", "H", "W")}[dims]
        if isinstance(axis, bool) or not isinstance(axis, int) or not -dims <= axis < dims:
            raise SymcnnError(
                f"{which}: `axis`={axis!r} must be an int in [{-dims}, {dims - 1}] ({dims} spatial axes)"
            )
        ax = axis % dims
        x = size_symbol(names[ax])
        # isotropic first try: every axis the same symbol (half the work); fall back when the axes differ
        analysis = _try_analyze(model, (cin, *([x] * dims)))
        if isinstance(analysis, Analysis) and not _isotropic(analysis):
            analysis = _try_analyze(
                model, (cin, *(x if i == ax else size_symbol(f"{names[i]}_") for i in range(dims)))
            )
    else:
        if not isinstance(input_shape, (tuple, list)) or len(input_shape) < 2:
            raise SymcnnError(f"{which}: `input_shape`={input_shape!r} must be (C, *spatial)")
        dims = len(input_shape) - 1
        if isinstance(axis, bool) or not isinstance(axis, int) or not -dims <= axis < dims:
            raise SymcnnError(
                f"{which}: `axis`={axis!r} must be an int in [{-dims}, {dims - 1}] ({dims} spatial axes)"
            )
        ax = axis % dims
        x = input_shape[1 + ax]
        if not isinstance(x, sympy.Symbol):
            raise SymcnnError(f"{which}: `input_shape` entry for `axis`={axis} is {x!r}; it must be a symbol")
        analysis = _try_analyze(model, tuple(input_shape))
    if isinstance(analysis, str):
        return InputSizes(x, [], (lo, hi), [], True, [sympy.false], exact, 1, reason=analysis)

    others = {s for v in analysis.input_shape[1:] for s in sympy.sympify(v).free_symbols} - {x}
    rels = []
    for c in analysis.conditions:
        fs = c.relation.free_symbols
        if x not in fs:
            continue
        rel = c.relation.xreplace({s: x for s in others & fs})
        extra = rel.free_symbols - {x}
        if extra:
            raise SymcnnError(
                f"{which}: condition {c!r} ({c.where}) involves {', '.join(map(str, extra))}; give numbers "
                "for them in `input_shape`"
            )
        rels.append(rel)
    if exact:
        rels += _exact_relations(analysis, x, others, dims, ax)
    return _sizes_from_relations(x, rels, (lo, hi), exact)


def _exact_relations(analysis: Analysis, x, others, dims: int, ax: int) -> list:
    """``u mod S = 0`` for every window layer (``u = X + P_l + P_r - F_eff``; SAME: ``u = X``) and
    ``x mod a = 0`` for every new ``floor(x/a)`` another layer introduces (upsampling by a fraction, ...)."""
    sub = {s: x for s in others}
    out, seen = [], set()

    def add(u, a):
        rel = sympy.Eq(sympy.Mod(sympy.sympify(u).xreplace(sub), a), 0)
        if rel is sympy.false:  # e.g. (3W - 4) mod 3 = 2: never exact, whatever the size
            rel = sympy.Lt(x, 0, evaluate=False)
        if rel.has(x) and rel not in seen:
            seen.add(rel)
            out.append(rel)

    for r in analysis.layers:
        spatial_in = [tuple(s)[1:] for s in r.input_shapes]
        spatial = tuple(r.output_shape)[1:]
        if len(spatial) != dims or any(len(s) != dims for s in spatial_in):
            continue  # the spatial axes are gone (flatten, pyramid pooling)
        lay = r.layer
        if isinstance(lay, (_ConvNd, _PoolNd)) and not isinstance(lay, _ConvTransposeNd):
            w = spatial_in[0][ax]
            if getattr(lay, "padding", None) == "same":
                add(w, lay.stride[ax])
            else:
                pads = lay.pads(spatial_in[0]) if isinstance(lay, _ConvNd) else lay.padding
                pl, pr = pads[ax]
                add(w + pl + pr - effective_kernel(lay.kernel_size[ax], lay.dilation[ax]), lay.stride[ax])
            continue
        before = set().union(*(sympy.sympify(s[ax]).atoms(FloorDiv) for s in spatial_in))
        for f in sympy.sympify(spatial[ax]).atoms(FloorDiv) - before:
            add(*f.args)
    return out


def _try_analyze(model, shape):
    try:
        return analyze(model, shape)
    except SymcnnError as e:
        return str(e)


def _isotropic(analysis: Analysis) -> bool:
    for r in analysis.layers:
        sp = tuple(r.output_shape)[1:]
        if len(sp) > 1 and len(set(sp)) > 1:
            return False
    return True


def _sizes_from_relations(x, rels, between, exact) -> InputSizes:
    lo, hi = between
    kinds = [_relation_diff(r) for r in rels]
    sps = [_slope_period(d, x) for _, d in kinds]
    periodic = all(sp is not None for sp in sps) and all(k != "ne" for k, _ in kinds)
    period = math.lcm(1, *(sp[1] for sp in sps)) if periodic else 0
    if periodic and period <= 2_000_000:
        base = np.arange(1, period + 1, dtype=np.int64)
        fn = _numeric([d for _, d in kinds], [x]) if kinds else None
        d0s = fn(base) if fn else []
        kmin = np.zeros(period, dtype=np.int64)
        kmax = np.full(period, np.iinfo(np.int64).max, dtype=np.int64)
        for (kind, _), (slope, _), d0 in zip(kinds, sps, d0s, strict=True):
            d0 = np.broadcast_to(d0, (period,)).astype(np.int64)
            step = slope * period  # exact integer shift of diff per period (an integer by construction)
            assert step.denominator == 1
            step = int(step)
            if step == 0:
                bad = (d0 < 0) if kind == "ge" else (d0 != 0)
                kmax[bad] = -1
            elif kind == "ge":  # d0 + step*k >= 0
                if step > 0:
                    kmin = np.maximum(kmin, -(d0 // step))  # ceil(-d0/step)
                else:
                    kmax = np.minimum(kmax, d0 // (-step))
            else:  # d0 + step*k == 0
                ok = (d0 % step) == 0
                k = -d0 // step
                kmin = np.where(ok, np.maximum(kmin, k), kmin)
                kmax = np.where(ok, np.minimum(kmax, k), -1)
        per_residue = {}
        big = np.iinfo(np.int64).max
        for i in np.flatnonzero(kmin <= kmax):
            first = int(base[i] + period * kmin[i])
            last = None if kmax[i] == big else int(base[i] + period * kmax[i])
            per_residue[int(base[i]) % period] = (first, last)
        progs = _progressions(per_residue, period) if per_residue else []
        sizes = np.unique(np.concatenate([p.values(lo, hi) for p in progs])) if progs else []
        return InputSizes(x, sizes, between, progs, True, rels, exact, period)
    # not periodic (divisors depend on the size): evaluate the conditions on the range
    xs = np.arange(lo, hi + 1, dtype=np.int64)
    ok = np.ones(len(xs), dtype=bool)
    if rels:
        for v in _numeric(rels, [x])(xs):
            ok &= np.broadcast_to(v, xs.shape).astype(bool)
    return InputSizes(x, xs[ok], between, [], False, rels, exact, None)


# --- output padding of a mirrored decoder -------------------------------------------------------------------


class OutputPaddings:
    """The result of :func:`mirror_output_padding`: one tuple (per spatial axis) per transposed layer.

    ``output_padding[j]`` is a SymPy expression in the input sizes; :meth:`at` evaluates them,
    :meth:`decoder` builds the decoder with those numbers filled in.
    """

    def __init__(self, layers, values, stages, symbols, conditions, template):
        self.layers = layers  # the transposed layers of the decoder, in order
        self.output_padding: list[tuple[sympy.Expr, ...]] = values
        self.stages = stages  # (encoder record, decoder index) pairs
        self.symbols = symbols
        self.conditions = conditions
        self._template = template

    @property
    def closed_form(self) -> list[tuple[sympy.Expr, ...]]:
        return self.output_padding

    def at(self, mapping: Mapping | None = None, **sizes) -> list[tuple[int, ...]]:
        """Numeric output paddings for given input sizes (by symbol or name)."""
        m = self._mapping(mapping, sizes)
        out = []
        for v in self.output_padding:
            vals = tuple(sympy.sympify(e).xreplace(m) for e in v)
            for e in vals:
                if not e.is_Integer:
                    raise SymcnnError(
                        f"mirror_output_padding.at: {pretty(e)} is not a number; give all of "
                        + ", ".join(sorted(s.name for s in self.symbols))
                    )
            out.append(tuple(int(e) for e in vals))
        return out

    def _mapping(self, mapping, sizes):
        by_name = {s.name: s for s in self.symbols}
        m = {}
        for k, v in [*(mapping or {}).items(), *sizes.items()]:
            key = by_name.get(k) if isinstance(k, str) else k
            if key not in self.symbols:
                raise SymcnnError(
                    f"mirror_output_padding.at: `{k}` is not an input size symbol "
                    f"({', '.join(sorted(by_name))})"
                )
            m[key] = sympy.Integer(v)
        return m

    def decoder(self, mapping: Mapping | None = None, **sizes) -> Sequential:
        """The decoder with numeric ``output_padding`` for these input sizes."""
        values = iter(self.at(mapping, **sizes))
        return Sequential(
            *[
                _with_output_padding(m, next(values)) if isinstance(m, _ConvTransposeNd) else m
                for m in self._template
            ]
        )

    def __repr__(self) -> str:
        lines = ["OutputPaddings("]
        for (rec, _), layer, v in zip(self.stages, self.layers, self.output_padding, strict=True):
            lines.append(
                f"  {layer!r}: output_padding={fmt(v)}  (restores layer {rec.index} '{rec.name}' input "
                f"{fmt(tuple(rec.input_shape)[1:])})"
            )
        return "\n".join(lines) + "\n)"

    def _repr_markdown_(self) -> str:
        rows = ["| decoder layer | output_padding | restores |", "|---|---|---|"]
        for (rec, _), layer, v in zip(self.stages, self.layers, self.output_padding, strict=True):
            rows.append(
                f"| `{layer!r}` | `{fmt(v)}` | `{rec.name}` input `{fmt(tuple(rec.input_shape)[1:])}` |"
            )
        return "\n".join(rows)

    def _repr_html_(self) -> str:
        esc = html.escape
        body = "".join(
            f"<tr><td><code>{esc(repr(layer))}</code></td><td><code>{esc(fmt(v))}</code></td>"
            f"<td>{esc(rec.name)} input <code>{esc(fmt(tuple(rec.input_shape)[1:]))}</code></td></tr>"
            for (rec, _), layer, v in zip(self.stages, self.layers, self.output_padding, strict=True)
        )
        return f"<table><tr><th>decoder layer</th><th>output_padding</th><th>restores</th></tr>{body}</table>"


def _flat_layers(model, which: str, arg: str) -> list:
    if isinstance(model, Layer):
        return [model]
    if isinstance(model, (Sequential, list, tuple)):
        return [x for m in model for x in _flat_layers(m, which, arg)]
    raise SymcnnError(
        f"{which}: `{arg}` must be a layer, a list of layers or a Sequential, got {type(model).__name__}"
    )


def _with_output_padding(layer: _ConvTransposeNd, ops) -> _ConvTransposeNd:
    return type(layer)(
        layer.in_channels,
        layer.out_channels,
        layer.kernel_size,
        layer.stride,
        layer.padding,
        output_padding=tuple(ops),
        groups=layer.groups,
        bias=layer.bias,
        dilation=layer.dilation,
    )


def mirror_output_padding(encoder, decoder, input_shape) -> OutputPaddings:
    """The ``output_padding`` of every transposed layer of ``decoder`` such that each decoder stage restores
    the size of its mirrored encoder stage, as a formula in the input size (FORMULAS.md §2.3):
    ``output_padding = (X + P_l + P_r - F_eff) mod S`` with ``X`` the encoder stage's input size.

    Encoder stages are the convolution / pooling layers that change the spatial size; the last one pairs with
    the first transposed layer of the decoder, and so on. The decoder's own ``output_padding`` is ignored.

    >>> import symcnn as sc
    >>> enc = sc.Sequential(sc.Conv2d(3, 8, 3, stride=2, padding=1), sc.Conv2d(8, 8, 3, stride=2, padding=1))
    >>> dec = sc.Sequential(sc.ConvTranspose2d(8, 8, 3, stride=2, padding=1),
    ...                     sc.ConvTranspose2d(8, 3, 3, stride=2, padding=1))
    >>> r = mirror_output_padding(enc, dec, (3, sc.H, sc.W))
    >>> r.output_padding[1]              # (W + 2*1 - 3) mod 2
    (Mod(H + 1, 2), Mod(W + 1, 2))
    >>> r.at(H=64, W=65)
    [(1, 0), (1, 0)]
    """
    which = "mirror_output_padding"
    dec_layers = _flat_layers(decoder, which, "decoder")
    try:
        enc = analyze(encoder, input_shape)
    except SymcnnError as e:
        raise SymcnnError(
            f"{which}: the encoder cannot be analysed on `input_shape`={input_shape!r}: {e}"
        ) from None
    stages = []
    for r in enc.layers:
        if isinstance(r.layer, (_ConvNd, _PoolNd)) and not isinstance(r.layer, _ConvTransposeNd):
            same = all(
                decide(sympy.Eq(a, b)) is True
                for a, b in zip(tuple(r.input_shape)[1:], tuple(r.output_shape)[1:], strict=True)
            )
            if not same:
                stages.append(r)
    trans = [i for i, m in enumerate(dec_layers) if isinstance(m, _ConvTransposeNd)]
    if len(trans) != len(stages):
        raise SymcnnError(
            f"{which}: `decoder` has {len(trans)} transposed layer(s) but `encoder` has"
            f" {len(stages)} stage(s) that change the size ({', '.join(r.name for r in stages) or 'none'});"
            " they must pair up"
        )
    sym_layers = list(dec_layers)
    op_syms = {}
    for j, i in enumerate(trans):
        layer = dec_layers[i]
        ops = tuple(sympy.Symbol(f"_op{j}_{a}", integer=True, nonnegative=True) for a in range(layer._dims))
        op_syms[j] = ops
        sym_layers[i] = _with_output_padding(layer, ops)
    try:
        dec = analyze(Sequential(*sym_layers), enc.output_shape)
    except SymcnnError as e:
        raise SymcnnError(
            f"{which}: the decoder cannot follow the encoder output {fmt(enc.output_shape)}: {e}"
        ) from None
    solved: dict[sympy.Symbol, sympy.Expr] = {}
    values = []
    pairs = []
    rec_by_layer = {}
    pos = 0
    for r in dec.layers:  # records follow the flat layer order
        rec_by_layer[pos] = r
        pos += 1
    for j, i in enumerate(trans):
        stage = stages[len(stages) - 1 - j]
        rec = rec_by_layer[i]
        want = tuple(stage.input_shape)[1:]
        got = tuple(rec.output_shape)[1:]
        row = []
        for a, (w, g, op) in enumerate(zip(want, got, op_syms[j], strict=True)):
            g = sympy.sympify(g).xreplace(solved)
            value = sympy.expand(w - (g - op))
            pretty_value = _as_mod(value, stage, a, w)
            solved[op] = value
            row.append(pretty_value)
        values.append(tuple(row))
        pairs.append((stage, i))
    conditions = []
    for c in dec.conditions:
        rel = c.relation.xreplace(solved)
        if decide(rel) is not True:
            conditions.append(dataclasses.replace(c, relation=rel))
    syms = set()
    for v in enc.input_shape[1:]:
        syms |= sympy.sympify(v).free_symbols
    return OutputPaddings(
        [dec_layers[i] for i in trans], values, pairs, frozenset(syms), conditions, dec_layers
    )


def _as_mod(value, stage, a, x):
    """``value`` as ``Mod(X + P_l + P_r - F_eff, S)`` when that is what it is (the mirrored case)."""
    layer = stage.layer
    pl, pr = layer.padding[a]
    s = layer.stride[a]
    u = sympy.expand(x + pl + pr - effective_kernel(layer.kernel_size[a], layer.dilation[a]))
    if sympy.expand(value - (u - s * floordiv(u, s))) == 0:
        return sympy.Mod(u, s)
    return value
