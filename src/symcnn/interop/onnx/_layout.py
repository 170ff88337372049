"""ONNX operators that move or select values: Flatten, Reshape, Transpose, Concat, Slice, Split, Pad, Expand.

A reshape is read only when it regroups nothing symcnn counts differently: the same shape, the flatten to
(N, -1), a vector per sample moved between layouts, and two views PyTorch's exporters write, kept as view values
until the reshape back:

* :class:`GroupedView`: ``x.reshape(N, G, -1)``, the lowering of ``nn.GroupNorm(G, C)`` (an
  InstanceNormalization of the view, a reshape back to ``x``'s shape, then Mul and Add of the affine part);
* :class:`ShuffleView`: ``x.reshape(N, g, C/g, *spatial)``, transposed ``(0, 2, 1, ...)`` and reshaped back:
  ShuffleNet's channel shuffle (:class:`symcnn.ChannelShuffle`).

A Slice or Split of the channel axis is :class:`symcnn.Narrow` per piece (``chunk``, ``split``); a Slice of
spatial axes with step 1 is a crop (a negative pad, U-Net's centre crop).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from ... import layers as L
from ..._intmath import decide, smin
from ._reader import Sizes, Tensor, View
from ._sizes import OpError, _ints, _sizes, _tensor, _values, arg

__all__ = ["LAYOUT_HANDLERS", "GroupedView", "ShuffleView", "RadixView", "FlatView", "gather_flat"]

_BIG = 2**31  # an end at or beyond this means "to the end" (exporters write INT64_MAX or INT32_MAX)


@dataclass(frozen=True)
class GroupedView(View):
    """``x.reshape(N, G, -1)`` of the activation ``tensor``: GroupNorm's lowering."""

    tensor: Tensor
    groups: int

    def describe(self) -> str:
        return f"the (N, {self.groups}, -1) view of GroupNorm's lowering"


@dataclass(frozen=True)
class FlatView(View):
    """``x.reshape(-1)`` of ``tensor`` at batch 1: how the dynamo exporter writes ``as_strided`` (a Gather of the
    flat values follows; only the identity gather, every value in place, is read)."""

    tensor: Tensor

    def describe(self) -> str:
        return "the flattened values of an activation (as_strided)"


@dataclass(frozen=True)
class ShuffleView(View):
    """``x.reshape(N, g, C/g, *spatial)`` of ``tensor`` (``transposed``: then its axes 1 and 2 swapped)."""

    tensor: Tensor
    groups: int
    transposed: bool = False

    def describe(self) -> str:
        return f"the (N, {self.groups}, C/{self.groups}, ...) view of a channel shuffle"


@dataclass(frozen=True)
class RadixView(View):
    """``x.reshape(N, 1, radix, C/radix)`` of a per-sample vector ``tensor`` (``(C,)`` or ``(C, 1, 1)``;
    ``transposed``: then its axes 1 and 2 swapped): ResNeSt's rSoftMax with cardinality 1, whose softmax over
    axis 1 of the transposed view is :class:`symcnn.GroupSoftmax` of ``radix`` blocks."""

    tensor: Tensor
    radix: int
    transposed: bool = False

    def describe(self) -> str:
        return f"the (N, 1, {self.radix}, C/{self.radix}) view of split attention's rSoftMax"


def _radix_view(x: Tensor, full, out):
    """:class:`RadixView` when ``out`` is ``(N, 1, r, C/r)`` of a per-sample vector, else None."""
    c = x.shape[0]
    if len(out) != 4 or not _same(out[0], full[0]) or not _same(out[1], 1) or not isinstance(out[2], sympy.Integer):
        return None
    r = int(out[2])
    if r > 1 and c.is_Integer and int(c) % r == 0 and _same(out[3], c / r) and all(_same(s, 1) for s in x.shape[1:]):
        return RadixView(x, r)
    return None


def _spatial(t: Tensor) -> int:
    return len(t.shape) - 1


def _same(a, b) -> bool:
    return a == b or sympy.expand(a - b) == 0


def flatten(ctx, node, ins, attrs):
    x = _tensor(arg(ins, 0, "input"))
    axis = attrs.int("axis", 1)
    rank = len(x.shape) + 1
    if not -rank <= axis <= rank or axis % rank != 1:
        raise OpError(f"`axis`={axis} (only axis 1, keeping the batch axis, reads as torch.flatten(x, 1))")
    if len(x.shape) == 1:
        return [x]
    return [ctx.emit(L.Flatten(), [x], node)]


def _resolve(target, full, allowzero: bool) -> list | None:
    """The target shape with 0 (copy, unless ``allowzero``) and -1 (the rest) resolved, or None if -1 cannot
    be resolved exactly."""
    if sum(1 for t in target if t == -1) > 1:
        raise OpError(f"`shape`={tuple(target)} has more than one -1")
    out = []
    for i, t in enumerate(target):
        if t == 0 and not allowzero:
            if i >= len(full):
                raise OpError(f"`shape`={tuple(target)} copies axis {i} (0) beyond the input's rank {len(full)}")
            t = full[i]
        elif t.is_Integer and t < -1:
            raise OpError(f"`shape`={tuple(target)} has a negative size {t}")
        out.append(t)
    if -1 in out:
        total, known = sympy.Integer(1), sympy.Integer(1)
        for f in full:
            total *= f
        for t in out:
            if t != -1:
                known *= t
        if known == 0:
            raise OpError(f"`shape`={tuple(target)} infers -1 next to a size 0")
        rest = sympy.cancel(total / known)
        if rest.is_integer is not True:
            return None
        out = [rest if t == -1 else t for t in out]
    return out


def reshape(ctx, node, ins, attrs):
    x = arg(ins, 0, "data")
    target = _sizes(arg(ins, 1, "shape"), "shape")
    allowzero = bool(attrs.int("allowzero", 0, minimum=0, maximum=1))
    if isinstance(x, View):
        return [_reshape_back(ctx, node, x, target, allowzero)]
    if isinstance(x, Sizes):  # a size list reshaped (to 1-D, or to a scalar): the same sizes
        return [Sizes(x.values, scalar=len(target) == 0)]
    x = _tensor(x)
    full = [ctx.batch, *x.shape]
    out = _resolve(target, full, allowzero)
    if out is None:
        raise OpError(f"a reshape of {tuple(full)} to {tuple(target)} whose -1 symcnn cannot resolve")
    total = sympy.Integer(1)
    for s in x.shape:
        total *= s
    if full[0] == 1 and len(out) == 1 and _same(out[0], total):
        return [FlatView(x)]
    if not _same(out[0], full[0]) and full[0] == 1 and -1 not in target:
        out = [sympy.Integer(1), *out]  # a batch of 1 dropped (an export at batch 1): the same values
    if not _same(out[0], full[0]):
        raise OpError(f"a reshape of {tuple(full)} to {tuple(out)} changes the batch axis")
    if len(out) == len(full) and all(_same(a, b) for a, b in zip(out[1:], full[1:], strict=True)):
        return [x]  # the same shape: a view that changes nothing
    if len(out) == 2 and _same(out[1], total):
        return [x] if len(x.shape) == 1 else [ctx.emit(L.Flatten(), [x], node)]
    c = x.shape[0]
    if len(out) == 3 and len(full) >= 3 and isinstance(out[1], sympy.Integer) and c.is_Integer and int(out[1]) > 0 \
            and int(c) % int(out[1]) == 0 and _same(out[2], total / out[1]):
        return [GroupedView(x, int(out[1]))]
    if len(out) == len(full) + 1 and len(full) >= 3 and isinstance(out[1], sympy.Integer) and int(out[1]) > 1 \
            and _same(out[1] * out[2], c) and all(_same(a, b) for a, b in zip(out[3:], full[2:], strict=True)):
        return [ShuffleView(x, int(out[1]))]
    radix = _radix_view(x, full, out)
    if radix is not None:
        return [radix]
    ones = [s for s in x.shape if not _same(s, 1)]
    if len(ones) <= 1 and sum(1 for s in out[1:] if not _same(s, 1)) <= 1 and _same(sympy.Mul(*out[1:]), total):
        return [ctx.emit(L.Reshape(tuple(out[1:])), [x], node)]  # one vector per sample, another layout
    raise OpError(f"a reshape of {tuple(full)} to {tuple(target)} regroups values across axes (symcnn reads the "
                  "flatten to (N, -1), GroupNorm's (N, G, -1) and a channel shuffle's (N, g, C/g, ...))")


def gather_flat(ctx, node, view: FlatView, idx) -> Tensor:
    """A Gather of :class:`FlatView`'s values with a constant index tensor: the identity (every value at its own
    place, the index tensor shaped as the activation with its batch of 1) is the activation itself."""
    import numpy as np

    x = view.tensor
    if not all(isinstance(d, sympy.Integer) for d in x.shape):
        raise OpError(f"a gather of {view.describe()} with a symbolic shape {x.shape}")
    shape = (1, *(int(d) for d in x.shape))
    arr = None if idx.value is None else np.asarray(idx.value)
    if arr is None or arr.dtype.kind not in "iu" or tuple(arr.shape) != shape or not np.array_equal(
            arr.reshape(-1), np.arange(arr.size)):
        raise OpError(f"a gather of {view.describe()} that moves values (only the identity is read)")
    return x


def _reshape_back(ctx, node, view, target, allowzero):
    if isinstance(view, FlatView):
        raise OpError(f"a reshape of {view.describe()}")
    if isinstance(view, RadixView):  # (N, 1, r, C/r) or (N, r, 1, C/r): the channels in their order either way
        x = view.tensor
        full = [ctx.batch, *x.shape]
        out = _resolve(target, full, allowzero)
        if out is not None and len(out) == 2 and _same(out[0], ctx.batch) and _same(out[1], x.shape[0]):
            return x if len(x.shape) == 1 else ctx.emit(L.Flatten(), [x], node)
        if out is not None and len(out) == len(full) and all(_same(a, b) for a, b in zip(out, full, strict=True)):
            return x
        if out is not None and len(out) == len(full) + 1 and _same(out[0], ctx.batch) \
                and isinstance(out[1], sympy.Integer) and int(out[1]) > 0 and _same(out[1] * out[2], x.shape[0]) \
                and all(_same(a, b) for a, b in zip(out[3:], x.shape[1:], strict=True)):
            return ShuffleView(x, int(out[1]))  # straight to the (N, r, C/r, 1, 1) view the product reads
        raise OpError(f"a reshape of {view.describe()} to {tuple(target)} (only to (N, -1), to the vector's "
                      "shape or to (N, r, C/r, ...) is read)")
    x = view.tensor
    full = [ctx.batch, *x.shape]
    grouped = [ctx.batch, view.groups, -1] if isinstance(view, GroupedView) else [
        ctx.batch, view.groups, x.shape[0] / view.groups, *x.shape[1:]]
    out = _resolve(target, grouped if not view_transposed(view) else [ctx.batch, grouped[2], grouped[1],
                                                                      *grouped[3:]], allowzero)
    if out is None or len(out) != len(full) or not all(_same(a, b) for a, b in zip(out, full, strict=True)):
        raise OpError(f"a reshape of {view.describe()} to {tuple(target)} (only the reshape back to "
                      f"{tuple(full)} is read)")
    if isinstance(view, ShuffleView) and view.transposed:
        return ctx.emit(L.ChannelShuffle(view.groups), [x], node)
    return x


def view_transposed(view) -> bool:
    return isinstance(view, ShuffleView) and view.transposed


def transpose(ctx, node, ins, attrs):
    from ._reader import to_first, to_last

    x = arg(ins, 0, "data")
    perm = attrs.ints("perm", [])
    if isinstance(x, RadixView):
        if perm == [0, 2, 1, 3]:
            return [RadixView(x.tensor, x.radix, not x.transposed)]
        raise OpError(f"a transpose with `perm`={perm} of {x.describe()} (only (0, 2, 1, 3) is read)")
    if isinstance(x, ShuffleView):
        rank = len(x.tensor.shape) + 2
        if perm == [0, 2, 1, *range(3, rank)]:
            return [ShuffleView(x.tensor, x.groups, not x.transposed)]
        raise OpError(f"a transpose with `perm`={perm} of {x.describe()} (only (0, 2, 1, ...) is read)")
    x = _tensor(x, any_layout=True)
    rank = len(x.shape) + 1
    if perm and sorted(perm) != list(range(rank)):
        raise OpError(f"`perm`={perm} is not a permutation of the {rank} axes")
    if not perm:
        perm = list(range(rank))[::-1]
    if perm == list(range(rank)):
        return [x]
    if rank >= 3 and perm == (to_first(rank) if x.channels_last else to_last(rank)):
        return [Tensor(x.node, x.shape, not x.channels_last)]  # the same values in the other layout
    raise OpError(f"a transpose with `perm`={perm} moves axes (only the identity permutation and the change "
                  "between channels-first and channels-last regroup nothing)")


def concat(ctx, node, ins, attrs):
    if not ins or any(v is None for v in ins):
        raise OpError("it has an empty operand")
    if "axis" not in attrs:
        raise OpError("`axis` is missing (the spec requires it)")
    axis = attrs.int("axis")
    if all(isinstance(v, Tensor) for v in ins):
        xs = [_tensor(v) for v in ins]
        rank = len(xs[0].shape) + 1
        if not -rank <= axis < rank or axis % rank == 0:
            raise OpError(f"`axis`={axis} (out of range for rank {rank}, or the batch axis)")
        if len(xs) == 1:
            return [xs[0]]
        return [ctx.emit(L.Concat(dim=axis % rank), xs, node)]
    if any(isinstance(v, (Tensor, View)) for v in ins):
        raise OpError("a concatenation of activations with constants")
    if axis not in (0, -1):
        raise OpError(f"`axis`={axis} on size lists (only axis 0)")
    out = []
    for v in ins:
        out.extend(_values(v)[0])
    return [Sizes(tuple(out))]


def _slice_args(ins, n_default: int):
    starts, ends = _sizes(arg(ins, 1, "starts"), "starts"), _sizes(arg(ins, 2, "ends"), "ends")
    axes = _ints(ins[3], "axes") if len(ins) > 3 and ins[3] is not None else list(range(len(starts)))
    steps = _ints(ins[4], "steps") if len(ins) > 4 and ins[4] is not None else [1] * len(starts)
    if not len(starts) == len(ends) == len(axes) == len(steps):
        raise OpError(f"`starts`, `ends`, `axes`, `steps` differ in length ({len(starts)}, {len(ends)}, "
                      f"{len(axes)}, {len(steps)})")
    if 0 in steps:
        raise OpError("a step of 0")
    return starts, ends, axes, steps


def _bounds(start, end, size):
    if end.is_number and end >= _BIG:
        end = size
    if start.is_number and start >= _BIG:
        start = size
    start = start + size if start.is_number and start < 0 else start
    end = end + size if end.is_number and end < 0 else end
    if start.is_number and start < 0:
        start = sympy.Integer(0)
    if decide(sympy.Ge(start, 0)) is not True:
        raise OpError(f"a slice starting at {start}, which symcnn cannot prove nonnegative")
    if decide(sympy.Le(end, size)) is not True:
        end = smin(end, size)  # the spec clamps the end to the axis size
    return start, end


def slice_op(ctx, node, ins, attrs):
    x = arg(ins, 0, "data")
    if "starts" in attrs or "ends" in attrs:
        raise OpError("Slice with `starts`/`ends` attributes (opset < 10) on a computed value is not supported")
    if isinstance(x, Tensor):
        return _slice_tensor(ctx, node, _tensor(x), ins)
    if isinstance(x, View):
        raise OpError(f"a slice of {x.describe()}")
    values, _ = _values(x)
    starts, ends, axes, steps = (_ints(arg(ins, 1, "starts"), "starts"), _ints(arg(ins, 2, "ends"), "ends"),
                                 _ints(ins[3], "axes") if len(ins) > 3 and ins[3] is not None else [0],
                                 _ints(ins[4], "steps") if len(ins) > 4 and ins[4] is not None else [1])
    if axes not in ([0], [-1]) or len(starts) != 1 or len(ends) != 1 or len(steps) != 1 or steps[0] == 0:
        raise OpError("Slice of a size list along an axis other than 0 (or several axes, or step 0)")
    e = None if ends[0] >= _BIG else ends[0]
    return [Sizes(tuple(values[slice(starts[0], e, steps[0])]))]


def _slice_tensor(ctx, node, x: Tensor, ins):
    """Channel slices: Narrow; spatial slices with step 1: a crop (a negative pad)."""
    starts, ends, axes, steps = _slice_args(ins, len(x.shape))
    rank = len(x.shape) + 1
    if any(not -rank <= a < rank for a in axes):
        raise OpError(f"`axes`={axes} out of range for rank {rank}")
    axes = [a % rank for a in axes]
    if len(set(axes)) != len(axes) or 0 in axes:
        raise OpError(f"`axes`={axes} repeats an axis or slices the batch axis")
    if any(s != 1 for s in steps):
        raise OpError(f"a slice of an activation with `steps`={steps} (only step 1 is read)")
    if 1 in axes:
        if len(axes) > 1:
            raise OpError(f"a slice of the channel axis together with spatial axes {axes}")
        start, end = _bounds(starts[0], ends[0], x.shape[0])
        return [ctx.emit(L.Narrow(1, start, end - start), [x], node)]
    n = _spatial(x)
    per_axis = [(sympy.Integer(0), sympy.Integer(0))] * n
    for start, end, axis in zip(starts, ends, axes, strict=True):
        size = x.shape[axis - 1]
        start, end = _bounds(start, end, size)
        per_axis[axis - 2] = (-start, -(size - end))
    flat = tuple(p for pair in per_axis[::-1] for p in pair)
    return [ctx.emit(getattr(L, f"ConstantPad{n}d")(flat, 0), [x], node)]


def split(ctx, node, ins, attrs):
    x = _tensor(arg(ins, 0, "input"))
    rank = len(x.shape) + 1
    axis = attrs.int("axis", 0)
    if not -rank <= axis < rank or axis % rank == 0:
        raise OpError(f"`axis`={axis} (out of range for rank {rank}, or the batch axis)")
    axis %= rank
    size = x.shape[axis - 1]
    parts = attrs.ints("split")
    if parts is None and len(ins) > 1 and ins[1] is not None:
        parts = _ints(ins[1], "split")
    k = len(node.output)
    if parts is None:
        n = attrs.int("num_outputs", k, minimum=1)
        if n != k:
            raise OpError(f"`num_outputs`={n} but the node has {k} outputs")
        if not size.is_Integer:
            raise OpError("an equal split of a symbolic size")
        chunk = -(-int(size) // n) if "num_outputs" in attrs else int(size) // n
        if "num_outputs" not in attrs and int(size) % n:
            raise OpError(f"an equal split of {size} into {n} outputs (the size must be divisible)")
        parts = [min(chunk, int(size) - i * chunk) for i in range(n)]
    if len(parts) != k or any(p < 0 for p in parts):
        raise OpError(f"`split`={parts} for {k} outputs")
    if decide(sympy.Eq(sum(parts), size)) is not True:
        raise OpError(f"`split`={parts} does not add up to the axis size {size}")
    out, start = [], 0
    for i, p in enumerate(parts):
        out.append(ctx.emit(L.Narrow(axis, start, p), [x], node, suffix=str(i)) if node.output[i] else None)
        start += p
    return out


def pad(ctx, node, ins, attrs):
    x = _tensor(arg(ins, 0, "data"))
    n = _spatial(x)
    rank = n + 2
    pads = attrs.ints("pads")
    if pads is None:
        pads = _ints(arg(ins, 1, "pads"), "pads")
    axes = list(range(rank))
    if len(ins) > 3 and ins[3] is not None:
        axes = _ints(ins[3], "axes")
        if any(not -rank <= a < rank for a in axes) or len({a % rank for a in axes}) != len(axes):
            raise OpError(f"`axes`={axes} out of range or repeated for rank {rank}")
        axes = [a % rank for a in axes]
    if len(pads) != 2 * len(axes):
        raise OpError(f"`pads` has {len(pads)} entries for {len(axes)} axes")
    full = [0] * (2 * rank)
    for i, a in enumerate(axes):
        full[a], full[a + rank] = pads[i], pads[i + len(axes)]
    if any(full[i] or full[i + rank] for i in (0, 1)):
        raise OpError("padding the batch or channel axis")
    mode = attrs.str("mode", "constant")
    # "wrap" (opset 19, circular padding): the same output size and cost as a constant pad (symcnn has no
    # circular padding layer; onnxruntime's and PyTorch's limit pad <= size is checked here)
    prefix = {"constant": "ConstantPad", "reflect": "ReflectionPad", "edge": "ReplicationPad",
              "wrap": "ConstantPad"}.get(mode)
    if prefix is None:
        raise OpError(f"`mode`={mode!r} (symcnn reads constant, reflect, edge and wrap)")
    if mode == "wrap":
        for i in range(2, rank):
            size = x.shape[i - 1]
            if decide(sympy.Le(sympy.Max(full[i], full[i + rank]), size)) is False:
                raise OpError(f"`pads` {pads} wrap more than the axis size {size}")
    if mode != "constant" and any(p < 0 for p in full):
        raise OpError(f"negative `pads` {pads} with `mode`={mode!r}")
    if not 1 <= n <= 3:
        raise OpError(f"{n} spatial axes (symcnn's padding layers take 1 to 3)")
    per_axis = [(full[2 + i], full[2 + i + rank]) for i in range(n)]
    flat = tuple(p for pair in per_axis[::-1] for p in pair)  # PyTorch's order: last axis first
    cls = getattr(L, f"{prefix}{n}d")
    layer = cls(flat) if prefix != "ConstantPad" else cls(flat, 0)
    return [ctx.emit(layer, [x], node)]


def expand(ctx, node, ins, attrs):
    """Expand of an activation to a shape (batch axis included) with numpy's broadcasting, as ONNX defines it:
    ECA's ``y.expand_as(x)`` (:class:`symcnn.Expand`, a view: nothing computed). New leading axes are refused."""
    x = _tensor(arg(ins, 0, "input"))
    target = _sizes(arg(ins, 1, "shape"), "shape")
    full = (ctx.batch, *x.shape)
    if len(target) > len(full):
        raise OpError(f"it expands the activation {tuple(full)} to {len(target)} axes (a new leading axis)")
    target = [sympy.Integer(1)] * (len(full) - len(target)) + target
    out = []
    for t, d in zip(target, full, strict=True):
        if t == 1 or t == d:
            out.append(d)
        elif d == 1:
            out.append(t)
        else:
            raise OpError(f"it expands size {d} to {t}: only sizes 1 are repeated (or the sizes cannot be "
                          "decided equal)")
    if out[0] != full[0]:
        raise OpError(f"it expands the batch axis {full[0]} to {out[0]}")
    return [ctx.emit(L.Expand(tuple(out[1:])), [x], node)]


LAYOUT_HANDLERS = {
    "Flatten": flatten, "Reshape": reshape, "Transpose": transpose, "Concat": concat, "Slice": slice_op,
    "Split": split, "Pad": pad, "Expand": expand,
}
