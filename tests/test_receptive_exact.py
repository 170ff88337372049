"""The exact receptive field (``receptive_field.lo/hi``, spans) against a brute-force dependency walk.

The walk (``reference.dependencies_1d``) enumerates every layer's reads numerically (windows with their
padding, the real inputs a transposed convolution scatters from, PyTorch's own float32 upsampling index
arithmetic) and unions exact runs of positions; the engine's formulas, built symbolically and substituted at
several sizes, must give the first and last position of every output that depends on some input. One small
network is also checked against PyTorch autograd (the nonzero support of an output's gradient).
"""

from __future__ import annotations

import functools

import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symcnn as sc
from symcnn import H, W
from symcnn import reference as ref
from symcnn.receptive import POSITION

_UPSAMPLE_MODES = {"bilinear": "linear", "trilinear": "linear", "bicubic": "cubic"}


def _adaptive(n, size_in, size_out):
    return set(range(n * size_in // size_out, -(-(n + 1) * size_in // size_out)))


def _reads(layer, m, axis: int, x, out):
    """The positions output ``n`` reads along spatial ``axis``, as a function (by enumeration)."""
    w = int(x[axis + 1])
    o = int(out[axis + 1]) if len(out) == len(x) else None
    if m.kind == "window" and m.mode == "adaptive":
        return functools.partial(_adaptive, size_in=w, size_out=o)
    if m.kind == "window":
        k, d = int(m.kernel), int(m.dilation)
        return functools.partial(ref.window_reads, kernel=(k - 1) // d + 1, stride=int(m.stride),
                                 padding=int(m.pad_left), dilation=d)
    if m.kind == "global":
        return lambda n: set(range(w))
    if m.kind == "transposed":
        return functools.partial(ref.transposed_reads, size_in=w, kernel=int(m.kernel), stride=int(m.stride),
                                 padding=int(m.pad_left), dilation=int(m.dilation))
    assert m.kind == "upsample"
    scale = None if layer.size is not None or layer.recompute_scale_factor else float(
        layer.scale_factor[axis if len(layer.scale_factor) > 1 else 0])
    return functools.partial(ref.upsample_reads, mode=_UPSAMPLE_MODES.get(layer.mode, layer.mode), size_in=w,
                             size_out=o, scale=scale, align_corners=bool(layer.align_corners))


def walk_nodes(a, axis: int) -> list:
    """The analysed network (numeric sizes) as the walk's nodes along one spatial axis."""
    nodes = []
    for r in a.layers:
        res = r.layer.infer(*r.input_shapes)
        reads = []
        for k, x in enumerate(r.input_shapes):
            maps = res.axes[k] if res.axes and isinstance(res.axes[0], tuple) else res.axes
            out = res.output_shape
            if len(x) <= axis + 1:
                reads.append(None)  # a flattened tensor: the axis is gone
            elif len(r.input_shapes) > 1 and len(out) == len(x) and x[axis + 1] == 1 and out[axis + 1] != 1:
                reads.append(lambda n: {0})  # broadcast
            elif maps is None or len(maps) != len(x) - 1:
                reads.append(None)
            else:
                reads.append(_reads(r.layer, maps[axis], axis, x, out))
        nodes.append((list(r.inputs), reads))
    return nodes


def check_against_walk(a, records=None) -> int:
    """Every real position of the chosen records (default all): the engine's interval equals the walk's first
    and last position (for outputs that depend on some input). Returns the number of positions compared."""
    records = range(len(a.layers)) if records is None else records
    compared = 0
    for axis in range(len(a.input_shape) - 1):
        nodes = walk_nodes(a, axis)
        wanted = {k: int(a.layers[k].receptive_field.positions[axis]) for k in records}
        got = ref.dependencies_1d(nodes, wanted)
        for k, runs in got.items():
            rf = a.layers[k].receptive_field
            assert rf.exact, (a.layers[k].name, rf.notes)
            bounds = sympy.lambdify([POSITION], (rf.lo[axis], rf.hi[axis]), modules="math")  # the same formulas
            for n, deps in enumerate(runs):
                if not deps:
                    continue
                want = (deps[0][0], deps[-1][1])
                got = rf.interval(n, axis) if n in (0, len(runs) - 1) else tuple(int(v) for v in bounds(n))
                assert got == want, (a.layers[k].name, axis, n, want)
                compared += 1
            spans = [d[-1][1] - d[0][0] + 1 if d else 0 for d in runs]
            if not rf.whole[axis] and spans and all(runs):
                assert (rf.span_min[axis], rf.span_max[axis]) == (min(spans), max(spans)), a.layers[k].name
    return compared


# --- the figures ------------------------------------------------------------------------------------


def test_unet_at_572_output_0_reads_0_to_187_and_spans_run_from_188_to_204():
    a = sc.analyze(sc.models.unet(), (1, 572, 572))
    rf = a.receptive_field
    assert rf.interval(0) == (0, 187) and rf.at(0) == ((0, 187), (0, 187))
    assert rf.span_min == (188, 188) and rf.span_max == (204, 204)
    assert rf.size == (None, None) and rf.exact and rf.varies == (True, True)
    # the same from the walk, along one axis, for the output
    runs = ref.dependencies_1d(walk_nodes(a, 1), {len(a.layers) - 1: 388})[len(a.layers) - 1]
    assert runs[0] == ((0, 187),)
    spans = [r[-1][1] - r[0][0] + 1 for r in runs]
    assert (min(spans), max(spans)) == (188, 204)


def test_dcgan_generator_outputs_all_depend_on_the_one_latent_pixel():
    a = sc.analyze(sc.models.get("dcgan_generator"), (100, 1, 1))
    rf = a.receptive_field
    assert rf.size == (1, 1) and rf.exact and rf.at(63) == ((0, 0), (0, 0))
    check_against_walk(a)


@pytest.mark.parametrize("sizes", [((1, H, W), [(188, 204), (252, 188), (316, 316)])])
def test_unet_symbolic_map_substituted_at_three_sizes_equals_the_walk(sizes):
    shape, values = sizes
    sym = sc.analyze(sc.models.unet(), shape)
    for h, w in values:
        a = sym.subs(H=h, W=w)
        assert check_against_walk(a, records=[len(a.layers) - 1, 20]) > 0


def test_dcgan_generator_symbolic_latent_size():
    sym = sc.analyze(sc.models.get("dcgan_generator"), (100, H, W))
    for h, w in ((1, 1), (2, 3), (4, 2)):
        check_against_walk(sym.subs(H=h, W=w), records=[len(sym.layers) - 1, 6])


# --- the zoo: the symbolic map at three sizes ------------------------------------------------------------------

ZOO_SIZES = {"lenet5": [(32, 32)], "unet": [(188, 204)], "dcgan_generator": [(1, 1)],
             "dcgan_discriminator": [(64, 64), (80, 96), (128, 64)]}


def _zoo_cases():
    for name in sc.models.names():
        yield pytest.param(name, id=name)


@pytest.mark.parametrize("name", ["alexnet", "dcgan_discriminator", "googlenet", "lenet5", "mobilenet_v2",
                                  "resnet18", "squeezenet1_1", "vgg11"])
def test_zoo_receptive_fields_equal_the_walk(name):
    model = sc.models.get(name)
    cin = 1 if name in ("lenet5", "unet") else (100 if name == "dcgan_generator" else 3)
    sizes = ZOO_SIZES.get(name, [(224, 224), (193, 257), (256, 160)])
    try:
        sym = sc.analyze(model, (cin, H, W))
    except sc.SymcnnError:
        sym = None
    for h, w in sizes:
        a = sym.subs(H=h, W=w) if sym is not None else sc.analyze(model, (cin, h, w))
        last = max(k for k, r in enumerate(a.layers) if len(r.output_shape) >= 3)
        check_against_walk(a, records=[last, len(a.layers) - 1])


# --- random stacks with upsampling and transposed convolutions ------------------------------------------------

_LAYER = st.one_of(
    st.tuples(st.just("conv"), st.integers(1, 4), st.integers(1, 3), st.integers(0, 2), st.integers(1, 2)),
    st.tuples(st.just("tconv"), st.integers(1, 4), st.integers(1, 3), st.integers(0, 2), st.integers(1, 3)),
    st.tuples(st.just("up"), st.sampled_from(["nearest", "nearest-exact", "linear", "linear-align"]),
              st.integers(1, 3)),
    st.tuples(st.just("pool"), st.integers(1, 3), st.integers(1, 3)),
)


def _build(spec):
    layers = []
    for item in spec:
        if item[0] == "conv":
            _, k, s, p, d = item
            layers.append(sc.Conv1d(1, 1, k, stride=s, padding=min(p, (k - 1) * d), dilation=d))
        elif item[0] == "tconv":
            _, k, s, p, d = item
            layers.append(sc.ConvTranspose1d(1, 1, k, stride=s, padding=min(p, (k - 1) * d), dilation=d))
        elif item[0] == "up":
            _, mode, f = item
            torch_mode = "linear" if mode == "linear-align" else mode
            layers.append(sc.Upsample(scale_factor=f, mode=torch_mode,
                                      align_corners=True if mode == "linear-align" else None))
        else:
            _, k, s = item
            layers.append(sc.MaxPool1d(k, stride=s))
    return sc.Sequential(*layers)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_LAYER, min_size=1, max_size=5), st.integers(1, 12))
def test_random_stacks_equal_the_walk(spec, size):
    net = _build(spec)
    try:
        sym = sc.analyze(net, (1, W))
    except sc.SymcnnError:
        return
    for w in (size, size + 5, 2 * size + 1):
        try:
            a = sym.subs(W=w)
        except sc.SymcnnError:
            continue
        if not a.receptive_field.exact:
            assert a.receptive_field.notes
            continue
        check_against_walk(a)


# --- PyTorch autograd: the nonzero support of an output's gradient ---------------------------------------------


def test_engine_stack_of_test_engine_equals_the_walk():
    strided = sc.Sequential(sc.MaxPool1d(2), sc.MaxPool1d(2), sc.ConvTranspose1d(1, 1, 2, stride=2),
                            sc.ConvTranspose1d(1, 1, 2, stride=2), sc.Conv1d(1, 1, 3))
    assert check_against_walk(sc.analyze(strided, (1, 64))) > 0


@pytest.mark.parametrize("upsample", [dict(mode="nearest"), dict(mode="bilinear", align_corners=False),
                                      dict(mode="bilinear", align_corners=True), dict(mode="bicubic")])
def test_gradient_support_equals_the_interval(upsample):
    """A small random-weight network with a padded convolution, average pooling, a strided transposed convolution
    and an upsampling: the input pixels with a nonzero gradient of one output are exactly the real positions of
    its interval (padding positions have no gradient), along both axes."""
    torch = pytest.importorskip("torch")
    nn = torch.nn
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.AvgPool2d(2), nn.Conv2d(2, 2, 3),
                          nn.ConvTranspose2d(2, 2, 3, stride=2, padding=1), nn.Upsample(scale_factor=2, **upsample),
                          nn.Conv2d(2, 1, 3, padding=1)).double()
    h, w = 14, 18
    a = sc.analyze(sc.from_torch(model, (1, h, w)), (1, h, w))
    rf = a.receptive_field
    out_h, out_w = (int(v) for v in a.output_shape[1:])
    x = torch.randn(1, 1, h, w, dtype=torch.float64, requires_grad=True)
    y = model(x)
    assert tuple(y.shape[2:]) == (out_h, out_w)
    for oy, ox in ((0, 0), (out_h - 1, out_w - 1), (out_h // 2, out_w // 3), (1, out_w - 2), (out_h - 2, 1)):
        (grad,) = torch.autograd.grad(y[0, 0, oy, ox], x, retain_graph=True)
        support = grad[0, 0].abs() > 0
        rows = support.any(dim=1).nonzero().flatten().tolist()
        cols = support.any(dim=0).nonzero().flatten().tolist()
        for axis, (o, seen, size) in enumerate(((oy, rows, h), (ox, cols, w))):
            lo, hi = rf.interval(o, axis)
            assert (seen[0], seen[-1]) == (max(lo, 0), min(hi, size - 1)), (upsample, axis, o, seen, (lo, hi))
