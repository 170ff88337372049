"""Inverse problems: the kernel, stride, padding, dilation, output_padding or input size that hit a target.

Three solvers, all built on :func:`symcnn.analyze` run with the unknowns as symbols:

* :func:`solve` -- layer arguments (or input sizes) left as symbols, a target output shape: the closed form
  (obtained by unwrapping every ``floor(x/a) = q`` into ``a*q <= x <= a*q + a - 1``, rule R6)
  and every solution inside bounds, each re-checked exactly;
* :func:`valid_input_sizes` -- the input sizes for which a network runs (every condition of the analysis
  holds), or loses no pixel to rounding (``exact=True``: every floor division exact), as arithmetic
  progressions found on one period of the floor divisions (lcm of the divisors), plus the explicit list;
* :func:`mirror_output_padding` -- the ``output_padding`` of every transposed layer of a decoder that
  restores the size of its encoder stage, as a formula in the input size (``(X + 2P - F_eff) mod S``).

Framework semantics come from the layers themselves: an integer ``padding`` is PyTorch's, ``padding="same"``
is PyTorch's (stride 1 only), ``padding="tf_same"`` is TensorFlow / ONNX SAME_UPPER at any stride,
``ceil_mode=True`` is PyTorch's ceil-mode pooling and a ``(left, right)`` pair is an explicit asymmetric padding
(TensorFlow explicit / ONNX ``pads``).

>>> import symcnn as sc
>>> r = solve(sc.Conv2d(3, 64, kernel_size=7, stride=2, padding=sc.P), (3, 224, 224), (64, 112, 112))
>>> r.closed_form                     # ceil((111*2 - 224 + 7)/2) <= P <= floor((112*2 - 1 - 224 + 7)/2)
Eq(P, 3)
>>> list(r)
[{P: 3}]
"""

from .layer import DEFAULT_BOUNDS as DEFAULT_BOUNDS
from .layer import solve as solve
from .mirror import mirror_output_padding as mirror_output_padding
from .results import InputSizes as InputSizes
from .results import OutputPaddings as OutputPaddings
from .results import Progression as Progression
from .results import Solutions as Solutions
from .sizes import valid_input_sizes as valid_input_sizes

__all__ = [
    "solve",
    "Solutions",
    "valid_input_sizes",
    "InputSizes",
    "Progression",
    "mirror_output_padding",
    "OutputPaddings",
    "DEFAULT_BOUNDS",
]
