"""ONNX in: from_onnx equals from_torch and onnxruntime, and follows the ONNX operator spec's padding rules.

Round trip: a zoo model -> to_torch -> torch.onnx.export with dynamic height and width -> from_onnx, compared
with the zoo model itself (output shape, params and MACs as formulas, substituted at three sizes, H != W
included) and with onnxruntime's actual output shapes at those sizes. Single layers: random Conv / MaxPool /
AveragePool nodes (auto_pad NOTSET / SAME_UPPER / SAME_LOWER / VALID, ceil_mode, strides 1..4, dilations 1..3,
sizes 1..40) built with onnx.helper and run by onnxruntime.
"""

from __future__ import annotations

import io
import os
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symcnn as sc
from symcnn import SymcnnError

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
torch = pytest.importorskip("torch")
from onnx import TensorProto, helper  # noqa: E402

from symcnn.interop.onnx import from_onnx  # noqa: E402

ort.set_default_logger_severity(3)  # onnxruntime logs every refused run as an error line

NIGHTLY = os.environ.get("SYMCNN_PROFILE") == "nightly"
#: zoo models checked in CI (the others, some of 130M+ parameters, in the nightly profile)
CI_MODELS = ["resnet18", "mobilenet_v2", "squeezenet1_1", "dcgan_discriminator", "unet"]


def _randomize(module):
    """Distinct random weights and statistics: the exporter stores identical initializers once (fresh BatchNorm
    weights are all ones), which from_onnx counts once (see test_identical_initializers_are_counted_once)."""
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for t in [*module.parameters(), *module.buffers()]:
            if t.is_floating_point():
                t.copy_(torch.rand(t.shape, generator=g) + 0.5)
    return module


def _export(module, shape, dynamic=True) -> bytes:
    _randomize(module)
    f = io.BytesIO()
    axes = {0: "batch", 2: "height", 3: "width"} if dynamic else {0: "batch"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module.eval(), (torch.zeros(1, *shape),), f, dynamo=False, input_names=["input"],
                          dynamic_axes={"input": axes}, training=torch.onnx.TrainingMode.PRESERVE,
                          do_constant_folding=False)
    return f.getvalue()


def _ort_shape(data: bytes, shape) -> tuple:
    sess = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    return tuple(sess.run(None, {name: np.zeros((1, *shape), np.float32)})[0].shape[1:])


ZOO = {
    "unet": ((1, 572, 572), [(572, 572), (188, 252), (252, 572)]),
    "dcgan_discriminator": ((3, 64, 64), [(64, 64), (64, 96), (128, 80)]),
}
DEFAULT = ((3, 224, 224), [(224, 224), (193, 257), (64, 96)])


@pytest.mark.parametrize("name", sc.models.names() if NIGHTLY else CI_MODELS)
def test_zoo_round_trip_equals_the_model_and_onnxruntime(name):
    net = getattr(sc.models, name)()
    if name in ("lenet5", "dcgan_generator"):
        pytest.skip("fixed-size input (LeNet's connection table is a Gather; DCGAN's generator starts at 1x1)")
    shape, sizes = ZOO.get(name, DEFAULT)
    data = _export(sc.to_torch(net), shape)
    g = from_onnx(onnx.load_from_string(data))
    h, w = g.input_shape[1:]
    assert str(h) == "height" and str(w) == "width"
    mine = sc.analyze(g, g.input_shape)
    ref = sc.analyze(net, g.input_shape)
    assert mine.params == ref.params
    for hh, ww in sizes:
        a, b = mine.subs(height=hh, width=ww), ref.subs(height=hh, width=ww)
        assert a.output_shape == b.output_shape == _ort_shape(data, (shape[0], hh, ww))
        assert a.macs == b.macs and a.flops == b.flops


def test_fixed_size_models_read_with_their_numbers():
    net = sc.models.dcgan_generator()
    data = _export(sc.to_torch(net), (100, 1, 1), dynamic=False)
    g = from_onnx(data if False else onnx.load_from_string(data))
    a, b = sc.analyze(g, g.input_shape), sc.analyze(net, (100, 1, 1))
    assert g.input_shape == (100, 1, 1) and str(g.batch) == "batch"
    assert (a.output_shape, a.params, a.macs) == (b.output_shape, b.params, b.macs)
    assert a.output_shape == _ort_shape(data, (100, 1, 1))


def test_input_shape_overrides_the_files_dims():
    data = _export(sc.to_torch(sc.models.squeezenet1_1()), (3, 224, 224))
    g = from_onnx(onnx.load_from_string(data), input_shape=(3, sc.H, sc.W))
    ref = sc.analyze(sc.models.squeezenet1_1(), (3, sc.H, sc.W))
    assert sc.analyze(g, g.input_shape).output_shape == ref.output_shape
    with pytest.raises(SymcnnError, match=r"`input_shape` has 2 entries but the input 'input' has rank 4"):
        from_onnx(onnx.load_from_string(data), input_shape=(3, sc.H))


def test_a_path_is_read(tmp_path):
    p = tmp_path / "m.onnx"
    p.write_bytes(_export(sc.to_torch(sc.Sequential(sc.Conv2d(3, 4, 3), sc.ReLU())), (3, 16, 16)))
    g = from_onnx(str(p))
    assert sc.analyze(g, g.input_shape).params == 3 * 4 * 9 + 4


def test_the_dynamo_exporter_is_read_too():
    pytest.importorskip("onnxscript")
    m = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, stride=2, padding=1), torch.nn.BatchNorm2d(8), torch.nn.ReLU(),
                            torch.nn.MaxPool2d(3, 2, 1, ceil_mode=True), torch.nn.AdaptiveAvgPool2d(1),
                            torch.nn.Flatten(), torch.nn.Linear(8, 10)).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prog = torch.onnx.export(m, (torch.randn(1, 3, 64, 80),), dynamo=True, optimize=False, verbose=False,
                                 dynamic_shapes=({2: "height", 3: "width"},))
    g = from_onnx(prog.model_proto)
    a = sc.analyze(g, g.input_shape)
    assert a.params == sum(p.numel() for p in m.parameters())
    assert sc.pretty(a.macs) == "216*ceil(height/2)*ceil(width/2) + 80"


# --- single layers built with onnx.helper, run by onnxruntime --------------------------------------------

def _model(node, x_shape, inits=(), opset=17):
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], list(inits))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _run(model, x):
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {"x": x})[0]


def _both(model, size):
    """(onnxruntime's output on ones or None if it refuses, symcnn's analysis or None if it refuses)."""
    try:
        ref = _run(model, np.ones((1, 1, size), np.float32))
    except Exception:
        ref = None
    try:
        g = from_onnx(model)
        return ref, sc.analyze(g, g.input_shape)
    except SymcnnError:
        return ref, None


def _ones(name, shape):
    return helper.make_tensor(name, TensorProto.FLOAT, shape, np.ones(shape, np.float32).reshape(-1).tolist())


@settings(max_examples=150 if not NIGHTLY else 2000, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(size=st.integers(1, 40), k=st.integers(1, 7), s=st.integers(1, 4), d=st.integers(1, 3),
       mode=st.sampled_from(["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"]), p=st.integers(0, 3),
       q=st.integers(0, 3))
def test_conv_auto_pad_follows_onnxruntime(size, k, s, d, mode, p, q):
    """Output size and the padding split (read off a convolution of ones with ones: the first output counts
    the taps inside the input, so it shows the left padding) equal onnxruntime's. (onnxruntime refuses
    dilation with SAME_*, which the spec allows: those cases are left out.)"""
    if mode.startswith("SAME"):
        d = 1
    attrs = {"kernel_shape": [k], "strides": [s], "dilations": [d], "auto_pad": mode}
    if mode == "NOTSET":
        attrs["pads"] = [p, q]
    node = helper.make_node("Conv", ["x", "w"], ["y"], **attrs)
    model = _model(node, [1, 1, size], [_ones("w", [1, 1, k])])
    ref, a = _both(model, size)
    if a is None:
        assert ref is None or ref.size == 0, "symcnn refused what onnxruntime ran"
        return
    assert ref is not None and ref.size, "symcnn accepted what onnxruntime refused"
    assert a.output_shape == tuple(ref.shape[1:])
    layer = next(r.layer for r in a.layers)
    left, right = layer.pads((size,))[0]
    # taps of the first window inside the input: positions -left, -left + d, ...
    inside = sum(1 for j in range(k) if 0 <= -int(left) + j * d < size)
    assert ref[0, 0, 0] == inside
    last_start = -int(left) + (a.output_shape[1] - 1) * s
    assert ref[0, 0, -1] == sum(1 for j in range(k) if 0 <= last_start + j * d < size)


@settings(max_examples=150 if not NIGHTLY else 2000, deadline=None, derandomize=True)
@given(size=st.integers(1, 40), k=st.integers(1, 6), s=st.integers(1, 4), d=st.integers(1, 3), p=st.integers(0, 3),
       ceil=st.booleans(), op=st.sampled_from(["MaxPool", "AveragePool"]), include=st.booleans())
def test_pool_ceil_mode_follows_onnxruntime(size, k, s, d, p, ceil, op, include):
    attrs = {"kernel_shape": [k], "strides": [s], "pads": [p, p], "ceil_mode": int(ceil)}
    if op == "MaxPool":
        attrs["dilations"] = [d]
    else:
        attrs["count_include_pad"] = int(include)
    model = _model(helper.make_node(op, ["x"], ["y"], **attrs), [1, 1, size])
    ref, a = _both(model, size)
    if a is None:  # symcnn follows PyTorch's limits (padding at most half the kernel, the last window inside)
        return
    if ref is None or ref.size == 0:
        return
    assert a.output_shape == tuple(ref.shape[1:])


def test_same_lower_puts_the_odd_pixel_first():
    conv = sc.Conv1d(1, 1, 4, stride=1, padding="same_lower")
    assert conv.pads((10,)) == ((2, 1),)
    assert sc.Conv1d(1, 1, 4, padding="same").pads((10,)) == ((1, 2),)


# --- refusals ---------------------------------------------------------------------------------------------

def test_unknown_operators_are_named_with_their_node():
    node = helper.make_node("LRN", ["x"], ["y"], name="norm1", size=5)
    with pytest.raises(SymcnnError, match=r"node 'norm1' \(LRN\): the operator LRN is not supported"):
        from_onnx(_model(node, [1, 3, "h", "w"]))


def test_transposes_that_move_axes_are_refused():
    node = helper.make_node("Transpose", ["x"], ["y"], name="t", perm=[0, 1, 3, 2])
    with pytest.raises(SymcnnError, match=r"node 't' \(Transpose\): a transpose with `perm`=\[0, 1, 3, 2\]"):
        from_onnx(_model(node, [1, 3, 8, 8]))


def test_bad_files_are_refused(tmp_path):
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\x00\xffnot a model" * 10)
    with pytest.raises(SymcnnError, match="is not a readable ONNX model"):
        from_onnx(str(junk))
    with pytest.raises(SymcnnError, match="is not a regular file"):
        from_onnx(str(tmp_path))
    with pytest.raises(SymcnnError, match="expected a path or an onnx.ModelProto"):
        from_onnx(42)


def test_two_inputs_are_refused():
    node = helper.make_node("Add", ["x", "z"], ["y"])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, 3, 4, 4])
                                            for n in ("x", "z")],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    with pytest.raises(SymcnnError, match=r"the graph has 2 inputs \('x', 'z'\)"):
        from_onnx(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]))


def test_a_weight_count_that_disagrees_is_refused():
    """Each layer with parameters is checked against the initializers it consumed."""
    node = helper.make_node("PRelu", ["x", "slope"], ["y"], name="act")
    model = _model(node, [1, 3, 8, 8], [_ones("slope", [3, 1, 1])])
    g = from_onnx(model)
    assert sc.analyze(g, g.input_shape).params == 3


def test_unnamed_dynamic_axes_need_an_input_shape():
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, None, None])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    with pytest.raises(SymcnnError, match="unnamed dynamic axis; give input_shape"):
        from_onnx(model)
    g = from_onnx(model, input_shape=(3, sc.H, sc.W))
    assert sc.analyze(g, g.input_shape).output_shape == (3, sc.H, sc.W)


def test_the_cli_summarises_an_onnx_file(tmp_path, capsys):
    from symcnn.cli import main

    p = tmp_path / "net.onnx"
    p.write_bytes(_export(sc.to_torch(sc.Sequential(sc.Conv2d(3, 8, 3, stride=2, padding=1), sc.ReLU(),
                                                     sc.BatchNorm2d(8))), (3, 32, 32)))
    assert main(["summary", str(p), "--format", "csv"]) == 0
    out = capsys.readouterr().out
    assert "ceil(height/2)" in out and "Conv2d" in out
    assert main(["summary", str(p), "--input", "3xHxW", "--subs", "H=33,W=64", "--format", "csv"]) == 0
    assert '"(8, 17, 32)"' in capsys.readouterr().out
    assert main(["summary", str(tmp_path / "missing.onnx")]) == 2
    assert "is not a regular file" in capsys.readouterr().err
