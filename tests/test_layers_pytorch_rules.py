"""Layers refuse exactly what PyTorch refuses, numerically and symbolically (as conditions ``.subs`` checks),
take exactly PyTorch's constructor arguments, and show readable reprs (issue 13)."""

from __future__ import annotations

import math
import warnings

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symcnn as sc
from symcnn import SymcnnError

torch = pytest.importorskip("torch")
nn = torch.nn
Q = sc.symbols("Q")


def _torch_shape(module, shape):
    """Output shape (without batch) of ``module`` in eval mode on zeros of ``(1, *shape)``, or None if refused."""
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y = module.eval()(torch.zeros((1, *shape)))
    except (RuntimeError, ValueError, NotImplementedError, IndexError, TypeError):
        return None
    return None if y.numel() == 0 else tuple(y.shape[1:])


def _symcnn_shape(layer, shape):
    try:
        return tuple(int(v) for v in sc.analyze(layer, shape).output_shape)
    except SymcnnError:
        return None


def _agree(tmod, layer, shape):
    t, s = _torch_shape(tmod, shape), _symcnn_shape(layer, shape)
    assert t == s, f"torch {t}, symcnn {s} for {layer!r} on {shape}"
    return s


# --- AvgPool3d: the unpadded input must be at least the kernel --------------------------------------------

def test_avgpool3d_input_smaller_than_kernel_is_refused():
    with pytest.raises(SymcnnError, match=r"input size 2 along axis D is smaller than the kernel 4"):
        sc.analyze(sc.AvgPool3d(4, 3, 1), (1, 2, 10, 13))
    assert _agree(nn.AvgPool3d(4, 3, 1), sc.AvgPool3d(4, 3, 1), (1, 4, 10, 13)) == (1, 1, 3, 4)


@pytest.mark.parametrize("d", range(1, 7))
@pytest.mark.parametrize(("k", "s", "p", "ceil"), [(4, 3, 1, False), (3, 1, 1, True), (2, 2, 1, False)])
def test_avgpool3d_matches_torch(d, k, s, p, ceil):
    _agree(nn.AvgPool3d(k, s, p, ceil_mode=ceil), sc.AvgPool3d(k, s, p, ceil_mode=ceil), (1, d, 6, 7))


def test_avgpool3d_symbolic_condition_refused_by_subs():
    a = sc.analyze(sc.AvgPool3d(4, 3, 1), (1, sc.D, sc.H, sc.W))
    assert sympy.Ge(sc.D, 4) in a.constraints
    with pytest.raises(SymcnnError, match=r"smaller than the kernel 4 .*false for D=2"):
        a.subs(D=2, H=10, W=13)
    assert tuple(a.subs(D=4, H=10, W=13).output_shape) == (1, 1, 3, 4)


# --- reflect / circular padding -------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["reflect", "circular", "replicate", "zeros"])
@pytest.mark.parametrize("p", [1, 2, 3])
@pytest.mark.parametrize("h", [1, 2, 3])
def test_conv_padding_mode_limits_match_torch(mode, p, h):
    _agree(nn.Conv2d(1, 1, 3, padding=p, padding_mode=mode), sc.Conv2d(1, 1, 3, padding=p, padding_mode=mode),
           (1, h, 3))


def test_reflect_padding_examples_from_the_issue():
    with pytest.raises(SymcnnError, match=r"`padding`=2 \(each side\) with `padding_mode`='reflect' must be smaller"):
        sc.analyze(sc.Conv2d(1, 1, 3, padding=2, padding_mode="reflect"), (1, 2, 2))
    with pytest.raises(SymcnnError, match=r"padding 3 must be smaller than the input size 3"):
        sc.analyze(sc.ReflectionPad2d(3), (1, 3, 3))


@pytest.mark.parametrize("pads", [(2, 0), (0, 2), (3, 0), (1, -1), (-1, 3), (-2, 1), (2, 2), (-1, -1)])
@pytest.mark.parametrize("w", [1, 2, 3, 4])
def test_pad_layers_match_torch(pads, w):
    _agree(nn.ReflectionPad1d(pads), sc.ReflectionPad1d(pads), (2, w))
    _agree(nn.ReplicationPad1d(pads), sc.ReplicationPad1d(pads), (2, w))
    _agree(nn.ConstantPad1d(pads, 0.5), sc.ConstantPad1d(pads, 0.5), (2, w))


def test_reflect_padding_symbolic_conditions():
    a = sc.analyze(sc.Conv2d(1, 1, 3, padding=sc.P, padding_mode="reflect"), (1, sc.H, sc.W))
    with pytest.raises(SymcnnError, match=r"must be smaller than the input size H .*false for"):
        a.subs(P=2, H=2, W=5)
    assert tuple(a.subs(P=1, H=2, W=5).output_shape) == (1, 2, 5)
    r = sc.analyze(sc.ReflectionPad2d(sc.P), (1, sc.H, sc.W))
    with pytest.raises(SymcnnError, match=r"padding P must be smaller than the input size"):
        r.subs(P=3, H=3, W=3)


# --- Upsample -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear"])
@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_upsample_mode_needs_matching_dims(mode, n):
    shape = (2,) + (3,) * n
    _agree(nn.Upsample(scale_factor=2, mode=mode), sc.Upsample(scale_factor=2, mode=mode), shape)


@pytest.mark.parametrize("scale", [math.nan, math.inf, -math.inf, 0, 0.0, -1, -0.5, True])
def test_upsample_impossible_scales_are_refused(scale):
    with pytest.raises(SymcnnError, match=r"`scale_factor`="):
        sc.Upsample(scale_factor=scale)


def test_upsample_tuple_needs_one_entry_per_axis():
    assert _agree(nn.Upsample(scale_factor=(2,)), sc.Upsample(scale_factor=(2,)), (1, 3, 3)) is None
    assert _agree(nn.Upsample(size=(5,)), sc.Upsample(size=(5,)), (1, 3, 3)) is None
    assert _agree(nn.Upsample(scale_factor=2), sc.Upsample(scale_factor=2), (1, 3, 3)) == (1, 6, 6)


def test_upsample_align_corners_only_with_interpolating_modes():
    with pytest.raises(SymcnnError, match=r"`align_corners`=True can only be set with the interpolating modes"):
        sc.Upsample(scale_factor=2, align_corners=True)
    sc.Upsample(scale_factor=2, mode="bilinear", align_corners=True)
    sc.Upsample(scale_factor=2, recompute_scale_factor=True)


# --- Add / Mul: PyTorch's broadcasting, symbolically too ------------------------------------------------------

def _merge_graph(kind, a_shape_layer, b_shape_layer):
    x = sc.Input()
    out = kind()(a_shape_layer(x), b_shape_layer(x))
    return sc.Graph(x, out)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(kind=st.sampled_from([sc.Add, sc.Mul]), h=st.integers(1, 4), w=st.integers(1, 4), p=st.integers(1, 4),
       q=st.integers(1, 4))
def test_broadcast_symbolic_then_substituted_equals_numeric_and_torch(kind, h, w, p, q):
    # one branch keeps (H, W), the other is pooled to (P, Q): sizes 1 broadcast, others must agree
    def build(pp, qq):
        return _merge_graph(kind, lambda n: sc.Identity()(n), lambda n: sc.AdaptiveAvgPool2d((pp, qq))(n))

    symbolic = sc.analyze(build(sc.P, Q), (2, sc.H, sc.W))
    try:
        subbed = tuple(int(v) for v in symbolic.subs(H=h, W=w, P=p, Q=q).output_shape)
    except SymcnnError:
        subbed = None
    numeric = _symcnn_shape(build(p, q), (2, h, w))
    x = torch.zeros(1, 2, h, w)
    try:
        y = x + nn.AdaptiveAvgPool2d((p, q))(x) if kind is sc.Add else x * nn.AdaptiveAvgPool2d((p, q))(x)
        t = tuple(y.shape[1:])
    except RuntimeError:
        t = None
    assert subbed == numeric == t


def test_broadcast_conditions_are_the_rule_not_equality():
    g = _merge_graph(sc.Add, lambda n: sc.Identity()(n), lambda n: sc.AdaptiveAvgPool2d((sc.P, Q))(n))
    a = sc.analyze(g, (2, sc.H, sc.W))
    assert tuple(a.subs(H=1, W=3, P=5, Q=3).output_shape) == (2, 5, 3)  # H = 1 broadcasts
    with pytest.raises(SymcnnError, match=r"do not match .*equal or 1"):
        a.subs(H=2, W=3, P=5, Q=3)
    # a size known to be >= 2 keeps the plain condition and its own size
    c = _merge_graph(sc.Mul, lambda n: sc.Upsample(scale_factor=2)(n), lambda n: sc.AdaptiveAvgPool2d(sc.P)(n))
    b = sc.analyze(c, (2, sc.H, sc.W))
    assert tuple(b.output_shape) == (2, 2 * sc.H, 2 * sc.W)
    assert tuple(b.subs(H=3, W=2, P=1).output_shape) == (2, 6, 4)


# --- numbers PyTorch refuses ------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [sympy.Float(3.0), sympy.Float(2.5), sympy.nan, 3.0, math.nan, sc.H / 2,
                                   2 * sc.H * sympy.Float(1.0), 2**63, sympy.oo])
@pytest.mark.parametrize("arg", ["kernel_size", "stride"])
def test_float_nan_and_huge_arguments_are_refused(value, arg):
    kwargs = {"kernel_size": 3, arg: value}
    with pytest.raises(SymcnnError, match=rf"Conv2d: `{arg}`="):
        sc.Conv2d(3, 8, **kwargs)
    t = None
    try:
        t = nn.Conv2d(3, 8, **{"kernel_size": 3, arg: float(value) if value.__class__ is sympy.Float else value})
    except Exception:  # noqa: BLE001 - any refusal by torch (TypeError for floats, overflow)
        pass
    if t is not None:  # torch builds some modules lazily: it refuses at the call instead
        assert _torch_shape(t, (3, 9, 9)) is None


# --- constructors take exactly PyTorch's arguments ---------------------------------------------------------------

@pytest.mark.parametrize(
    ("build", "pattern"),
    [
        (lambda: sc.ReLU(foo=1), r"ReLU: unknown argument `foo`=1; PyTorch's ReLU takes `inplace`"),
        (lambda: sc.GELU(approximate="bogus"), r"GELU: `approximate`='bogus' must be 'none' or 'tanh'"),
        (lambda: sc.Sigmoid(1), r"Sigmoid: takes 0 argument"),
        (lambda: sc.ReLU("yes"), r"`inplace`='yes' must be True or False"),
        (lambda: sc.Dropout(1.5), r"`p`=1.5 must be a probability"),
        (lambda: sc.Dropout(math.nan), r"`p`=nan must be a probability"),
        (lambda: sc.Hardtanh(2.0, 1.0), r"`max_val`=1.0 must be greater than `min_val`=2.0"),
        (lambda: sc.CELU(alpha=0), r"`alpha`=0 must not be 0"),
        (lambda: sc.Softmax(dim=1.0), r"`dim`=1.0 must be None or an int"),
        (lambda: sc.ZeroPad2d(1, 0.0), r"ZeroPad2d: too many positional arguments; it takes `padding`"),
        (lambda: sc.ConstantPad1d(1), r"ConstantPad1d: missing a required argument: 'value'"),
        (lambda: sc.Conv2d(1, 1, 3, foo=2), r"Conv2d: got an unexpected keyword argument 'foo'; it takes `in_"),
        (lambda: sc.Linear(3), r"Linear: missing a required argument: 'out_features'"),
        (lambda: sc.Conv2d(1, 1, 3, padding_mode=["zeros"]), r"`padding_mode`=\['zeros'\] must be one of"),
        (lambda: sc.MaxPool2d(2, return_indices="no"), r"`return_indices`='no' must be True or False"),
        (lambda: sc.BatchNorm2d(3, eps="small"), r"`eps`='small' must be a number"),
        (lambda: sc.Linear(3, 4, device=3), r"`device`=3 must be None"),
    ],
)
def test_constructors_refuse_what_pytorch_does_not_take(build, pattern):
    with pytest.raises(SymcnnError, match=pattern):
        build()


def test_constructors_take_pytorch_arguments():
    assert sc.GELU("tanh").approximate == "tanh" and sc.GELU().approximate == "none"
    assert repr(sc.LeakyReLU(0.2, inplace=True)) == "LeakyReLU(0.2, inplace=True)"
    sc.Identity(54, unused_argument1=0.1, unused_argument2=False)  # nn.Identity ignores its arguments
    sc.Hardtanh(min_value=0.0, max_value=6.0)
    sc.Conv2d(3, 8, 3, device="cpu", dtype=torch.float16)
    sc.BatchNorm2d(8, 1e-3, None, bias=False)
    assert sc.analyze(sc.BatchNorm2d(8, bias=False), (8, 4, 4)).params == sum(
        p.numel() for p in nn.BatchNorm2d(8, bias=False).parameters())


@pytest.mark.parametrize("dim", [-5, -4, -1, 0, 1, 3, 4, None])
def test_softmax_dim_range_matches_torch(dim):
    _agree(nn.Softmax(dim), sc.Softmax(dim), (2, 3, 4))


@pytest.mark.parametrize("shape", [(3,), (3, 4), (3, 4, 4)])
def test_dropout1d_and_prelu_inputs_match_torch(shape):
    _agree(nn.Dropout1d(), sc.Dropout1d(), shape)
    _agree(nn.PReLU(3), sc.PReLU(3), shape)
    _agree(nn.PReLU(4), sc.PReLU(4), shape)


# --- reprs ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("layer", "shown"),
    [
        (sc.Conv2d(1, 1, 3, padding=1, padding_mode="reflect"),
         "Conv2d(1, 1, kernel_size=(3, 3), padding=(1, 1), padding_mode='reflect')"),
        (sc.Upsample(scale_factor=0.3), "Upsample(scale_factor=0.3, mode='nearest')"),
        (sc.Upsample(scale_factor=(1.5, 2), mode="bilinear"), "Upsample(scale_factor=(1.5, 2), mode='bilinear')"),
        (sc.Upsample(size=7), "Upsample(size=7, mode='nearest')"),
        (sc.Conv1d(1, 1, 3), "Conv1d(1, 1, kernel_size=(3,))"),
        (sc.MaxPool1d(3, 2), "MaxPool1d(kernel_size=(3,), stride=(2,))"),
        (sc.AdaptiveAvgPool1d(3), "AdaptiveAvgPool1d(output_size=(3,))"),
        (sc.AdaptiveAvgPool2d((7, None)), "AdaptiveAvgPool2d(output_size=(7, None))"),
        (sc.ConstantPad1d((2, -1), 0.5), "ConstantPad1d((2, -1), 0.5)"),
        (sc.BatchNorm2d(8, affine=False), "BatchNorm2d(8, affine=False)"),
    ],
)
def test_reprs(layer, shown):
    assert repr(layer) == shown
