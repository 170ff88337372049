"""Reading an ONNX file: the model, its input, its constants, and the values a walk of the graph carries.

A value in the walk is one of three things: an activation (:class:`Tensor`: a node of the symcnn graph being
built and its shape without the batch axis), a constant (:class:`Const`: an initializer or a ``Constant``
node, as a NumPy array when it is small enough to read), or a list of sizes computed from shapes
(:class:`Sizes`: what ``Shape -> Gather -> Concat`` chains compute, as SymPy expressions, batch axis
included). Nothing is executed: sizes are formulas.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import sympy

from ..._errors import SymcnnError
from ..._symbols import N, size_symbol
from ...layers._base import Shape

#: a model with more nodes than this is refused (the walk is linear, this bounds its time and memory)
MAX_NODES = 200_000
#: constants with more elements than this are not read (only their shape is: weights need no values)
MAX_CONST_VALUES = 65_536
#: an .onnx file larger than this is refused (weights in external data files are never read)
MAX_FILE_BYTES = 4 * 1024**3


def import_onnx():
    try:
        import onnx
    except ImportError:  # pragma: no cover - depends on the environment
        raise SymcnnError("from_onnx: the `onnx` package is not installed (pip install 'symcnn[onnx]')") from None
    return onnx


@dataclass(frozen=True)
class Tensor:
    """An activation: a node of the graph under construction and its shape ``(C, *spatial)``.

    ``channels_last``: the ONNX tensor holds the same values laid out ``(N, *spatial, C)`` (TensorFlow's layout:
    tf2onnx wraps each NCHW operator in Transposes); only a Transpose back to channels-first may read it."""

    node: object
    shape: Shape
    channels_last: bool = False


def to_first(rank: int) -> list[int]:
    """The permutation from channels-last to channels-first (``[0, 3, 1, 2]`` for rank 4)."""
    return [0, rank - 1, *range(1, rank - 1)]


def to_last(rank: int) -> list[int]:
    """The permutation from channels-first to channels-last (``[0, 2, 3, 1]`` for rank 4)."""
    return [0, *range(2, rank), 1]


@dataclass(frozen=True)
class Const:
    """A constant: its dims, its values when small (else None), whether it is a stored initializer, and the
    initializer's name (a weight stored once and read by several nodes is one parameter tensor)."""

    dims: tuple[int, ...]
    value: object  # numpy array or None
    initializer: bool
    name: str | None = None

    @property
    def numel(self) -> int:
        n = 1
        for d in self.dims:
            n *= d
        return n


class OpError(Exception):
    """A node symcnn cannot read: the message says why (raised to the walk, which names the node)."""


class View:
    """A reshaped view of an activation that only a known pattern reads back (see :mod:`._layout`)."""

    def describe(self) -> str:  # pragma: no cover - each view says what it is
        return "a reshaped view"


@dataclass(frozen=True)
class Sizes:
    """A 1-D integer tensor computed from shapes (batch axis included), or a scalar (``scalar=True``)."""

    values: tuple[sympy.Expr, ...]
    scalar: bool = False


class Unknown:
    """The output of a node that could not be read (its error is reported once, at that node)."""


UNKNOWN = Unknown()


def load(model):
    """An ``onnx.ModelProto`` from a path or a ModelProto (external weight data is never loaded)."""
    onnx = import_onnx()
    if isinstance(model, onnx.ModelProto):
        return model
    if isinstance(model, (str, os.PathLike)):
        path = os.fspath(model)
        if not os.path.isfile(path):
            raise SymcnnError(f"from_onnx: {path!r} is not a regular file")
        size = os.path.getsize(path)
        if size > MAX_FILE_BYTES:
            raise SymcnnError(f"from_onnx: {path!r} has {size:,} bytes, more than the limit {MAX_FILE_BYTES:,}")
        try:
            return onnx.load(path, load_external_data=False)
        except Exception as e:  # protobuf's DecodeError and friends: not an ONNX file
            raise SymcnnError(f"from_onnx: {path!r} is not a readable ONNX model ({type(e).__name__}: {e})") from None
    raise SymcnnError(f"from_onnx: `model` is a {type(model).__name__}; expected a path or an onnx.ModelProto")


def const_from_tensor(tensor, *, initializer: bool) -> Const:
    """A TensorProto as a :class:`Const` (values read only when small and stored inline)."""
    onnx = import_onnx()
    from onnx import numpy_helper

    dims = tuple(int(d) for d in tensor.dims)
    name = tensor.name if initializer else None
    if any(d < 0 for d in dims):
        raise SymcnnError(f"from_onnx: the constant {tensor.name!r} has negative dims {dims}")
    c = Const(dims, None, initializer, name)
    external = tensor.data_location == onnx.TensorProto.EXTERNAL
    if c.numel <= MAX_CONST_VALUES and not external:
        try:
            value = numpy_helper.to_array(tensor)
        except Exception:  # an exotic element type or data that does not match the dims: only the shape is known
            return c
        if tuple(value.shape) != dims:
            return c
        return Const(dims, value, initializer, name)
    return c


def dim_symbol(name: str) -> sympy.Symbol:
    """The symcnn symbol for an ONNX ``dim_param`` ("height" stays ``height``; "H" is symcnn's H)."""
    clean = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in name) or "dim"
    if clean[0].isdigit():
        clean = "d_" + clean
    return size_symbol(clean)


def channels_last_input(graph, name: str, rank: int) -> bool:
    """Whether every reader of the input transposes it from channels-last to channels-first (a TensorFlow /
    Keras model exported with tf2onnx: its input is NHWC)."""
    readers = [n for n in graph.node if name in n.input]
    if rank < 3 or not readers:
        return False
    for n in readers:
        perm = [list(a.ints) for a in n.attribute if a.name == "perm"]
        if n.op_type != "Transpose" or perm != [to_first(rank)]:
            return False
    return True


def input_value(graph, input_shape) -> tuple[str, Shape, sympy.Expr, bool]:
    """(name, shape ``(C, *spatial)`` without batch, batch expression, channels-last) of the graph's one real
    input. A channels-last input (see :func:`channels_last_input`) has its channel axis last in the file."""
    from ..._analysis import _as_shape

    inits = {t.name for t in graph.initializer}
    real = [i for i in graph.input if i.name not in inits]
    if len(real) != 1:
        names = ", ".join(repr(i.name) for i in real) or "none"
        raise SymcnnError(f"from_onnx: the graph has {len(real)} inputs ({names}); symcnn reads one-input models")
    inp = real[0]
    ttype = inp.type.tensor_type
    dims = []
    if ttype.HasField("shape"):
        for i, d in enumerate(ttype.shape.dim):
            if d.HasField("dim_value"):
                dims.append(sympy.Integer(d.dim_value))
            elif d.HasField("dim_param"):
                dims.append(dim_symbol(d.dim_param))
            else:
                dims.append(None if i else N)
    batch = dims[0] if dims and dims[0] is not None else N
    last = channels_last_input(graph, inp.name, len(dims))
    if last:
        dims = [dims[0], dims[-1], *dims[1:-1]]
    if input_shape is not None:
        shape = _as_shape(input_shape)
        if dims and len(dims) != len(shape) + 1:
            raise SymcnnError(
                f"from_onnx: `input_shape` has {len(shape)} entries but the input {inp.name!r} has rank "
                f"{len(dims)} (batch first): give (C, *spatial) without the batch axis"
            )
        return inp.name, shape, batch, last
    if len(dims) < 2:
        raise SymcnnError(
            f"from_onnx: the input {inp.name!r} has no usable shape (rank {len(dims)}); give input_shape=(C, H, W)"
        )
    if any(d is None for d in dims[1:]):
        raise SymcnnError(
            f"from_onnx: the input {inp.name!r} has an unnamed dynamic axis; give input_shape=(C, H, W)"
        )
    return inp.name, _as_shape(tuple(dims[1:])), batch, last


class Attrs(dict):
    """A node's attributes (name -> Python value), with typed getters that refuse a wrong type or value by
    naming the attribute (raised as the walk's OpError, which names the node)."""

    @staticmethod
    def _fail(message: str):
        raise OpError(message)

    def int(self, name: str, default=None, *, minimum: int | None = None, maximum: int | None = None):
        v = self.get(name, default)
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, int):
            self._fail(f"`{name}`={v!r} must be an integer")
        if minimum is not None and v < minimum or maximum is not None and v > maximum:
            bound = f">= {minimum}" if maximum is None else (f"<= {maximum}" if minimum is None
                                                               else f"in [{minimum}, {maximum}]")
            self._fail(f"`{name}`={v!r} must be {bound}")
        return v

    def ints(self, name: str, default=None, *, length: int | None = None, minimum: int | None = None):
        v = self.get(name, default)
        if v is None:
            return None
        if not isinstance(v, (list, tuple)) or not all(isinstance(a, int) and not isinstance(a, bool) for a in v):
            self._fail(f"`{name}`={v!r} must be a list of integers")
        v = [int(a) for a in v]
        if length is not None and len(v) != length:
            self._fail(f"`{name}`={v} must have {length} entries")
        if minimum is not None and any(a < minimum for a in v):
            self._fail(f"`{name}`={v} must have entries >= {minimum}")
        if any(abs(a) > MAX_INT_ATTR for a in v):
            self._fail(f"`{name}`={v} has an entry beyond {MAX_INT_ATTR:,}")
        return v

    def str(self, name: str, default=None, *, choices: tuple = ()):
        v = self.get(name, default)
        if v is None:
            return None
        if not isinstance(v, str) or choices and v not in choices:
            allowed = f" one of {', '.join(map(repr, choices))}" if choices else " a string"
            self._fail(f"`{name}`={v!r} must be{allowed}")
        return v

    def float(self, name: str, default=None):
        v = self.get(name, default)
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            self._fail(f"`{name}`={v!r} must be a number")
        return float(v)


#: attribute integers beyond this (kernel sizes, strides, pads) are refused: no real model has them
MAX_INT_ATTR = 2**31


def attributes(node) -> Attrs:
    """A node's attributes as Python values (ints, floats, strings, lists of them, tensors)."""
    onnx = import_onnx()
    out = Attrs()
    for a in node.attribute:
        value = onnx.helper.get_attribute_value(a)
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        elif isinstance(value, list):
            value = [v.decode("utf-8", "replace") if isinstance(v, bytes) else v for v in value]
        out[a.name] = value
    return out
