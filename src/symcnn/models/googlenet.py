"""GoogLeNet (Inception v1) exactly as torchvision's pretrained builder makes it: no auxiliary heads.

torchvision's quirks, kept because its figures depend on them: the "5x5" branch uses a 3x3 conv (a known
bug kept for the pretrained weights), every max-pool has ``ceil_mode=True``, convs have no bias and are
followed by BatchNorm (eps 0.001). ``transform_input`` only rescales the input channels: no cost counted.
"""

from __future__ import annotations

from collections import OrderedDict

from .._graph import Graph, Input, Sequential
from ..layers import AdaptiveAvgPool2d, BatchNorm2d, Concat, Conv2d, Dropout, Flatten, Linear, MaxPool2d, ReLU

__all__ = ["GoogLeNet", "Inception", "BasicConv2d", "googlenet"]


def BasicConv2d(cin: int, cout: int, kernel_size: int, stride: int = 1, padding: int = 0) -> Sequential:  # noqa: N802
    """Conv (no bias), BatchNorm (eps 0.001), ReLU: torchvision's ``BasicConv2d`` (``conv``, ``bn``)."""
    return Sequential(OrderedDict([("conv", Conv2d(cin, cout, kernel_size, stride, padding, bias=False)),
                                   ("bn", BatchNorm2d(cout, eps=0.001)), ("relu", ReLU())]))


def Inception(cin: int, ch1x1: int, ch3x3red: int, ch3x3: int, ch5x5red: int, ch5x5: int,  # noqa: N802
              pool_proj: int) -> Graph:
    """Four branches concatenated: 1x1; 1x1 then 3x3; 1x1 then 3x3 (torchvision's "5x5"); 3x3/1 max-pool
    then 1x1. Output ``ch1x1 + ch3x3 + ch5x5 + pool_proj`` channels at the input's size.

    >>> import symcnn as sc
    >>> sc.analyze(Inception(192, 64, 96, 128, 16, 32, 32), (192, 28, 28)).output_shape   # 64+128+32+32
    (256, 28, 28)
    """
    x = Input()
    b1 = BasicConv2d(cin, ch1x1, 1)(x, name="branch1")
    b2 = Sequential(BasicConv2d(cin, ch3x3red, 1), BasicConv2d(ch3x3red, ch3x3, 3, padding=1))(x, name="branch2")
    b3 = Sequential(BasicConv2d(cin, ch5x5red, 1), BasicConv2d(ch5x5red, ch5x5, 3, padding=1))(x, name="branch3")
    b4 = Sequential(MaxPool2d(3, 1, 1, ceil_mode=True), BasicConv2d(cin, pool_proj, 1))(x, name="branch4")
    return Graph(x, Concat()(b1, b2, b3, b4, name="cat"))


class GoogLeNet(Sequential):
    """torchvision's ``googlenet`` as its pretrained builder makes it (``aux_logits=False``).

    >>> import symcnn as sc
    >>> a = sc.analyze(sc.models.googlenet(), (3, 224, 224))
    >>> a.params, a.macs                       # torchvision: 6,624,904 params, 1.498 GMACs
    (6624904, 1498376192)
    """

    def __init__(self, num_classes: int = 1000, dropout: float = 0.2):
        trunk = [
            ("conv1", BasicConv2d(3, 64, 7, 2, 3)), ("maxpool1", MaxPool2d(3, 2, ceil_mode=True)),
            ("conv2", BasicConv2d(64, 64, 1)), ("conv3", BasicConv2d(64, 192, 3, padding=1)),
            ("maxpool2", MaxPool2d(3, 2, ceil_mode=True)),
            ("inception3a", Inception(192, 64, 96, 128, 16, 32, 32)),
            ("inception3b", Inception(256, 128, 128, 192, 32, 96, 64)),
            ("maxpool3", MaxPool2d(3, 2, ceil_mode=True)),
            ("inception4a", Inception(480, 192, 96, 208, 16, 48, 64)),
            ("inception4b", Inception(512, 160, 112, 224, 24, 64, 64)),
            ("inception4c", Inception(512, 128, 128, 256, 24, 64, 64)),
            ("inception4d", Inception(512, 112, 144, 288, 32, 64, 64)),
            ("inception4e", Inception(528, 256, 160, 320, 32, 128, 128)),
            ("maxpool4", MaxPool2d(2, 2, ceil_mode=True)),
            ("inception5a", Inception(832, 256, 160, 320, 32, 128, 128)),
            ("inception5b", Inception(832, 384, 192, 384, 48, 128, 128)),
        ]
        super().__init__(OrderedDict([*trunk, ("avgpool", AdaptiveAvgPool2d(1)), ("flatten", Flatten()),
                                      ("dropout", Dropout(dropout)), ("fc", Linear(1024, num_classes))]))
        self.features = Sequential(OrderedDict(trunk))


def googlenet(num_classes: int = 1000) -> GoogLeNet:
    """GoogLeNet without auxiliary classifiers (torchvision's pretrained configuration)."""
    return GoogLeNet(num_classes)
