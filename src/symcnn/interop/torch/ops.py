"""The operations ``from_torch`` reads from a torch.fx graph (``op_<kind>`` methods of the reader), one per
function or tensor method kind of :mod:`.tables`."""

from __future__ import annotations

import sympy

from ..._graph import Node
from ..._intmath import floordiv
from ...layers import activation as _act
from ...layers import pool as _pool
from ...layers._base import fmt
from ...layers.dense import Flatten
from ...layers.merge import Add, Concat, Mul, ScalarOp
from ...layers.permute import Permute
from ...layers.resize import Upsample
from .tables import _act_args, _bind, _seq
from .values import _BATCH, _Dim, _show, _show_index, _size_of, _Sizes, _Unsupported


class _Ops:
    """Mixin of :class:`~.importer._Reader`: one method per operation kind."""

    # --- operations ---------------------------------------------------------------------------------------
    def op_same(self, node, handler, args, kwargs):
        return self.tensor(args[0])

    def op_act(self, node, handler, args, kwargs):
        name = handler[1]
        keep = {k: v for k, v in kwargs.items() if k in _act_args(name)}
        if name in ("Softmax", "LogSoftmax") and len(args) > 1:
            keep["dim"] = args[1]
        layer = getattr(_act, name)(**keep)
        return self.apply(layer, (self.tensor(args[0]),), node.name)

    def _merge(self, node, args, kwargs, layer_cls, scalar_name):
        if _is_size_arith(args):
            return _size_arith(scalar_name, args)
        tensors = [a for a in args[:2] if isinstance(a, Node)]
        if len(tensors) == 2:
            if set(kwargs) - {"alpha"} or kwargs.get("alpha", 1) != 1:
                raise _Unsupported(f"arguments {sorted(kwargs)} are not supported")
            return self.apply(layer_cls(), tensors, node.name)
        if len(tensors) == 1 and all(isinstance(a, (int, float)) and not isinstance(a, bool)
                                     for a in args[:2] if a is not tensors[0]):
            value = next(a for a in args[:2] if a is not tensors[0])
            return self.apply(ScalarOp(scalar_name, value), tensors, node.name)
        raise _Unsupported(f"operands {_show(tuple(args))} are not two tensors or a tensor and a number")

    def op_add(self, node, handler, args, kwargs):
        return self._merge(node, args, kwargs, Add, "add")

    def op_mul(self, node, handler, args, kwargs):
        return self._merge(node, args, kwargs, Mul, "mul")

    def op_size_arith(self, node, handler, args, kwargs):
        """``-``, ``//`` on sizes read in forward (``x.size(2) // 2``), and ``x - c`` (a tensor and a number)."""
        if _is_size_arith(args) and not kwargs:
            return _size_arith(handler[1], args)
        if (handler[1] == "sub" and len(args) == 2 and isinstance(args[0], Node) and not kwargs
                and isinstance(args[1], (int, float)) and not isinstance(args[1], bool)):
            return self.apply(ScalarOp("add", -args[1]), (args[0],), node.name)  # x - c is x + (-c)
        raise _Unsupported(f"operands {_show(tuple(args))}; `{handler[1]}` is read on sizes (x.size(i), "
                           "x.shape[i]) and ints, and as tensor - number")

    def op_cat(self, node, handler, args, kwargs):
        b = _bind("cat", args, kwargs)
        tensors = [self.tensor(t) for t in b["tensors"]]
        if b["dim"] == 0:
            raise _Unsupported("concatenation along the batch dimension (dim=0)")
        if len(tensors) == 1:
            return tensors[0]
        return self.apply(Concat(b["dim"]), tensors, node.name)

    def op_flatten(self, node, handler, args, kwargs):
        b = _bind("flatten", args[1:], kwargs)
        return self.apply(Flatten(b["start_dim"], b["end_dim"]), (self.tensor(args[0]),), node.name)

    def op_size(self, node, handler, args, kwargs):
        sizes = _size_of(self.shape(self.tensor(args[0])))
        dim = args[1] if len(args) > 1 else kwargs.get("dim")
        return sizes if dim is None else _index(sizes, dim)

    def op_getattr(self, node, handler, args, kwargs):
        if len(args) == 2 and args[1] == "shape":
            return _size_of(self.shape(self.tensor(args[0])))
        raise _Unsupported(f"attribute {args[1]!r} of a tensor")

    def op_getitem(self, node, handler, args, kwargs):
        obj, index = args
        if isinstance(obj, (list, tuple)) and all(v is _BATCH or isinstance(v, (_Dim, int)) for v in obj):
            return _index(obj, index)
        what = "a tensor" if isinstance(obj, Node) else "a value that is not a size"
        raise _Unsupported(f"indexing or slicing {what} (`[{_show_index(index)}]` on {_show(obj)}); only sizes are "
                           "indexed (x.shape[i], x.size()[2:])")

    def op_view(self, node, handler, args, kwargs):
        x = self.tensor(args[0])
        sizes = args[1:] if "shape" not in kwargs else (kwargs["shape"],)
        if len(sizes) == 1 and isinstance(sizes[0], (list, tuple)):
            sizes = tuple(sizes[0])
        flat = Flatten()
        if len(sizes) == 2 and sizes[0] is _BATCH and sizes[1] == -1:
            return self.apply(flat, (x,), node.name)
        if len(sizes) == 2 and -1 in (sizes[0], sizes[1]) and isinstance(sizes[1 - sizes.index(-1)], int):
            k = sizes[1 - sizes.index(-1)]
            total = _prod(self.shape(x))
            if sympy.simplify(total - k) == 0:
                return self.apply(flat, (x,), node.name)
            raise _Unsupported(f"reshape to {_show(sizes)} keeps a batch of 1 only when {k} = {fmt(total)}, the "
                               "features per sample; write x.view(x.size(0), -1) or x.flatten(1)")
        if len(sizes) == 2 and sizes[0] is _BATCH and isinstance(sizes[1], _Dim):
            total = _prod(self.shape(x))
            if sympy.expand(total - sizes[1].value) == 0:
                return self.apply(flat, (x,), node.name)
        raise _Unsupported(f"reshape to {_show(sizes)}; only (batch, -1) forms (a flatten) are read")

    def op_mean(self, node, handler, args, kwargs):
        """``x.mean(spatial dims)``: global average pooling (``AdaptiveAvgPoolNd(1)``), flattened unless keepdim;
        a channels-last tensor ``(B, H, W, C).mean((1, 2))`` is permuted to ``(B, C, H, W)`` first (MambaOut)."""
        x = self.tensor(args[0])
        dims = args[1] if len(args) > 1 else kwargs.get("dim")
        keepdim = args[2] if len(args) > 2 else kwargs.get("keepdim", False)
        if set(kwargs) - {"dim", "keepdim"}:
            raise _Unsupported(f"arguments {sorted(kwargs)} are not supported")
        rank = len(self.shape(x)) + 1
        dims = dims if isinstance(dims, (list, tuple)) else (dims,)
        if not all(isinstance(d, int) for d in dims) or not 2 <= rank <= 5:
            raise _Unsupported(f"mean over `dim`={_show(dims)}; only the mean over all spatial axes is read")
        reduced = sorted(d % rank for d in dims)
        kept = [d for d in range(1, rank) if d not in reduced]
        if 0 in reduced or len(set(reduced)) != len(reduced) or len(kept) != 1 or not 1 <= len(reduced) <= 3:
            raise _Unsupported(f"mean over `dim`={_show(dims)} of a rank-{rank} tensor; read: the mean over every axis "
                               "but the batch and one other (global average pooling, channels first or last)")
        if kept != [1]:  # channels last, (B, H, W, C).mean((1, 2)): the channels first, then the same pooling
            x = self.apply(Permute([0, *kept, *reduced]), (x,), f"{node.name}.permute")
        pooled = self.apply(getattr(_pool, f"AdaptiveAvgPool{len(reduced)}d")(1), (x,), node.name)
        if keepdim and kept != [1]:  # back to where the channels were, between the kept size-1 axes
            order = [0, *reduced, *kept]
            return self.apply(Permute([order.index(d) for d in range(rank)]), (pooled,), f"{node.name}.permute_back")
        return pooled if keepdim else self.apply(Flatten(), (pooled,), f"{node.name}.flatten")

    def op_max_pool(self, node, handler, args, kwargs):
        b = _bind("max_pool", args[1:], kwargs)
        if b["return_indices"]:
            raise _Unsupported("`return_indices`=True")
        layer = getattr(_pool, f"MaxPool{handler[1]}d")(b["kernel_size"], b["stride"] or None, b["padding"],
                                                         b["dilation"], False, b["ceil_mode"])
        return self.apply(layer, (self.tensor(args[0]),), node.name)

    def op_avg_pool(self, node, handler, args, kwargs):
        b = _bind("avg_pool", args[1:], kwargs)
        layer = getattr(_pool, f"AvgPool{handler[1]}d")(b["kernel_size"], b["stride"] or None, b["padding"],
                                                         b["ceil_mode"], b["count_include_pad"],
                                                         b["divisor_override"])
        return self.apply(layer, (self.tensor(args[0]),), node.name)

    def op_adaptive(self, node, handler, args, kwargs):
        b = _bind("adaptive", args[1:], kwargs)
        if b["return_indices"]:
            raise _Unsupported("`return_indices`=True")
        layer = getattr(_pool, f"Adaptive{handler[1]}Pool{handler[2]}d")(_seq(b["output_size"]))
        return self.apply(layer, (self.tensor(args[0]),), node.name)

    def op_interpolate(self, node, handler, args, kwargs):
        b = _bind("interpolate", args[1:], kwargs)
        if b["antialias"] or b["recompute_scale_factor"]:
            raise _Unsupported("`antialias`/`recompute_scale_factor` change the formula; not read")
        for key in ("size", "scale_factor"):
            values = b[key] if isinstance(b[key], (list, tuple)) else (b[key],)
            ok = (int, float, type(None), _Dim) if key == "size" else (int, float, type(None))
            if any(not isinstance(v, ok) or isinstance(v, bool) for v in values):
                raise _Unsupported(f"`{key}`={_show(b[key])} is computed in forward; only constants and sizes read "
                                   "from tensors (other.shape[-2:]) are read")
        size = b["size"]
        if size is not None:
            size = tuple(v.value if isinstance(v, _Dim) else v for v in (size if isinstance(size, (list, tuple))
                                                                         else (size,)))
        layer = Upsample(size, _seq(b["scale_factor"]), b["mode"], b["align_corners"])
        return self.apply(layer, (self.tensor(args[0]),), node.name)

    def op_same_pad(self, node, handler, args, kwargs):
        """timm's ``pad_same(x, kernel_size, stride, dilation=(1, 1), value=0)``: :class:`~symcnn.SamePad2d`."""
        from ...layers.same_pad import SamePad2d

        b = _bind("same_pad", args[1:], kwargs)
        x = self.tensor(args[0])
        if len(self.shape(x)) != 3:
            raise _Unsupported(f"pad_same of a tensor of shape {fmt(self.shape(x))}; read on (batch, C, H, W)")
        layer = SamePad2d(_seq(b["kernel_size"]), _seq(b["stride"]), _seq(b["dilation"]), b["value"])
        return self.apply(layer, (x,), node.name)

    def op_pad(self, node, handler, args, kwargs):
        from ...layers import resize

        b = _bind("pad", args[1:], kwargs)
        x = self.tensor(args[0])
        pad = tuple(b["pad"])
        kinds = {"constant": "ConstantPad", "reflect": "ReflectionPad", "replicate": "ReplicationPad"}
        if b["mode"] not in kinds or len(pad) % 2 or not all(isinstance(p, int) for p in pad):
            raise _Unsupported(f"`pad`={_show(pad)} with `mode`={b['mode']!r}; constant/reflect/replicate with int "
                               "pads are read")
        n = len(self.shape(x)) - 1
        if not 1 <= len(pad) // 2 <= min(n, 3):
            raise _Unsupported(f"`pad`={_show(pad)} does not fit {n} spatial axes")
        pad = pad + (0, 0) * (n - len(pad) // 2)
        cls = getattr(resize, f"{kinds[b['mode']]}{n}d")
        layer = cls(pad, b["value"] or 0) if b["mode"] == "constant" else cls(pad)
        return self.apply(layer, (x,), node.name)


def _prod(values):
    out = sympy.Integer(1)
    for v in values:
        out *= v
    return out


def _index(sizes, index):
    """``sizes[index]`` as PyTorch indexes a ``torch.Size`` (a slice gives sizes again)."""
    try:
        out = sizes[index]
    except (IndexError, TypeError):
        raise _Unsupported(f"index {_show(index)} of {_show(sizes)}") from None
    return _Sizes(out) if isinstance(index, slice) else out


def _is_size_arith(args) -> bool:
    return (len(args) == 2 and all(isinstance(a, (_Dim, int)) and not isinstance(a, bool) for a in args)
            and any(isinstance(a, _Dim) for a in args))


def _size_arith(op: str, args) -> _Dim:
    a, b = (v.value if isinstance(v, _Dim) else sympy.Integer(v) for v in args)
    if op == "add":
        return _Dim(a + b)
    if op == "sub":
        return _Dim(a - b)
    if op == "mul":
        return _Dim(a * b)
    if op == "floordiv" and b.is_positive:
        return _Dim(floordiv(a, b))
    raise _Unsupported(f"`{op}` of the sizes {_show(tuple(args))}")
