"""The public sources symcnn cites, by key.

Every ``sources`` field of a derivation (:mod:`symcnn.derive`) and of an erratum (:func:`symcnn.errata`) is a
tuple of keys of :data:`BIBLIOGRAPHY`, optionally followed by a locator (``"dumoulin2016, Relationship 6"``);
:func:`cite` checks a key and :func:`reference` formats one entry.

>>> BIBLIOGRAPHY["dumoulin2016"].url
'https://arxiv.org/abs/1603.07285'
>>> reference("araujo2019")
'A. Araujo, W. Norris, J. Sim. Computing Receptive Fields of Convolutional Neural Networks. Distill, 2019. https://doi.org/10.23915/distill.00021'
>>> cite("simonyan2014", "Table 1")
'simonyan2014, Table 1'
"""

from __future__ import annotations

from typing import NamedTuple

from ._errors import SymcnnError

__all__ = ["Source", "BIBLIOGRAPHY", "cite", "key_of", "reference"]


class Source(NamedTuple):
    """One citable source: who, what, where (venue and year), and a link."""

    authors: str
    title: str
    venue: str
    url: str


_TORCH = "https://docs.pytorch.org/docs/stable/generated/torch.nn.{}.html"
_ONNX = "https://onnx.ai/onnx/operators/onnx__{}.html"

#: citation key -> :class:`Source`
BIBLIOGRAPHY: dict[str, Source] = {
    "dumoulin2016": Source(
        "V. Dumoulin, F. Visin",
        "A guide to convolution arithmetic for deep learning",
        "arXiv:1603.07285, 2016",
        "https://arxiv.org/abs/1603.07285",
    ),
    "araujo2019": Source(
        "A. Araujo, W. Norris, J. Sim",
        "Computing Receptive Fields of Convolutional Neural Networks",
        "Distill, 2019",
        "https://doi.org/10.23915/distill.00021",
    ),
    "tf-padding": Source(
        "TensorFlow authors",
        "tf.nn: Notes on padding",
        "TensorFlow API documentation",
        "https://www.tensorflow.org/api_docs/python/tf/nn#notes_on_padding_2",
    ),
    "torch-conv2d": Source("PyTorch authors", "torch.nn.Conv2d", "PyTorch documentation", _TORCH.format("Conv2d")),
    "torch-convtranspose2d": Source(
        "PyTorch authors", "torch.nn.ConvTranspose2d", "PyTorch documentation", _TORCH.format("ConvTranspose2d")
    ),
    "torch-maxpool2d": Source(
        "PyTorch authors", "torch.nn.MaxPool2d", "PyTorch documentation", _TORCH.format("MaxPool2d")
    ),
    "torch-avgpool2d": Source(
        "PyTorch authors", "torch.nn.AvgPool2d", "PyTorch documentation", _TORCH.format("AvgPool2d")
    ),
    "torch-adaptiveavgpool2d": Source(
        "PyTorch authors", "torch.nn.AdaptiveAvgPool2d", "PyTorch documentation", _TORCH.format("AdaptiveAvgPool2d")
    ),
    "torch-upsample": Source(
        "PyTorch authors", "torch.nn.Upsample", "PyTorch documentation", _TORCH.format("Upsample")
    ),
    "torch-dropout": Source("PyTorch authors", "torch.nn.Dropout", "PyTorch documentation", _TORCH.format("Dropout")),
    "onnx-conv": Source(
        "ONNX authors", "Conv (attribute auto_pad)", "ONNX operator specification", _ONNX.format("Conv")
    ),
    "onnx-maxpool": Source(
        "ONNX authors",
        "MaxPool (attributes auto_pad, ceil_mode)",
        "ONNX operator specification",
        _ONNX.format("MaxPool"),
    ),
    "lecun1998": Source(
        "Y. LeCun, L. Bottou, Y. Bengio, P. Haffner",
        "Gradient-Based Learning Applied to Document Recognition",
        "Proceedings of the IEEE 86(11), 1998",
        "https://doi.org/10.1109/5.726791",
    ),
    "simonyan2014": Source(
        "K. Simonyan, A. Zisserman",
        "Very Deep Convolutional Networks for Large-Scale Image Recognition",
        "arXiv:1409.1556, 2014",
        "https://arxiv.org/abs/1409.1556",
    ),
    "he2015spp": Source(
        "K. He, X. Zhang, S. Ren, J. Sun",
        "Spatial Pyramid Pooling in Deep Convolutional Networks for Visual Recognition",
        "arXiv:1406.4729, 2014 (IEEE TPAMI 2015)",
        "https://arxiv.org/abs/1406.4729",
    ),
    "he2016resnet": Source(
        "K. He, X. Zhang, S. Ren, J. Sun",
        "Deep Residual Learning for Image Recognition",
        "arXiv:1512.03385, 2015 (CVPR 2016)",
        "https://arxiv.org/abs/1512.03385",
    ),
    "hien2017": Source(
        "Dang Ha The Hien",
        "A guide to receptive field arithmetic for Convolutional Neural Networks",
        "ML Review (Medium), 2017",
        "https://medium.com/mlreview/a-guide-to-receptive-field-arithmetic-for-convolutional-neural-networks-e0f514068807",
    ),
    "torchvision-models": Source(
        "torchvision authors",
        "Models and pre-trained weights (weight metadata: parameters, GFLOPS, file size)",
        "torchvision documentation",
        "https://docs.pytorch.org/vision/stable/models.html",
    ),
    "cs231n": Source(
        "A. Karpathy et al.",
        "CS231n Convolutional Neural Networks for Visual Recognition: Convolutional Networks",
        "Stanford course notes",
        "https://cs231n.github.io/convolutional-networks/",
    ),
    "fvcore": Source(
        "Meta AI Research", "fvcore (flop_count)", "GitHub repository", "https://github.com/facebookresearch/fvcore"
    ),
    "ptflops": Source(
        "V. Sovrasov", "ptflops: Flops counter for neural networks in PyTorch", "GitHub repository",
        "https://github.com/sovrasov/flops-counter.pytorch",
    ),
    "thop": Source(
        "L. Zhu", "THOP: PyTorch-OpCounter", "GitHub repository", "https://github.com/Lyken17/pytorch-OpCounter"
    ),
    "torchinfo": Source(
        "T. Yep", "torchinfo: model summary in PyTorch", "GitHub repository", "https://github.com/TylerYep/torchinfo"
    ),
}


def key_of(citation: str) -> str:
    """The key of a citation string (``"dumoulin2016, Relationship 6"`` -> ``"dumoulin2016"``)."""
    return citation.split(",", 1)[0].strip()


def cite(key: str, where: str = "") -> str:
    """A citation of ``key`` (which must be in :data:`BIBLIOGRAPHY`), with an optional locator."""
    if key not in BIBLIOGRAPHY:
        raise SymcnnError(f"citation key `key`={key!r} is not in the bibliography; known: {', '.join(BIBLIOGRAPHY)}")
    return f"{key}, {where}" if where else key


def reference(key: str) -> str:
    """One bibliography entry as text: authors. Title. Venue. URL."""
    s = BIBLIOGRAPHY[key_of(cite(key_of(key)))]
    return f"{s.authors}. {s.title}. {s.venue}. {s.url}"
