"""The engine's contract: public names, closed forms (golden strings), compactness, totals, substitution."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symcnn as sc
from symcnn import C, F, H, P, S, W
from symcnn._intmath import FloorDiv, decide, floordiv, normalize, smax, smin


def test_public_names_import():
    for name in sc.__all__:
        assert hasattr(sc, name), name
    assert issubclass(sc.SymcnnError, ValueError)
    assert sc.SymcnnError.__module__ == "symcnn"


def test_issue_contract_example():
    conv = sc.Conv2d(C, 64, kernel_size=F, stride=S, padding=P)
    a = sc.analyze(conv, (C, H, W))
    assert repr(a.output_shape) == "(64, floor((H + 2*P - F)/S) + 1, floor((W + 2*P - F)/S) + 1)"
    assert a.params == 64 * C * F**2 + 64
    out = (floordiv(H + 2 * P - F, S) + 1) * (floordiv(W + 2 * P - F, S) + 1)
    assert sympy.expand(a.macs - 64 * C * F**2 * out) == 0
    assert sympy.expand(a.flops - 64 * 2 * C * F**2 * out) == 0  # 2n per output with bias
    assert sympy.expand(a.connections - 64 * (C * F**2 + 1) * out) == 0
    assert sympy.expand(a.activations - 64 * out) == 0
    assert a.receptive_field.size == (F, F) and a.receptive_field.stride == (S, S)
    assert {str(sc.pretty(c.lhs)) + c.rel_op + sc.pretty(c.rhs) for c in a.constraints} == {
        "H + 2*P>=F", "W + 2*P>=F"}
    b = a.subs(C=3, H=224, W=224, F=7, S=2, P=3)
    assert b.output_shape == (64, 112, 112)
    assert (b.params, b.macs) == (9472, 118013952)
    assert b.constraints == []
    assert [r.name for r in b.layers] == ["Conv2d"]


# --- closed forms: golden strings and compactness ---------------------------------------------------------

def _resnet_stem_plus_three():
    return sc.Sequential(
        sc.Conv2d(3, 64, 7, 2, 3, bias=False), sc.BatchNorm2d(64), sc.ReLU(), sc.MaxPool2d(3, 2, 1),
        sc.Conv2d(64, 64, 3, 2, 1), sc.Conv2d(64, 64, 3, 2, 1), sc.Conv2d(64, 64, 3, 2, 1),
    )


def test_resnet_stem_is_one_division_term():
    a = sc.analyze(_resnet_stem_plus_three(), (3, H, W))
    h, w = a.output_shape[1:]
    assert sc.pretty(w) == "ceil(W/32)"
    assert sc.latex(w) == r"\left\lceil \frac{W}{32} \right\rceil"
    assert len(w.atoms(FloorDiv)) == 1 and not any(isinstance(x, FloorDiv) for x in w.atoms(FloorDiv).pop().args)
    for n in range(1, 600):
        assert int(w.subs(W, n)) == -(-n // 32)


def test_vgg_pools_give_floor_w_over_32():
    net = sc.Sequential(*[sc.MaxPool2d(2, 2) for _ in range(5)])
    a = sc.analyze(net, (3, H, W))
    assert a.output_shape == (3, floordiv(H, 32), floordiv(W, 32))
    assert sc.pretty(a.output_shape[2]) == "floor(W/32)"
    assert [sc.pretty(c.lhs) + c.rel_op + sc.pretty(c.rhs) for c in a.constraints] == ["H>=32", "W>=32"]


def test_golden_latex_and_text():
    assert sc.latex(sc.floordiv(W + 2 * P - F, S) + 1) == r"\left\lfloor \frac{W + 2 P - F}{S} \right\rfloor + 1"
    assert sc.pretty(sc.ceildiv(W, 2)) == "ceil(W/2)"
    left, right = sc.layers.conv.same_padding(W, 3, 2)  # TF SAME, stride 2: total 1 (W even) or 2 (W odd)
    assert [(int(left.subs(W, n)), int(right.subs(W, n))) for n in (6, 7)] == [(0, 1), (1, 1)]


# --- integer division: every rewrite preserves the value ----------------------------------------------

@st.composite
def _nested(draw):
    """A random nest of floor divisions of a linear expression in W, with the Python function computing it."""
    depth = draw(st.integers(1, 5))
    expr, fns = W, []
    for _ in range(depth):
        a = draw(st.integers(-3, 3))
        c = draw(st.integers(1, 3))
        d = draw(st.integers(1, 6))
        expr = floordiv(c * expr + a, d)
        fns.append((a, c, d))

    def value(w):
        v = w
        for a, c, d in fns:
            v = (c * v + a) // d
        return v

    return expr, value


@settings(max_examples=150, deadline=None)
@given(_nested(), st.integers(1, 400))
def test_floordiv_rewrites_preserve_values(case, w):
    expr, value = case
    assert int(expr.subs(W, w)) == value(w)


def test_nest_of_four_collapses():
    x = W
    for _ in range(4):
        x = floordiv(x - 1, 2) + 1  # k=3, s=2, p=1
    assert len(x.atoms(FloorDiv)) == 1
    assert sc.pretty(x) == "ceil(W/16)"


def test_decisions_never_guess():
    assert decide(sympy.Ge(W + 2 * P, 1)) is True
    assert decide(sympy.Ge(W, 5)) is None
    assert decide(sympy.Eq(W, W + 1)) is False
    assert smax(2 * floordiv(W + 1, 2) + 1 - W, 0) == 2 * floordiv(W + 1, 2) + 1 - W
    assert isinstance(smax(W, S), sympy.Max)
    assert isinstance(smin(W - 3, floordiv(W, 2)), sympy.Min)
    assert str(normalize(sympy.Ge(floordiv(H, 16) + 2, 4))) == "H >= 32"


# --- totals, sharing, batch, memory --------------------------------------------------------------------

def test_weight_sharing_counts_parameters_once():
    conv = sc.Conv2d(8, 8, 3, padding=1)
    x = sc.Input()
    y = conv(conv(x))
    a = sc.analyze(sc.Graph(x, y), (8, 16, 16))
    assert a.params == 8 * 8 * 9 + 8
    assert a.macs == 2 * 16 * 16 * 8 * 8 * 9
    assert [r.shared for r in a.layers] == [False, True]


def test_batch_and_bytes():
    a = sc.analyze(sc.Conv2d(3, 8, 3), (3, 10, 10), batch=sc.N)
    assert a.macs == sc.N * 8 * 8 * 8 * 27
    assert a.params == 8 * 27 + 8
    assert a.subs(N=4).activation_bytes("float16") == 2 * 4 * 8 * 8 * 8


def test_vgg16_param_memory_is_mib_not_dropout():
    a = sc.analyze(sc.models.vgg16(), (3, 224, 224))
    assert a.params == 138_357_544
    assert a.param_bytes() == 553_430_176
    assert round(int(a.param_bytes()) / 2**20, 1) == 527.8
    assert all(r.params == 0 for r in a.layers if r.kind == "Dropout")


def test_lambdify_vectorised_matches_subs():
    net = _resnet_stem_plus_three()
    a = sc.analyze(net, (3, H, W))
    f = a.lambdify("macs")
    assert [s.name for s in f.symbols] == ["H", "W"]
    hs = np.arange(32, 400, 7)
    ws = np.arange(40, 408, 7)
    got = f(hs, ws)
    for h, w, g in list(zip(hs, ws, got, strict=True))[::9]:
        assert int(g) == int(a.subs(H=int(h), W=int(w)).macs)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 4), st.integers(1, 6), st.integers(1, 3), st.integers(0, 3), st.integers(1, 2),
    st.integers(1, 40), st.integers(1, 40),
)
def test_symbolic_then_subs_equals_numeric(cin, k, s, p, d, h, w):
    sym = sc.analyze(sc.Conv2d(C, 4, kernel_size=F, stride=S, padding=P, dilation=sc.D), (C, H, W))
    values = dict(C=cin, F=k, S=s, P=p, D=d, H=h, W=w)
    try:
        num = sc.analyze(sc.Conv2d(cin, 4, k, s, p, d), (cin, h, w))
    except sc.SymcnnError:
        with pytest.raises(sc.SymcnnError):
            sym.subs(**values)
        return
    got = sym.subs(**values)
    assert got.output_shape == num.output_shape
    for q in ("params", "macs", "flops", "connections", "activations"):
        assert getattr(got, q) == getattr(num, q), q
    assert got.receptive_field.size == num.receptive_field.size


# --- receptive field --------------------------------------------------------------------------------------

def test_receptive_field_worked_example():
    # r_out = r_in + (k - 1) * j_in: two 3x3 layers, the first with stride 2: r = 3 then 7.
    a = sc.analyze(sc.Sequential(sc.Conv1d(1, 1, 3, 2), sc.Conv1d(1, 1, 3)), (1, 32))
    assert [r.receptive_field.size for r in a.layers] == [(3,), (7,)]
    assert a.receptive_field.stride == (2,)


def test_residual_branches_are_aligned_and_take_the_max():
    x = sc.Input()
    y = sc.Conv2d(4, 4, 3, padding=1)(x)
    y = sc.Conv2d(4, 4, 3, padding=1)(y)
    out = sc.Add()(y, x)
    a = sc.analyze(sc.Graph(x, out), (4, H, W))
    assert a.receptive_field.size == (5, 5)
    assert a.receptive_field.aligned is True


def test_misaligned_merge_is_reported():
    x = sc.Input()
    y = sc.Conv1d(1, 1, 2)(sc.ZeroPad1d((0, 1))(x))  # same length, centre shifted by half a pixel
    out = sc.Add()(y, x)
    a = sc.analyze(sc.Graph(x, out), (1, 10))
    assert a.receptive_field.aligned is False
    assert any("not aligned" in n for n in a.receptive_field.notes)


def _se_net(blocks: int):
    """Residual blocks with a squeeze-excitation gate and a strided shortcut: every Add and Mul misaligned."""
    x = inp = sc.Input()
    for i in range(blocks):
        y = sc.Conv2d(4, 4, 3, stride=2 if i % 2 == 0 else 1, padding=1)(x)
        g = sc.Sigmoid()(sc.Conv2d(4, 4, 1)(sc.AdaptiveAvgPool2d(1)(y)))
        y = sc.Mul()(y, g)
        x = sc.Add()(y, sc.Conv2d(4, 4, 1, stride=2 if i % 2 == 0 else 1)(x))
    return sc.Graph(inp, x)


@pytest.mark.parametrize("blocks", [8, 40])
def test_receptive_field_notes_stay_an_ordered_bounded_set(blocks):
    from symcnn._analysis import MAX_NOTES

    a = sc.analyze(_se_net(blocks), (4, H, W))
    for r in a.layers:
        notes = r.receptive_field.notes
        assert len(notes) == len(set(notes)) <= MAX_NOTES + 1
    assert a.receptive_field.aligned is not True
    assert any("align" in n for n in a.receptive_field.notes)
    # the notes of the first merge survive, in order, in every later tensor
    first = next(r.receptive_field.notes for r in a.layers if r.receptive_field.notes)
    assert a.receptive_field.notes[: len(first)] == first


# --- layer families: output shapes and counts -------------------------------------------------------------

@pytest.mark.parametrize(
    ("layer", "shape", "out"),
    [
        (sc.Conv2d(3, 8, 3, padding="same"), (3, 10, 7), (8, 10, 7)),
        (sc.Conv2d(3, 8, 4, stride=2, padding="tf_same"), (3, 11, 10), (8, 6, 5)),
        (sc.Conv2d(3, 8, 3, padding="full"), (3, 2, 2), (8, 4, 4)),
        (sc.Conv2d(3, 8, 3, padding="valid"), (3, 5, 5), (8, 3, 3)),
        (sc.Conv2d(3, 8, 3, padding=((0, 1), (2, 0))), (3, 5, 5), (8, 4, 5)),
        (sc.Conv1d(2, 4, 3, dilation=2), (2, 9), (4, 5)),
        (sc.Conv3d(2, 4, 3, padding=1), (2, 4, 5, 6), (4, 4, 5, 6)),
        (sc.ConvTranspose2d(1, 1, 3, stride=2), (1, 3, 3), (1, 7, 7)),
        (sc.ConvTranspose2d(1, 1, 3, stride=2, padding=1, output_padding=1), (1, 3, 3), (1, 6, 6)),
        (sc.MaxPool2d(2), (1, 4, 4), (1, 2, 2)),
        (sc.MaxPool2d(2, stride=1), (1, 4, 4), (1, 3, 3)),
        (sc.MaxPool1d(2, 2, padding=1, ceil_mode=True), (1, 5), (1, 3)),
        (sc.AvgPool2d(3, 2, ceil_mode=True), (1, 6, 6), (1, 3, 3)),
        (sc.AdaptiveAvgPool2d((3, None)), (2, 10, 7), (2, 3, 7)),
        (sc.SpatialPyramidPooling((4, 2, 1)), (256, 13, 13), (256 * 21,)),
        (sc.Upsample(scale_factor=2), (3, 5, 6), (3, 10, 12)),
        (sc.Upsample(scale_factor=1.5), (3, 5, 6), (3, 7, 9)),
        (sc.ZeroPad2d((1, 2, 3, 4)), (1, 5, 5), (1, 12, 8)),
        (sc.Flatten(), (2, 3, 4), (24,)),
        (sc.Linear(24, 10), (24,), (10,)),
    ],
)
def test_output_shapes(layer, shape, out):
    assert sc.analyze(layer, shape).output_shape == out


def test_costs_of_each_family():
    a = sc.analyze(sc.Conv2d(4, 8, 3, padding=1, groups=2, bias=False), (4, 10, 10))
    assert (a.params, a.macs, a.flops) == (8 * 2 * 9, 14_400, 100 * 8 * (2 * 18 - 1))
    a = sc.analyze(sc.ConvTranspose2d(4, 8, 3, stride=2, padding=1, output_padding=1, bias=False), (4, 10, 10))
    assert a.output_shape == (8, 20, 20) and a.macs == 28_800  # per input pixel, not the s^2 overcount
    a = sc.analyze(sc.Linear(100, 10), (100,))
    assert (a.params, a.macs, a.flops, a.connections) == (1010, 1000, 10 * 200, 1010)
    a = sc.analyze(sc.BatchNorm2d(4), (4, 10, 10))
    assert (a.params, a.buffers, a.flops) == (8, 9, 800)
    a = sc.analyze(sc.MaxPool2d(2), (4, 10, 10))
    assert (a.params, a.macs, a.flops) == (0, 0, 4 * 25 * 3)
    a = sc.analyze(sc.AdaptiveAvgPool1d(3), (1, 10))
    assert a.flops == 12  # windows 4 + 4 + 4


def test_lenet_layers_reproduce_the_paper():
    from collections import OrderedDict

    net = sc.Sequential(OrderedDict([
        ("C1", sc.Conv2d(1, 6, 5)), ("S2", sc.Subsampling2d(6)),
        ("C3", sc.ConnectionTableConv2d(6, 16, 5, table=sc.LENET5_C3_TABLE)), ("S4", sc.Subsampling2d(16)),
        ("C5", sc.Conv2d(16, 120, 5)), ("flat", sc.Flatten()), ("F6", sc.Linear(120, 84)),
        ("OUTPUT", sc.RBF(84, 10)),
    ]))
    a = sc.analyze(net, (1, 32, 32))
    got = {r.name: (r.params, r.connections) for r in a.layers if r.name != "flat"}
    assert got == {
        "C1": (156, 122_304), "S2": (12, 5_880), "C3": (1_516, 151_600), "S4": (32, 2_000),
        "C5": (48_120, 48_120), "F6": (10_164, 10_164), "OUTPUT": (0, 840),
    }
    assert (a.params, a.connections) == (60_000, 340_908)


def test_unet_crop_concat_and_symbolic_input():
    x = sc.Input()
    skip = sc.Conv2d(1, 4, 3)(x)
    down = sc.MaxPool2d(2)(skip)
    mid = sc.Conv2d(4, 8, 3)(down)
    up = sc.ConvTranspose2d(8, 4, 2, stride=2)(mid)
    out = sc.CropConcat()(skip, up)
    a = sc.analyze(sc.Graph(x, out), (1, 572, 572))
    assert a.output_shape == (8, 566, 566)
    s = sc.analyze(sc.Graph(x, out), (1, H, W))
    assert s.output_shape[2] == 2 * floordiv(W - 2, 2) - 4


def test_strided_transposed_receptive_field_is_a_range_per_position():
    """After a stride-2 transposed conv the inputs an output reads depend on its position (brute force shows
    4 or 8 for this stack): the field is exact per position, a range 4..8 and no single size; a stride-1
    transposed conv reads only real inputs, so its border outputs see fewer (test_receptive_exact.py)."""
    strided = sc.Sequential(sc.MaxPool1d(2), sc.MaxPool1d(2), sc.ConvTranspose1d(1, 1, 2, stride=2),
                            sc.ConvTranspose1d(1, 1, 2, stride=2), sc.Conv1d(1, 1, 3))
    rf = sc.analyze(strided, (1, 64)).receptive_field
    assert rf.exact is True and rf.size == (None,) and (rf.span_min, rf.span_max) == ((4,), (8,))
    assert [rf.interval(n) for n in range(6)] == [(0, 3), (0, 3), (0, 7), (0, 7), (4, 7), (4, 7)]
    plain = sc.Sequential(sc.Conv1d(1, 1, 3), sc.ConvTranspose1d(1, 1, 3, stride=1))
    rf = sc.analyze(plain, (1, 64)).receptive_field
    assert rf.exact is True and (rf.span_min, rf.span_max) == ((3,), (5,)) and rf.interval(0) == (0, 2)


@given(st.integers(1, 60), st.integers(1, 9), st.integers(-20, 20))
@settings(max_examples=60, deadline=None)
def test_floordiv_of_a_product_terminates_and_is_exact(w, d, c):
    """Regression: floordiv(W*(W + 2), 2) recursed forever (the pulled-out remainder was re-expanded)."""
    expr = floordiv(W * (W + c) + 3 * W, d)
    assert expr.xreplace({W: w}) == (w * (w + c) + 3 * w) // d


@pytest.mark.parametrize("name", ["resnet50", "googlenet", "unet"])
def test_python_lambdify_equals_numpy_lambdify_and_substitution(name):
    m = sc.models.get(name)
    a = sc.analyze(m, (1 if name == "unet" else 3, H, W))
    py, vec = a.lambdify("macs", vectorized=False), a.lambdify("macs")
    sizes = [572, 588, 700] if name == "unet" else [64, 193, 224, 301]
    got = vec(np.array(sizes), np.array(sizes[::-1]))
    for h, w, v in zip(sizes, sizes[::-1], got, strict=True):
        assert py(h, w) == int(v) == a.subs(H=h, W=w).macs


def test_python_lambdify_is_exact_beyond_int64():
    """A batch of 10^12 ResNet-50 images overflows int64; the Python function stays exact."""
    a = sc.analyze(sc.models.resnet50(), (3, H, W), batch=sc.N)
    f = a.lambdify("macs", symbols=(sc.N, H, W), vectorized=False)
    assert f(10**12, 224, 224) == 10**12 * 4_089_184_256 > 2**63


@pytest.mark.parametrize("scale", [0.3, 0.5, 0.7, 1.25, 1.5, 1.7, 2.3, 2.5, 3.3, 0.123, 2.0])
def test_upsample_float_scale_follows_pytorch_double_rounding(scale):
    """Found in review: floor(W*1.7) must be computed as PyTorch does (the product rounded to a double):
    W=10 gives 17, W=90 at 0.7 gives 62. Checked against math.floor(float(W)*s) (PyTorch's rule) at every W,
    symbolically substituted, numerically analysed and lambdified (Python and NumPy)."""
    layer = sc.Upsample(scale_factor=scale)
    sym = sc.analyze(layer, (2, W))
    py, vec = sym.lambdify("output_shape", vectorized=False), sym.lambdify("output_shape")
    ws = [w for w in range(1, 400) if math.floor(float(w) * scale) >= 1]
    got_vec = vec(np.array(ws))[1]
    for w, v in zip(ws, got_vec, strict=True):
        want = math.floor(float(w) * scale)
        assert sym.output_shape[1].xreplace({W: w}) == want, w
        assert sc.analyze(layer, (2, w)).output_shape[1] == want, w
        assert py(w)[1] == int(v) == want, w


def test_upsample_float_scale_matches_torch():
    torch = pytest.importorskip("torch")
    for scale in (0.7, 1.7, 2.3):
        for w in (10, 90, 100, 170, 333):
            got = torch.nn.functional.interpolate(torch.zeros(1, 1, w), scale_factor=scale).shape[-1]
            assert sc.analyze(sc.Upsample(scale_factor=scale), (1, w)).output_shape[1] == got, (scale, w)


@pytest.mark.parametrize("name", ["vgg16", "alexnet"])
def test_adaptive_pool_receptive_field_is_the_same_substituted_or_numeric(name):
    """Found in review: symbolic VGG16 substituted at 224 gave RF 244 at the adaptive pool, the numeric
    analysis 212. The longest adaptive window now has a closed form, so both agree at every size."""
    m = sc.models.get(name)
    sym = sc.analyze(m, (3, H, W))
    for h in (64, 100, 224, 225, 300):
        num, sub = sc.analyze(m, (3, h, h)), sym.subs(H=h, W=h)
        assert [r.receptive_field.size for r in num.layers] == [r.receptive_field.size for r in sub.layers], h


@given(st.integers(1, 80), st.integers(1, 40))
def test_adaptive_longest_window_equals_enumeration(size, out):
    from symcnn.layers.pool import adaptive_longest_window

    want = max(-(-(k + 1) * size // out) - (k * size) // out for k in range(out))
    assert adaptive_longest_window(size, out) == want
    assert adaptive_longest_window(W, out).xreplace({W: size}) == want
