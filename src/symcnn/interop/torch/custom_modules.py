"""The small ``torch.nn`` modules for the layers PyTorch has no class for, and the lazy ``import torch``."""

from __future__ import annotations

import functools
import math

from ..._errors import SymcnnError

_INSTALL = "pip install symcnn[torch]"


def _import_torch():
    """``torch`` or a :class:`SymcnnError` saying how to install it."""
    try:
        import torch
    except ImportError:
        raise SymcnnError(
            f"PyTorch is not installed; to_torch/from_torch need it: {_INSTALL} (or pip install torch)"
        ) from None
    return torch


# --- the small modules for layers PyTorch has no class for ---------------------------------------------------

@functools.cache
def _custom():
    """The custom ``nn.Module`` classes (built on first use, so that importing symcnn never imports torch)."""
    torch = _import_torch()
    nn, F = torch.nn, torch.nn.functional

    class Add(nn.Module):
        """Element-wise sum of the inputs (symcnn ``Add``)."""

        def __init__(self, layer):
            super().__init__()
            self.symcnn_layer = layer

        def forward(self, *xs):
            out = xs[0]
            for y in xs[1:]:
                out = out + y
            return out

    class Mul(Add):
        """Element-wise product of the inputs (symcnn ``Mul``)."""

        def forward(self, *xs):
            out = xs[0]
            for y in xs[1:]:
                out = out * y
            return out

    class Sub(Add):
        """Element-wise difference of two inputs (symcnn ``Sub``), written with the operator."""

        def forward(self, x, y):
            return x - y

    class SamePad2d(nn.Module):
        """TensorFlow's SAME padding for the input's size (symcnn ``SamePad2d``; timm's ``pad_same``)."""

        def __init__(self, layer):
            super().__init__()
            self.symcnn_layer = layer
            self.kernel_size, self.stride, self.dilation = (tuple(int(v) for v in getattr(layer, a)) for a in (
                "kernel_size", "stride", "dilation"))
            self.value = layer.value

        def forward(self, x):
            pads = []
            for w, k, s, d in zip(reversed(x.shape[-2:]), reversed(self.kernel_size), reversed(self.stride),
                                  reversed(self.dilation), strict=True):
                total = max((-(-w // s) - 1) * s + d * (k - 1) + 1 - w, 0)
                pads += [total // 2, total - total // 2]
            return F.pad(x, pads, value=self.value)

    class SpaceToDepth(nn.Module):
        """Blocks of ``bs x bs`` pixels into the channels, (row, column, channel) first (symcnn ``SpaceToDepth``)."""

        def __init__(self, layer):
            super().__init__()
            self.symcnn_layer = layer
            self.bs = layer.block_size

        def forward(self, x):
            n, c, h, w = x.shape
            x = x.view(n, c, h // self.bs, self.bs, w // self.bs, self.bs).permute(0, 3, 5, 1, 2, 4)
            return x.contiguous().view(n, c * self.bs * self.bs, h // self.bs, w // self.bs)

    class ScalarOp(nn.Module):
        """``x + value`` or ``x * value`` (symcnn ``ScalarOp``), written with the operators."""

        def __init__(self, layer):
            super().__init__()
            self.symcnn_layer = layer
            self.op, self.value = layer.op, layer.value

        def forward(self, x):
            if self.op == "add":
                return x + self.value
            if self.op == "mul":
                return x * self.value
            return x / self.value if self.op == "div" else self.value - x

    class Clamp(nn.Module):
        """``torch.clamp(x, min, max)`` (symcnn ``Clamp``)."""

        def __init__(self, layer):
            super().__init__()
            self.symcnn_layer = layer
            self.min, self.max = layer.min, layer.max

        def forward(self, x):
            return torch.clamp(x, self.min, self.max)

    class Concat(nn.Module):
        """``torch.cat(inputs, dim)`` (symcnn ``Concat``)."""

        def __init__(self, layer):
            super().__init__()
            self.symcnn_layer = layer
            self.dim = layer.dim

        def forward(self, *xs):
            return torch.cat(xs, self.dim)

        def extra_repr(self) -> str:
            return f"dim={self.dim}"

    class CropConcat(Concat):
        """Centre-crop every input to the last one's spatial size, then ``torch.cat`` (U-Net skips)."""

        def forward(self, *xs):
            ref = xs[-1]
            cropped = []
            for x in xs:
                for axis in range(2, x.dim()):
                    size = ref.shape[axis]
                    x = x.narrow(axis, (x.shape[axis] - size) // 2, size)
                cropped.append(x)
            return torch.cat(cropped, self.dim)

    class PaddedConv(nn.Module):
        """A convolution with explicit padding first: asymmetric pairs, or SAME (``"tf_same"`` at stride > 1,
        ``"same_lower"``) computed per input."""

        def __init__(self, layer, conv, pads):
            super().__init__()
            self.symcnn_layer = layer
            self.conv = conv  # built with padding 0
            self.pads = pads  # per axis (left, right), or None for SAME computed from the input size
            self.mode = "constant" if layer.padding_mode == "zeros" else layer.padding_mode
            self.lower = layer.padding == "same_lower"  # ONNX's SAME_LOWER: the odd pixel first

        def forward(self, x):
            pads = self.pads
            if pads is None:
                pads = []
                for w, k, s, d in zip(x.shape[2:], self.conv.kernel_size, self.conv.stride, self.conv.dilation,
                                      strict=True):
                    total = max((-(-w // s) - 1) * s + d * (k - 1) + 1 - w, 0)
                    small = total // 2
                    pads.append((total - small, small) if self.lower else (small, total - small))
            flat = [p for pair in reversed(pads) for p in pair]
            return self.conv(F.pad(x, flat, mode=self.mode))

    class SpatialPyramidPooling(nn.Module):
        """Pool each map to ``n x n`` bins per level (window ``ceil(W/n)``, stride ``floor(W/n)``), concat."""

        def __init__(self, layer):
            super().__init__()
            self.symcnn_layer = layer
            self.levels = tuple(int(n) for n in layer.levels)
            self.mode = layer.mode

        def forward(self, x):
            pool = F.max_pool2d if self.mode == "max" else F.avg_pool2d
            outs = []
            for n in self.levels:
                window = tuple(-(-w // n) for w in x.shape[2:])
                stride = tuple(w // n for w in x.shape[2:])
                outs.append(torch.flatten(pool(x, window, stride), 1))
            return torch.cat(outs, 1)

    class Subsampling2d(nn.Module):
        """LeNet-5's trainable subsampling: ``(sum of a k x k block) * w_c + b_c``."""

        def __init__(self, layer):
            super().__init__()
            self.symcnn_layer = layer
            c = int(layer.channels)
            self.kernel_size = tuple(int(k) for k in layer.kernel_size)
            self.stride = tuple(int(s) for s in layer.stride)
            self.weight = nn.Parameter(torch.ones(c))
            self.bias = nn.Parameter(torch.zeros(c))

        def forward(self, x):
            block_sum = F.avg_pool2d(x, self.kernel_size, self.stride) * math.prod(self.kernel_size)
            return block_sum * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)

    class ConnectionTableConv2d(nn.Module):
        """LeNet-5's C3: output map ``m`` convolves the input maps ``table[m]`` only (one weight per link)."""

        def __init__(self, layer):
            super().__init__()
            self.symcnn_layer = layer
            self.table = layer.table
            kernel = tuple(int(k) for k in layer.kernel_size)
            self.stride = tuple(int(s) for s in layer.stride)
            self.padding = tuple(int(p) for p in layer.padding)
            self.weights = nn.ParameterList(
                nn.Parameter(torch.empty(1, len(row), *kernel).uniform_(-0.1, 0.1)) for row in self.table
            )
            self.bias = nn.Parameter(torch.zeros(len(self.table))) if layer.bias else None

        def forward(self, x):
            outs = [F.conv2d(x[:, list(row)], w, None, self.stride, self.padding)
                    for row, w in zip(self.table, self.weights, strict=True)]
            y = torch.cat(outs, 1)
            return y if self.bias is None else y + self.bias.view(1, -1, 1, 1)

    class RBF(nn.Module):
        """LeNet-5's Euclidean RBF output: ``y_j = |x - w_j|^2`` with fixed prototypes (a buffer)."""

        def __init__(self, layer):
            super().__init__()
            self.symcnn_layer = layer
            shape = (int(layer.out_features), int(layer.in_features))
            self.register_buffer("prototypes", torch.empty(shape).uniform_(-1, 1).sign())

        def forward(self, x):
            w = self.prototypes
            return (x * x).sum(-1, keepdim=True) - 2 * (x @ w.t()) + (w * w).sum(-1)

    class UnusedParameters(nn.Module):
        """The parameters from_torch found unused (one flat tensor per module path); forward is the identity."""

        def __init__(self, layer):
            super().__init__()
            self.symcnn_layer = layer
            self.unused = nn.ParameterList(nn.Parameter(torch.zeros(n)) for _, n in layer.groups)

        def forward(self, x):
            return x

    class Permute(nn.Module):
        """``x.permute(dims)`` (symcnn ``Permute``; torchvision.ops.Permute without needing torchvision)."""

        def __init__(self, layer):
            super().__init__()
            self.symcnn_layer = layer
            self.dims = list(layer.dims)

        def forward(self, x):
            return x.permute(*self.dims)

    class LayerNorm2d(nn.LayerNorm):
        """A layer norm over the channels of ``(N, C, H, W)`` (symcnn ``LayerNorm2d``, torchvision's computation)."""

        def __init__(self, layer):
            super().__init__(int(layer.num_channels), eps=layer.eps, elementwise_affine=layer.affine,
                             bias=layer.bias)
            self.symcnn_layer = layer

        def forward(self, x):
            x = x.permute(0, 2, 3, 1)
            x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
            return x.permute(0, 3, 1, 2)

    class LearnedScale(nn.Module):
        """``x * weight`` with a learned tensor of the layer's ``shape`` (symcnn ``LearnedScale``)."""

        def __init__(self, layer):
            super().__init__()
            self.symcnn_layer = layer
            self.weight = nn.Parameter(torch.ones(tuple(int(v) for v in layer.shape)))

        def forward(self, x):
            return x * self.weight

    class LearnedShift(LearnedScale):
        """``x + weight`` (symcnn ``LearnedShift``)."""

        def forward(self, x):
            return x + self.weight

    class StochasticDepth(nn.Module):
        """torchvision's ``StochasticDepth(p, mode)`` (symcnn ``StochasticDepth``): the identity in eval."""

        def __init__(self, layer):
            super().__init__()
            self.symcnn_layer = layer
            self.p, self.mode = layer.p, layer.mode

        def forward(self, x):
            if not self.training or self.p == 0.0:
                return x
            size = [x.shape[0]] + [1] * (x.ndim - 1) if self.mode == "row" else [1] * x.ndim
            noise = torch.empty(size, dtype=x.dtype, device=x.device).bernoulli_(1.0 - self.p)
            return x * (noise.div_(1.0 - self.p) if self.p < 1.0 else noise)

    class GraphModule(nn.Module):
        """A symcnn ``Graph``: ``forward`` runs the recorded calls in order."""

        def __init__(self, steps, out):
            super().__init__()
            self.steps = steps  # (child name, indices of its inputs; 0 is the graph input)
            self.out = out

        def forward(self, x):
            values = [x]
            for name, refs in self.steps:
                values.append(self._modules[name](*[values[i] for i in refs]))
            return values[self.out]

    return {c.__name__: c for c in (Add, Mul, Sub, SamePad2d, SpaceToDepth, ScalarOp, Clamp, Concat, CropConcat,
                                    PaddedConv,
                                    SpatialPyramidPooling, Subsampling2d, ConnectionTableConv2d, RBF, UnusedParameters,
                                    GraphModule, Permute,
                                    LayerNorm2d, LearnedScale, LearnedShift, StochasticDepth)}
