"""How each counting tool counts a layer that was not called as an exact ``torch.nn`` module.

:func:`symcnn.from_torch` records on every layer it makes how the model called it (a private
``_torch_call``): ``("module", class)`` for an exact ``torch.nn`` class, ``("subclass", class)`` for a
subclass of one that keeps its ``forward`` (torchvision's ``Conv3DSimple`` is an ``nn.Conv3d``), or
``("function", name)`` for a function or tensor method (``"torch.nn.functional.relu"``, ``"Tensor.mean"``,
``"operator.add"``). Layers built directly in symcnn carry nothing and count as modules. The tools that work
on operators (``torch.utils.flop_counter``, ptflops' aten backend, fvcore's traced graph) see the same
operators either way; the tools that hook modules by exact type (thop, ptflops' default backend, torchinfo)
do not:

* thop counts nothing but the modules of its table (exact types): a function call or a subclass is 0;
* ptflops hooks the exact types of ``MODULES_MAPPING`` and patches some functions of ``torch.nn.functional``
  and ``torch.add``/``torch.mul`` (and the ``Tensor`` methods ``add``/``mul``): a patched function called
  directly counts once, a subclass counts only the patched function its inherited ``forward`` calls;
* torchinfo counts the leaf modules it sees from their parameters: a function call is 0, a subclass counts
  by its own class name (``"Conv"`` in the name: per output position), and so does a leaf module traced into
  (``from_torch`` stamps what it returns with a private ``_torch_leaf``: class name and parameter counts).

The base of every rule table of :mod:`symcnn.counting` is :class:`_ByOperator`: its ``count_record`` sends
a layer with such a record to ``_called(rec, form, name)``, and every other layer to the table's rule for
the module (``_module_rule``). The mixins below give thop, ptflops, torchinfo and fvcore their own
``_called``; each method's docstring is the rule text shown on the counting page.
"""

from __future__ import annotations

import sympy

from .layers._base import prod

__all__: list[str] = []

_F = "torch.nn.functional."

#: ptflops 0.7.5 ``patch_functional``: the functions of ``torch.nn.functional`` it replaces by counting
#: wrappers, each counting the elements of its input (``interpolate``/``upsample``: their own rule)
_PTFLOPS_PATCHED = frozenset(
    [f"{_F}{n}" for n in ("relu", "prelu", "elu", "relu6", "gelu", "silu", "softmax", "upsample", "interpolate")]
    + [f"{_F}{kind}_pool{d}d" for kind in ("avg", "max", "adaptive_avg", "adaptive_max") for d in (1, 2, 3)])
#: ptflops 0.7.5 ``patch_tensor_ops`` (element-wise ones): counted as the elements of the broadcast result
_PTFLOPS_TENSOR_OPS = frozenset({"torch.add", "Tensor.add", "torch.mul", "Tensor.mul"})
#: the function each ``torch.nn`` class's ``forward`` calls, where ptflops patches it (a subclass keeping the
#: ``forward`` still calls it; every other class calls an unpatched function such as ``conv2d`` or ``hardtanh``)
_PTFLOPS_FORWARD = {
    "ReLU": "relu", "PReLU": "prelu", "ELU": "elu", "GELU": "gelu", "SiLU": "silu", "Softmax": "softmax",
    "Upsample": "interpolate", "UpsamplingNearest2d": "interpolate", "UpsamplingBilinear2d": "interpolate",
    **{f"{k}Pool{d}d": f"{v}_pool{d}d" for k, v in (("Avg", "avg"), ("Max", "max"), ("AdaptiveAvg", "adaptive_avg"),
                                                      ("AdaptiveMax", "adaptive_max")) for d in (1, 2, 3)},
}


class _ByOperator:
    """Tools that count operators (dispatch or traced graph): a call counts as the module would."""

    def count_record(self, rec) -> sympy.Expr:
        """What the tool counts for one layer call of an analysis."""
        call = getattr(rec.layer, "_torch_call", None)
        if call is not None and call[0] != "module":
            return sympy.sympify(self._called(rec, *call))
        return self._module_rule(rec)

    def _called(self, rec, form: str, name: str):
        """as the module: the tool counts operators, which are the same whichever way the layer is called."""
        return self._module_rule(rec)


class _FvcoreCalls:
    def _called(self, rec, form: str, name: str):
        """as the module (fvcore counts the operators of the traced graph), except ``x.mean(dims)`` and
        ``torch.mean``: they run as `aten::mean`, which fvcore does not count (a global average pooling written
        so is 0, while `F.adaptive_avg_pool2d` counts its input elements as the module does). A norm function
        applied to a weight in forward (timm's `StdConv2d` / `ScaledStdConv2d` weight standardisation,
        `F.batch_norm(w, training=True)`) is traced too: 4 per weight element, 5 with the gain as affine weight
        (`from_torch` records it as `WeightNorms`); no other tool counts it."""
        if name in ("Tensor.mean", "torch.mean"):
            return 0
        return self._module_rule(rec)


class _ThopCalls:
    def _called(self, rec, form: str, name: str):
        """0: thop counts only modules whose exact type is in its table; functions and tensor methods
        (`F.relu`, `F.adaptive_avg_pool2d`, `x.mean`, `torch.flatten`) and subclasses of known modules
        (torchvision's `Conv3DSimple`, an `nn.Conv3d`) are not seen."""
        return 0


class _PtflopsCalls:
    def _called(self, rec, form: str, name: str):
        """a patched function called directly counts once: `F.relu`, `F.relu6`, `F.prelu`, `F.elu`, `F.gelu`,
        `F.silu`, `F.softmax` and every pooling function (`F.max_pool2d`, `F.adaptive_avg_pool2d`, ...) 1 per
        *input* element, `F.interpolate` as the module's functional part; `torch.add`/`torch.mul` and the
        methods `x.add(y)`/`x.mul(y)` 1 per output element. Anything else (`x + y`, `torch.relu`, `x.mean`,
        `torch.flatten`, `torch.cat`, `F.hardswish`) counts 0. A subclass of a hooked module (not its exact type)
        loses the hook and counts only the patched function its inherited `forward` calls (a `Conv3d`
        subclass: 0)."""
        if form == "subclass":
            inner = _PTFLOPS_FORWARD.get(rec.layer.kind)
            name = _F + inner if inner else ""
        if name in (f"{_F}interpolate", f"{_F}upsample"):
            return self._interpolate(rec)
        if name in _PTFLOPS_PATCHED:
            return prod(rec.input_shapes[0])
        if name in _PTFLOPS_TENSOR_OPS:
            return prod(rec.output_shape)
        return 0


class _TorchinfoCalls:
    def _called(self, rec, form: str, name: str):
        """a function call is 0 (torchinfo sees modules only), except the one whose result a leaf module traced
        into returns (timm's `StdConv2d` / `ScaledStdConv2d`, `nn.Conv2d` subclasses with their own `forward`:
        their `F.conv2d`): torchinfo hooks that module and counts it by its class name from its parameters named
        `weight` and `bias` (times the output positions when the name contains "Conv", else once; a `gain` is not
        counted) and those whose name contains "weight" or "bias" (times the output channels). A subclass of a
        known module is a leaf module of that class name: its parameters times the output positions when the
        name contains "Conv", else its parameters once."""
        if form != "subclass":
            leaf = getattr(rec.layer, "_torch_leaf", None)
            if leaf is None:
                return 0
            cls, exact, named = leaf
            return (exact * (prod(rec.output_shape[1:]) if "Conv" in cls else sympy.Integer(1))
                    + named * (rec.output_shape[0] if rec.output_shape else 1))
        params = rec.layer.infer(*rec.input_shapes).params if rec.shared else rec.params
        return params * (prod(rec.output_shape[1:]) if "Conv" in name.rpartition(".")[2] else sympy.Integer(1))
