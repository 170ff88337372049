"""The model zoo: classic networks built from the engine's layers (no stored figures).

>>> import symcnn as sc
>>> "vgg16" in sc.models.names()
True
"""

from __future__ import annotations

from .._errors import SymcnnError
from .alexnet import AlexNet, alexnet
from .dcgan import DCGANDiscriminator, DCGANGenerator, dcgan_discriminator, dcgan_generator
from .densenet import DenseBlock, DenseLayer, DenseNet, Transition, densenet121
from .googlenet import BasicConv2d, GoogLeNet, Inception, googlenet
from .lenet import LeNet5, lenet5
from .mobilenet import InvertedResidual, MobileNetV2, mobilenet_v2
from .resnet import BasicBlock, Bottleneck, ResNet, resnet18, resnet34, resnet50, resnet101, resnet152
from .squeezenet import Fire, SqueezeNet, squeezenet1_0, squeezenet1_1
from .unet import UNet, unet
from .vgg import VGG, vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn

__all__ = [
    "names", "get", "AlexNet", "alexnet", "lenet5", "LeNet5", "VGG", "vgg11", "vgg13", "vgg16", "vgg19",
    "vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn", "ResNet", "BasicBlock", "Bottleneck", "resnet18", "resnet34",
    "resnet50", "resnet101", "resnet152", "MobileNetV2", "InvertedResidual", "mobilenet_v2", "SqueezeNet", "Fire",
    "squeezenet1_0", "squeezenet1_1", "DenseNet", "DenseLayer", "DenseBlock", "Transition", "densenet121",
    "GoogLeNet", "Inception", "BasicConv2d", "googlenet", "UNet", "unet", "DCGANGenerator", "DCGANDiscriminator",
    "dcgan_generator", "dcgan_discriminator",
]

_REGISTRY = {
    f.__name__: f for f in (alexnet, lenet5, vgg11, vgg13, vgg16, vgg19, vgg11_bn, vgg13_bn, vgg16_bn, vgg19_bn,
                            resnet18, resnet34, resnet50, resnet101, resnet152, mobilenet_v2, squeezenet1_0,
                            squeezenet1_1, densenet121, googlenet, unet, dcgan_generator, dcgan_discriminator)
}


def names() -> list[str]:
    """The zoo's model names, sorted."""
    return sorted(_REGISTRY)


def get(name: str, **kwargs):
    """Build a zoo model by name."""
    if not isinstance(name, str) or name not in _REGISTRY:
        raise SymcnnError(f"models.get: unknown model {name!r}; choose one of: {', '.join(names())}")
    return _REGISTRY[name](**kwargs)
