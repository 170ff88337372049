"""Channel regrouping: ``Narrow`` (a slice ``x[:, a:b]``, one piece of ``chunk``/``split``), ``ChannelShuffle``
(ShuffleNet's ``view``-``transpose``-``view``) and ``GroupSum`` (the sum over a regrouped axis,
``x.view(B, g, C // g, H, W).sum(1)``: split attention, selective kernels).

They read and move values only: no parameters, no MACs (``torch.utils.flop_counter`` counts none); ``GroupSum``
adds, ``(groups - 1)`` FLOPs per output element, like :class:`~symcnn.Add`. Their receptive field is the identity
along every spatial axis (a ``Narrow`` of a spatial axis shifts it by ``start``).
"""

from __future__ import annotations

import sympy

from .._errors import SymcnnError
from .._intmath import decide, floordiv
from ._base import AxisMap, Checker, Layer, LayerResult, Shape, fmt, prod, to_expr

__all__ = ["Narrow", "ChannelShuffle", "GroupSum", "GroupSoftmax", "Reshape", "Expand", "ExpandAs"]


def _positive_int(label: str, name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SymcnnError(f"{label}: `{name}`={value!r} must be a positive int")
    return value


def _divisible(ck: Checker, what: str, size, groups: int, verb: str) -> None:
    ck.require(sympy.Eq(sympy.Mod(size, groups), 0),
               lambda: f"{what} {fmt(size)} is not divisible by `groups`={groups} ({verb}); PyTorch refuses it")


class Narrow(Layer):
    """``torch.narrow(x, dim, start, length)``: ``length`` entries of axis ``dim`` (batch counted) from ``start``.

    ``x[:, a:b]`` is ``Narrow(1, a, b - a)``; ``x.chunk(n, 1)`` and ``torch.split(x, sizes, 1)`` give one
    ``Narrow`` per piece. ``start`` may be negative (counted from the end, as PyTorch does) and ``start`` and
    ``length`` may be formulas. PyTorch refuses ``start + length`` beyond the axis.

    >>> import symcnn as sc
    >>> sc.analyze(sc.Narrow(1, 16, 8), (32, sc.H, sc.W)).output_shape
    (8, H, W)
    """

    def __init__(self, dim, start, length):
        label = self.kind
        if isinstance(dim, bool) or not isinstance(dim, int) or dim == 0:
            raise SymcnnError(f"{label}: `dim`={dim!r} must be a non-zero int (0 is the batch dimension)")
        start = to_expr(label, "start", start)
        length = to_expr(label, "length", length, minimum=0)
        self._set(dim=dim, start=start, length=length)
        self._freeze()

    def __repr__(self) -> str:
        return f"{self.kind}({self.dim}, {fmt(self.start)}, {fmt(self.length)})"

    def infer(self, x: Shape) -> LayerResult:
        rank = len(x) + 1
        d = self.dim if self.dim > 0 else rank + self.dim
        if not 1 <= d < rank:
            raise SymcnnError(f"{self.label}: `dim`={self.dim} is out of range for an input of rank {rank} "
                              f"(shape {fmt(tuple(x))} with batch)")
        size = x[d - 1]
        ck = Checker(self.label)
        start = self.start
        if start.is_Integer and start < 0:
            ck.require(sympy.Ge(start, -size), lambda: f"`start`={fmt(start)} is before the start of axis {d} "
                       f"(size {fmt(size)})")
            start = start + size
        ck.require(sympy.Ge(start, 0), lambda: f"`start`={fmt(self.start)} must be >= 0")
        ck.require(sympy.Ge(self.length, 0), lambda: f"`length`={fmt(self.length)} must be >= 0")
        ck.require(sympy.Le(start + self.length, size),
                   lambda: f"`start`={fmt(self.start)} + `length`={fmt(self.length)} exceeds the size {fmt(size)} "
                   f"of dim {d} (PyTorch refuses it)")
        out = Shape(tuple(self.length if i == d - 1 else v for i, v in enumerate(x)))
        axes = None
        if d >= 2:  # a spatial axis: output j reads input start + j
            one = sympy.Integer(1)
            axes = tuple(AxisMap("window", one, one, -start) if i == d - 2 else AxisMap("window", one, one)
                         for i in range(len(x) - 1))
        return LayerResult(output_shape=out, axes=axes, conditions=tuple(ck.conditions))


class _ChannelGroups(Layer):
    """A layer on ``groups`` equal blocks of channels (``x.view(B, groups, C // groups, *spatial)``)."""

    def __init__(self, groups):
        self._set(groups=_positive_int(self.kind, "groups", groups))
        self._freeze()

    def __repr__(self) -> str:
        return f"{self.kind}({self.groups})"

    def _blocks(self, x: Shape, verb: str, min_rank: int = 1) -> Checker:
        """The checker of ``x``: at least ``min_rank`` dims and channels divisible by ``groups``."""
        if len(x) < min_rank:
            if min_rank == 1:
                raise SymcnnError(f"{self.label}: input shape {fmt(tuple(x))} has no channel axis")
            raise SymcnnError(f"{self.label}: input shape {fmt(tuple(x))} has {len(x)} dims; expected at least 2 "
                              "(C and a spatial axis, without the batch dimension), as PyTorch does")
        ck = Checker(self.label)
        _divisible(ck, "the number of channels", x[0], self.groups, verb)
        return ck


class ChannelShuffle(_ChannelGroups):
    """``torch.nn.ChannelShuffle(groups)``: channel ``g * (C / groups) + i`` moves to ``i * groups + g``, the
    ShuffleNet shuffle ``x.view(B, groups, C // groups, H, W).transpose(1, 2).reshape(B, C, H, W)``.

    >>> import symcnn as sc
    >>> sc.analyze(sc.ChannelShuffle(2), (116, sc.H, sc.W)).output_shape
    (116, H, W)
    """

    def infer(self, x: Shape) -> LayerResult:
        ck = self._blocks(x, "channels are split into equal groups", min_rank=2)
        return LayerResult(output_shape=Shape(x), conditions=tuple(ck.conditions))


class GroupSum(_ChannelGroups):
    """The sum of ``groups`` equal blocks of channels: ``x.view(B, groups, C // groups, *spatial).sum(1)``,
    ``(C, *spatial)`` to ``(C / groups, *spatial)``; ``(groups - 1)`` FLOPs per output element.

    >>> import symcnn as sc
    >>> a = sc.analyze(sc.GroupSum(2), (128, sc.H, sc.W))
    >>> a.output_shape, a.flops
    ((64, H, W), 64*H*W)
    """

    def infer(self, x: Shape) -> LayerResult:
        ck = self._blocks(x, "the blocks summed must be equal")
        c = x[0] / self.groups if decide(sympy.Eq(sympy.Mod(x[0], self.groups), 0)) else floordiv(x[0], self.groups)
        out = Shape((c, *x[1:]))
        return LayerResult(output_shape=out, flops=(self.groups - 1) * prod(out), conditions=tuple(ck.conditions))


def _sizes(label: str, shape) -> tuple:
    if not isinstance(shape, (list, tuple)) or not shape:
        raise SymcnnError(f"{label}: `shape`={shape!r} must be a non-empty tuple of sizes (without the batch)")
    return tuple(sympy.Integer(-1) if v == -1 and not isinstance(v, bool) else to_expr(label, "shape", v, minimum=0)
                 for v in shape)


class Reshape(Layer):
    """``x.view(B, *shape)`` of a tensor holding one vector per sample: every size but one is 1 (after global
    pooling: ``(C,)``, ``(1, C)``, ``(C, 1, 1)``), so no values are mixed and nothing is computed. ``-1`` takes
    the remaining size, as PyTorch does. A reshape that moves values between channels and positions is not this
    layer (see :class:`ChannelShuffle`, :class:`GroupSum`).

    >>> import symcnn as sc
    >>> sc.analyze(sc.Reshape((1, -1)), (64,)).output_shape
    (1, 64)
    """

    def __init__(self, shape):
        sizes = _sizes(self.kind, shape)
        if sum(1 for v in sizes if v == -1) > 1:
            raise SymcnnError(f"{self.kind}: `shape`={fmt(tuple(sizes))} has more than one -1 (PyTorch refuses it)")
        self._set(shape=sizes)
        self._freeze()

    def __repr__(self) -> str:
        return f"{self.kind}({fmt(tuple(self.shape))})"

    def infer(self, x: Shape) -> LayerResult:
        total = prod(x)
        known = prod(v for v in self.shape if v != -1)
        out = Shape(tuple(total / known if v == -1 else v for v in self.shape))
        ck = Checker(self.label)
        ck.require(sympy.Eq(prod(out), total),
                   lambda: f"shape {fmt(tuple(self.shape))} does not hold the {fmt(total)} values of {fmt(tuple(x))}")
        for shape in (x, out):
            if sum(1 for v in shape if decide(sympy.Eq(v, 1)) is not True) > 1:
                raise SymcnnError(f"{self.label}: {fmt(tuple(x))} to {fmt(tuple(out))} is not one vector per sample "
                                  "moved between layouts (all sizes but one equal to 1)")
        return LayerResult(output_shape=out, conditions=tuple(ck.conditions))


class Expand(Layer):
    """``x.expand(B, *shape)`` / ``x.expand_as(other)``: axes of size 1 repeated (a view: nothing computed, no
    memory); ``-1`` keeps a size. PyTorch refuses to expand a size other than 1.

    >>> import symcnn as sc
    >>> sc.analyze(sc.Expand((64, sc.H, sc.W)), (64, 1, 1)).output_shape
    (64, H, W)
    """

    def __init__(self, shape):
        self._set(shape=_sizes(self.kind, shape))
        self._freeze()

    def __repr__(self) -> str:
        return f"{self.kind}({fmt(tuple(self.shape))})"

    def infer(self, x: Shape) -> LayerResult:
        if len(self.shape) != len(x):
            raise SymcnnError(f"{self.label}: `shape`={fmt(tuple(self.shape))} must have the {len(x)} dims of the "
                              f"input {fmt(tuple(x))} (new leading dims would come before the batch)")
        ck = Checker(self.label)
        out = []
        for v, w in zip(self.shape, x, strict=True):
            if v == -1:
                out.append(w)
                continue
            ck.require(sympy.Eq((v - w) * (w - 1), 0),
                       lambda v=v, w=w: f"size {fmt(w)} cannot be expanded to {fmt(v)} (only sizes 1 are repeated)")
            out.append(v)
        return LayerResult(output_shape=Shape(tuple(out)), conditions=tuple(ck.conditions))


class ExpandAs(Layer):
    """``x.expand_as(other)``: ``x``'s axes of size 1 repeated to ``other``'s shape (a view: nothing computed).
    Two inputs, ``x`` then ``other``; PyTorch refuses to expand a size other than 1.

    >>> import symcnn as sc
    >>> x = sc.Input()
    >>> y = sc.Conv2d(3, 64, 1)(x)
    >>> sc.analyze(sc.Graph(x, sc.ExpandAs()(sc.AdaptiveAvgPool2d(1)(y), y)), (3, sc.H, sc.W)).output_shape
    (64, H, W)
    """

    n_inputs = 2

    def __init__(self):
        self._freeze()

    def __repr__(self) -> str:
        return f"{self.kind}()"

    def infer(self, x: Shape, other: Shape) -> LayerResult:
        return Expand(tuple(other)).infer(x)


class GroupSoftmax(_ChannelGroups):
    """Softmax across ``groups`` equal blocks of channels: ``x.view(B, groups, C // groups, *s).softmax(1)``
    viewed back (selective-kernel and split attention weigh their paths so). Three FLOPs per element, as
    :class:`~symcnn.Softmax`; no MACs.

    >>> import symcnn as sc
    >>> sc.analyze(sc.GroupSoftmax(2), (64, 1, 1)).flops
    192
    """

    def infer(self, x: Shape) -> LayerResult:
        ck = self._blocks(x, "the blocks must be equal")
        return LayerResult(output_shape=Shape(x), flops=3 * prod(x), conditions=tuple(ck.conditions))
