"""ONNX Resize: output sizes as onnxruntime computes them (float32 scales, keep_aspect_ratio_policy, axes).

onnxruntime multiplies the size by the float32 scale in float32 and truncates; PyTorch multiplies by the Python
scale in double. ``nn.Upsample(scale_factor=1.3)`` on 10 pixels: 13 in both (10 * 1.3f rounds to 13.0 in
float32, though the exact product of the stored scale is 12.9999995).
"""

from __future__ import annotations

import io
import os
import warnings

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symcnn as sc
from symcnn import SymcnnError

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper  # noqa: E402

from symcnn.interop.onnx import from_onnx  # noqa: E402
from symcnn.interop.onnx._resize import Float32ScaledFloor, float32_scaled_size  # noqa: E402

ort.set_default_logger_severity(3)
NIGHTLY = os.environ.get("SYMCNN_PROFILE") == "nightly"


def _session(model):
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def _resize_model(shape, *, scales=None, sizes=None, opset=17, **attrs):
    inits, ins = [], ["x", "", "", ""]
    if scales is not None:
        inits.append(helper.make_tensor("s", TensorProto.FLOAT, [len(scales)], scales))
        ins[2] = "s"
    if sizes is not None:
        inits.append(helper.make_tensor("z", TensorProto.INT64, [len(sizes)], sizes))
        ins[3] = "z"
    node = helper.make_node("Resize", ins[:3] if sizes is None else ins, ["y"], name="rs", **attrs)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def test_upsample_by_a_float_equals_torch_and_onnxruntime():
    """The reviewer's case: 1.3 and 0.7 on 3x10x10, nearest / bilinear / bicubic, fixed and dynamic axes."""
    torch = pytest.importorskip("torch")
    for mode in ("nearest", "bilinear", "bicubic"):
        for s in (1.3, 0.7):
            m = torch.nn.Upsample(scale_factor=s, mode=mode)
            f = io.BytesIO()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.onnx.export(m, (torch.zeros(1, 3, 10, 10),), f, dynamo=False, input_names=["input"],
                                  dynamic_axes={"input": {2: "h", 3: "w"}})
            g = from_onnx(onnx.load_from_string(f.getvalue()))
            a = sc.analyze(g, g.input_shape)
            sess = ort.InferenceSession(f.getvalue(), providers=["CPUExecutionProvider"])
            for h, w in ((10, 10), (7, 33), (100, 57)):
                ref = sess.run(None, {"input": np.zeros((1, 3, h, w), np.float32)})[0].shape[1:]
                assert a.subs(h=h, w=w).output_shape == ref == tuple(m(torch.zeros(1, 3, h, w)).shape[1:])


def test_the_symbolic_form():
    s13 = sympy.Rational(*float(np.float32(1.3)).as_integer_ratio())
    assert s13 == sympy.Rational(5452595, 2**22)
    assert sc.pretty(Float32ScaledFloor(sc.H, s13)) == "floor(fl32(1.3*H))"
    assert Float32ScaledFloor(sympy.Integer(10), s13) == 13  # exact product 12.9999995..., float32 13.0
    assert sc.pretty(Float32ScaledFloor(sc.H, sympy.Integer(2))) == "2*H"
    assert sc.pretty(Float32ScaledFloor(sc.H, sympy.Rational(3, 4))) == "floor((3*H)/4)"
    assert sympy.latex(Float32ScaledFloor(sc.H, s13)).startswith(r"\left\lfloor \mathrm{fl}_{32}")
    g = from_onnx(_resize_model([1, 2, "h", "w"], scales=[1, 1, 1.3, 2.0]))
    a = sc.analyze(g, g.input_shape)
    assert sc.pretty(a.output_shape[1]) == "floor(fl32(1.3*h))" and sc.pretty(a.output_shape[2]) == "2*w"
    f = a.lambdify("output_shape")
    assert tuple(f(10, 5)) == (2, 13, 10)


@settings(max_examples=60 if not NIGHTLY else 1000, deadline=None, derandomize=True)
@given(scale=st.floats(0.05, 8.0, allow_nan=False).map(lambda v: float(np.float32(v))),
       sizes=st.lists(st.integers(1, 5000), min_size=8, max_size=8))
def test_float32_scales_equal_onnxruntime(scale, sizes):
    """Any float32 scale, numeric sizes: the size onnxruntime computes; symbolic: the same once substituted."""
    model = _resize_model([1, 1, "L"], scales=[1, 1, scale])
    sess = _session(model)
    g = from_onnx(model)
    out = sc.analyze(g, g.input_shape).output_shape[1]
    (sym,) = out.free_symbols
    for n in sizes:
        ref = sess.run(None, {"x": np.zeros((1, 1, n), np.float32)})[0].shape[2]
        assert float32_scaled_size(n, scale) == ref
        if ref:
            assert out.xreplace({sym: n}) == ref


def test_short_dyadic_scales_are_closed_forms_exact_over_their_range():
    """floor(p*H/2**k) for k <= 4 equals the float32 arithmetic for every H whose output is below 2**20 (checked
    on all H below 2**16 and on a sample up to the bound)."""
    rng = np.random.default_rng(0)
    hs = np.concatenate([np.arange(1, 2**16), rng.integers(2**16, 2**20 // 4, 2000)])
    for p, k in ((1, 1), (3, 1), (5, 2), (3, 2), (13, 4), (15, 4), (1, 4)):
        got = (hs * p) // 2**k
        ref = (hs.astype(np.float32) * np.float32(p / 2**k)).astype(np.int64)
        assert np.array_equal(got, ref)
        assert Float32ScaledFloor(sc.H, sympy.Rational(p, 2**k)).atoms(Float32ScaledFloor) == set()


@settings(max_examples=60 if not NIGHTLY else 1000, deadline=None, derandomize=True)
@given(h=st.integers(1, 700), w=st.integers(1, 700), th=st.integers(1, 400), tw=st.integers(1, 400),
       policy=st.sampled_from(["stretch", "not_larger", "not_smaller"]), mode=st.sampled_from(["nearest", "linear"]),
       order=st.booleans())
def test_keep_aspect_ratio_policy_equals_onnxruntime(h, w, th, tw, policy, mode, order):
    axes, sizes = ([2, 3], [th, tw]) if order else ([3, 2], [tw, th])
    model = _resize_model([1, 2, h, w], sizes=sizes, opset=19, mode=mode, keep_aspect_ratio_policy=policy,
                          axes=axes)
    ref = _session(model).run(None, {"x": np.zeros((1, 2, h, w), np.float32)})[0].shape[1:]
    if 0 in ref:
        return
    g = from_onnx(model)
    assert sc.analyze(g, g.input_shape).output_shape == ref


def test_the_reviewers_policy_case():
    model = _resize_model([1, 3, 480, 640], sizes=[224, 224], opset=18, axes=[2, 3],
                          keep_aspect_ratio_policy="not_larger")
    g = from_onnx(model)
    assert sc.analyze(g, g.input_shape).output_shape == (3, 168, 224)
    model = _resize_model([1, 3, 480, 640], sizes=[224, 224], opset=18, axes=[2, 3],
                          keep_aspect_ratio_policy="not_smaller")
    assert sc.analyze(from_onnx(model), (3, 480, 640)).output_shape == (3, 224, 299)


@pytest.mark.parametrize("model, message", [
    (_resize_model([1, 3, "h", "w"], sizes=[224, 224], opset=18, axes=[2, 3], keep_aspect_ratio_policy="not_larger"),
     r"node 'rs' \(Resize\): `keep_aspect_ratio_policy`='not_larger' with a symbolic size"),
    (_resize_model([1, 3, 8, 8], sizes=[1, 3, 16, 16], opset=18, keep_aspect_ratio_policy="bigger"),
     r"`keep_aspect_ratio_policy`='bigger' must be"),
    (_resize_model([1, 3, 8, 8], sizes=[16, 16], opset=18, axes=[-1, 2]),
     r"`axes`=\[-1, 2\] has -1, outside \[0, 3\]"),
    (_resize_model([1, 3, 8, 8], scales=[1, 1, 2, 2], sizes=[1, 3, 16, 16]), r"both `scales` and `sizes`"),
    (_resize_model([1, 3, 8, 8], scales=[1, 1, 2, 2], opset=18, mode="linear", antialias=1), r"`antialias`=1"),
    (_resize_model([1, 3, 8, 8], scales=[1, 2, 2, 2]), r"resizes the batch or channel axis"),
    (_resize_model([1, 3, 8, 8], scales=[1, 1, -2, 2]), r"`scales` has -2.0; each scale must be finite and > 0"),
    (_resize_model([1, 3, 8, 8], scales=[1, 1, 2, 2], mode="cubic2"), r"`mode`='cubic2'"),
])
def test_refusals_name_node_and_attribute(model, message):
    with pytest.raises(SymcnnError, match=message):
        from_onnx(model)
