"""ResNet-18/34/50/101/152 exactly as torchvision builds them (V1.5: the stride sits on the 3x3 conv)."""

from __future__ import annotations

from collections import OrderedDict

from .._graph import Graph, Input, Sequential
from ..layers import AdaptiveAvgPool2d, Add, BatchNorm2d, Conv2d, Flatten, Linear, MaxPool2d, ReLU

__all__ = ["ResNet", "BasicBlock", "Bottleneck", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152"]


def _downsample(cin: int, cout: int, stride: int) -> Sequential | None:
    if stride == 1 and cin == cout:
        return None
    return Sequential(Conv2d(cin, cout, 1, stride, bias=False), BatchNorm2d(cout))


def _block(main: list[tuple[str, object]], shortcut: Sequential | None) -> Graph:
    x = Input()
    y = x
    for name, layer in main:
        y = layer(y, name=name)
    skip = x if shortcut is None else shortcut(x, name="downsample")
    return Graph(x, ReLU()(Add()(y, skip, name="add"), name="relu_out"))


def BasicBlock(cin: int, planes: int, stride: int = 1) -> Graph:  # noqa: N802 - torchvision's block names
    """Two 3x3 convs and a residual add (ResNet-18/34); expansion 1."""
    return _block([
        ("conv1", Conv2d(cin, planes, 3, stride, 1, bias=False)), ("bn1", BatchNorm2d(planes)), ("relu", ReLU()),
        ("conv2", Conv2d(planes, planes, 3, 1, 1, bias=False)), ("bn2", BatchNorm2d(planes)),
    ], _downsample(cin, planes, stride))


def Bottleneck(cin: int, planes: int, stride: int = 1) -> Graph:  # noqa: N802
    """1x1 reduce, 3x3 (carrying the stride), 1x1 expand (x4), residual add (ResNet-50/101/152)."""
    out = planes * 4
    return _block([
        ("conv1", Conv2d(cin, planes, 1, bias=False)), ("bn1", BatchNorm2d(planes)), ("relu", ReLU()),
        ("conv2", Conv2d(planes, planes, 3, stride, 1, bias=False)), ("bn2", BatchNorm2d(planes)),
        ("relu2", ReLU()),
        ("conv3", Conv2d(planes, out, 1, bias=False)), ("bn3", BatchNorm2d(out)),
    ], _downsample(cin, out, stride))


class ResNet(Sequential):
    """torchvision's ResNet: stem, four stages, global average pooling, ``fc``.

    >>> import symcnn as sc
    >>> a = sc.analyze(sc.models.resnet50(), (3, 224, 224))
    >>> a.params, a.macs                       # torchvision: 25,557,032 params, 4.089 GMACs
    (25557032, 4089184256)
    >>> sc.pretty(sc.analyze(sc.models.resnet50().features, (3, sc.H, sc.W)).output_shape[2])
    'ceil(W/32)'
    """

    def __init__(self, block, layers: tuple[int, ...], num_classes: int = 1000):
        expansion = 4 if block is Bottleneck else 1
        stem = [("conv1", Conv2d(3, 64, 7, 2, 3, bias=False)), ("bn1", BatchNorm2d(64)), ("relu", ReLU()),
                ("maxpool", MaxPool2d(3, 2, 1))]
        stages, cin = [], 64
        for i, (n, planes) in enumerate(zip(layers, (64, 128, 256, 512), strict=True)):
            blocks = []
            for b in range(n):
                blocks.append(block(cin, planes, 2 if (b == 0 and i > 0) else 1))
                cin = planes * expansion
            stages.append((f"layer{i + 1}", Sequential(*blocks)))
        super().__init__(OrderedDict([*stem, *stages, ("avgpool", AdaptiveAvgPool2d(1)), ("flatten", Flatten()),
                                      ("fc", Linear(512 * expansion, num_classes))]))
        self.features = Sequential(OrderedDict([*stem, *stages]))


def resnet18(num_classes: int = 1000) -> ResNet:
    """ResNet-18."""
    return ResNet(BasicBlock, (2, 2, 2, 2), num_classes)


def resnet34(num_classes: int = 1000) -> ResNet:
    """ResNet-34."""
    return ResNet(BasicBlock, (3, 4, 6, 3), num_classes)


def resnet50(num_classes: int = 1000) -> ResNet:
    """ResNet-50."""
    return ResNet(Bottleneck, (3, 4, 6, 3), num_classes)


def resnet101(num_classes: int = 1000) -> ResNet:
    """ResNet-101."""
    return ResNet(Bottleneck, (3, 4, 23, 3), num_classes)


def resnet152(num_classes: int = 1000) -> ResNet:
    """ResNet-152."""
    return ResNet(Bottleneck, (3, 8, 36, 3), num_classes)
