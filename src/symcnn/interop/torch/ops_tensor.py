"""Tensor-shape operations ``from_torch`` reads (``op_<kind>`` methods of the reader): slicing ``x[:, a:b]``,
``chunk``/``split`` (one :class:`~symcnn.Narrow` per piece), channel selection ``x[:, i]`` followed by
``unsqueeze(1)``, the ShuffleNet channel shuffle (``view`` to ``(B, g, C // g, *spatial)``, ``transpose(1, 2)``,
``view`` back), ``torch.stack(..., 1)``, sums over a regrouped axis and ``clamp`` / ``x / c`` / ``c - x``.

A ``view`` that only regroups the channels, ``(B, C, *s)`` to ``(B, g, C / g, *s)``, is kept as a pending
:class:`_Regrouped` value: what follows decides the layer (a shuffle, a :class:`~symcnn.GroupSum`, or nothing
when it is viewed back). Any other reshape is refused with its shape.
"""

from __future__ import annotations

import operator

import sympy

from ..._graph import Node
from ..._intmath import decide, smax, smin
from ...layers.channels import ChannelShuffle, Expand, ExpandAs, GroupSoftmax, GroupSum, Narrow, Reshape
from ...layers.merge import Clamp, Concat, ScalarOp, Sub
from .values import _BATCH, _Dim, _show, _show_index, _Unsupported

#: the kinds of this module that read sizes as sizes (see ``importer._SIZE_KINDS``)
TENSOR_SIZE_KINDS = frozenset({"index", "reshape", "chunk", "split", "tensor_mul", "tensor_add", "tensor_sub",
                               "tensor_div", "expand"})


class _Regrouped:
    """A tensor ``node`` of shape ``(B, C, *s)`` viewed as ``(B, groups, C / groups, *s)``, or, ``swapped``, as
    ``(B, C / groups, groups, *s)`` (after ``transpose(1, 2)``), or, ``swapped="lead"``, a vector viewed as
    ``(B, 1, groups, C / groups)`` (``transpose(1, 2)`` then gives the groups first)."""

    def __init__(self, node, groups: int, swapped: bool = False):
        self.node, self.groups, self.swapped = node, groups, swapped

    def __repr__(self) -> str:
        order = {True: "(batch, C/g, g, ...)", False: "(batch, g, C/g, ...)", "lead": "(batch, 1, g, C/g)"}[
            self.swapped]
        return f"<'{self.node.name or 'input'}' viewed as {order} with g={self.groups}>"


class _Selected:
    """``x[:, i]``: channel ``i`` of ``node`` with the channel axis removed (read when ``unsqueeze(1)`` restores it)."""

    def __init__(self, node, index):
        self.node, self.index = node, index

    def __repr__(self) -> str:
        return f"<channel {_show(self.index)} of '{self.node.name or 'input'}' (x[:, {_show(self.index)}])>"


def _expr(v):
    return v.value if isinstance(v, _Dim) else sympy.sympify(v)


def _is_int(v) -> bool:
    return isinstance(v, (int, _Dim)) and not isinstance(v, bool)


class _TensorOps:
    """Mixin of :class:`~.importer._Reader`: the tensor-shape operations."""

    # --- indexing -----------------------------------------------------------------------------------------
    def op_index(self, node, handler, args, kwargs):
        obj, index = args
        if isinstance(obj, (list, tuple)) and obj and all(isinstance(v, Node) for v in obj):
            if isinstance(index, int) and not isinstance(index, bool) and -len(obj) <= index < len(obj):
                return obj[index]
            raise _Unsupported(f"index {_show(index)} of {len(obj)} tensors")
        if isinstance(obj, Node):
            return self._slice(node, obj, index)
        return self.op_getitem(node, handler, args, kwargs)

    def _slice(self, node, x, index):
        """``x[index]`` for basic indexing: ``:`` on the batch, slices (step 1) and one channel index."""
        shape = self.shape(x)
        what = f"indexing or slicing a tensor (`[{_show_index(index)}]` on {_show(x)})"
        entries = list(index) if isinstance(index, tuple) else [index]
        if sum(e is Ellipsis for e in entries) > 1:
            raise _Unsupported(f"{what}: more than one `...`")
        if any(e is None for e in entries):
            raise _Unsupported(f"{what} inserts an axis (None); not read")
        if Ellipsis in entries:
            at = entries.index(Ellipsis)
            entries[at:at + 1] = [slice(None)] * (len(shape) + 1 - (len(entries) - 1))
        if len(entries) > len(shape) + 1:
            raise _Unsupported(f"{what} has more entries than the {len(shape) + 1} dims of "
                               "the tensor (PyTorch refuses it)")
        if not _full(entries[0]):
            raise _Unsupported(f"{what} slices the batch dimension; only `:` is read there")
        selected = None
        out = x
        for d, e in enumerate(entries[1:], start=1):
            if _full(e):
                continue
            if _is_int(e):
                if d != 1 or any(not _full(f) for f in entries[2:]):
                    raise _Unsupported(f"{what} removes dim {d}; only a channel index "
                                       "`x[:, i]` (then unsqueezed) is read")
                selected = e
                continue
            if not isinstance(e, slice):
                raise _Unsupported(f"{what}: advanced indexing (a list or a tensor) is not "
                                   "read; only slices")
            start, length = _slice_bounds(e, shape[d - 1], d, what)
            out = self.apply(Narrow(d, start, length), (out,), node.name if out is x else f"{node.name}.dim{d}")
        if selected is not None:
            size = shape[0]
            i = _expr(selected)
            if decide(sympy.Ge(i, -size)) is False or decide(sympy.Lt(i, size)) is False:
                raise _Unsupported(f"index {_show(selected)} is out of range for {sympy.sstr(size)} channels "
                                   "(PyTorch refuses it)")
            return _Selected(out, i)
        return out

    def op_unsqueeze(self, node, handler, args, kwargs):
        x = args[0]
        dim = args[1] if len(args) > 1 else kwargs.get("dim")
        if isinstance(x, _Selected) and dim == 1:
            i = x.index + self.shape(x.node)[0] if x.index.is_negative else x.index
            return self.apply(Narrow(1, i, 1), (x.node,), node.name)
        raise _Unsupported(f"unsqueeze of {_show(x)} at `dim`={_show(dim)}; only `x[:, i].unsqueeze(1)` (a channel "
                           "kept as a channel) is read")

    # --- chunk / split / stack ----------------------------------------------------------------------------
    def _pieces(self, node, x, sizes, d):
        out, start = [], sympy.Integer(0)
        for i, size in enumerate(sizes):
            out.append(self.apply(Narrow(d, start, size), (x,), f"{node.name}.{i}"))
            start += size
        return tuple(out)

    def _axis(self, x, dim, what):
        rank = len(self.shape(x)) + 1
        if isinstance(dim, bool) or not isinstance(dim, int) or not -rank <= dim < rank:
            raise _Unsupported(f"{what} along `dim`={_show(dim)} of a rank-{rank} tensor (PyTorch refuses it)")
        d = dim % rank
        if d == 0:
            raise _Unsupported(f"{what} along the batch dimension (dim=0)")
        size = self.shape(x)[d - 1]
        if not size.is_Integer:
            raise _Unsupported(f"{what} of axis {d} whose size {sympy.sstr(size)} is a formula; only axes of known "
                               "size (channels) are split")
        return d, int(size)

    def op_chunk(self, node, handler, args, kwargs):
        x = self.tensor(args[0])
        chunks = args[1] if len(args) > 1 else kwargs.get("chunks")
        dim = args[2] if len(args) > 2 else kwargs.get("dim", 0)
        d, size = self._axis(x, dim, "chunk")
        if isinstance(chunks, bool) or not isinstance(chunks, int) or chunks < 1:
            raise _Unsupported(f"`chunks`={_show(chunks)} must be a positive int (PyTorch refuses it)")
        step = -(-size // chunks)
        sizes = [min(step, size - s) for s in range(0, size, step)] if size else [0]
        return self._pieces(node, x, sizes, d)

    def op_split(self, node, handler, args, kwargs):
        x = self.tensor(args[0])
        parts = args[1] if len(args) > 1 else kwargs.get("split_size_or_sections", kwargs.get("split_size"))
        dim = args[2] if len(args) > 2 else kwargs.get("dim", 0)
        d, size = self._axis(x, dim, "split")
        if isinstance(parts, (list, tuple)):
            if not all(isinstance(p, int) and not isinstance(p, bool) and p >= 0 for p in parts):
                raise _Unsupported(f"split sizes {_show(parts)} must be non-negative ints")
            if sum(parts) != size:
                raise _Unsupported(f"split sizes {_show(parts)} sum to {sum(parts)}, not to the size {size} of dim "
                                   f"{d} (PyTorch refuses it)")
            return self._pieces(node, x, list(parts), d)
        if isinstance(parts, bool) or not isinstance(parts, int) or parts < 1:
            raise _Unsupported(f"split size {_show(parts)} must be a positive int")
        return self._pieces(node, x, [min(parts, size - s) for s in range(0, size, parts)] or [0], d)

    def op_stack(self, node, handler, args, kwargs):
        tensors = args[0] if args else kwargs.get("tensors")
        dim = args[1] if len(args) > 1 else kwargs.get("dim", 0)
        tensors = [self.tensor(t) for t in tensors]
        if dim != 1:
            raise _Unsupported(f"stack along `dim`={_show(dim)}; only dim=1 (a regrouping of channels) is read")
        joined = tensors[0] if len(tensors) == 1 else self.apply(Concat(1), tensors, node.name)
        return _Regrouped(joined, len(tensors))

    # --- views --------------------------------------------------------------------------------------------
    def op_reshape(self, node, handler, args, kwargs):
        x = args[0]
        sizes = args[1:] if "shape" not in kwargs else (kwargs["shape"],)
        if len(sizes) == 1 and isinstance(sizes[0], (list, tuple)):
            sizes = tuple(sizes[0])
        if isinstance(x, _Regrouped):
            return self._ungroup(node, x, sizes)
        if isinstance(x, Node) and len(sizes) > 2:  # (batch, k) forms are flattens (op_view)
            shape = self.shape(x)
            if sizes[0] is _BATCH and all(s == -1 or _is_int(s) for s in sizes[1:]) and _vector(shape) and \
                    _vector([2 if v == -1 else v for v in sizes[1:]]) and not _regroups(shape, sizes):
                return self.apply(Reshape(tuple(-1 if s == -1 else _expr(s) for s in sizes[1:])), (x,), node.name)
            if len(sizes) == len(shape) + 2 and sizes[0] is _BATCH and len(shape) >= 2:
                return self._regroup(x, shape, sizes)
            if len(sizes) == 4 and sizes[0] is _BATCH and sizes[1] == 1 and _vector(shape) and \
                    _is_int(sizes[2]) and _expr(sizes[2]).is_Integer and all(v == 1 for v in shape[1:]):
                # split attention's radix softmax: (B, 1, radix, -1), transposed next to (B, radix, 1, -1)
                found = self._regroup(x, shape, (_BATCH, sizes[2], sizes[3], *([1] * (len(shape) - 1))))
                return _Regrouped(found.node, found.groups, "lead")
        return self.op_view(node, handler, args, kwargs)

    def op_expand(self, node, handler, args, kwargs):
        """``y.expand_as(x)`` (:class:`~symcnn.ExpandAs`), ``y.expand(B, *sizes)`` (:class:`~symcnn.Expand`)."""
        y = self.tensor(args[0])
        if node.target == "expand_as":
            return self.apply(ExpandAs(), (y, self.tensor(args[1])), node.name)
        sizes = args[1:] if "size" not in kwargs else (kwargs["size"],)
        if len(sizes) == 1 and isinstance(sizes[0], (list, tuple)):
            sizes = tuple(sizes[0])
        if not sizes or not (sizes[0] is _BATCH or sizes[0] == -1) or \
                not all(s == -1 or _is_int(s) for s in sizes[1:]):
            raise _Unsupported(f"expand to {_show(sizes)}; read: (batch or -1, *sizes)")
        sizes = tuple(-1 if s == -1 else _expr(s) for s in sizes[1:])
        return self.apply(Expand(tuple(sizes)), (y,), node.name)

    def _regroup(self, x, shape, sizes):
        c = shape[0]
        if not all(s == -1 or _is_int(s) for s in sizes[1:]) or [_expr(s) for s in sizes[3:]] != list(shape[1:]):
            raise _Unsupported(f"reshape of {_show(shape)} to {_show(sizes)}; only a regrouping of the channels, "
                               f"(batch, g, C // g, *spatial), is read")
        g, k = sizes[1], sizes[2]
        g = _expr(g) if g != -1 else c / _expr(k)
        k = _expr(k) if k != -1 else c / g
        if not g.is_Integer or g < 1 or decide(sympy.Eq(g * k, c)) is not True:
            raise _Unsupported(f"reshape of {_show(shape)} to {_show(sizes)}: {sympy.sstr(g)} x {sympy.sstr(k)} is "
                               f"not the {sympy.sstr(c)} channels (read: a regrouping (batch, g, C // g, *spatial) "
                               "with g a known int)")
        return _Regrouped(x, int(g))

    def _ungroup(self, node, x, sizes):
        shape = self.shape(x.node)
        if x.swapped == "lead":
            raise _Unsupported(f"reshape of {_show(x)} to {_show(sizes)}; read: transpose(1, 2) first")
        if not x.swapped and tuple(sizes) == (_BATCH, -1):
            return self.op_view(node, None, (x.node, _BATCH, -1), {})  # flattened in the original order
        if len(sizes) == len(shape) + 1 and sizes[0] is _BATCH and _same_sizes(sizes[1:], shape):
            if not x.swapped:
                return x.node  # viewed back as it was
            return self.apply(ChannelShuffle(x.groups), (x.node,), node.name)
        if not x.swapped and len(sizes) == len(shape) + 2 and sizes[0] is _BATCH:
            again = self._regroup(x.node, shape, sizes)
            if again.groups == x.groups:
                return x
        raise _Unsupported(f"reshape of {_show(x)} to {_show(sizes)}; read: back to (batch, C, *spatial) (a channel "
                           "shuffle after transpose(1, 2))")

    def op_transpose(self, node, handler, args, kwargs):
        x = args[0]
        dims = tuple(args[1:3]) if len(args) >= 3 else (kwargs.get("dim0"), kwargs.get("dim1"))
        if isinstance(x, _Regrouped) and sorted(d % 5 if isinstance(d, int) else d for d in dims) in ([1, 2],):
            return _Regrouped(x.node, x.groups, not x.swapped)
        raise _Unsupported(f"transpose of {_show(x)} along {_show(dims)}; only transpose(1, 2) of a tensor viewed as "
                           "(batch, g, C // g, *spatial) (a channel shuffle) is read")

    def op_keep(self, node, handler, args, kwargs):
        """``contiguous``/``clone``/``detach``: the same value (a pending regrouping stays pending)."""
        if isinstance(args[0], (_Regrouped, _Selected)):
            return args[0]
        return self.tensor(args[0])

    def op_group_sum(self, node, handler, args, kwargs):
        x = args[0]
        dim = args[1] if len(args) > 1 else kwargs.get("dim")
        extra = {k: v for k, v in kwargs.items() if k != "dim" and not (k == "keepdim" and v is False)}
        if isinstance(x, _Regrouped) and not x.swapped and dim == 1 and not extra:
            return self.apply(GroupSum(x.groups), (x.node,), node.name)
        raise _Unsupported(f"sum of {_show(x)} over `dim`={_show(dim)}; only the sum over the group axis of a tensor "
                           "viewed as (batch, g, C // g, *spatial) or stacked along dim 1 is read")

    def op_group_softmax(self, node, handler, args, kwargs):
        """``softmax(x, dim=1)`` of a regrouped tensor: across the groups (:class:`~symcnn.GroupSoftmax`)."""
        x = args[0]
        if not isinstance(x, _Regrouped):
            return self.op_act(node, handler, args, kwargs)
        dim = args[1] if len(args) > 1 else kwargs.get("dim")
        extra = {k for k, v in kwargs.items() if k not in ("dim", "_stacklevel") and not (k == "dtype" and v is None)}
        if x.swapped or dim != 1 or extra:
            raise _Unsupported(f"softmax of {_show(x)} over `dim`={_show(dim)}; only the softmax over the group axis "
                               "(dim=1) of a tensor viewed as (batch, g, C // g, *spatial) is read")
        return _Regrouped(self.apply(GroupSoftmax(x.groups), (x.node,), node.name), x.groups)

    def op_tensor_mul(self, node, handler, args, kwargs):
        return self._grouped_merge(node, handler, args, kwargs, self.op_mul)

    def op_tensor_add(self, node, handler, args, kwargs):
        return self._grouped_merge(node, handler, args, kwargs, self.op_add)

    def _grouped_merge(self, node, handler, args, kwargs, plain):
        """``a * b`` where both are regrouped the same way: the element-wise op of the underlying tensors."""
        grouped = [a for a in args[:2] if isinstance(a, _Regrouped)]
        if not grouped:
            return plain(node, handler, args, kwargs)
        if (len(grouped) == 2 and grouped[0].groups == grouped[1].groups
                and grouped[0].swapped == grouped[1].swapped):
            out = plain(node, handler, (grouped[0].node, grouped[1].node), kwargs)
            return _Regrouped(out, grouped[0].groups, grouped[0].swapped)
        raise _Unsupported(f"operands {_show(tuple(args[:2]))}: only two tensors regrouped the same way are read")

    # --- a tensor and numbers ---------------------------------------------------------------------------------
    def op_tensor_sub(self, node, handler, args, kwargs):
        """``x - y`` of two tensors (:class:`~symcnn.Sub`), ``c - x`` (a ``"rsub"`` :class:`~symcnn.ScalarOp`);
        sizes and ``x - c`` as before."""
        if len(args) == 2 and all(isinstance(a, Node) for a in args):
            if set(kwargs) - {"alpha"} or kwargs.get("alpha", 1) != 1:
                raise _Unsupported(f"arguments {_show(kwargs)}: only x - y (alpha=1) is read")
            return self.apply(Sub(), args, node.name)
        if len(args) == 2 and not kwargs and _number(args[0]) and isinstance(args[1], Node):
            return self.apply(ScalarOp("rsub", args[0]), (args[1],), node.name)
        return self.op_size_arith(node, handler, args, kwargs)

    def op_tensor_div(self, node, handler, args, kwargs):
        """``x / c`` (a ``"div"`` :class:`~symcnn.ScalarOp`)."""
        if len(args) == 2 and not kwargs and isinstance(args[0], Node) and _number(args[1]) and args[1] != 0:
            return self.apply(ScalarOp("div", args[1]), (args[0],), node.name)
        raise _Unsupported(f"division of {_show(tuple(args))}; only a tensor divided by a non-zero number is read")

    def op_clamp(self, node, handler, args, kwargs):
        """``torch.clamp(x, min, max)``, ``x.clamp_min(c)``, ``x.clamp_max(c)`` with constant bounds."""
        x = self.tensor(args[0])
        if handler[1] == "clamp":
            names = ("min", "max")
            bounds = dict(zip(names, args[1:], strict=False), **kwargs)
        else:
            bounds = {handler[1]: args[1] if len(args) > 1 else kwargs.get(handler[1], kwargs.get("min",
                                                                                               kwargs.get("max")))}
        if set(bounds) - {"min", "max"} or not all(v is None or _number(v) for v in bounds.values()):
            raise _Unsupported(f"clamp bounds {_show(bounds)}; only numbers are read (a tensor bound is not)")
        return self.apply(Clamp(bounds.get("min"), bounds.get("max")), (x,), node.name)

    # --- channel shuffle function --------------------------------------------------------------------------
    def op_channel_shuffle(self, node, handler, args, kwargs):
        groups = args[1] if len(args) > 1 else kwargs.get("groups")
        return self.apply(ChannelShuffle(groups), (self.tensor(args[0]),), node.name)


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _vector(shape) -> bool:
    """All sizes but at most one are 1: one vector per sample, whatever its layout."""
    return sum(1 for v in shape if decide(sympy.Eq(_expr(v), 1)) is not True) <= 1


def _regroups(shape, sizes) -> bool:
    """``(B, g, C // g, *spatial)`` of a ``(C, *spatial)`` tensor with g > 1 (read as a pending regrouping)."""
    return (len(shape) >= 2 and len(sizes) == len(shape) + 2 and _is_int(sizes[1])
            and _expr(sizes[1]) != 1 and all(s == -1 or _is_int(s) for s in sizes[2:])
            and [_expr(s) for s in sizes[3:]] == list(shape[1:]))


def _same_sizes(sizes, shape) -> bool:
    """``sizes`` (ints, sizes read in forward, at most one -1) give exactly ``shape``."""
    if not all(s == -1 or _is_int(s) for s in sizes) or sum(1 for s in sizes if s == -1) > 1:
        return False
    known = [_expr(s) for s in sizes if s != -1]
    total, rest = sympy.Integer(1), sympy.Integer(1)
    for v in shape:
        total *= v
    for v in known:
        rest *= v
    values = [total / rest if s == -1 else _expr(s) for s in sizes]
    return all(decide(sympy.Eq(a, b)) is True for a, b in zip(values, shape, strict=True))


def tensor_functions(torch) -> dict:
    """Functions and tensor methods -> the kinds of this module (added to :func:`.tables._functional_table`)."""
    F = torch.nn.functional
    table = {operator.getitem: "index", torch.chunk: "chunk", "chunk": "chunk", torch.split: "split",
             "split": "split", torch.stack: "stack", "view": "reshape", "reshape": "reshape",
             torch.reshape: "reshape", torch.transpose: "transpose", "transpose": "transpose",
             torch.unsqueeze: "unsqueeze", "unsqueeze": "unsqueeze", "contiguous": "keep", "clone": "keep",
             "detach": "keep", "expand": "expand", "expand_as": "expand", torch.sum: "group_sum", "sum": "group_sum",
             F.channel_shuffle: "channel_shuffle",
             torch.channel_shuffle: "channel_shuffle", torch.native_channel_shuffle: "channel_shuffle"}
    table.update({operator.sub: ("tensor_sub", "sub"), operator.isub: ("tensor_sub", "sub"),
                  torch.sub: ("tensor_sub", "sub"), "sub": ("tensor_sub", "sub"), operator.truediv: "tensor_div",
                  torch.div: "tensor_div", "div": "tensor_div", torch.true_divide: "tensor_div"})
    for name in ("clamp", "clamp_min", "clamp_max"):
        table[getattr(torch, name)] = table[name] = table[f"{name}_"] = ("clamp", name.replace("clamp_", "") if
                                                                         name != "clamp" else "clamp")
    for t in (F.softmax, torch.softmax, "softmax"):
        table[t] = ("group_softmax", "Softmax")
    for t in (operator.mul, operator.imul, torch.mul, "mul", "mul_"):
        table[t] = "tensor_mul"
    for t in (operator.add, operator.iadd, torch.add, "add", "add_"):
        table[t] = "tensor_add"
    return table


def tensor_modules(torch) -> dict:
    """``torch.nn`` classes -> converters (added to :func:`.tables._module_table`)."""
    return {torch.nn.ChannelShuffle: lambda m: ChannelShuffle(m.groups)}


def _full(e) -> bool:
    return isinstance(e, slice) and e.start is None and e.stop is None and e.step in (None, 1)


def _slice_bounds(e: slice, size, d: int, what: str):
    """``start`` and ``length`` of ``x[a:b]`` along an axis of ``size`` (Python's rules: negative from the end,
    clamped to the axis), as formulas; refused when a symbolic size leaves the clamping undecided."""
    if e.step not in (None, 1):
        raise _Unsupported(f"{what} has a step ({_show(e.step)}); only step 1 is read")
    for v in (e.start, e.stop):
        if v is not None and not _is_int(v):
            raise _Unsupported(f"{what}: slice bound {_show(v)} is not an int or a size")

    def bound(v, default):
        """Python's rule: a negative bound counts from the end; the result is clamped to 0 .. size."""
        if v is None:
            return default
        b = _expr(v)
        if b.is_Integer and b < 0:
            b = b + size
        low, high = decide(sympy.Ge(b, 0)), decide(sympy.Le(b, size))
        if low is False:
            return sympy.Integer(0)
        if high is False:
            return size
        return smax(smin(b, size) if high is None else b, 0) if low is None else (smin(b, size) if high is None else b)

    start, stop = bound(e.start, sympy.Integer(0)), bound(e.stop, size)
    longer = decide(sympy.Ge(stop, start))
    if longer is None:
        return start, smax(stop - start, 0)
    return start, sympy.expand(stop - start) if longer else sympy.Integer(0)
