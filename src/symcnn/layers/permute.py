"""``Permute(dims)``: reorder a tensor's dims (``torchvision.ops.Permute``, ``x.permute(...)``,
``torch.permute``). Shape only: no parameters, MACs or FLOPs.

``dims`` counts the batch dimension as PyTorch does and must keep it first (symcnn counts per sample).
The receptive field follows the spatial axes to their new positions (ConvNeXt's channels-last blocks:
``permute(0, 2, 3, 1)``, ``LayerNorm``, ``Linear`` on the channels, ``permute(0, 3, 1, 2)``).
"""

from __future__ import annotations

from .._errors import SymcnnError
from ._base import Layer, LayerResult, Shape, fmt

__all__ = ["Permute"]


class Permute(Layer):
    """``torchvision.ops.Permute(dims)``: output dim ``i`` is input dim ``dims[i]`` (batch counted, kept first).

    >>> import symcnn as sc
    >>> sc.analyze(sc.Permute([0, 2, 3, 1]), (96, sc.H, sc.W)).output_shape
    (H, W, 96)
    """

    def __init__(self, dims):
        if not isinstance(dims, (list, tuple)) or not dims or any(
                isinstance(d, bool) or not isinstance(d, int) for d in dims):
            raise SymcnnError(f"{self.kind}: `dims`={dims!r} must be a list of ints (batch counted), such as "
                              "[0, 2, 3, 1]")
        self._set(dims=tuple(dims))
        self._freeze()

    def __repr__(self) -> str:
        return f"{self.kind}({list(self.dims)!r})"

    def infer(self, x: Shape) -> LayerResult:
        rank = len(x) + 1
        if len(self.dims) != rank:
            raise SymcnnError(f"{self.label}: `dims`={list(self.dims)} has {len(self.dims)} entries but the input "
                              f"{fmt(tuple(x))} has {rank} dims with the batch (PyTorch refuses it)")
        if any(not -rank <= d < rank for d in self.dims):
            raise SymcnnError(f"{self.label}: `dims`={list(self.dims)} has a dim out of range {-rank}..{rank - 1}")
        dims = [d % rank for d in self.dims]
        if len(set(dims)) != rank:
            raise SymcnnError(f"{self.label}: `dims`={list(self.dims)} repeats a dim (PyTorch refuses it)")
        if dims[0] != 0:
            raise SymcnnError(f"{self.label}: `dims`={list(self.dims)} moves the batch dimension; symcnn counts per "
                              "sample and keeps it first")
        order = tuple(d - 1 for d in dims[1:])
        return LayerResult(output_shape=Shape(tuple(x[d] for d in order)), permutation=order)
