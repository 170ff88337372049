"""``SamePad2d``: TensorFlow's SAME padding computed from the input size, as a layer of its own (timm's
``pad_same``, which its ``MaxPool2dSame``, ``AvgPool2dSame`` and ``StdConv2dSame`` call before a window without
padding).

Per spatial axis, with ``F_eff = D*(F - 1) + 1`` (:func:`~symcnn.layers.conv.same_padding`)::

    total = max((ceil(W/S) - 1)*S + F_eff - W, 0)        left = total // 2, right = total - left
    O     = W + total

so that a window ``(F, S, D)`` without padding after it gives ``ceil(W/S)``, as TensorFlow's SAME does. The
padded value (``value``: 0 for convolutions and average pooling, ``-inf`` for max pooling) changes no size and
no count. No parameters, no MACs, no FLOPs.
"""

from __future__ import annotations

import math

import sympy

from .._errors import SymcnnError
from ._base import AxisMap, Checker, LayerResult, Shape, fmt, to_tuple
from .conv import same_padding
from .resize import _PadNd

__all__ = ["SamePad2d"]


class SamePad2d(_PadNd):
    """TensorFlow's SAME padding for a window ``kernel_size``/``stride``/``dilation`` that follows it without
    padding: ``F.pad`` with the pads of :func:`~symcnn.layers.conv.same_padding` for this input (timm's
    ``pad_same(x, kernel_size, stride, dilation, value)``).

    >>> import symcnn as sc
    >>> sc.analyze(sc.SamePad2d(3, 2), (8, 224, 225)).output_shape   # total max(111*2 + 3 - 224, 0) = 1, then 2
    (8, 225, 227)
    """

    _dims = 2
    _constant = True

    def __init__(self, kernel_size, stride=1, dilation=1, value=0.0):
        label = self.kind
        ck = Checker(label)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
            raise SymcnnError(f"{label}: `value`={value!r} must be a number (int or float, -inf allowed, not NaN)")
        self._set(kernel_size=to_tuple(label, "kernel_size", kernel_size, 2, minimum=1, checker=ck),
                  stride=to_tuple(label, "stride", stride, 2, minimum=1, checker=ck),
                  dilation=to_tuple(label, "dilation", dilation, 2, minimum=1, checker=ck), value=value)
        self._set(_arg_conditions=tuple(ck.conditions))
        self._freeze()

    def __repr__(self) -> str:
        parts = [f"kernel_size={fmt(self.kernel_size)}", f"stride={fmt(self.stride)}"]
        if self.dilation != (1, 1):
            parts.append(f"dilation={fmt(self.dilation)}")
        if self.value != 0:
            parts.append(f"value={self.value!r}")
        return f"{self.kind}({', '.join(parts)})"

    def pads(self, spatial) -> tuple[tuple[sympy.Expr, sympy.Expr], ...]:
        """The (left, right) padding of each axis for these input sizes."""
        return tuple(same_padding(w, k, s, d) for w, k, s, d in zip(spatial, self.kernel_size, self.stride,
                                                                   self.dilation, strict=True))

    def infer(self, x: Shape) -> LayerResult:
        self._expect_rank(x, 3, "channels + spatial")
        pads = self.pads(x[1:])
        one = sympy.Integer(1)
        return LayerResult(output_shape=Shape((x[0], *(w + pl + pr for w, (pl, pr) in zip(x[1:], pads, strict=True)))),
                           axes=tuple(AxisMap("window", one, one, pl) for pl, _ in pads),
                           conditions=self._arg_conditions)
