"""Bad input gets one exception type with a message naming the layer, the parameter, the value and the rule."""

from __future__ import annotations

import pytest
import sympy

import symcnn as sc
from symcnn import SymcnnError


@pytest.mark.parametrize(
    ("build", "pattern"),
    [
        (lambda: sc.Conv2d(3, 8, 0), r"Conv2d: `kernel_size`=0 must be positive"),
        (lambda: sc.Conv2d(3, 8, 3, stride=0), r"`stride`=0 must be positive"),
        (lambda: sc.Conv2d(3, 8, 3, dilation=-1), r"`dilation`=-1 must be positive"),
        (lambda: sc.Conv2d(3, 8, 3, padding=-1), r"`padding`=-1 must be non-negative"),
        (lambda: sc.Conv2d(3, 8, 3, groups=2), r"`in_channels`=3 must be divisible by `groups`=2"),
        (lambda: sc.Conv2d(4, 6, 3, groups=4), r"`out_channels`=6 must be divisible by `groups`=4"),
        (lambda: sc.Conv2d(3, 8, 3, padding="half"), r"`padding`='half' is not allowed.*'same'"),
        (lambda: sc.Conv2d(3, 8, 3, padding="half"), r"or one of 'valid', 'same', 'tf_same', 'same_lower', 'full'$"),
        (lambda: sc.Conv2d(3, 8, 3, stride=(1, 2), padding="same"),
         r"^Conv2d: `padding`='same' is not supported for strided convolutions \(PyTorch's rule\), `stride`=\(1, 2\); "
         r"TensorFlow's SAME at any stride is `padding`='tf_same'$"),
        (lambda: sc.Conv2d(3, 8, 3, stride=2, padding="tf_same", padding_mode="reflect"),
         r"^Conv2d: `padding`='tf_same' needs `padding_mode`='zeros'$"),
        (lambda: sc.Conv1d(1, 1, 3, padding="full", padding_mode="circular"),
         r"`padding`='full' needs `padding_mode`='zeros'"),
        (lambda: sc.Conv2d(3, 8, 3, padding=(1, 2, 3)), r"`padding`=\(1, 2, 3\) must have 2 entries"),
        (lambda: sc.MaxPool2d(3, padding=2), r"MaxPool2d: `padding`=2 must be at most half of `kernel_size`=3"),
        # PyTorch checks the nominal kernel even when dilation makes the window larger
        (lambda: sc.MaxPool1d(3, 4, padding=2, dilation=3), r"`padding`=2 must be at most half of `kernel_size`=3"),
        (lambda: sc.AvgPool2d(2, padding=2), r"`padding`=2 must be at most half"),
        (lambda: sc.ConvTranspose2d(1, 1, 3, stride=2, output_padding=2),
         r"`output_padding`=2 must be smaller than max\(`stride`, `dilation`\) = 2"),
        (lambda: sc.ConvTranspose2d(1, 1, 3, stride=1, output_padding=1),
         r"`output_padding`=1 must be smaller than max\(`stride`, `dilation`\) = 1"),
        (lambda: sc.Conv2d(3, 8, 3.0), r"`kernel_size`=3.0 is a float"),
        (lambda: sc.Conv2d(3, 8, 3, stride="2"), r"`stride`='2' is a str"),
        (lambda: sc.Conv2d(3, 8, True), r"`kernel_size`=True is a bool"),
        (lambda: sc.Conv2d(3, 8, sympy.Symbol("k")), r"`kernel_size`=k is not an integer .*symcnn.symbols"),
        (lambda: sc.Conv2d(3, 8, 3, bias=1), r"`bias`=1 must be True or False"),
        (lambda: sc.Linear(0, 3), r"Linear: `in_features`=0 must be positive"),
        (lambda: sc.Upsample(), r"give exactly one of `size` and `scale_factor`"),
        (lambda: sc.Flatten(0), r"`start_dim`=0 would merge the batch dimension"),
        (lambda: sc.ConnectionTableConv2d(6, 2, 5, table=[(0, 1), (6,)]), r"row 1 lists input map 6; allowed 0..5"),
    ],
)
def test_refused_arguments(build, pattern):
    with pytest.raises(SymcnnError, match=pattern):
        build()


@pytest.mark.parametrize(
    ("model", "shape", "pattern"),
    [
        (sc.Conv2d(3, 8, 7), (3, 5, 5),
         r"layer 0 'Conv2d' \(Conv2d\(3, 8, kernel_size=\(7, 7\)\)\) with input \(3, 5, 5\): kernel 7 \(effective 7\) "
         r"is larger than the padded input 5 along axis H"),
        (sc.Linear(10, 5), (3, 4), r"input has 4 features \(last dim of \(3, 4\)\) but `in_features`=10"),
        (sc.Sequential(sc.Conv2d(3, 8, 3), sc.Conv2d(4, 8, 3)), (3, 10, 10),
         r"layer 1 '1' .* with input \(8, 8, 8\): input has 8 channels but `in_channels`=4"),
        (sc.Conv2d(3, 8, 3), (3, 10), r"input shape \(3, 10\) has 2 dims; expected 3"),
        (sc.Conv2d(3, 8, 3), (3, 0, 5), r"`input_shape`=0 must be positive"),
        (sc.MaxPool2d(2, 2, padding=1, dilation=4), (1, 2, 2),
         r"kernel 2 \(effective 5\) is larger than the padded input 4"),
        (sc.SpatialPyramidPooling((4, 2, 1)), (3, 7, 7), r"level 4 .* yields 6 bins along H=7, not 4"),
        (sc.ConvTranspose1d(1, 1, 2, padding=3), (1, 2), r"output size -3 is below 1"),
        (sc.Conv1d(1, 1, 1, padding=((2, -1),), padding_mode="circular"), (1, 4),
         r"`padding`=\(2, -1\) along axis L has opposite signs, which `padding_mode`='circular' does not take"),
        (sc.Conv1d(1, 1, 5, padding="same", padding_mode="reflect"), (1, 2),
         r"`padding`=2 \(each side\) with `padding_mode`='reflect' must be smaller than the input size 2 along axis L"),
        (sc.ZeroPad1d((2, -2)), (2, 1), r"layer 0 'ZeroPad1d' .* padding \(2, -2\) crops 2 elements from the input "
         r"size 1 along axis L before padding \(PyTorch refuses it: \"narrow\(\): length must be non-negative\"\)"),
        (sc.GroupNorm(2, 4, affine=False), (3, 5), r"input has 3 channels, which `num_groups`=2 does not divide"),
        (sc.GroupNorm(2, 4), (2, 5), r"input has 2 channels but `num_channels`=4"),
    ],
)
def test_refused_shapes_name_the_layer(model, shape, pattern):
    with pytest.raises(SymcnnError, match=pattern):
        sc.analyze(model, shape)


def _branches():
    x = sc.Input()
    a = sc.Conv2d(3, 8, 3)(x)
    b = sc.Conv2d(3, 8, 1)(x)
    return x, a, b


def test_merge_mismatches():
    x, a, b = _branches()
    with pytest.raises(SymcnnError, match=r"layer 2 'add' .*input shapes \(8, 8, 8\), \(8, 10, 10\) do not match"):
        sc.analyze(sc.Graph(x, sc.Add()(a, b)), (3, 10, 10))
    x, a, b = _branches()
    with pytest.raises(SymcnnError, match=r"differ along dim 2 \(8 vs 10\); only dim 1 may differ"):
        sc.analyze(sc.Graph(x, sc.Concat()(a, b)), (3, 10, 10))


def test_symbolic_config_keeps_conditions_and_subs_checks_them():
    a = sc.analyze(sc.Conv2d(sc.C, 8, sc.F), (sc.C, sc.H, sc.W))
    assert len(a.constraints) == 2
    with pytest.raises(SymcnnError, match=r"layer 0 'Conv2d': kernel F .* \(false for F=9, H=5, W=5, C=1\)"):
        a.subs(F=9, H=5, W=5, C=1)
    with pytest.raises(SymcnnError, match=r"`Q` is not a symbol of this analysis \(symbols: C, F, H, W\)"):
        a.subs(Q=3)
    with pytest.raises(SymcnnError, match=r"`H`=2.5 is a float"):
        a.subs(H=2.5)
    g = sc.analyze(sc.Conv2d(sc.C, 8, 3, groups=sc.G), (sc.C, sc.H, sc.W))
    with pytest.raises(SymcnnError, match=r"`in_channels`=C must be divisible by `groups`=G"):
        g.subs(C=3, G=2)
    t = sc.analyze(sc.ConvTranspose1d(1, 1, 3, stride=sc.S, output_padding=sc.P), (1, sc.W))
    with pytest.raises(SymcnnError, match=r"`output_padding`=P must be smaller than max"):
        t.subs(S=2, P=2)


def test_calling_a_layer_on_a_non_node():
    with pytest.raises(SymcnnError, match=r"call it on graph nodes .* use symcnn.analyze"):
        sc.Conv2d(3, 8, 3)((3, 10, 10))


def test_layers_are_immutable():
    conv = sc.Conv2d(3, 8, 3)
    with pytest.raises(AttributeError, match="immutable"):
        conv.stride = (2, 2)
