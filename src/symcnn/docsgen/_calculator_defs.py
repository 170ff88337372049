"""What each browser calculator asks and which layer it builds (the JavaScript is generated in ``_calculators``).

A calculator is a form: *rows* of integer (or decimal) inputs, one input per spatial axis where the argument is
per axis, plus *choices* (``ceil_mode``, ``bias``, ``mode``, ...). ``build`` turns the values into the library's
layer, ``shape`` gives the input shape; ``extras`` adds facts derived from the layer's own expressions (the SAME
split, the last pooling window, the adaptive windows). Every row has a symbol, the PyTorch argument it is and a
one-line hint, shown in the form.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import sympy

from .. import layers as L
from .._intmath import smax, smin
from ..layers.conv import effective_kernel
from ..layers.pool import adaptive_longest_window, adaptive_window_total

__all__ = ["Row", "Field", "Choice", "Calculator", "CALCULATORS", "AXES"]

AXES = {1: ("L",), 2: ("H", "W"), 3: ("T", "H", "W")}
_AXIS_WORD = {"L": "length", "T": "depth", "H": "height", "W": "width"}


@dataclass(frozen=True)
class Row:
    """One line of the form: a symbol, the argument it stands for, a hint, and one input per axis (or one)."""

    symbol: str
    label: str
    hint: str
    defaults: tuple
    minimum: int
    role: str  # "arg" (a layer argument) or "shape" (an entry of the input shape)
    axes: tuple[str, ...] = ()
    kind: str = "int"  # "int" (exact integer) or "scale" (a decimal, PyTorch's double)

    def fields(self) -> list[Field]:
        if not self.axes:
            return [Field(self.symbol, self, "", self.defaults[0])]
        return [Field(f"{self.symbol}_{a}", self, a, d) for a, d in zip(self.axes, self.defaults, strict=True)]


@dataclass(frozen=True)
class Field:
    name: str
    row: Row
    axis: str
    default: object

    @property
    def minimum(self) -> int:
        return self.row.minimum

    @property
    def role(self) -> str:
        return self.row.role

    @property
    def kind(self) -> str:
        return self.row.kind


@dataclass(frozen=True)
class Choice:
    """A fixed set of options (``ceil_mode``, ``bias``, ``mode``): one generated function per combination."""

    name: str
    label: str
    hint: str
    options: tuple[tuple[str, object], ...]  # (text shown, Python value passed to the layer)


@dataclass(frozen=True)
class Calculator:
    name: str
    title: str
    rows: tuple[Row, ...]
    build: Callable[[dict], object]  # values (ints, floats or symbols; choices as Python values) -> layer
    shape: Callable[[dict], tuple]  # values -> input shape (C, *spatial)
    outputs: tuple[str, ...]  # Analysis totals shown besides the spatial output sizes
    choices: tuple[Choice, ...] = ()
    extras: Callable[[object, dict, tuple], dict] | None = None  # (layer, values, output sizes) -> {key: expr}
    axes: tuple[str, ...] = ("H", "W")
    extra_labels: tuple[tuple[str, str], ...] = ()

    @property
    def fields(self) -> list[Field]:
        return [f for r in self.rows for f in r.fields()]

    def defaults(self) -> dict:
        out = {f.name: f.default for f in self.fields}
        out.update({c.name: c.options[0][0] for c in self.choices})
        return out

    def variants(self) -> list[dict[str, str]]:
        """Every combination of the choices, as ``{choice: option text}``."""
        combos = itertools.product(*[[o for o, _ in c.options] for c in self.choices])
        return [dict(zip([c.name for c in self.choices], combo, strict=True)) for combo in combos]

    def choice_values(self, values: dict) -> dict:
        """The Python values of the choices in ``values`` (their option texts)."""
        out = {}
        for c in self.choices:
            out[c.name] = dict(c.options)[values[c.name]]
        return out


def _ax(v: dict, symbol: str, axes) -> tuple:
    return tuple(v[f"{symbol}_{a}"] for a in axes)


def _in(axes, defaults) -> Row:
    return Row("X", "input size", "the input's spatial size (" + ", ".join(_AXIS_WORD[a] for a in axes) + ")",
               defaults, 1, "shape", axes)


def _conv_rows(axes, transposed=False) -> tuple[Row, ...]:
    n = len(axes)
    rows = [
        Row("C", "in_channels", "channels of the input; a multiple of G", (64 if transposed else 3,), 1, "arg"),
        Row("K", "out_channels", "channels of the output (filters); a multiple of G",
            (32 if transposed else 64,), 1, "arg"),
        Row("G", "groups", "channel groups: each filter sees C/G input channels", (1,), 1, "arg"),
        _in(axes, (3,) * n if transposed else ((224,) * n if n < 3 else (16, 112, 112))),
        Row("F", "kernel_size", "kernel extent per axis", (3,) * n if transposed else ((7,) * n if n < 3 else
                                                                                     (3,) * n), 1, "arg", axes),
        Row("S", "stride", "step between window positions" + (" (upsampling factor)" if transposed else ""),
            (2,) * n if n < 3 or transposed else (1, 2, 2), 1, "arg", axes),
        Row("P", "padding", "zeros added on each side" + (" (cropped from the output when transposed)"
                                                           if transposed else ""),
            (1,) * n if transposed else ((3,) * n if n < 3 else (1,) * n), 0, "arg", axes),
    ]
    if transposed:
        rows.append(Row("O_p", "output_padding", "extra rows/columns added at the end; below max(S, D)",
                        (1,) * n, 0, "arg", axes))
    rows.append(Row("D", "dilation", "spacing between kernel taps (1: dense)", (1,) * n, 1, "arg", axes))
    return tuple(rows)


_BIAS = Choice("bias", "bias", "a learned offset per output channel", (("True", True), ("False", False)))


def _conv(dims: int) -> Calculator:
    axes = AXES[dims]
    cls = {1: L.Conv1d, 2: L.Conv2d, 3: L.Conv3d}[dims]
    return Calculator(
        f"conv{dims}d", f"Conv{dims}d", _conv_rows(axes),
        lambda v: cls(v["C"], v["K"], _ax(v, "F", axes), stride=_ax(v, "S", axes), padding=_ax(v, "P", axes),
                      dilation=_ax(v, "D", axes), groups=v["G"], bias=v["bias"]),
        lambda v: (v["C"], *_ax(v, "X", axes)),
        ("params", "macs", "flops", "connections"), (_BIAS,), axes=axes,
    )


def _transposed(dims: int) -> Calculator:
    axes = AXES[dims]
    cls = {1: L.ConvTranspose1d, 2: L.ConvTranspose2d, 3: L.ConvTranspose3d}[dims]
    return Calculator(
        f"conv_transpose{dims}d", f"ConvTranspose{dims}d", _conv_rows(axes, transposed=True),
        lambda v: cls(v["C"], v["K"], _ax(v, "F", axes), stride=_ax(v, "S", axes), padding=_ax(v, "P", axes),
                      output_padding=_ax(v, "O_p", axes), dilation=_ax(v, "D", axes), groups=v["G"],
                      bias=v["bias"]),
        lambda v: (v["C"], *_ax(v, "X", axes)),
        ("params", "macs", "flops", "connections"), (_BIAS,), axes=axes,
    )


def _same_extras(layer, v, out):
    spatial = _ax(v, "X", layer_axes(layer))
    pads = layer.pads(spatial)
    extras = {}
    for a, (left, right) in zip(layer_axes(layer), pads, strict=True):
        extras[f"pad_left_{a}"] = left
        extras[f"pad_right_{a}"] = right
    return extras


def layer_axes(layer) -> tuple[str, ...]:
    return AXES[len(layer.kernel_size)]


_SAME = Calculator(
    "conv2d_same", "Conv2d, padding=\"tf_same\" (TensorFlow SAME / ONNX SAME_UPPER)",
    tuple(r for r in _conv_rows(("H", "W")) if r.symbol != "P"),
    lambda v: L.Conv2d(v["C"], v["K"], _ax(v, "F", "HW"), stride=_ax(v, "S", "HW"), padding="tf_same",
                       dilation=_ax(v, "D", "HW"), groups=v["G"], bias=v["bias"]),
    lambda v: (v["C"], *_ax(v, "X", "HW")),
    ("params", "macs"), (_BIAS,), _same_extras,
    extra_labels=(("pad_left_H", "padding top (P_l along H)"), ("pad_right_H", "padding bottom (P_r along H)"),
                  ("pad_left_W", "padding left (P_l along W)"), ("pad_right_W", "padding right (P_r along W)")),
)

_CEIL = Choice("ceil_mode", "ceil_mode", "True: a last, partial window counts if it starts inside the input "
               "or the left padding", (("False", False), ("True", True)))
_INCLUDE = Choice("count_include_pad", "count_include_pad", "True: padded zeros count in the divisor of a window",
                  (("True", True), ("False", False)))


def _pool_rows(dilation: bool, axes: tuple[str, ...]) -> tuple[Row, ...]:
    n = len(axes)
    rows = [Row("C", "channels", "channels of the input (pooling keeps them)", (64,), 1, "shape"),
            _in(axes, (112,) * n if n < 3 else (16, 112, 112)),
            Row("F", "kernel_size", "window extent per axis", (3,) * n, 1, "arg", axes),
            Row("S", "stride", "step between windows", (2,) * n, 1, "arg", axes),
            Row("P", "padding", "implicit padding on each side; at most F/2", (1,) * n, 0, "arg", axes)]
    if dilation:
        rows.append(Row("D", "dilation", "spacing between window taps", (1,) * n, 1, "arg", axes))
    return tuple(rows)


def _last_window(layer, v, out, avg: bool):
    """Facts about the last window of each axis, from the engine's output size ``O``: where it starts (input
    coordinates, negative inside the left padding), how far it hangs past the padded input (ceil_mode) and,
    for average pooling, the divisor of the last (bottom-right) window."""
    extras = {}
    divisor = sympy.Integer(1)
    for a, o, k, s, d, (pl, pr) in zip(layer_axes(layer), out, layer.kernel_size, layer.stride, layer.dilation,
                                        layer.padding, strict=True):
        start = (o - 1) * s - pl
        end = start + effective_kernel(k, d)  # one past the last tap
        w = v[f"X_{a}"]
        extras[f"last_start_{a}"] = start
        extras[f"overhang_{a}"] = smax(end - (w + pr), 0)
        if avg:
            inside = smin(end, w + pr) - start if layer.count_include_pad else smin(end, w) - smax(start, 0)
            divisor = divisor * inside
    if avg:
        extras["divisor"] = divisor
    return extras


def _pool_labels(axes: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    out = []
    for k, a in enumerate(axes):
        out.append((f"last_start_{a}", f"last window starts at ({a})" + (" (< 0: in the padding)" if not k else "")))
    for k, a in enumerate(axes):
        out.append((f"overhang_{a}", f"cells it hangs past the padded input ({a})" + (", ceil_mode" if not k else "")))
    return tuple(out)


def _max_pool(dims: int) -> Calculator:
    axes = AXES[dims]
    cls = {1: L.MaxPool1d, 2: L.MaxPool2d, 3: L.MaxPool3d}[dims]
    return Calculator(
        f"max_pool{dims}d", f"MaxPool{dims}d", _pool_rows(True, axes),
        lambda v: cls(_ax(v, "F", axes), stride=_ax(v, "S", axes), padding=_ax(v, "P", axes),
                      dilation=_ax(v, "D", axes), ceil_mode=v["ceil_mode"]),
        lambda v: (v["C"], *_ax(v, "X", axes)), ("flops",), (_CEIL,),
        lambda layer, v, out: _last_window(layer, v, out, False), axes=axes, extra_labels=_pool_labels(axes),
    )


def _avg_pool(dims: int) -> Calculator:
    axes = AXES[dims]
    cls = {1: L.AvgPool1d, 2: L.AvgPool2d, 3: L.AvgPool3d}[dims]
    return Calculator(
        f"avg_pool{dims}d", f"AvgPool{dims}d", _pool_rows(False, axes),
        lambda v: cls(_ax(v, "F", axes), stride=_ax(v, "S", axes), padding=_ax(v, "P", axes),
                      ceil_mode=v["ceil_mode"], count_include_pad=v["count_include_pad"]),
        lambda v: (v["C"], *_ax(v, "X", axes)), ("flops",), (_CEIL, _INCLUDE),
        lambda layer, v, out: _last_window(layer, v, out, True), axes=axes,
        extra_labels=(*_pool_labels(axes), ("divisor", "divisor of the last (bottom-right) window")),
    )


def _adaptive_extras(layer, v, out):
    extras = {}
    for a, o in zip(("H", "W"), out, strict=True):
        w = v[f"X_{a}"]
        extras[f"longest_{a}"] = adaptive_longest_window(w, o)
        extras[f"total_{a}"] = adaptive_window_total(w, o)
    return extras


def _adaptive(kind: str) -> Calculator:
    cls = L.AdaptiveAvgPool2d if kind == "avg" else L.AdaptiveMaxPool2d
    return Calculator(
        f"adaptive_{kind}_pool2d", f"Adaptive{kind.capitalize()}Pool2d",
        (Row("C", "channels", "channels of the input (pooling keeps them)", (512,), 1, "shape"),
         _in(("H", "W"), (10, 13)),
         Row("O", "output_size", "windows per axis: window i covers inputs ⌊iX/O⌋ to ⌈(i+1)X/O⌉ − 1", (7, 7), 1,
             "arg", ("H", "W"))),
        lambda v: cls(_ax(v, "O", "HW")), lambda v: (v["C"], *_ax(v, "X", "HW")), ("flops",),
        extras=_adaptive_extras,
        extra_labels=(("longest_H", "longest window along H"), ("longest_W", "longest window along W"),
                      ("total_H", "window lengths along H, summed (overlaps count twice)"),
                      ("total_W", "window lengths along W, summed")),
    )


_MODE = Choice("mode", "mode", "interpolation: sets the FLOPs per output element",
               tuple((m, m) for m in ("nearest", "bilinear", "bicubic", "nearest-exact")))

#: placeholder scales used to build the symbolic layer (non-dyadic: the size stays PyTorch's double rounding);
#: the generated code reads the typed scale in their place
SCALE_PLACEHOLDERS = {"s_H": Fraction(1.7), "s_W": Fraction(1.3)}

_UPSAMPLE_SCALE = Calculator(
    "upsample_scale", "Upsample(scale_factor=...)",
    (Row("C", "channels", "channels of the input (kept)", (64,), 1, "shape"), _in(("H", "W"), (28, 28)),
     Row("s", "scale_factor", "a decimal; the size is ⌊X·s⌋ with X·s in double precision, as PyTorch does",
         (2.0, 1.5), 0, "arg", ("H", "W"), "scale")),
    lambda v: L.Upsample(scale_factor=_ax(v, "s", "HW"), mode=v["mode"]),
    lambda v: (v["C"], *_ax(v, "X", "HW")), ("flops",), (_MODE,),
)
_UPSAMPLE_SIZE = Calculator(
    "upsample_size", "Upsample(size=...)",
    (Row("C", "channels", "channels of the input (kept)", (64,), 1, "shape"), _in(("H", "W"), (28, 28)),
     Row("O", "size", "the output size asked for", (56, 56), 1, "arg", ("H", "W"))),
    lambda v: L.Upsample(size=_ax(v, "O", "HW"), mode=v["mode"]),
    lambda v: (v["C"], *_ax(v, "X", "HW")), ("flops",), (_MODE,),
)

CALCULATORS: dict[str, Calculator] = {c.name: c for c in (
    _conv(1), _conv(2), _conv(3), _SAME, _transposed(1), _transposed(2), _transposed(3), _max_pool(2), _avg_pool(2),
    _max_pool(1), _avg_pool(1), _max_pool(3), _avg_pool(3),
    _adaptive("avg"), _adaptive("max"), _UPSAMPLE_SCALE, _UPSAMPLE_SIZE,
)}
