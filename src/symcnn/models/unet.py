"""The original U-Net (Ronneberger, Fischer, Brox 2015): valid 3x3 convs, 2x2 max-pools, 2x2 stride-2
up-convolutions, centre-cropped skip connections, a final 1x1 conv. Input (1, 572, 572) -> (2, 388, 388).

Only some input sizes keep every pooled map even and every crop centred: ``sc.valid_input_sizes`` finds
them (``W = 16k + 124``, ``k >= 4``).
"""

from __future__ import annotations

from collections import OrderedDict

from .._graph import Graph, Input, Sequential
from ..layers import Conv2d, ConvTranspose2d, CropConcat, MaxPool2d, ReLU

__all__ = ["UNet", "unet"]


def _double_conv(cin: int, cout: int) -> Sequential:
    return Sequential(OrderedDict([("conv1", Conv2d(cin, cout, 3)), ("relu1", ReLU()),
                                   ("conv2", Conv2d(cout, cout, 3)), ("relu2", ReLU())]))


class UNet(Graph):
    """The 2015 U-Net: four down levels (``down1``..``down4``, ``pool1``..``pool4``), ``bottleneck``, four up
    levels (``upconv4``..``upconv1``, ``crop_concat4``.., ``up4``..``up1``) and ``final``.

    >>> import symcnn as sc
    >>> a = sc.analyze(sc.models.unet(), (1, 572, 572))
    >>> a.output_shape, a.params          # 388 = the paper's output tile for a 572 input tile
    ((2, 388, 388), 31030658)
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 2, base: int = 64, depth: int = 4):
        x = Input()
        h, c, skips = x, in_channels, []
        for i in range(depth):
            h = _double_conv(c, base * 2**i)(h, name=f"down{i + 1}")
            c = base * 2**i
            skips.append(h)
            h = MaxPool2d(2, 2)(h, name=f"pool{i + 1}")
        h = _double_conv(c, 2 * c)(h, name="bottleneck")
        c *= 2
        for i in reversed(range(depth)):
            u = ConvTranspose2d(c, c // 2, 2, stride=2)(h, name=f"upconv{i + 1}")
            h = _double_conv(c, c // 2)(CropConcat()(skips[i], u, name=f"crop_concat{i + 1}"), name=f"up{i + 1}")
            c //= 2
        super().__init__(x, Conv2d(c, num_classes, 1)(h, name="final"))


def unet(in_channels: int = 1, num_classes: int = 2) -> UNet:
    """The original U-Net (1 input channel, 2 classes, 64 base channels), see :class:`UNet`."""
    return UNet(in_channels, num_classes)
