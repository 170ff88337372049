"""Transposed convolution: ``ConvTranspose1d``, ``ConvTranspose2d``, ``ConvTranspose3d``.

The adjoint of a convolution: every input pixel ``i`` scatters ``x[i] * w[t]`` to output ``i*S + t*D``,
then ``padding`` is cropped from both ends. Per axis::

    O = (W - 1)*S - P_l - P_r + D*(F - 1) + OP + 1,       0 <= OP < max(S, D)   (PyTorch refuses more)

``OP`` (output_padding) recovers the input size ``X`` of the forward convolution it inverts:
``OP = (X + 2P - F_eff) mod S`` (see ``symcnn.derive``).

Costs, counted per *input* pixel (as torch.utils.flop_counter, fvcore and torchvision do; counting per
output pixel is the ~S^2 overcount some tools ship), with ``n = (C_out/G) * prod(F)``::

    params      = C_in * n + C_out*[bias]
    MACs        = prod(W_in) * C_in * n
    FLOPs       = 2*MACs + prod(O)*C_out*[bias]     (scatter form: each product is added into the output)
    connections = MACs + prod(O)*C_out*[bias]
"""

from __future__ import annotations

import sympy

from .._errors import SymcnnError
from .._guard import as_value
from .._intmath import decide, smax
from ._base import AxisMap, Checker, LayerResult, Shape, fmt, prod, to_tuple
from .conv import _ConvNd, effective_kernel

__all__ = ["ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "transposed_output_size"]


def transposed_output_size(size, kernel, stride=1, pad_left=0, pad_right=None, dilation=1,
                           output_padding=0) -> sympy.Expr:
    """``(W - 1)*S - P_l - P_r + D*(F - 1) + OP + 1`` along one axis.

    >>> transposed_output_size(3, 3, 2, 1, output_padding=1)   # 6 = (3 - 1)*2 - 2 + 2 + 1 + 1
    6
    """
    f = "transposed_output_size"
    size, stride, pad_left, output_padding = (as_value(v, f, a) for v, a in (
        (size, "size"), (stride, "stride"), (pad_left, "pad_left"), (output_padding, "output_padding")))
    pad_right = pad_left if pad_right is None else as_value(pad_right, f, "pad_right")
    return (size - 1) * stride - pad_left - pad_right + effective_kernel(kernel, dilation) + output_padding


class _ConvTransposeNd(_ConvNd):
    _padding_strings = ()

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
                 groups=1, bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        if not isinstance(padding_mode, str) or padding_mode != "zeros":
            raise SymcnnError(
                f"{self.kind}: `padding_mode`={padding_mode!r} is not supported; only 'zeros' (as in PyTorch)"
            )
        object.__setattr__(self, "_frozen", False)
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         device=device, dtype=dtype)
        object.__setattr__(self, "_frozen", False)
        ck = Checker(self.kind)
        ck.conditions.extend(self._arg_conditions)
        ops = to_tuple(self.kind, "output_padding", output_padding, self._dims, minimum=0, checker=ck)
        for op, s, d in zip(ops, self.stride, self.dilation, strict=True):
            limit = smax(s, d)
            ck.require(
                sympy.Lt(op, limit, evaluate=False),
                lambda op=op, limit=limit: (
                    f"`output_padding`={fmt(op)} must be smaller than max(`stride`, `dilation`) = {fmt(limit)}"
                ),
            )
        self._set(output_padding=ops, _arg_conditions=tuple(ck.conditions))
        self._freeze()

    def __repr__(self) -> str:
        base = super().__repr__()
        if any(op != 0 for op in self.output_padding):
            base = base[:-1] + f", output_padding={fmt(self.output_padding)})"
        return base

    def infer(self, x: Shape) -> LayerResult:
        self._expect_rank(x, self._dims + 1, "channels + spatial")
        ck = Checker(self.label)
        ck.conditions.extend(self._arg_conditions)
        self._expect_channels(x, self.in_channels, ck, "in_channels")
        spatial = x[1:]
        out = []
        for w, k, s, d, (pl, pr), op in zip(
            spatial, self.kernel_size, self.stride, self.dilation, self.padding, self.output_padding,
            strict=True,
        ):
            o = transposed_output_size(w, k, s, pl, pr, d, op)
            ck.require(sympy.Ge(o, 1, evaluate=False),
                       lambda o=o: f"output size {fmt(o)} is below 1 (padding crops more than the output)")
            out.append(o)
        n = self.out_channels / self.groups * prod(self.kernel_size)
        macs = prod(spatial) * self.in_channels * n
        b = 1 if self.bias else 0
        outputs = prod(out) * self.out_channels
        axes = tuple(
            # stride 1: an ordinary (flipped) convolution, exact; stride > 1: the inputs an output reads
            # depend on its position, so the field is an estimate (receptive.py)
            AxisMap("transposed", k, s, pl, d, exact=decide(sympy.Eq(s, 1)) is True)
            for k, s, d, (pl, _) in zip(self.kernel_size, self.stride, self.dilation, self.padding, strict=True)
        )
        return LayerResult(
            output_shape=Shape((self.out_channels, *out)),
            params=self.in_channels * n + b * self.out_channels,
            macs=macs,
            flops=2 * macs + b * outputs,
            connections=macs + b * outputs,
            axes=axes,
            conditions=tuple(ck.conditions),
        )


class ConvTranspose1d(_ConvTransposeNd):
    """``torch.nn.ConvTranspose1d``: input ``(C, L)``."""

    _dims = 1


class ConvTranspose2d(_ConvTransposeNd):
    """``torch.nn.ConvTranspose2d``: input ``(C, H, W)``.

    >>> import symcnn as sc
    >>> sc.analyze(sc.ConvTranspose2d(1, 1, 3, stride=2, padding=1, output_padding=1), (1, 3, 3)).output_shape
    (1, 6, 6)
    """

    _dims = 2


class ConvTranspose3d(_ConvTransposeNd):
    """``torch.nn.ConvTranspose3d``: input ``(C, D, H, W)``."""

    _dims = 3
