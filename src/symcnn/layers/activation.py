"""Element-wise layers: activations, dropout and identity. The shape is unchanged.

FLOPs: one per element for every activation (a comparison, or one evaluation of the function; the cost
of a transcendental function is not weighted), ``Softmax``/``LogSoftmax`` three per element (exp, sum,
divide); ``Dropout`` and ``Identity`` none (inference). ``PReLU`` has ``num_parameters`` parameters.
"""

from __future__ import annotations

import sympy

from .._errors import SymcnnError
from ._base import Checker, Layer, LayerResult, Shape, check_device_dtype, fmt, prod, to_expr

__all__ = [
    "ReLU", "ReLU6", "LeakyReLU", "PReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish", "Sigmoid", "Tanh",
    "Hardswish", "Hardsigmoid", "Hardtanh", "Softplus", "Softmax", "LogSoftmax", "Dropout", "Dropout1d",
    "Dropout2d", "Dropout3d", "AlphaDropout", "Identity", "StochasticDepth",
]


_NO_DEFAULT = object()


def _check_bool(label, name, v):
    if not isinstance(v, bool):
        raise SymcnnError(f"{label}: `{name}`={v!r} must be True or False")


def _check_real(label, name, v):
    if isinstance(v, bool) or not isinstance(v, (int, float)):  # PyTorch's "Number": not a SymPy value
        raise SymcnnError(f"{label}: `{name}`={v!r} must be a number (int or float)")
    if isinstance(v, int) and not -(2**63) <= v < 2**64:  # what PyTorch converts to a Scalar
        raise SymcnnError(f"{label}: `{name}`={v} is too big for PyTorch (allowed -2**63 .. 2**64 - 1)")


def _check_nonzero(label, name, v):
    _check_real(label, name, v)
    if v == 0:
        raise SymcnnError(f"{label}: `{name}`={v!r} must not be 0 (PyTorch divides by it)")


def _check_probability(label, name, v):
    _check_real(label, name, v)
    if not 0 <= v <= 1:  # also refuses NaN
        raise SymcnnError(f"{label}: `{name}`={v!r} must be a probability between 0 and 1")


def _check_dim(label, name, v):
    if v is not None and (isinstance(v, bool) or not isinstance(v, int)):
        raise SymcnnError(f"{label}: `{name}`={v!r} must be None or an int (a dimension, batch counted)")


def _check_approximate(label, name, v):
    if v not in ("none", "tanh") or not isinstance(v, str):
        raise SymcnnError(f"{label}: `{name}`={v!r} must be 'none' or 'tanh'")


def _check_mode(label, name, v):
    if v not in ("batch", "row") or not isinstance(v, str):
        raise SymcnnError(f"{label}: `{name}`={v!r} must be 'batch' or 'row'")


def _check_optional_real(label, name, v):
    if v is not None:
        _check_real(label, name, v)


_INPLACE = ("inplace", False, _check_bool)


class _Elementwise(Layer):
    """An element-wise layer taking exactly PyTorch's constructor arguments (``_args``: name, default,
    check), none of which changes the shape."""

    _flops_per_element = 1
    _args: tuple = ()
    #: ``nn.Identity`` takes and ignores any arguments
    _any_args = False
    #: numbers of dims (without batch) PyTorch accepts, or None for any
    _ranks: tuple[int, ...] | None = None

    def __init__(self, *args, **kwargs):
        label = self.kind
        if self._any_args:
            self._set(args=args, kwargs=kwargs, _values={})
            self._freeze()
            return
        names = [a[0] for a in self._args]
        if len(args) > len(names):
            raise SymcnnError(
                f"{label}: takes {len(names)} argument(s) ({', '.join(names) or 'none'}), got {len(args)} positional"
            )
        values = dict(zip(names, args, strict=False))
        for k, v in kwargs.items():
            if k not in names:
                allowed = ", ".join(f"`{n}`" for n in names) or "no arguments"
                raise SymcnnError(f"{label}: unknown argument `{k}`={v!r}; PyTorch's {label} takes {allowed}")
            if k in values:
                raise SymcnnError(f"{label}: argument `{k}` given twice (by position and by name)")
            values[k] = v
        for name, default, check in self._args:
            if name not in values:
                if default is _NO_DEFAULT:
                    raise SymcnnError(f"{label}: missing argument `{name}`")
                values[name] = default
            check(label, name, values[name])
        self._check_together(values)
        self._set(args=args, kwargs=kwargs, _values=values)
        self._freeze()

    def _check_together(self, values) -> None:
        pass

    def __getattr__(self, name):  # the arguments by name, as on the nn.Module (``GELU().approximate``)
        values = self.__dict__.get("_values", {})
        if name in values:
            return values[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __repr__(self) -> str:
        inner = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return f"{self.kind}({', '.join(inner)})"

    def infer(self, x: Shape) -> LayerResult:
        if self._ranks is not None and len(x) not in self._ranks:
            raise SymcnnError(
                f"{self.label}: input shape {fmt(tuple(x))} has {len(x)} dims; PyTorch's {self.kind} takes "
                f"{' or '.join(str(r) for r in self._ranks)} (without the batch dimension)"
            )
        self._check_input(x)
        return LayerResult(output_shape=Shape(x), flops=self._flops_per_element * prod(x))

    def _check_input(self, x: Shape) -> None:
        pass


def _make(name: str, flops: int, doc: str, args=(), **extra):
    attrs = {"_flops_per_element": flops, "_args": tuple(args), "__doc__": doc, "__module__": __name__, **extra}
    return type(name, (_Elementwise,), attrs)


class _Hardtanh(_Elementwise):
    def _check_together(self, values) -> None:
        lo, hi = values["min_val"], values["max_val"]
        if values["min_value"] is not None:
            lo = values["min_value"]
        if values["max_value"] is not None:
            hi = values["max_value"]
        if hi <= lo:  # PyTorch's test (NaN passes it)
            raise SymcnnError(f"{self.kind}: `max_val`={hi!r} must be greater than `min_val`={lo!r} (PyTorch's rule)")


class _SoftmaxBase(_Elementwise):
    def _check_input(self, x: Shape) -> None:
        dim = self._values["dim"]
        rank = len(x) + 1  # with batch
        if dim is not None and not -rank <= dim < rank:
            raise SymcnnError(
                f"{self.label}: `dim`={dim} is out of range for input {fmt(tuple(x))} (rank {rank} with batch; "
                f"allowed {-rank}..{rank - 1})"
            )


_P = ("p", 0.5, _check_probability)

ReLU = _make("ReLU", 1, "``torch.nn.ReLU(inplace=False)``: max(x, 0).", [_INPLACE])
ReLU6 = _make("ReLU6", 1, "``torch.nn.ReLU6(inplace=False)``.", [_INPLACE])
LeakyReLU = _make("LeakyReLU", 1, "``torch.nn.LeakyReLU(negative_slope=0.01, inplace=False)``.",
                  [("negative_slope", 0.01, _check_real), _INPLACE])
ELU = _make("ELU", 1, "``torch.nn.ELU(alpha=1.0, inplace=False)``.", [("alpha", 1.0, _check_real), _INPLACE])
SELU = _make("SELU", 1, "``torch.nn.SELU(inplace=False)``.", [_INPLACE])
CELU = _make("CELU", 1, "``torch.nn.CELU(alpha=1.0, inplace=False)``; `alpha` must not be 0.",
             [("alpha", 1.0, _check_nonzero), _INPLACE])
GELU = _make("GELU", 1, "``torch.nn.GELU(approximate='none')``; `approximate` is 'none' or 'tanh'.",
             [("approximate", "none", _check_approximate)])
SiLU = _make("SiLU", 1, "``torch.nn.SiLU(inplace=False)`` (swish).", [_INPLACE])
Mish = _make("Mish", 1, "``torch.nn.Mish(inplace=False)``.", [_INPLACE])
Sigmoid = _make("Sigmoid", 1, "``torch.nn.Sigmoid()``.")
Tanh = _make("Tanh", 1, "``torch.nn.Tanh()``.")
Hardswish = _make("Hardswish", 1, "``torch.nn.Hardswish(inplace=False)``.", [_INPLACE])
Hardsigmoid = _make("Hardsigmoid", 1, "``torch.nn.Hardsigmoid(inplace=False)``.", [_INPLACE])
Hardtanh = type("Hardtanh", (_Hardtanh,), {
    "__doc__": "``torch.nn.Hardtanh(min_val=-1.0, max_val=1.0, inplace=False, min_value=None, max_value=None)``.",
    "__module__": __name__,
    "_args": (("min_val", -1.0, _check_real), ("max_val", 1.0, _check_real), _INPLACE,
              ("min_value", None, _check_optional_real), ("max_value", None, _check_optional_real)),
})
Softplus = _make("Softplus", 1, "``torch.nn.Softplus(beta=1.0, threshold=20.0)``.",
                 [("beta", 1.0, _check_real), ("threshold", 20.0, _check_real)])
Softmax = type("Softmax", (_SoftmaxBase,), {
    "__doc__": "``torch.nn.Softmax(dim=None)``: exp, sum and divide per element.", "__module__": __name__,
    "_flops_per_element": 3, "_args": (("dim", None, _check_dim),),
})
LogSoftmax = type("LogSoftmax", (_SoftmaxBase,), {
    "__doc__": "``torch.nn.LogSoftmax(dim=None)``.", "__module__": __name__,
    "_flops_per_element": 3, "_args": (("dim", None, _check_dim),),
})
Dropout = _make("Dropout", 0, "``torch.nn.Dropout(p=0.5, inplace=False)``: no parameters, no inference cost.",
                [_P, _INPLACE])
Dropout1d = _make("Dropout1d", 0, "``torch.nn.Dropout1d(p=0.5, inplace=False)``: input ``(C,)`` or ``(C, L)``.",
                  [_P, _INPLACE], _ranks=(1, 2))
Dropout2d = _make("Dropout2d", 0, "``torch.nn.Dropout2d(p=0.5, inplace=False)``.", [_P, _INPLACE])
Dropout3d = _make("Dropout3d", 0, "``torch.nn.Dropout3d(p=0.5, inplace=False)``.", [_P, _INPLACE])
AlphaDropout = _make("AlphaDropout", 0, "``torch.nn.AlphaDropout(p=0.5, inplace=False)``.", [_P, _INPLACE])
StochasticDepth = _make(
    "StochasticDepth", 0,
    """``torchvision.ops.StochasticDepth(p, mode)``: drops whole residual branches in training (``mode='row'``: one
    draw per sample, ``'batch'``: one for the batch) and is the identity in eval: no parameters, no inference cost.
    Training cost: a Bernoulli draw per sample (``'row'``) or per batch, then one multiply per element (the branch
    times its ``(B, 1, ..., 1)`` noise, divided by ``1 - p``), and that noise is saved for the backward pass.""",
    [("p", _NO_DEFAULT, _check_probability), ("mode", _NO_DEFAULT, _check_mode)])
Identity = _make("Identity", 0, "``torch.nn.Identity``: takes any arguments and ignores them, as in PyTorch.",
                 _any_args=True)


class PReLU(Layer):
    """``torch.nn.PReLU(num_parameters=1, init=0.25, device=None, dtype=None)``: one slope per channel (or one
    shared); with more than one, the input's channels must number ``num_parameters`` (PyTorch's rule)."""

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        check_device_dtype("PReLU", device, dtype)
        _check_real("PReLU", "init", init)
        self._set(num_parameters=to_expr("PReLU", "num_parameters", num_parameters, minimum=1), init=init)
        self._freeze()

    def __repr__(self) -> str:
        return f"PReLU(num_parameters={fmt(self.num_parameters)})"

    def infer(self, x: Shape) -> LayerResult:
        ck = Checker(self.label)
        if self.num_parameters != 1:
            ck.require(
                sympy.Eq(x[0], self.num_parameters),
                f"input has {fmt(x[0])} channels but `num_parameters`={fmt(self.num_parameters)} (it must be 1 or "
                "the number of channels)",
            )
        return LayerResult(output_shape=Shape(x), params=self.num_parameters, flops=prod(x),
                           conditions=tuple(ck.conditions))
