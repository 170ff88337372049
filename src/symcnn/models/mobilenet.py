"""MobileNetV2 exactly as torchvision builds it (Sandler et al. 2018; width 1.0, ReLU6, inverted residuals)."""

from __future__ import annotations

from collections import OrderedDict

from .._graph import Graph, Input, Sequential
from ..layers import AdaptiveAvgPool2d, Add, BatchNorm2d, Conv2d, Dropout, Flatten, Linear, ReLU6

__all__ = ["MobileNetV2", "InvertedResidual", "mobilenet_v2"]

# t (expansion), c (output channels), n (repeats), s (stride of the first repeat): torchvision's table
_SETTING = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))


def _make_divisible(v: float, divisor: int = 8) -> int:
    """torchvision's ``_make_divisible``: round to a multiple of ``divisor``, never more than 10% down."""
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


def _conv_bn_relu6(cin: int, cout: int, kernel_size: int = 3, stride: int = 1, groups: int = 1) -> Sequential:
    """torchvision's ``Conv2dNormActivation`` with ReLU6: conv (padding ``(k - 1)//2``, no bias), BN, ReLU6."""
    return Sequential(Conv2d(cin, cout, kernel_size, stride, (kernel_size - 1) // 2, groups=groups, bias=False),
                      BatchNorm2d(cout), ReLU6())


def InvertedResidual(cin: int, cout: int, stride: int, expand_ratio: int) -> Graph:  # noqa: N802
    """1x1 expansion (skipped when ``expand_ratio`` is 1), 3x3 depthwise (carrying the stride), linear 1x1
    projection; a residual add when ``stride == 1`` and ``cin == cout``. Children are named as torchvision's
    (``conv.0.0``, ``conv.1.0``, ``conv.2``, ``conv.3``).

    >>> import symcnn as sc
    >>> a = sc.analyze(InvertedResidual(24, 24, 1, 6), (24, 56, 56))   # expand to 24*6 = 144 channels
    >>> a.params                              # 24*144 + 2*144 + 144*9 + 2*144 + 144*24 + 2*24 (convs + BNs)
    8832
    >>> a["add"].kind, a.output_shape         # stride 1 and 24 -> 24 channels: residual
    ('Add', (24, 56, 56))
    """
    hidden = int(round(cin * expand_ratio))
    layers = [] if expand_ratio == 1 else [_conv_bn_relu6(cin, hidden, 1)]
    layers += [_conv_bn_relu6(hidden, hidden, 3, stride, groups=hidden), Conv2d(hidden, cout, 1, bias=False),
               BatchNorm2d(cout)]
    x = Input()
    y = Sequential(*layers)(x, name="conv")
    if stride == 1 and cin == cout:
        y = Add()(x, y, name="add")
    return Graph(x, y)


class MobileNetV2(Sequential):
    """torchvision's ``mobilenet_v2``: ``features`` (stem, 17 inverted residuals, 1x1 conv to 1280), global
    average pooling, ``classifier`` (dropout, linear).

    >>> import symcnn as sc
    >>> a = sc.analyze(sc.models.mobilenet_v2(), (3, 224, 224))
    >>> a.params, a.macs                       # torchvision: 3,504,872 params, 0.301 GMACs
    (3504872, 300774272)
    >>> sc.pretty(sc.analyze(sc.models.mobilenet_v2().features, (3, sc.H, sc.W)).output_shape[2])
    'ceil(W/32)'
    """

    def __init__(self, num_classes: int = 1000, width_mult: float = 1.0, dropout: float = 0.2):
        cin = _make_divisible(32 * width_mult)
        last = _make_divisible(1280 * max(1.0, width_mult))
        blocks = [_conv_bn_relu6(3, cin, stride=2)]
        for t, c, n, s in _SETTING:
            cout = _make_divisible(c * width_mult)
            for i in range(n):
                blocks.append(InvertedResidual(cin, cout, s if i == 0 else 1, t))
                cin = cout
        blocks.append(_conv_bn_relu6(cin, last, 1))
        features = Sequential(*blocks)
        super().__init__(OrderedDict([
            ("features", features), ("avgpool", AdaptiveAvgPool2d(1)), ("flatten", Flatten()),
            ("classifier", Sequential(Dropout(dropout), Linear(last, num_classes))),
        ]))
        self.features = features


def mobilenet_v2(num_classes: int = 1000) -> MobileNetV2:
    """MobileNetV2 (width 1.0), see :class:`MobileNetV2`."""
    return MobileNetV2(num_classes)
