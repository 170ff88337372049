"""A tensor combined element-wise with a learned tensor: ``LearnedScale`` (``x * w``: layer scale, ConvNeXt's
``layer_scale`` / timm's ``gamma``, the ``scale`` of a learnable affine block) and ``LearnedShift`` (``x + b``).

``shape`` is the learned tensor's shape as PyTorch stores it (``(C, 1, 1)``, ``(1, C, 1, 1)``, ``(C,)`` for a
channels-last tensor, ``(1,)`` for one scalar); it broadcasts against the input as PyTorch broadcasts (dims
aligned from the right, equal or 1, a leading batch dim of 1 allowed) and never enlarges the input::

    params = prod(shape)      FLOPs = connections = one per output element      MACs = 0

(PyTorch's ``FlopCounterMode`` counts no element-wise product.) Receptive field: the identity.
"""

from __future__ import annotations

import sympy

from .._errors import SymcnnError
from ._base import Checker, Layer, LayerResult, Shape, fmt, prod, to_expr

__all__ = ["LearnedScale", "LearnedShift"]


class _Learned(Layer):
    def __init__(self, shape):
        if not isinstance(shape, (list, tuple)):
            shape = (shape,)
        self._set(shape=tuple(to_expr(self.kind, "shape", v, minimum=1) for v in shape))
        self._freeze()

    def __repr__(self) -> str:
        return f"{self.kind}({fmt(self.shape)})"

    def infer(self, x: Shape) -> LayerResult:
        w = self.shape
        if len(w) > len(x) + 1:
            raise SymcnnError(f"{self.label}: the learned tensor's shape {fmt(w)} has more dims than the input "
                              f"{fmt(tuple(x))} with its batch dimension")
        ck = Checker(self.label)
        if len(w) == len(x) + 1:
            ck.require(sympy.Eq(w[0], 1), lambda: f"the learned tensor's shape {fmt(w)} must have 1 in the batch dim")
            w = w[1:]
        for i in range(1, len(w) + 1):
            a, b = w[-i], x[-i]
            ck.require(sympy.Eq((a - 1) * (a - b), 0), lambda a=a, b=b: (
                f"the learned tensor's shape {fmt(self.shape)} does not broadcast to the input {fmt(tuple(x))} "
                f"({fmt(a)} against {fmt(b)}: sizes must be equal or 1, and the input is not enlarged)"))
        numel = prod(x)
        return LayerResult(output_shape=Shape(x), params=prod(self.shape), flops=numel, connections=numel,
                           conditions=tuple(ck.conditions))


class LearnedScale(_Learned):
    """``x * w`` with ``w`` a learned tensor of ``shape`` (layer scale).

    >>> import symcnn as sc
    >>> a = sc.analyze(sc.LearnedScale((96, 1, 1)), (96, sc.H, sc.W))
    >>> a.params, a.macs, a.flops
    (96, 0, 96*H*W)
    """


class LearnedShift(_Learned):
    """``x + b`` with ``b`` a learned tensor of ``shape``.

    >>> import symcnn as sc
    >>> sc.analyze(sc.LearnedShift((1,)), (8, sc.H, sc.W)).params
    1
    """
