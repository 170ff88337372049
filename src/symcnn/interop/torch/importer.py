"""``from_torch``: a ``torch.nn.Module``, traced with ``torch.fx``, becomes a symcnn ``Graph``."""

from __future__ import annotations

import copy
import os
import re

from ..._errors import SymcnnError
from ..._graph import Graph, Input, Node, Sequential
from ...layers._base import Layer, fmt
from .custom_modules import _custom, _import_torch
from .ops import _Ops
from .tables import _functional_table, _module_table
from .values import _UNKNOWN, _Skip, _Unsupported

__all__ = ["from_torch"]


def _target_name(target) -> str:
    if isinstance(target, str):
        return f"Tensor.{target}"
    module = getattr(target, "__module__", None) or ""
    name = getattr(target, "__qualname__", None) or getattr(target, "__name__", repr(target))
    if name == "boolean_dispatch.<locals>.fn" or name.startswith("_VariableFunctionsClass."):
        name = getattr(target, "__name__", name)
    if module in ("_operator", "operator"):
        return f"operator.{name}"
    if module.startswith("torch._C") or module in ("", "builtins"):
        return name if module in ("", "builtins") else f"torch.{name}"
    return f"{module}.{name}"


def _where(node) -> str:
    """``file:line`` of the user code that produced ``node`` (from fx's recorded stack), or ''."""
    trace = getattr(node, "stack_trace", None) or ""
    found = re.findall(r'File "([^"]+)", line (\d+), in (\S+)\n\s*(.*)', trace)
    torch_dir = os.path.dirname(_import_torch().__file__)
    user = [f for f in found if not f[0].startswith(torch_dir)]
    if not user:
        return ""
    file, line, _, code = user[-1]
    return f" at {os.path.basename(file)}:{line} `{code.strip()}`"
class _Reader(_Ops):
    """Walks a torch.fx graph and builds the symcnn graph, collecting every unsupported operation."""

    def __init__(self, root, input_shape, custom):
        self.root = root
        self.input_shape = input_shape
        self.custom = custom
        self.table = _module_table()
        self.functions = _functional_table()
        self.own = tuple(_custom().values())
        self.env: dict = {}
        self.unsupported: list[str] = []
        self.layers: dict[int, object] = {}  # id(torch module) -> symcnn layer (a module called twice shares it)
        self.used: dict[str, int] = {}
        self.input = None
        self.output = None

    # the leaf rule shared with the tracer
    def custom_for(self, module, path: str):
        for key in (path, type(module), type(module).__name__):
            if key in self.custom:
                return self.custom[key]
        return None

    def is_leaf(self, module, path: str) -> bool:
        return (self.custom_for(module, path) is not None or type(module) in self.table
                or (isinstance(module, self.own) and hasattr(module, "symcnn_layer")))

    # values
    def value(self, arg):
        if isinstance(arg, (list, tuple)):
            return type(arg)(self.value(a) for a in arg)
        if isinstance(arg, dict):
            return {k: self.value(v) for k, v in arg.items()}
        if type(arg).__name__ == "Node" and hasattr(arg, "op"):
            return self.env[arg]
        return arg

    def name(self, base: str) -> str:
        count = self.used.get(base, 0)
        self.used[base] = count + 1
        return base if count == 0 else f"{base}_{count}"

    def tensor(self, v, what: str = "input"):
        if v is _UNKNOWN:
            raise _Skip
        if not isinstance(v, Node):
            raise _Unsupported(f"its {what} is {v!r}, not a tensor")
        return v

    def shape(self, node) -> tuple:
        """Symbolic shape (batch excluded) of a tensor value, by analysing the graph built so far."""
        from ..._analysis import analyze

        if node is self.input:
            return tuple(self.input_shape)
        return tuple(analyze(Graph(self.input, node), self.input_shape).output_shape)

    def apply(self, layer, inputs, base: str):
        return layer(*inputs, name=self.name(base))

    # the walk
    def run(self, graph):
        for node in graph.nodes:
            try:
                self.env[node] = self.visit(node)
            except _Skip:
                self.env[node] = _UNKNOWN
            except _Unsupported as e:
                self.env[node] = _UNKNOWN
                self.unsupported.append(f"{self.describe(node)}: {e}{_where(node)}")
            except SymcnnError as e:
                self.env[node] = _UNKNOWN
                self.unsupported.append(f"{self.describe(node)}: {e}{_where(node)}")
        return self.output

    def describe(self, node) -> str:
        if node.op == "call_module":
            module = self.root.get_submodule(node.target)
            return f"module '{node.target}' ({type(module).__module__}.{type(module).__name__})"
        if node.op == "get_attr":
            return f"node '{node.name}' (reads attribute '{node.target}')"
        stack = node.meta.get("nn_module_stack") or {}
        inside = ""
        if stack:
            path, kind = list(stack.values())[-1]
            inside = f" in module '{path}' ({getattr(kind, '__qualname__', kind)})"
        return f"node '{node.name}' ({node.op} {_target_name(node.target)}){inside}"

    def visit(self, node):
        if node.op == "placeholder":
            if self.input is not None:
                if node.args:  # an argument with a default value: a constant
                    return node.args[0]
                raise _Unsupported("a second input; from_torch reads models with one input tensor")
            self.input = Input()
            return self.input
        if node.op == "output":
            out = self.value(node.args[0])
            if out is _UNKNOWN:
                raise _Skip
            self.output = self.tensor(out, "output")
            return self.output
        if node.op == "get_attr":
            raise _Unsupported("functional use of a parameter or buffer; wrap it in a module or give "
                               "`custom=` formulas for the module that owns it")
        if node.op == "call_module":
            return self.call_module(node)
        return self.call_function(node)

    def call_module(self, node):
        module = self.root.get_submodule(node.target)
        layer = self.layers.get(id(module))
        if layer is None:
            spec = self.custom_for(module, node.target)
            if spec is not None:
                layer = copy.deepcopy(spec)  # one layer per module: a type-keyed entry must not share parameters
            elif isinstance(module, self.own) and hasattr(module, "symcnn_layer"):
                layer = module.symcnn_layer
            elif type(module) in self.table:
                layer = self.table[type(module)](module)
            else:
                raise _Unsupported("no symcnn formulas for this module type; give them with "
                                   f"custom={{'{node.target}': symcnn.Opaque(...)}}")
            self.layers[id(module)] = layer
        args = self.value(node.args)
        if any(a is _UNKNOWN for a in args):
            raise _Skip
        return self.apply(layer, tuple(self.tensor(a) for a in args), node.target)

    def call_function(self, node):
        target = node.target
        spec = self.custom.get(node.name) or self.custom.get(_target_name(target))
        handler = self.functions.get(target)
        if spec is None and handler is None:
            raise _Unsupported("no symcnn formulas for this operation")
        args, kwargs = self.value(node.args), self.value(node.kwargs)
        if any(a is _UNKNOWN for a in args) or any(v is _UNKNOWN for v in kwargs.values()):
            raise _Skip
        if any(isinstance(a, (list, tuple)) and any(x is _UNKNOWN for x in a) for a in args):
            raise _Skip
        if spec is not None:
            return self.apply(copy.deepcopy(spec), (self.tensor(args[0]),), node.name)
        kind = handler if isinstance(handler, str) else handler[0]
        return getattr(self, f"op_{kind}")(node, handler, args, kwargs)


def _custom_table(custom) -> dict:
    if custom is None:
        return {}
    if not isinstance(custom, dict):
        raise SymcnnError(f"from_torch: `custom`={custom!r} must be a dict mapping a module path, module type, "
                          "type name or operation name to a symcnn layer (e.g. symcnn.Opaque(...))")
    for key, value in custom.items():
        if not isinstance(key, (str, type)):
            raise SymcnnError(f"from_torch: `custom` key {key!r} must be a module path, a type name or a type")
        if not isinstance(value, (Layer, Sequential, Graph)):
            raise SymcnnError(f"from_torch: `custom`[{key!r}] is a {type(value).__name__}; give a symcnn layer "
                              "such as symcnn.Opaque(output_shape=..., params=..., macs=...)")
    return dict(custom)


def from_torch(module, input_shape, custom=None) -> Graph:
    """Read a ``torch.nn.Module`` into a symcnn :class:`~symcnn.Graph` (through ``torch.fx`` symbolic tracing).

    Args:
        module: the torch model (one input tensor).
        input_shape: ``(C, *spatial)`` without the batch dimension, numbers or symbols such as ``(3, H, W)``;
            used to check the model and to read shape-dependent operations (``F.pad``, ``x.view(-1, k)``).
        custom: formulas for what symcnn does not know, ``{key: layer}`` where ``key`` is a module path
            (``"layer1.0.se"``), a module type or its name, or an operation's fx node name / function name,
            and ``layer`` a symcnn layer (typically :class:`symcnn.Opaque`) applied to the first input.

    Returns:
        A ``Graph`` whose layers are named after the fx targets (``"layer1.0.conv1"``; functional calls after
        their fx node names). ``symcnn.analyze(graph, input_shape)`` then gives the symbolic figures.

    Raises:
        SymcnnError: PyTorch is missing, the model cannot be traced, or operations are unsupported: one
            error listing each (node, module path and source position when fx records it).
    """
    torch = _import_torch()
    import torch.fx as fx

    from ..._analysis import _as_shape, analyze

    if not isinstance(module, torch.nn.Module):
        raise SymcnnError(f"from_torch: `module` is a {type(module).__name__}; expected a torch.nn.Module")
    shape = _as_shape(input_shape)
    reader = _Reader(module, shape, _custom_table(custom))

    class Tracer(fx.Tracer):
        def is_leaf_module(self, m, qualname):
            return reader.is_leaf(m, qualname) or (
                super().is_leaf_module(m, qualname) and not isinstance(m, torch.nn.Sequential))

    tracer = Tracer()
    tracer.record_stack_traces = True
    try:
        graph = tracer.trace(module)
    except Exception as e:  # fx's own errors (data-dependent control flow, ...): one clear message
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        raise SymcnnError(
            f"from_torch: torch.fx cannot trace {type(module).__name__}: {type(e).__name__}: {first}. Give the "
            "module that fails formulas with custom={'path.or.Type': symcnn.Opaque(...)} (it is then not traced)"
        ) from None
    reader.run(graph)
    if reader.unsupported:
        lines = "\n".join(f"  - {u}" for u in reader.unsupported)
        raise SymcnnError(
            f"from_torch: {len(reader.unsupported)} unsupported operation(s) in {type(module).__name__}:\n{lines}\n"
            "Give their formulas with custom={'module.path' or 'TypeName' or 'node_name': symcnn.Opaque("
            "output_shape=..., params=..., macs=...)}"
        )
    if reader.output is None or reader.output is reader.input:
        raise SymcnnError(f"from_torch: {type(module).__name__} has no layers between its input and output")
    net = Graph(reader.input, reader.output, name=type(module).__name__)
    try:
        analyze(net, shape)
    except SymcnnError as e:
        raise SymcnnError(f"from_torch: {type(module).__name__} on input {fmt(tuple(shape))}: {e}") from None
    return net
