"""Normalization: ``BatchNorm1d/2d/3d``, ``LayerNorm``, ``LayerNorm2d`` (over channels), ``GroupNorm``.

``params = 2*C`` (weight and bias, when ``affine``; ``C`` with ``bias=False``); the running mean and variance and
``num_batches_tracked`` are buffers (``2*C + 1``), not parameters, as in ``sum(p.numel())``.
FLOPs at inference: 2 per element (the statistics fold into one scale and one shift).
Connections: 2 per element when affine (one weight and one bias used per output).

``LayerNorm``, ``LayerNorm2d`` and ``GroupNorm`` compute their statistics from the input at inference too:
FLOPs ``4`` per element to normalise plus ``1`` with a learned weight (fvcore's count), MACs 0 (PyTorch's
``FlopCounterMode`` counts none for them). Parameters: ``LayerNorm`` ``prod(normalized_shape)`` per weight and
per bias, ``LayerNorm2d`` and ``GroupNorm`` ``C`` each; no buffers. The receptive field is the identity on every
spatial axis (each output position is its own input position; the statistics, which pool over the normalised
positions, are not part of the field, as for a BatchNorm in training mode).
"""

from __future__ import annotations

import sympy

from .._errors import SymcnnError
from ._base import Checker, Layer, LayerResult, Shape, check_device_dtype, fmt, prod, to_expr

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LayerNorm", "LayerNorm2d", "GroupNorm"]


class _BatchNorm(Layer):
    _ranks: tuple[int, ...] = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None,
                 dtype=None, *, bias=True):
        check_device_dtype(self.kind, device, dtype)
        for name, v in (("affine", affine), ("track_running_stats", track_running_stats), ("bias", bias)):
            if not isinstance(v, bool):
                raise SymcnnError(f"{self.kind}: `{name}`={v!r} must be True or False")
        for name, v in (("eps", eps), ("momentum", momentum)):
            if not (v is None and name == "momentum") and (isinstance(v, bool) or not isinstance(v, (int, float))):
                raise SymcnnError(f"{self.kind}: `{name}`={v!r} must be a number")
        self._set(
            num_features=to_expr(self.kind, "num_features", num_features, minimum=1),
            affine=affine,
            track_running_stats=track_running_stats,
            bias=bias,
        )
        self._freeze()

    def __repr__(self) -> str:
        extra = ("" if self.affine else ", affine=False") + ("" if self.bias else ", bias=False")
        extra += "" if self.track_running_stats else ", track_running_stats=False"
        return f"{self.kind}({fmt(self.num_features)}{extra})"

    def batch_conditions(self, input_shapes, batch, training):
        """In training mode the statistics need more than 1 value per channel: ``batch * prod(spatial) >= 2``
        (``_verify_batch_size`` in ``torch/nn/functional.py``); in eval mode too without running statistics
        (``track_running_stats=False`` normalises with the batch's own), else the running statistics are used."""
        if not training and self.track_running_stats:
            return ()  # eval mode with running statistics: nothing is computed from the batch
        n = batch * prod(input_shapes[0][1:])
        why = "in training mode" if training else "with `track_running_stats`=False"
        return ((sympy.Ge(n, 2), f"{why} the batch statistics need more than 1 value per channel, and the batch "
                 f"times the spatial size is {fmt(n)} (PyTorch refuses it: \"Expected more than 1 value per channel "
                 "when training\")"),)

    def infer(self, x: Shape) -> LayerResult:
        if len(x) not in self._ranks:
            raise SymcnnError(
                f"{self.label}: input shape {fmt(tuple(x))} has {len(x)} dims; expected "
                f"{' or '.join(map(str, self._ranks))} (channels first, without the batch dimension)"
            )
        ck = Checker(self.label)
        if self.affine or self.track_running_stats:  # else no per-channel tensor: PyTorch takes any channels
            ck.require(sympy.Eq(x[0], self.num_features),
                       f"input has {fmt(x[0])} channels but `num_features`={fmt(self.num_features)}")
        c = self.num_features
        numel = prod(x)
        return LayerResult(
            output_shape=Shape(x),
            params=(1 + (1 if self.bias else 0)) * c if self.affine else sympy.Integer(0),
            buffers=2 * c + 1 if self.track_running_stats else sympy.Integer(0),
            flops=2 * numel,
            connections=(1 + (1 if self.bias else 0)) * numel if self.affine else sympy.Integer(0),
            conditions=tuple(ck.conditions),
        )


class BatchNorm1d(_BatchNorm):
    """``torch.nn.BatchNorm1d``: input ``(C,)`` or ``(C, L)``."""

    _ranks = (1, 2)


class BatchNorm2d(_BatchNorm):
    """``torch.nn.BatchNorm2d``: input ``(C, H, W)``."""

    _ranks = (3,)


class BatchNorm3d(_BatchNorm):
    """``torch.nn.BatchNorm3d``: input ``(C, D, H, W)``."""

    _ranks = (4,)


def _check_flag(label: str, name: str, v) -> None:
    if not isinstance(v, bool):
        raise SymcnnError(f"{label}: `{name}`={v!r} must be True or False")


def _check_eps(label: str, v) -> None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise SymcnnError(f"{label}: `eps`={v!r} must be a number")


def _statistics_result(x: Shape, params, affine: bool, bias: bool, ck: Checker) -> LayerResult:
    """What LayerNorm, LayerNorm2d and GroupNorm share once their arguments are checked (module docstring)."""
    numel = prod(x)
    return LayerResult(
        output_shape=Shape(x), params=params, flops=(4 + (1 if affine else 0)) * numel,
        connections=((1 if affine else 0) + (1 if affine and bias else 0)) * numel,
        conditions=tuple(ck.conditions))


class LayerNorm(Layer):
    """``torch.nn.LayerNorm(normalized_shape, eps=1e-5, elementwise_affine=True, bias=True)``: normalises over
    the trailing dims ``normalized_shape`` (an int is one dim), which must end the input's shape.

    >>> import symcnn as sc
    >>> a = sc.analyze(sc.LayerNorm(96), (sc.H, sc.W, 96))   # ConvNeXt's norm, channels last
    >>> a.params, a.flops
    (192, 480*H*W)
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, device=None, dtype=None):
        check_device_dtype(self.kind, device, dtype)
        shape = (normalized_shape,) if not isinstance(normalized_shape, (list, tuple)) else tuple(normalized_shape)
        if not shape:
            raise SymcnnError(f"{self.kind}: `normalized_shape`=() must name at least one dim (PyTorch refuses it)")
        _check_eps(self.kind, eps)
        _check_flag(self.kind, "elementwise_affine", elementwise_affine)
        _check_flag(self.kind, "bias", bias)
        self._set(normalized_shape=tuple(to_expr(self.kind, "normalized_shape", v, minimum=1) for v in shape),
                  eps=eps, elementwise_affine=elementwise_affine, bias=bias)
        self._freeze()

    def __repr__(self) -> str:
        extra = "" if self.elementwise_affine else ", elementwise_affine=False"
        extra += "" if self.bias else ", bias=False"
        return f"{self.kind}({fmt(self.normalized_shape)}{extra})"

    def infer(self, x: Shape) -> LayerResult:
        n = self.normalized_shape
        if len(n) > len(x):
            raise SymcnnError(f"{self.label}: `normalized_shape`={fmt(n)} has more dims than the input "
                              f"{fmt(tuple(x))} (without the batch dimension, which symcnn never normalises over)")
        ck = Checker(self.label)
        for i, v in enumerate(n):
            got = x[len(x) - len(n) + i]
            ck.require(sympy.Eq(got, v), lambda got=got: f"input shape {fmt(tuple(x))} does not end with "
                       f"`normalized_shape`={fmt(n)} (PyTorch refuses it)")
        count = prod(n)
        affine = self.elementwise_affine
        params = count * (1 + (1 if self.bias else 0)) if affine else sympy.Integer(0)
        return _statistics_result(x, params, affine, self.bias, ck)


class LayerNorm2d(Layer):
    """A layer norm over the channels of a channels-first ``(C, H, W)`` tensor, each position apart: what
    ``torchvision.models.convnext.LayerNorm2d`` and timm's ``LayerNorm2d`` compute (``permute``, ``LayerNorm(C)``,
    ``permute`` back). ``LayerNorm2d(num_channels, eps=1e-6, affine=True)``: ``2*C`` parameters when affine.

    >>> import symcnn as sc
    >>> sc.analyze(sc.LayerNorm2d(96), (96, sc.H, sc.W)).params
    192
    """

    def __init__(self, num_channels, eps=1e-6, affine=True, bias=True):
        _check_eps(self.kind, eps)
        _check_flag(self.kind, "affine", affine)
        _check_flag(self.kind, "bias", bias)
        self._set(num_channels=to_expr(self.kind, "num_channels", num_channels, minimum=1), eps=eps, affine=affine,
                  bias=bias)
        self._freeze()

    def __repr__(self) -> str:
        extra = ("" if self.affine else ", affine=False") + ("" if self.bias else ", bias=False")
        return f"{self.kind}({fmt(self.num_channels)}{extra})"

    def infer(self, x: Shape) -> LayerResult:
        self._expect_rank(x, 3, "(C, H, W)")
        ck = Checker(self.label)
        self._expect_channels(x, self.num_channels, ck, "num_channels")
        c = self.num_channels
        params = c * (1 + (1 if self.bias else 0)) if self.affine else sympy.Integer(0)
        return _statistics_result(x, params, self.affine, self.bias, ck)


class GroupNorm(Layer):
    """``torch.nn.GroupNorm(num_groups, num_channels, eps=1e-5, affine=True)``: statistics per sample over each
    group of ``num_channels/num_groups`` channels and every position; ``num_groups`` must divide ``num_channels``
    (PyTorch's rule). ``2*C`` parameters when affine.

    >>> import symcnn as sc
    >>> sc.analyze(sc.GroupNorm(8, 64), (64, sc.H, sc.W)).params
    128
    """

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None, dtype=None):
        check_device_dtype(self.kind, device, dtype)
        _check_eps(self.kind, eps)
        _check_flag(self.kind, "affine", affine)
        ck = Checker(self.kind)
        g = to_expr(self.kind, "num_groups", num_groups, minimum=1, checker=ck)
        c = to_expr(self.kind, "num_channels", num_channels, minimum=1, checker=ck)
        ck.require(sympy.Eq(sympy.Mod(c, g), 0),
                   lambda: f"`num_groups`={fmt(g)} must divide `num_channels`={fmt(c)} (PyTorch refuses it)")
        self._set(num_groups=g, num_channels=c, eps=eps, affine=affine, _arg_conditions=tuple(ck.conditions))
        self._freeze()

    def __repr__(self) -> str:
        return f"{self.kind}({fmt(self.num_groups)}, {fmt(self.num_channels)}{'' if self.affine else ', affine=False'})"

    def batch_conditions(self, input_shapes, batch, training):
        """The statistics of each group need more than 1 value, in eval mode too: ``batch * (C/G) * prod(spatial)
        >= 2`` (``F.group_norm`` runs ``_verify_batch_size`` on ``[N*C/G, G, *spatial]``)."""
        x = input_shapes[0]
        n = batch * x[0] / self.num_groups * prod(x[1:])
        return ((sympy.Ge(n, 2), f"the statistics of a group need more than 1 value, and the batch times "
                 f"`num_channels`/`num_groups` times the spatial size is {fmt(n)} (PyTorch's F.group_norm refuses "
                 f"it, in eval mode too: \"Expected more than 1 value per channel when training\")"),)

    def infer(self, x: Shape) -> LayerResult:
        if len(x) < 1:
            raise SymcnnError(f"{self.label}: input shape {fmt(tuple(x))} has no channel dim")
        ck = Checker(self.label)
        ck.conditions.extend(self._arg_conditions)
        if self.affine:  # a weight per channel; without one PyTorch takes any channels that `num_groups` divides
            self._expect_channels(x, self.num_channels, ck, "num_channels")
        else:
            ck.require(sympy.Eq(sympy.Mod(x[0], self.num_groups), 0),
                       lambda: f"input has {fmt(x[0])} channels, which `num_groups`={fmt(self.num_groups)} does not "
                       "divide (PyTorch refuses it)")
        params = 2 * self.num_channels if self.affine else sympy.Integer(0)
        return _statistics_result(x, params, self.affine, True, ck)
