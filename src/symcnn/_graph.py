"""Networks: ``Sequential``, and any DAG through a small functional API (``Input``, calling layers on nodes,
``Graph``). Tracing a network turns it into a flat list of layer calls with their shapes.

>>> import symcnn as sc
>>> x = sc.Input()
>>> y = sc.Conv2d(8, 8, 3, padding=1)(x)
>>> out = sc.Add()(y, x)                      # a residual connection
>>> sc.analyze(sc.Graph(x, out), (8, sc.H, sc.W)).output_shape
(8, H, W)
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from dataclasses import dataclass

from ._errors import SymcnnError
from .layers._base import Layer, LayerResult, Shape, fmt, not_nodes_error

__all__ = ["Sequential", "Input", "Node", "Graph", "Call", "trace", "apply_layer"]

_node_ids = itertools.count()


def apply_layer(module, inputs, name: str | None) -> Node:
    """``module(*inputs)`` on graph nodes: records the call, computes nothing yet."""
    if not inputs or not all(isinstance(i, Node) for i in inputs):
        raise not_nodes_error(module, inputs)
    n_inputs = getattr(module, "n_inputs", 1)
    if n_inputs is None and len(inputs) < 2:
        raise SymcnnError(f"{type(module).__name__}: merges at least 2 nodes, got {len(inputs)}")
    if n_inputs is not None and len(inputs) != n_inputs:
        raise SymcnnError(f"{type(module).__name__}: takes {n_inputs} input node(s), got {len(inputs)}")
    if name is not None and (not isinstance(name, str) or not name):
        raise SymcnnError(f"{type(module).__name__}: `name`={name!r} must be a non-empty string")
    return Node(module, tuple(inputs), name)


class Node:
    """A tensor in a functional network: the output of ``module`` applied to ``inputs``.

    ``name`` is the name given at the call (None: the :class:`Graph` that uses the node names it).
    """

    __slots__ = ("module", "inputs", "name", "_id")

    #: how a layer call on nodes is built (``Layer.__call__`` finds it on the node's class; the layers
    #: never import this module)
    _symcnn_apply = staticmethod(apply_layer)

    def __init__(self, module, inputs: tuple[Node, ...], name: str | None):
        self.module = module
        self.inputs = inputs
        self.name = name
        self._id = next(_node_ids)

    def __repr__(self) -> str:
        what = "Input" if self.module is None else type(self.module).__name__
        return f"<Node {self.name or what}>"


@dataclass(frozen=True)
class _Step:
    """A node as one graph sees it: the node's module and inputs with the name this graph gives it."""

    module: object
    inputs: tuple[Node, ...]
    name: str | None
    _id: int


def Input(name: str | None = "input") -> Node:  # noqa: N802 - reads like a class, as in Keras
    """The input tensor of a functional network."""
    return Node(None, (), name)


class Sequential:
    """``torch.nn.Sequential``: modules applied in order. Children are named ``"0"``, ``"1"``, ... or by
    the keys of an ``OrderedDict`` (or keyword arguments).

    Examples:
        >>> import symcnn as sc
        >>> net = sc.Sequential(sc.Conv2d(3, 8, 3), sc.ReLU(), sc.MaxPool2d(2))
        >>> sc.analyze(net, (3, 32, 32)).output_shape
        (8, 15, 15)
    """

    n_inputs = 1

    def __init__(self, *modules, **named):
        if len(modules) == 1 and isinstance(modules[0], (OrderedDict, dict)):
            items = list(modules[0].items())
        else:
            items = [(str(i), m) for i, m in enumerate(modules)]
        items += list(named.items())
        for name, m in items:
            if not isinstance(m, (Layer, Sequential, Graph)):
                raise SymcnnError(
                    f"Sequential: child {name!r} is a {type(m).__name__}, not a symcnn layer or network"
                )
        self._children: tuple[tuple[str, object], ...] = tuple((str(n), m) for n, m in items)

    def __len__(self) -> int:
        return len(self._children)

    def __iter__(self):
        return (m for _, m in self._children)

    def __getitem__(self, key):
        if isinstance(key, slice):
            return Sequential(OrderedDict(self._children[key]))
        if isinstance(key, str):
            for n, m in self._children:
                if n == key:
                    return m
            raise KeyError(key)
        return self._children[key][1]

    def named_children(self):
        return iter(self._children)

    def __repr__(self) -> str:
        lines = [f"  ({n}): {m!r}".replace("\n", "\n  ") for n, m in self._children]
        return "Sequential(\n" + "\n".join(lines) + "\n)"

    def __call__(self, *inputs, name: str | None = None) -> Node:
        return apply_layer(self, inputs, name)


class Graph:
    """A network given by its input node and output node (functional API).

    Any DAG works: residual adds, concatenations, U-Net skips. Calling a ``Graph`` or ``Sequential`` on a
    node nests it (its layers are named ``"<node name>.<inner name>"``).
    """

    n_inputs = 1

    def __init__(self, inputs: Node, outputs: Node, name: str | None = None):
        if not isinstance(inputs, Node) or inputs.module is not None:
            raise SymcnnError("Graph: `inputs` must be the node returned by symcnn.Input()")
        if not isinstance(outputs, Node):
            raise SymcnnError("Graph: `outputs` must be a node (what a layer call returned)")
        self.inputs = inputs
        self.outputs = outputs
        self.name = name
        self._order = self._toposort()

    def _toposort(self) -> list[_Step]:
        """The nodes in a topological order, each with its name in this graph.

        Nodes named at the call keep their names (two alike are refused); the others are named after their
        layer kind (``conv2d``, ``conv2d_1``, ...), skipping every name already taken. Nodes are not modified,
        so the same nodes can be built into several graphs.
        """
        seen: dict[int, Node] = {}
        stack = [self.outputs]
        while stack:
            n = stack.pop()
            if n._id in seen:
                continue
            seen[n._id] = n
            if n.module is None and n is not self.inputs:
                raise SymcnnError(f"Graph: output depends on an input node {n!r} that is not `inputs`")
            stack.extend(n.inputs)
        if self.inputs._id not in seen:
            raise SymcnnError("Graph: the output does not depend on `inputs`")
        order = sorted(seen.values(), key=lambda n: n._id)  # creation order is a topological order
        taken: set[str] = set()
        for n in order:
            if n.module is not None and n.name is not None:
                if n.name in taken:
                    raise SymcnnError(f"Graph: two nodes are named {n.name!r}")
                taken.add(n.name)
        counts: dict[str, int] = {}
        steps = []
        for n in order:
            name = n.name
            if n.module is not None and name is None:
                base = _snake(type(n.module).__name__)
                count = counts.get(base, 0)
                name = base if count == 0 else f"{base}_{count}"
                while name in taken:
                    count += 1
                    name = f"{base}_{count}"
                counts[base] = count + 1
                taken.add(name)
            steps.append(_Step(n.module, n.inputs, name, n._id))
        return steps

    def __call__(self, *inputs, name: str | None = None) -> Node:
        return apply_layer(self, inputs, name)

    def __repr__(self) -> str:
        names = {n._id: n.name for n in self._order}
        lines = [f"  ({n.name}): {n.module!r} <- {', '.join(names[i._id] or 'input' for i in n.inputs)}"
                 for n in self._order if n.module is not None]
        return f"Graph{'' if self.name is None else ' ' + self.name}(\n" + "\n".join(lines) + "\n)"


def _snake(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and not name[i - 1].isupper():
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


@dataclass(frozen=True)
class Call:
    """One layer call in a traced network: ``inputs`` are indices of earlier calls (-1: the network input)."""

    index: int
    name: str
    layer: Layer
    inputs: tuple[int, ...]
    input_shapes: tuple[Shape, ...]
    result: LayerResult


class _Tracer:
    def __init__(self, input_shape: Shape):
        self.input_shape = input_shape
        self.calls: list[Call] = []

    def shape(self, ref: int) -> Shape:
        return self.input_shape if ref < 0 else self.calls[ref].result.output_shape

    def run(self, module, prefix: str, refs: list[int]) -> int:
        if isinstance(module, Layer):
            return self._leaf(module, prefix, refs)
        if isinstance(module, Sequential):
            if not len(module):
                return refs[0]
            ref = refs[0]
            for name, child in module.named_children():
                ref = self.run(child, _join(prefix, name), [ref])
            return ref
        if isinstance(module, Graph):
            where: dict[int, int] = {module.inputs._id: refs[0]}
            for node in module._order:
                if node.module is None:
                    continue
                where[node._id] = self.run(node.module, _join(prefix, node.name), [where[i._id] for i in node.inputs])
            return where[module.outputs._id]
        raise SymcnnError(f"{prefix or 'model'}: {type(module).__name__} is not a symcnn layer or network")

    def _leaf(self, layer: Layer, name: str, refs: list[int]) -> int:
        shapes = tuple(self.shape(r) for r in refs)
        index = len(self.calls)
        n_inputs = getattr(layer, "n_inputs", 1)
        if n_inputs is not None and len(shapes) != n_inputs:  # a two-input layer analysed on its own
            raise SymcnnError(f"layer {index} '{name or layer.kind}' ({layer!r}): takes {n_inputs} inputs, got "
                              f"{len(shapes)}; call it on {n_inputs} nodes of a symcnn.Graph")
        try:
            result = layer.infer(*shapes)
        except SymcnnError as e:
            shown = ", ".join(fmt(tuple(s)) for s in shapes)
            msg = str(e).removeprefix(f"{layer.label}: ")
            raise SymcnnError(f"layer {index} '{name or layer.kind}' ({layer!r}) with input {shown}: {msg}") from None
        self.calls.append(Call(index, name or layer.kind, layer, tuple(refs), shapes, result))
        return index


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def trace(model, input_shape: Shape) -> tuple[list[Call], int]:
    """Flatten ``model`` applied to ``input_shape`` into calls; returns (calls, index of the output)."""
    tracer = _Tracer(input_shape)
    out = tracer.run(model, "", [-1])
    return tracer.calls, out
