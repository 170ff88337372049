"""Parameters used functionally: ``self.weight`` read in ``forward`` (an fx ``get_attr``) and the operations
that consume it, as a real library writes them (timm's ``BatchNormAct2d``, ``StdConv2d``, layer scale, a
learnable affine block; ConvNeXt's ``permute`` + ``F.layer_norm`` + ``permute``).

A parameter or buffer read in ``forward`` becomes a :class:`_Param`: its shape (numbers), the parameters it is
computed from (``sources``, by path) and whether it is a parameter. Operations on parameters alone (``reshape``,
``view``, ``gain * scale``, the weight standardisation ``F.batch_norm(w.reshape(1, O, -1), None, None,
training=True)``) give another :class:`_Param`, shape found by running the operation on meta tensors; they cost
nothing per input position (``FlopCounterMode`` counts none of them). Operations of a tensor with parameters
become symcnn layers: ``F.batch_norm`` / ``F.layer_norm`` / ``F.group_norm`` the norm layers, ``F.conv1d/2d/3d``
and ``torch.conv*`` a convolution, ``F.linear`` a ``Linear``, ``x * w`` / ``x + b`` ``LearnedScale`` /
``LearnedShift``.

Counting: a layer's formula counts the parameter its weight is made from (for a computed weight, the source with
the same number of elements); the reader records it (``counted``) so that a parameter read by two layers is
counted once, and the other parameters read (a standardisation's ``gain``) as ``read`` (counted once, outside any
layer, see :mod:`.unused`). A buffer a layer takes as its weight (a fixed blur filter) is no parameter: the
reader records it (``_buffer_weights``) and the total leaves it out.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..._errors import SymcnnError
from ..._graph import Node
from ...layers import norm as _norm
from ...layers._base import Layer, prod
from ...layers.activation import StochasticDepth
from ...layers.conv import Conv1d, Conv2d, Conv3d
from ...layers.dense import Linear
from ...layers.permute import Permute
from ...layers.scale import LearnedScale, LearnedShift
from .custom_modules import _import_torch
from .values import _show, _Unsupported


@dataclass(frozen=True)
class _Param:
    """A parameter or buffer read in ``forward``, or a tensor computed from parameters only."""

    shape: tuple[int, ...]
    sources: tuple[str, ...]  # paths of the parameters and buffers it is computed from, in reading order
    parameter: bool  # computed from at least one parameter (else from buffers or constants only)

    def __repr__(self) -> str:
        return f"<tensor of shape {list(self.shape)} computed from {', '.join(self.sources) or 'constants'}>"


def _params_in(value) -> list[_Param]:
    if isinstance(value, _Param):
        return [value]
    if isinstance(value, (list, tuple)):
        return [p for v in value for p in _params_in(v)]
    if isinstance(value, dict):
        return [p for v in value.values() for p in _params_in(v)]
    return []


def _has_node(value) -> bool:
    if isinstance(value, Node):
        return True
    if isinstance(value, (list, tuple)):
        return any(_has_node(v) for v in value)
    if isinstance(value, dict):
        return any(_has_node(v) for v in value.values())
    return False


def _bind(names, args, kwargs, what: str) -> dict:
    out = dict(names)
    if len(args) > len(names):
        raise _Unsupported(f"{len(args)} positional arguments to {what}; expected at most {len(names)}")
    out.update(zip([n for n, _ in names], args, strict=False))
    for k, v in kwargs.items():
        if k not in out:
            raise _Unsupported(f"argument `{k}` of {what} is not read")
        out[k] = v
    return out


_REQUIRED = object()
_BATCH_NORM = (("input", _REQUIRED), ("running_mean", None), ("running_var", None), ("weight", None),
               ("bias", None), ("training", False), ("momentum", 0.1), ("eps", 1e-5))
_LAYER_NORM = (("input", _REQUIRED), ("normalized_shape", _REQUIRED), ("weight", None), ("bias", None),
               ("eps", 1e-5))
_GROUP_NORM = (("input", _REQUIRED), ("num_groups", _REQUIRED), ("weight", None), ("bias", None), ("eps", 1e-5))
_CONV = (("input", _REQUIRED), ("weight", _REQUIRED), ("bias", None), ("stride", 1), ("padding", 0),
         ("dilation", 1), ("groups", 1))
_LINEAR = (("input", _REQUIRED), ("weight", _REQUIRED), ("bias", None))
_STOCHASTIC_DEPTH = (("input", _REQUIRED), ("p", _REQUIRED), ("mode", _REQUIRED), ("training", True))


def _owner_batch_norm(node):
    """The symcnn BatchNorm class of the ``nn.BatchNorm1d/2d/3d`` subclass whose forward made ``node``, or None."""
    stack = node.meta.get("nn_module_stack") or {}
    if not stack:
        return None
    kind = list(stack.values())[-1][1]
    nn = _import_torch().nn
    for n in (1, 2, 3):
        if isinstance(kind, type) and issubclass(kind, getattr(nn, f"BatchNorm{n}d")):
            return getattr(_norm, f"BatchNorm{n}d")
    return None


class _ParamOps:
    """Mixin of :class:`~.importer._Reader`: parameters read in ``forward`` and the operations on them."""

    # --- bookkeeping -------------------------------------------------------------------------------------
    def _param_books(self):
        if not hasattr(self, "_counted"):
            self._counted: list[str] = []  # one entry per layer whose formula counts the parameter
            self._read: list[str] = []  # parameters read in forward (all of them)
            self._shapes: dict[int, tuple] = {}
            self._buffer_weights: dict[str, int] = {}  # buffers layers count as weights: their elements
            self._weight_norms: list[tuple] = []  # norm functions on parameters (see unused.WeightNorms)
        return self

    def cached_shape(self, node) -> tuple:
        """The shape of ``node`` (batch excluded) from its layer and its inputs' shapes, each computed once."""
        self._param_books()
        if node is self.input:
            return tuple(self.input_shape)
        known = self._shapes.get(id(node))
        if known is not None:
            return known[1]
        stack = [node]
        while stack:  # iterative: a deep network must not reach Python's recursion limit
            top = stack[-1]
            todo = [i for i in top.inputs if i is not self.input and id(i) not in self._shapes]
            if todo:
                stack.extend(todo)
                continue
            stack.pop()
            if id(top) in self._shapes:
                continue
            if isinstance(top.module, Layer):
                shapes = [tuple(self.input_shape) if i is self.input else self._shapes[id(i)][1] for i in top.inputs]
                shape = tuple(top.module.infer(*shapes).output_shape)
            else:
                from ..._analysis import analyze
                from ..._graph import Graph

                shape = tuple(analyze(Graph(self.input, top), self.input_shape).output_shape)
            self._shapes[id(top)] = (top, shape)  # the node kept alive: its id stays its own
        return self._shapes[id(node)][1]

    def count_params(self, layer_value, *params):
        """Record the parameters the layer just built counts (one source each) and those it only reads."""
        self._param_books()
        for p in params:
            if p is None:
                continue
            primary = self.primary(p)
            if primary is not None:
                self._counted.append(primary)
            elif not p.parameter:  # a buffer (or a constant) as the weight: the layer's formula counts it
                name = ", ".join(p.sources) or "a constant"
                self._buffer_weights[name] = self._buffer_weights.get(name, 0) + int(prod(p.shape))
        return layer_value

    def primary(self, p: _Param):
        """The parameter a layer's formula counts for ``p``: the source with as many elements as ``p``."""
        named = self._named_parameters()
        size = prod(p.shape)
        for name in p.sources:
            t = named.get(name)
            if t is not None and t.numel() == size:
                return name
        if any(name in named for name in p.sources):
            raise _Unsupported(f"{p!r}: no parameter it is computed from has its {size} elements; the layer's "
                               "parameter count would not be the model's")
        return None

    def _named_parameters(self) -> dict:
        named = getattr(self, "_named", None)
        if named is None:
            named = dict(self.root.named_parameters(remove_duplicate=False))
            self._named = named
        return named

    # --- reading -----------------------------------------------------------------------------------------
    def read_attr(self, node):
        """An fx ``get_attr``: a parameter, a buffer or a tensor constant of the model."""
        torch = _import_torch()
        obj = self.root
        for part in str(node.target).split("."):
            obj = getattr(obj, part, None)
        if not isinstance(obj, torch.Tensor):
            raise _Unsupported(f"attribute '{node.target}' is a {type(obj).__name__}, not a tensor")
        is_param = isinstance(obj, torch.nn.Parameter)
        self._param_books()
        if is_param:
            self._read.append(str(node.target))
        return _Param(tuple(int(v) for v in obj.shape), (str(node.target),), is_param)

    def on_params(self, node, args, kwargs):
        """An operation on parameters only: a parameter again (its shape from meta tensors)."""
        torch = _import_torch()
        params = _params_in((args, kwargs))

        def meta(v):
            if isinstance(v, _Param):
                return torch.empty(v.shape, device="meta")
            if isinstance(v, (list, tuple)) and not isinstance(v, torch.Size):
                return type(v)(meta(x) for x in v)
            if isinstance(v, dict):
                return {k: meta(x) for k, x in v.items()}
            if type(v).__module__.startswith("symcnn"):
                raise _Unsupported(f"operand {_show(v)} of an operation on parameters is not a number")
            return v

        try:
            m_args, m_kwargs = meta(args), meta(kwargs)
            if node.op == "call_method":
                out = getattr(m_args[0], node.target)(*m_args[1:], **m_kwargs)
            else:
                out = node.target(*m_args, **m_kwargs)
        except _Unsupported:
            raise
        except Exception as e:  # noqa: BLE001 - PyTorch refuses the operation: say so
            raise _Unsupported(f"PyTorch refuses it on the parameters' shapes: {type(e).__name__}: {e}") from None
        if isinstance(out, torch.Size):
            return tuple(int(v) for v in out)
        if not isinstance(out, torch.Tensor):
            if isinstance(out, (int, float, bool)):
                return out
            raise _Unsupported(f"an operation on parameters gives a {type(out).__name__}")
        sources = tuple(dict.fromkeys(s for p in params for s in p.sources))
        self._record_weight_norm(node, args, kwargs, out)
        return _Param(tuple(int(v) for v in out.shape), sources, any(p.parameter for p in params))

    def _record_weight_norm(self, node, args, kwargs, out) -> None:
        """A norm function on parameters (a weight standardisation): recorded for the counting conventions."""
        name = self.call[1] if self.call else ""
        kind = name.rpartition(".")[2]
        table = {"batch_norm": _BATCH_NORM, "layer_norm": _LAYER_NORM, "group_norm": _GROUP_NORM}
        if not name.startswith(("torch.nn.functional.", "torch.")) or kind not in table:
            return
        b = _bind(table[kind], args, kwargs, kind)
        stack = node.meta.get("nn_module_stack") or {}
        path = list(stack.values())[-1][0] if stack else node.name
        self._param_books()
        self._weight_norms.append((path, kind, prod(out.shape), b["weight"] is not None,
                                   kind != "batch_norm" or bool(b["training"])))

    # --- layers ------------------------------------------------------------------------------------------
    def _affine(self, b, what: str):
        w, bias = b["weight"], b["bias"]
        for name, v in (("weight", w), ("bias", bias)):
            if v is not None and not isinstance(v, _Param):
                raise _Unsupported(f"`{name}`={_show(v)} of {what} is not a parameter of the model")
        return w, bias

    def op_batch_norm(self, node, handler, args, kwargs):
        b = _bind(_BATCH_NORM, args, kwargs, "batch_norm")
        x = self.tensor(b["input"])
        w, bias = self._affine(b, "batch_norm")
        mean, var = b["running_mean"], b["running_var"]
        if (mean is None) != (var is None) or (w is None and bias is not None):
            raise _Unsupported("a running mean without a variance, or a bias without a weight, is not read")
        sized = next((p for p in (w, bias, mean, var) if p is not None), None)
        cls = _owner_batch_norm(node)  # timm's BatchNormAct2d is a BatchNorm2d: no shape to compute
        if cls is None or sized is None:
            shape = self.cached_shape(x)
            if not 1 <= len(shape) <= 4:
                raise _Unsupported(f"batch_norm of a rank-{len(shape) + 1} tensor")
            cls = {1: _norm.BatchNorm1d, 2: _norm.BatchNorm1d, 3: _norm.BatchNorm2d, 4: _norm.BatchNorm3d}[len(shape)]
        c = prod(sized.shape) if sized is not None else self.cached_shape(x)[0]
        eps, momentum = b["eps"], b["momentum"]
        layer = cls(c, eps, momentum if momentum is not None else 0.1, affine=w is not None,
                    track_running_stats=mean is not None, bias=bias is not None or w is None)
        return self.count_params(self.apply(layer, (x,), node.name), w, bias)

    def op_layer_norm(self, node, handler, args, kwargs):
        b = _bind(_LAYER_NORM, args, kwargs, "layer_norm")
        x = self.tensor(b["input"])
        w, bias = self._affine(b, "layer_norm")
        if w is None and bias is not None:
            raise _Unsupported("a bias without a weight is not read")
        shape = b["normalized_shape"]
        shape = list(shape) if isinstance(shape, (list, tuple)) else [shape]
        layer = _norm.LayerNorm(shape, b["eps"], elementwise_affine=w is not None, bias=bias is not None or w is None)
        return self.count_params(self.apply(layer, (x,), node.name), w, bias)

    def op_group_norm(self, node, handler, args, kwargs):
        b = _bind(_GROUP_NORM, args, kwargs, "group_norm")
        x = self.tensor(b["input"])
        w, bias = self._affine(b, "group_norm")
        if (w is None) != (bias is None):
            raise _Unsupported("group_norm with a weight but no bias (or the reverse) has no nn.GroupNorm form")
        c = prod(w.shape) if w is not None else self.cached_shape(x)[0]
        layer = _norm.GroupNorm(b["num_groups"], c, b["eps"], affine=w is not None)
        return self.count_params(self.apply(layer, (x,), node.name), w, bias)

    def op_conv(self, node, handler, args, kwargs):
        b = _bind(_CONV, args, kwargs, f"conv{handler[1]}d")
        x = self.tensor(b["input"])
        w, bias = self._affine(b, f"conv{handler[1]}d")
        n = handler[1]
        if w is None or len(w.shape) != n + 2:
            raise _Unsupported(f"`weight`={_show(w)} of conv{n}d must be a parameter of rank {n + 2}")
        groups = b["groups"]
        if isinstance(groups, bool) or not isinstance(groups, int):
            raise _Unsupported(f"`groups`={_show(groups)} must be an int")
        padding = b["padding"]
        padding = padding if isinstance(padding, str) else (tuple(padding) if isinstance(padding, (list, tuple))
                                                             else padding)
        seq = lambda v: tuple(v) if isinstance(v, (list, tuple)) else v  # noqa: E731
        cls = {1: Conv1d, 2: Conv2d, 3: Conv3d}[n]
        layer = cls(w.shape[1] * groups, w.shape[0], tuple(w.shape[2:]), seq(b["stride"]), padding, seq(b["dilation"]),
                    groups, bias is not None)
        return self.count_params(self.apply(layer, (x,), node.name), w, bias)

    def op_linear(self, node, handler, args, kwargs):
        b = _bind(_LINEAR, args, kwargs, "linear")
        x = self.tensor(b["input"])
        w, bias = self._affine(b, "linear")
        if w is None or len(w.shape) != 2:
            raise _Unsupported(f"`weight`={_show(w)} of linear must be a parameter of rank 2")
        layer = Linear(w.shape[1], w.shape[0], bias is not None)
        return self.count_params(self.apply(layer, (x,), node.name), w, bias)

    def param_merge(self, node, args, kwargs, op: str):
        """``x * w`` / ``x + b`` (either order, ``torch.mul``, ``x.mul(w)``): a learned scale or shift."""
        tensors = [a for a in args[:2] if isinstance(a, Node)]
        params = [a for a in args[:2] if isinstance(a, _Param)]
        if len(args) != 2 or len(tensors) != 1 or len(params) != 1 or kwargs:
            raise _Unsupported(f"operands {_show(tuple(args))}; a tensor and one parameter are read")
        p = params[0]
        if not p.parameter:
            raise _Unsupported(f"{p!r} is a buffer or a constant, not a learned parameter")
        layer = (LearnedScale if op == "mul" else LearnedShift)(p.shape)
        return self.count_params(self.apply(layer, (tensors[0],), node.name), p)

    def op_permute(self, node, handler, args, kwargs):
        x = self.tensor(args[0])
        dims = kwargs.get("dims", args[1:] if len(args) > 2 or not args[1:] else args[1])
        if set(kwargs) - {"dims"}:
            raise _Unsupported(f"arguments {sorted(kwargs)} are not read")
        dims = list(dims) if isinstance(dims, (list, tuple)) else [dims]
        try:
            layer = Permute(dims)
        except SymcnnError as e:
            raise _Unsupported(str(e)) from None
        return self.apply(layer, (x,), node.name)

    def op_stochastic_depth(self, node, handler, args, kwargs):
        b = _bind(_STOCHASTIC_DEPTH, args, kwargs, "stochastic_depth")
        x = self.tensor(b["input"])
        if b["training"] is not False and b["p"] != 0:
            raise _Unsupported("stochastic depth in training mode (training=True) drops branches at random; "
                               "read the model in eval mode (model.eval())")
        return self.apply(StochasticDepth(b["p"], b["mode"]), (x,), node.name)
