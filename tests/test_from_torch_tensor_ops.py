"""Tensor-shape operations in from_torch (issue 15): slices, chunk/split, channel selection, the channel shuffle,
stack and sums over a regrouped axis; the channel layers (Narrow, ChannelShuffle, GroupSum) against PyTorch; and
the torchvision / timm models that need them: params = sum(p.numel()), output shape = torch and 2 * MACs =
FlopCounterMode at 224 x 224 and at an H != W size (expected values computed by torch here)."""

from __future__ import annotations

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symcnn as sc
from symcnn import H, SymcnnError, W
from symcnn.training import B

torch = pytest.importorskip("torch")
nn = torch.nn
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from test_from_torch import check  # noqa: E402
from test_training_torch import measure, twin  # noqa: E402

SIZES = [(17, 23), (32, 32), (9, 40)]
FEW = settings(max_examples=40, deadline=None, derandomize=True)


def _torch_shape(fn, shape):
    try:
        with torch.no_grad():
            return tuple(fn(torch.zeros(1, *shape)).shape[1:])
    except (RuntimeError, ValueError, IndexError):
        return None


def _symcnn_shape(layer, shape):
    try:
        return tuple(int(v) for v in sc.analyze(layer, shape).output_shape)
    except SymcnnError:
        return None


# --- the layers against PyTorch ----------------------------------------------------------------------------------

@FEW
@given(c=st.integers(1, 12), h=st.integers(1, 9), w=st.integers(1, 9), dim=st.sampled_from([1, 2, 3, -1, -3]),
       start=st.integers(-10, 12), length=st.integers(0, 12))
def test_narrow_matches_torch_narrow(c, h, w, dim, start, length):
    shape = (c, h, w)
    assert _symcnn_shape(sc.Narrow(dim, start, length), shape) == \
        _torch_shape(lambda x: x.narrow(dim, start, length), shape)


@FEW
@given(c=st.integers(1, 24), groups=st.integers(1, 8), h=st.integers(1, 5), rank=st.sampled_from([1, 2, 3]))
def test_channel_shuffle_matches_nn_channel_shuffle(c, groups, h, rank):
    shape = (c, *([h] * rank))
    assert _symcnn_shape(sc.ChannelShuffle(groups), shape) == _torch_shape(nn.ChannelShuffle(groups), shape)


@FEW
@given(k=st.integers(1, 6), groups=st.integers(1, 5), extra=st.integers(0, 3), h=st.integers(1, 6))
def test_group_sum_matches_torch_and_refuses_uneven_blocks(k, groups, extra, h):
    c = k * groups + extra
    shape = (c, h, h)
    expected = _torch_shape(lambda x: x.view(1, groups, c // groups, h, h).sum(1), shape) if c % groups == 0 else None
    assert _symcnn_shape(sc.GroupSum(groups), shape) == expected
    if expected is not None:
        assert sc.analyze(sc.GroupSum(groups), shape).flops == (groups - 1) * (c // groups) * h * h


@FEW
@given(start=st.integers(0, 4), cut=st.integers(0, 4), h=st.integers(1, 20), w=st.integers(1, 20))
def test_symbolic_narrow_substituted_equals_numeric(start, cut, h, w):
    s, n = sc.symbols("s n", nonnegative=True)
    sym = sc.analyze(sc.Sequential(sc.Conv2d(3, 4, 3, padding=1), sc.Narrow(2, s, H - s - n), sc.Narrow(-1, 1, W - 1)),
                     (3, H, W))
    try:
        num = sc.analyze(sc.Sequential(sc.Conv2d(3, 4, 3, padding=1), sc.Narrow(2, start, h - start - cut),
                                       sc.Narrow(-1, 1, w - 1)), (3, h, w))
    except SymcnnError:
        num = None
    try:
        sub = sym.subs({s: start, n: cut, H: h, W: w})
    except SymcnnError:
        sub = None
    assert (num is None) == (sub is None)
    if num is not None:
        assert tuple(sub.output_shape) == tuple(num.output_shape)
        assert sub.macs == num.macs and sub.receptive_field.size == num.receptive_field.size


def test_channel_layers_run_through_to_torch_and_back():
    x = sc.Input()
    y = sc.Conv2d(3, 12, 3)(x)
    a, b = sc.Narrow(1, 0, 4)(y), sc.Narrow(1, 4, 8)(y)
    y = sc.Concat()(a, sc.ChannelShuffle(4)(b))
    y = sc.GroupSum(3)(y)
    net = sc.Graph(x, y)
    module = sc.to_torch(net)
    inp = torch.randn(1, 3, 9, 11)
    with torch.no_grad():
        conv = module.conv2d(inp)
        shuffled = conv[:, 4:].view(1, 4, 2, 7, 9).transpose(1, 2).reshape(1, 8, 7, 9)
        expected = torch.cat((conv[:, :4], shuffled), 1).view(1, 3, 4, 7, 9).sum(1)
        assert torch.allclose(module(inp), expected)
    back = sc.analyze(sc.from_torch(module, (3, H, W)), (3, H, W))
    assert [r.kind for r in back.layers] == ["Conv2d", "Narrow", "Narrow", "ChannelShuffle", "Concat", "GroupSum"]
    assert tuple(back.output_shape) == (4, H - 2, W - 2)


@pytest.mark.parametrize(("h", "w", "batch"), [(8, 8, 1), (9, 13, 4)])
def test_training_cost_of_the_channel_layers_matches_pytorch(h, w, batch):
    x = sc.Input()
    y = sc.ReLU()(sc.Conv2d(3, 12, 3, padding=1)(x))
    y = sc.Concat()(sc.Narrow(1, 0, 6)(y), sc.Conv2d(6, 6, 1)(sc.Narrow(1, 6, 6)(y)))
    y = sc.Conv2d(6, 4, 1)(sc.GroupSum(2)(sc.ChannelShuffle(3)(y)))
    y = sc.ScalarOp("rsub", 1.0)(sc.Clamp(-1.0, 2.0)(sc.ScalarOp("div", 3.0)(sc.GroupSoftmax(2)(y))))
    gate = sc.Reshape((4, 1, 1))(sc.Reshape((1, 4))(sc.AdaptiveAvgPool2d(1)(sc.Clamp(min=0.0)(y))))
    y = sc.Mul()(y, sc.ExpandAs()(gate, y))
    net = sc.Graph(x, y)
    cost = sc.training(net, (3, H, W), device="cpu")
    flops, saved = measure(twin(sc.to_torch(net)), (3, h, w), batch)
    values = {B: batch, H: h, W: w}
    assert cost.flops.xreplace(values) == flops
    assert cost.saved_activation_bytes.xreplace(values) == saved


@FEW
@given(c=st.integers(1, 8), rank=st.integers(1, 3), at=st.integers(0, 2), target_rank=st.integers(1, 3),
       to=st.integers(0, 2), minus=st.booleans())
def test_reshape_of_one_vector_per_sample_matches_torch(c, rank, at, target_rank, to, minus):
    shape = tuple(c if i == min(at, rank - 1) else 1 for i in range(rank))
    target = tuple((-1 if minus else c) if i == min(to, target_rank - 1) else 1 for i in range(target_rank))
    assert _symcnn_shape(sc.Reshape(target), shape) == _torch_shape(lambda x: x.view(1, *target), shape)


@FEW
@given(sizes=st.lists(st.integers(1, 3), min_size=1, max_size=3), data=st.data())
def test_expand_matches_torch(sizes, data):
    target = tuple(data.draw(st.sampled_from([-1, v, 1, 4])) for v in sizes)
    shape = tuple(sizes)
    assert _symcnn_shape(sc.Expand(target), shape) == _torch_shape(lambda x: x.expand(1, *target), shape)


def test_group_softmax_is_the_softmax_across_groups():
    module = sc.to_torch(sc.GroupSoftmax(3))
    x = torch.randn(2, 12, 3, 4)
    assert torch.allclose(module(x), x.view(2, 3, 4, 3, 4).softmax(1).reshape(2, 12, 3, 4))
    assert sc.analyze(sc.GroupSoftmax(3), (12, H, W)).flops == 36 * H * W
    with pytest.raises(SymcnnError, match="not divisible by `groups`=5"):
        sc.analyze(sc.GroupSoftmax(5), (12, H, W))


def test_clamp_and_numbers_on_tensors_are_read_and_exported():
    class Numbers(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)

        def forward(self, x):
            y = self.conv(x / 255)
            return (1 - y.clamp(0, 6)).clamp_min(0.1) + torch.clamp(y, max=2) - 3

    module = Numbers().eval()
    net, a = check(module, SIZES)
    assert [(r.kind, getattr(r.layer, "op", None)) for r in a.layers if r.kind in ("ScalarOp", "Clamp")] == [
        ("ScalarOp", "div"), ("Clamp", None), ("ScalarOp", "rsub"), ("Clamp", None), ("Clamp", None),
        ("ScalarOp", "add")]
    clamps = [r.flops for r in a.layers if r.kind == "Clamp"]
    assert [sympy.expand(f - k * (H - 2) * (W - 2)) for f, k in zip(clamps, (8, 4, 4), strict=True)] == [0, 0, 0]
    twin_module = sc.to_torch(net).eval()
    module.conv.load_state_dict(twin_module.conv.state_dict())
    x = torch.randn(1, 3, 9, 11)
    with torch.no_grad():
        assert torch.allclose(twin_module(x), module(x))
    with pytest.raises(SymcnnError, match="at least one of `min` and `max`"):
        sc.Clamp()
    # x / 0 is PyTorch's inf, not an error: accepted with the shape and cost of any divisor
    zero = sc.ScalarOp("div", 0)
    assert sc.analyze(zero, (3, H, W)).flops == sc.analyze(sc.ScalarOp("div", 2), (3, H, W)).flops == 3 * H * W
    assert torch.isinf(sc.to_torch(zero)(torch.ones(1, 3, 2, 2))).all()


def test_channel_layers_refuse_what_pytorch_refuses():
    with pytest.raises(SymcnnError, match="exceeds the size 8 of dim 1"):
        sc.analyze(sc.Narrow(1, 4, 5), (8, H, W))
    with pytest.raises(SymcnnError, match="not divisible by `groups`=3"):
        sc.analyze(sc.ChannelShuffle(3), (8, H, W))
    with pytest.raises(SymcnnError, match="`groups`=0 must be a positive int"):
        sc.ChannelShuffle(0)
    with pytest.raises(SymcnnError, match="`dim`=0 must be a non-zero int"):
        sc.Narrow(0, 0, 1)


# --- from_torch of small modules ---------------------------------------------------------------------------------

class Sliced(nn.Module):
    def __init__(self, index):
        super().__init__()
        self.conv = nn.Conv2d(3, 10, 3, padding=1)
        self.index = index

    def forward(self, x):
        return self.conv(x)[self.index]


@pytest.mark.parametrize("index", [
    (slice(None), slice(2, 7)), (slice(None), slice(None, -3)), (slice(None), slice(-4, None)),
    (slice(None), slice(3, 100)), (slice(None), slice(1, 8), slice(1, None), slice(None, -2)),
    (Ellipsis, slice(2, 5)), (slice(None), slice(None), slice(0, 4)), (slice(None), slice(8, 3)),
    (slice(None), slice(None), slice(1, -1), slice(-5, None)),
])
def test_slices_match_torch(index):
    check(Sliced(index), SIZES)


def test_slices_of_symbolic_axes_clamp_as_python_does():
    net, a = check(Sliced((slice(None), slice(None), slice(5, None), slice(-30, 4))), [(3, 2), (6, 40), (40, 3)])
    assert tuple(a.output_shape)[0] == 10
    check(Sliced((slice(None), slice(None), slice(2, -2))), [(1, 1), (3, 5), (4, 4), (30, 7)])


def test_slices_with_a_step_are_refused():
    with pytest.raises(SymcnnError, match=r"has a step \(2\)"):
        sc.from_torch(Sliced((slice(None), slice(None, None, 2))), (3, H, W))


class Pieces(nn.Module):
    def __init__(self, how, arg):
        super().__init__()
        self.conv = nn.Conv2d(3, 11, 3)
        self.how, self.arg = how, arg
        self.n = len(self.pieces(torch.zeros(1, 11, 1, 1)))  # fx cannot take len() of a traced value

    def pieces(self, y):
        return y.chunk(self.arg, 1) if self.how == "chunk" else torch.split(y, self.arg, 1)

    def forward(self, x):
        parts = self.pieces(self.conv(x))
        return torch.cat([parts[i] * 2.0 for i in reversed(range(self.n))], 1) if self.n > 1 else parts[0]


@pytest.mark.parametrize(("how", "arg"), [("chunk", 2), ("chunk", 3), ("chunk", 4), ("chunk", 11), ("chunk", 20),
                                          ("split", 3), ("split", 11), ("split", [2, 0, 9]), ("split", [5, 6])])
def test_chunk_and_split_match_torch(how, arg):
    net, a = check(Pieces(how, arg), SIZES)
    assert {r.kind for r in a.layers} >= {"Narrow"}


def test_split_sizes_that_do_not_add_up_are_refused():
    with pytest.raises(SymcnnError, match=r"split sizes \[5, 5\] sum to 10, not to the size 11 of dim 1"):
        module = Pieces("split", [5, 6])
        module.arg = [5, 5]  # torch refuses it too: split_with_sizes expects split_sizes to sum exactly to 11
        sc.from_torch(module, (3, H, W))


class Shuffle(nn.Module):
    """ShuffleNet v2's channel shuffle, written as torchvision writes it."""

    def __init__(self, groups=2, c=12):
        super().__init__()
        self.conv = nn.Conv2d(3, c, 1)
        self.groups = groups

    def forward(self, x):
        x = self.conv(x)
        b, c, h, w = x.size()
        x = x.view(b, self.groups, c // self.groups, h, w)
        x = torch.transpose(x, 1, 2).contiguous()
        return x.view(b, -1, h, w)


@pytest.mark.parametrize("groups", [1, 2, 3, 4, 6])
def test_view_transpose_view_is_a_channel_shuffle(groups):
    net, a = check(Shuffle(groups), SIZES)
    assert [r.kind for r in a.layers] == ["Conv2d", "ChannelShuffle"]
    module = Shuffle(groups).eval()
    x = torch.randn(1, 3, 5, 7)
    with torch.no_grad():  # the layer is the shuffle the module computes
        assert torch.equal(nn.ChannelShuffle(groups)(module.conv(x)), module(x))


def test_nn_channel_shuffle_and_functional_form_are_read():
    seq = nn.Sequential(nn.Conv2d(3, 8, 1), nn.ChannelShuffle(4))
    net, a = check(seq, SIZES)
    assert [r.kind for r in a.layers] == ["Conv2d", "ChannelShuffle"]

    class Functional(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 1)

        def forward(self, x):
            return nn.functional.channel_shuffle(self.conv(x), 2)

    check(Functional(), SIZES)


def test_a_reshape_that_is_not_a_regrouping_is_refused_with_its_shape():
    class Spatial(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 1)

        def forward(self, x):
            y = self.conv(x)
            b, c, h, w = y.shape
            return y.view(b, c, h // 2, 2, w).sum(3)

    with pytest.raises(SymcnnError, match=r"reshape of \(8, H, W\) to \(batch, 8, floor\(H/2\), 2, W\); only a "
                                          r"regrouping of the channels"):
        sc.from_torch(Spatial(), (3, H, W))


class StackSum(nn.Module):
    """Selective-kernel style: two paths stacked along dim 1, summed, gated per path, summed again."""

    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Conv2d(3, 6, 3, padding=1), nn.Conv2d(3, 6, 5, padding=2)
        self.fc = nn.Conv2d(6, 12, 1)

    def forward(self, x):
        paths = torch.stack([self.a(x), self.b(x)], dim=1)
        gate = torch.sigmoid(self.fc(paths.sum(dim=1).mean((2, 3), keepdim=True)))
        b, c, h, w = gate.shape
        gate = gate.view(b, 2, c // 2, h, w)
        return torch.sum(paths * gate, dim=1)


def test_stack_and_sums_over_the_stacked_axis():
    net, a = check(StackSum(), SIZES)
    assert [r.kind for r in a.layers].count("GroupSum") == 2


def test_channel_selection_then_unsqueeze():
    class Normalise(nn.Module):
        """inception_v3's transform_input."""

        def forward(self, x):
            c0 = torch.unsqueeze(x[:, 0], 1) * (0.229 / 0.5) + (0.485 - 0.5) / 0.5
            c1 = torch.unsqueeze(x[:, -2], 1) * 0.5
            return torch.cat((c0, c1, x[:, 2:3]), 1)

    net = sc.from_torch(Normalise(), (3, H, W))
    a = sc.analyze(net, (3, H, W))
    assert tuple(a.output_shape) == (3, H, W)
    assert [r.layer.start for r in a.layers if r.kind == "Narrow"] == [0, 1, 2]
    with pytest.raises(SymcnnError, match=r"removes dim 2; only a channel index"):
        sc.from_torch(Sliced((slice(None), slice(None), 0)), (3, H, W))


# --- whole models ------------------------------------------------------------------------------------------------

MODEL_SIZES = [(224, 224), (192, 256)]


def _exact(model, custom=None):
    model = model.eval()
    a = sc.analyze(sc.from_torch(model, (3, H, W), custom=custom), (3, H, W))
    assert a.params == sum(p.numel() for p in model.parameters())
    for h, w in MODEL_SIZES:
        counter = FlopCounterMode(display=False)
        with counter, torch.no_grad():
            y = model(torch.zeros(1, 3, h, w))
        sub = a.subs(H=h, W=w)
        assert tuple(sub.output_shape) == tuple(y.shape[1:]), (h, w)
        assert 2 * sub.macs == counter.get_total_flops(), (h, w)
    return a


# shufflenet_v2 and the timm models with slices and splits are checked by tests/test_catalog.py


def test_torchvision_inception_v3_with_transform_input_is_exact():
    tv = pytest.importorskip("torchvision")
    _exact(tv.models.get_model("inception_v3", weights=None, transform_input=True, init_weights=False))
