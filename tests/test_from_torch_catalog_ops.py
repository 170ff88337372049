"""from_torch on models that read parameters in ``forward`` (timm's BatchNormAct2d, StdConv2d, layer scale, learnable
affine blocks), normalise over channels (ConvNeXt's permute + LayerNorm + permute, LayerNorm2d, GroupNorm) and use
stochastic depth; and the layers they need (LayerNorm, LayerNorm2d, GroupNorm, Permute, LearnedScale/Shift,
StochasticDepth) against PyTorch, the counting tools and autograd.

Expected values always come from torch at test time: ``sum(p.numel())``, the output shape of a forward pass and
``FlopCounterMode`` (MACs = its total / 2).
"""

from __future__ import annotations

import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symcnn as sc
from symcnn import H, SymcnnError, W

torch = pytest.importorskip("torch")
nn, F = torch.nn, torch.nn.functional
pytestmark = pytest.mark.torch

from torch.utils.flop_counter import FlopCounterMode  # noqa: E402


def _torch_figures(model, h, w):
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        y = model(torch.zeros(1, 3, h, w))
    return tuple(y.shape[1:]), counter.get_total_flops()


def _check(model, sizes):
    """params, output shape and MACs of the symbolic import equal torch's at every size."""
    model = model.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = sc.analyze(sc.from_torch(model, (3, H, W)), (3, H, W))
    assert a.params == sum(p.numel() for p in model.parameters())
    for h, w in sizes:
        shape, flops = _torch_figures(model, h, w)
        values = {H: h, W: w}
        assert tuple(int(v.xreplace(values)) for v in a.output_shape) == shape, (h, w)
        assert 2 * a.macs.xreplace(values) == flops, (h, w)
    return a


# The catalog models these operators open (convnext, efficientnet, timm's BatchNormAct2d / StdConv2d / layer scale
# families) are checked at three sizes each by tests/test_catalog.py; here only what the catalog does not check.


def test_receptive_field_is_followed_through_convnext_permutes():
    pytest.importorskip("torchvision")
    from symcnn.interop import catalog

    entry = next(e for e in catalog.entries("torchvision") if e.name == "convnext_tiny")
    assert sc.analyze(entry.import_model(), entry.input_shape).receptive_field.exact


# --- functional forms, written by hand -----------------------------------------------------------------------

class _Functional(nn.Module):
    """Every functional form from_torch reads with a parameter: norms, conv, linear, layer scale, an affine block,
    a standardised weight with a gain, and a parameter read by two layers."""

    def __init__(self):
        super().__init__()
        self.w1 = nn.Parameter(torch.randn(8, 3, 3, 3))
        self.b1 = nn.Parameter(torch.zeros(8))
        self.gain = nn.Parameter(torch.ones(8, 1, 1, 1))
        self.bn_w, self.bn_b = nn.Parameter(torch.ones(8)), nn.Parameter(torch.zeros(8))
        self.register_buffer("mean", torch.zeros(8))
        self.register_buffer("var", torch.ones(8))
        self.gn_w, self.gn_b = nn.Parameter(torch.ones(8)), nn.Parameter(torch.zeros(8))
        self.ln_w, self.ln_b = nn.Parameter(torch.ones(8)), nn.Parameter(torch.zeros(8))
        self.fc_w = nn.Parameter(torch.randn(8, 8))
        self.gamma = nn.Parameter(torch.ones(8))
        self.scale, self.shift = nn.Parameter(torch.ones(1)), nn.Parameter(torch.zeros(1))
        self.w2 = nn.Parameter(torch.randn(8, 4, 3, 3))

    def forward(self, x):
        w = F.batch_norm(self.w1.reshape(1, 8, -1), None, None, weight=(self.gain * 2.0).view(-1), training=True,
                         momentum=0.0, eps=1e-5).reshape_as(self.w1)
        x = F.conv2d(x, w, self.b1, 2, 1)
        x = F.batch_norm(x, self.mean, self.var, self.bn_w, self.bn_b, False, 0.1, 1e-5)
        x = F.group_norm(x, 4, self.gn_w, self.gn_b)
        y = x.permute(0, 2, 3, 1)
        y = F.layer_norm(y, (8,), self.ln_w, self.ln_b)
        y = F.linear(y, self.fc_w)
        y = y * self.gamma  # channels-last layer scale
        x = x + y.permute(0, 3, 1, 2)
        x = self.scale * x + self.shift
        x = x.mul(self.gamma.reshape(1, -1, 1, 1))  # gamma read a second time: counted once
        return F.conv2d(x, self.w2, None, 1, 0, 1, 2)


def test_functional_forms_count_parameters_once_and_macs_as_flop_counter():
    model = _Functional()
    a = _check(model, ((9, 9), (12, 17)))
    kinds = [r.kind for r in a.layers]
    for kind in ("BatchNorm2d", "GroupNorm", "Permute", "LayerNorm", "Linear", "LearnedScale", "LearnedShift",
                 "WeightParameters", "SharedParameters"):
        assert kind in kinds, kind
    assert a.receptive_field.exact
    graph = sc.from_torch(model, (3, H, W))
    assert any("gain" in n for n in graph.notes)


def test_parameters_read_in_forward_are_not_reported_unused():
    graph = sc.from_torch(_Functional().eval(), (3, H, W))
    assert graph.unused_parameters == {}


def test_permute_keeps_the_receptive_field_exact_and_flags_what_it_cannot_follow():
    conv = nn.Conv2d(3, 8, 3, stride=2)

    class ChannelsLast(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.fc, self.conv2 = conv, nn.Linear(8, 8), nn.Conv2d(8, 8, 5, dilation=2)

        def forward(self, x):
            y = self.fc(self.conv(x).permute(0, 2, 3, 1))
            return self.conv2(y.permute(0, 3, 1, 2))

    class Plain(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.fc, self.conv2 = conv, nn.Conv2d(8, 8, 1), nn.Conv2d(8, 8, 5, dilation=2)

        def forward(self, x):
            return self.conv2(self.fc(self.conv(x)))

    got = sc.analyze(sc.from_torch(ChannelsLast().eval(), (3, H, W)), (3, H, W)).receptive_field
    want = sc.analyze(sc.from_torch(Plain().eval(), (3, H, W)), (3, H, W)).receptive_field
    assert (got.size, got.stride, got.start, got.exact) == (want.size, want.stride, want.start, True)
    # a spatial axis moved to dim 0 then mixed by a convolution over "channels": not followed, said so
    x = sc.Input()
    y = sc.Conv2d(5, 4, 3)(sc.Permute([0, 2, 1, 3])(x))
    rf = sc.analyze(sc.Graph(x, y), (3, 5, 9)).receptive_field
    assert not rf.exact


def test_stochastic_depth_in_training_mode_is_refused_and_eval_is_identity():
    tv = pytest.importorskip("torchvision")

    class Own(tv.ops.StochasticDepth):  # its own forward: traced into, down to torchvision's wrapped function
        def forward(self, x):
            return super().forward(x)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.drop = nn.Conv2d(3, 4, 3), Own(0.2, "row")

        def forward(self, x):
            return self.drop(self.conv(x))

    a = sc.analyze(sc.from_torch(Net().eval(), (3, H, W)), (3, H, W))
    assert [r.kind for r in a.layers][-1] == "StochasticDepth" and a.layers[-1].macs == 0
    with pytest.raises(SymcnnError, match="training mode"):
        sc.from_torch(Net().train(), (3, H, W))


# --- the layers against PyTorch ----------------------------------------------------------------------------

def _numel(module):
    return sum(p.numel() for p in module.parameters())


@settings(max_examples=40, deadline=None, derandomize=True)
@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=4), k=st.integers(1, 3), affine=st.booleans(),
       bias=st.booleans())
def test_layer_norm_matches_torch(shape, k, affine, bias):
    k = min(k, len(shape))
    normalized = shape[-k:]
    layer = sc.LayerNorm(normalized, elementwise_affine=affine, bias=bias)
    module = nn.LayerNorm(normalized, elementwise_affine=affine, bias=bias)
    a = sc.analyze(layer, tuple(shape))
    assert tuple(a.output_shape) == tuple(module(torch.zeros(1, *shape)).shape[1:])
    assert a.params == _numel(module) and a.macs == 0
    wrong = [v + 1 for v in normalized]
    with pytest.raises(RuntimeError):
        nn.LayerNorm(wrong)(torch.zeros(1, *shape))
    with pytest.raises(SymcnnError, match="normalized_shape"):
        sc.analyze(sc.LayerNorm(wrong), tuple(shape))


@settings(max_examples=40, deadline=None, derandomize=True)
@given(groups=st.integers(1, 6), channels=st.integers(1, 12), spatial=st.lists(st.integers(1, 4), max_size=3),
       affine=st.booleans())
def test_group_norm_matches_torch(groups, channels, spatial, affine):
    try:
        module = nn.GroupNorm(groups, channels, affine=affine)
    except ValueError:
        with pytest.raises(SymcnnError, match="must divide"):
            sc.GroupNorm(groups, channels, affine=affine)
        return
    layer, shape = sc.GroupNorm(groups, channels, affine=affine), (channels, *spatial)
    batch = 1
    try:
        out = module(torch.zeros(1, channels, *spatial))
    except ValueError as e:  # one value per group at batch 1: PyTorch refuses it (in eval mode too), so does symcnn
        assert "Expected more than 1 value per channel" in str(e)
        with pytest.raises(SymcnnError, match="statistics of a group need more than 1 value"):
            sc.analyze(layer, shape)
        batch, out = 2, module(torch.zeros(2, channels, *spatial))  # two samples: accepted by both
    a = sc.analyze(layer, shape, batch=batch)
    assert tuple(a.output_shape) == tuple(out.shape[1:])
    assert a.params == _numel(module)
    with pytest.raises(SymcnnError, match="channels"):
        sc.analyze(sc.GroupNorm(groups, channels), (channels + groups, *spatial))


@settings(max_examples=30, deadline=None, derandomize=True)
@given(channels=st.integers(1, 8), h=st.integers(1, 6), w=st.integers(1, 6), affine=st.booleans())
def test_layer_norm_2d_matches_torchvision(channels, h, w, affine):
    convnext = pytest.importorskip("torchvision.models.convnext")
    module = convnext.LayerNorm2d(channels, elementwise_affine=affine)
    a = sc.analyze(sc.LayerNorm2d(channels, affine=affine), (channels, h, w))
    assert tuple(a.output_shape) == tuple(module(torch.zeros(1, channels, h, w)).shape[1:])
    assert a.params == _numel(module)
    graph = sc.from_torch(nn.Sequential(module), (channels, H, W))
    assert [r.kind for r in sc.analyze(graph, (channels, H, W)).layers] == ["LayerNorm2d"]


@settings(max_examples=40, deadline=None, derandomize=True)
@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=4), data=st.data())
def test_permute_matches_torch(shape, data):
    rest = data.draw(st.permutations(range(1, len(shape) + 1)))
    dims = [0, *rest]
    a = sc.analyze(sc.Permute(dims), tuple(shape))
    assert tuple(a.output_shape) == tuple(torch.zeros(1, *shape).permute(*dims).shape[1:])
    assert a.params == a.macs == a.flops == 0
    if len(shape) >= 1:
        with pytest.raises(SymcnnError, match="batch"):
            sc.analyze(sc.Permute([*rest[:1], 0, *rest[1:]]), tuple(shape))
    with pytest.raises(SymcnnError, match="entries"):
        sc.analyze(sc.Permute([0, *rest, len(shape) + 1]), tuple(shape))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), data=st.data())
def test_learned_scale_and_shift_broadcast_as_torch(shape, data):
    full = [1, *shape]
    k = data.draw(st.integers(1, len(full)))
    param = [data.draw(st.sampled_from([1, v, v + 1])) for v in full[-k:]]
    try:
        y = torch.zeros(full) * torch.zeros(param)
        ok = list(y.shape) == full
    except RuntimeError:
        ok = False
    for cls in (sc.LearnedScale, sc.LearnedShift):
        if ok:
            a = sc.analyze(cls(param), tuple(shape))
            assert tuple(a.output_shape) == tuple(shape)
            assert a.params == torch.zeros(param).numel() and a.macs == 0
        else:
            with pytest.raises(SymcnnError):
                sc.analyze(cls(param), tuple(shape))


def test_stochastic_depth_refuses_as_torchvision():
    tv = pytest.importorskip("torchvision")
    for p, mode in ((1.5, "row"), (0.2, "column")):
        with pytest.raises(ValueError):
            tv.ops.stochastic_depth(torch.zeros(2, 3), p, mode, True)
        with pytest.raises(SymcnnError):
            sc.StochasticDepth(p, mode)
    assert sc.analyze(sc.StochasticDepth(0.2, "row"), (4, H, W)).flops == 0


# --- to_torch, training, counting ----------------------------------------------------------------------------

def _twin_graph(p=0.2, mode="row"):
    x = sc.Input()
    y = sc.Conv2d(3, 8, 3, padding=1)(x)
    y = sc.GroupNorm(2, 8)(sc.LayerNorm2d(8)(y))
    z = sc.Linear(8, 8)(sc.LayerNorm(8)(sc.Permute([0, 2, 3, 1])(y)))
    z = sc.Permute([0, 3, 1, 2])(sc.GELU()(z))
    z = sc.StochasticDepth(p, mode)(sc.LearnedShift((1,))(sc.LearnedScale((8, 1, 1))(z)))
    return sc.Graph(x, sc.Add()(y, z))


def test_to_torch_and_back():
    graph = _twin_graph()
    module = sc.to_torch(graph).eval()
    a = sc.analyze(graph, (3, H, W))
    assert a.params == _numel(module)
    assert tuple(module(torch.zeros(1, 3, 7, 10)).shape[1:]) == tuple(int(v) for v in a.subs(H=7, W=10).output_shape)
    back = sc.analyze(sc.from_torch(module, (3, H, W)), (3, H, W))
    assert [r.kind for r in back.layers] == [r.kind for r in a.layers] and back.params == a.params


@pytest.mark.parametrize(("p", "mode"), [(0.2, "row"), (0.3, "batch"), (0.0, "row")])
def test_training_saved_bytes_and_flops_match_pytorch(p, mode):
    from symcnn.training import B
    from test_training_torch import measure, twin

    graph = _twin_graph(p, mode)
    cost = sc.training(graph, (3, H, W), batch=B, device="cpu")
    for h, w, batch in ((8, 9, 1), (7, 5, 3)):
        torch.manual_seed(0)
        flops, saved = measure(twin(sc.to_torch(graph)), (3, h, w), batch)
        values = {B: batch, H: h, W: w}
        assert cost.flops.xreplace(values) == flops
        assert cost.saved_activation_bytes.xreplace(values) == saved


@pytest.mark.parametrize("convention", ["torchvision", "flop_counter", "fvcore", "thop", "ptflops", "ptflops_aten",
                                        "torchinfo"])
def test_counting_conventions_match_each_tool(convention):
    from test_counting import _exact, tool_total

    tv = pytest.importorskip("torchvision")
    graph = _twin_graph()
    nets = {"twin": (graph, sc.to_torch(graph))}
    block = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), tv.models.convnext.LayerNorm2d(8), nn.GroupNorm(4, 8),
                          nn.GroupNorm(2, 8, affine=False), tv.ops.Permute([0, 2, 3, 1]),
                          nn.LayerNorm(8, elementwise_affine=False), nn.LayerNorm(8), nn.Linear(8, 4),
                          tv.ops.Permute([0, 3, 1, 2]), tv.ops.StochasticDepth(0.1, "row"))
    nets["torchvision"] = (sc.from_torch(block, (3, H, W)), block)
    for symcnn_net, torch_net in nets.values():
        closed = sc.count(symcnn_net, (3, H, W), convention)
        for h, w in ((8, 8), (9, 13)):
            assert closed.xreplace({H: h, W: w}) == _exact(tool_total(convention, torch_net, (3, h, w)))


# --- buffers read as weights (timm's BlurPool2d) and weight standardisation (StdConv2d), issue 21 ----------------

class _Blur(nn.Module):
    """timm's BlurPool2d: a depthwise conv whose filter is a buffer (persistent or not), never a parameter."""

    def __init__(self, persistent: bool):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.register_buffer("filt", torch.ones(4, 1, 3, 3) / 9, persistent=persistent)

    def forward(self, x):
        return F.conv2d(F.pad(self.conv(x), (1, 1, 1, 1), mode="reflect"), self.filt, stride=2, groups=4)


@pytest.mark.parametrize("persistent", [False, True])
def test_a_buffer_read_as_a_weight_is_not_a_parameter(persistent):
    model = _Blur(persistent)
    a = _check(model, ((8, 8), (9, 13)))  # params = sum(p.numel()) = 112, MACs as FlopCounterMode
    assert a.params == 112 != 112 + 36
    graph = sc.from_torch(model.eval(), (3, H, W))
    assert "buffers read as a layer's weight are not parameters (sum(p.numel()) leaves them out): 'filt' (36)" \
        in graph.notes
    assert [r.params for r in a.layers if r.kind == "BufferWeights"] == [-36]


def _std_convs():
    timm_layers = pytest.importorskip("timm.layers")
    return nn.Sequential(timm_layers.StdConv2d(3, 8, 3, padding=1), nn.ReLU(),
                         timm_layers.ScaledStdConv2d(8, 8, 3, stride=2, padding=1), nn.ReLU())


#: fvcore counts F.batch_norm(w, training=True) of a standardised weight: 4 per weight element (StdConv2d), 5 with
#: the gain (ScaledStdConv2d); the other tools do not; torchinfo counts the two modules as leaves by their class
#: name ("Conv": weight and bias, not the gain, times the output positions), as symcnn's torchinfo rule does
_STD_CONVENTIONS = ("torchvision", "flop_counter", "fvcore", "thop", "ptflops", "ptflops_aten", "torchinfo")


@pytest.mark.parametrize("convention", _STD_CONVENTIONS)
def test_weight_standardisation_is_counted_as_each_tool_counts_it(convention):
    from test_counting import _exact, tool_total

    model = _std_convs().eval()
    a = sc.analyze(sc.from_torch(model, (3, H, W)), (3, H, W))
    norms = [r.layer for r in a.layers if r.kind == "WeightNorms"]
    assert [c[1:] for c in norms[0].calls] == [("batch_norm", 216, False, True), ("batch_norm", 576, True, True)]
    for size in ((10, 10), (9, 14)):
        tool = _exact(tool_total(convention, model, (3, *size)))
        assert sc.count(a.subs(H=size[0], W=size[1]), convention=convention) == tool, size
    if convention == "fvcore":
        plain = sc.count(sc.analyze(sc.from_torch(nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.ReLU(),
                                                               nn.Conv2d(8, 8, 3, 2, 1), nn.ReLU()), (3, H, W)),
                                    (3, 10, 10)), convention="fvcore")
        assert sc.count(a.subs(H=10, W=10), convention="fvcore") - plain == 4 * 216 + 5 * 576
    if convention == "torchinfo":  # weight (and bias, not the gain) per output position of each module
        assert sc.count(a.subs(H=10, W=10), convention="torchinfo") == 216 * 10 * 10 + (576 + 8) * 5 * 5


class _Scale(nn.Module):
    """A leaf module with its own forward: torchinfo counts `weight` once and `weight_x` per output channel."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(8, 1, 1))
        self.weight_x = nn.Parameter(torch.ones(8, 1, 1))
        self.gamma = nn.Parameter(torch.ones(8, 1, 1))

    def forward(self, x):
        return (x * self.weight_x + self.gamma) * self.weight


class _Outer(nn.Module):
    """Not a leaf (it has a child): torchinfo counts its own parameter nowhere; its child _Scale as above."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(8, 1, 1))
        self.scale = _Scale()

    def forward(self, x):
        return self.scale(x * self.weight) * self.weight


def test_torchinfo_counts_a_leaf_module_traced_into_by_its_parameters():
    from test_counting import _exact, tool_total

    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), _Scale(), _Outer()).eval()
    a = sc.analyze(sc.from_torch(model, (3, H, W)), (3, H, W))
    for size in ((6, 6), (5, 9)):
        tool = _exact(tool_total("torchinfo", model, (3, *size)))
        assert sc.count(a.subs(H=size[0], W=size[1]), convention="torchinfo") == tool == \
            224 * size[0] * size[1] + 2 * (8 + 8 * 8), size
