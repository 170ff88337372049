"""Receptive field, effective stride (jump) and effective padding, per spatial axis.

Forward recurrence over the layers (Dang Ha The Hien 2017; equivalent to Araujo et al., Distill 2019),
starting from ``r = 1, j = 1, start = 0`` on the input grid (pixel ``i`` centred at ``i``). A window layer
with effective kernel ``k``, stride ``s`` and left padding ``p``::

    r' = r + (k - 1)*j        j' = j*s        start' = start + ((k - 1)/2 - p)*j

so ``r = 1 + sum_l (k_l - 1)*prod_{i<l} s_i`` and ``j = prod s_l``. The effective padding (Distill's
``P_0``) is ``(r - 1)/2 - start``; output ``n`` is centred at input ``start + n*j``.

Conventions for layers the classic recurrence does not cover (flagged ``exact=False`` where the field is an
upper bound or an average):

* transposed convolution (stride ``s``, kernel ``F``, dilation ``d``, padding ``p``): an output reads at
  most ``m`` consecutive-in-residue inputs, spanning ``(m - 1)*d/g + 1`` input positions with
  ``g = gcd(s, d)``, ``m = ceil(F*g/s)`` (``ceil(F/s)`` when ``d = 1``); ``j' = j/s`` (fractional) and
  ``start' = start + j*(p - d*(F - 1)/2)/s``. With ``s > 1`` the inputs an output reads depend on its
  position (its residue mod ``s``), so after further layers the true field varies from output to output
  and the value here is an estimate, neither a bound nor exact (flagged ``exact=False``); ``s = 1`` is an
  ordinary convolution and exact;
* upsampling by ``s``: ``r' = r + (taps - 1)*j`` (nearest 1 tap, linear 2), ``j' = j/s``, start kept;
* global layers (adaptive pooling to 1, flatten, SPP, the last axis of a Linear): a window as large as
  the axis, stride equal to it;
* merges (add, concat): the branches must be *aligned* (equal jump and equal start, Distill's criterion);
  the field is then the largest. Misalignment is reported, not guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy

from ._intmath import Gcd, ceildiv, decide, smax
from .layers._base import AxisMap

__all__ = ["ReceptiveField", "AxisState", "apply_axis", "merge_states", "transposed_span"]


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


@dataclass(frozen=True)
class ReceptiveField:
    """Receptive field of a tensor: tuples over the input's spatial axes.

    ``size``: input positions an output depends on; ``stride``: the effective stride (jump) between
    neighbouring outputs; ``padding``: the effective padding ``(size - 1)/2 - start``; ``start``: the input
    coordinate of the centre of output 0. ``aligned`` tells whether every merge was aligned (None:
    undecided), ``exact`` whether every layer's convention is exact (module docstring).
    """

    size: tuple
    stride: tuple
    padding: tuple
    start: tuple
    aligned: bool | None = True
    exact: bool = True
    notes: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def from_states(cls, states: tuple[AxisState, ...], aligned=True, notes=()) -> ReceptiveField:
        return cls(
            size=tuple(s.size for s in states),
            stride=tuple(s.jump for s in states),
            padding=tuple((s.size - 1) / sympy.Integer(2) - s.start for s in states),
            start=tuple(s.start for s in states),
            aligned=aligned,
            exact=all(s.exact for s in states),
            notes=tuple(notes),
        )

    def __repr__(self) -> str:
        from .layers._base import fmt

        return (f"ReceptiveField(size={fmt(self.size)}, stride={fmt(self.stride)}, "
                f"padding={fmt(self.padding)}, start={fmt(self.start)})")
