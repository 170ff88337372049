"""The engine's formulas against the brute-force reference (sliding windows enumerated), and the reference
against PyTorch's real outputs where torch is installed."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symcnn as sc
from symcnn import reference as ref

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def engine(build, shape):
    """(output shape, macs) from the engine, or None when it refuses."""
    try:
        a = sc.analyze(build(), shape)
    except sc.SymcnnError:
        return None
    return tuple(int(v) for v in a.output_shape), int(a.macs)


# --- worked examples, by value ----------------------------------------------------------------------------

def test_transposed_worked_example_values():
    ones = np.ones((1, 3, 3))
    k = np.ones((1, 1, 3, 3))
    full, _ = ref.conv_transpose(ones, k, stride=2)
    assert full.shape == (1, 7, 7)
    out, _ = ref.conv_transpose(ones, k, stride=2, padding=1)
    assert out[0].astype(int).tolist() == [[1, 2, 1, 2, 1], [2, 4, 2, 4, 2], [1, 2, 1, 2, 1], [2, 4, 2, 4, 2],
                                           [1, 2, 1, 2, 1]]
    out6, _ = ref.conv_transpose(ones, k, stride=2, padding=1, output_padding=1)
    assert out6.shape == (1, 6, 6)
    # output_padding adds a zero row/column at the end of the full (uncropped) output; cropping `padding` from
    # both ends then keeps one more real row/column: out6 is the full 7x7 output without its first row/column
    assert np.array_equal(out6[0, :5, :5], out[0]) and np.array_equal(out6[0], full[0, 1:, 1:])
    assert engine(lambda: sc.ConvTranspose2d(1, 1, 3, 2, 1, 1), (1, 3, 3))[0] == (1, 6, 6)


def test_pooling_and_padding_family_examples():
    x = np.arange(16.0).reshape(1, 4, 4)
    assert ref.pool(x, "max", 2).tolist() == [[[5.0, 7.0], [13.0, 15.0]]]
    assert ref.pool(x, "avg", 2, stride=1).shape == (1, 3, 3)  # overlapping pooling
    full, _ = ref.conv(np.ones((1, 2, 2)), np.ones((1, 1, 3, 3)), padding=2)  # FULL: 2x2 with 3x3 -> 4x4
    assert full.shape == (1, 4, 4)
    assert ref.windows_1d(5, 2, 2, 1, ceil_mode=True) == [-1, 1, 3]  # naive ceil would give 4 windows
    assert engine(lambda: sc.MaxPool1d(2, 2, 1, ceil_mode=True), (1, 5))[0] == (1, 3)


# --- engine == reference ------------------------------------------------------------------------------------

@SETTINGS
@given(w=st.integers(1, 13), h=st.integers(1, 9), k=st.integers(1, 5), s=st.integers(1, 4), pl=st.integers(0, 3),
       pr=st.integers(0, 3), d=st.integers(1, 3), g=st.sampled_from([1, 2]))
def test_conv_matches_reference(w, h, k, s, pl, pr, d, g):
    x = np.random.default_rng(0).standard_normal((2, h, w))
    weight = np.ones((4, 2 // g, k, k))
    try:
        out, macs = ref.conv(x, weight, stride=s, padding=((pl, pr), (pr, pl)), dilation=d, groups=g)
        want = (out.shape, macs)
    except ref.InvalidConfig:
        want = None
    got = engine(lambda: sc.Conv2d(2, 4, k, s, ((pl, pr), (pr, pl)), d, g), (2, h, w))
    assert got == want


@SETTINGS
@given(w=st.integers(1, 7), k=st.integers(1, 4), s=st.integers(1, 3), p=st.integers(0, 3), op=st.integers(0, 2),
       d=st.integers(1, 3), g=st.sampled_from([1, 2]))
def test_conv_transpose_matches_reference(w, k, s, p, op, d, g):
    x = np.ones((2, w))
    weight = np.ones((2, 4 // g, k))
    try:
        if ref.torch_refuses_output_padding(op, s, d):
            raise ref.InvalidConfig("policy")
        out, macs = ref.conv_transpose(x, weight, stride=s, padding=p, output_padding=op, dilation=d, groups=g)
        want = (out.shape, macs)
    except ref.InvalidConfig:
        want = None
    assert engine(lambda: sc.ConvTranspose1d(2, 4, k, s, p, op, g, True, d), (2, w)) == want


@SETTINGS
@given(kind=st.sampled_from(["max", "avg"]), w=st.integers(1, 20), k=st.integers(1, 6), s=st.integers(1, 5),
       p=st.integers(0, 3), d=st.integers(1, 3), ceil=st.booleans())
def test_pool_matches_reference(kind, w, k, s, p, d, ceil):
    if kind == "avg":
        d = 1
    x = np.arange(float(w)).reshape(1, w)
    try:
        if ref.torch_refuses_pool_padding(k, p):
            raise ref.InvalidConfig("policy")
        want = ref.pool(x, kind, k, s, p, d, ceil).shape
    except ref.InvalidConfig:
        want = None
    build = (lambda: sc.MaxPool1d(k, s, p, d, ceil_mode=ceil)) if kind == "max" else (
        lambda: sc.AvgPool1d(k, s, p, ceil_mode=ceil))
    got = engine(build, (1, w))
    assert (got[0] if got else None) == want


@SETTINGS
@given(w=st.integers(1, 15), o=st.integers(1, 15))
def test_adaptive_matches_reference(w, o):
    x = np.arange(float(w)).reshape(1, w)
    assert engine(lambda: sc.AdaptiveAvgPool1d(o), (1, w))[0] == ref.adaptive_pool(x, "avg", o).shape
    a = sc.analyze(sc.AdaptiveAvgPool1d(o), (1, w))
    lo_hi = [((i * w) // o, -((-(i + 1) * w) // o)) for i in range(o)]
    assert a.flops == sum(hi - lo for lo, hi in lo_hi)  # sum of the windows the reference pools


@SETTINGS
@given(st.lists(st.tuples(st.integers(1, 5), st.integers(1, 3), st.integers(0, 2), st.integers(1, 2)),
                min_size=1, max_size=5))
def test_receptive_field_matches_dependency_sets(stack):
    layers = [dict(kernel=k, stride=s, padding=min(p, k // 2), dilation=d) for k, s, p, d in stack]
    net = sc.Sequential(*[sc.MaxPool1d(L["kernel"], L["stride"], L["padding"], L["dilation"]) for L in layers])
    try:
        size, jump, centre = ref.receptive_field_1d(64, layers)
    except ref.InvalidConfig:
        return
    a = sc.analyze(net, (1, 64))
    rf = a.receptive_field
    assert int(rf.size[0]) == size
    assert float(rf.start[0]) == centre
    if int(a.output_shape[1]) > 1:
        assert int(rf.stride[0]) == jump


# --- reference == PyTorch -----------------------------------------------------------------------------------

@SETTINGS
@given(w=st.integers(1, 10), k=st.integers(1, 4), s=st.integers(1, 3), p=st.integers(0, 2), op=st.integers(0, 2),
       d=st.integers(1, 2), ceil=st.booleans(), include=st.booleans())
def test_reference_values_match_torch(w, k, s, p, op, d, ceil, include):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(w * 31 + k)
    x = rng.standard_normal((2, w, w + 1))
    wt = rng.standard_normal((3, 2, k, k))
    tx = torch.tensor(x)[None]
    try:
        out, _ = ref.conv(x, wt, stride=s, padding=p, dilation=d)
    except ref.InvalidConfig:
        out = None
    try:
        t = F.conv2d(tx, torch.tensor(wt), stride=s, padding=p, dilation=d)[0].numpy()
    except RuntimeError:
        t = None
    assert (out is None) == (t is None)
    if out is not None:
        assert np.allclose(out, t)
    wt_t = rng.standard_normal((2, 3, k, k))
    if op < max(s, d):
        try:
            out, _ = ref.conv_transpose(x, wt_t, stride=s, padding=p, output_padding=op, dilation=d)
        except ref.InvalidConfig:
            out = None
        try:
            t = F.conv_transpose2d(tx, torch.tensor(wt_t), stride=s, padding=p, output_padding=op, dilation=d)[0]
        except RuntimeError:
            t = torch.zeros(0)
        if t.numel() == 0:
            assert out is None
        else:
            assert np.allclose(out, t.numpy())
    if 2 * p <= k:
        for kind in ("max", "avg"):
            dd = d if kind == "max" else 1
            try:
                out = ref.pool(x, kind, k, s, p, dd, ceil, include)
            except ref.InvalidConfig:
                out = None
            try:
                if kind == "max":
                    t = F.max_pool2d(tx, k, s, p, dd, ceil_mode=ceil)[0].numpy()
                else:
                    t = F.avg_pool2d(tx, k, s, p, ceil_mode=ceil, count_include_pad=include)[0].numpy()
            except RuntimeError:
                t = None
            assert (out is None) == (t is None)
            if out is not None:
                assert np.allclose(out, t)
