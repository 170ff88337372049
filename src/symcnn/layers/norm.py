"""Normalization: ``BatchNorm1d/2d/3d``.

``params = 2*C`` (weight and bias, when ``affine``; ``C`` with ``bias=False``); the running mean and variance and
``num_batches_tracked`` are buffers (``2*C + 1``), not parameters, as in ``sum(p.numel())``.
FLOPs at inference: 2 per element (the statistics fold into one scale and one shift).
Connections: 2 per element when affine (one weight and one bias used per output).
"""

from __future__ import annotations

import sympy

from .._errors import SymcnnError
from ._base import Checker, Layer, LayerResult, Shape, check_device_dtype, fmt, prod, to_expr

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d"]


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

    def infer(self, x: Shape) -> LayerResult:
        if len(x) not in self._ranks:
            raise SymcnnError(
                f"{self.label}: input shape {fmt(tuple(x))} has {len(x)} dims; expected "
                f"{' or '.join(map(str, self._ranks))} (channels first, without the batch dimension)"
            )
        ck = Checker(self.label)
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
