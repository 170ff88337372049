"""Backward multiply-accumulates and FLOPs of one layer call, as PyTorch computes the gradients.

For a convolution (``aten.convolution_backward``), a transposed convolution and a linear layer (``mm``):

* the input gradient (only when the layer's input requires grad; never for the network input) is the
  transposed convolution of the output gradient with the weight: as many MACs as the forward pass;
* the weight gradient (only when the layer is trainable) is the correlation of the input with the output
  gradient: again as many MACs as the forward pass. The bias gradient is a sum (no multiplications).

``backward_macs`` counts these true multiply-accumulates. ``backward_flops`` is what
``torch.utils.flop_counter.FlopCounterMode`` reports: 2 FLOPs per MAC, except that its weight-gradient formula
(``conv_backward_flop``) multiplies the channel counts without dividing by ``groups``, so a grouped convolution's
weight gradient counts ``groups`` times its MACs (a depthwise 3x3 on ``C`` channels: ``C`` times). Element-wise
layers, normalisation and pooling count 0 in that counter, forward and backward.
"""

from __future__ import annotations

import sympy

from ..layers import RBF, ConnectionTableConv2d, Linear
from ..layers.conv import _ConvNd

__all__ = ["backward_costs", "has_matmul"]

ZERO = sympy.Integer(0)


def has_matmul(layer) -> bool:
    """Layers whose forward MACs are matrix products or convolutions (the only FLOPs the counter sees)."""
    return isinstance(layer, (_ConvNd, Linear, ConnectionTableConv2d, RBF))


def backward_costs(layer, macs: sympy.Expr, input_grad: bool, weight_grad: bool):
    """(input-gradient MACs, weight-gradient MACs, FlopCounterMode FLOPs) of one call with forward ``macs``."""
    if not has_matmul(layer):
        return ZERO, ZERO, ZERO
    gi = macs if input_grad else ZERO
    if isinstance(layer, RBF):  # prototypes are a buffer: only ``x @ w.t()``'s input gradient
        return gi, ZERO, 2 * gi
    gw = macs if weight_grad else ZERO
    groups = layer.groups if isinstance(layer, _ConvNd) else 1
    return gi, gw, 2 * gi + 2 * groups * gw
