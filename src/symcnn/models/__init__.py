"""The model zoo: classic networks built from the engine's layers (no stored figures).

>>> import symcnn as sc
>>> "vgg16" in sc.models.names()
True
"""

from __future__ import annotations

from .._errors import SymcnnError
from .alexnet import AlexNet, alexnet
from .lenet import LeNet5, lenet5
from .resnet import BasicBlock, Bottleneck, ResNet, resnet18, resnet34, resnet50, resnet101, resnet152
from .vgg import VGG, vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn

__all__ = [
    "names", "get", "AlexNet", "alexnet", "lenet5", "LeNet5", "VGG", "vgg11", "vgg13", "vgg16", "vgg19",
    "vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn", "ResNet", "BasicBlock", "Bottleneck", "resnet18", "resnet34",
    "resnet50", "resnet101", "resnet152",
]

_REGISTRY = {
    f.__name__: f for f in (alexnet, lenet5, vgg11, vgg13, vgg16, vgg19, vgg11_bn, vgg13_bn, vgg16_bn, vgg19_bn,
                            resnet18, resnet34, resnet50, resnet101, resnet152)
}


def names() -> list[str]:
    """The zoo's model names, sorted."""
    return sorted(_REGISTRY)


def get(name: str, **kwargs):
    """Build a zoo model by name."""
    if name not in _REGISTRY:
        raise SymcnnError(f"models.get: unknown model {name!r}; choose one of: {', '.join(names())}")
    return _REGISTRY[name](**kwargs)
