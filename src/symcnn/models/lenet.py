"""LeNet-5 (LeCun, Bottou, Bengio, Haffner 1998, Sec. II-B), built from the engine's LeNet layers."""

from __future__ import annotations

from collections import OrderedDict

from .._graph import Sequential
from ..layers import LENET5_C3_TABLE, RBF, ConnectionTableConv2d, Conv2d, Flatten, Linear, Subsampling2d, Tanh

__all__ = ["lenet5", "LeNet5"]


class LeNet5(Sequential):
    """LeNet-5 on a (1, 32, 32) input: C1, S2, C3 (connection table), S4, C5, F6, OUTPUT (Euclidean RBF).

    Activations are kept inside each stage (``"C1.act"`` ...) so the per-layer table shows the paper's rows.

    >>> import symcnn as sc
    >>> a = sc.analyze(sc.models.lenet5(), (1, 32, 32))
    >>> a.params, a.connections          # 60,000 trainable parameters; 340,908 connections
    (60000, 340908)
    >>> [(r.name, r.params, r.connections) for r in a.layers if r.name == "C3"]
    [('C3', 1516, 151600)]
    """

    def __init__(self):
        items = [
            ("C1", Conv2d(1, 6, 5)), ("C1.act", Tanh()),
            ("S2", Subsampling2d(6)), ("S2.act", Tanh()),
            ("C3", ConnectionTableConv2d(6, 16, 5, table=LENET5_C3_TABLE)), ("C3.act", Tanh()),
            ("S4", Subsampling2d(16)), ("S4.act", Tanh()),
            ("C5", Conv2d(16, 120, 5)), ("C5.act", Tanh()),
            ("flatten", Flatten()),
            ("F6", Linear(120, 84)), ("F6.act", Tanh()),
            ("OUTPUT", RBF(84, 10)),
        ]
        super().__init__(OrderedDict(items))
        self.features = Sequential(OrderedDict(items[:10]))


def lenet5() -> LeNet5:
    """LeNet-5 (see :class:`LeNet5`)."""
    return LeNet5()
