"""DenseNet-121 exactly as torchvision builds it (Huang et al. 2017; BC variant, growth 32, ``norm5``)."""

from __future__ import annotations

from collections import OrderedDict

from .._graph import Graph, Input, Sequential
from ..layers import AdaptiveAvgPool2d, AvgPool2d, BatchNorm2d, Concat, Conv2d, Flatten, Linear, MaxPool2d, ReLU

__all__ = ["DenseNet", "DenseLayer", "DenseBlock", "Transition", "densenet121"]


def DenseLayer(cin: int, growth_rate: int, bn_size: int = 4) -> Sequential:  # noqa: N802 - torchvision's name
    """BN-ReLU-1x1 conv (``bn_size*growth_rate`` channels), BN-ReLU-3x3 conv (``growth_rate`` channels).

    Its input is the concatenation of every earlier feature map of the block (made by :func:`DenseBlock`).
    """
    mid = bn_size * growth_rate
    return Sequential(OrderedDict([
        ("norm1", BatchNorm2d(cin)), ("relu1", ReLU()), ("conv1", Conv2d(cin, mid, 1, bias=False)),
        ("norm2", BatchNorm2d(mid)), ("relu2", ReLU()), ("conv2", Conv2d(mid, growth_rate, 3, padding=1, bias=False)),
    ]))


def DenseBlock(num_layers: int, cin: int, growth_rate: int = 32, bn_size: int = 4) -> Graph:  # noqa: N802
    """``num_layers`` dense layers, each reading the concatenation of the block input and all earlier layer
    outputs; the block returns that concatenation too: ``cin + num_layers*growth_rate`` channels.

    >>> import symcnn as sc
    >>> sc.analyze(DenseBlock(6, 64), (64, 56, 56)).output_shape   # 256 = 64 + 6*32
    (256, 56, 56)
    """
    x = Input()
    feats = [x]
    for i in range(num_layers):
        h = feats[0] if i == 0 else Concat()(*feats, name=f"cat{i + 1}")
        feats.append(DenseLayer(cin + i * growth_rate, growth_rate, bn_size)(h, name=f"denselayer{i + 1}"))
    return Graph(x, Concat()(*feats, name="cat"))


def Transition(cin: int, cout: int) -> Sequential:  # noqa: N802
    """BN, ReLU, 1x1 conv to ``cout`` channels, 2x2 average pooling (stride 2)."""
    return Sequential(OrderedDict([("norm", BatchNorm2d(cin)), ("relu", ReLU()),
                                   ("conv", Conv2d(cin, cout, 1, bias=False)), ("pool", AvgPool2d(2, 2))]))


class DenseNet(Sequential):
    """torchvision's DenseNet: ``features`` (stem, dense blocks and transitions, ``norm5``), ReLU, global
    average pooling, ``classifier``.

    >>> import symcnn as sc
    >>> a = sc.analyze(sc.models.densenet121(), (3, 224, 224))
    >>> a.params, a.macs                       # torchvision: 7,978,856 params, 2.834 GMACs
    (7978856, 2834161664)
    """

    def __init__(self, growth_rate: int = 32, block_config: tuple[int, ...] = (6, 12, 24, 16),
                 num_init_features: int = 64, bn_size: int = 4, num_classes: int = 1000):
        c = num_init_features
        items = [("conv0", Conv2d(3, c, 7, 2, 3, bias=False)), ("norm0", BatchNorm2d(c)), ("relu0", ReLU()),
                 ("pool0", MaxPool2d(3, 2, 1))]
        for i, n in enumerate(block_config):
            items.append((f"denseblock{i + 1}", DenseBlock(n, c, growth_rate, bn_size)))
            c += n * growth_rate
            if i != len(block_config) - 1:
                items.append((f"transition{i + 1}", Transition(c, c // 2)))
                c //= 2
        items.append(("norm5", BatchNorm2d(c)))
        features = Sequential(OrderedDict(items))
        super().__init__(OrderedDict([("features", features), ("relu", ReLU()), ("avgpool", AdaptiveAvgPool2d(1)),
                                      ("flatten", Flatten()), ("classifier", Linear(c, num_classes))]))
        self.features = features


def densenet121(num_classes: int = 1000) -> DenseNet:
    """DenseNet-121: blocks of 6, 12, 24, 16 layers, growth rate 32."""
    return DenseNet(32, (6, 12, 24, 16), 64, 4, num_classes)
