"""How ``from_torch`` reads a module call: which modules are leaves (known classes, their subclasses, custom
formulas), how the call's arguments bind to the module's ``forward``, and the keywords it honours
(``ConvTranspose*d(x, output_size=...)``); any other keyword is refused, never dropped."""

from __future__ import annotations

import copy
import inspect

import sympy

from ..._intmath import decide
from ...layers._base import fmt
from .tables import _named_class, _named_subclass
from .values import _UNKNOWN, _Dim, _show, _Skip, _Unsupported


class _ModuleCalls:
    """Mixin of :class:`~.importer._Reader`: the ``call_module`` nodes."""

    # --- which modules are leaves ------------------------------------------------------------------------
    def custom_for(self, module, path: str):
        for key in (path, type(module), type(module).__name__):
            if key in self.custom:
                return self.custom[key]
        return None

    def known_class(self, module):
        """The class of :func:`~.tables._module_table` that reads ``module``: its own class, or the nearest known
        base class when the subclass keeps the base's ``forward`` (torchvision's ``Conv3DSimple`` is a Conv3d).
        ``None`` when unknown or when the subclass overrides ``forward`` (then it is traced into, and said so)."""
        cls = type(module)
        if cls in self.table:
            return cls
        named = _named_class(cls)
        if named is not None:  # torchvision's / timm's classes known by name (tables._NAMED)
            self.table = {**self.table, cls: named}
            return cls
        for base in cls.__mro__[1:]:
            if base in self.table:
                if getattr(cls, "forward", None) is getattr(base, "forward", None):
                    return base
                self.overridden[cls] = base
                return None
        return None

    def is_leaf(self, module, path: str) -> bool:
        return (self.custom_for(module, path) is not None or self.known_class(module) is not None
                or (isinstance(module, self.own) and hasattr(module, "symcnn_layer")))

    def layer_for(self, module, path: str):
        """The symcnn layer of a module (one per module, so a module called twice is counted once)."""
        layer = self.layers.get(id(module))
        if layer is None:
            spec = self.custom_for(module, path)
            if spec is not None:
                layer = copy.deepcopy(spec)  # one layer per module: a type-keyed entry must not share parameters
            elif isinstance(module, self.own) and hasattr(module, "symcnn_layer"):
                layer = module.symcnn_layer
            elif self.known_class(module) is not None:
                layer = self.table[self.known_class(module)](module)
            else:
                raise _Unsupported("no symcnn formulas for this module type; give them with "
                                   f"custom={{'{path}': symcnn.Opaque(...)}}")
            self.layers[id(module)] = layer
            self.modules[id(layer)] = path
        return layer

    # --- the call ----------------------------------------------------------------------------------------
    def call_module(self, node):
        module = self.root.get_submodule(node.target)
        layer = self.layer_for(module, node.target)
        known, kind = self.known_class(module), type(module)
        self.call = None if known is None or self.custom_for(module, node.target) is not None else (
            "module" if known is kind and not _named_subclass(kind) else "subclass",
            f"{kind.__module__}.{kind.__qualname__}")
        args, kwargs = self.value(node.args), self.value(node.kwargs)
        if _has_unknown(args) or _has_unknown(kwargs):
            raise _Skip
        tensors, extra = _bind_forward(module, args, kwargs)
        if known is not None and known.__name__.startswith("ConvTranspose") and "output_size" in extra:
            layer = self.with_output_size(module, layer, self.tensor(tensors[0]), extra.pop("output_size"))
        if extra:
            name, value = next(iter(extra.items()))
            raise _Unsupported(f"argument `{name}`={_show(value)} of {type(module).__name__}.forward is not read by "
                               "from_torch (it may change the result); call the module without it, or give its "
                               f"formulas with custom={{'{node.target}': symcnn.Opaque(...)}}")
        return self.apply(layer, tuple(self.tensor(t) for t in tensors), node.target)

    def with_output_size(self, module, layer, x, output_size):
        """``ConvTranspose*d.forward(x, output_size)``: the size selects ``output_padding`` (PyTorch's
        ``_output_padding``: ``output_size - ((W - 1)*S - 2*P + D*(F - 1) + 1)``, between 0 and ``S - 1``)."""
        n = layer._dims
        sizes = output_size if isinstance(output_size, (list, tuple)) else (output_size,)
        if len(sizes) == n + 2:
            sizes = sizes[2:]
        if len(sizes) != n or not all(isinstance(v, (int, _Dim)) and not isinstance(v, bool) for v in sizes):
            raise _Unsupported(f"`output_size`={_show(output_size)} must give {n} or {n + 2} sizes (ints or sizes "
                               "read from a tensor)")
        spatial = self.shape(x)[1:]
        pads = []
        for i, (v, w, k, s, d, (p, _)) in enumerate(zip(sizes, spatial, layer.kernel_size, layer.stride,
                                                      layer.dilation, layer.padding, strict=True)):
            want = v.value if isinstance(v, _Dim) else sympy.Integer(v)
            smallest = (w - 1) * s - 2 * p + d * (k - 1) + 1
            pad = sympy.expand(want - smallest)
            if decide(sympy.Ge(pad, 0)) is False or decide(sympy.Le(pad, s - 1)) is False:
                raise _Unsupported(f"`output_size`={_show(output_size)}: size {fmt(want)} of spatial axis {i} is "
                                   f"outside {fmt(smallest)} .. {fmt(smallest + s - 1)}, the sizes this "
                                   f"{type(module).__name__} gives for input size {fmt(w)} (PyTorch refuses it)")
            pads.append(pad)
        converted = self.table[self.known_class(module)]
        made = converted(module, output_padding=tuple(pads))
        self.modules[id(made)] = self.modules.get(id(layer), "")
        return made


def _has_unknown(value) -> bool:
    if value is _UNKNOWN:
        return True
    if isinstance(value, (list, tuple)):
        return any(_has_unknown(v) for v in value)
    if isinstance(value, dict):
        return any(_has_unknown(v) for v in value.values())
    return False


def _bind_forward(module, args, kwargs):
    """The tensor inputs (the first parameter of ``forward``, or all of ``*inputs``) and the other arguments
    given with a value other than their default."""
    try:
        sig = inspect.signature(module.forward)
    except (TypeError, ValueError):  # a builtin forward: read positionally
        return list(args), dict(kwargs)
    try:
        bound = sig.bind(*args, **kwargs)
    except TypeError as e:
        raise _Unsupported(f"the call does not match {type(module).__name__}.forward{sig}: {e}") from None
    params = list(sig.parameters.values())
    tensors, extra = [], {}
    for name, value in bound.arguments.items():
        p = sig.parameters[name]
        if p.kind is p.VAR_POSITIONAL:
            tensors.extend(value)
        elif p is params[0]:
            tensors.append(value)
        elif p.kind is p.VAR_KEYWORD:
            extra.update(value)
        elif value is not p.default:
            extra[name] = value
    if not tensors:
        raise _Unsupported(f"{type(module).__name__} is called without an input tensor")
    return tensors, extra
