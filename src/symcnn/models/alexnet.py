"""AlexNet as torchvision builds it (the single-tower "one weird trick" variant, 64-192-384-256-256)."""

from __future__ import annotations

from collections import OrderedDict

from .._graph import Sequential
from ..layers import AdaptiveAvgPool2d, Conv2d, Dropout, Flatten, Linear, MaxPool2d, ReLU

__all__ = ["AlexNet", "alexnet"]


class AlexNet(Sequential):
    """torchvision's AlexNet.

    >>> import symcnn as sc
    >>> a = sc.analyze(sc.models.alexnet(), (3, 224, 224))
    >>> a.params, a.macs                       # torchvision: 61,100,840 params, 0.714 GMACs
    (61100840, 714188480)
    >>> rf = sc.analyze(sc.models.alexnet().features, (3, 224, 224)).receptive_field
    >>> rf.size, rf.stride                     # published: 195, effective stride 32
    ((195, 195), (32, 32))
    """

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5):
        features = Sequential(
            Conv2d(3, 64, 11, 4, 2), ReLU(), MaxPool2d(3, 2),
            Conv2d(64, 192, 5, padding=2), ReLU(), MaxPool2d(3, 2),
            Conv2d(192, 384, 3, padding=1), ReLU(),
            Conv2d(384, 256, 3, padding=1), ReLU(),
            Conv2d(256, 256, 3, padding=1), ReLU(), MaxPool2d(3, 2),
        )
        classifier = Sequential(
            Dropout(dropout), Linear(256 * 6 * 6, 4096), ReLU(), Dropout(dropout), Linear(4096, 4096), ReLU(),
            Linear(4096, num_classes),
        )
        super().__init__(OrderedDict([("features", features), ("avgpool", AdaptiveAvgPool2d(6)),
                                      ("flatten", Flatten()), ("classifier", classifier)]))
        self.features = features


def alexnet(num_classes: int = 1000) -> AlexNet:
    """AlexNet (see :class:`AlexNet`)."""
    return AlexNet(num_classes)
