"""Convolution: ``Conv1d``, ``Conv2d``, ``Conv3d`` and the output-size formula every windowed layer uses.

Per spatial axis, with effective kernel ``F_eff = D*(F - 1) + 1`` and paddings ``P_l``, ``P_r``::

    O = floor((W + P_l + P_r - F_eff) / S) + 1            (PyTorch: P_l = P_r = P)

The padding strings: ``"same"`` and ``"valid"`` are PyTorch's and behave exactly as in PyTorch. ``"same"``
keeps ``O = W`` at stride 1 only (PyTorch refuses it for strided convolutions) with total padding
``D*(F - 1)``, ``total // 2`` on the left and the extra pixel on the right (``_reversed_padding_repeated_twice``
in ``torch/nn/modules/conv.py``); it takes any ``padding_mode``. ``"valid"`` pads nothing.
``"tf_same"`` is TensorFlow's SAME (ONNX SAME_UPPER) at any stride: ``O = ceil(W/S)`` with total padding
``max((O - 1)*S + F_eff - W, 0)``, the odd pixel at the end (identical to ``"same"`` at stride 1);
``"same_lower"`` is ONNX's SAME_LOWER (the same size, the odd pixel at the start); ``"full"`` pads
``F_eff - 1`` per side. These three are symcnn's own spellings (PyTorch has no such string) and need
``padding_mode="zeros"``. A negative padding is refused with ``padding_mode="zeros"`` and crops with the other
modes (PyTorch pads those with ``F.pad``, which crops), as in PyTorch.

Costs (batch 1, ``n = (C_in/G) * prod(F)`` weights per output, ``prod(O)`` output positions)::

    params      = C_out * n + C_out*[bias]
    MACs        = prod(O) * C_out * n                       (bias excluded; padded zeros counted)
    FLOPs       = prod(O) * C_out * (2n - 1 + [bias])       (n mults, n-1 adds, 1 bias add)
    connections = prod(O) * C_out * (n + [bias])            (LeNet: weights used per output, summed)
"""

from __future__ import annotations

import sympy

from .._errors import SymcnnError
from .._guard import as_value
from .._intmath import ceildiv, floordiv, smax
from ._base import (
    _SHOW,
    AxisMap,
    Checker,
    Layer,
    LayerResult,
    Shape,
    check_device_dtype,
    fmt,
    prod,
    to_expr,
    to_tuple,
)

__all__ = [
    "Conv1d",
    "Conv2d",
    "Conv3d",
    "conv_output_size",
    "effective_kernel",
    "same_padding",
    "torch_same_padding",
    "normalize_padding",
]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
#: padding modes that read the input itself: reflection needs pad < size, circular padding pad <= size
#: (it wraps around at most once); replicate and zeros take any padding
_MODE_LIMITS = {"reflect": (sympy.Lt, "smaller than"), "circular": (sympy.Le, "at most")}


def effective_kernel(kernel, dilation=1) -> sympy.Expr:
    """``F_eff = D*(F - 1) + 1``: the span of a dilated kernel.

    >>> effective_kernel(3, 2)
    5
    """
    return as_value(dilation, "effective_kernel", "dilation") * (as_value(kernel, "effective_kernel", "kernel") - 1) + 1


def conv_output_size(size, kernel, stride=1, pad_left=0, pad_right=None, dilation=1) -> sympy.Expr:
    """Number of window positions along one axis: ``floor((W + P_l + P_r - F_eff)/S) + 1``.

    ``pad_right`` defaults to ``pad_left`` (symmetric padding).

    >>> conv_output_size(224, 7, 2, 3)   # 112 = floor((224 + 3 + 3 - 7)/2) + 1
    112
    >>> from symcnn import W, F, P, S, pretty
    >>> pretty(conv_output_size(W, F, S, P))
    'floor((W + 2*P - F)/S) + 1'
    """
    size, stride, pad_left = (as_value(v, "conv_output_size", a) for v, a in
                              ((size, "size"), (stride, "stride"), (pad_left, "pad_left")))
    pad_right = pad_left if pad_right is None else as_value(pad_right, "conv_output_size", "pad_right")
    return floordiv(size + pad_left + pad_right - effective_kernel(kernel, dilation), stride) + 1


def same_padding(size, kernel, stride=1, dilation=1, lower=False) -> tuple[sympy.Expr, sympy.Expr]:
    """(left, right) padding of ``"tf_same"``: SAME_UPPER (TensorFlow/ONNX; PyTorch ``"same"`` at stride 1).

    Total ``max((ceil(W/S) - 1)*S + F_eff - W, 0)``, left ``total // 2``, the odd pixel on the right;
    ``lower=True`` gives ONNX's SAME_LOWER, the odd pixel on the left.

    >>> same_padding(224, 7, 2)   # total max((112 - 1)*2 + 7 - 224, 0) = 5
    (2, 3)
    >>> same_padding(10, 4)       # PyTorch "same", even kernel: extra pixel at the end
    (1, 2)
    """
    size, stride = as_value(size, "same_padding", "size"), as_value(stride, "same_padding", "stride")
    out = ceildiv(size, stride)
    total = smax((out - 1) * stride + effective_kernel(kernel, dilation) - size, 0)
    small = floordiv(total, 2)
    return (total - small, small) if lower else (small, total - small)


def torch_same_padding(kernel, dilation=1) -> tuple[sympy.Expr, sympy.Expr]:
    """(left, right) padding of PyTorch's ``padding="same"`` (stride 1): ``D*(F - 1)`` in all, the extra pixel
    on the right (``_reversed_padding_repeated_twice`` in ``torch/nn/modules/conv.py``).

    >>> torch_same_padding(4)       # total 3: 1 on the left, 2 on the right
    (1, 2)
    >>> torch_same_padding(3, 2)    # total 2*(3 - 1) = 4
    (2, 2)
    """
    dilation = as_value(dilation, "torch_same_padding", "dilation")
    total = dilation * (as_value(kernel, "torch_same_padding", "kernel") - 1)
    left = floordiv(total, 2)
    return left, total - left


def normalize_padding(label: str, padding, n: int, checker: Checker, *, strings: tuple[str, ...],
                      minimum: int | None = 0):
    """Padding as a string mode or a tuple of ``n`` (left, right) pairs of expressions (each ``>= minimum``)."""
    if isinstance(padding, str):
        if padding not in strings:
            raise SymcnnError(
                f"{label}: `padding`={padding!r} is not allowed; use an int, a tuple, per-side pairs"
                + (f" or one of {', '.join(repr(s) for s in strings)}" if strings else "")
            )
        return padding
    if isinstance(padding, (list, tuple)):
        if len(padding) != n:
            raise SymcnnError(
                f"{label}: `padding`={tuple(padding)!r} must have {n} entries (one per spatial axis)"
            )
        pairs = []
        for p in padding:
            if isinstance(p, (list, tuple)):
                if len(p) != 2:
                    raise SymcnnError(f"{label}: `padding` pair {tuple(p)!r} must be (left, right)")
                pairs.append(tuple(to_expr(label, "padding", q, minimum=minimum, checker=checker) for q in p))
            else:
                q = to_expr(label, "padding", p, minimum=minimum, checker=checker)
                pairs.append((q, q))
        return tuple(pairs)
    q = to_expr(label, "padding", padding, minimum=minimum, checker=checker)
    return ((q, q),) * n


class _ConvNd(Layer):
    _dims = 0
    _repr_args = (
        ("in_channels", _SHOW), ("out_channels", _SHOW), ("kernel_size", _SHOW), ("stride", None),
        ("padding", None), ("dilation", None), ("groups", sympy.Integer(1)), ("bias", True),
        ("padding_mode", "zeros"),
    )

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        n = self._dims
        label = self.kind
        check_device_dtype(label, device, dtype)
        ck = Checker(label)
        self._set(
            in_channels=to_expr(label, "in_channels", in_channels, minimum=1, checker=ck),
            out_channels=to_expr(label, "out_channels", out_channels, minimum=1, checker=ck),
            kernel_size=to_tuple(label, "kernel_size", kernel_size, n, minimum=1, checker=ck),
            stride=to_tuple(label, "stride", stride, n, minimum=1, checker=ck),
            dilation=to_tuple(label, "dilation", dilation, n, minimum=1, checker=ck),
            groups=to_expr(label, "groups", groups, minimum=1, checker=ck),
        )
        if not isinstance(bias, bool):
            raise SymcnnError(f"{label}: `bias`={bias!r} must be True or False")
        if not isinstance(padding_mode, str) or padding_mode not in _PADDING_MODES:
            raise SymcnnError(
                f"{label}: `padding_mode`={padding_mode!r} must be one of {', '.join(map(repr, _PADDING_MODES))}"
            )
        self._set(bias=bias, padding_mode=padding_mode)
        # PyTorch pads a non-zeros mode with F.pad, which crops where the padding is negative; the convolution
        # itself (padding_mode='zeros') refuses a negative padding
        self._set(padding=normalize_padding(label, padding, n, ck, strings=self._padding_strings,
                                            minimum=0 if padding_mode == "zeros" else None))
        if isinstance(self.padding, str) and padding_mode != "zeros" and self.padding not in ("valid", "same"):
            raise SymcnnError(f"{label}: `padding`={self.padding!r} needs `padding_mode`='zeros'")
        if self.padding == "same":  # PyTorch's own check, in _ConvNd.__init__
            for s in dict.fromkeys(self.stride):  # one condition per distinct stride
                ck.require(sympy.Eq(s, 1), lambda: (
                    f"`padding`='same' is not supported for strided convolutions (PyTorch's rule), `stride`="
                    f"{fmt(self.stride)}; TensorFlow's SAME at any stride is `padding`='tf_same'"))
        for arg in ("in_channels", "out_channels"):
            value = getattr(self, arg)
            ck.require(
                sympy.Eq(sympy.Mod(value, self.groups), 0),
                lambda arg=arg, value=value: f"`{arg}`={fmt(value)} must be divisible by `groups`={fmt(self.groups)}",
            )
        self._set(_arg_conditions=tuple(ck.conditions))
        self._freeze()

    #: PyTorch's two strings, then symcnn's own: TensorFlow's SAME, ONNX's SAME_LOWER, full padding
    _padding_strings = ("valid", "same", "tf_same", "same_lower", "full")

    def __repr__(self) -> str:
        parts = [fmt(self.in_channels), fmt(self.out_channels), f"kernel_size={fmt(self.kernel_size)}"]
        one = (sympy.Integer(1),) * self._dims
        if self.stride != one:
            parts.append(f"stride={fmt(self.stride)}")
        if isinstance(self.padding, str):
            parts.append(f"padding={self.padding!r}")
        elif any(p != (0, 0) for p in self.padding):
            sym = all(a == b for a, b in self.padding)
            parts.append("padding=" + fmt(tuple(a for a, _ in self.padding) if sym else self.padding))
        if self.dilation != one:
            parts.append(f"dilation={fmt(self.dilation)}")
        if self.groups != 1:
            parts.append(f"groups={fmt(self.groups)}")
        if not self.bias:
            parts.append("bias=False")
        if self.padding_mode != "zeros":
            parts.append(f"padding_mode={self.padding_mode!r}")
        return f"{self.kind}({', '.join(parts)})"

    def pads(self, spatial) -> tuple[tuple[sympy.Expr, sympy.Expr], ...]:
        """The (left, right) padding of each axis for these input sizes (resolves the string modes)."""
        if self.padding == "valid":
            return ((sympy.Integer(0), sympy.Integer(0)),) * self._dims
        if self.padding == "full":
            return tuple(
                (effective_kernel(k, d) - 1,) * 2 for k, d in zip(self.kernel_size, self.dilation, strict=True)
            )
        if self.padding == "same":  # PyTorch: D*(F - 1) in all, the extra pixel on the right, whatever the size
            return tuple(
                torch_same_padding(k, d) for k, d in zip(self.kernel_size, self.dilation, strict=True)
            )
        if self.padding in ("tf_same", "same_lower"):
            return tuple(
                same_padding(w, k, s, d, lower=self.padding == "same_lower")
                for w, k, s, d in zip(spatial, self.kernel_size, self.stride, self.dilation, strict=True)
            )
        return self.padding

    def _spatial_out(self, spatial, ck: Checker):
        names = ("L",) if self._dims == 1 else ("D", "H", "W")[-self._dims:]
        pads = self.pads(spatial)
        out = []
        for i, (w, k, s, d, (pl, pr)) in enumerate(
            zip(spatial, self.kernel_size, self.stride, self.dilation, pads, strict=True)
        ):
            f_eff = effective_kernel(k, d)
            if self.padding_mode == "circular" and pl != pr:  # per-side pairs (symcnn's): F.pad's circular mode
                ck.require(sympy.Ge(pl * pr, 0), lambda pl=pl, pr=pr, i=i: (  # fails on some opposite signs
                    f"`padding`={fmt((pl, pr))} along axis {names[i]} has opposite signs, which `padding_mode`="
                    "'circular' does not take (PyTorch's F.pad fails on such pairs)"))
            if self.padding_mode in _MODE_LIMITS:
                relation, rule = _MODE_LIMITS[self.padding_mode]
                for side, p in ((("left", pl), ("right", pr)) if pl != pr else (("each side", pl),)):
                    ck.require(
                        relation(p, w, evaluate=False),
                        lambda p=p, w=w, i=i, side=side, rule=rule: (
                            f"`padding`={fmt(p)} ({side}) with `padding_mode`={self.padding_mode!r} must be {rule} "
                            f"the input size {fmt(w)} along axis {names[i]} (PyTorch's rule)"
                        ),
                    )
            # W + P_l + P_r - F_eff, built once (one sort of a long sum): the check and the size share it; the
            # relation stays unevaluated, Checker.require decides it (SymPy's evaluation of a long sum is slow)
            room = sympy.Add(w, pl, pr, -f_eff)
            ck.require(
                sympy.Ge(room, 0, evaluate=False),
                lambda w=w, k=k, pl=pl, pr=pr, f_eff=f_eff, i=i: (
                    f"kernel {fmt(k)} (effective {fmt(f_eff)}) is larger than the padded input "
                    f"{fmt(w + pl + pr)} along axis {names[i]} (output size below 1)"
                ),
            )
            if self.padding == "same":
                out.append(w)  # stride 1 (checked at construction)
            elif self.padding in ("tf_same", "same_lower"):
                out.append(ceildiv(w, s))
            else:
                out.append(floordiv(room, s) + 1)  # conv_output_size(w, k, s, pl, pr, d)
        return tuple(out), pads

    def infer(self, x: Shape) -> LayerResult:
        self._expect_rank(x, self._dims + 1, "channels + spatial")
        ck = Checker(self.label)
        ck.conditions.extend(self._arg_conditions)
        self._expect_channels(x, self.in_channels, ck, "in_channels")
        spatial_out, pads = self._spatial_out(x[1:], ck)
        cout = self.out_channels
        n = self.in_channels / self.groups * prod(self.kernel_size)
        positions = prod(spatial_out) * cout
        b = 1 if self.bias else 0
        axes = tuple(
            AxisMap("window", effective_kernel(k, d), s, pl, d)
            for k, s, d, (pl, _) in zip(self.kernel_size, self.stride, self.dilation, pads, strict=True)
        )
        return LayerResult(
            output_shape=Shape((cout, *spatial_out)),
            params=cout * n + b * cout,
            macs=positions * n,
            flops=positions * (2 * n - 1 + b),
            connections=positions * (n + b),
            axes=axes,
            conditions=tuple(ck.conditions),
        )


class Conv1d(_ConvNd):
    """``torch.nn.Conv1d``: input ``(C, L)``. See the module docstring for the formulas."""

    _dims = 1


class Conv2d(_ConvNd):
    """``torch.nn.Conv2d``: input ``(C, H, W)``.

    >>> import symcnn as sc
    >>> sc.analyze(sc.Conv2d(3, 64, 7, stride=2, padding=3), (3, 224, 224)).output_shape
    (64, 112, 112)
    """

    _dims = 2


class Conv3d(_ConvNd):
    """``torch.nn.Conv3d``: input ``(C, D, H, W)``."""

    _dims = 3
