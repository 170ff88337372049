"""What autograd keeps for the backward pass, per layer kind, counted once per storage.

A layer call that has a ``grad_fn`` (some input requires grad, or the layer is trainable) saves tensors, as the
formulas of PyTorch 2.x's ``derivatives.yaml`` ask (measured with ``torch.autograd.graph.saved_tensors_hooks``
on CPU; ``tests/test_training_torch.py``):

=============================  =================================================================================
convolution (and transposed)   its input (a zero-padded copy when the padding is asymmetric or SAME at a stride;
                               PyTorch's ``padding="same"`` with an even kernel pads only the extra pixel)
linear                         its input, only if its weight is trainable (``addmm`` saves ``mat1`` for the
                               weight gradient only)
batch norm (training)          its input and the per-channel ``save_mean``/``save_invstd`` (``2*C`` in the
                               parameter dtype)
ReLU, Sigmoid, Tanh, Softmax   its output
other activations, PReLU       its input (in place: LeakyReLU, ELU/SELU/CELU save the output, which is their
                               input's storage; ReLU6/Hardtanh, SiLU, Mish, Hardswish, Hardsigmoid save a copy
                               of the input)
max pooling                    its input and the int64 indices (one per output element)
average pooling                its input (adaptive average pooling to 1x1 runs as ``mean``: nothing)
dropout (training, p > 0)      CPU: the scaled noise tensor (input dtype; ``(B, C)`` for Dropout1d/2d/3d);
                               CUDA: ``native_dropout``'s bool mask (1 byte per element)
reflection/replication pad     its input
clamp by constants             its input
layer norm, group norm         its input, and a float32 mean and reciprocal std per normalised row / group
learned scale (``x * w``)      its input, only if ``w`` is trainable
stochastic depth (p > 0)       the ``(B, 1, ..., 1)`` noise (one value for ``mode='batch'``)
add, cat, flatten, views,      nothing (also permute, learned shift, slices, chunk/split pieces, reshapes, expand,
upsampling, constant padding   channel shuffle and group sums; a softmax across channel groups saves its output)
=============================  =================================================================================

Parameters and buffers (BatchNorm's running statistics are saved too) are the model's own storage and are not
counted here. A tensor saved by several ops (a ReLU output saved by the ReLU and the next convolution and the
max pooling) is one storage and counts once, at the first layer that saves it. Under autocast, convolutions and
linear layers save low-precision *copies* of their input and weight (new storages, counted); the layers of
autocast's float32 list (CPU: reflection/replication padding, 3-d pooling; CUDA: softmax, log-softmax, softplus)
save a float32 copy of a low-precision input; PReLU saves a low-precision copy of its weight; other layers run
in the dtype they receive. Checkpointed segments (``torch.utils.checkpoint``, ``use_reentrant=False``) keep
only their input tensors; their layers' saved tensors are recomputed during the backward pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from .._errors import SymcnnError
from ..layers import (
    RBF,
    AlphaDropout,
    ChannelShuffle,
    ConnectionTableConv2d,
    Dropout,
    Dropout1d,
    Dropout2d,
    Dropout3d,
    Expand,
    ExpandAs,
    Flatten,
    GroupSoftmax,
    GroupSum,
    Identity,
    Linear,
    Narrow,
    Opaque,
    PReLU,
    Reshape,
    ScalarOp,
    SpatialPyramidPooling,
    Subsampling2d,
    Upsample,
)
from ..layers import activation as _act
from ..layers import merge as _merge
from ..layers import norm as _norm
from ..layers._base import prod
from ..layers.activation import StochasticDepth
from ..layers.conv import _ConvNd
from ..layers.norm import _BatchNorm
from ..layers.permute import Permute
from ..layers.pool import _AdaptivePoolNd, _AvgPoolNd, _MaxPoolNd
from ..layers.resize import _PadNd
from ..layers.scale import LearnedScale, LearnedShift
from ..layers.space_to_depth import SpaceToDepth
from ..layers.transposed import _ConvTransposeNd
from ._memory import DTYPES

__all__ = ["Tensor", "Context", "layer_ops", "RESULT_SAVERS", "INPUT_SAVERS"]

#: activations whose backward reads their output / their input (PyTorch's derivative formulas)
RESULT_SAVERS = ("ReLU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax")
INPUT_SAVERS = ("ReLU6", "Hardtanh", "LeakyReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish", "Hardswish",
                "Hardsigmoid", "Softplus")
#: activations with an in-place form: saving the (shared) output, or a copy of the input
_INPLACE_RESULT = ("ReLU", "LeakyReLU", "ELU", "SELU", "CELU")
_INPLACE_COPY = ("ReLU6", "Hardtanh", "SiLU", "Mish", "Hardswish", "Hardsigmoid")
#: autocast runs these in float32 (``autocast_mode.cpp``'s fp32 lists): casts a low-precision input to a float32
#: copy, which the layer then saves. CPU: probed on torch 2.13; CUDA: read from the source, not measured.
_AUTOCAST_FP32 = {
    "cpu": ("ReflectionPad1d", "ReflectionPad2d", "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d",
            "MaxPool3d", "AvgPool3d", "AdaptiveAvgPool3d", "AdaptiveMaxPool3d"),
    "cuda": ("Softmax", "LogSoftmax", "Softplus"),
}
_FEATURE_DROPOUT = (Dropout1d, Dropout2d, Dropout3d)


@dataclass(frozen=True)
class Tensor:
    """A tensor of the forward pass: ``key`` names its storage, ``numel`` counts elements (batch included)."""

    key: tuple
    dtype: str
    numel: sympy.Expr

    @property
    def nbytes(self) -> sympy.Expr:
        return self.numel * DTYPES[self.dtype]


@dataclass(frozen=True)
class Context:
    batch: sympy.Expr
    param_dtype: str
    autocast: str | None
    device: str
    inplace: bool


def promote(dtypes) -> str:
    """PyTorch's type promotion among float dtypes (bf16 with fp16 gives float32)."""
    kinds = set(dtypes)
    if len(kinds) == 1:
        return kinds.pop()
    for d in ("float64", "float32"):
        if d in kinds:
            return d
    return "float32"


def _arg(layer, name: str, position: int, default):
    if name in layer.kwargs:
        return layer.kwargs[name]
    return layer.args[position] if len(layer.args) > position else default


def _conv_weights(layer) -> sympy.Expr:
    return layer.out_channels * layer.in_channels / layer.groups * prod(layer.kernel_size)


def _padded_numel(layer, rec, batch) -> sympy.Expr | None:
    """Elements of the zero-padded copy PyTorch makes before an asymmetric / strided-SAME convolution."""
    if isinstance(layer, _ConvTransposeNd) or layer.padding == "valid":
        return None
    x = rec.input_shapes[0]
    pads = layer.pads(x[1:])
    strided_same = layer.padding == "tf_same" and any(s != 1 for s in layer.stride)
    if not strided_same and all(sympy.expand(a - b) == 0 for a, b in pads):
        return None
    if layer.padding in ("same", "tf_same") and not strided_same:
        # PyTorch's own "same": the convolution pads min(left, right) itself; only the extra pixel is a copy
        return sympy.Mul(batch, x[0], *(w + sympy.Abs(b - a) for w, (a, b) in zip(x[1:], pads, strict=True)))
    return sympy.Mul(batch, x[0], *(w + a + b for w, (a, b) in zip(x[1:], pads, strict=True)))


class _Call:
    """The tensors one layer call saves, and its output tensor."""

    def __init__(self, rec, ins, in_req, trainable, ctx: Context, cache: dict):
        self.rec, self.ins, self.in_req, self.trainable, self.ctx = rec, ins, in_req, trainable, ctx
        self.cache = cache
        self.saved: list[Tensor] = []
        self.inplace_of: Tensor | None = None
        self.grad_fn = any(in_req) or trainable
        self.out_numel = sympy.Mul(ctx.batch, *rec.output_shape)

    def new(self, tag: str, dtype: str, numel=None) -> Tensor:
        return Tensor((tag, self.rec.index), dtype, self.out_numel if numel is None else numel)

    def low(self, t: Tensor) -> Tensor:
        """Autocast's cast of a float tensor to the low precision (a new storage), or ``t`` itself."""
        low = self.ctx.autocast
        if low is None or t.dtype == low:
            return t
        return Tensor(("cast", t.key, low), low, t.numel)

    def weight_copy(self, numel, tag="w") -> Tensor:
        """Autocast's low-precision copy of a weight: cached per trainable weight, else one per call."""
        layer = self.rec.layer
        key = ("wcast", tag, id(layer)) if self.trainable else ("wcast", tag, id(layer), self.rec.index)
        return Tensor(key, self.ctx.autocast, numel)


def layer_ops(rec, ins: list[Tensor], in_req: list[bool], trainable: bool, ctx: Context, cache: dict):
    """(tensors saved by the call, its output tensor) for the call ``rec`` of an analysis."""
    c = _Call(rec, ins, in_req, trainable, ctx, cache)
    layer = rec.layer
    out = _dispatch(c, layer)
    return (c.saved if c.grad_fn else []), out, c.inplace_of


def _dispatch(c: _Call, layer) -> Tensor:
    ctx = c.ctx
    if ctx.autocast and layer.kind in _AUTOCAST_FP32[ctx.device] and c.ins[0].dtype != "float32":
        t = c.ins[0]
        c.ins = [Tensor(("cast", t.key, "float32"), "float32", t.numel), *c.ins[1:]]
    x = c.ins[0]
    if isinstance(layer, _ConvNd):
        if layer.padding_mode != "zeros":
            raise SymcnnError(
                f"training: layer {c.rec.index} '{c.rec.name}': `padding_mode`={layer.padding_mode!r} is not "
                "modelled (only 'zeros'); PyTorch pads with a separate op whose saved tensors are not counted"
            )
        numel = _padded_numel(layer, c.rec, ctx.batch)
        if numel is not None:
            x = Tensor(("pad", c.rec.index), x.dtype, numel)
        xc = c.low(x)
        c.saved.append(xc)
        if ctx.autocast:
            c.saved.append(c.weight_copy(_conv_weights(layer)))
        return c.new("out", xc.dtype)
    if isinstance(layer, Linear):
        xc = c.low(x)
        if c.trainable:
            c.saved.append(xc)
        if ctx.autocast and c.in_req[0]:
            c.saved.append(c.weight_copy(layer.in_features * layer.out_features))
        return c.new("out", xc.dtype)
    if isinstance(layer, _BatchNorm):
        per_channel = sympy.Mul(ctx.batch, *c.rec.input_shapes[0][1:])
        if per_channel.is_Integer and per_channel == 1:
            raise SymcnnError(
                f"training: layer {c.rec.index} '{c.rec.name}' ({c.rec.kind}) gets 1 value per channel (batch 1, "
                f"input {c.rec.input_shapes[0]}); PyTorch refuses batch norm in training mode then"
            )
        c.saved += [x, c.new("bnstats", c.ctx.param_dtype, 2 * layer.num_features)]
        return c.new("out", x.dtype)
    if isinstance(layer, PReLU):  # on autocast's low-precision list, like a convolution: input and weight cast
        xc = c.low(x)
        c.saved.append(xc)
        if ctx.autocast:
            c.saved.append(c.weight_copy(layer.num_parameters))
        return c.new("out", xc.dtype)
    if isinstance(layer, (Dropout, AlphaDropout, *_FEATURE_DROPOUT)):
        return _dropout(c, layer, x)
    if isinstance(layer, (_norm.LayerNorm, _norm.LayerNorm2d, _norm.GroupNorm, StochasticDepth, LearnedScale,
                          LearnedShift, Permute)):
        return _statistics_and_views(c, layer, x)
    if isinstance(layer, Identity):
        return x
    if isinstance(layer, _act._Elementwise):
        return _activation(c, layer, x)
    if isinstance(layer, _MaxPoolNd):
        c.saved += [x, c.new("indices", "int64")]
        return c.new("out", x.dtype)
    if isinstance(layer, _AvgPoolNd):
        c.saved.append(x)
        return c.new("out", x.dtype)
    if isinstance(layer, _AdaptivePoolNd):
        if layer._op == "max":
            c.saved += [x, c.new("indices", "int64")]
        elif any(o != 1 for o in c.rec.output_shape[1:]):  # to 1x1 PyTorch takes the mean: nothing saved
            c.saved.append(x)
        return c.new("out", x.dtype)
    if isinstance(layer, SpatialPyramidPooling):
        c.saved.append(x)
        if layer.mode == "max":
            c.saved += [Tensor(("indices", c.rec.index, i), "int64", ctx.batch * x_channels(c) * n * n)
                        for i, n in enumerate(layer.levels)]
        return c.new("out", x.dtype)
    if isinstance(layer, _merge.Clamp):
        c.saved.append(x)  # clamp's backward reads its input
        return c.new("out", x.dtype)
    if isinstance(layer, GroupSoftmax):
        out = c.new("out", x.dtype)
        c.saved.append(out)  # softmax saves its result
        return out
    if isinstance(layer, (Flatten, Narrow, Reshape, Expand, ExpandAs)):
        return Tensor(x.key, x.dtype, x.numel)  # a view of its input
    if isinstance(layer, _PadNd):
        if layer.kind.startswith(("Reflection", "Replication")):
            c.saved.append(x)
        return c.new("out", x.dtype)
    if isinstance(layer, (Upsample, ScalarOp, _merge.Add, _merge.Concat, ChannelShuffle, GroupSum, SpaceToDepth)):
        return c.new("out", promote(t.dtype for t in c.ins))
    if isinstance(layer, _merge.Mul):
        acc, acc_req = c.ins[0], c.in_req[0]
        for k, (y, y_req) in enumerate(zip(c.ins[1:], c.in_req[1:], strict=True)):
            if acc_req:
                c.saved.append(y)
            if y_req:
                c.saved.append(acc)
            acc = Tensor(("mul", c.rec.index, k), promote((acc.dtype, y.dtype)), c.out_numel)
            acc_req = acc_req or y_req
        return acc
    if isinstance(layer, Subsampling2d):
        if c.in_req[0]:
            c.saved.append(x)  # avg_pool2d
        if c.trainable:
            c.saved.append(c.new("scaled", x.dtype))  # (block sum * k^2) * weight saves the left operand
        return c.new("out", x.dtype)
    if isinstance(layer, ConnectionTableConv2d):
        return _connection_table(c, layer, x)
    if isinstance(layer, RBF):
        if c.in_req[0]:
            c.saved.append(x)  # x * x
            if ctx.autocast:  # x @ prototypes.t() under autocast: the low-precision prototype copy
                c.saved.append(c.weight_copy(layer.in_features * layer.out_features))
        return c.new("out", x.dtype)
    if isinstance(layer, Opaque):
        raise SymcnnError(
            f"training: layer {c.rec.index} '{c.rec.name}' is Opaque: it has formulas but no computation, so what "
            "autograd saves for it is unknown"
        )
    raise SymcnnError(f"training: layer {c.rec.index} '{c.rec.name}' ({c.rec.kind}) has no training rule")


def x_channels(c: _Call):
    return c.rec.input_shapes[0][0]


def _is_inplace(c: _Call, layer) -> bool:
    name = layer.kind
    if name not in _INPLACE_RESULT + _INPLACE_COPY:
        return False
    position = {"ReLU": 0, "ReLU6": 0, "SiLU": 0, "Mish": 0, "Hardswish": 0, "Hardsigmoid": 0, "SELU": 0,
                "LeakyReLU": 1, "ELU": 1, "CELU": 1, "Hardtanh": 2}[name]
    return bool(_arg(layer, "inplace", position, False)) or c.ctx.inplace


def _activation(c: _Call, layer, x: Tensor) -> Tensor:
    name = layer.kind
    if _is_inplace(c, layer):
        c.inplace_of = x
        out = Tensor(x.key, x.dtype, x.numel)
        c.saved.append(out if name in _INPLACE_RESULT else c.new("copy", x.dtype))
        return out
    out = c.new("out", x.dtype)
    if name in RESULT_SAVERS:
        c.saved.append(out)
    elif name in INPUT_SAVERS:
        c.saved.append(x)
    else:
        raise SymcnnError(f"training: layer {c.rec.index} '{c.rec.name}' ({name}) has no training rule")
    return out


def _statistics_and_views(c: _Call, layer, x: Tensor) -> Tensor:
    """LayerNorm / LayerNorm2d / GroupNorm (``native_layer_norm`` / ``native_group_norm`` save the input and a
    mean and a reciprocal standard deviation per normalised group), ``Permute`` (a view: nothing), ``LearnedScale``
    (``x * w`` saves ``x`` for the weight gradient), ``LearnedShift`` (nothing), ``StochasticDepth`` (training:
    ``x * noise`` saves the ``(B, 1, ...)`` noise, ``B`` values for ``mode='row'``, 1 for ``'batch'``)."""
    if isinstance(layer, Permute):
        return Tensor(x.key, x.dtype, x.numel)  # a view of its input
    if c.ctx.autocast and isinstance(layer, (_norm.LayerNorm, _norm.LayerNorm2d, _norm.GroupNorm)):
        raise SymcnnError(f"training: layer {c.rec.index} '{c.rec.name}' ({c.rec.kind}): mixed precision is not "
                          "modelled for this normalisation (autocast runs it in float32)")
    if isinstance(layer, StochasticDepth):
        if layer.p == 0:
            return x  # the input itself
        if c.in_req[0]:
            c.saved.append(c.new("noise", x.dtype, c.ctx.batch if layer.mode == "row" else 1))
        return c.new("out", x.dtype)
    if isinstance(layer, LearnedShift):
        return c.new("out", x.dtype)
    if isinstance(layer, LearnedScale):
        if c.trainable:
            c.saved.append(x)
        return c.new("out", x.dtype)
    shape = c.rec.input_shapes[0]
    rows = sympy.Mul(c.ctx.batch, *(shape[:-len(layer.normalized_shape)] if isinstance(layer, _norm.LayerNorm)
                                    else (layer.num_groups,) if isinstance(layer, _norm.GroupNorm) else shape[1:]))
    c.saved += [x, c.new("mean", "float32" if x.dtype != "float64" else x.dtype, rows),
                c.new("rstd", "float32" if x.dtype != "float64" else x.dtype, rows)]
    return c.new("out", x.dtype)


def _dropout(c: _Call, layer, x: Tensor) -> Tensor:
    p = _arg(layer, "p", 0, 0.5)
    if p == 0:
        return x  # PyTorch returns the input itself
    inplace = bool(_arg(layer, "inplace", 1, False))
    feature = isinstance(layer, _FEATURE_DROPOUT)
    if c.in_req[0]:
        if c.ctx.device == "cuda" and type(layer) is Dropout:
            c.saved.append(c.new("mask", "bool"))  # native_dropout's mask
        else:
            numel = c.ctx.batch * x_channels(c) if feature else c.out_numel
            c.saved.append(c.new("noise", x.dtype, numel))
    if inplace:
        c.inplace_of = x
        return Tensor(x.key, x.dtype, x.numel)
    return c.new("out", x.dtype)


def _connection_table(c: _Call, layer, x: Tensor) -> Tensor:
    """The torch twin: per output map, ``x[:, row]`` (a gathered copy; the int64 index tensor is saved when the
    input requires grad) convolved with that map's weights; ``torch.cat``; plus the bias."""
    spatial = c.rec.input_shapes[0][1:]
    dtype = x.dtype
    for m, row in enumerate(layer.table):
        gathered = Tensor(("gather", c.rec.index, m), dtype, sympy.Mul(c.ctx.batch, len(row), *spatial))
        if c.in_req[0]:
            c.saved.append(Tensor(("gidx", c.rec.index, m), "int64", sympy.Integer(len(row))))
        g = c.low(gathered)
        c.saved.append(g)
        if c.ctx.autocast:
            c.saved.append(c.weight_copy(len(row) * prod(layer.kernel_size), tag=f"row{m}"))
        dtype = g.dtype
    return c.new("out", dtype)
