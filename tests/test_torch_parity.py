"""The engine against PyTorch itself: output shapes, refusals, parameter counts and MACs (FlopCounterMode / 2).

Skipped cleanly when torch is not installed.
"""

from __future__ import annotations

import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symcnn as sc

torch = pytest.importorskip("torch")
nn = torch.nn
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _torch_run(module, shape):
    """(output shape without batch, params, MACs) from torch, or None when torch refuses."""
    try:
        x = torch.zeros((1, *shape))
        with FlopCounterMode(display=False) as counter, torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's own notes (e.g. 'same' with an even kernel)
            y = module(x)
    except (RuntimeError, ValueError):
        return None
    if y.numel() == 0:  # torch returns an empty tensor where symcnn refuses an output size below 1
        return None
    params = sum(p.numel() for p in module.parameters())
    return tuple(y.shape[1:]), params, counter.get_total_flops() // 2


def _symcnn_run(build, shape):
    try:
        a = sc.analyze(build(), shape)
    except sc.SymcnnError:
        return None
    return tuple(int(v) for v in a.output_shape), int(a.params), int(a.macs)


def _torch_build(ctor):
    try:
        return ctor()
    except (RuntimeError, ValueError):
        return None


def _compare(tctor, sctor, shape):
    """Both refuse (at construction or on this input), or both give the same shape, params and MACs."""
    tmod = _torch_build(tctor)
    t = None if tmod is None else _torch_run(tmod, shape)
    try:
        s = _symcnn_run(sctor, shape)
    except sc.SymcnnError:
        s = None
    assert (t is None) == (s is None), f"torch: {t}, symcnn: {s}"
    if t is not None:
        assert s == t


@SETTINGS
@given(
    dims=st.sampled_from([1, 2]), w=st.integers(1, 14), k=st.integers(1, 5), s=st.integers(1, 3),
    p=st.integers(0, 3), d=st.integers(1, 3), g=st.sampled_from([1, 2]), bias=st.booleans(),
)
def test_conv(dims, w, k, s, p, d, g, bias):
    T = {1: nn.Conv1d, 2: nn.Conv2d}[dims]
    S = {1: sc.Conv1d, 2: sc.Conv2d}[dims]
    shape = (4,) + (w,) * dims
    _compare(lambda: T(4, 6, k, s, p, d, g, bias), lambda: S(4, 6, k, s, p, d, g, bias), shape)


@SETTINGS
@given(w=st.integers(1, 14), k=st.integers(1, 5), d=st.integers(1, 3))
def test_conv_same_at_stride_one(w, k, d):
    _compare(lambda: nn.Conv1d(2, 3, k, padding="same", dilation=d),
             lambda: sc.Conv1d(2, 3, k, padding="same", dilation=d), (2, w))


@SETTINGS
@given(
    w=st.integers(1, 10), k=st.integers(1, 5), s=st.integers(1, 3), p=st.integers(0, 3), d=st.integers(1, 3),
    op=st.integers(0, 3), g=st.sampled_from([1, 2]), bias=st.booleans(),
)
def test_conv_transpose(w, k, s, p, op, d, g, bias):
    _compare(lambda: nn.ConvTranspose2d(4, 6, k, s, p, op, g, bias, d),
             lambda: sc.ConvTranspose2d(4, 6, k, s, p, op, g, bias, d), (4, w, w + 1))


@SETTINGS
@given(
    kind=st.sampled_from(["max", "avg"]), w=st.integers(1, 16), k=st.integers(1, 5), s=st.integers(1, 4),
    p=st.integers(0, 3), d=st.integers(1, 3), ceil=st.booleans(),
)
def test_pooling(kind, w, k, s, p, d, ceil):
    if kind == "max":
        _compare(lambda: nn.MaxPool1d(k, s, p, d, ceil_mode=ceil), lambda: sc.MaxPool1d(k, s, p, d, ceil_mode=ceil),
                 (2, w))
    else:
        _compare(lambda: nn.AvgPool2d(k, s, p, ceil_mode=ceil), lambda: sc.AvgPool2d(k, s, p, ceil_mode=ceil),
                 (2, w, w + 2))


@SETTINGS
@given(w=st.integers(1, 12), o=st.integers(1, 12))
def test_adaptive(w, o):
    _compare(lambda: nn.AdaptiveAvgPool2d((o, None)), lambda: sc.AdaptiveAvgPool2d((o, None)), (2, w, w))


@SETTINGS
@given(w=st.integers(1, 12), scale=st.sampled_from([1, 2, 3, 1.5, 0.5]))
def test_upsample(w, scale):
    _compare(lambda: nn.Upsample(scale_factor=scale), lambda: sc.Upsample(scale_factor=scale), (2, w, w + 3))


def test_small_network_params_and_macs():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.c1 = nn.Conv2d(3, 8, 3, padding=1)
            self.b1 = nn.BatchNorm2d(8)
            self.c2 = nn.Conv2d(8, 8, 3, padding=2, dilation=2, groups=2)
            self.up = nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1)
            self.fc = nn.Linear(4 * 20 * 22, 10)

        def forward(self, x):
            y = self.b1(self.c1(x)).relu()
            y = self.c2(y) + y
            y = self.up(y)
            return self.fc(y.flatten(1))

    x = sc.Input()
    y = sc.ReLU()(sc.BatchNorm2d(8)(sc.Conv2d(3, 8, 3, padding=1)(x)))
    y = sc.Add()(sc.Conv2d(8, 8, 3, padding=2, dilation=2, groups=2)(y), y)
    y = sc.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1)(y)
    y = sc.Linear(4 * 20 * 22, 10)(sc.Flatten()(y))
    shape = (3, 10, 11)
    t = _torch_run(Net().eval(), shape)
    a = sc.analyze(sc.Graph(x, y), shape)
    assert (tuple(a.output_shape), a.params, a.macs) == t
