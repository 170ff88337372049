"""Pooling: ``MaxPool1d/2d/3d``, ``AvgPool1d/2d/3d``, adaptive pooling and spatial pyramid pooling.

Window pooling uses the convolution size formula; with ``ceil_mode`` PyTorch (aten Pool.h) adds one more
window when the input is not covered, unless that window would start in the right padding::

    O = floor((W + P_l + P_r - F_eff)/S) + 1                                  (ceil_mode=False)
    O = min(ceil((W + P_l + P_r - F_eff)/S), floor((W + P_l - 1)/S)) + 1      (ceil_mode=True)

(the ``min`` is PyTorch's "``O -= 1`` if ``(O - 1)*S >= W + P_l``"; ``symcnn.derive`` proves the two
agree). PyTorch refuses a padding above half the *nominal* kernel size, and so does symcnn; ``AvgPool3d``
also refuses an unpadded input smaller than the kernel (aten ``pool3d_shape_check``).

Adaptive pooling (AdaptivePooling.h): output window ``i`` of an axis is
``[floor(i*In/Out), ceil((i+1)*In/Out))``; the window sizes of one axis add up to
``In + Out - gcd(In, Out)``.

FLOPs: max pooling ``prod(F) - 1`` comparisons per output; average pooling ``prod(F)`` (adds + one
division). No MACs, no parameters.
"""

from __future__ import annotations

import math

import sympy

from .._errors import SymcnnError
from .._guard import as_value
from .._intmath import Gcd, ceildiv, decide, floordiv, mod, smin
from ._base import _SHOW, AxisMap, Checker, Layer, LayerResult, Shape, fmt, prod, to_expr, to_tuple
from .conv import conv_output_size, effective_kernel, normalize_padding

__all__ = [
    "MaxPool1d",
    "MaxPool2d",
    "MaxPool3d",
    "AvgPool1d",
    "AvgPool2d",
    "AvgPool3d",
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AdaptiveAvgPool3d",
    "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d",
    "AdaptiveMaxPool3d",
    "SpatialPyramidPooling",
    "pool_output_size",
    "adaptive_window_total",
    "adaptive_longest_window",
]


def pool_output_size(size, kernel, stride, pad_left=0, pad_right=None, dilation=1, ceil_mode=False):
    """Output size of a pooling window along one axis, PyTorch's rule for both modes.

    >>> pool_output_size(5, 2, 2, 1, ceil_mode=True)   # naive ceil((5 + 2 - 2)/2) + 1 = 4; PyTorch: 3
    3
    >>> from symcnn import W, pretty
    >>> pretty(pool_output_size(W, 3, 2, 0, ceil_mode=True))    # ceil((W - 3)/2) + 1
    'floor(W/2)'
    """
    f = "pool_output_size"
    size, stride, pad_left = (as_value(v, f, a) for v, a in
                              ((size, "size"), (stride, "stride"), (pad_left, "pad_left")))
    pad_right = pad_left if pad_right is None else as_value(pad_right, f, "pad_right")
    if not ceil_mode:
        return conv_output_size(size, kernel, stride, pad_left, pad_right, dilation)
    f_eff = effective_kernel(kernel, dilation)
    steps = ceildiv(size + pad_left + pad_right - f_eff, stride)
    if decide(sympy.Le(pad_right + stride, f_eff, evaluate=False)) is True:
        # steps*S < W + P_l + P_r - F_eff + S <= W + P_l: the last window always starts inside, so the
        # min is the first term for every W (keeps stacks of ceil_mode pools one compact term)
        return steps + 1
    last_start_inside = floordiv(size + pad_left - 1, stride)
    return smin(steps, last_start_inside) + 1


def adaptive_window_total(size, out) -> sympy.Expr:
    """Sum of the adaptive window lengths along one axis: ``In + Out - gcd(In, Out)``.

    >>> adaptive_window_total(10, 3), adaptive_window_total(10, 5)   # windows 4+4+4; 2*5
    (12, 10)
    """
    size, out = as_value(size, "adaptive_window_total", "size"), as_value(out, "adaptive_window_total", "out")
    return size + out - Gcd(size, out)


class _PoolNd(Layer):
    _dims = 0
    _op = ""
    #: PyTorch's avg_pool3d also demands the unpadded input be at least the kernel along every axis
    _check_input_size = False

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        n, label = self._dims, self.kind
        ck = Checker(label)
        kernel = to_tuple(label, "kernel_size", kernel_size, n, minimum=1, checker=ck)
        stride_t = kernel if stride is None else to_tuple(label, "stride", stride, n, minimum=1, checker=ck)
        dil = to_tuple(label, "dilation", dilation, n, minimum=1, checker=ck)
        pads = normalize_padding(label, padding, n, ck, strings=())
        if not isinstance(ceil_mode, bool):
            raise SymcnnError(f"{label}: `ceil_mode`={ceil_mode!r} must be True or False")
        for k, pair in zip(kernel, pads, strict=True):
            for p in pair:
                ck.require(
                    sympy.Le(2 * p, k, evaluate=False),
                    lambda p=p, k=k: (
                        f"`padding`={fmt(p)} must be at most half of `kernel_size`={fmt(k)} (PyTorch's limit)"
                    ),
                )
        self._set(kernel_size=kernel, stride=stride_t, padding=pads, dilation=dil, ceil_mode=ceil_mode)
        self._set(_arg_conditions=tuple(ck.conditions))

    def __repr__(self) -> str:
        parts = [f"kernel_size={fmt(self.kernel_size)}"]
        if self.stride != self.kernel_size:
            parts.append(f"stride={fmt(self.stride)}")
        if any(p != (0, 0) for p in self.padding):
            sym = all(a == b for a, b in self.padding)
            parts.append("padding=" + fmt(tuple(a for a, _ in self.padding) if sym else self.padding))
        if self.dilation != (1,) * self._dims:
            parts.append(f"dilation={fmt(self.dilation)}")
        if self.ceil_mode:
            parts.append("ceil_mode=True")
        return f"{self.kind}({', '.join(parts)})"

    def _per_output_flops(self) -> sympy.Expr:
        return prod(self.kernel_size) - 1 if self._op == "max" else prod(self.kernel_size)

    def infer(self, x: Shape) -> LayerResult:
        self._expect_rank(x, self._dims + 1, "channels + spatial")
        ck = Checker(self.label)
        ck.conditions.extend(self._arg_conditions)
        out = []
        names = ("L",) if self._dims == 1 else ("D", "H", "W")[-self._dims:]
        for i, (w, k, s, d, (pl, pr)) in enumerate(
            zip(x[1:], self.kernel_size, self.stride, self.dilation, self.padding, strict=True)
        ):
            f_eff = effective_kernel(k, d)
            if self._check_input_size:
                ck.require(
                    sympy.Ge(w, k, evaluate=False),
                    lambda w=w, k=k, i=i: f"input size {fmt(w)} along axis {names[i]} is smaller than the kernel "
                    f"{fmt(k)} (PyTorch's {self.kind} checks the unpadded input)",
                )
            if self.ceil_mode:  # a partial last window counts: W + P_l + P_r > F_eff - S suffices
                ck.require(
                    sympy.Ge(w + pl + pr + s - 1, f_eff, evaluate=False),
                    lambda w=w, k=k, s=s, pl=pl, pr=pr, f_eff=f_eff, i=i: (
                        f"kernel {fmt(k)} (effective {fmt(f_eff)}) exceeds the padded input {fmt(w + pl + pr)} "
                        f"by a stride {fmt(s)} or more along axis {names[i]} (output size below 1, ceil_mode)"
                    ),
                )
            else:
                ck.require(
                    sympy.Ge(w + pl + pr, f_eff, evaluate=False),
                    lambda w=w, k=k, pl=pl, pr=pr, f_eff=f_eff, i=i: (
                        f"kernel {fmt(k)} (effective {fmt(f_eff)}) is larger than the padded input "
                        f"{fmt(w + pl + pr)} along axis {names[i]} (output size below 1)"
                    ),
                )
            out.append(pool_output_size(w, k, s, pl, pr, d, self.ceil_mode))
        outputs = x[0] * prod(out)
        axes = tuple(
            AxisMap("window", effective_kernel(k, d), s, pl, d)
            for k, s, d, (pl, _) in zip(self.kernel_size, self.stride, self.dilation, self.padding, strict=True)
        )
        return LayerResult(
            output_shape=Shape((x[0], *out)),
            flops=outputs * self._per_output_flops(),
            axes=axes,
            conditions=tuple(ck.conditions),
        )


class _MaxPoolNd(_PoolNd):
    _op = "max"

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__(kernel_size, stride, padding, dilation, ceil_mode)
        if not isinstance(return_indices, bool):
            raise SymcnnError(f"{self.kind}: `return_indices`={return_indices!r} must be True or False")
        self._set(return_indices=return_indices)
        self._freeze()


class _AvgPoolNd(_PoolNd):
    _op = "avg"

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__(kernel_size, stride, padding, 1, ceil_mode)
        if not isinstance(count_include_pad, bool):
            raise SymcnnError(f"{self.kind}: `count_include_pad`={count_include_pad!r} must be True or False")
        if divisor_override is not None:
            divisor_override = to_expr(self.kind, "divisor_override", divisor_override, minimum=1)
        self._set(count_include_pad=count_include_pad, divisor_override=divisor_override)
        self._freeze()


class MaxPool1d(_MaxPoolNd):
    """``torch.nn.MaxPool1d``."""

    _dims = 1


class MaxPool2d(_MaxPoolNd):
    """``torch.nn.MaxPool2d``.

    >>> import symcnn as sc
    >>> sc.analyze(sc.MaxPool2d(2, 2, padding=1, ceil_mode=True), (1, 5, 5)).output_shape
    (1, 3, 3)
    """

    _dims = 2


class MaxPool3d(_MaxPoolNd):
    """``torch.nn.MaxPool3d``."""

    _dims = 3


class AvgPool1d(_AvgPoolNd):
    """``torch.nn.AvgPool1d`` (no ``divisor_override``, as in PyTorch)."""

    _dims = 1

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        if divisor_override is not None:  # accepted as None only (symcnn's importers pass it for every rank)
            raise SymcnnError(f"{self.kind}: `divisor_override`={divisor_override!r}: PyTorch's AvgPool1d has none")
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)


class AvgPool2d(_AvgPoolNd):
    """``torch.nn.AvgPool2d``."""

    _dims = 2


class AvgPool3d(_AvgPoolNd):
    """``torch.nn.AvgPool3d``. Unlike the 1-D and 2-D versions, PyTorch refuses an unpadded input smaller
    than the kernel along any axis ("input image smaller than kernel size"), whatever the padding."""

    _dims = 3
    _check_input_size = True


class _AdaptivePoolNd(Layer):
    _dims = 0
    _op = ""
    _repr_args = (("output_size", _SHOW),)

    def __init__(self, output_size, return_indices=False):
        label = self.kind
        if self._op != "max" and return_indices is not False:
            raise SymcnnError(f"{label}: takes only `output_size` (PyTorch's {label} has no `return_indices`)")
        if not isinstance(return_indices, bool):
            raise SymcnnError(f"{label}: `return_indices`={return_indices!r} must be True or False")
        if isinstance(output_size, (list, tuple)):
            if len(output_size) != self._dims:
                raise SymcnnError(
                    f"{label}: `output_size`={tuple(output_size)!r} must have {self._dims} entries"
                )
            sizes = tuple(None if o is None else to_expr(label, "output_size", o, minimum=1) for o in output_size)
        else:
            sizes = (to_expr(label, "output_size", output_size, minimum=1),) * self._dims
        self._set(output_size=sizes, return_indices=return_indices)
        self._freeze()

    def __repr__(self) -> str:
        shown = ", ".join("None" if o is None else fmt(o) for o in self.output_size)
        return f"{self.kind}(output_size=({shown}{',' if len(self.output_size) == 1 else ''}))"

    def infer(self, x: Shape) -> LayerResult:
        self._expect_rank(x, self._dims + 1, "channels + spatial")
        out = tuple(w if o is None else o for w, o in zip(x[1:], self.output_size, strict=True))
        totals = prod(adaptive_window_total(w, o) for w, o in zip(x[1:], out, strict=True))
        flops = x[0] * (totals if self._op == "avg" else totals - prod(out))
        axes = tuple(_adaptive_axis(w, o) for w, o in zip(x[1:], out, strict=True))
        return LayerResult(output_shape=Shape((x[0], *out)), flops=flops, axes=axes)


def adaptive_longest_window(size, out) -> sympy.Expr:
    """Length of the longest adaptive-pooling window along one axis (``In`` inputs, ``Out`` outputs).

    With ``g = gcd(In, Out)`` and ``r = (In mod Out)/g``, the window lengths are ``floor(In/Out) +
    ceil((k + r)/b)`` for ``b = Out/g`` and every residue ``k``, so the longest is ``floor(In/Out) + min(r, 2)``
    (``In/Out`` exactly when ``Out`` divides ``In``). Symbolic sizes keep that form, so a substituted analysis
    gives what the numeric one gives.

    >>> adaptive_longest_window(10, 3), adaptive_longest_window(7, 5), adaptive_longest_window(14, 7)
    (4, 3, 2)
    """
    size, out = as_value(size, "adaptive_longest_window", "size"), as_value(out, "adaptive_longest_window", "out")
    if size.is_Integer and out.is_Integer:
        s, o = int(size), int(out)
        return sympy.Integer(s // o + min((s % o) // math.gcd(s, o), 2))
    # unevaluated Min: deciding it symbolically is slow and never succeeds; numbers substituted evaluate it
    r = mod(size, out) / Gcd(size, out)
    extra = sympy.Min(r, 2) if r.is_Number else sympy.Min(r, 2, evaluate=False)
    return floordiv(size, out) + extra


def _adaptive_axis(size, out) -> AxisMap:
    """Receptive-field map of one adaptive axis: a regular window when ``Out`` divides ``In``; otherwise the
    longest window with the average stride ``In/Out`` (an upper bound: ``exact=False``)."""
    if out == 1:
        return AxisMap("global", size, size)
    ratio = sympy.sympify(size) / out
    if ratio.is_Integer or (size == out):
        return AxisMap("window", ratio, ratio)
    return AxisMap("window", adaptive_longest_window(size, out), ratio, exact=False, mode="adaptive")


class AdaptiveAvgPool1d(_AdaptivePoolNd):
    """``torch.nn.AdaptiveAvgPool1d``."""

    _dims, _op = 1, "avg"


class AdaptiveAvgPool2d(_AdaptivePoolNd):
    """``torch.nn.AdaptiveAvgPool2d``; ``None`` in ``output_size`` keeps that axis.

    >>> import symcnn as sc
    >>> sc.analyze(sc.AdaptiveAvgPool2d((7, None)), (512, sc.H, sc.W)).output_shape
    (512, 7, W)
    """

    _dims, _op = 2, "avg"


class AdaptiveAvgPool3d(_AdaptivePoolNd):
    """``torch.nn.AdaptiveAvgPool3d``."""

    _dims, _op = 3, "avg"


class AdaptiveMaxPool1d(_AdaptivePoolNd):
    """``torch.nn.AdaptiveMaxPool1d``."""

    _dims, _op = 1, "max"


class AdaptiveMaxPool2d(_AdaptivePoolNd):
    """``torch.nn.AdaptiveMaxPool2d``."""

    _dims, _op = 2, "max"


class AdaptiveMaxPool3d(_AdaptivePoolNd):
    """``torch.nn.AdaptiveMaxPool3d``."""

    _dims, _op = 3, "max"


class SpatialPyramidPooling(Layer):
    """Spatial pyramid pooling (He et al. 2014): max-pool each map into ``n x n`` bins per level, flatten
    and concatenate: output ``(C * sum(n^2),)``.

    Level ``n`` pools with window ``ceil(W/n)`` and stride ``floor(W/n)`` (the paper's rule); that gives
    ``floor((W - ceil(W/n))/floor(W/n)) + 1`` bins per axis, which equals ``n`` only for some input sizes:
    other sizes are refused (numbers) or kept as conditions (symbols).

    >>> import symcnn as sc
    >>> sc.analyze(sc.SpatialPyramidPooling((4, 2, 1)), (256, 13, 13)).output_shape   # 256*(16+4+1)
    (5376,)
    """

    def __init__(self, levels=(4, 2, 1), mode="max"):
        if mode not in ("max", "avg"):
            raise SymcnnError(f"{self.kind}: `mode`={mode!r} must be 'max' or 'avg'")
        if not isinstance(levels, (list, tuple)) or not levels:
            raise SymcnnError(f"{self.kind}: `levels`={levels!r} must be a non-empty tuple of bin counts")
        self._set(levels=tuple(to_expr(self.kind, "levels", n, minimum=1) for n in levels), mode=mode)
        self._freeze()

    def __repr__(self) -> str:
        return f"{self.kind}(levels={fmt(self.levels)}" + (")" if self.mode == "max" else f", mode={self.mode!r})")

    @staticmethod
    def level_window(size, n) -> tuple[sympy.Expr, sympy.Expr, sympy.Expr]:
        """(window, stride, bins) of one level along one axis."""
        window = ceildiv(size, n)
        stride = floordiv(size, n)
        return window, stride, floordiv(sympy.sympify(size) - window, stride) + 1

    def infer(self, x: Shape) -> LayerResult:
        self._expect_rank(x, 3, "channels, height, width")
        ck = Checker(self.label)
        flops = sympy.Integer(0)
        for n in self.levels:
            per_output = sympy.Integer(1)
            for axis, w in zip(("H", "W"), x[1:], strict=True):
                ck.require(sympy.Ge(w, n), f"level {fmt(n)} needs input {axis} >= {fmt(n)}, got {fmt(w)}")
                window, _, bins = self.level_window(w, n)
                ck.require(
                    sympy.Eq(bins, n),
                    f"level {fmt(n)} (window ceil({axis}/{fmt(n)}), stride floor({axis}/{fmt(n)})) yields "
                    f"{fmt(bins)} bins along {axis}={fmt(w)}, not {fmt(n)}",
                )
                per_output *= window
            flops += x[0] * n * n * (per_output - 1 if self.mode == "max" else per_output)
        features = x[0] * sum((n * n for n in self.levels), sympy.Integer(0))
        axes = tuple(AxisMap("global", w, w) for w in x[1:])
        return LayerResult(output_shape=Shape((features,)), flops=flops, axes=axes, conditions=tuple(ck.conditions))
