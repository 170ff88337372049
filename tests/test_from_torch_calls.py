"""``from_torch`` reads module calls as PyTorch runs them: keyword arguments (``output_size`` of transposed
convolutions, a keyword input), parameters ``forward`` never reaches, shared parameters, and messages that say
what the user wrote. Each case is checked against torch at several sizes, H != W included."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symcnn as sc
from symcnn import H, SymcnnError, W

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

from test_from_torch import check, torch_figures  # noqa: E402

SIZES = [(32, 32), (31, 33), (17, 40)]


# --- ConvTranspose*d(x, output_size=...) -----------------------------------------------------------------------

class UpTo(nn.Module):
    """An encoder conv and a decoder ConvTranspose2d told to give back the input's size."""

    def __init__(self, form):
        super().__init__()
        self.form = form
        self.down = nn.Conv2d(3, 8, 3, 2, 1)
        self.up = nn.ConvTranspose2d(8, 3, 3, 2, 1)

    def forward(self, x):
        y = self.down(x)
        if self.form == "size()":
            return self.up(y, output_size=x.size())
        if self.form == "shape[-2:]":
            return self.up(y, output_size=x.shape[-2:])
        if self.form == "list":
            return self.up(y, output_size=[x.size(2), x.size(-1)])
        if self.form == "positional":
            return self.up(y, x.size()[2:])
        return self.up(y, output_size=(y.size(2) * 2, y.shape[3] * 2 - 1))  # arithmetic on sizes


@pytest.mark.parametrize("form", ["size()", "shape[-2:]", "list", "positional", "arithmetic"])
def test_output_size_selects_output_padding(form):
    """Found in review: `self.up(y, output_size=x.size())` gave (3, 31, 31) for torch's (3, 32, 32): the keyword
    was dropped. Now it selects output_padding by PyTorch's rule, symbolically (the size of another tensor)."""
    net, a = check(UpTo(form), SIZES)
    if form != "arithmetic":
        assert a.output_shape == (3, H, W)


def test_output_size_constant_and_1d():
    class Up1d(nn.Module):
        def __init__(self):
            super().__init__()
            self.down, self.up = nn.Conv1d(2, 4, 5, 3, 2), nn.ConvTranspose1d(4, 2, 5, 3, 2)

        def forward(self, x):
            return self.up(self.down(x), output_size=[x.size(-1)])

    for length in (30, 31, 32, 47):
        module = Up1d().eval()
        a = sc.analyze(sc.from_torch(module, (2, W)), (2, W)).subs(W=length)
        assert (tuple(int(v) for v in a.output_shape), int(a.params), int(a.macs)) == torch_figures(module, (2, length))

    class Fixed(nn.Module):
        def __init__(self):
            super().__init__()
            self.up = nn.ConvTranspose2d(4, 2, 3, 2, 1)

        def forward(self, x):
            return self.up(x, output_size=(16, 15))

    net, a = check(Fixed(), [(8, 8)], channels=4)
    assert a.output_shape == (2, 16, 15)


def test_output_size_outside_the_range_is_refused_like_torch():
    class Bad(nn.Module):
        def __init__(self):
            super().__init__()
            self.up = nn.ConvTranspose2d(4, 2, 3, 2, 1)

        def forward(self, x):
            return self.up(x, output_size=(18, 15))

    with pytest.raises(ValueError, match="requested an output size"):
        Bad()(torch.zeros(1, 4, 8, 8))
    with pytest.raises(SymcnnError, match=r"module 'up' \(torch.nn.modules.conv.ConvTranspose2d\): `output_size`="
                                          r"\(18, 15\): size 18 of spatial axis 0 is outside 15 .. 16.*PyTorch "
                                          r"refuses it\) at test_from_torch_calls.py:\d+ `return self.up\(x, "):
        sc.from_torch(Bad(), (4, 8, 8))


# --- how a module is called ------------------------------------------------------------------------------------

def test_keyword_input():
    """Found in review: `self.conv(input=x)` said "got nothing"."""
    class Kw(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.pool = nn.Conv2d(3, 4, 3), nn.MaxPool2d(2)

        def forward(self, x):
            return self.pool(input=self.conv(input=x))

    check(Kw(), SIZES)


def test_keywords_the_importer_does_not_read_are_refused():
    class Extra(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)

        def forward(self, x):
            return self.conv(x, scale=2)

    with pytest.raises(SymcnnError, match=r"module 'conv' \(torch.nn.modules.conv.Conv2d\): the call does not match "
                                          r"Conv2d.forward\(.*unexpected keyword argument 'scale'.* at "
                                          r"test_from_torch_calls.py:\d+ `return self.conv\(x, scale=2\)`"):
        sc.from_torch(Extra(), (3, 8, 8))

    class Masked(nn.Module):
        def forward(self, x, mask=None):
            return x if mask is None else x * mask

    class UsesMask(nn.Module):
        def __init__(self):
            super().__init__()
            self.block = Masked()

        def forward(self, x):
            return self.block(x, mask=x.sigmoid())

    custom = {"block": sc.Opaque(output_shape=lambda s: s, params=0, macs=0)}
    with pytest.raises(SymcnnError, match=r"module 'block' \(test_from_torch_calls.Masked\): argument `mask`=the "
                                          r"output of 'sigmoid' of Masked.forward is not read by from_torch"):
        sc.from_torch(UsesMask(), (3, 8, 8), custom=custom)


# --- parameters forward never reaches, and shared ones ----------------------------------------------------------

class WithUnused(nn.Module):
    """An unused Linear(1000, 1000), an auxiliary head called in training only, a bare parameter."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, stride=2)
        self.unused = nn.Linear(1000, 1000)
        self.aux = nn.Sequential(nn.Conv2d(8, 4, 1), nn.BatchNorm2d(4), nn.Flatten(), nn.Linear(4, 10))
        self.fc = nn.Linear(8, 5)
        self.scale = nn.Parameter(torch.ones(7))

    def forward(self, x):
        y = self.conv(x)
        if self.training:
            return self.aux(y.mean((2, 3), keepdim=True))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(y, 1), 1))


def test_unused_parameters_are_counted_like_parameters():
    """Found in review: from_torch counted only called modules (googlenet 6.6 M of 13.0 M)."""
    module = WithUnused().eval()
    net, a = check(module, SIZES)
    assert a.params == sum(p.numel() for p in module.parameters())
    assert net.unused_parameters == {"scale": 7, "unused": 1_001_000, "aux": 8 * 4 + 4 + 8 + 4 * 10 + 10}
    assert net.notes == ("1,001,101 parameters of modules forward never reaches ('scale' (7), 'unused' (1,001,000), "
                         "'aux' (94)) are counted, as sum(p.numel()) counts them",)
    assert "unused_parameters" in a.table()

    used = sc.from_torch(module, (3, H, W), count_unused=False)
    b = sc.analyze(used, (3, H, W))
    assert b.params == a.params - 1_001_000 - 94 - 7 == 8 * 27 + 8 + 8 * 5 + 5
    assert used.unused_parameters == net.unused_parameters
    assert b.macs == a.macs and b.output_shape == a.output_shape
    # the bookkeeping layer produces no tensor: activations and their memory as without it (found in review)
    assert b.activations == a.activations and b.activation_bytes() == a.activation_bytes()
    for convention in ("ptflops", "fvcore", "thop", "torchinfo"):
        assert sc.count(net, (3, 19, 23), convention) == sc.count(used, (3, 19, 23), convention)
    twin = sc.to_torch(net)
    assert sum(p.numel() for p in twin.parameters()) == a.params
    with pytest.raises(SymcnnError, match=r"`count_unused`='no' must be True or False"):
        sc.from_torch(module, (3, H, W), count_unused="no")


def test_shared_parameters_are_counted_once():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc, self.dec = nn.Linear(6, 6), nn.Linear(6, 6)
            self.dec.weight = self.enc.weight

        def forward(self, x):
            return self.dec(torch.relu(self.enc(x)))

    module = Tied()
    net = sc.from_torch(module, (6,))
    a = sc.analyze(net, (6,))
    assert a.params == sum(p.numel() for p in module.parameters()) == 36 + 12
    assert a.activations == 6 + 6 + 6  # enc, relu, dec; the SharedParameters note produces no tensor
    assert net.notes == ("parameters shared by several modules are counted once: enc.weight",)


# --- messages say what the user wrote ---------------------------------------------------------------------------

INTERNAL = re.compile(r"_Dim\(|_SizeOf|_Unknown|object at 0x|<Node |symcnn\.interop")


def test_messages_show_what_the_user_wrote():
    """Found in review: messages showed `_Dim(node=<Node c>, index=1)` and `<...interop.torch._Unknown object>`."""
    class Views(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3)

        def forward(self, x):
            y = self.conv(x)
            z = y.view(y.size(0), y.size(1), -1)
            return {"out": z, "aux": y}

    with pytest.raises(SymcnnError) as info:
        sc.from_torch(Views(), (3, H, W))
    msg = str(info.value)
    assert "returns a dict with keys 'out', 'aux'; symcnn reads one output tensor: choose it with output='out'" in msg
    assert not INTERNAL.search(msg)

    with pytest.raises(SymcnnError) as info:
        sc.from_torch(Views(), (3, H, W), output="out")
    msg = str(info.value)
    assert "reshape to (batch, 8, -1); only (batch, -1) forms (a flatten) are read" in msg
    assert "`z = y.view(y.size(0), y.size(1), -1)`" in msg
    assert not INTERNAL.search(msg)

    class Sliced(nn.Module):
        def forward(self, x):
            return x[:, ::2] + x.size(2)

    with pytest.raises(SymcnnError) as info:
        sc.from_torch(Sliced(), (3, H, W))
    msg = str(info.value)
    assert "indexing or slicing a tensor (`[:, ::2]` on the input tensor) has a step (2)" in msg
    assert not INTERNAL.search(msg)


@st.composite
def encoder_decoders(draw):
    k, s, d = draw(st.integers(1, 5)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
    p = draw(st.integers(0, (d * (k - 1)) // 2))
    size = (draw(st.integers(8, 30)), draw(st.integers(8, 30)))
    return k, s, p, d, size


@given(encoder_decoders())
@settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
def test_output_size_property(case):
    """A decoder told to give back its encoder's input size has PyTorch's shape, parameters and MACs (symbolic)."""
    k, s, p, d, (h, w) = case

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.down = nn.Conv2d(2, 3, k, s, p, d)
            self.up = nn.ConvTranspose2d(3, 2, k, s, p, dilation=d)

        def forward(self, x):
            return self.up(self.down(x), output_size=x.size())

    module = Net().eval()
    want = torch_figures(module, (2, h, w))  # always accepted: W - min size = (W + 2P - D(F-1) - 1) mod S < S
    a = sc.analyze(sc.from_torch(module, (2, H, W)), (2, H, W)).subs(H=h, W=w)
    assert (tuple(int(v) for v in a.output_shape), int(a.params), int(a.macs)) == want
