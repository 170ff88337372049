"""TensorFlow's layout and SAME padding through ONNX.

A Keras model exported with tf2onnx is channels-last (NHWC) with a Transpose into each NCHW operator, and its
``padding="same"`` strided convolutions are SAME_UPPER (TensorFlow's split: the odd pixel at the end). The first
test builds such a graph with onnx.helper and compares with onnxruntime (runs in CI); the second exports a real
Keras model with tf2onnx and compares with TensorFlow's own output shapes (only where TensorFlow and tf2onnx
are installed: they are not part of the test extra, ~600 MB).
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import symcnn as sc
from symcnn import SymcnnError

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper  # noqa: E402

from symcnn.interop.onnx import from_onnx  # noqa: E402

ort.set_default_logger_severity(3)


def _nhwc_model():
    w = helper.make_tensor("w", TensorProto.FLOAT, [8, 3, 3, 3], np.zeros(8 * 27, np.float32).tolist())
    nodes = [
        helper.make_node("Transpose", ["x"], ["t"], perm=[0, 3, 1, 2], name="to_nchw"),
        helper.make_node("Conv", ["t", "w"], ["c"], auto_pad="SAME_UPPER", strides=[2, 2], kernel_shape=[3, 3],
                         name="conv"),
        helper.make_node("MaxPool", ["c"], ["p"], kernel_shape=[2, 2], strides=[2, 2], name="pool"),
        helper.make_node("Transpose", ["p"], ["y"], perm=[0, 2, 3, 1], name="to_nhwc"),
    ]
    graph = helper.make_graph(nodes, "keras_like", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                                                  ["n", "h", "w", 3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [w])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_a_channels_last_graph_reads_as_channels_first():
    model = _nhwc_model()
    g = from_onnx(model)
    assert [str(s) for s in g.input_shape] == ["3", "h", "w"]
    a = sc.analyze(g, g.input_shape)
    assert a.output_shape[0] == 8 and sc.pretty(a.output_shape[1]) == "floor((h + 1)/4)"  # floor(ceil(h/2)/2)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    # (a pooling window larger than its input is refused, as PyTorch refuses it; onnxruntime truncates the
    # negative size toward zero and returns 1, so those sizes are not compared)
    for h, w in [(8, 8), (9, 17), (31, 6), (4, 5)]:
        y = sess.run(None, {"x": np.zeros((1, h, w, 3), np.float32)})[0]
        n, hh, ww, c = y.shape
        assert a.subs(h=h, w=w).output_shape == (c, hh, ww)


def test_other_transposes_of_a_channels_last_tensor_are_refused():
    model = _nhwc_model()
    model.graph.node[0].attribute[0].ints[:] = [0, 2, 1, 3]
    with pytest.raises(SymcnnError, match=r"node 'to_nchw' \(Transpose\): .*channels-last|node 'to_nchw'"):
        from_onnx(model)


def test_keras_same_padding_equals_tensorflow():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    tf = pytest.importorskip("tensorflow")
    tf2onnx = pytest.importorskip("tf2onnx")
    inp = tf.keras.Input((None, None, 3))
    x = tf.keras.layers.Conv2D(8, 3, strides=2, padding="same")(inp)
    x = tf.keras.layers.ReLU()(x)
    x = tf.keras.layers.Conv2D(16, 4, strides=3, padding="same")(x)
    x = tf.keras.layers.MaxPooling2D(2, padding="valid")(x)
    x = tf.keras.layers.Conv2D(4, 5, strides=2, padding="same")(x)
    m = tf.keras.Model(inp, x)
    proto, _ = tf2onnx.convert.from_keras(m, input_signature=(tf.TensorSpec((None, None, None, 3), tf.float32),),
                                          opset=17)
    g = from_onnx(proto, input_shape=(3, sc.H, sc.W))
    a = sc.analyze(g, g.input_shape)
    assert sc.pretty(a.output_shape[1]) == "floor((H + 17)/24)"
    for h, w in [(1, 1), (6, 6), (7, 7), (17, 33), (224, 193), (64, 100), (5, 250), (11, 13)]:
        try:
            y = m(np.zeros((1, h, w, 3), np.float32)).shape
        except Exception:  # TensorFlow refuses (the pooling window does not fit): symcnn must refuse too
            with pytest.raises(SymcnnError):
                a.subs(H=h, W=w)
            continue
        assert a.subs(H=h, W=w).output_shape == (y[3], y[1], y[2])
