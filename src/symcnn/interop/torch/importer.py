"""``from_torch``: a ``torch.nn.Module``, traced with ``torch.fx``, becomes a symcnn ``Graph``."""

from __future__ import annotations

import copy
import os
import re

from ..._errors import SymcnnError
from ..._graph import Graph, Input, Node, Sequential
from ...layers._base import Layer, fmt
from .custom_modules import _custom, _import_torch
from .custom_tensor import _tensor_custom
from .module_calls import _has_unknown, _ModuleCalls
from .ops import _Ops
from .ops_tensor import TENSOR_SIZE_KINDS, _TensorOps
from .param_ops import _has_node, _ParamOps, _params_in
from .tables import _functional_table, _module_table, leaf_functions
from .unused import BufferWeights, SharedParameters, UnusedParameters, WeightNorms, WeightParameters, parameter_report
from .values import _UNKNOWN, _Dim, _show, _Sizes, _Skip, _Unsupported

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


def _call_name(target) -> str:
    """``_target_name``, but a function of ``torch.nn.functional`` always by that name (``F.avg_pool2d`` is
    ``torch._C._nn.avg_pool2d``): the tools that patch ``F`` see it so."""
    name = getattr(target, "__name__", None)
    if isinstance(name, str) and getattr(_import_torch().nn.functional, name, None) is target:
        return f"torch.nn.functional.{name}"
    return _target_name(target)


def _scope_of(node) -> str:
    """The path of the module whose forward made fx node ``node`` ("" at the top level or for the output)."""
    stack = node.meta.get("nn_module_stack") or {}
    return list(stack.values())[-1][0] if stack and node.op != "output" else ""


def _where(node) -> str:
    """``file:line`` of the user code that produced ``node`` (from fx's recorded stack), or ''."""
    trace = getattr(node, "stack_trace", None) or ""
    found = re.findall(r'File "([^"]+)", line (\d+), in (\S+)\n\s*(.*)', trace)
    torch_dir = os.path.dirname(_import_torch().__file__)
    own_dir = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # symcnn's tracer
    user = [f for f in found if not f[0].startswith((torch_dir, own_dir))]
    if not user:
        return ""
    file, line, _, code = user[-1]
    return f" at {os.path.basename(file)}:{line} `{code.strip()}`"


class _Reader(_ModuleCalls, _Ops, _TensorOps, _ParamOps):
    """Walks a torch.fx graph and builds the symcnn graph, collecting every unsupported operation."""

    def __init__(self, root, input_shape, custom):
        self.root = root
        self.input_shape = input_shape
        self.custom = custom
        self.table = _module_table()
        self.functions = _functional_table()
        self.own = tuple(_custom().values()) + tuple(_tensor_custom().values())
        self.env: dict = {}
        self.unsupported: list[str] = []
        self.layers: dict[int, object] = {}  # id(torch module) -> symcnn layer (a module called twice shares it)
        self.modules: dict[int, str] = {}  # id(symcnn layer) -> path of the torch module it reads
        self.overridden: dict[type, type] = {}  # subclasses of known modules with their own forward (traced)
        self.used: dict[str, int] = {}
        self.made: list = []  # the symcnn nodes made while reading the current fx node (see stamp_leaf)
        self.input = None
        self.output = None
        self.target = None  # the fx node of the output read (one tensor of what forward returns)

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
            raise _Unsupported(f"its {what} is {_show(v)}, not a tensor")
        return v

    def shape(self, node) -> tuple:
        """Symbolic shape (batch excluded) of a tensor value, by analysing the graph built so far."""
        return self.cached_shape(node)

    def apply(self, layer, inputs, base: str):
        if self.call is not None:
            object.__setattr__(layer, "_torch_call", self.call)  # layers are frozen; a private record
        if self.scope:
            object.__setattr__(layer, "_torch_scope", self.scope)
        out = layer(*inputs, name=self.name(base))
        self.made.append(out)
        return out

    #: how the operation being read was called, stamped on each layer it makes as ``_torch_call`` (read by
    #: :func:`symcnn.count`: the tools count a module, a subclass of it and a function call differently):
    #: ``("module", class)`` for a class symcnn reads, ``("subclass", class)`` for a subclass of one with the
    #: same forward, ``("function", name)`` for a function or tensor method (``"Tensor.mean"``); ``None`` for
    #: custom formulas and symcnn's own modules (left as the user built them). Set by call_module/call_function.
    call: tuple | None = None
    #: the path of the module whose forward called the function being read (``"layer1.0"``; ``""`` at the top),
    #: stamped on each layer it makes as ``_torch_scope``: a functional ``x + identity`` inside a block is named
    #: after its fx node (``"add"``), and :func:`symcnn.training` checkpoints it with that block
    scope: str = ""

    # the walk
    def run(self, graph, live):
        for node in graph.nodes:
            if node not in live and node.op != "output":  # dead code, or what only an unselected output uses
                self.env[node] = _UNKNOWN
                continue
            self.made = []
            try:
                self.env[node] = self.visit(node)
                self.stamp_leaf(node)
            except _Skip:
                self.env[node] = _UNKNOWN
            except _Unsupported as e:
                self.env[node] = _UNKNOWN
                self.unsupported.append(f"{self.describe(node)}: {e}{_where(node)}")
            except SymcnnError as e:
                self.env[node] = _UNKNOWN
                self.unsupported.append(f"{self.describe(node)}: {e}{_where(node)}")
        return self.output

    def stamp_leaf(self, node) -> None:
        """A function read as the output of a leaf module traced into (timm's ``StdConv2d``: its ``F.conv2d``)
        stamps the layer it made with ``_torch_leaf`` = (class name, elements of its parameters named ``weight``
        or ``bias``, of the others whose name contains ``weight`` or ``bias``): torchinfo hooks that module and
        counts it from them (see :mod:`symcnn.counting_calls`)."""
        value, path = self.env[node], _scope_of(node)
        if node.op != "call_function" or not path or not any(v is value for v in self.made):
            return
        call = getattr(value.module, "_torch_call", None)
        if call is None or call[0] != "function" or all(_scope_of(u) == path for u in node.users):
            return  # not what the module returns (its users are inside it)
        try:
            module = self.root.get_submodule(path)
        except AttributeError:
            return
        if any(True for _ in module.children()):
            return  # torchinfo counts leaf modules only
        exact = sum(p.numel() for n, p in module.named_parameters() if n in ("weight", "bias"))
        named = sum(p.numel() for n, p in module.named_parameters()
                    if n not in ("weight", "bias") and ("weight" in n or "bias" in n))
        object.__setattr__(value.module, "_torch_leaf", (type(module).__name__, exact, named))

    def describe(self, node) -> str:
        if node.op == "call_module":
            module = self.root.get_submodule(node.target)
            return f"module '{node.target}' ({type(module).__module__}.{type(module).__name__})"
        stack = node.meta.get("nn_module_stack") or {}
        inside = ""
        if stack:
            path, kind = list(stack.values())[-1]
            inside = f" in module '{path}' ({getattr(kind, '__qualname__', kind)}{self.traced_note(kind)})"
        if node.op == "get_attr":
            return f"node '{node.name}' (reads attribute '{node.target}'){inside}"
        return f"node '{node.name}' ({node.op} {_target_name(node.target)}){inside}"

    def traced_note(self, kind) -> str:
        base = self.overridden.get(kind) if isinstance(kind, type) else None
        if base is None:
            return ""
        return f", a subclass of {base.__name__} with its own forward: traced into"

    def visit(self, node):
        if node.op == "placeholder":
            if self.input is not None:
                if node.args:  # an argument with a default value: a constant
                    return node.args[0]
                raise _Unsupported("a second input; from_torch reads models with one input tensor")
            self.input = Input()
            return self.input
        if node.op == "output":
            out = self.value(self.target)
            if out is _UNKNOWN:
                raise _Skip
            self.output = self.tensor(out, "output")
            return self.output
        if node.op == "get_attr":
            return self.read_attr(node)
        if node.op == "call_module":
            self.scope = ""  # named by its module path already
            return self.call_module(node)
        return self.call_function(node)

    def call_function(self, node):
        self.call = ("function", _call_name(node.target))  # stamped on the layers made (see `call`)
        stack = node.meta.get("nn_module_stack") or {}
        self.scope = list(stack.values())[-1][0] if stack else ""
        target = node.target
        spec = self.custom.get(node.name) or self.custom.get(_target_name(target))
        handler = self.functions.get(target)
        args, kwargs = self.value(node.args), self.value(node.kwargs)
        if spec is None and _params_in((args, kwargs)) and not _has_node((args, kwargs)):
            if _has_unknown(args) or _has_unknown(kwargs):
                raise _Skip
            return self.on_params(node, args, kwargs)  # e.g. self.weight.reshape(...): a parameter again
        if spec is None and handler is None:
            raise _Unsupported("no symcnn formulas for this operation")
        if _has_unknown(args) or _has_unknown(kwargs):
            raise _Skip
        if spec is not None:
            self.call = None  # custom formulas: counted as the user gave them
            return self.apply(copy.deepcopy(spec), (self.tensor(args[0]),), node.name)
        kind = handler if isinstance(handler, str) else handler[0]
        if kind in ("add", "mul", "tensor_add", "tensor_mul") and _params_in(args):
            return self.param_merge(node, args, kwargs, kind.removeprefix("tensor_"))
        if kind not in _SIZE_KINDS:  # a layer's arguments: sizes read in forward are their formulas
            args, kwargs = _formulas(args), _formulas(kwargs)
        return getattr(self, f"op_{kind}")(node, handler, args, kwargs)


#: operation kinds that read sizes as sizes (the others get the formulas of the sizes they are given)
_SIZE_KINDS = frozenset({"size", "getattr", "getitem", "add", "mul", "size_arith", "view", "interpolate",
                         *TENSOR_SIZE_KINDS})


def _formulas(value):
    if isinstance(value, (list, tuple)):
        return type(value)(_formulas(v) for v in value) if not isinstance(value, _Sizes) else tuple(
            _formulas(v) for v in value)
    if isinstance(value, dict):
        return {k: _formulas(v) for k, v in value.items()}
    return value.value if isinstance(value, _Dim) else value


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


def from_torch(module, input_shape, custom=None, *, output=None, count_unused=True) -> Graph:
    """Read a ``torch.nn.Module`` into a symcnn :class:`~symcnn.Graph` (through ``torch.fx`` symbolic tracing).

    Args:
        module: the torch model (one input tensor).
        input_shape: ``(C, *spatial)`` without the batch dimension, numbers or symbols such as ``(3, H, W)``;
            used to check the model and to read shape-dependent operations (``F.pad``, ``x.view(-1, k)``,
            sizes read with ``x.shape`` / ``x.size()``, which stay formulas).
        custom: formulas for what symcnn does not know, ``{key: layer}`` where ``key`` is a module path
            (``"layer1.0.se"``), a module type or its name, or an operation's fx node name / function name,
            and ``layer`` a symcnn layer (typically :class:`symcnn.Opaque`) applied to the first input.
        output: for a model returning a dict, tuple or list (segmentation models' ``{'out': ..., 'aux': ...}``),
            the key or index of the tensor to read; what only the other outputs use is then unused.
        count_unused: count the parameters ``forward`` never reaches (an unused ``nn.Linear``, auxiliary heads
            not called in eval) as ``sum(p.numel() for p in module.parameters())`` does (default), through one
            ``UnusedParameters`` layer after the output (identity, 0 MACs); ``False`` counts the used ones only.
            Either way the result's ``unused_parameters`` lists them.

    Returns:
        A ``Graph`` whose layers are named after the fx targets (``"layer1.0.conv1"``; functional calls after
        their fx node names). ``symcnn.analyze(graph, input_shape)`` then gives the symbolic figures. Its
        attribute ``unused_parameters`` maps module (or parameter) paths never reached to their parameter
        counts; ``notes`` says in words what was assumed (unused and shared parameters, subclasses traced into).

    Raises:
        SymcnnError: PyTorch is missing, the model cannot be traced, or operations are unsupported: one
            error listing each (node, module path and source position when fx records it).
    """
    torch = _import_torch()
    import torch.fx as fx

    from ..._analysis import _as_shape, analyze

    if not isinstance(module, torch.nn.Module):
        raise SymcnnError(f"from_torch: `module` is a {type(module).__name__}; expected a torch.nn.Module")
    if not isinstance(count_unused, bool):
        raise SymcnnError(f"from_torch: `count_unused`={count_unused!r} must be True or False")
    shape = _as_shape(input_shape)
    reader = _Reader(module, shape, _custom_table(custom))
    model = type(module).__name__

    class Tracer(fx.Tracer):
        def is_leaf_module(self, m, qualname):
            return reader.is_leaf(m, qualname) or (
                super().is_leaf_module(m, qualname) and not isinstance(m, torch.nn.Sequential))

        # fx looks a parameter's name up among all parameters at every read (quadratic in big models): once here
        def _name_of(self, a):
            names = self.__dict__.get("_names")
            if names is None:
                names = self._names = {}
                for n, p in (*self.root.named_parameters(), *self.root.named_buffers()):
                    names.setdefault(id(p), n)
            return names.get(id(a))

        def create_arg(self, a):
            name = self._name_of(a) if isinstance(a, torch.nn.Parameter) else None
            if name is not None:
                return self.create_node("get_attr", name, (), {})
            return super().create_arg(a)

        def getattr(self, attr, attr_val, parameter_proxy_cache):
            proxied = isinstance(attr_val, torch.nn.Parameter) or (
                self.proxy_buffer_attributes and isinstance(attr_val, torch.Tensor))  # as fx's own getattr
            name = self._name_of(attr_val) if proxied else None
            if name is None or self.param_shapes_constant:
                return super().getattr(attr, attr_val, parameter_proxy_cache)
            if name not in parameter_proxy_cache:
                parameter_proxy_cache[name] = self.create_proxy("get_attr", name, (), {})
            return parameter_proxy_cache[name]

    tracer = Tracer(autowrap_functions=leaf_functions())
    tracer.record_stack_traces = True
    try:
        graph = tracer.trace(module)
    except Exception as e:  # fx's own errors (data-dependent control flow, ...): one clear message
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        raise SymcnnError(
            f"from_torch: torch.fx cannot trace {model}: {type(e).__name__}: {first}. Give the "
            "module that fails formulas with custom={'path.or.Type': symcnn.Opaque(...)} (it is then not traced)"
        ) from None
    returned = next(n for n in graph.nodes if n.op == "output").args[0]
    reader.target = _select_output(returned, output, model)
    reader.run(graph, _ancestors(reader.target))
    if reader.unsupported:
        lines = "\n".join(f"  - {u}" for u in reader.unsupported)
        raise SymcnnError(
            f"from_torch: {len(reader.unsupported)} unsupported operation(s) in {model}:\n{lines}\n"
            "Give their formulas with custom={'module.path' or 'TypeName' or 'node_name': symcnn.Opaque("
            "output_shape=..., params=..., macs=...)}"
        )
    if reader.output is None or reader.output is reader.input:
        raise SymcnnError(f"from_torch: {model} has no layers between its input and output")
    net, notes = _with_parameter_notes(reader, count_unused)
    net.name = model
    try:
        analyze(net, shape)
    except SymcnnError as e:
        raise SymcnnError(f"from_torch: {model} on input {fmt(tuple(shape))}: {e}") from None
    notes += [f"'{type_.__name__}' subclasses {base.__name__} with its own forward: traced into it"
              for type_, base in reader.overridden.items()]
    net.notes = tuple(notes)
    return net


def _select_output(returned, output, model: str):
    """The fx node of the tensor read: what forward returns, or its ``output`` entry for a dict/tuple/list."""
    if isinstance(returned, dict):
        keys = list(returned)
    elif isinstance(returned, (tuple, list)):
        keys = list(range(len(returned)))
    else:
        if output is not None:
            raise SymcnnError(f"from_torch: `output`={output!r} selects an entry of a dict/tuple/list output, but "
                              f"{model}.forward returns one value")
        return returned
    what = f"a dict with keys {', '.join(map(repr, keys))}" if isinstance(returned, dict) else \
        f"a {type(returned).__name__} of {len(keys)} values"
    if output is None:
        raise SymcnnError(f"from_torch: {model}.forward returns {what}; symcnn reads one output tensor: choose it "
                          f"with output={keys[0]!r} (what only the other outputs use is then listed as unused)")
    if isinstance(output, bool) or output not in keys:
        raise SymcnnError(f"from_torch: `output`={output!r} is not an entry of what {model}.forward returns "
                          f"({what})")
    chosen = returned[output]
    if isinstance(chosen, (dict, tuple, list)):
        raise SymcnnError(f"from_torch: `output`={output!r} of {model}.forward is itself a "
                          f"{type(chosen).__name__}; symcnn reads one output tensor")
    return chosen


def _ancestors(target) -> set:
    """The fx nodes ``target`` depends on (itself included); nothing when it is not a node."""
    seen: set = set()
    stack = [target] if hasattr(target, "all_input_nodes") else []
    while stack:
        n = stack.pop()
        if n not in seen:
            seen.add(n)
            stack.extend(n.all_input_nodes)
    return seen


def _with_parameter_notes(reader, count_unused: bool):
    """The graph, with the unused and shared parameters appended (see :mod:`.unused`), and notes in words."""
    net = Graph(reader.input, reader.output)
    used = [reader.modules[id(n.module)] for n in net._order if id(n.module) in reader.modules]
    reader._param_books()
    unused, repeated, weights_only = parameter_report(reader.root, used, reader._counted, reader._read)
    out, notes = reader.output, []
    if weights_only:
        notes.append("parameters read in forward only to compute other layers' weights are counted: "
                     f"{', '.join(weights_only)}")
        out = WeightParameters(weights_only)(out, name=reader.name("weight_parameters"))
    if unused:
        total = sum(unused.values())
        listed = ", ".join(f"'{k}' ({v:,})" for k, v in unused.items())
        notes.append(f"{total:,} parameters of modules forward never reaches ({listed}) are "
                     f"{'counted, as sum(p.numel()) counts them' if count_unused else 'not counted'}")
        if count_unused:
            out = UnusedParameters(unused)(out, name=reader.name("unused_parameters"))
    if repeated:
        notes.append(f"parameters shared by several modules are counted once: {', '.join(repeated)}")
        out = SharedParameters(repeated)(out, name=reader.name("shared_parameters"))
    if reader._buffer_weights:
        listed = ", ".join(f"'{k}' ({v:,})" for k, v in reader._buffer_weights.items())
        notes.append(f"buffers read as a layer's weight are not parameters (sum(p.numel()) leaves them out): {listed}")
        out = BufferWeights(reader._buffer_weights)(out, name=reader.name("buffer_weights"))
    if reader._weight_norms:
        notes.append(f"{len(reader._weight_norms)} norm function call(s) on parameters (weight standardisation) "
                     "cost nothing per input position; fvcore counts them (see symcnn.count)")
        out = WeightNorms(reader._weight_norms)(out, name=reader.name("weight_norms"))
    if out is not reader.output:
        net = Graph(reader.input, out)
    net.unused_parameters = dict(unused)
    return net, notes
