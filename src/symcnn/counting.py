"""Counting conventions: the total each FLOP/MAC tool prints for a network, as a SymPy expression.

"FLOPs" and "MACs" mean different things to different tools: torchvision's "GFLOPS"
are conv + linear multiply-accumulates, ``torch.utils.flop_counter`` counts two FLOPs per MAC, fvcore adds
batch norm, adaptive average pooling and upsampling, thop and ptflops add more and count transposed
convolutions or activations their own way. :func:`count` reproduces each tool's total from symcnn's
per-layer records, symbolic in the input size:

>>> import symcnn as sc
>>> net = sc.Sequential(sc.Conv2d(3, 8, 3, padding=1), sc.BatchNorm2d(8), sc.ReLU(), sc.MaxPool2d(2))
>>> sc.count(net, (3, 32, 32))                          # 32*32*8*3*3*3: conv MACs only
221184
>>> sc.count(net, (3, 32, 32), convention="fvcore")     # + BN: 2 per element (eval mode, affine)
237568
>>> sc.count(net, (3, 32, 32), convention="ptflops")    # + bias 8192, BN 16384, ReLU and pool twice (2*8192 each)
278528
>>> sc.count(net, (3, sc.H, sc.W), convention="thop")   # BN 4 per element; ReLU and max pool free
248*H*W

Each convention is a rule table dispatched on the layer class, as SymPy's printers dispatch
``_print_<Class>``: a method ``_count_<Class>`` found along the class's MRO. A layer kind without a rule
(LeNet's special layers, spatial pyramid pooling, ``Opaque``) is refused rather than counted as zero.
:func:`conventions` describes every convention (tool, version, unit and the rule text of each layer kind,
taken from the rule methods' docstrings) for the documentation.
A layer :func:`~symcnn.from_torch` read from a function or a module subclass: :mod:`symcnn.counting_calls`.

All counts are per sample (batch 1), models in eval mode (as the tools run them).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import sympy

from ._analysis import Analysis, LayerRecord, analyze
from ._errors import SymcnnError
from ._intmath import floordiv
from .counting_calls import _ByOperator, _FvcoreCalls, _PtflopsCalls, _ThopCalls, _TorchinfoCalls
from .layers import __all__ as _layer_names
from .layers._base import Layer, prod

__all__ = ["count", "conventions", "Convention"]


@dataclass(frozen=True)
class Convention:
    """Description of one counting convention (for the documentation).

    Attributes:
        name: the ``convention=`` name of :func:`count`.
        tool: the tool and the call whose printed total the convention reproduces.
        version: the tool version whose source the rules were read from (and tested against).
        unit: ``"MACs"`` or ``"FLOPs"`` (2 per multiply-accumulate).
        summary: one paragraph on what the tool counts.
        rules: layer kinds (comma-separated) -> how the tool counts them.
        refused: layer kinds without a rule (:func:`count` raises on them).
        calls: how it counts a layer called as a function or a module subclass (:mod:`symcnn.counting_calls`).
    """

    name: str
    tool: str
    version: str
    unit: str
    summary: str
    rules: dict[str, str]
    refused: tuple[str, ...]
    calls: str = ""


# --- quantities of a record --------------------------------------------------------------------------------

def _in(rec: LayerRecord) -> sympy.Expr:
    """Elements of the (first) input tensor."""
    return prod(rec.input_shapes[0])


def _out(rec: LayerRecord) -> sympy.Expr:
    """Elements of the output tensor."""
    return prod(rec.output_shape)


def _conv_weights(layer) -> sympy.Expr:
    """Weight count of a conv or transposed conv: ``C_out * C_in/G * prod(F)`` (both have that many)."""
    return layer.out_channels * layer.in_channels / layer.groups * prod(layer.kernel_size)


def _bias_adds(rec: LayerRecord) -> sympy.Expr:
    """One addition per output element when the layer has a bias, else 0."""
    return _out(rec) if rec.layer.bias else sympy.Integer(0)


def _linear_rows(rec: LayerRecord) -> sympy.Expr:
    return prod(rec.input_shapes[0][:-1])


# --- the rule tables ---------------------------------------------------------------------------------------

def _free(text: str):
    """A rule that counts nothing, with ``text`` as its rule text."""
    def rule(self, rec):
        return 0

    rule.__doc__ = text
    return rule


class _Rules(_ByOperator):
    """Base rule table: what no tool counts is free; conv and linear layers count their MACs.

    Subclasses override ``_count_<Class>`` methods; the docstring of each method is its rule text.
    """

    name = ""
    tool = ""
    version = ""
    unit = "MACs"
    summary = ""

    def _module_rule(self, rec: LayerRecord) -> sympy.Expr:
        method = self._method(type(rec.layer))
        if method is None:
            raise SymcnnError(
                f"count: layer {rec.index} '{rec.name}' ({rec.kind}) has no rule under convention "
                f"{self.name!r}: the tool has no module for it, so its count depends on how it is written in "
                "PyTorch; refused rather than counted as 0"
            )
        return sympy.sympify(method(rec))

    def _method(self, cls: type):
        for klass in cls.__mro__:
            if klass is Layer:
                return None
            method = getattr(self, f"_count_{klass.__name__}", None)
            if method is not None:
                return method
        return None

    # conv and linear: the multiply-accumulates of symcnn's analysis
    def _count__ConvNd(self, rec):
        """``C_out * C_in/G * prod(F)`` MACs per output position; bias not counted."""
        return rec.macs

    def _count__ConvTransposeNd(self, rec):
        """``C_in * C_out/G * prod(F)`` MACs per *input* position; bias not counted."""
        return rec.macs

    def _count_Linear(self, rec):
        """``in * out`` MACs per row; bias not counted."""
        return rec.macs

    # free in every tool unless a subclass says otherwise (the text is the rule shown on the counting page)
    _count__BatchNorm = _free("not counted.")
    _count__Elementwise = _free("not counted.")
    _count_PReLU = _free("not counted.")
    _count__PoolNd = _free("not counted.")
    _count__AdaptivePoolNd = _free("not counted.")
    _count_Upsample = _free("not counted.")
    _count__Broadcast = _free("not counted (``x + y`` / ``x * y``).")
    _count_Concat = _free("not counted (``torch.cat``).")
    _count_ScalarOp = _free("not counted (``x * c`` / ``x + c`` written with the operators).")
    _count_Clamp = _free("not counted (``torch.clamp``, a function call).")
    _count_Flatten = _free("not counted.")
    _count_Narrow = _free("not counted (slices, ``chunk``, ``split``).")
    _count_ChannelShuffle = _free("not counted (a view, transpose and reshape, or ``nn.ChannelShuffle``).")
    _count_GroupSum = _free("not counted (``x.sum(1)`` of a regrouped tensor).")
    _count_GroupSoftmax = _free("not counted (``softmax`` of a regrouped tensor, a function call).")
    _count_Reshape = _free("not counted (a view).")
    _count_Expand = _free("not counted (a view).")
    _count__PadNd = _free("not counted.")
    _count_ExpandAs = _count_Expand
    _count_SpaceToDepth = _free("not counted (timm's view, permute and copy).")

    #: norm functions on parameters in forward (``WeightNorms``: timm's weight standardisation): only fvcore counts
    #: them (FlopCounterMode, ptflops' aten: no batch-norm formula; thop, ptflops, torchinfo see modules)
    _count_WeightNorms = _free("not counted (a norm function on parameters: the weight standardisation).")

    # LayerNorm, LayerNorm2d, GroupNorm, Permute, LearnedScale/LearnedShift (x * w, x + b), StochasticDepth
    _count_LayerNorm = _count_LayerNorm2d = _count_GroupNorm = _count_Permute = _count__Learned = _count_Flatten


class _Torchvision(_Rules):
    name = "torchvision"
    tool = 'torchvision weights meta "GFLOPS" (_ops)'
    version = "torchvision 0.29 (script of pytorch/vision#6936)"
    unit = "MACs"
    summary = (
        "torchvision's published GFLOPS are `torch.utils.flop_counter` totals divided by 2: the "
        "multiply-accumulates of convolutions and matrix products, nothing else (no bias, batch norm, "
        "activation, pooling or residual addition). This equals `analyze(model, shape).macs` for networks of "
        "convolutions, linear layers and parameter-free layers."
    )


class _FlopCounter(_Rules):
    name = "flop_counter"
    tool = "torch.utils.flop_counter.FlopCounterMode().get_total_flops()"
    version = "torch 2.13"
    unit = "FLOPs"
    summary = (
        "PyTorch's dispatch-level counter registers formulas for convolutions (`aten.convolution`) and matrix "
        "products (`mm`, `addmm`, `bmm`, attention) only, at 2 FLOPs per multiply-accumulate. The bias of "
        "`addmm` and of a convolution is not counted; batch norm, pooling, activations, upsampling and "
        "element-wise additions count 0."
    )

    def _count__ConvNd(self, rec):
        """``2 * C_out * C_in/G * prod(F)`` per output position (`conv_flop_count`); bias not counted."""
        return 2 * rec.macs

    def _count__ConvTransposeNd(self, rec):
        """``2 * C_in * C_out/G * prod(F)`` per *input* position (`conv_shape = x_shape if transposed`);
        bias not counted."""
        return 2 * rec.macs

    def _count_Linear(self, rec):
        """``2 * in * out`` per row (`addmm_flop`: the bias term is ignored)."""
        return 2 * rec.macs


class _Fvcore(_FvcoreCalls, _Rules):
    name = "fvcore"
    tool = "fvcore.nn.FlopCountAnalysis(model, x).total()"
    version = "fvcore 0.1.5.post20221221"
    unit = "MACs"
    summary = (
        "fvcore traces the model with `torch.jit` and applies the handles of `_DEFAULT_SUPPORTED_OPS` "
        '(`fvcore/nn/flop_count.py`, `jit_handles.py`); "one fused multiply-add is one flop". Besides '
        "convolutions and linear layers it counts `aten::batch_norm`, `aten::adaptive_avg_pool2d`, "
        "`aten::upsample_nearest2d` and `aten::upsample_bilinear2d`; every other operator (ReLU, max pooling, "
        "`add`, `cat`, ...) is skipped with a warning and counts 0."
    )

    def _count__ConvNd(self, rec):
        """`conv_flop_count`: ``batch * prod(weight shape) * prod(output spatial)``; bias ignored. A convolution
        with a *string* padding (PyTorch ``padding="same"``, ``"tf_same"`` at stride 1, ``padding="valid"``) runs as
        `aten::_convolution_mode`, which fvcore has no handle for: it counts 0 (with a warning)."""
        if rec.layer.padding in ("valid", "same") or (rec.layer.padding == "tf_same"
                                                      and all(s == 1 for s in rec.layer.stride)):
            return 0
        return rec.macs

    def _count__ConvTransposeNd(self, rec):
        """`conv_flop_count` with ``transposed``: ``batch * prod(weight shape) * prod(input spatial)``; bias
        ignored."""
        return rec.macs

    def _count_Linear(self, rec):
        """`linear_flop_jit`: ``prod(input shape) * out``; bias ignored."""
        return rec.macs

    def _count__BatchNorm(self, rec):
        """`batchnorm_flop_jit`: in eval mode 2 per input element with affine weights, 1 without; a layer with
        ``track_running_stats=False`` normalises with batch statistics even in eval mode, which fvcore counts
        as training: 5 per element with affine weights, 4 without."""
        if not rec.layer.track_running_stats:
            return _in(rec) * (5 if rec.layer.affine else 4)
        return _in(rec) * (2 if rec.layer.affine else 1)

    def _count__AdaptivePoolNd(self, rec):
        """`aten::adaptive_avg_pool2d`: 1 per *input* element; adaptive average pooling in 1-D or 3-D and
        adaptive max pooling are not counted."""
        if rec.layer._op == "avg" and len(rec.input_shapes[0]) == 3:
            return _in(rec)
        return 0

    def _count_Upsample(self, rec):
        """2-D only: `aten::upsample_nearest2d` 1 per output element, `aten::upsample_bilinear2d` 4 per output
        element; other modes and ranks (linear, trilinear, bicubic, nearest-exact, 1-D/3-D) are not counted."""
        if len(rec.output_shape) != 3:
            return 0
        return {"nearest": 1, "bilinear": 4}.get(rec.layer.mode, 0) * _out(rec)

    def _count_LayerNorm(self, rec):
        """`norm_flop_counter` (`aten::layer_norm`, `aten::group_norm`): 5 per input element if affine, else 4."""
        return _in(rec) * (5 if getattr(rec.layer, "elementwise_affine", getattr(rec.layer, "affine", 0)) else 4)

    _count_LayerNorm2d = _count_GroupNorm = _count_LayerNorm

    def _count_WeightNorms(self, rec):
        """a norm function on parameters in forward (timm's weight standardisation, ``F.batch_norm(w,
        training=True)``), traced as that operator: `batchnorm_flop_jit` in training mode, 5 per weight element
        with an affine weight (``ScaledStdConv2d``'s gain), 4 without (``StdConv2d``); in eval mode 2 or 1."""
        total = 0
        for _path, kind, elements, affine, training in rec.layer.calls:
            if kind == "batch_norm" and not training:
                total += elements * (2 if affine else 1)
            else:
                total += elements * (5 if affine else 4)
        return total


class _Thop(_ThopCalls, _Rules):
    name = "thop"
    tool = "thop.profile(model, inputs=(x,))[0]"
    version = "thop 0.1.1.post2209072238"
    unit = "MACs"
    summary = (
        "thop registers forward hooks by exact module type (`register_hooks` in `thop/profile.py`, rules in "
        "`thop/vision/basic_hooks.py` and `calc_func.py`). It counts a transposed convolution with the "
        "ordinary-convolution formula, per *output* position (about `stride^2` times too many), batch norm at "
        "2 per element doubled when affine, average pooling, the `(kernel + 1)` rule of adaptive average "
        "pooling and upsampling by mode. ReLU, ReLU6, LeakyReLU, max pooling and dropout are zero ops; module "
        "types it does not register (other activations, `Flatten`) and functional calls (`x + y`, "
        "`torch.cat`) count 0."
    )

    def _count__ConvNd(self, rec):
        """`calculate_conv2d_flops`: ``prod(output shape) * C_in/G * prod(F)``; bias ignored."""
        return rec.macs

    def _count__ConvTransposeNd(self, rec):
        """the conv formula ``prod(output shape) * C_in/G * prod(F)``, per *output* position: larger than the
        true per-input count by about ``stride^2``; bias ignored."""
        layer = rec.layer
        return _out(rec) * layer.in_channels / layer.groups * prod(layer.kernel_size)

    def _count_Linear(self, rec):
        """`count_linear`: ``in_features * output elements``; bias ignored."""
        return rec.macs

    def _count__BatchNorm(self, rec):
        """`count_normalization`: 2 per input element, doubled (4) when affine."""
        return 2 * _in(rec) * (2 if rec.layer.affine else 1)

    def _count_PReLU(self, rec):
        """`count_prelu` in eval mode: 1 per input element."""
        return _in(rec)

    def _count_Softmax(self, rec):
        """`count_softmax`: ``3n - 1`` per softmax of length ``n`` (exp, sum, divide)."""
        return _in(rec) / self._softmax_len(rec) * (3 * self._softmax_len(rec) - 1)

    @staticmethod
    def _softmax_len(rec) -> sympy.Expr:
        layer = rec.layer
        dim = layer.kwargs.get("dim", layer.args[0] if layer.args else None)
        shape = (1, *rec.input_shapes[0])
        if not isinstance(dim, int) or not -len(shape) <= dim < len(shape):
            raise SymcnnError(
                f"count: layer {rec.index} '{rec.name}' (Softmax): `dim`={dim!r} must be an int indexing the input "
                f"of rank {len(shape)} (batch counted) for thop's softmax rule"
            )
        return shape[dim]

    def _count__AvgPoolNd(self, rec):
        """`count_avgpool`: 1 per output element."""
        return _out(rec)

    def _count__AdaptivePoolNd(self, rec):
        """`count_adap_avgpool`: ``(prod(In/Out) + 1)`` per output element, i.e. ``C * (prod(In) + prod(Out))``
        (computed in floating point and truncated by the tool); adaptive max pooling is a zero op."""
        if rec.layer._op != "avg":
            return 0
        x = rec.input_shapes[0]
        return x[0] * (prod(x[1:]) + prod(rec.output_shape[1:]))

    def _count_Upsample(self, rec):
        """`count_upsample`: per output element 1 (nearest), 5 (linear), 11 (bilinear), 259 (bicubic); other
        modes (trilinear, nearest-exact) count 0 with a logged warning."""
        return {"nearest": 1, "linear": 5, "bilinear": 11, "bicubic": 259}.get(rec.layer.mode, 0) * _out(rec)

    def _count_LayerNorm(self, rec):
        """`count_normalization` (``nn.LayerNorm``): 2 per input element, doubled (4) when affine. GroupNorm
        and a channels-first LayerNorm2d (a subclass) are not registered: 0."""
        return 2 * _in(rec) * (2 if rec.layer.elementwise_affine else 1)


class _Ptflops(_PtflopsCalls, _Rules):
    name = "ptflops"
    tool = "ptflops.get_model_complexity_info(model, shape, as_strings=False)[0]"
    version = "ptflops 0.7.5, backend 'pytorch' (the default)"
    unit = "MACs"
    summary = (
        "ptflops' default backend hooks modules by exact type (`MODULES_MAPPING` in `ptflops/pytorch_ops.py`) "
        "*and*, with the default `count_functional=True`, patches `torch.nn.functional` (`relu`, `elu`, "
        "`gelu`, `prelu`, `silu`, `softmax`, every pooling function, `interpolate`) and `torch.add`/`mul`/"
        "`matmul`. A module whose `forward` calls a patched function is counted twice: ReLU, ELU, GELU, PReLU, "
        "every pooling module and `nn.Upsample` (sovrasov/flops-counter.pytorch#139). Convolutions and "
        "linear layers include their bias additions; the `+` operator of residual connections is not "
        "patched and counts 0."
    )

    def _count__ConvNd(self, rec):
        """MACs per output position plus the bias: ``C_out * prod(O)`` additions when `bias=True`."""
        return rec.macs + _bias_adds(rec)

    def _count__ConvTransposeNd(self, rec):
        """MACs per *input* position (`transpose=True` uses the input size) plus ``C_out * prod(O)`` bias
        additions when `bias=True`."""
        return rec.macs + _bias_adds(rec)

    def _count_Linear(self, rec):
        """``(in * out + out*[bias])`` per row (`F.linear` is not patched, so counted once)."""
        return rec.macs + (_out(rec) if rec.layer.bias else 0)

    def _count__BatchNorm(self, rec):
        """1 per input element, 2 when affine."""
        return _in(rec) * (2 if rec.layer.affine else 1)

    def _twice(self, rec):
        """2 per output element: the module hook and the patched functional call both count it."""
        return 2 * _out(rec)

    _count_ReLU = _count_ELU = _count_GELU = _count_PReLU = _twice

    def _once(self, rec):
        """1 per element: hooked module whose `forward` calls an unpatched function (`leaky_relu`,
        `hardtanh`) or an unhooked module calling a patched function (`silu`, `softmax`)."""
        return _out(rec)

    _count_LeakyReLU = _count_ReLU6 = _count_SiLU = _count_Softmax = _once

    def _count__PoolNd(self, rec):
        """2 per *input* element: `pool_flops_counter_hook` and the patched `F.*pool*` both count the input."""
        return 2 * _in(rec)

    _count__AdaptivePoolNd = _count__PoolNd

    def _count_Upsample(self, rec):
        """output elements from the hook, plus the patched `F.interpolate`: ``C * prod(size)`` or
        ``input elements * scale^d`` (a per-axis scale tuple: its product truncated to an int)."""
        return _out(rec) + self._interpolate(rec)

    def _interpolate_only(self, rec):
        """only the patched `F.interpolate` (the subclass is not in `MODULES_MAPPING`): ``C * prod(size)`` or
        ``input elements * scale^d``."""
        return self._interpolate(rec)

    _count_UpsamplingNearest2d = _count_UpsamplingBilinear2d = _interpolate_only

    @staticmethod
    def _interpolate(rec) -> sympy.Expr:
        layer = rec.layer
        if layer.size is not None:
            return _out(rec)
        scales = layer.scale_factor
        if len(scales) == 1:  # nn.Upsample keeps one float: input.numel() * scale ** d
            ratio = scales[0] ** (len(rec.input_shapes[0]) - 1)
        else:                 # a tuple: int(np.prod(scale_factor))
            ratio = sympy.Integer(int(prod(scales)))
        ratio = sympy.Rational(ratio)
        return floordiv(_in(rec) * ratio.p, ratio.q) if ratio.q != 1 else _in(rec) * ratio

    def _count_LayerNorm(self, rec):
        """1 per input element (affine or not); GroupNorm 2 when affine. LayerNorm2d (a subclass) counts 0."""
        return _in(rec) * (2 if getattr(rec.layer, "affine", False) else 1)

    _count_GroupNorm = _count_LayerNorm


class _PtflopsAten(_Rules):
    name = "ptflops_aten"
    tool = "ptflops.get_model_complexity_info(model, shape, as_strings=False, backend='aten')[0]"
    version = "ptflops 0.7.5, backend 'aten'"
    unit = "MACs"
    summary = (
        "ptflops' `aten` backend is a `TorchDispatchMode` with formulas for `aten.convolution`, `mm`, `matmul`, "
        "`addmm` and `bmm` only (`ptflops/aten_ops.py`). Unlike `torch.utils.flop_counter` it counts MACs "
        "and includes bias additions: a convolution's `C_out * prod(O)` and the bias term of `addmm`. "
        "Everything else counts 0."
    )

    def _count__ConvNd(self, rec):
        """MACs per output position plus ``C_out * prod(O)`` bias additions when `bias=True`."""
        return rec.macs + _bias_adds(rec)

    def _count__ConvTransposeNd(self, rec):
        """MACs per *input* position plus ``C_out * prod(O)`` bias additions when `bias=True`."""
        return rec.macs + _bias_adds(rec)

    def _count_Linear(self, rec):
        """`addmm_flop`: ``in * out`` per row plus ``out`` per row for the bias."""
        return rec.macs + (_out(rec) if rec.layer.bias else 0)


class _Torchinfo(_TorchinfoCalls, _Rules):
    name = "torchinfo"
    tool = "torchinfo.summary(model, input_size=(1, *shape)).total_mult_adds"
    version = "torchinfo 1.8.0"
    unit = "MACs"
    summary = (
        "torchinfo's `LayerInfo.calculate_macs` works from parameter counts, not operators: a layer whose class "
        'name contains "Conv" counts `(weights + bias) * prod(output spatial)`, which for a transposed '
        "convolution is per *output* position (about `stride^2` too many); any other leaf layer with "
        "parameters counts `batch * parameters` (linear: `in*out + out`; batch norm: `2C`, once, not per "
        "element). Layers without parameters count 0."
    )

    def _count__ConvNd(self, rec):
        """``(C_out * C_in/G * prod(F) + C_out*[bias]) * prod(O)``: MACs plus one bias addition per output."""
        return (_conv_weights(rec.layer) + (rec.layer.out_channels if rec.layer.bias else 0)) * prod(
            rec.output_shape[1:])

    def _count__ConvTransposeNd(self, rec):
        """``(C_in * C_out/G * prod(F) + C_out*[bias]) * prod(O)``: the weights times the *output* positions."""
        return self._count__ConvNd(rec)

    def _count_Linear(self, rec):
        """``in * out + out*[bias]`` (the parameters, times the batch, whatever the other input dims)."""
        layer = rec.layer
        return layer.in_features * layer.out_features + (layer.out_features if layer.bias else 0)

    def _count__BatchNorm(self, rec):
        """``2 * C`` when affine (its parameters, once per sample, not per element), else 0."""
        return 2 * rec.layer.num_features if rec.layer.affine else 0

    def _count_PReLU(self, rec):
        """``num_parameters`` (its parameters)."""
        return rec.layer.num_parameters

    def _count_LayerNorm(self, rec):
        """its parameters (LayerNorm, LayerNorm2d, GroupNorm, LearnedScale, LearnedShift)."""
        return rec.layer.infer(*rec.input_shapes).params

    _count_LayerNorm2d = _count_GroupNorm = _count__Learned = _count_LayerNorm


_CONVENTIONS: dict[str, _Rules] = {
    r.name: r for r in (_Torchvision(), _FlopCounter(), _Fvcore(), _Thop(), _Ptflops(), _PtflopsAten(),
                        _Torchinfo())
}


def _rules(convention) -> _Rules:
    if not isinstance(convention, str) or convention not in _CONVENTIONS:
        raise SymcnnError(
            f"count: `convention`={convention!r} is not known; use one of {', '.join(map(repr, _CONVENTIONS))}"
        )
    return _CONVENTIONS[convention]


def count(model, input_shape=None, convention: str = "torchvision") -> sympy.Expr:
    """The total that the tool of ``convention`` prints for ``model`` on one input of ``input_shape``.

    Args:
        model: a layer or network, or an :class:`~symcnn.Analysis` already computed (then omit
            ``input_shape``).
        input_shape: ``(C, *spatial)`` without the batch dimension; symbols keep the count symbolic.
        convention: one of ``"torchvision"`` (default), ``"flop_counter"``, ``"fvcore"``, ``"thop"``,
            ``"ptflops"``, ``"ptflops_aten"``, ``"torchinfo"``; see :func:`conventions`.

    Returns:
        A SymPy integer expression, in the unit of the convention (FLOPs for ``"flop_counter"``, else MACs).

    Examples:
        >>> import symcnn as sc
        >>> up = sc.ConvTranspose2d(4, 8, 3, stride=2, padding=1, output_padding=1, bias=False)
        >>> sc.count(up, (4, 10, 10)), sc.count(up, (4, 10, 10), convention="thop")   # 10*10*4*8*9; 20*20*...
        (28800, 115200)
    """
    rules = _rules(convention)
    if isinstance(model, Analysis):
        if input_shape is not None:
            raise SymcnnError("count: give `input_shape` with a model, not with an Analysis (it has its own)")
        analysis = model
    else:
        if input_shape is None:
            raise SymcnnError("count: `input_shape` is required, e.g. (3, 224, 224) or (3, H, W)")
        analysis = analyze(model, input_shape)
    if analysis.batch != 1:
        raise SymcnnError(f"count: the analysis has batch={analysis.batch}; the conventions count one sample")
    return sympy.Add(*(rules.count_record(r) for r in analysis.layers))


def _rule_text(method) -> str:
    return " ".join(inspect.getdoc(method).split())


def conventions() -> list[Convention]:
    """Every counting convention, with the rule text of each layer kind (for the documentation).

    Examples:
        >>> import symcnn as sc
        >>> [c.name for c in sc.conventions()]
        ['torchvision', 'flop_counter', 'fvcore', 'thop', 'ptflops', 'ptflops_aten', 'torchinfo']
        >>> sc.conventions()[2].rules["BatchNorm1d, BatchNorm2d, BatchNorm3d"][:40]
        '`batchnorm_flop_jit`: in eval mode 2 per'
    """
    from . import layers

    kinds = [getattr(layers, n) for n in _layer_names]
    kinds = [k for k in kinds if isinstance(k, type) and issubclass(k, Layer) and k is not Layer]
    out = []
    for rules in _CONVENTIONS.values():
        groups: dict[str, list[str]] = {}
        refused = []
        for kind in kinds:
            method = rules._method(kind)
            if method is None:
                refused.append(kind.__name__)
            else:
                groups.setdefault(_rule_text(method), []).append(kind.__name__)
        out.append(Convention(
            name=rules.name, tool=rules.tool, version=rules.version, unit=rules.unit, summary=rules.summary,
            rules={", ".join(names): text for text, names in groups.items()}, refused=tuple(refused),
            calls=_rule_text(rules._called),
        ))
    return out
