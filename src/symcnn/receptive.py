"""Receptive fields, per spatial axis: the exact dependency map of every tensor, and the classic recurrence.

**The dependency map (what** ``analyze(...).receptive_field`` **reports).** Along each spatial axis, output
position ``n`` of a tensor depends on the network-input positions from ``lo(n)`` (the first) to ``hi(n)`` (the
last), two SymPy expressions in the position symbol :data:`POSITION` (``n``), composed layer by layer by
substitution (``lo = lo_in(rule_lo(n))``, ``hi = hi_in(rule_hi(n))``). The rules, for output ``n`` of one layer
(``K`` the effective kernel ``d*(k - 1) + 1``, ``s`` the stride, ``p`` the left padding, ``W`` the layer's
input size along the axis):

* window layer (convolution, pooling, crop, slice, padding layer): ``[n*s - p, n*s - p + K - 1]``. Positions
  outside ``[0, W - 1]`` are the padding and are counted, as in Distill's definition (Araujo et al. 2019): an
  output in the padding of the next layer reads what the rule reads there. For a chain of window layers the
  map is ``[c + n*j - (r - 1)/2, c + n*j + (r - 1)/2]`` with Distill's ``r``, ``j``, ``c`` (recurrence below),
  so ``size``, ``stride``, ``padding`` and ``start`` keep their classic meaning;
* adaptive pooling: ``[floor(n*W/Out), ceil((n + 1)*W/Out) - 1]`` (PyTorch's AdaptivePooling.h); to one
  output (global pooling, ``Flatten``, the axis a ``Linear`` acts on): ``[0, W - 1]``: **whole input**;
* transposed convolution: the *real* inputs ``0 <= i < W`` with ``i*s - p + t*d = n`` for a tap
  ``0 <= t < k``; for ``d = 1``: ``[max(0, ceil((n + p - k + 1)/s)), min(W - 1, floor((n + p)/s))]`` (with
  ``d > 1`` the inputs skip positions; their hull is reported as a bound, ``exact=False``);
* upsampling by ``scale`` (``W/Out`` when a size is given), the *real* inputs with a nonzero weight in PyTorch's
  index rule (UpSample.h): nearest ``floor(n/scale)``, nearest-exact ``floor((n + 1/2)/scale)``; linear and
  cubic from the source coordinate ``x = (n + 1/2)/scale - 1/2`` (``x = n*(W - 1)/(Out - 1)`` with
  ``align_corners``; linear clamps ``x`` at 0): ``[floor(x), ceil(x)]`` (linear) or ``[2*floor(x) - ceil(x),
  2*ceil(x) - floor(x)]`` (cubic's four taps, clamped to the border), each clamped to ``[0, W - 1]``. This
  is exact arithmetic: PyTorch computes in floating point, and where ``x`` is exactly an integer its rounding can
  give the neighbouring pixel a weight near 1e-15 (float64) or 1e-7 (float32), not counted here;
* merge (add, concat after their crops, a broadcast gate): the union, ``[min lo, max hi]`` over the branches.

So a transposed convolution or an upsampling reads only its real inputs (its output positions depend on
nothing outside them): the outputs of DCGAN's generator all depend on the one latent pixel. An interval with
``lo > hi`` is an output that depends on no input (a transposed convolution with stride larger than its
kernel). The span of output ``n`` is ``hi(n) - lo(n) + 1``; ``size`` is the span where every position agrees
(else None: see ``span_min`` / ``span_max``, exact for numeric sizes, by evaluating every position).

The substitution is exact because every rule's first and last read grow with ``n`` and its reads over a run of
consecutive positions cover a run. Where that fails, the interval is the hull (a bound) and ``exact`` is False
with a note: a dilated window reading a tensor some of whose positions depend on nothing (after a transposed
convolution or upsampling), a transposed convolution with dilation > 1, a layer whose map is itself a bound
(an opaque layer). Adaptive pooling to a non-divisor, transposed convolutions and upsampling are exact.

**The classic recurrence** (``AxisState``; Dang Ha The Hien 2017, equivalent to Araujo et al., Distill
2019), kept for alignment checks, the errata and the derivations: from ``r = 1, j = 1, start = 0`` on the
input grid (pixel ``i`` centred at ``i``), a window layer with effective kernel ``k``, stride ``s`` and left
padding ``p``::

    r' = r + (k - 1)*j        j' = j*s        start' = start + ((k - 1)/2 - p)*j

so ``r = 1 + sum_l (k_l - 1)*prod_{i<l} s_i`` and ``j = prod s_l``. The effective padding (Distill's
``P_0``) is ``(r - 1)/2 - start``; output ``n`` is centred at input ``start + n*j``. Transposed convolutions
and upsampling have no exact recurrence (their outputs read position-dependent inputs): the recurrence uses
an average jump ``j/s`` there, which is what ``stride`` reports (an average, not a per-output step), and the
field itself comes from the dependency map. Merges (add, concat) are *aligned* when every branch has the same
jump and start (Distill's criterion); misalignment is reported in ``notes``.

>>> import symcnn as sc
>>> rf = sc.analyze(sc.models.unet(), (1, 572, 572)).receptive_field
>>> rf.interval(0, axis=-1), rf.span_min, rf.span_max   # output 0 reads inputs 0..187
((0, 187), (188, 188), (204, 204))
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field

import sympy

from ._intmath import FloorDiv, Gcd, ceildiv, decide, floordiv, smax
from .layers._base import AxisMap

__all__ = ["ReceptiveField", "AxisState", "apply_axis", "merge_states", "transposed_span", "POSITION", "AxisDeps",
           "INPUT_DEPS", "apply_deps", "merge_deps", "at_position", "SHOWN_POSITION"]


@dataclass(frozen=True)
class AxisState:
    """Receptive field of one tensor along one original input axis."""

    size: sympy.Expr
    jump: sympy.Expr
    start: sympy.Expr
    exact: bool = True


INPUT_AXIS = AxisState(sympy.Integer(1), sympy.Integer(1), sympy.Integer(0))


def transposed_span(kernel, stride, dilation) -> sympy.Expr:
    """Input positions spanned by the inputs that reach one output of a transposed convolution.

    >>> transposed_span(3, 2, 1), transposed_span(4, 2, 1), transposed_span(3, 1, 2)
    (2, 2, 5)
    """
    k, s, d = (sympy.sympify(v) for v in (kernel, stride, dilation))
    g = Gcd(s, d)
    m = ceildiv(k * g, s)
    return (m - 1) * d / g + 1


def apply_axis(state: AxisState, axis: AxisMap) -> AxisState:
    """One layer's map applied to the receptive field of its input along one axis."""
    r, j, start = state.size, state.jump, state.start
    exact = state.exact and axis.exact
    if axis.kind == "window":
        k, s, p = axis.kernel, axis.stride, axis.pad_left
        return AxisState(r + (k - 1) * j, j * s, start + ((k - 1) / sympy.Integer(2) - p) * j, exact)
    if axis.kind == "global":
        k = axis.kernel
        return AxisState(r + (k - 1) * j, j * k, start + (k - 1) / sympy.Integer(2) * j, exact)
    if axis.kind == "transposed":
        k, s, p, d = axis.kernel, axis.stride, axis.pad_left, axis.dilation
        span = transposed_span(k, s, d)
        return AxisState(r + (span - 1) * j, j / s, start + j * (p - d * (k - 1) / sympy.Integer(2)) / s, exact)
    if axis.kind == "upsample":
        return AxisState(r + (axis.kernel - 1) * j, j / axis.stride, start, exact)
    raise ValueError(f"unknown axis map kind {axis.kind!r}")  # pragma: no cover - programming error


def merge_states(states: list[tuple[AxisState, ...]], broadcast=None
                 ) -> tuple[tuple[AxisState, ...], bool | None, list[str]]:
    """Merge the fields of branches meeting at an add/concat: (merged, aligned, notes).

    ``aligned`` is True when every branch has the same jump and start on every axis, False when some
    branch provably differs, None when that cannot be decided symbolically. ``broadcast[k][i]``: branch ``k`` has
    size 1 along axis ``i`` and is broadcast (a squeeze-excitation gate): every output reads its one position, so
    it is not aligned (said without comparing formulas) and the output grid is that of the other branches.
    """
    notes: list[str] = []
    aligned: bool | None = True
    merged = []
    for i, axis_states in enumerate(zip(*states, strict=True)):
        spread = [k for k in range(len(axis_states)) if broadcast and broadcast[k][i]]
        if spread and len(spread) < len(axis_states):
            aligned = False
            notes.append("branches not aligned: a broadcast branch (size 1) is read whole at every output")
            grid = [s for k, s in enumerate(axis_states) if k not in spread]
            axis_states = (*grid, *(axis_states[k] for k in spread))
        first = axis_states[0]
        for other in axis_states[1:len(axis_states) - len(spread) if spread else None]:
            for what, a, b in (("jump", first.jump, other.jump), ("start", first.start, other.start)):
                verdict = decide(sympy.Eq(a, b))
                if verdict is False:
                    aligned = False
                    notes.append(f"branches not aligned: {what} {a} vs {b}")
                elif verdict is None and aligned is True:
                    aligned = None
                    notes.append(f"alignment undecided: {what} {a} vs {b}")
        merged.append(AxisState(
            smax(*(s.size for s in axis_states)),
            first.jump,
            first.start,
            all(s.exact for s in axis_states),
        ))
    return tuple(merged), aligned, notes


# --- the exact dependency map -----------------------------------------------------------------------------

#: the output position the dependency maps are written in
POSITION = sympy.Symbol("n", integer=True)
_N = POSITION
_ZERO, _ONE = sympy.Integer(0), sympy.Integer(1)


@dataclass(frozen=True)
class AxisDeps:
    """The dependency map of one tensor along one input axis: output ``n`` reads inputs ``lo(n) .. hi(n)``.

    ``holes``: some positions of the tensor (outside its real range, or between the inputs a transposed
    convolution spreads) may depend on no input; ``whole``: a global layer is on the way (every output reads
    the whole input axis); ``exact``: the interval is exact (else the hull, a bound; ``notes`` say why).
    """

    lo: sympy.Expr
    hi: sympy.Expr
    holes: bool = False
    whole: bool = False
    exact: bool = True
    notes: tuple[str, ...] = ()


INPUT_DEPS = AxisDeps(_N, _N)


def _fraction(x) -> tuple[sympy.Expr, sympy.Expr]:
    num, den = sympy.fraction(sympy.together(sympy.sympify(x)))
    return num, den


def _extremum(args, cls, pick) -> sympy.Expr:
    """``Max``/``Min`` kept cheap: nested ones flattened, arguments that differ by a number collapsed, nothing
    else decided (SymPy's own constructor compares every pair through the assumptions: slow on floors)."""
    best: dict = {}
    for a in args:
        for b in (a.args if isinstance(a, cls) else (a,)):
            c, rest = sympy.sympify(b).as_coeff_Add()
            best[rest] = c if rest not in best else pick(best[rest], c)
    terms = [c + rest for rest, c in best.items()]
    numbers = [t for t in terms if t.is_Number]
    if len(numbers) > 1:
        terms = [t for t in terms if not t.is_Number] + [pick(*numbers)]
    if len(terms) == 1:
        return terms[0]
    return cls(*sorted(terms, key=sympy.default_sort_key), evaluate=False)


def _max(*args) -> sympy.Expr:
    return _extremum(args, sympy.Max, max)


def _min(*args) -> sympy.Expr:
    return _extremum(args, sympy.Min, min)


def _compose(expr: sympy.Expr, value: sympy.Expr) -> sympy.Expr:
    """``expr`` with the position replaced by ``value`` (``Max``/``Min`` rebuilt by :func:`_extremum`)."""
    return replace(expr, {_N: value}, {})


def replace(expr: sympy.Expr, mapping: dict, memo: dict) -> sympy.Expr:
    """``expr.xreplace(mapping)`` for symbols, with ``Max``/``Min`` rebuilt cheaply (``memo`` shared between
    calls with the same mapping)."""
    if expr in mapping:
        return mapping[expr]
    if not expr.args or not any(s in mapping for s in expr.free_symbols):
        return expr
    hit = memo.get(expr)
    if hit is None:
        args = [replace(a, mapping, memo) for a in expr.args]
        if isinstance(expr, sympy.Max):
            hit = _max(*args)
        elif isinstance(expr, sympy.Min):
            hit = _min(*args)
        elif isinstance(expr, FloorDiv) and any(a.free_symbols - {_N} for a in args):
            hit = expr.func(*args, evaluate=False)  # symbolic sizes: no sign decisions (exact, only less folded)
        else:
            hit = expr.func(*args)
        memo[expr] = hit
    return hit


def at_position(expr: sympy.Expr, n) -> sympy.Expr:
    """A dependency bound at output position ``n`` (a number or an expression)."""
    return _compose(sympy.sympify(expr), sympy.sympify(n))


def _clamped(lo, hi, top) -> tuple[sympy.Expr, sympy.Expr]:
    """The run ``[lo, hi]`` restricted to the real positions ``[0, top]``."""
    return _max(_ZERO, lo), _min(top, hi)


def _transposed_rule(axis: AxisMap, w) -> tuple[sympy.Expr, sympy.Expr, bool]:
    """The real inputs ``i`` with ``i*s - p + t*d = n`` (``0 <= t < k``): (first, last, exact).

    With ``d = 1`` (or ``k = 1``) they are the run ``[ceil((n + p - k + 1)/s), floor((n + p)/s)]``, clamped to
    ``[0, W - 1]``: both ends grow with ``n``, so substituting them into the input's map is exact. With
    ``d > 1`` they are every ``d/gcd(s, d)``-th position of ``[ceil((n + p - (k - 1)*d)/s), floor((n + p)/s)]``,
    and the first real one jumps back and forth with ``n`` near the border: that hull is returned as a bound.
    """
    k, s, p, d = axis.kernel, axis.stride, axis.pad_left, axis.dilation
    top = w - 1
    if d == 1 or k == 1:
        return (*_clamped(ceildiv(_N + p - k + 1, s), floordiv(_N + p, s), top), True)
    return (*_clamped(ceildiv(_N + p - (k - 1) * d, s), floordiv(_N + p, s), top), False)


def _source(axis: AxisMap, w, out) -> sympy.Expr:
    """PyTorch's source coordinate of output ``n`` for the interpolating modes (UpSample.h)."""
    if axis.mode.endswith("-align"):
        return _ZERO if out == 1 else _N * (w - 1) / (out - 1)
    return ((2 * _N + 1) / axis.stride - 1) / 2


def _floor(x):
    num, den = _fraction(x)
    return floordiv(num, den)


def _ceil(x):
    num, den = _fraction(x)
    return ceildiv(num, den)


def _upsample_rule(axis: AxisMap, w, out) -> tuple[sympy.Expr, sympy.Expr]:
    """The real inputs with a nonzero weight in output ``n`` of an upsampling (module docstring)."""
    top = w - 1
    if axis.mode.startswith("nearest"):
        x = _floor(_N / axis.stride if axis.mode == "nearest" else (2 * _N + 1) / (2 * axis.stride))
        x = _min(top, x)  # PyTorch's own clamp at the end
        return _max(_ZERO, x), x
    src = _source(axis, w, out)
    f, c = _floor(src), _ceil(src)
    if axis.mode.startswith("cubic"):  # four taps, each clamped to the border: the reads are always real
        return _min(top, _max(_ZERO, 2 * f - c)), _max(_ZERO, _min(top, 2 * c - f))
    if not axis.mode.endswith("-align"):  # linear clamps the source coordinate at 0
        f, c = _max(_ZERO, f), _max(_ZERO, c)
    return _max(_ZERO, f), _min(top, c)


def _rule(axis: AxisMap, w, out) -> tuple[sympy.Expr, sympy.Expr, bool, bool]:
    """(first, last, gapped, exact): the inputs of one layer's output ``n`` along one axis; ``gapped`` when the
    reads between the first and the last skip positions."""
    if axis.kind == "window":
        if axis.mode == "adaptive":
            num, den = _fraction(axis.stride)
            return floordiv(_N * num, den), ceildiv((_N + 1) * num, den) - 1, False, True
        s, p = axis.stride, axis.pad_left
        gapped = axis.dilation != 1 and axis.kernel != 1
        return _N * s - p, _N * s - p + axis.kernel - 1, gapped, True
    if axis.kind == "global":
        return _ZERO, axis.kernel - 1, False, True
    if axis.kind == "transposed":
        lo, hi, exact = _transposed_rule(axis, w)
        return lo, hi, axis.dilation != 1 and axis.kernel != 1, exact
    if axis.kind == "upsample":
        lo, hi = _upsample_rule(axis, w, out)
        return lo, hi, False, True
    raise ValueError(f"unknown axis map kind {axis.kind!r}")  # pragma: no cover - programming error


def apply_deps(deps: AxisDeps, axis: AxisMap, w, out, where: str = "a layer") -> AxisDeps:
    """The dependency map of a layer's output along one axis from that of its input (``w`` its input size,
    ``out`` its output size along the axis)."""
    lo, hi, gapped, exact = _rule(axis, w, out)
    notes = list(deps.notes)
    if gapped and deps.holes:
        exact = False
        notes.append(f"{where}: a dilated read over positions that may depend on no input; the interval is a "
                     "bound (the hull)")
    elif not exact:
        notes.append(f"{where}: the inputs of a transposed convolution with dilation > 1 are not a run of "
                     "positions; the interval is their hull (a bound)")
    clamps = axis.kind in ("transposed", "upsample")
    exact = exact and (axis.exact or clamps or axis.mode == "adaptive")  # an opaque layer: a bound
    return AxisDeps(_compose(deps.lo, lo), _compose(deps.hi, hi), deps.holes or clamps,
                    deps.whole or axis.kind == "global", deps.exact and exact, tuple(notes))


#: operations a dependency map may hold; past it (symbolic sizes through resizes and gates, where every merge
#: doubles the map) the map is replaced by a bound, so an analysis stays linear in the depth
MAX_MAP_NODES = 300


def _small(expr: sympy.Expr) -> bool:
    for count, _ in enumerate(sympy.preorder_traversal(expr)):
        if count > MAX_MAP_NODES:
            return False
    return True


def bounded(deps: AxisDeps, size, where: str) -> AxisDeps:
    """``deps``, or, when its map has grown past :data:`MAX_MAP_NODES` operations, the whole input axis (``size``
    positions) as a bound (``exact=False``, with a note): never a guess, and numbers substituted for the sizes
    give the exact map again."""
    if _small(deps.lo) and _small(deps.hi):
        return deps
    note = (f"{where}: the per-position map grew past {MAX_MAP_NODES:,} operations with symbolic sizes; the "
            "field is bounded by the whole input (substitute numbers for the exact map)")
    return AxisDeps(_ZERO, size - 1, deps.holes, True, False, (*deps.notes, note))


def merge_deps(branches: list[AxisDeps]) -> AxisDeps:
    """The union of the branches meeting at an add or concat: ``[min lo, max hi]``."""
    if len(branches) == 1:
        return branches[0]
    return AxisDeps(_min(*(b.lo for b in branches)), _max(*(b.hi for b in branches)),
                    any(b.holes for b in branches), any(b.whole for b in branches),
                    all(b.exact for b in branches), tuple(dict.fromkeys(n for b in branches for n in b.notes)))


#: positions evaluated one by one for ``span_min`` / ``span_max`` (beyond: not evaluated, said in ``notes``)
MAX_POSITIONS = 1 << 16


def _is_affine(lo, hi) -> bool:
    """``lo = a*n + b`` and ``hi - lo`` free of ``n`` (structurally: no floor, Max or Min of ``n``)."""
    if _N not in lo.free_symbols:
        return _N not in hi.free_symbols
    _, dep = lo.as_independent(_N, as_Add=True)
    return _N not in (dep / _N).free_symbols and _N not in (hi - lo).free_symbols


def _spans(lo, hi, count) -> tuple[int, int] | None:
    """Smallest and largest span over the real positions ``0 .. count - 1`` (numbers only), else None."""
    if not (count.is_Integer and (lo.free_symbols | hi.free_symbols) <= {_N}) or count > MAX_POSITIONS:
        return None
    fn = sympy.lambdify([_N], (hi - lo + 1), modules="math")
    values = [max(0, int(fn(n))) for n in range(int(count))]
    return (min(values), max(values)) if values else None


#: the position in the formulas shown to people: a real position, ``n >= 0``
SHOWN_POSITION = sympy.Symbol("n", integer=True, nonnegative=True)


def _shown(expr: sympy.Expr, count) -> sympy.Expr:
    """``expr`` for the real positions ``0 <= n < count``: a constant argument of a ``Max`` (``Min``) is dropped
    when another argument is at least (at most) it over the whole range, and an argument that never passes the
    constant is dropped. Every bound grows with ``n``, so the range is decided by its two ends (``count`` a
    number) or by the sign of ``n >= 0``."""
    memo: dict = {}
    ends = [0] + ([int(count) - 1] if sympy.sympify(count).is_Integer and count >= 1 else [])

    def value(e, n):
        v = replace(e, {SHOWN_POSITION: sympy.Integer(n)}, {})
        return v if v.is_Number else None

    def walk(e):
        if not e.args or SHOWN_POSITION not in e.free_symbols:
            return e
        hit = memo.get(e)
        if hit is None:
            args = [walk(a) for a in e.args]
            if isinstance(e, (sympy.Max, sympy.Min)):
                sign = 1 if isinstance(e, sympy.Max) else -1
                end = ends[0] if sign > 0 else ends[-1]
                other = ends[-1] if sign > 0 else ends[0]
                consts = [a for a in args if a.is_Number]
                rest = [a for a in args if not a.is_Number]
                if consts and len(ends) == 2:  # an argument that never passes the constant is dropped
                    c = consts[0] if len(consts) == 1 else (max if sign > 0 else min)(consts)
                    rest = [a for a in rest if (v := value(a, other)) is None or sign * (v - c) > 0]
                for c in consts:
                    covered = any((sign * (a - c)).is_nonnegative or (
                        len(ends) == 2 and (v := value(a, end)) is not None and sign * (v - c) >= 0) for a in rest)
                    if not covered:
                        rest.append(c)
                hit = _extremum(rest, type(e), max if sign > 0 else min)
            else:
                hit = e.func(*args)
            memo[e] = hit
        return hit

    return walk(replace(expr, {_N: SHOWN_POSITION}, {}))


@dataclass(frozen=True)
class ReceptiveField:
    """The receptive field of a tensor, per spatial axis of the network input (module docstring).

    Attributes:
        lo, hi: the first and last input index output ``n`` (:data:`POSITION`) depends on, per axis.
        positions: the number of output positions along each axis (the tensor's size there).
        jump: the classic recurrence's jump per axis: the product of the strides, divided by the upsampling
            factors (an average step where the network upsamples or transposes).
        whole: per axis, a global layer (global or adaptive-to-one pooling, ``Flatten``, a ``Linear`` on the
            axis) is on the way: every output depends on the whole input.
        aligned: every merge was aligned (None: undecided); exact: every interval is exact (else a bound,
            ``notes`` say where).

    Derived: ``stride`` (the step between the fields of neighbouring outputs: the coefficient of ``n`` where
    the map is affine, else the average ``jump``), ``size`` (the span where every position agrees, else None),
    ``padding`` and ``start`` (Distill's
    effective padding and the centre of output 0, for a constant-stride map, else None), ``span_min`` and
    ``span_max`` (over the real positions), ``at(n)`` and ``interval(n, axis)``.
    """

    lo: tuple
    hi: tuple
    positions: tuple
    jump: tuple
    whole: tuple
    aligned: bool | None = True
    exact: bool = True
    notes: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def from_states(cls, states: tuple[AxisState, ...], deps: tuple[AxisDeps, ...], positions, aligned=True,
                    notes=()) -> ReceptiveField:
        extra = tuple(n for d in deps for n in d.notes if n not in notes)
        return cls(lo=tuple(d.lo for d in deps), hi=tuple(d.hi for d in deps), positions=tuple(positions),
                   jump=tuple(s.jump for s in states), whole=tuple(d.whole for d in deps), aligned=aligned,
                   exact=all(d.exact for d in deps), notes=tuple(dict.fromkeys((*notes, *extra))))

    def subs(self, substitute, mapping: dict, memo: dict) -> ReceptiveField:
        """The field with the symbols of ``mapping`` replaced: ``substitute`` (a function of one expression) for
        the sizes and strides, :func:`replace` (with ``memo``, shared between the fields of one network) for the
        maps."""
        def maps(values):
            return tuple(replace(v, mapping, memo) for v in values)

        return dataclasses.replace(self, lo=maps(self.lo), hi=maps(self.hi),
                                   positions=tuple(substitute(v) for v in self.positions),
                                   jump=tuple(substitute(v) for v in self.jump))

    def _axes(self):
        return range(len(self.lo))

    @functools.cached_property
    def affine(self) -> tuple[bool, ...]:
        """Per axis: the map is Distill's ``[c + n*j - (r-1)/2, c + n*j + (r-1)/2]`` (a constant span)."""
        return tuple(not self.whole[i] and _is_affine(*self._real(i)) for i in self._axes())

    @functools.cached_property
    def _rules(self) -> tuple:
        return tuple((_shown(self.lo[i], self.positions[i]), _shown(self.hi[i], self.positions[i]))
                     for i in self._axes())

    @functools.cached_property
    def _raw_affine(self) -> tuple[bool, ...]:
        return tuple(_is_affine(lo, hi) for lo, hi in zip(self.lo, self.hi, strict=True))

    def _real(self, i: int) -> tuple[sympy.Expr, sympy.Expr]:
        """``(lo, hi)`` of axis ``i`` for the real positions, in :data:`POSITION` (a window network's map as it
        is: it has no clamps to drop)."""
        if self._raw_affine[i]:
            return self.lo[i], self.hi[i]
        lo, hi = self._rules[i]
        return replace(lo, {SHOWN_POSITION: _N}, {}), replace(hi, {SHOWN_POSITION: _N}, {})

    @functools.cached_property
    def _stats(self) -> tuple:
        out = []
        for i in self._axes():
            if self.whole[i]:
                out.append(None)
            elif self.affine[i]:
                lo, hi = self._real(i)
                out.append((hi - lo + 1, hi - lo + 1))
            else:
                span = self.hi[i] - self.lo[i] + 1
                out.append((span, span) if _N not in span.free_symbols else
                           _spans(self.lo[i], self.hi[i], self.positions[i]))
        return tuple(out)

    @property
    def span_min(self) -> tuple:
        """Per axis: the smallest span over the real output positions (None: a whole axis, or symbolic sizes
        with a span that varies with the position: substitute numbers)."""
        return tuple(None if s is None else s[0] for s in self._stats)

    @property
    def span_max(self) -> tuple:
        """Per axis: the largest span over the real output positions (None as for ``span_min``)."""
        return tuple(None if s is None else s[1] for s in self._stats)

    @property
    def size(self) -> tuple:
        """Per axis: the span every output position has (Distill's ``r`` for window networks); None where the
        span varies with the position (see ``span_min``/``span_max``) or the axis is whole."""
        return tuple(None if s is None or s[0] != s[1] else s[0] for s in self._stats)

    @property
    def varies(self) -> tuple[bool, ...]:
        """Per axis: the span is known to differ between output positions."""
        return tuple(s is not None and s[0] != s[1] for s in self._stats)

    @property
    def stride(self) -> tuple:
        """Per axis: ``lo(n + 1) - lo(n)`` where the map is affine (Distill's ``j``; 0 where every output reads
        the same inputs), else the average ``jump``."""
        return tuple(sympy.expand(self._real(i)[0]).coeff(_N) if self.affine[i] else self.jump[i]
                     for i in self._axes())

    @property
    def padding(self) -> tuple:
        """Distill's effective padding ``-lo(0)`` per axis (None where the map is not affine)."""
        return tuple(-at_position(self._real(i)[0], 0) if self.affine[i] else None for i in self._axes())

    @property
    def start(self) -> tuple:
        """The centre of output 0's field in input coordinates per axis (None where the map is not affine)."""
        return tuple(at_position(sum(self._real(i)), 0) / 2 if self.affine[i] else None for i in self._axes())

    def interval(self, n, axis: int = -1) -> tuple:
        """``(first, last)`` input index output position ``n`` depends on along ``axis`` (ints when numeric).

        An output that depends on no input (``first > last``) is possible only where a transposed convolution
        leaves positions without inputs (stride larger than the kernel), see ``notes``.
        """
        i = self._axes()[axis]
        pair = (at_position(self.lo[i], n), at_position(self.hi[i], n))
        return tuple(int(v) if v.is_Integer else v for v in pair)

    def at(self, n) -> tuple:
        """The interval of output position ``n`` (an int, a symbol or one per axis) along every axis."""
        ns = tuple(n) if isinstance(n, (tuple, list)) else (n,) * len(self.lo)
        return tuple(self.interval(v, i) for i, v in zip(self._axes(), ns, strict=True))

    def rule(self, axis: int = -1) -> tuple[sympy.Expr, sympy.Expr]:
        """``(lo, hi)`` of output ``n`` along ``axis`` as shown to people: written for the real positions
        ``0 <= n < positions`` (:data:`SHOWN_POSITION`, a non-negative ``n``), with the clamps to the border
        that no real position reaches left out (decided at both ends: every bound grows with ``n``)."""
        return self._rules[self._axes()[axis]]

    def __repr__(self) -> str:
        from .layers._base import fmt

        parts = []
        for i in self._axes():
            if self.whole[i]:
                parts.append("whole input")
            elif self.size[i] is not None:
                parts.append(fmt(self.size[i]))
            elif self.span_min[i] is not None:
                parts.append(f"{fmt(self.span_min[i])}..{fmt(self.span_max[i])}")
            else:
                parts.append(f"[{fmt(self.lo[i])}, {fmt(self.hi[i])}]")
        return f"ReceptiveField(size=({', '.join(parts)}), stride={fmt(self.stride)})"
