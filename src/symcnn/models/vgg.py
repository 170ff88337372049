"""VGG-11/13/16/19 and their batch-norm variants, exactly as torchvision builds them."""

from __future__ import annotations

from collections import OrderedDict

from .._graph import Sequential
from ..layers import AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Dropout, Flatten, Linear, MaxPool2d, ReLU

__all__ = ["VGG", "vgg11", "vgg13", "vgg16", "vgg19", "vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn"]

_CFGS = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}


class VGG(Sequential):
    """torchvision's VGG: ``features`` (3x3 convs, 2x2 max-pools), ``avgpool`` (adaptive 7x7), ``classifier``.

    >>> import symcnn as sc
    >>> m = sc.models.vgg16()
    >>> a = sc.analyze(m, (3, 224, 224))
    >>> a.params, a.macs                 # torchvision: 138,357,544 params, 15.47 GMACs
    (138357544, 15470264320)
    >>> rf = sc.analyze(m.features, (3, 224, 224)).receptive_field
    >>> rf.size, rf.stride, rf.padding   # Distill / google-research receptive_field table: 212, 32, 90
    ((212, 212), (32, 32), (90, 90))
    >>> sc.pretty(sc.analyze(m.features, (3, sc.H, sc.W)).output_shape[2])
    'floor(W/32)'
    """

    def __init__(self, cfg: str, batch_norm: bool = False, num_classes: int = 1000, dropout: float = 0.5):
        layers, c = [], 3
        for v in _CFGS[cfg]:
            if v == "M":
                layers.append(MaxPool2d(2, 2))
            else:
                layers.append(Conv2d(c, v, 3, padding=1))
                if batch_norm:
                    layers.append(BatchNorm2d(v))
                layers.append(ReLU())
                c = v
        features = Sequential(*layers)
        classifier = Sequential(
            Linear(512 * 7 * 7, 4096), ReLU(), Dropout(dropout), Linear(4096, 4096), ReLU(), Dropout(dropout),
            Linear(4096, num_classes),
        )
        super().__init__(OrderedDict([
            ("features", features), ("avgpool", AdaptiveAvgPool2d(7)), ("flatten", Flatten()),
            ("classifier", classifier),
        ]))
        self.features = features


def vgg11(num_classes: int = 1000) -> VGG:
    """VGG-11 (configuration A)."""
    return VGG("A", num_classes=num_classes)


def vgg13(num_classes: int = 1000) -> VGG:
    """VGG-13 (configuration B)."""
    return VGG("B", num_classes=num_classes)


def vgg16(num_classes: int = 1000) -> VGG:
    """VGG-16 (configuration D)."""
    return VGG("D", num_classes=num_classes)


def vgg19(num_classes: int = 1000) -> VGG:
    """VGG-19 (configuration E)."""
    return VGG("E", num_classes=num_classes)


def vgg11_bn(num_classes: int = 1000) -> VGG:
    """VGG-11 with batch normalization."""
    return VGG("A", True, num_classes)


def vgg13_bn(num_classes: int = 1000) -> VGG:
    """VGG-13 with batch normalization."""
    return VGG("B", True, num_classes)


def vgg16_bn(num_classes: int = 1000) -> VGG:
    """VGG-16 with batch normalization."""
    return VGG("D", True, num_classes)


def vgg19_bn(num_classes: int = 1000) -> VGG:
    """VGG-19 with batch normalization."""
    return VGG("E", True, num_classes)
