"""`valid_input_sizes`: the input sizes for which a network runs, or loses no pixel to rounding."""

from __future__ import annotations

import itertools
import math

import numpy as np
import sympy

from .._analysis import Analysis, analyze
from .._errors import SymcnnError
from .._graph import Graph, Sequential
from .._intmath import FloorDiv
from .._symbols import size_symbol
from ..layers._base import Layer
from ..layers.conv import _ConvNd, effective_kernel
from ..layers.pool import _PoolNd
from ..layers.resize import ScaledFloor
from ..layers.transposed import _ConvTransposeNd
from ._inputs import check_input_shape
from ._progressions import _progressions, _relation_diff, _residue_classes, _slope_period
from ._search import _numeric
from .results import _MAX_PERIOD, InputSizes, Progression, _int_range

_MAX_SIZES = 1_000_000  # explicit sizes listed by valid_input_sizes

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
        input_shape = check_input_shape(which, input_shape)
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
    return sizes_of_analysis(analysis, ax, (lo, hi), exact, which)


def sizes_of_analysis(analysis: Analysis, ax: int, between: tuple[int, int], exact: bool,
                      which: str = "valid_input_sizes") -> InputSizes:
    """:func:`valid_input_sizes` of spatial axis ``ax`` of an analysis already computed (its input size there
    a symbol; ``between`` checked by the caller): one analysis serves every axis."""
    lo, hi = between
    dims = len(analysis.input_shape) - 1
    x = analysis.input_shape[1 + ax]
    others = {s for v in analysis.input_shape[1:] for s in sympy.sympify(v).free_symbols} - {x}
    rels = []
    for c in analysis.conditions:
        fs = c.relation.free_symbols
        if x not in fs:
            continue
        rel = c.relation.xreplace({s: x for s in others & fs})
        _only_size(which, rel, x, f"condition {c.relation} ({c.where})")
        rels.append(rel)
    if exact:
        for rel in _exact_relations(analysis, x, others, dims, ax):
            _only_size(which, rel, x, f"exactness condition {rel}")
            rels.append(rel)
    return _sizes_from_relations(x, rels, (lo, hi), exact)


def _only_size(which: str, rel, x, what: str) -> None:
    extra = sorted(map(str, rel.free_symbols - {x}))
    if extra:
        raise SymcnnError(
            f"{which}: {what} involves {', '.join(extra)}: the sizes are found for numeric layer arguments and"
            " one symbolic axis; substitute numbers for them (in the layers, or in `input_shape` for other axes)"
        )


def _exact_relations(analysis: Analysis, x, others, dims: int, ax: int) -> list:
    """``u mod S = 0`` for every window layer (``u = X + P_l + P_r - F_eff`` with ``X`` its input size; SAME:
    ``u = X``) and ``n(X) mod a = 0`` for every ``floor(n(Y)/a)`` another layer applies to its own input size
    ``Y`` (upsampling by a fraction, ...; ``floor(Y*s)`` with ``s = p/q``: ``p*Y mod q = 0``).

    Exact by construction: each condition is stated on the layer's own division, then composed with the
    layer's actual input, never read off the merged floors of the whole stack (whose numerators carry the
    offsets of earlier ceil divisions, e.g. SAME's ``ceil(X/2) = floor((X + 1)/2)``)."""
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
            if getattr(lay, "padding", None) in ("same", "tf_same"):
                add(w, lay.stride[ax])
            else:
                pads = lay.pads(spatial_in[0]) if isinstance(lay, _ConvNd) else lay.padding
                pl, pr = pads[ax]
                add(w + pl + pr - effective_kernel(lay.kernel_size[ax], lay.dilation[ax]), lay.stride[ax])
            continue
        before = set().union(*(sympy.sympify(s[ax]).atoms(FloorDiv, ScaledFloor) for s in spatial_in))
        news = sympy.sympify(spatial[ax]).atoms(FloorDiv, ScaledFloor) - before
        if not news:
            continue
        # the layer's own divisions, read on a fresh input size Y (so they are not merged with the floors of
        # earlier layers, whose numerators may carry a ceil offset), then Y := this layer's actual input
        own = _own_divisions(r, ax)
        if own is None:  # several inputs or not analysable alone: the new floors of the merged output
            own = [(f.args[0], f.args[1], None) for f in news if isinstance(f, FloorDiv)]
        for num, den, y in own:
            add(num if y is None else sympy.sympify(num).xreplace({y: spatial_in[0][ax]}), den)
    return out


_Y = sympy.Symbol("_Y", integer=True, positive=True)


def _own_divisions(record, ax: int):
    """``[(numerator, divisor, Y)]`` of every floor division the layer of ``record`` applies to its input size
    ``Y`` along ``ax`` (the layer analysed alone on that axis), or None."""
    if len(record.input_shapes) != 1:
        return None
    shape = list(record.input_shapes[0])
    shape[1 + ax] = _Y
    try:
        alone = analyze(record.layer, tuple(shape))
    except SymcnnError:
        return None
    out = sympy.sympify(tuple(alone.output_shape)[1 + ax])
    divisions = [(f.args[0], f.args[1], _Y) for f in out.atoms(FloorDiv)]
    for f in out.atoms(ScaledFloor):  # floor(Y*s), s the exact value of a double: exact iff p*Y = 0 mod q
        w, s = f.args
        divisions.append((int(s.p) * w, int(s.q), _Y))
    return divisions


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


_MAX_BRANCHES = 256  # conjunctions a union of product conditions is split into


def _alternatives(rel, x) -> list:
    """``[rel]``, or for ``f_1*f_2*...*f_k = 0`` (an add that broadcasts: ``(a - b)*(b - 1) = 0``) the
    conditions ``f_i = 0`` of the factors that involve ``x``, one of which must hold."""
    if not isinstance(rel, sympy.Eq):
        return [rel]
    lhs, rhs = rel.lhs, rel.rhs
    if rhs != 0:
        lhs, rhs = (rhs, lhs) if lhs == 0 else (lhs, rhs)
    if rhs != 0 or not lhs.is_Mul:
        return [rel]
    factors = [f for f in sympy.Mul.make_args(lhs) if f.has(x)]
    if len(factors) < 2 or any(not f.is_number and f.is_Pow and not f.exp.is_Integer for f in factors):
        return [rel]
    # a power f**n (n >= 1) is zero exactly when f is
    return [sympy.Eq(f.base if f.is_Pow and f.exp.is_positive else f, 0) for f in factors]


def _union(progs: list[Progression]) -> list[Progression]:
    """Progressions of several conjunctions merged: duplicates and contained ones dropped, the bounded ones
    rewritten as maximal runs of consecutive sizes when they are few (``1 <= L <= 8``)."""
    def inside(p, q):
        return (p != q and p.step % q.step == 0 and p.start in q
                and (q.stop is None or (p.stop is not None and p.stop <= q.stop)))

    progs = list(dict.fromkeys(progs))
    progs = [p for p in progs if not any(inside(p, q) for q in progs)]
    bounded = [p for p in progs if p.stop is not None]
    free = [p for p in progs if p.stop is None]
    if bounded and sum((p.stop - p.start) // p.step + 1 for p in bounded) <= 100_000:
        values = sorted({v for p in bounded for v in range(p.start, p.stop + 1, p.step)
                         if not any(v in q for q in free)})
        bounded = []
        for v in values:
            if bounded and bounded[-1].stop == v - 1:
                bounded[-1] = Progression(bounded[-1].start, 1, v)
            else:
                bounded.append(Progression(v, 1, v))
    return sorted(bounded + free, key=lambda g: (g.stop is None, g.start))


def _sizes_from_relations(x, rels, between, exact) -> InputSizes:
    alternatives = [_alternatives(r, x) for r in rels]
    if any(len(a) > 1 for a in alternatives) and math.prod(len(a) for a in alternatives) <= _MAX_BRANCHES:
        split = _sizes_of_union(x, rels, alternatives, between, exact)
        if split is not None:
            return split
    lo, hi = between
    kinds = [_relation_diff(r) for r in rels]
    sps = [_slope_period(d, x) for _, d in kinds]
    periodic = all(sp is not None for sp in sps) and all(k != "ne" for k, _ in kinds)
    period = math.lcm(1, *(sp[1] for sp in sps)) if periodic else 0
    if periodic and period <= _MAX_PERIOD:
        fn = _numeric([d for _, d in kinds], [x]) if kinds else None
        classes = _residue_classes(kinds, sps, period, fn)
        progs = _progressions(classes, period) if classes[0].any() else []
        sizes = _sorted_unique([p.values(lo, hi) for p in progs]) if progs else []
        return InputSizes(x, sizes, between, progs, True, rels, exact, period)
    # not periodic (divisors depend on the size): evaluate the conditions on the range
    xs = _int_range(lo, hi + 1, 1)
    ok = np.ones(len(xs), dtype=bool)
    if rels:
        for v in _numeric(rels, [x])(xs):
            ok &= np.broadcast_to(v, xs.shape).astype(bool)
    return InputSizes(x, xs[ok], between, [], False, rels, exact, period or None)


def _sorted_unique(arrays):
    """The sorted distinct values of the arrays (``np.unique`` hashes, which takes seconds on 10^6 sizes)."""
    a = np.sort(np.concatenate(arrays)) if len(arrays) > 1 else arrays[0]
    if len(arrays) > 1 and a.size:
        a = a[np.concatenate(([True], a[1:] != a[:-1]))]
    return a


def _sizes_of_union(x, rels, alternatives, between, exact) -> InputSizes | None:
    """The sizes when some conditions are products: the union over every choice of one factor per product
    of the (periodic) conjunction it gives; None when a branch is not periodic."""
    lo, hi = between
    branches = []
    for choice in itertools.product(*alternatives):
        kinds = [_relation_diff(r) for r in choice]
        sps = [_slope_period(d, x) for _, d in kinds]
        if any(sp is None for sp in sps) or any(k == "ne" for k, _ in kinds):
            return None
        branches.append((kinds, sps))
    period = math.lcm(1, *(sp[1] for _, sps in branches for sp in sps))
    if period * len(branches) > _MAX_PERIOD:
        return None
    progs: list[Progression] = []
    for kinds, sps in branches:
        fn = _numeric([d for _, d in kinds], [x]) if kinds else None
        classes = _residue_classes(kinds, sps, period, fn)
        if classes[0].any():
            progs.extend(_progressions(classes, period))
    progs = _union(progs)
    sizes = _sorted_unique([p.values(lo, hi) for p in progs]) if progs else []
    return InputSizes(x, sizes, between, progs, True, rels, exact, period)
