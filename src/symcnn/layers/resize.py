"""Resizing: ``Upsample`` and the padding layers (``ZeroPad1d/2d/3d``, ``ConstantPad*``, ``ReflectionPad*``,
``ReplicationPad*``).

``Upsample``: output ``floor(W * scale_factor)`` with PyTorch's double rounding (:class:`ScaledFloor`) or the given
``size``. FLOPs per output element:
nearest 0; linear / bilinear / trilinear ``2^(k+1) - 1`` for ``k`` interpolated axes (``2^k`` weights
multiplied, ``2^k - 1`` additions); bicubic 31 (16 products, 15 additions).
Padding layers: output ``W + P_l + P_r`` per axis; negative padding crops (PyTorch allows it).
"""

from __future__ import annotations

import math
from fractions import Fraction

import sympy

from .._errors import SymcnnError
from .._intmath import floordiv
from ._base import INT64_MAX, AxisMap, Checker, Layer, LayerResult, Shape, fmt, prod, to_expr

__all__ = [
    "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d",
    "ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d",
    "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
    "ReplicationPad3d",
]

_MODES = {"nearest": 1, "nearest-exact": 1, "linear": 2, "bilinear": 2, "trilinear": 2, "bicubic": 4}


class ScaledFloor(sympy.Function):
    """``floor(W * s)`` as PyTorch computes an upsampled size: the product rounded to a double, then floored.

    ``s`` is the exact value of the scale's double. When ``W * s`` is exact in double arithmetic (``s`` an
    integer or a dyadic fraction such as 0.5 or 1.5) this is ``floor(p*W/q)``; otherwise (1.7, 0.7, ...) the
    rounding of the product matters (``10*1.7`` rounds up to 17.0 while the exact binary product is below 17;
    ``90*0.7`` stays below 63), so the size is evaluated as PyTorch does once ``W`` is a number.

    >>> from symcnn import W, pretty
    >>> s = _scale("Upsample", 1.7)          # the exact double: 7656119366529843/4503599627370496
    >>> pretty(ScaledFloor(W, sympy.Rational(3, 2))), pretty(ScaledFloor(W, s)), ScaledFloor(10, s)
    ('W + floor(W/2)', 'floor(1.7*W)', 17)
    """

    nargs = 2
    is_integer = True

    @classmethod
    def eval(cls, w, s):
        if s.is_Integer:
            return s * w
        p, q = int(s.p), int(s.q)
        if q & (q - 1) == 0 and p < 2**20:  # dyadic with a short numerator: the double product is exact
            return floordiv(p * w, q)
        if w.is_Integer:
            return sympy.Integer(math.floor(float(int(w)) * float(s)))
        return None

    def _eval_is_nonnegative(self):
        return self.args[0].is_nonnegative

    def _sympystr(self, printer):
        w, s = self.args
        return f"floor({float(s)!r}*{printer._print(w)})"

    def _latex(self, printer):
        w, s = self.args
        return rf"\left\lfloor {float(s)!r} \cdot {printer._print(w)} \right\rfloor"

    def _pythoncode(self, printer):
        w, s = self.args
        return f"{printer._module_format('math.floor')}(float({printer._print(w)})*{float(s)!r})"

    def _numpycode(self, printer):
        w, s = self.args
        return (f"{printer._module_format('numpy.floor')}(({printer._print(w)})*{float(s)!r})"
                ".astype(numpy.int64)")

    def _javascript(self, printer):
        w, s = self.args
        return f"Math.floor(({printer._print(w)})*{float(s)!r})"


def _scale(label: str, value) -> sympy.Rational:
    """A scale factor as the exact value PyTorch multiplies by (a float's binary value; a Fraction exactly)."""
    if isinstance(value, float) and math.isfinite(value):
        value = Fraction(value)  # exact binary value, as PyTorch multiplies in double
    if isinstance(value, (int, Fraction, sympy.Rational)) and not isinstance(value, bool):
        r = sympy.Rational(value.numerator, value.denominator) if isinstance(value, Fraction) else sympy.Integer(value)
        if r > 0:
            return r
    raise SymcnnError(
        f"{label}: `scale_factor`={value!r} must be a positive finite number (int, float or Fraction)"
    )


#: spatial axes each mode works on (PyTorch: "linear mode needs 3D input", bicubic 4-D, trilinear 5-D)
_MODE_AXES = {"nearest": (1, 2, 3), "nearest-exact": (1, 2, 3), "linear": (1,), "bilinear": (2,), "bicubic": (2,),
              "trilinear": (3,)}


class Upsample(Layer):
    """``torch.nn.Upsample(size=None, scale_factor=None, mode='nearest', align_corners=None,
    recompute_scale_factor=None)``.

    A single ``size`` or ``scale_factor`` applies to every spatial axis; a tuple needs one entry per axis.
    ``linear``, ``bilinear``/``bicubic`` and ``trilinear`` need 1, 2 and 3 spatial axes, as in PyTorch.

    >>> import symcnn as sc
    >>> sc.analyze(sc.Upsample(scale_factor=2), (8, sc.H, sc.W)).output_shape
    (8, 2*H, 2*W)
    >>> sc.Upsample(scale_factor=0.3)
    Upsample(scale_factor=0.3, mode='nearest')
    """

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None):
        label = self.kind
        if isinstance(scale_factor, (int, float)) and not isinstance(scale_factor, bool) and scale_factor == 0:
            if size is None:
                raise SymcnnError(f"{label}: `scale_factor`={scale_factor!r} must be a positive finite number")
            scale_factor = None  # PyTorch reads a zero scale as "not given"
        if (size is None) == (scale_factor is None):
            raise SymcnnError(f"{label}: give exactly one of `size` and `scale_factor`")
        if not isinstance(mode, str) or mode not in _MODES:
            raise SymcnnError(f"{label}: `mode`={mode!r} must be one of {', '.join(map(repr, _MODES))}")
        if align_corners is not None:
            if not isinstance(align_corners, bool):
                raise SymcnnError(f"{label}: `align_corners`={align_corners!r} must be None, True or False")
            if _MODES[mode] == 1:
                raise SymcnnError(
                    f"{label}: `align_corners`={align_corners!r} can only be set with the interpolating modes "
                    f"(linear, bilinear, bicubic, trilinear), not mode={mode!r} (PyTorch's rule)"
                )
        if recompute_scale_factor is not None and not isinstance(recompute_scale_factor, bool):
            raise SymcnnError(
                f"{label}: `recompute_scale_factor`={recompute_scale_factor!r} must be None, True or False"
            )
        given = size if size is not None else scale_factor
        if isinstance(given, list):
            given = tuple(given)
        if isinstance(given, tuple) and not given:
            raise SymcnnError(f"{label}: `{'size' if size is not None else 'scale_factor'}`=() is empty")
        if size is not None:
            sizes = size if isinstance(size, tuple | list) else (size,)
            size = tuple(to_expr(label, "size", s, minimum=1) for s in sizes)
        if scale_factor is not None:
            scales = scale_factor if isinstance(scale_factor, tuple | list) else (scale_factor,)
            scale_factor = tuple(_scale(label, s) for s in scales)
        self._set(size=size, scale_factor=scale_factor, mode=mode, align_corners=align_corners,
                  recompute_scale_factor=recompute_scale_factor,
                  _given=given, _per_axis=isinstance(given, tuple))
        self._freeze()

    def __repr__(self) -> str:
        # the values as the user gave them (0.3, not the exact binary fraction symcnn computes with)
        shown = fmt(self._given) if isinstance(self._given, (tuple, sympy.Basic)) else repr(self._given)
        what = f"size={shown}" if self.size is not None else f"scale_factor={shown}"
        extra = "" if self.align_corners is None else f", align_corners={self.align_corners!r}"
        return f"{self.kind}({what}, mode={self.mode!r}{extra})"

    def infer(self, x: Shape) -> LayerResult:
        spatial = x[1:]
        n = len(spatial)
        if n not in _MODE_AXES[self.mode]:
            allowed = " or ".join(str(k) for k in _MODE_AXES[self.mode])
            raise SymcnnError(
                f"{self.label}: mode {self.mode!r} needs an input with {allowed} spatial axes; input shape "
                f"{fmt(tuple(x))} has {n} (PyTorch refuses it)"
            )
        values = self.size if self.size is not None else self.scale_factor
        if not self._per_axis:
            values = values * n
        if len(values) != n:
            what = "sizes" if self.size is not None else "scale factors"
            raise SymcnnError(
                f"{self.label}: {len(values)} {what} given for {n} spatial axes of input {fmt(tuple(x))} "
                "(a tuple needs one entry per axis; a single number applies to all)"
            )
        if self.size is not None:
            out = tuple(values)
            scales = tuple(sympy.sympify(o) / w for o, w in zip(out, spatial, strict=True))
        else:
            out = tuple(ScaledFloor(w, r) for r, w in zip(values, spatial, strict=True))
            scales = tuple(values)
        ck = Checker(self.label)
        for o, w in zip(out, spatial, strict=True):
            ck.require(sympy.Ge(o, 1), f"output size {fmt(o)} of input size {fmt(w)} is below 1")
            if o.is_Integer and o > INT64_MAX:
                raise SymcnnError(f"{self.label}: output size {o} of input size {fmt(w)} is beyond PyTorch's int64")
        taps = _MODES[self.mode]
        per_out = 0 if taps == 1 else (31 if self.mode == "bicubic" else 2 ** (n + 1) - 1)
        rule = {"nearest": "nearest", "nearest-exact": "nearest-exact", "bicubic": "cubic"}.get(self.mode, "linear")
        rule += "-align" if self.align_corners else ""
        axes = tuple(AxisMap("upsample", sympy.Integer(taps), s, mode=rule) for s in scales)
        return LayerResult(output_shape=Shape((x[0], *out)), flops=per_out * x[0] * prod(out), axes=axes,
                           conditions=tuple(ck.conditions))


class UpsamplingNearest2d(Upsample):
    """``torch.nn.UpsamplingNearest2d``."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, "nearest")


class UpsamplingBilinear2d(Upsample):
    """``torch.nn.UpsamplingBilinear2d`` (align_corners=True)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, "bilinear", True)


class _PadNd(Layer):
    _dims = 0
    _reflect = False
    _constant = False

    def __init__(self, padding):
        self._init(padding, 0)

    def _init(self, padding, value):
        label, n = self.kind, self._dims
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SymcnnError(f"{label}: `value`={value!r} must be a number (int or float)")
        if isinstance(padding, (list, tuple)):
            if len(padding) != 2 * n:
                raise SymcnnError(
                    f"{label}: `padding`={tuple(padding)!r} must have {2 * n} entries "
                    "(left, right[, top, bottom[, front, back]]: last axis first, as in PyTorch)"
                )
            flat = [to_expr(label, "padding", p) for p in padding]
        else:
            flat = [to_expr(label, "padding", padding)] * (2 * n)
        # PyTorch orders pads from the last axis backwards; store them per axis, first axis first.
        pairs = tuple((flat[2 * i], flat[2 * i + 1]) for i in range(n))[::-1]
        self._set(padding=pairs, value=value)
        self._freeze()

    def __repr__(self) -> str:
        flat = tuple(p for pair in self.padding[::-1] for p in pair)
        shown = f", {self.value!r}" if isinstance(self, _ConstantPadNd) else ""
        return f"{self.kind}({fmt(flat)}{shown})"

    def infer(self, x: Shape) -> LayerResult:
        if not self._constant or len(x) < self._dims + 1:
            self._expect_rank(x, self._dims + 1, "channels + spatial")
        # constant padding (ZeroPad*, ConstantPad*) pads the last axes of an input of any larger rank, as
        # PyTorch's F.pad does; the axes before them are unchanged
        lead = len(x) - 1 - self._dims
        ck = Checker(self.label)
        out = list(x[1:1 + lead])
        names = ("L",) if self._dims == 1 else ("D", "H", "W")[-self._dims:]
        for i, (w, (pl, pr)) in enumerate(zip(x[1 + lead:], self.padding, strict=True)):
            if self._reflect:  # aten ReflectionPad: "Padding size should be less than the input dimension"
                for p in ((pl, pr) if pl != pr else (pl,)):
                    ck.require(
                        sympy.Lt(p, w),
                        lambda p=p, w=w, i=i: f"padding {fmt(p)} must be smaller than the input size {fmt(w)} "
                        f"along axis {names[i]} (reflection reads inside the input)",
                    )
            if self._constant and not (pl.is_nonnegative and pr.is_nonnegative):
                # aten constant_pad_nd narrows the input by the negative pads before it pads the other side
                crop = sympy.Min(pl, 0) + sympy.Min(pr, 0)
                ck.require(
                    sympy.Ge(w + crop, 0),
                    lambda w=w, crop=crop, i=i, pl=pl, pr=pr: f"padding {fmt((pl, pr))} crops {fmt(-crop)} "
                    f"elements from the input size {fmt(w)} along axis {names[i]} before padding (PyTorch refuses it: "
                    "\"narrow(): length must be non-negative\")",
                )
            o = w + pl + pr
            ck.require(sympy.Ge(o, 1), f"padding {fmt((pl, pr))} leaves {fmt(o)} elements of {fmt(w)}")
            out.append(o)
        one = sympy.Integer(1)
        axes = (AxisMap("window", one, one),) * lead + tuple(AxisMap("window", one, one, pl) for pl, _ in self.padding)
        return LayerResult(output_shape=Shape((x[0], *out)), axes=axes, conditions=tuple(ck.conditions))


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value):
        self._init(padding, value)


def _pad(name: str, dims: int, doc: str):
    base = _ConstantPadNd if name.startswith("Constant") else _PadNd
    return type(name, (base,), {"_dims": dims, "_reflect": name.startswith("Reflection"), "__doc__": doc,
                                "_constant": name.startswith(("Constant", "Zero")), "__module__": __name__})


ZeroPad1d = _pad("ZeroPad1d", 1, "``torch.nn.ZeroPad1d``: padding (left, right).")
ZeroPad2d = _pad("ZeroPad2d", 2, "``torch.nn.ZeroPad2d``: padding (left, right, top, bottom).")
ZeroPad3d = _pad("ZeroPad3d", 3, "``torch.nn.ZeroPad3d``.")
ConstantPad1d = _pad("ConstantPad1d", 1, "``torch.nn.ConstantPad1d``.")
ConstantPad2d = _pad("ConstantPad2d", 2, "``torch.nn.ConstantPad2d``.")
ConstantPad3d = _pad("ConstantPad3d", 3, "``torch.nn.ConstantPad3d``.")
ReflectionPad1d = _pad("ReflectionPad1d", 1, "``torch.nn.ReflectionPad1d``.")
ReflectionPad2d = _pad("ReflectionPad2d", 2, "``torch.nn.ReflectionPad2d``.")
ReflectionPad3d = _pad("ReflectionPad3d", 3, "``torch.nn.ReflectionPad3d``.")
ReplicationPad1d = _pad("ReplicationPad1d", 1, "``torch.nn.ReplicationPad1d``.")
ReplicationPad2d = _pad("ReplicationPad2d", 2, "``torch.nn.ReplicationPad2d``.")
ReplicationPad3d = _pad("ReplicationPad3d", 3, "``torch.nn.ReplicationPad3d``.")
