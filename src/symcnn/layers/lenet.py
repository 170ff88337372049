"""LeNet-5's own layers (LeCun et al. 1998, Sec. II-B): trainable subsampling, a convolution with an
input-output connection table (C3), and the Euclidean RBF output layer.

``Subsampling2d``: each output is (sum of a ``k x k`` block) x one trainable coefficient + one trainable
bias, per map, non-overlapping by default::

    params = 2*C     connections = prod(O)*C*(k^2 + 1)     FLOPs = prod(O)*C*(k^2 + 1)   (k^2-1 adds,
                                                                                          1 mult, 1 add)

``ConnectionTableConv2d``: output map ``m`` convolves only the input maps ``table[m]``::

    params = sum_m (|table[m]|*prod(F) + [bias])     MACs = prod(O) * sum_m |table[m]|*prod(F)
    connections = prod(O) * sum_m (|table[m]|*prod(F) + [bias])

``RBF``: ``out`` units, each the squared Euclidean distance of the ``in`` inputs to a fixed prototype:
no trainable parameters (the ``in*out`` prototype values are buffers), ``in*out`` connections and MACs,
``out*(3*in - 1)`` FLOPs (subtract, square, sum).
"""

from __future__ import annotations

import sympy

from .._errors import SymcnnError
from ._base import AxisMap, Checker, Layer, LayerResult, Shape, fmt, prod, to_expr, to_tuple
from .conv import conv_output_size

__all__ = ["Subsampling2d", "ConnectionTableConv2d", "RBF", "LENET5_C3_TABLE"]

#: LeNet-5's C3 table (the paper's Table I): C3 map -> the S2 maps it reads.
LENET5_C3_TABLE: tuple[tuple[int, ...], ...] = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (4, 5, 0), (5, 0, 1),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (3, 4, 5, 0), (4, 5, 0, 1), (5, 0, 1, 2),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)


class Subsampling2d(Layer):
    """LeNet's trainable subsampling (S2, S4): ``(sum of a k x k block) * w_c + b_c`` per map ``c``.

    >>> import symcnn as sc
    >>> a = sc.analyze(sc.Subsampling2d(6), (6, 28, 28))
    >>> a.output_shape, a.params, a.connections   # 5880 = 14*14*6*(2*2 + 1)
    ((6, 14, 14), 12, 5880)
    """

    def __init__(self, channels, kernel_size=2, stride=None):
        label = self.kind
        k = to_tuple(label, "kernel_size", kernel_size, 2, minimum=1)
        s = k if stride is None else to_tuple(label, "stride", stride, 2, minimum=1)
        self._set(channels=to_expr(label, "channels", channels, minimum=1), kernel_size=k, stride=s)
        self._freeze()

    def __repr__(self) -> str:
        extra = "" if self.stride == self.kernel_size else f", stride={fmt(self.stride)}"
        return f"Subsampling2d({fmt(self.channels)}, kernel_size={fmt(self.kernel_size)}{extra})"

    def infer(self, x: Shape) -> LayerResult:
        self._expect_rank(x, 3, "channels, height, width")
        ck = Checker(self.label)
        self._expect_channels(x, self.channels, ck, "channels")
        out = []
        for w, k, s in zip(x[1:], self.kernel_size, self.stride, strict=True):
            ck.require(sympy.Ge(w, k), f"window {fmt(k)} is larger than the input {fmt(w)}")
            out.append(conv_output_size(w, k, s))
        outputs = self.channels * prod(out)
        per = prod(self.kernel_size) + 1
        return LayerResult(
            output_shape=Shape((self.channels, *out)),
            params=2 * self.channels,
            flops=outputs * per,
            connections=outputs * per,
            axes=tuple(AxisMap("window", k, s) for k, s in zip(self.kernel_size, self.stride, strict=True)),
            conditions=tuple(ck.conditions),
        )


class ConnectionTableConv2d(Layer):
    """A 2-D convolution in which output map ``m`` reads only the input maps listed in ``table[m]`` (LeNet C3).

    >>> import symcnn as sc
    >>> c3 = sc.ConnectionTableConv2d(6, 16, 5, table=sc.LENET5_C3_TABLE)
    >>> sc.analyze(c3, (6, 14, 14)).params   # 6*(3*25+1) + 9*(4*25+1) + (6*25+1)
    1516
    """

    def __init__(self, in_channels, out_channels, kernel_size, table, stride=1, padding=0, bias=True):
        label = self.kind
        cin = to_expr(label, "in_channels", in_channels, minimum=1)
        cout = to_expr(label, "out_channels", out_channels, minimum=1)
        if not (cin.is_Integer and cout.is_Integer):
            raise SymcnnError(f"{label}: `in_channels` and `out_channels` must be numbers (the table lists maps)")
        try:
            rows = tuple(tuple(r) for r in table)
        except TypeError:
            raise SymcnnError(f"{label}: `table` must be a sequence of input-map index tuples") from None
        if len(rows) != int(cout):
            raise SymcnnError(f"{label}: `table` has {len(rows)} rows; expected `out_channels`={int(cout)}")
        for m, row in enumerate(rows):
            if not row:
                raise SymcnnError(f"{label}: `table` row {m} is empty; every output map needs an input")
            for i in row:
                if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < int(cin):
                    raise SymcnnError(
                        f"{label}: `table` row {m} lists input map {i!r}; allowed 0..{int(cin) - 1}"
                    )
            if len(set(row)) != len(row):
                raise SymcnnError(f"{label}: `table` row {m} lists an input map twice: {row}")
        if not isinstance(bias, bool):
            raise SymcnnError(f"{label}: `bias`={bias!r} must be True or False")
        self._set(
            in_channels=cin, out_channels=cout, table=rows, bias=bias,
            kernel_size=to_tuple(label, "kernel_size", kernel_size, 2, minimum=1),
            stride=to_tuple(label, "stride", stride, 2, minimum=1),
            padding=to_tuple(label, "padding", padding, 2, minimum=0),
        )
        self._freeze()

    def __repr__(self) -> str:
        return (f"ConnectionTableConv2d({fmt(self.in_channels)}, {fmt(self.out_channels)}, "
                f"kernel_size={fmt(self.kernel_size)}, table=<{len(self.table)} rows, "
                f"{sum(len(r) for r in self.table)} links>)")

    def infer(self, x: Shape) -> LayerResult:
        self._expect_rank(x, 3, "channels, height, width")
        ck = Checker(self.label)
        self._expect_channels(x, self.in_channels, ck, "in_channels")
        out = []
        for w, k, s, p in zip(x[1:], self.kernel_size, self.stride, self.padding, strict=True):
            ck.require(sympy.Ge(w + 2 * p, k), f"kernel {fmt(k)} is larger than the padded input {fmt(w + 2 * p)}")
            out.append(conv_output_size(w, k, s, p))
        area = prod(self.kernel_size)
        b = 1 if self.bias else 0
        weights = sum(len(r) for r in self.table) * area
        positions = prod(out)
        return LayerResult(
            output_shape=Shape((self.out_channels, *out)),
            params=weights + b * self.out_channels,
            macs=positions * weights,
            flops=positions * (2 * weights - self.out_channels + b * self.out_channels),
            connections=positions * (weights + b * self.out_channels),
            axes=tuple(AxisMap("window", k, s, p)
                       for k, s, p in zip(self.kernel_size, self.stride, self.padding, strict=True)),
            conditions=tuple(ck.conditions),
        )


class RBF(Layer):
    """LeNet's Euclidean RBF output layer: ``y_j = sum_i (x_i - w_ij)^2`` with fixed prototypes ``w``.

    >>> import symcnn as sc
    >>> a = sc.analyze(sc.RBF(84, 10), (84,))
    >>> a.params, a.buffers, a.connections
    (0, 840, 840)
    """

    def __init__(self, in_features, out_features):
        self._set(
            in_features=to_expr(self.kind, "in_features", in_features, minimum=1),
            out_features=to_expr(self.kind, "out_features", out_features, minimum=1),
        )
        self._freeze()

    def __repr__(self) -> str:
        return f"RBF(in_features={fmt(self.in_features)}, out_features={fmt(self.out_features)})"

    def infer(self, x: Shape) -> LayerResult:
        ck = Checker(self.label)
        if len(x) != 1:
            raise SymcnnError(f"{self.label}: input shape {fmt(tuple(x))} must be a vector (flatten first)")
        ck.require(sympy.Eq(x[0], self.in_features),
                   f"input has {fmt(x[0])} features but `in_features`={fmt(self.in_features)}")
        links = self.in_features * self.out_features
        return LayerResult(
            output_shape=Shape((self.out_features,)),
            buffers=links,
            macs=links,
            flops=self.out_features * (3 * self.in_features - 1),
            connections=links,
            conditions=tuple(ck.conditions),
        )
