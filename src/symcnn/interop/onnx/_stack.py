"""Activations stacked along a new axis 1: selective-kernel attention as PyTorch's exporters write it.

``torch.stack([a, b], 1)`` is Unsqueeze(axis 1) of each path and a Concat along axis 1: an ``(N, k, C, *spatial)``
tensor, kept as :class:`~._layout.ShuffleView` of the paths concatenated along the channels (``(N, k * C,
*spatial)``, the layout from_torch reads ``stack(..., 1)`` in, :class:`symcnn.Concat`). On that view symcnn reads
what SKNet's attention does with it: the sum over axis 1 (ReduceSum: :class:`symcnn.GroupSum`), the softmax over
axis 1 of the attention reshaped to ``(N, k, C, 1, 1)`` (:class:`symcnn.GroupSoftmax`), and the product of two
such views (Mul, broadcasting the attention over the spatial axes). Anything else done to the view is refused.
"""

from __future__ import annotations

from ... import layers as L
from ._layout import RadixView, ShuffleView
from ._layout import concat as _concat
from ._reader import Const, Tensor
from ._sizes import OpError, _ints, _tensor, arg

__all__ = ["STACK_HANDLERS", "is_view", "binary_views", "softmax_view"]


def is_view(v) -> bool:
    """An ``(N, k, C, *spatial)`` view (stacked paths, or the attention reshaped so), not transposed."""
    return isinstance(v, ShuffleView) and not v.transposed


def _axes(ctx, node, ins, attrs, rank: int) -> list[int] | None:
    axes = attrs.ints("axes")
    if axes is None and len(ins) > 1 and ins[1] is not None:
        axes = _ints(ins[1], "axes")
    if axes is None:
        return None
    if any(not -rank <= a < rank for a in axes):
        raise OpError(f"`axes`={axes} out of range for rank {rank}")
    return sorted({a % rank for a in axes})


def unsqueeze(ctx, node, ins, attrs):
    """Unsqueeze of an activation at axis 1 (a path of ``torch.stack(..., 1)``); of sizes, the same sizes."""
    from ._sizes import unsqueeze as sizes_unsqueeze

    x = arg(ins, 0, "data")
    if not isinstance(x, Tensor):
        return sizes_unsqueeze(ctx, node, ins, attrs)
    x = _tensor(x)
    axes = _axes(ctx, node, ins, attrs, len(x.shape) + 2)
    if axes != [1]:
        raise OpError(f"Unsqueeze of an activation at `axes`={axes} (only axis 1, torch.stack(..., 1), is read)")
    return [ShuffleView(x, 1)]


def concat(ctx, node, ins, attrs):
    """Concat of stacked views along axis 1 (their paths' channels concatenated); else :func:`._layout.concat`."""
    if not any(isinstance(v, ShuffleView) for v in ins if v is not None):
        return _concat(ctx, node, ins, attrs)
    if not all(is_view(v) for v in ins):
        raise OpError("a concatenation of a stacked view with other values")
    rank = len(ins[0].tensor.shape) + 2
    axis = attrs.int("axis")
    if not -rank <= axis < rank or axis % rank != 1:
        raise OpError(f"`axis`={axis} of stacked paths (only the stacking axis 1 is read)")
    per = [v.tensor.shape[0] / v.groups for v in ins]
    if any(p != per[0] for p in per) or any(v.tensor.shape[1:] != ins[0].tensor.shape[1:] for v in ins):
        raise OpError("stacked paths of different shapes")
    if len(ins) == 1:
        return [ins[0]]
    out = ctx.emit(L.Concat(dim=1), [v.tensor for v in ins], node)
    return [ShuffleView(out, sum(v.groups for v in ins))]


def binary_views(ctx, node, a, b):
    """Mul of two stacked views with the same paths (the attention broadcast over the spatial axes)."""
    if node.op_type != "Mul" or not (is_view(a) and is_view(b)):
        raise OpError(f"{node.op_type} of a stacked view (only the product of two (N, k, C, ...) views is read)")
    if a.groups != b.groups or a.tensor.shape[0] != b.tensor.shape[0]:
        raise OpError(f"a product of stacked views of {a.groups} and {b.groups} paths of different channels")
    return [ShuffleView(ctx.emit(L.Mul(), [a.tensor, b.tensor], node), a.groups)]


def softmax_view(ctx, node, v, attrs):
    """Softmax over axis 1 (the paths) of an ``(N, k, C, ...)`` view, or of ResNeSt's transposed ``(N, r, 1,
    C/r)`` view: :class:`symcnn.GroupSoftmax` (opset >= 13: earlier opsets flatten the axes from ``axis`` on)."""
    if isinstance(v, RadixView):
        axis = attrs.int("axis", -1)
        if node.op_type != "Softmax" or not v.transposed or axis not in (1, -3) or (ctx.opset or 13) < 13:
            raise OpError(f"{node.op_type} of {v.describe()} over `axis`={axis} (only Softmax over axis 1 of "
                          "the transposed view, opset >= 13)")
        return [RadixView(ctx.emit(L.GroupSoftmax(v.radix), [v.tensor], node), v.radix, True)]
    rank = len(v.tensor.shape) + 2
    axis = attrs.int("axis", -1)
    if node.op_type != "Softmax" or not -rank <= axis < rank or axis % rank != 1 or (ctx.opset or 13) < 13:
        raise OpError(f"{node.op_type} of a stacked view over `axis`={axis} (only Softmax over the paths, "
                      "axis 1, opset >= 13)")
    return [ShuffleView(ctx.emit(L.GroupSoftmax(v.groups), [v.tensor], node), v.groups)]


def reduce_sum(ctx, node, ins, attrs):
    """ReduceSum over axis 1 of stacked paths: their sum (:class:`symcnn.GroupSum`)."""
    v = arg(ins, 0, "data")
    if not is_view(v):
        what = "an activation" if isinstance(v, Tensor) else "a constant" if isinstance(v, Const) else "this value"
        raise OpError(f"ReduceSum of {what} (only the sum over the paths of stacked activations is read)")
    axes = _axes(ctx, node, ins, attrs, len(v.tensor.shape) + 2)
    if axes != [1]:
        raise OpError(f"ReduceSum over `axes`={axes} of stacked paths (only axis 1)")
    out = v.tensor if v.groups == 1 else ctx.emit(L.GroupSum(v.groups), [v.tensor], node)
    return [ShuffleView(out, 1)] if attrs.int("keepdims", 1) else [out]


STACK_HANDLERS = {"Unsqueeze": unsqueeze, "Concat": concat, "ReduceSum": reduce_sum}
