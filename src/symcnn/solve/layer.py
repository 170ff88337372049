"""`solve`: the layer arguments (or input sizes) that map an input shape to a target output shape."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import sympy

from .._analysis import Analysis, analyze
from .._errors import SymcnnError
from .._intmath import decide, pretty
from ._closed_form import _closed_form, _minimum
from ._inputs import check_input_shape
from ._search import _enumerate
from .results import Solutions, _Constraint

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

    Examples:
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
    input_shape = check_input_shape("solve", input_shape)
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
    target_syms = {s for t in target if t is not None for s in t.free_symbols}
    free -= target_syms
    if unknowns is None:  # symbols of the target stay parameters of the closed form
        unk = free | set(roles) - target_syms
        unk = {s for s in unk if s in free or s in roles}
    else:
        if isinstance(unknowns, sympy.Symbol):
            unknowns = [unknowns]
        if not isinstance(unknowns, (list, tuple, set, frozenset)):
            raise SymcnnError(f"solve: `unknowns`={unknowns!r} must be a symbol or a list of symbols")
        unk = set()
        for u in unknowns:
            if not isinstance(u, sympy.Symbol):
                raise SymcnnError(f"solve: `unknowns` entry {u!r} must be a symbol")
            if u not in roles and u not in free and u not in target_syms:
                raise SymcnnError(
                    f"solve: `unknowns` entry {u} does not occur in the model, its input shape or the target"
                )
            unk.add(u)
    order = sorted(unk, key=lambda s: (_ROLE_ORDER.index(roles.get(s, ("other",))[0]), s.name))
    unknowns_t = tuple(order)
    params = tuple(sorted((free | target_syms) - unk, key=lambda s: s.name))
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
