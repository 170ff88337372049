"""Symbolic hyperparameters, substituted, equal the numeric analysis and PyTorch (issue 13, item 1).

Random stacks of convolutions, transposed convolutions and max/avg pools (with ``ceil_mode``) whose kernel,
stride, padding, dilation and output padding are symbols are analysed once symbolically; each is then
substituted at several points and compared with the analysis of the same stack built with those numbers and
with PyTorch's output shape. Every substituted output size must be an integer, and a point the numeric
analysis refuses must be refused by the substitution too (and the other way round).

CI runs 500 networks under a fixed seed; ``SYMCNN_PROFILE=nightly`` runs 5,000.
"""

from __future__ import annotations

import os

import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symcnn as sc

torch = pytest.importorskip("torch")

NIGHTLY = os.environ.get("SYMCNN_PROFILE") == "nightly"
N_NETS = 5000 if NIGHTLY else 500
CHANNELS = 2

# parameter -> (lowest value drawn, highest value drawn, symbol is nonnegative rather than positive)
RANGES = {"k": (1, 4, False), "s": (1, 3, False), "p": (0, 2, True), "d": (1, 2, False), "op": (0, 2, True)}
PARAMS = {
    "conv": ("k", "s", "p", "d"),
    "convT": ("k", "s", "p", "op", "d"),
    "max": ("k", "s", "p"),
    "avg": ("k", "s", "p"),
}


@st.composite
def stacks(draw):
    """(dims, layers, points): layers are (kind, ceil_mode, {param: int or symbol name})."""
    dims = draw(st.sampled_from([1, 2]))
    layers = []
    names = []
    for i in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(sorted(PARAMS)))
        ceil = kind in ("max", "avg") and draw(st.booleans())
        args = {}
        for p in PARAMS[kind]:
            lo, hi, _ = RANGES[p]
            if draw(st.integers(0, 3)) > 0:  # mostly symbolic: that is what is under test
                args[p] = f"{p}{i}"
                names.append(args[p])
            else:
                args[p] = draw(st.integers(lo, hi))
        layers.append((kind, ceil, args))
    sizes = ["L"] if dims == 1 else ["H", "W"]
    point = st.fixed_dictionaries({
        **{n: st.integers(RANGES[n.rstrip("0123456789")][0], RANGES[n.rstrip("0123456789")][1]) for n in names},
        **{n: st.integers(1, 14) for n in sizes},
    })
    points = draw(st.lists(point, min_size=3, max_size=3))
    return dims, layers, points


def _symbol(name):
    return sc.symbols(name, nonnegative=RANGES[name.rstrip("0123456789")][2])


def _symcnn_layers(dims, layers, value):
    """symcnn layers; ``value(v)`` maps a parameter (int or symbol name) to what the layer receives."""
    out = []
    for kind, ceil, a in layers:
        v = {p: value(x) for p, x in a.items()}
        if kind == "conv":
            cls = sc.Conv1d if dims == 1 else sc.Conv2d
            out.append(cls(CHANNELS, CHANNELS, v["k"], stride=v["s"], padding=v["p"], dilation=v["d"]))
        elif kind == "convT":
            cls = sc.ConvTranspose1d if dims == 1 else sc.ConvTranspose2d
            out.append(cls(CHANNELS, CHANNELS, v["k"], stride=v["s"], padding=v["p"], output_padding=v["op"],
                           dilation=v["d"]))
        elif kind == "max":
            cls = sc.MaxPool1d if dims == 1 else sc.MaxPool2d
            out.append(cls(v["k"], stride=v["s"], padding=v["p"], ceil_mode=ceil))
        else:
            cls = sc.AvgPool1d if dims == 1 else sc.AvgPool2d
            out.append(cls(v["k"], stride=v["s"], padding=v["p"], ceil_mode=ceil))
    return sc.Sequential(*out)


def _torch_shape(dims, layers, point, sizes):
    mods = []
    for kind, ceil, a in layers:
        v = {p: (point[x] if isinstance(x, str) else x) for p, x in a.items()}
        nn = torch.nn
        if kind == "conv":
            cls = nn.Conv1d if dims == 1 else nn.Conv2d
            mods.append(cls(CHANNELS, CHANNELS, v["k"], stride=v["s"], padding=v["p"], dilation=v["d"]))
        elif kind == "convT":
            cls = nn.ConvTranspose1d if dims == 1 else nn.ConvTranspose2d
            mods.append(cls(CHANNELS, CHANNELS, v["k"], stride=v["s"], padding=v["p"], output_padding=v["op"],
                            dilation=v["d"]))
        elif kind == "max":
            cls = nn.MaxPool1d if dims == 1 else nn.MaxPool2d
            mods.append(cls(v["k"], stride=v["s"], padding=v["p"], ceil_mode=ceil))
        else:
            cls = nn.AvgPool1d if dims == 1 else nn.AvgPool2d
            mods.append(cls(v["k"], stride=v["s"], padding=v["p"], ceil_mode=ceil))
    try:
        with torch.no_grad():
            return tuple(torch.nn.Sequential(*mods)(torch.zeros(1, CHANNELS, *sizes)).shape[1:])
    except (RuntimeError, ValueError):
        return None


@settings(max_examples=N_NETS, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(stacks())
def test_symbolic_stack_substituted_equals_numeric_and_torch(case):
    dims, layers, points = case
    size_names = ("L",) if dims == 1 else ("H", "W")
    sizes = [sc.symbols(n) for n in size_names]
    try:
        net = _symcnn_layers(dims, layers, lambda x: _symbol(x) if isinstance(x, str) else x)
        sym = sc.analyze(net, (CHANNELS, *sizes))
    except sc.SymcnnError:
        sym = None  # refused for every value (e.g. a condition false whatever the symbols)
    for point in points:
        numbers = [point[n] for n in size_names]
        try:
            num = sc.analyze(_symcnn_layers(dims, layers, lambda x, pt=point: pt[x] if isinstance(x, str) else x),
                             (CHANNELS, *numbers))
        except sc.SymcnnError:
            num = None
        if sym is None:
            assert num is None, (layers, point)
            continue
        try:
            sub = sym.subs({s: point[s.name] for s in sym.free_symbols})
        except sc.SymcnnError:
            sub = None
        assert (sub is None) == (num is None), (layers, point, sym.output_shape, sym.constraints)
        if num is None:
            continue
        assert all(isinstance(v, sympy.Integer) for v in sub.output_shape), (layers, point, sub.output_shape)
        for rs, rn in zip(sub.layers, num.layers, strict=True):
            assert tuple(rs.output_shape) == tuple(rn.output_shape), (layers, point, rs.index)
            assert all(isinstance(v, sympy.Integer) for v in rs.output_shape)
        assert tuple(int(v) for v in num.output_shape) == _torch_shape(dims, layers, point, numbers), (layers, point)
