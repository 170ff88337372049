"""ONNX in: any framework's CNN (PyTorch, Keras/TensorFlow through tf2onnx, PaddlePaddle, JAX) as a symcnn graph.

    net = sc.from_onnx("resnet50.onnx")                 # dims "height", "width" become symbols
    sc.analyze(net, net.input_shape).output_shape       # (1000,)

The graph's symbolic dims (``dim_param``) become symcnn symbols (``"height"`` -> ``height``) unless
``input_shape=`` names them. Each ONNX operator a CNN uses maps to the symcnn layer with the same semantics
(the ONNX operator spec's): Conv (auto_pad NOTSET / SAME_UPPER / SAME_LOWER / VALID, explicit pads),
ConvTranspose (output_padding, output_shape), MaxPool / AveragePool (ceil_mode, count_include_pad),
GlobalAveragePool, Gemm / MatMul with constant weights, BatchNormalization, the activations, Add / Sub / Mul /
Div (with broadcasting), Concat, Flatten, Reshape / Transpose where they only regroup (and the channels-last
layout of TensorFlow models exported with tf2onnx: an NHWC input read through a Transpose), Resize / Upsample
(sizes as onnxruntime computes them from the float32 scales, keep_aspect_ratio_policy, axes), Pad,
and the Shape / Gather / Slice / Concat chains that compute sizes (read as formulas, never executed).
Weights are read only as shapes (initializers give the parameter counts; external data is never loaded).
An operator symcnn does not know is refused, naming its type and node, never counted as zero.

Parameters are the file's initializers that layers read as learned weights (a convolution's weight and bias,
a Gemm's matrices, a normalisation's scale and shift, a PRelu slope, a tensor added to or multiplied with an
activation, a stored tensor of one value too: HGNetV2's learned scale; a rank-0 initializer is read as a number,
as the dynamo exporter stores ``x * 0.5``), each counted once: exporters store identical initializers once (the
zero biases of convolutions with folded BatchNorm), and a tensor read by several layers is one tensor, as
``sum(p.numel() for p in model.parameters())`` counts a shared parameter once (:class:`SharedInitializers`
carries the correction).
Running statistics and the exporter's own constants (GroupNorm's lowering writes scale 1 and bias 0) are not
parameters.

Also read: GroupNorm's lowering (Reshape to (N, G, -1), InstanceNormalization, Reshape back), InstanceNormalization,
the channel shuffle's 5-D Reshape / Transpose / Reshape, Split and Slice of the channel axis (``chunk``, ``split``:
one :class:`symcnn.Narrow` each), element-wise operators such as Erf (GELU written out), Pad's computed pads
(ConstantOfShape chains, folded), Expand of an activation (ECA's ``expand_as``), paths stacked on a new axis 1 with
the softmax and sum over them (SKNet's attention, :mod:`._stack`) and ResNeSt's split attention (rSoftMax with
cardinality 1).
"""

from __future__ import annotations

import gc
from collections import Counter

import sympy

from ..._errors import SymcnnError
from ..._graph import Graph, Input
from ...layers._base import LayerResult, Shape
from ...layers.activation import Identity
from ._ops import FOLDABLE, HANDLERS, OpError, _fold
from ._reader import MAX_NODES, UNKNOWN, Const, Tensor, attributes, const_from_tensor, input_value, load

__all__ = ["from_onnx", "OnnxGraph", "SUPPORTED_OPS", "SharedInitializers"]

#: the opsets symcnn reads (onnxruntime implements the CPU operators from opset 7 on)
MIN_OPSET = 7

#: the ONNX operator types symcnn reads
SUPPORTED_OPS = tuple(sorted(HANDLERS))


class OnnxGraph(Graph):
    """A :class:`symcnn.Graph` read from ONNX, with the input shape the file declares (``input_shape``, dims
    as symbols) and the batch size it declares (``batch``)."""

    def __init__(self, inputs, outputs, *, name, input_shape, batch, opset):
        super().__init__(inputs, outputs, name=name)
        self.input_shape = input_shape
        self.batch = batch
        self.opset = opset


class SharedInitializers(Identity):
    """An identity on the output carrying minus the parameters counted more than once: initializers read by
    several layers (``groups``: initializer name -> the repeated count), so each is counted once."""

    counts_activations = False

    def __init__(self, groups):
        self._set(args=(), kwargs={}, groups=tuple((str(k), int(v)) for k, v in dict(groups).items()))
        self._freeze()

    def __repr__(self) -> str:
        return f"{self.kind}({', '.join(f'{k}={v}' for k, v in self.groups)})"

    def infer(self, x: Shape) -> LayerResult:
        return LayerResult(output_shape=Shape(x), params=sympy.Integer(-sum(v for _, v in self.groups)))


_INPUT_KIND = "pkg.torch.export.graph_signature.InputSpec.kind"


def _where(node) -> str:
    return f"node {node.name or '(unnamed)'!r} ({node.op_type})"


class _Walk:
    def __init__(self, graph, batch, opset=None):
        self.graph = graph
        self.batch = batch
        self.opset = opset
        self.values: dict[str, object] = {}
        self.refused: list[str] = []
        self.names: Counter = Counter()
        self.consumers: dict[str, list] = {}
        # each node's fields read once from the protobuf (a Python list is read faster than a repeated field)
        self.nodes = [(node, list(node.input), list(node.output), node.op_type) for node in graph.node]
        for node, inputs, _, _ in self.nodes:
            for name in inputs:
                if name:
                    self.consumers.setdefault(name, []).append(node)
        self.fused: set[int] = set()  # ids of Add nodes folded into a MatMul as its bias
        self.node = None
        self.reads: Counter = Counter()  # initializer name -> layers that counted it
        self.sizes: dict[str, int] = {}
        #: initializers the file marks as the model's parameters (the dynamo exporter's torch.export signature):
        #: a rank-0 one is a learned scalar, not a number
        self.parameters = {v.name for v in graph.value_info for p in v.metadata_props
                           if p.key == _INPUT_KIND and p.value == "PARAMETER"}

    def is_used(self, value_name: str) -> bool:
        return bool(self.consumers.get(value_name)) or value_name in {o.name for o in self.graph.output}

    def _name(self, node, suffix: str | None) -> str:
        base = node.name or f"{node.op_type}_{node.output[0]}"
        base = base.strip("/").replace("/", ".") or node.op_type
        if suffix:
            base = f"{base}.{suffix}"
        self.names[base] += 1
        return base if self.names[base] == 1 else f"{base}_{self.names[base] - 1}"

    def emit(self, layer, inputs: list[Tensor], node, *, weights=(), suffix: str | None = None,
             same_shape: bool = False) -> Tensor:
        """Apply ``layer`` to the activations, check its parameter count against the consumed initializers.
        ``same_shape``: an element-wise layer without weights, whose output shape is its input's (its formulas
        are left to the analysis: reading a 200,000-node chain does not evaluate them twice)."""
        if same_shape and not weights and len(inputs) == 1:
            out = layer(inputs[0].node, name=self._name(node, suffix))
            return Tensor(out, inputs[0].shape)
        shapes = tuple(t.shape for t in inputs)
        try:
            result = layer.infer(*shapes)
        except SymcnnError as e:
            raise OpError(str(e)) from None
        read = [w for w in weights if isinstance(w, Const) and w.initializer]
        consumed = sum(w.numel for w in read)
        if read and result.params != consumed and sympy.expand(result.params - consumed) != 0:
            raise OpError(f"{layer!r} has {result.params} parameters but the node's initializers hold "
                          f"{consumed} values")
        for w in read:
            if w.name is not None:
                self.reads[w.name] += 1
                self.sizes[w.name] = w.numel
        out = layer(*(t.node for t in inputs), name=self._name(node, suffix))
        return Tensor(out, result.output_shape)

    def fused_bias(self, node, m: int):
        """The constant bias of ``MatMul -> Add(const)`` (how exporters write a Linear), or None."""
        users = self.consumers.get(node.output[0], [])
        if len(users) != 1 or users[0].op_type != "Add" or node.output[0] in {o.name for o in self.graph.output}:
            return None
        add = users[0]
        other = [n for n in add.input if n != node.output[0]]
        if len(other) != 1:
            return None
        c = self.values.get(other[0])
        if isinstance(c, Const) and c.dims in ((m,), (1, m)):
            self.fused.add(id(add))
            return c
        return None

    def run(self) -> None:
        values, get = self.values, self.values.get
        for node, inputs, outputs, op in self.nodes:
            if self.fused and id(node) in self.fused:  # the Add folded into the Linear before it
                values[outputs[0]] = values[self._fused_source(node)]
                continue
            ins = [get(n, UNKNOWN) if n else None for n in inputs]
            if UNKNOWN in ins:
                for o in outputs:
                    values[o] = UNKNOWN
                continue
            handler = HANDLERS.get(op)
            if node.domain not in ("", "ai.onnx"):
                handler = None
            try:
                if handler is None:
                    raise OpError(
                        f"the operator {node.domain + '.' if node.domain else ''}{node.op_type} is not supported "
                        f"(symcnn reads: {', '.join(SUPPORTED_OPS)})")
                self.node = node
                attrs = attributes(node)
                outs = None
                if node.op_type in FOLDABLE and all(
                        v is None or (isinstance(v, Const) and v.value is not None) for v in ins):
                    outs = _fold(node, ins, attrs)
                if outs is None:
                    outs = handler(self, node, ins, attrs)
            except (OpError, SymcnnError) as e:  # a layer constructor's refusal is the node's refusal too
                self.refused.append(f"{_where(node)}: {e}")
                outs = [UNKNOWN] * len(outputs)
            except Exception as e:  # noqa: BLE001 - the safety net: only SymcnnError leaves from_onnx
                self.refused.append(f"{_where(node)}: unexpected {type(e).__name__} while reading it ({e})")
                outs = [UNKNOWN] * len(outputs)
            if len(outs) < len(outputs):
                outs = list(outs) + [UNKNOWN] * (len(outputs) - len(outs))
            for name, value in zip(outputs, outs, strict=False):
                if name:
                    values[name] = value

    def shared(self) -> dict[str, int]:
        """Initializers counted by more than one layer: name -> the count to take off."""
        return {k: (n - 1) * self.sizes[k] for k, n in self.reads.items() if n > 1 and self.sizes[k]}

    def _fused_source(self, add_node) -> str:
        for n in add_node.input:
            v = self.values.get(n)
            if isinstance(v, Tensor):
                return n
        raise SymcnnError(f"from_onnx: internal: the fused bias {add_node.name!r} has no activation input")


def from_onnx(model, input_shape=None) -> OnnxGraph:
    """Read an ONNX model (a path or an ``onnx.ModelProto``) into a symcnn graph.

    Args:
        model: the ``.onnx`` file or a loaded ``ModelProto`` (one input, one output).
        input_shape: ``(C, *spatial)`` without the batch axis, overriding the file's dims (e.g. ``(3, H, W)``);
            by default the file's: numbers stay numbers, ``dim_param`` names become symbols.

    Returns:
        An :class:`OnnxGraph` (a :class:`symcnn.Graph`); ``symcnn.analyze(g, g.input_shape)`` gives the figures.

    Raises:
        SymcnnError: onnx is missing, the file is not a model, or operators are unsupported (one error listing
            each: node name, operator type and why).
    """
    proto = load(model)
    graph = proto.graph
    if len(graph.node) > MAX_NODES:
        raise SymcnnError(f"from_onnx: the graph has {len(graph.node):,} nodes, more than the limit {MAX_NODES:,}")
    opset = _opset(proto)
    _check_names(graph)
    name, shape, batch, channels_last = input_value(graph, input_shape)
    walk = _Walk(graph, batch, opset)
    for init in graph.initializer:
        walk.values[init.name] = const_from_tensor(init, initializer=True)
    start = Input(name)
    walk.values[name] = Tensor(start, shape, channels_last)
    enabled = gc.isenabled()
    gc.disable()  # the walk only allocates (a node, a layer, a tuple per node): the cyclic collector's passes
    try:  # over every object so far made reading 100,000 nodes 1.6 times slower
        walk.run()
    finally:
        if enabled:
            gc.enable()
    if walk.refused:
        shown = walk.refused[:20]
        more = len(walk.refused) - len(shown)
        raise SymcnnError("from_onnx: cannot read " + "; ".join(shown) + (f"; and {more} more" if more else ""))
    if len(graph.output) != 1:
        names = ", ".join(repr(o.name) for o in graph.output)
        raise SymcnnError(f"from_onnx: the graph has {len(graph.output)} outputs ({names}); symcnn reads one")
    out = walk.values.get(graph.output[0].name)
    if not isinstance(out, Tensor):
        raise SymcnnError(
            f"from_onnx: the output {graph.output[0].name!r} is not an activation computed from the input")
    if out.node is start:
        raise SymcnnError("from_onnx: the graph computes nothing (its output is its input)")
    shared = walk.shared()
    end = out.node
    if shared:
        end = SharedInitializers(shared)(end, name="shared_initializers")
    return OnnxGraph(start, end, name=graph.name or None, input_shape=shape, batch=batch, opset=opset)


def _opset(proto) -> int:
    """The default domain's opset, refused where onnxruntime refuses it (missing, older than 7, newer than the
    installed onnx knows)."""
    from onnx import defs

    versions = [o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")]
    if not versions:
        raise SymcnnError("from_onnx: the model imports no opset of the default ONNX domain")
    opset, newest = max(versions), defs.onnx_opset_version()
    if not MIN_OPSET <= opset <= newest:
        raise SymcnnError(f"from_onnx: opset {opset} is outside the opsets {MIN_OPSET} to {newest} symcnn reads "
                          "(onnxruntime refuses the others too)")
    return opset


def _check_names(graph) -> None:
    """onnxruntime's graph checks that symcnn would otherwise read past: a value defined twice."""
    seen = {t.name for t in graph.initializer}
    seen.update(i.name for i in graph.input)
    for node in graph.node:
        for o in node.output:
            if not o:
                continue
            if o in seen:
                raise SymcnnError(f"from_onnx: node {node.name or '(unnamed)'!r} ({node.op_type}) defines {o!r}, "
                                  "which is already defined (onnxruntime refuses duplicate definitions)")
            seen.add(o)
