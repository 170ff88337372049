"""``SpaceToDepth``: blocks of ``bs x bs`` pixels moved into the channels (timm's ``SpaceToDepth``, TResNet's stem).

For an input ``(C, H, W)``::

    output = (C * bs^2, H / bs, W / bs)       H and W divisible by bs

timm writes it as ``x.view(N, C, H // bs, bs, W // bs, bs)``, a permute and a view back: the first ``view``
needs ``H`` and ``W`` divisible by ``bs`` (PyTorch refuses the shape otherwise), and so does symcnn. The
channels come out ordered (row in block, column in block, channel), unlike ``torch.nn.PixelUnshuffle``'s
(channel, row, column); sizes and counts are the same. No parameters, no MACs, no FLOPs (a copy).
"""

from __future__ import annotations

import sympy

from .._errors import SymcnnError
from .._intmath import floordiv
from ._base import AxisMap, Checker, Layer, LayerResult, Shape, fmt

__all__ = ["SpaceToDepth"]


class SpaceToDepth(Layer):
    """timm's ``SpaceToDepth(block_size)``: ``(C, H, W)`` to ``(C * bs^2, H / bs, W / bs)``.

    >>> import symcnn as sc
    >>> sc.analyze(sc.SpaceToDepth(4), (3, 224, 224)).output_shape   # 3*4*4 channels, 224/4 pixels
    (48, 56, 56)
    """

    def __init__(self, block_size=4):
        if isinstance(block_size, bool) or not isinstance(block_size, int) or block_size < 1:
            raise SymcnnError(f"{self.kind}: `block_size`={block_size!r} must be a positive int")
        self._set(block_size=block_size)
        self._freeze()

    def __repr__(self) -> str:
        return f"{self.kind}({self.block_size})"

    def infer(self, x: Shape) -> LayerResult:
        self._expect_rank(x, 3, "channels + spatial")
        bs = sympy.Integer(self.block_size)
        ck = Checker(self.label)
        for name, w in zip(("H", "W"), x[1:], strict=True):
            ck.require(sympy.Eq(sympy.Mod(w, bs), 0),
                       lambda w=w, name=name: f"input size {fmt(w)} along axis {name} must be divisible by "
                       f"`block_size`={self.block_size} (PyTorch refuses the view to (batch, C, {name}/bs, bs, ...))")
        return LayerResult(output_shape=Shape((x[0] * bs * bs, *(floordiv(w, bs) for w in x[1:]))),
                           axes=(AxisMap("window", bs, bs),) * 2, conditions=tuple(ck.conditions))
