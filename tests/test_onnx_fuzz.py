"""Hostile ONNX graphs: from_onnx raises only SymcnnError, naming the node.

Each example starts from one of a few well-formed graphs (the operator families from_onnx reads: convolution,
pooling, size chains Shape -> Gather -> Concat -> Reshape, Resize, Pad, Split, Gemm) and breaks it: an attribute
of the wrong type or value (a string kernel_shape, a float stride, a negative or huge pad, an empty list), an index
out of range, a constant of the wrong dtype or dims, an operand removed or renamed, an operator swapped, an
opset changed. Reading (and analysing what was read) must either succeed or raise SymcnnError: never ValueError
from int(), IndexError, TypeError, ZeroDivisionError or numpy's errors. The safety net that turns an unexpected
exception into a SymcnnError says "unexpected"; the fuzz requires that it is never reached either.

CI runs a sample (``SYMCNN_ONNX_FUZZ`` examples, 60 by default); ``SYMCNN_ONNX_FUZZ=1000`` runs the full count.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symcnn as sc
from symcnn import SymcnnError

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402

from symcnn.interop.onnx import from_onnx  # noqa: E402

COUNT = int(os.environ.get("SYMCNN_ONNX_FUZZ", "60"))


def _t(name, dtype, dims, values):
    return helper.make_tensor(name, dtype, dims, values)


def _base(kind: str):
    """(nodes, initializers, input dims) of a small well-formed graph of one operator family."""
    f, i64 = TensorProto.FLOAT, TensorProto.INT64
    if kind == "conv":
        return ([helper.make_node("Conv", ["x", "w", "b"], ["y"], name="conv", kernel_shape=[3, 3], strides=[2, 2],
                                  pads=[1, 1, 1, 1], dilations=[1, 1], group=1)],
                [_t("w", f, [4, 3, 3, 3], [0.1] * 108), _t("b", f, [4], [0.0] * 4)], [1, 3, "h", "w"])
    if kind == "pool":
        return ([helper.make_node("MaxPool", ["x"], ["y"], name="pool", kernel_shape=[3, 3], strides=[2, 2],
                                  pads=[1, 1, 1, 1], ceil_mode=1)], [], [1, 3, 32, 32])
    if kind == "reshape":
        return ([helper.make_node("Shape", ["x"], ["s"], name="shape"),
                 helper.make_node("Gather", ["s", "i"], ["n"], name="gather", axis=0),
                 helper.make_node("Unsqueeze", ["n", "ax"], ["n1"], name="unsq"),
                 helper.make_node("Concat", ["n1", "m1"], ["shp"], name="cat", axis=0),
                 helper.make_node("Reshape", ["x", "shp"], ["y"], name="reshape")],
                [_t("i", i64, [], [0]), _t("ax", i64, [1], [0]), _t("m1", i64, [1], [-1])], [1, 3, "h", "w"])
    if kind == "resize":
        return ([helper.make_node("Resize", ["x", "", "sc"], ["y"], name="resize", mode="linear")],
                [_t("sc", f, [4], [1, 1, 1.3, 2.0])], [1, 3, "h", "w"])
    if kind == "pad":
        return ([helper.make_node("Pad", ["x", "p"], ["y"], name="pad", mode="reflect")],
                [_t("p", i64, [8], [0, 0, 1, 2, 0, 0, 1, 2])], [1, 3, 16, 16])
    if kind == "split":
        return ([helper.make_node("Split", ["x", "sp"], ["a", "b"], name="split", axis=1),
                 helper.make_node("Add", ["a", "b"], ["y"], name="add")],
                [_t("sp", i64, [2], [2, 2])], [1, 4, "h", "w"])
    if kind == "norm":
        return ([helper.make_node("InstanceNormalization", ["x", "g", "be"], ["y"], name="inorm", epsilon=1e-5)],
                [_t("g", f, [3], [1.0] * 3), _t("be", f, [3], [0.0] * 3)], [1, 3, "h", "w"])
    return ([helper.make_node("Flatten", ["x"], ["fl"], name="flat", axis=1),
             helper.make_node("Gemm", ["fl", "wg", "bg"], ["y"], name="gemm", transB=1)],
            [_t("wg", f, [10, 48], [0.0] * 480), _t("bg", f, [10], [0.0] * 10)], [1, 3, 4, 4])


_JUNK_ATTRS = [
    "x", "", 1.5, -1, 0, 2**40, -(2**40), [], ["a", "b"], [1.5, 2.5], [-3, -3], [0, 0], [2**40, 1], [1], [1, 2, 3],
    [1, 1, 1, 1, 1, 1, 1, 1, 1], b"\xff",
]
_ATTR_NAMES = ["kernel_shape", "strides", "pads", "dilations", "group", "axis", "auto_pad", "ceil_mode", "mode",
               "perm", "axes", "split", "epsilon", "transB", "keepdims", "value", "to", "num_outputs", "allowzero",
               "coordinate_transformation_mode", "keep_aspect_ratio_policy", "storage_order", "output_padding",
               "output_shape", "count_include_pad", "start", "end", "blocksize"]
_OPS = ["Conv", "ConvTranspose", "MaxPool", "AveragePool", "Gather", "Slice", "Reshape", "Concat", "Resize", "Pad",
        "Split", "Transpose", "Unsqueeze", "Squeeze", "Shape", "Add", "Div", "Gemm", "MatMul", "Flatten",
        "InstanceNormalization", "ConstantOfShape", "Expand", "Range", "Erf", "ReduceMean", "Cast", "Where",
        "Equal", "Constant", "Identity", "BatchNormalization", "Floor", "Neg", "Sqrt", "Pow", "Tile", "Clip",
        "GlobalAveragePool", "Upsample", "NoSuchOp"]


@st.composite
def hostile(draw):
    kind = draw(st.sampled_from(["conv", "pool", "reshape", "resize", "pad", "split", "norm", "gemm"]))
    nodes, inits, dims = _base(kind)
    for _ in range(draw(st.integers(1, 4))):
        what = draw(st.sampled_from(["attr", "attr", "init", "input", "op", "dims", "drop"]))
        node = draw(st.sampled_from(nodes))
        if what == "attr":
            name = draw(st.sampled_from([a.name for a in node.attribute] + _ATTR_NAMES))
            value = draw(st.sampled_from(_JUNK_ATTRS))
            for a in list(node.attribute):
                if a.name == name:
                    node.attribute.remove(a)
            try:
                node.attribute.append(helper.make_attribute(name, value))
            except (ValueError, TypeError):
                pass
        elif what == "init" and inits:
            k = draw(st.integers(0, len(inits) - 1))
            t = inits[k]
            dtype = draw(st.sampled_from([TensorProto.INT64, TensorProto.FLOAT, TensorProto.STRING,
                                          TensorProto.BOOL, TensorProto.DOUBLE]))
            n = draw(st.integers(0, 9))
            vals = draw(st.lists(st.integers(-(2**62), 2**62) | st.sampled_from([0, 1, -1, 7, 99]), min_size=n,
                                 max_size=n))
            if dtype == TensorProto.STRING:
                values = [str(v).encode() for v in vals]
            elif dtype == TensorProto.BOOL:
                values = [bool(v) for v in vals]
            elif dtype in (TensorProto.FLOAT, TensorProto.DOUBLE):
                values = [float(v) for v in vals]
            else:
                values = vals
            shape = draw(st.sampled_from([[n], [], [1, n], [n, 1]])) if n == 1 else [n]
            inits[k] = helper.make_tensor(t.name, dtype, shape, values)
        elif what == "input" and node.input:
            j = draw(st.integers(0, len(node.input) - 1))
            node.input[j] = draw(st.sampled_from(["", "missing", "x", node.output[0]] + [t.name for t in inits]))
        elif what == "op":
            node.op_type = draw(st.sampled_from(_OPS))
        elif what == "dims":
            dims = draw(st.sampled_from([[1, 3, "h", "w"], [1, 3], [1, 0, 4, 4], [1, 3, 1, 1], [2, 3, 5, 5, 5],
                                         [1, 3, 2**40, 4], [1], [1, 4, "h", "w"], [1, -2, 4, 4]]))
        elif what == "drop" and len(node.input) > 1:
            del node.input[-1]
    opset = draw(st.sampled_from([7, 9, 10, 11, 13, 17, 18, 19, 21]))
    graph = helper.make_graph(nodes, "fuzz", [helper.make_tensor_value_info("x", TensorProto.FLOAT, dims)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def read(model):
    """Read and analyse; returns None or the SymcnnError's message. Any other exception propagates."""
    try:
        g = from_onnx(model)
        a = sc.analyze(g, g.input_shape)
        syms = {s: 17 for s in a.output_shape[0].free_symbols} if a.output_shape else {}
        a.subs(**{str(s): v for s, v in syms.items()})
    except SymcnnError as e:
        return str(e)
    return None


@settings(max_examples=COUNT, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(model=hostile())
def test_hostile_graphs_raise_only_symcnn_errors(model):
    message = read(model)
    assert message is None or "unexpected" not in message, message


def test_the_reviewers_crashes_are_named():
    nodes, inits, dims = _base("conv")
    nodes[0].attribute.remove(next(a for a in nodes[0].attribute if a.name == "kernel_shape"))
    nodes[0].attribute.append(helper.make_attribute("kernel_shape", "3x3"))
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, dims)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    with pytest.raises(SymcnnError, match=r"node 'conv' \(Conv\): `kernel_shape`='3x3' must be a list of integers"):
        from_onnx(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]))
    nodes, inits, dims = _base("reshape")
    inits[0] = _t("i", TensorProto.INT64, [], [7])
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, dims)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    with pytest.raises(SymcnnError, match=r"node 'gather' \(Gather\): `indices` \[7\] out of range for 4 sizes"):
        from_onnx(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]))


def test_the_base_graphs_read():
    """The unbroken graphs read (so the fuzz starts from graphs symcnn accepts)."""
    for kind in ("conv", "pool", "reshape", "resize", "pad", "split", "norm", "gemm"):
        nodes, inits, dims = _base(kind)
        graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, dims)],
                                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
        assert read(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])) is None, kind
    assert np.isfinite(COUNT)
