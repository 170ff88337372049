"""What issue 22 added to ``from_torch``: timm's TensorFlow-SAME modules, tensor subtraction, and the timm
families they unlock (the catalog test checks those models at three sizes; ``bench/bench_timm_census.py`` counts
the whole of timm).

Every figure is compared with PyTorch at test time: output shapes of the real module, parameter counts and the
total each counting tool prints (``test_counting_catalog.check_against_tools``).
"""

from __future__ import annotations

import functools

import pytest

import symcnn as sc
from symcnn import H, W

torch = pytest.importorskip("torch")
timm = pytest.importorskip("timm")
from test_counting_catalog import check_against_tools  # noqa: E402

nn, F = torch.nn, torch.nn.functional

#: (kernel, stride, dilation): odd and even kernels, strides that do and do not divide the sizes, dilation
SAME_CASES = [(3, 2, 1), (5, 2, 1), (4, 2, 1), (3, 1, 2), (1, 2, 1), (7, 3, 1), ((3, 5), (2, 1), (1, 2))]
SIZES = [(1, 1), (2, 3), (7, 8), (13, 16), (33, 47)]


@pytest.mark.parametrize("kernel,stride,dilation", SAME_CASES)
def test_timm_conv2d_same_is_tensorflow_same_at_every_size(kernel, stride, dilation):
    from timm.layers import Conv2dSame

    conv = nn.Sequential(Conv2dSame(4, 6, kernel, stride=stride, dilation=dilation, groups=2)).eval()
    net = sc.from_torch(conv, (4, H, W))
    (layer,) = [n.module for n in net._order if isinstance(n.module, sc.Conv2d)]
    assert layer.padding in ("same", "tf_same") and layer.padding_mode == "zeros"
    assert layer._torch_call == ("subclass", "timm.layers.conv2d_same.Conv2dSame")
    a = sc.analyze(net, (4, H, W))
    assert a.params == sum(p.numel() for p in conv.parameters())
    for h, w in SIZES:
        with torch.no_grad():
            y = conv(torch.zeros(1, 4, h, w))
        assert tuple(a.subs(H=h, W=w).output_shape) == tuple(y.shape[1:]), (h, w)


@functools.cache
def _same_net():
    from timm.layers import Conv2dSame

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = Conv2dSame(3, 8, 3, stride=2)
            self.dw = Conv2dSame(8, 8, 5, stride=2, groups=8, bias=False)
            self.bn = nn.BatchNorm2d(8)
            self.pool = nn.AvgPool2d(3, 1, 1)
            self.fc = nn.Linear(8, 5)

        def forward(self, x):
            x = self.bn(self.dw(F.relu(self.stem(x))))
            x = self.pool(x) - x                        # PoolFormer's token mixer
            x = torch.sub(x, x.mean((2, 3), keepdim=True)).sub(x)
            return self.fc(x.mean((2, 3)))

    return Net().eval()


@pytest.mark.parametrize("shape", [(3, 32, 32), (3, 27, 45)])
def test_same_conv_and_subtraction_count_as_every_tool(shape):
    model = _same_net()
    analysis = sc.analyze(sc.from_torch(model, (3, H, W)), (3, H, W)).subs(H=shape[1], W=shape[2])
    with torch.no_grad():
        assert tuple(analysis.output_shape) == tuple(model(torch.zeros(1, *shape)).shape[1:])
    check_against_tools(model, analysis, shape)


def test_subtraction_is_a_sub_layer_with_one_flop_per_element_and_a_torch_twin():
    net = sc.from_torch(_same_net(), (3, H, W))
    subs = [n for n in net._order if isinstance(n.module, sc.Sub)]
    assert [s.module._torch_call for s in subs] == [
        ("function", "operator.sub"), ("function", "torch.sub"), ("function", "Tensor.sub")]
    a = sc.analyze(net, (3, 32, 32))
    assert {r.flops for r in a.layers if r.kind == "Sub"} == {8 * 8 * 8}
    twin = sc.to_torch(net).eval()
    with torch.no_grad():
        x = torch.randn(2, 8, 5, 6)
        sub = sc.to_torch(sc.Graph(i := sc.Input(), sc.Sub()(sc.AvgPool2d(3, 1, 1)(i), i)))
        assert torch.equal(sub(x), F.avg_pool2d(x, 3, 1, 1) - x)
    assert sum(p.numel() for p in twin.parameters()) == a.params


def test_subtraction_broadcasts_and_refuses_what_pytorch_refuses():
    x = sc.Input()
    a = sc.analyze(sc.Graph(x, sc.Sub()(x, sc.AdaptiveAvgPool2d(1)(x))), (4, H, W))
    assert a.output_shape == (4, H, W) and a.layers[-1].flops == 4 * H * W
    with pytest.raises(sc.SymcnnError, match="do not match"):
        sc.analyze(sc.Graph(x, sc.Sub()(x, sc.MaxPool2d(2)(x))), (4, 8, 8))
    with pytest.raises(sc.SymcnnError, match="takes 2 input"):
        sc.Sub()(x, x, x)

    class Alpha(nn.Module):
        def forward(self, x):
            return torch.sub(x, F.relu(x), alpha=2)

    with pytest.raises(sc.SymcnnError, match=r"only x - y \(alpha=1\)"):
        sc.from_torch(Alpha(), (3, H, W))


# --- timm's pad_same: the SamePad2d layer ------------------------------------------------------------------------

@pytest.mark.parametrize("kernel,stride,dilation", SAME_CASES)
def test_same_pad_is_timm_pad_same_at_every_size(kernel, stride, dilation):
    from timm.layers.padding import pad_same

    k, s, d = ((v, v) if isinstance(v, int) else v for v in (kernel, stride, dilation))
    a = sc.analyze(sc.SamePad2d(k, s, d), (2, H, W))
    twin = sc.to_torch(sc.SamePad2d(k, s, d, value=-1.5))
    for h, w in SIZES:
        x = torch.randn(1, 2, h, w)
        want = pad_same(x, k, s, d, value=-1.5)
        assert tuple(a.subs(H=h, W=w).output_shape) == tuple(want.shape[1:]), (h, w)
        assert torch.equal(twin(x), want)  # the same pads on each side, the same value


@functools.cache
def _pools_net(std: bool = False):
    """timm's SAME pools after a convolution; ``std``: timm's ``StdConv2dSame`` (weight standardisation, whose
    counting is the importer's business, not this file's), else a plain ``nn.Conv2d``."""
    from timm.layers import StdConv2dSame
    from timm.layers.pool2d_same import AvgPool2dSame, MaxPool2dSame

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = StdConv2dSame(3, 8, 3, stride=2) if std else nn.Conv2d(3, 8, 3, 2)
            self.max = MaxPool2dSame(3, 2)
            self.avg = AvgPool2dSame((2, 3), (2, 1))
            self.fc = nn.Linear(8, 4)

        def forward(self, x):
            return self.fc(self.avg(self.max(self.conv(x))).mean((2, 3)))

    return Net().eval()


@pytest.mark.parametrize("shape", [(3, 32, 32), (3, 27, 45)])
def test_timm_same_pools_and_std_conv_count_as_every_tool(shape):
    for std in (True, False):
        model = _pools_net(std)
        net = sc.from_torch(model, (3, H, W))
        assert sum(isinstance(n.module, sc.SamePad2d) for n in net._order) == 2 + std
        analysis = sc.analyze(net, (3, H, W)).subs(H=shape[1], W=shape[2])
        assert analysis.params == sum(p.numel() for p in model.parameters())
        with torch.no_grad():
            assert tuple(analysis.output_shape) == tuple(model(torch.zeros(1, *shape)).shape[1:])
    check_against_tools(model, analysis, shape)


def test_same_pad_refuses_what_it_cannot_be():
    with pytest.raises(sc.SymcnnError, match="`value`=nan"):
        sc.SamePad2d(3, 2, value=float("nan"))
    with pytest.raises(sc.SymcnnError, match="`kernel_size`"):
        sc.SamePad2d(0, 2)
    with pytest.raises(sc.SymcnnError, match="`stride`"):
        sc.SamePad2d((3, 3), (2, 2, 2))
    with pytest.raises(sc.SymcnnError, match="channels \\+ spatial"):
        sc.analyze(sc.SamePad2d(3, 2), (4, 9))
    assert repr(sc.SamePad2d(3, 2, value=-float("inf"))) == "SamePad2d(kernel_size=(3, 3), stride=(2, 2), value=-inf)"


def test_training_cost_of_the_new_layers_equals_pytorch():
    """FLOPs of forward + backward and the bytes autograd saves (``test_training_torch.measure``) of a timm network
    with SAME convolutions, SAME pools and subtractions, read by from_torch."""
    from timm.layers.pool2d_same import MaxPool2dSame

    from symcnn.training import B
    from test_training_torch import measure, twin

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.same = _same_net()
            self.pool = MaxPool2dSame(3, 2)

        def forward(self, x):
            return self.same(self.pool(x) - x.mean((2, 3), keepdim=True))

    torch.manual_seed(0)
    module = twin(Net())
    cost = sc.training(sc.from_torch(module, (3, H, W)), (3, H, W), device="cpu")
    for h, w, batch in ((16, 16, 1), (13, 19, 2)):
        flops, saved = measure(module, (3, h, w), batch)
        values = {B: batch, H: h, W: w}
        assert cost.flops.xreplace(values) == flops
        assert cost.saved_activation_bytes.xreplace(values) == saved, (h, w, batch)


# --- channels-last means (MambaOut's head) -----------------------------------------------------------------------

@functools.cache
def _channels_last_net():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.norm, self.fc = nn.Conv2d(3, 8, 3, stride=2), nn.LayerNorm(8), nn.Linear(8, 5)

        def forward(self, x):
            y = self.norm(self.conv(x).permute(0, 2, 3, 1))         # (B, H, W, C)
            a = y.mean((1, 2))                                        # (B, C)
            b = torch.mean(y, dim=(-3, -2), keepdim=True).flatten(1)  # (B, 1, 1, C) -> (B, C)
            c = y.permute(0, 3, 2, 1).mean((3, 2))                    # (B, C, W, H): channels first again
            return self.fc(a + b - c)

    return Net().eval()


@pytest.mark.parametrize("shape", [(3, 17, 17), (3, 15, 23)])
def test_channels_last_means_are_global_pooling_and_count_as_every_tool(shape):
    model = _channels_last_net()
    net = sc.from_torch(model, (3, H, W))
    analysis = sc.analyze(net, (3, H, W))
    assert analysis.output_shape == (5,)
    at = analysis.subs(H=shape[1], W=shape[2])
    with torch.no_grad():
        assert tuple(at.output_shape) == tuple(model(torch.zeros(1, *shape)).shape[1:])
    check_against_tools(model, at, shape)
    twin = sc.to_torch(net).eval()
    x = torch.randn(2, *shape)
    with torch.no_grad():
        twin.load_state_dict(model.state_dict(), strict=False)
        assert torch.allclose(twin(x), model(x), atol=1e-5)


def test_a_mean_keeping_two_axes_is_refused():
    class Bad(nn.Module):
        def forward(self, x):
            return x.permute(0, 2, 3, 1).mean(2)

    with pytest.raises(sc.SymcnnError, match=r"mean over `dim`=\(2,\) of a rank-4 tensor; read: the mean over every "
                                             r"axis "
                                             r"but the batch and one other"):
        sc.from_torch(Bad(), (3, H, W))


# --- timm's SpaceToDepth (TResNet's stem) ------------------------------------------------------------------------

@functools.cache
def _s2d_net():
    from timm.layers import SpaceToDepth

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.s2d, self.conv, self.fc = SpaceToDepth(), nn.Conv2d(48, 8, 3, padding=1), nn.Linear(8, 3)

        def forward(self, x):
            return self.fc(F.adaptive_avg_pool2d(self.conv(self.s2d(x)), 1).flatten(1))

    return Net().eval()


@pytest.mark.parametrize("shape", [(3, 16, 16), (3, 12, 28)])
def test_space_to_depth_counts_as_every_tool_and_trains_as_pytorch(shape):
    from symcnn.training import B
    from test_training_torch import measure, twin

    model = _s2d_net()
    net = sc.from_torch(model, (3, H, W))
    first = next(n.module for n in net._order if n.module is not None)
    assert isinstance(first, sc.SpaceToDepth) and first.block_size == 4
    analysis = sc.analyze(net, (3, H, W))
    assert analysis.layers[0].output_shape == (48, sc.FloorDiv(H, 4), sc.FloorDiv(W, 4))
    at = analysis.subs(H=shape[1], W=shape[2])
    check_against_tools(model, at, shape)
    cost = sc.training(net, (3, H, W), device="cpu")
    flops, saved = measure(twin(_s2d_net()), shape, 2)
    values = {B: 2, H: shape[1], W: shape[2]}
    assert (cost.flops.xreplace(values), cost.saved_activation_bytes.xreplace(values)) == (flops, saved)
    _s2d_net().eval()  # the cached module back in eval mode


def test_space_to_depth_is_timm_s_and_refuses_what_pytorch_refuses():
    from timm.layers import SpaceToDepth

    twin = sc.to_torch(sc.SpaceToDepth(4))
    x = torch.randn(2, 3, 8, 12)
    assert torch.equal(twin(x), SpaceToDepth()(x))
    with pytest.raises(RuntimeError):
        SpaceToDepth()(torch.zeros(1, 3, 8, 10))
    with pytest.raises(sc.SymcnnError, match=r"input size 10 along axis W must be divisible by `block_size`=4"):
        sc.analyze(sc.SpaceToDepth(4), (3, 8, 10))
    with pytest.raises(sc.SymcnnError, match="`block_size`=0 must be a positive int"):
        sc.SpaceToDepth(0)
