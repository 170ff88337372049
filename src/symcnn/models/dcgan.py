"""The DCGAN generator and discriminator of the PyTorch DCGAN tutorial (Radford et al. 2015; 64x64 images).

Both keep the tutorial's single ``main`` ``nn.Sequential``, so layer names match its state dict.
"""

from __future__ import annotations

from collections import OrderedDict

from .._graph import Sequential
from ..layers import BatchNorm2d, Conv2d, ConvTranspose2d, LeakyReLU, ReLU, Sigmoid, Tanh

__all__ = ["DCGANGenerator", "DCGANDiscriminator", "dcgan_generator", "dcgan_discriminator"]


class DCGANGenerator(Sequential):
    """Latent ``(nz, 1, 1)`` -> image ``(nc, 64, 64)``: a 4x4 transposed conv to ``ngf*8`` maps at 4x4, then
    four 4x4 stride-2 transposed convs (padding 1) doubling the size; BN + ReLU between, Tanh at the end.

    >>> import symcnn as sc
    >>> a = sc.analyze(sc.models.dcgan_generator(), (100, 1, 1))
    >>> a.output_shape, a.params       # 4 -> 8 -> 16 -> 32 -> 64: (4 - 1)*2 - 2 + 4 = 8, ...
    ((3, 64, 64), 3576704)
    """

    def __init__(self, nz: int = 100, ngf: int = 64, nc: int = 3):
        layers: list = [ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False), BatchNorm2d(ngf * 8), ReLU()]
        c = ngf * 8
        for _ in range(3):
            layers += [ConvTranspose2d(c, c // 2, 4, 2, 1, bias=False), BatchNorm2d(c // 2), ReLU()]
            c //= 2
        layers += [ConvTranspose2d(c, nc, 4, 2, 1, bias=False), Tanh()]
        super().__init__(OrderedDict([("main", Sequential(*layers))]))


class DCGANDiscriminator(Sequential):
    """Image ``(nc, 64, 64)`` -> probability ``(1, 1, 1)``: four 4x4 stride-2 convs (padding 1) halving the
    size, LeakyReLU(0.2) (BN from the second), a final 4x4 valid conv and a sigmoid.

    >>> import symcnn as sc
    >>> a = sc.analyze(sc.models.dcgan_discriminator(), (3, 64, 64))
    >>> a.output_shape, a.params
    ((1, 1, 1), 2765568)
    """

    def __init__(self, nc: int = 3, ndf: int = 64):
        layers: list = [Conv2d(nc, ndf, 4, 2, 1, bias=False), LeakyReLU(0.2)]
        c = ndf
        for _ in range(3):
            layers += [Conv2d(c, c * 2, 4, 2, 1, bias=False), BatchNorm2d(c * 2), LeakyReLU(0.2)]
            c *= 2
        layers += [Conv2d(c, 1, 4, 1, 0, bias=False), Sigmoid()]
        super().__init__(OrderedDict([("main", Sequential(*layers))]))


def dcgan_generator(nz: int = 100, ngf: int = 64, nc: int = 3) -> DCGANGenerator:
    """The DCGAN tutorial's generator (nz=100, ngf=64, nc=3)."""
    return DCGANGenerator(nz, ngf, nc)


def dcgan_discriminator(nc: int = 3, ndf: int = 64) -> DCGANDiscriminator:
    """The DCGAN tutorial's discriminator (nc=3, ndf=64)."""
    return DCGANDiscriminator(nc, ndf)
