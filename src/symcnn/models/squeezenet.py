"""SqueezeNet 1.0 and 1.1 exactly as torchvision builds them (Iandola et al. 2016; ceil_mode max-pools)."""

from __future__ import annotations

from collections import OrderedDict

from .._graph import Graph, Input, Sequential
from ..layers import AdaptiveAvgPool2d, Concat, Conv2d, Dropout, Flatten, MaxPool2d, ReLU

__all__ = ["SqueezeNet", "Fire", "squeezenet1_0", "squeezenet1_1"]


def Fire(cin: int, squeeze: int, expand1x1: int, expand3x3: int) -> Graph:  # noqa: N802 - torchvision's name
    """1x1 squeeze, then 1x1 and 3x3 (padding 1) expands concatenated: ``expand1x1 + expand3x3`` channels.

    >>> import symcnn as sc
    >>> sc.analyze(Fire(96, 16, 64, 64), (96, 55, 55)).output_shape   # 128 = 64 + 64 channels
    (128, 55, 55)
    """
    x = Input()
    s = ReLU()(Conv2d(cin, squeeze, 1)(x, name="squeeze"), name="squeeze_activation")
    e1 = ReLU()(Conv2d(squeeze, expand1x1, 1)(s, name="expand1x1"), name="expand1x1_activation")
    e3 = ReLU()(Conv2d(squeeze, expand3x3, 3, padding=1)(s, name="expand3x3"), name="expand3x3_activation")
    return Graph(x, Concat()(e1, e3, name="cat"))


def _pool() -> MaxPool2d:
    return MaxPool2d(3, 2, ceil_mode=True)


class SqueezeNet(Sequential):
    """torchvision's SqueezeNet: ``features`` (conv, ceil_mode pools, Fire modules), ``classifier`` (dropout,
    1x1 conv to the classes, ReLU, global average pooling), flatten.

    >>> import symcnn as sc
    >>> a = sc.analyze(sc.models.squeezenet1_1(), (3, 224, 224))
    >>> a.params, a.macs                       # torchvision: 1,235,496 params, 0.349 GMACs
    (1235496, 349151936)
    """

    def __init__(self, version: str = "1_0", num_classes: int = 1000, dropout: float = 0.5):
        if version == "1_0":
            layers = [Conv2d(3, 96, 7, 2), ReLU(), _pool(), Fire(96, 16, 64, 64), Fire(128, 16, 64, 64),
                      Fire(128, 32, 128, 128), _pool(), Fire(256, 32, 128, 128), Fire(256, 48, 192, 192),
                      Fire(384, 48, 192, 192), Fire(384, 64, 256, 256), _pool(), Fire(512, 64, 256, 256)]
        else:
            layers = [Conv2d(3, 64, 3, 2), ReLU(), _pool(), Fire(64, 16, 64, 64), Fire(128, 16, 64, 64), _pool(),
                      Fire(128, 32, 128, 128), Fire(256, 32, 128, 128), _pool(), Fire(256, 48, 192, 192),
                      Fire(384, 48, 192, 192), Fire(384, 64, 256, 256), Fire(512, 64, 256, 256)]
        features = Sequential(*layers)
        classifier = Sequential(Dropout(dropout), Conv2d(512, num_classes, 1), ReLU(), AdaptiveAvgPool2d(1))
        super().__init__(OrderedDict([("features", features), ("classifier", classifier), ("flatten", Flatten())]))
        self.features = features


def squeezenet1_0(num_classes: int = 1000) -> SqueezeNet:
    """SqueezeNet 1.0 (7x7/2 stem with 96 channels)."""
    return SqueezeNet("1_0", num_classes)


def squeezenet1_1(num_classes: int = 1000) -> SqueezeNet:
    """SqueezeNet 1.1 (3x3/2 stem with 64 channels, pools earlier: 2.4x fewer MACs)."""
    return SqueezeNet("1_1", num_classes)
