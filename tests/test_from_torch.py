"""``from_torch``: torch models read through torch.fx give the engine's symbolic figures, checked against torch.

For each model: ``params == sum(p.numel())``; at several input sizes the SYMBOLIC analysis, with H and W
substituted, gives the torch forward's output shape and ``FlopCounterMode`` total / 2 as MACs.
"""

from __future__ import annotations

import operator
import sys
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symcnn as sc
from symcnn import H, SymcnnError, W

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402


def torch_figures(module, shape):
    module = module.eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Using padding='same'")
        y = module(torch.zeros((1, *shape)))
    return tuple(y.shape[1:]), sum(p.numel() for p in module.parameters()), counter.get_total_flops() // 2


def check(module, sizes, channels=3):
    """from_torch once, symbolically; then compare with torch at every (h, w) in ``sizes``."""
    net = sc.from_torch(module, (channels, H, W))
    a = sc.analyze(net, (channels, H, W))
    for h, w in sizes:
        sub = a.subs(H=h, W=w)
        engine = (tuple(int(v) for v in sub.output_shape), int(sub.params), int(sub.macs))
        assert engine == torch_figures(module, (channels, h, w)), (h, w)
    return net, a


class Residual(nn.Module):
    def __init__(self, cin=3, c=8):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, c, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
        self.down = nn.Sequential(nn.Conv2d(cin, c, 1, stride=2, bias=False), nn.BatchNorm2d(c))

    def forward(self, x):
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        y += self.down(x)
        return self.relu(y)  # the same module called twice


class Inception(nn.Module):
    def __init__(self):
        super().__init__()
        self.b1 = nn.Conv2d(3, 4, 1)
        self.b2 = nn.Sequential(nn.Conv2d(3, 2, 1), nn.ReLU(), nn.Conv2d(2, 4, 3, padding=1))
        self.b3 = nn.Sequential(nn.Conv2d(3, 2, 1), nn.Conv2d(2, 4, 5, padding=2))
        self.b4 = nn.Sequential(nn.MaxPool2d(3, 1, 1, ceil_mode=True), nn.Conv2d(3, 4, 1))

    def forward(self, x):
        return torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], 1)


class GroupedDilated(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 12, 3, groups=3, padding=2, dilation=2),
            nn.Conv2d(12, 12, 3, groups=12, stride=2),                 # depthwise
            nn.Conv2d(12, 24, 1, groups=4), nn.ReLU6(),
            nn.Conv2d(24, 24, (3, 5), padding="same", dilation=(2, 1)),
            nn.MaxPool2d(3, 2, ceil_mode=True), nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False),
            nn.AdaptiveAvgPool2d((2, 3)), nn.Flatten(), nn.Linear(24 * 6, 10),
        )

    def forward(self, x):
        return self.features(x)


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.up1 = nn.ConvTranspose2d(3, 6, 3, stride=2, padding=1, output_padding=1)
        self.up2 = nn.ConvTranspose2d(6, 4, 4, stride=3, padding=2, output_padding=2, dilation=2, groups=2)
        self.pad = nn.ReflectionPad2d((1, 0, 2, 1))
        self.up3 = nn.Upsample(scale_factor=2, mode="bilinear")
        self.head = nn.Conv2d(4, 2, 3)

    def forward(self, x):
        return self.head(self.up3(self.pad(torch.tanh(self.up2(F.leaky_relu(self.up1(x), 0.1))))))


class Functional(nn.Module):
    """LeNet-style forward made of F.* calls and x.view(x.size(0), -1)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 3, padding=1)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2, ceil_mode=True)
        x = F.avg_pool2d(torch.sigmoid(self.conv2(x)), kernel_size=3, stride=2, padding=1)
        x = F.pad(x, (1, 1, 2, 0))
        x = F.interpolate(x, scale_factor=2, mode="nearest")
        x = x * torch.relu(x)
        x = F.dropout(F.adaptive_avg_pool2d(x, 1), 0.2, self.training)
        x = x.view(x.size(0), -1)
        return F.softmax(self.fc(x), dim=1)


MODELS = [
    (Residual, [(16, 16), (15, 21), (33, 8)]),
    (Inception, [(7, 7), (12, 9)]),
    (GroupedDilated, [(32, 32), (29, 37)]),
    (Decoder, [(4, 4), (5, 7)]),
    (Functional, [(20, 20), (23, 31), (12, 13)]),
]


@pytest.mark.parametrize(("build", "sizes"), MODELS, ids=[b.__name__ for b, _ in MODELS])
def test_model_matches_torch(build, sizes):
    torch.manual_seed(0)
    check(build(), sizes)


def test_names_follow_fx_targets():
    net, a = check(Residual(), [(8, 8)])
    names = [r.name for r in a.layers]
    assert names[:3] == ["conv1", "bn1", "relu"]
    assert "down.0" in names and "down.1" in names
    assert names[-1] == "relu_1"                  # a module called twice: one layer, two calls
    assert a["relu_1"].layer is a["relu"].layer
    assert [r.kind for r in a.layers if r.name in ("add", "iadd")] == ["Add"]


def test_symbolic_closed_form():
    _, a = check(Residual(), [(9, 9)])
    assert sc.pretty(a.output_shape[1]) == "ceil(H/2)"


ROUND_TRIP_SHAPES = {"lenet5": (1, 32, 32), "dcgan_generator": (100, 1, 1)}


@pytest.mark.parametrize("name", sc.models.names())
def test_round_trip_zoo(name):
    """from_torch(to_torch(m)) has the zoo model's params and, symbolically, its output shape and MACs."""
    model = sc.models.get(name)
    with torch.device("meta"):
        module = sc.to_torch(model)
    shape = ROUND_TRIP_SHAPES.get(name) or (next(iter(module.parameters())).shape[1], H, W)
    back = sc.from_torch(module, shape)
    a, b = sc.analyze(model, shape), sc.analyze(back, shape)
    assert b.params == a.params
    assert tuple(b.output_shape) == tuple(a.output_shape)
    assert b.macs == a.macs


SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def stacks(draw):
    """A random conv/pool stack (valid for some input sizes) and an input size."""
    layers, c = [], 3
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["conv", "convT", "max", "avg"]))
        k, s = draw(st.integers(1, 4)), draw(st.integers(1, 3))
        if kind == "conv":
            g = draw(st.sampled_from([1, c]))
            out = draw(st.sampled_from([c, 2 * c]))
            layers.append(nn.Conv2d(c, out, k, s, draw(st.integers(0, 2)), draw(st.integers(1, 2)), g,
                                    draw(st.booleans())))
            c = out
        elif kind == "convT":
            d = draw(st.integers(1, 2))
            layers.append(nn.ConvTranspose2d(c, c, k, s, draw(st.integers(0, 1)),
                                             draw(st.integers(0, max(s, d) - 1)), 1, True, d))
        else:
            p = draw(st.integers(0, k // 2))
            ceil = draw(st.booleans())
            layers.append(nn.MaxPool2d(k, s, p, ceil_mode=ceil) if kind == "max"
                          else nn.AvgPool2d(k, s, p, ceil_mode=ceil))
    sizes = draw(st.lists(st.tuples(st.integers(1, 24), st.integers(1, 24)), min_size=1, max_size=3))
    return nn.Sequential(*layers), sizes


@SETTINGS
@given(stacks())
def test_random_stacks(case):
    module, sizes = case
    net = sc.from_torch(module, (3, H, W))
    a = sc.analyze(net, (3, H, W))
    for h, w in sizes:
        try:
            sub = a.subs(H=h, W=w)
            engine = (tuple(int(v) for v in sub.output_shape), int(sub.params), int(sub.macs))
        except SymcnnError:
            engine = None
        try:
            t = torch_figures(module, (3, h, w))
            t = None if 0 in t[0] else t
        except RuntimeError:
            t = None
        assert engine == t, (h, w)


def test_torchvision_twins():
    tv = pytest.importorskip("torchvision")
    for name in ("resnet18", "resnet50", "vgg16", "alexnet"):
        module = getattr(tv.models, name)()
        a = sc.analyze(sc.from_torch(module, (3, H, W)), (3, H, W))
        z = sc.analyze(sc.models.get(name), (3, H, W))
        assert a.params == z.params
        for h in (224, 193):
            assert int(a.subs(H=h, W=h).macs) == int(z.subs(H=h, W=h).macs) == torch_figures(module, (3, h, h))[2]


# --- errors and custom formulas -------------------------------------------------------------------------------

class Unsupported(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.gru = nn.GRU(4, 4)
        self.w = nn.Parameter(torch.ones(8, 8))

    def forward(self, x):
        y = self.conv(x)
        a = torch.cumsum(y.permute(0, 2, 3, 1), 1)
        b = torch.einsum("nchw,dc->ndhw", y, self.w)  # a parameter read in forward, by an unknown operation
        c = torch.logsumexp(y, 1, keepdim=True)
        return a.permute(0, 3, 1, 2) + b + c


def test_unsupported_ops_listed_each_with_where():
    with pytest.raises(SymcnnError) as info:
        sc.from_torch(Unsupported(), (3, 16, 16))
    msg = str(info.value)
    assert msg.startswith("from_torch: 3 unsupported operation(s) in Unsupported:")
    assert "node 'cumsum' (call_function torch.cumsum): no symcnn formulas for this operation" in msg
    assert "test_from_torch.py:" in msg and "`a = torch.cumsum(y.permute(0, 2, 3, 1), 1)`" in msg
    assert "node 'einsum'" in msg
    assert "node 'logsumexp' (call_function torch.logsumexp)" in msg
    assert "custom=" in msg


class WithSE(nn.Module):
    class SE(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(c, c // 4), nn.Linear(c // 4, c)

        def forward(self, x):
            s = x.mean((2, 3))
            s = torch.sigmoid(self.fc2(torch.relu(self.fc1(s))))
            return x * s[:, :, None, None]

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, padding=1)
        self.se = WithSE.SE(16)
        self.se2 = WithSE.SE(16)

    def forward(self, x):
        return self.se2(self.se(self.conv(x)))


def _se_formulas():
    return sc.Opaque(output_shape=lambda s: s, params=lambda s: 2 * s[0] * (s[0] // 4) + s[0] + s[0] // 4,
                     macs=lambda s: 2 * s[0] * (s[0] // 4), name="SE")


def test_unknown_module_is_an_error_not_a_zero():
    """The SE block's tensor indexing has no formulas: an error naming it (never a silent zero)."""
    with pytest.raises(SymcnnError, match=r"1 unsupported(.|\n)*node 'getitem' \(call_function operator.getitem\) "
                       r"in module 'se' \(WithSE.SE\): indexing or slicing a tensor .* "
                       r"at test_from_torch.py:\d+ `return x \* s\[:, :, None, None\]`"):
        sc.from_torch(WithSE(), (3, H, W))


@pytest.mark.parametrize("key", ["se", "SE", WithSE.SE])
def test_custom_formulas(key):
    custom = {key: _se_formulas()} if key != "se" else {"se": _se_formulas(), "se2": _se_formulas()}
    net = sc.from_torch(WithSE(), (3, H, W), custom=custom)
    a = sc.analyze(net, (3, H, W))
    module = WithSE().eval()
    for h, w in ((8, 8), (5, 9)):
        sub = a.subs(H=h, W=w)
        # the Linear layers run on (1, 16) vectors: FlopCounterMode counts their MACs like the formulas
        assert (tuple(int(v) for v in sub.output_shape), int(sub.params), int(sub.macs)) == torch_figures(
            module, (3, h, w))
    assert a.receptive_field.exact is False  # an opaque layer's field is an upper bound


def test_custom_validation():
    with pytest.raises(SymcnnError, match=r"`custom`\['se'\] is a int; give a symcnn layer"):
        sc.from_torch(WithSE(), (3, H, W), custom={"se": 3})
    with pytest.raises(SymcnnError, match=r"Opaque 'x': give `params`, `macs`; an opaque layer has no formulas"):
        sc.Opaque(output_shape=lambda s: s, name="x")
    bad = sc.Opaque(output_shape=lambda s: s[5], params=0, macs=0, name="bad")
    with pytest.raises(SymcnnError, match=r"\(Opaque\(name='bad'\)\) with input \(3, 4, 4\): the `output_shape` "
                       r"callable raised IndexError"):
        sc.analyze(bad, (3, 4, 4))
    with pytest.raises(SymcnnError, match=r"Opaque 'neg'.*`params`=-1 must be non-negative"):
        sc.Opaque(output_shape=lambda s: s, params=-1, macs=0, name="neg")


def test_view_forms():
    class Flat(nn.Module):
        def __init__(self, form):
            super().__init__()
            self.conv, self.form = nn.Conv2d(3, 4, 3), form

        def forward(self, x):
            y = self.conv(x)
            if self.form == "batch":
                return y.reshape(y.shape[0], -1)
            if self.form == "k":
                return y.view(-1, 4 * 6 * 6)
            return y.view(-1, 12)

    for form in ("batch", "k"):
        assert sc.analyze(sc.from_torch(Flat(form), (3, 8, 8)), (3, 8, 8)).output_shape == (144,)
    with pytest.raises(SymcnnError, match=r"reshape to \(-1, 12\) keeps a batch of 1 only when 12 = 144"):
        sc.from_torch(Flat("bad"), (3, 8, 8))


def test_wrong_input_shape_names_the_layer():
    with pytest.raises(SymcnnError, match=r"from_torch: Residual on input \(4, H, W\): layer 0 'conv1'.*channels"):
        sc.from_torch(Residual(), (4, H, W))


def test_untraceable_model():
    class Branchy(nn.Module):
        def forward(self, x):
            return x if x.sum() > 0 else -x

    with pytest.raises(SymcnnError, match=r"torch.fx cannot trace Branchy: TraceError"):
        sc.from_torch(Branchy(), (3, 4, 4))


def test_bad_arguments():
    with pytest.raises(SymcnnError, match=r"`module` is a str; expected a torch.nn.Module"):
        sc.from_torch("resnet", (3, 4, 4))
    with pytest.raises(SymcnnError, match=r"`input_shape`"):
        sc.from_torch(Residual(), "3x4x4")


def test_missing_torch_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(SymcnnError, match=r"PyTorch is not installed.*pip install symcnn\[torch\]"):
        sc.from_torch(object(), (3, 4, 4))


def test_operator_table_covers_python_operators():
    class Ops(nn.Module):
        def forward(self, x):
            y = operator.add(x, x)
            y = y * 2
            return torch.add(y, x).relu()

    a = sc.analyze(sc.from_torch(Ops(), (3, H, W)), (3, H, W))
    assert [r.kind for r in a.layers] == ["Add", "ScalarOp", "Add", "ReLU"]
    assert a.flops == 4 * 3 * H * W


def test_tensor_and_number_ops_are_counted_like_the_tools():
    """Found in review: `x * 0.5` became an Opaque layer, so count() refused the whole model; it is a ScalarOp
    now (0 in every tool), and its twin in to_torch is the same operator."""
    from test_counting import CONVENTIONS, _exact, tool_total

    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.relu = nn.Conv2d(3, 4, 3), nn.ReLU()  # a module: functional calls count differently

        def forward(self, x):
            return self.relu(self.conv(x) * 0.5 + 1)

    net = Scaled().eval()
    imported = sc.from_torch(net, (3, H, W))
    assert [r.kind for r in sc.analyze(imported, (3, H, W)).layers] == ["Conv2d", "ScalarOp", "ScalarOp", "ReLU"]
    twin = sc.to_torch(imported)
    for convention in CONVENTIONS:
        want = _exact(tool_total(convention, net, (3, 11, 13)))
        assert sc.count(imported, (3, 11, 13), convention) == want == _exact(tool_total(convention, twin, (3, 11, 13)))


def test_mean_is_global_average_pooling():
    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.fc = nn.Conv2d(3, 8, 3, stride=2), nn.Linear(8, 5)

        def forward(self, x):
            y = self.conv(x)
            return self.fc(y.mean((2, 3))) + self.fc(torch.mean(y, dim=[-1, -2], keepdim=True).flatten(1))

    net, a = check(Head(), [(9, 9), (12, 7)])
    assert [r.kind for r in a.layers] == ["Conv2d", "AdaptiveAvgPool2d", "Flatten", "Linear", "AdaptiveAvgPool2d",
                                          "Flatten", "Linear", "Add"]

    class Bad(nn.Module):
        def forward(self, x):
            return x.mean(1)

    with pytest.raises(SymcnnError, match=r"mean over `dim`=\(1,\) of a rank-4 tensor; read: the mean over every "
                                          r"axis but the batch and one other"):
        sc.from_torch(Bad(), (3, 4, 4))
