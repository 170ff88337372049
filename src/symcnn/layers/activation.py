"""Element-wise layers: activations, dropout and identity. The shape is unchanged.

FLOPs: one per element for every activation (a comparison, or one evaluation of the function; the cost
of a transcendental function is not weighted), ``Softmax``/``LogSoftmax`` three per element (exp, sum,
divide); ``Dropout`` and ``Identity`` none (inference). ``PReLU`` has ``num_parameters`` parameters.
"""

from __future__ import annotations

from ._base import Layer, LayerResult, Shape, fmt, prod, to_expr

__all__ = [
    "ReLU", "ReLU6", "LeakyReLU", "PReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish", "Sigmoid", "Tanh",
    "Hardswish", "Hardsigmoid", "Hardtanh", "Softplus", "Softmax", "LogSoftmax", "Dropout", "Dropout1d",
    "Dropout2d", "Dropout3d", "AlphaDropout", "Identity",
]


class _Elementwise(Layer):
    _flops_per_element = 1

    def __init__(self, *args, **kwargs):
        self._set(args=args, kwargs=kwargs)
        self._freeze()

    def __repr__(self) -> str:
        inner = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return f"{self.kind}({', '.join(inner)})"

    def infer(self, x: Shape) -> LayerResult:
        return LayerResult(output_shape=Shape(x), flops=self._flops_per_element * prod(x))


def _make(name: str, flops: int, doc: str):
    return type(name, (_Elementwise,), {"_flops_per_element": flops, "__doc__": doc, "__module__": __name__})


ReLU = _make("ReLU", 1, "``torch.nn.ReLU``: max(x, 0).")
ReLU6 = _make("ReLU6", 1, "``torch.nn.ReLU6``.")
LeakyReLU = _make("LeakyReLU", 1, "``torch.nn.LeakyReLU``.")
ELU = _make("ELU", 1, "``torch.nn.ELU``.")
SELU = _make("SELU", 1, "``torch.nn.SELU``.")
CELU = _make("CELU", 1, "``torch.nn.CELU``.")
GELU = _make("GELU", 1, "``torch.nn.GELU``.")
SiLU = _make("SiLU", 1, "``torch.nn.SiLU`` (swish).")
Mish = _make("Mish", 1, "``torch.nn.Mish``.")
Sigmoid = _make("Sigmoid", 1, "``torch.nn.Sigmoid``.")
Tanh = _make("Tanh", 1, "``torch.nn.Tanh``.")
Hardswish = _make("Hardswish", 1, "``torch.nn.Hardswish``.")
Hardsigmoid = _make("Hardsigmoid", 1, "``torch.nn.Hardsigmoid``.")
Hardtanh = _make("Hardtanh", 1, "``torch.nn.Hardtanh``.")
Softplus = _make("Softplus", 1, "``torch.nn.Softplus``.")
Softmax = _make("Softmax", 3, "``torch.nn.Softmax``: exp, sum and divide per element.")
LogSoftmax = _make("LogSoftmax", 3, "``torch.nn.LogSoftmax``.")
Dropout = _make("Dropout", 0, "``torch.nn.Dropout``: no parameters, no inference cost.")
Dropout1d = _make("Dropout1d", 0, "``torch.nn.Dropout1d``.")
Dropout2d = _make("Dropout2d", 0, "``torch.nn.Dropout2d``.")
Dropout3d = _make("Dropout3d", 0, "``torch.nn.Dropout3d``.")
AlphaDropout = _make("AlphaDropout", 0, "``torch.nn.AlphaDropout``.")
Identity = _make("Identity", 0, "``torch.nn.Identity``.")


class PReLU(Layer):
    """``torch.nn.PReLU(num_parameters=1)``: one slope per channel (or one shared)."""

    def __init__(self, num_parameters=1, init=0.25):
        self._set(num_parameters=to_expr("PReLU", "num_parameters", num_parameters, minimum=1))
        self._freeze()

    def __repr__(self) -> str:
        return f"PReLU(num_parameters={fmt(self.num_parameters)})"

    def infer(self, x: Shape) -> LayerResult:
        return LayerResult(output_shape=Shape(x), params=self.num_parameters, flops=prod(x))
