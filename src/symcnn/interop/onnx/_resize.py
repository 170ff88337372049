"""ONNX Resize / Upsample: output sizes as onnxruntime computes them.

The ONNX spec writes ``output_dimension = floor(input_dimension * (roi_end - roi_start) * scale)``; the
scales are a ``float`` (32-bit) tensor, and onnxruntime (``UpsampleBase::ComputeOutputShape`` in
``onnxruntime/core/providers/cpu/tensor/upsamplebase.h``) computes ``static_cast<int64_t>(scales[i] *
input_dims[i])``: the size converted to float32, the product rounded to float32, then truncated. PyTorch
computes the same size in double from the Python scale (``1.3``), so ``torch.nn.Upsample(scale_factor=1.3)``
on 10 pixels gives 13 in both runtimes, while the exact product of the stored float32 scale
(1.2999999523...) with 10 is below 13. symcnn follows onnxruntime: :class:`Float32ScaledFloor`.

With ``sizes`` (opset 18 ``keep_aspect_ratio_policy``): ``stretch`` takes the sizes as given; ``not_larger`` /
``not_smaller`` take one scale, the min / max over the resized axes of ``float(size) / float(input)`` (float32),
and each resized axis becomes ``round(scale * input)`` (float32 product, halves away from zero; the ONNX
reference implementation rounds halves up, the same for positive sizes); the other axes keep their size.
"""

from __future__ import annotations

import struct

import numpy as np
import sympy

from ... import layers as L
from ..._intmath import floordiv
from ...layers.resize import ScaledFloor
from ._reader import Const
from ._sizes import OpError, _sizes, _tensor

__all__ = ["Float32ScaledFloor", "float32_scaled_size", "resize"]

#: a symbolic closed form is given for float32 scales whose denominator is at most this power of two: their
#: products with every input size below 2**(24 - k) are exact in float32 (no rounding), so truncation = floor
_SHORT_DENOMINATOR = 4
_F32_EXACT = 2**24


def _f32(x: float) -> float:
    """``x`` rounded to the nearest float32 (ties to even), as a Python float."""
    return struct.unpack("f", struct.pack("f", x))[0]


def float32_scaled_size(w: int, s) -> int:
    """``static_cast<int64_t>(float(w) * s)`` with ``s`` a float32: onnxruntime's Resize output size. The
    product of two float32 values is exact in double (48 significant bits), so rounding it once to float32
    gives the float32 product exactly."""
    return int(_f32(_f32(float(int(w))) * float(s)))


class Float32ScaledFloor(ScaledFloor):
    """``trunc(float32(float32(W) * s))``: an ONNX Resize output size as onnxruntime computes it, ``s`` the exact
    value of the file's float32 scale.

    Numbers are evaluated exactly as onnxruntime does. A symbol stays symbolic (``floor(fl32(1.3*H))``), except
    for the scales whose product with the size is exact in float32 over the whole range symcnn states:
    an integer scale ``s`` gives ``s*H`` (exact while ``s*H < 2**24``), a scale ``p/2**k`` with ``k <= 4``
    (0.5, 0.25, 1.5, 2.5, 0.75 ...) gives ``floor(p*H/2**k)`` (exact while the output is below ``2**(24 - k)``,
    i.e. 1,048,576 and more). Any other float32 scale (1.3 is 5452595/2**22) rounds: 10 * 1.3f is 12.99999952
    exactly but 13.0 in float32, and no polynomial-floor form follows that rounding for every H.

    >>> from symcnn import H, pretty
    >>> s = sympy.Rational(5452595, 2**22)       # float32(1.3)
    >>> Float32ScaledFloor(10, s), Float32ScaledFloor(sympy.Integer(7), s), pretty(Float32ScaledFloor(H, s))
    (13, 9, 'floor(fl32(1.3*H))')
    >>> pretty(Float32ScaledFloor(H, sympy.Rational(3, 2)))
    'H + floor(H/2)'
    """

    nargs = 2
    is_integer = True

    @classmethod
    def eval(cls, w, s):
        if w.is_Integer:
            return sympy.Integer(float32_scaled_size(int(w), float(s)))
        if s.is_Integer:
            return s * w
        q = int(s.q)
        if q & (q - 1) == 0 and q <= 2**_SHORT_DENOMINATOR:
            return floordiv(int(s.p) * w, q)
        return None

    def _shown_scale(self) -> str:
        return str(np.float32(float(self.args[1])))  # the shortest text of the float32: 1.3, not 1.2999999523

    def _sympystr(self, printer):
        return f"floor(fl32({self._shown_scale()}*{printer._print(self.args[0])}))"

    def _latex(self, printer):
        return (rf"\left\lfloor \mathrm{{fl}}_{{32}}\!\left({self._shown_scale()} \cdot "
                rf"{printer._print(self.args[0])}\right) \right\rfloor")

    def _pythoncode(self, printer):
        w, s = self.args
        fn = printer._module_format("symcnn.interop.onnx._resize.float32_scaled_size")
        return f"{fn}({printer._print(w)}, {float(s)!r})"

    def _numpycode(self, printer):
        w, s = self.args
        np_ = printer._module_format("numpy.float32")
        i64 = printer._module_format("numpy.int64")
        return (f"(numpy.asarray({printer._print(w)}).astype({np_}) * {np_}({float(s)!r})).astype({i64})")

    def _javascript(self, printer):
        w, s = self.args
        return f"Math.trunc(Math.fround(Math.fround({printer._print(w)})*{float(s)!r}))"


def _f32_ratio(out: int, size: int) -> float:
    return _f32(_f32(float(out)) / _f32(float(size)))


def _policy_sizes(policy: str, sizes, spatial) -> list:
    """keep_aspect_ratio_policy ``not_larger`` / ``not_smaller`` (onnxruntime's
    ``AdjustOutputSizeAsPolicy``): numbers only."""
    if not all(isinstance(v, sympy.Integer) for v in (*sizes, *spatial)):
        raise OpError(f"`keep_aspect_ratio_policy`={policy!r} with a symbolic size (onnxruntime picks one float32 "
                      "scale and rounds float32 products; give input_shape= with numbers)")
    ratios = [_f32_ratio(int(o), int(w)) for o, w in zip(sizes, spatial, strict=True)]
    scale = min(ratios) if policy == "not_larger" else max(ratios)
    out = []
    for w in spatial:
        x = _f32(scale * float(int(w)))
        out.append(sympy.Integer(int(np.floor(x + 0.5))))  # std::round: halves away from zero (sizes > 0)
    return out


def _axes(attrs, rank: int) -> list[int]:
    axes = attrs.get("axes")
    if axes is None:
        return list(range(rank))
    if not isinstance(axes, list) or not all(isinstance(a, int) for a in axes):
        raise OpError(f"`axes`={axes!r} must be a list of integers")
    out = []
    for a in axes:
        if not 0 <= a < rank:  # the spec allows [-r, r-1]; onnxruntime indexes with negative axes unnormalised
            raise OpError(f"`axes`={axes} has {a}, outside [0, {rank - 1}] (onnxruntime does not normalise "
                          "negative axes)")
        out.append(a)
    if len(set(out)) != len(out):
        raise OpError(f"`axes`={axes} repeats an axis")
    return out


def _mode_name(attrs, n: int) -> str:
    mode = attrs.get("mode", "nearest")
    if mode == "linear":
        name = {1: "linear", 2: "bilinear", 3: "trilinear"}.get(n)
    else:
        name = {"nearest": "nearest", "cubic": "bicubic"}.get(mode) if isinstance(mode, str) else None
    if name is None:
        raise OpError(f"`mode`={mode!r} on {n} spatial axes (symcnn reads nearest on 1-3, linear on 1-3, cubic on 2)")
    return name


def _operands(ctx, node, ins, attrs):
    """(scales value or None, sizes value or None) by opset: Upsample-7 has a `scales` attribute, Upsample-9
    and Resize-10 a scales input, Resize-11+ (roi, scales, sizes)."""
    if "scales" in attrs:
        arr = np.asarray(attrs["scales"], dtype=np.float32)
        return Const(arr.shape, arr, False), None
    if node.op_type == "Upsample" or ctx.opset is not None and ctx.opset < 11:
        return (ins[1] if len(ins) > 1 else None), None
    scales_v = ins[2] if len(ins) > 2 else None
    sizes_v = ins[3] if len(ins) > 3 else None
    if isinstance(scales_v, Const) and scales_v.numel == 0:
        scales_v = None
    if isinstance(sizes_v, Const) and sizes_v.numel == 0:
        sizes_v = None
    if scales_v is not None and sizes_v is not None:
        raise OpError("both `scales` and `sizes` are given (the spec allows one)")
    return scales_v, sizes_v


def _float32_scales(scales_v, upsample: bool) -> list[sympy.Rational]:
    if not isinstance(scales_v, Const) or scales_v.value is None:
        raise OpError("its `scales` are computed, not constant")
    arr = np.asarray(scales_v.value)
    if arr.dtype.kind != "f":
        raise OpError(f"its `scales` are {arr.dtype}, not float")
    out = []
    for v in arr.astype(np.float32).reshape(-1):
        v = float(v)
        if not np.isfinite(v) or v <= 0 or (upsample and v < 1):
            need = ">= 1 (Upsample)" if upsample else "> 0"
            raise OpError(f"`scales` has {v!r}; each scale must be finite and {need}")
        out.append(sympy.Rational(*v.as_integer_ratio()))
    return out


def _check_modes(attrs) -> None:
    if int(attrs.get("antialias", 0) or 0):
        raise OpError("`antialias`=1 (its filter reads more input pixels than symcnn's Upsample counts)")
    ctm = attrs.get("coordinate_transformation_mode", "half_pixel")
    if ctm == "tf_crop_and_resize":
        raise OpError("`coordinate_transformation_mode`='tf_crop_and_resize' (the spec's size uses the roi, "
                      "onnxruntime's does not)")


def resize(ctx, node, ins, attrs):
    x = _tensor(ins[0])
    n = len(x.shape) - 1
    rank = n + 2
    name = _mode_name(attrs, n)
    _check_modes(attrs)
    axes = _axes(attrs, rank)
    policy = attrs.get("keep_aspect_ratio_policy", "stretch")
    if policy not in ("stretch", "not_larger", "not_smaller"):
        raise OpError(f"`keep_aspect_ratio_policy`={policy!r} must be 'stretch', 'not_larger' or 'not_smaller'")
    scales_v, sizes_v = _operands(ctx, node, ins, attrs)
    full = [ctx.batch, *x.shape]
    if sizes_v is not None:
        given = _sizes(sizes_v, "sizes")
        if len(given) != len(axes):
            raise OpError(f"`sizes` has {len(given)} entries for {len(axes)} axes")
        if policy != "stretch":
            given = _policy_sizes(policy, given, [full[a] for a in axes])
        out = list(full)
        for a, v in zip(axes, given, strict=True):
            out[a] = v
    elif scales_v is not None:
        scales = _float32_scales(scales_v, node.op_type == "Upsample")
        if len(scales) != len(axes):
            raise OpError(f"`scales` has {len(scales)} entries for {len(axes)} axes")
        out = list(full)
        for a, s in zip(axes, scales, strict=True):
            out[a] = Float32ScaledFloor(full[a], s) if s != 1 else full[a]
    else:
        raise OpError("neither `scales` nor `sizes` is given")
    if sympy.simplify(out[0] - full[0]) != 0 or sympy.simplify(out[1] - full[1]) != 0:
        raise OpError(f"it resizes the batch or channel axis (output {tuple(out[:2])} from {tuple(full[:2])})")
    kwargs = {"mode": name}
    if name != "nearest":
        kwargs["align_corners"] = attrs.get("coordinate_transformation_mode") == "align_corners"
    return [ctx.emit(L.Upsample(size=tuple(out[2:]), **kwargs), [x], node)]
