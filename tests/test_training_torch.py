"""Training cost against PyTorch: FlopCounterMode on forward + backward, and the bytes autograd saves.

Each case builds the zoo model's torch twin (``sc.to_torch``) in train mode, freezes submodules
(``requires_grad_(False)``), makes activations in place, wraps submodules in ``torch.utils.checkpoint``
(``use_reentrant=False``) or runs the forward under CPU autocast, then measures one step on a random input that
does not require grad:

* FLOPs: ``FlopCounterMode`` around forward and ``backward()`` (the recomputation of checkpointed segments
  included);
* saved bytes: a ``saved_tensors_hooks`` pack hook around the forward, summing ``nbytes()`` of the unique
  untyped storages that are neither parameters nor buffers.

CI runs lenet5, resnet18 (three sizes, H != W, batch 1 and 4), mobilenet_v2, squeezenet1_1, the DCGAN pair and
a from_torch network at small sizes; ``SYMCNN_TRAINING_ALL=1`` adds more sizes and alexnet, googlenet,
densenet121, vgg11_bn and unet (minutes of CPU).
"""

from __future__ import annotations

import functools
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symcnn as sc
from symcnn.training import B

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

from torch.utils.checkpoint import checkpoint as torch_checkpoint  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

ALL = os.environ.get("SYMCNN_TRAINING_ALL") == "1"


class Checkpointed(torch.nn.Module):
    """Runs ``inner`` under ``torch.utils.checkpoint`` (non-reentrant)."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, *xs):
        return torch_checkpoint(self.inner, *xs, use_reentrant=False)


def twin(module, *, frozen=(), inplace=False, checkpoint=()):
    """``module`` (a torch module) in train mode with frozen submodules, in-place activations and segments."""
    for name in frozen:
        for p in module.get_submodule(name).parameters():
            p.requires_grad_(False)
    if inplace:
        for mod in module.modules():
            if hasattr(mod, "inplace") and not isinstance(mod, torch.nn.modules.dropout._DropoutNd):
                mod.inplace = True
    for name in checkpoint:
        parent, _, child = name.rpartition(".")
        owner = module.get_submodule(parent) if parent else module
        setattr(owner, child, Checkpointed(owner.get_submodule(child)))
    return module.train()


def measure(module, shape, batch, *, autocast=None):
    """(FlopCounterMode FLOPs of forward + backward, bytes of the unique saved storages that are not parameters
    or buffers)."""
    own = {t.untyped_storage().data_ptr() for t in [*module.parameters(), *module.buffers()]}
    x = torch.randn(batch, *shape)
    seen: dict[int, int] = {}

    def pack(t):
        st = t.untyped_storage()
        if st.data_ptr() not in own and st.nbytes():
            seen[st.data_ptr()] = st.nbytes()
        return t

    counter = FlopCounterMode(display=False)
    with counter:
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            if autocast:
                with torch.autocast("cpu", dtype=getattr(torch, autocast)):
                    y = module(x)
            else:
                y = module(x)
        saved = sum(seen.values())
        y.float().sum().backward()
    return counter.get_total_flops(), saved


@functools.cache
def symbolic(name, frozen=(), inplace=False, checkpoint=(), autocast=None):
    """The closed forms, computed once per model and options (symbolic in B, H, W)."""
    shape = _SHAPES.get(name, (3, sc.H, sc.W))
    return sc.training(sc.models.get(name), shape, batch=B, device="cpu", mixed_precision=autocast,
                       frozen=list(frozen) or None, inplace=inplace, checkpoint=list(checkpoint) or None)


_SHAPES = {"lenet5": (1, 32, 32), "dcgan_generator": (100, 1, 1), "unet": (1, sc.H, sc.W)}

# (model, [(H, W, batch), ...], options)
CASES = [
    ("lenet5", [(32, 32, 1), (32, 32, 4)], {}),
    ("lenet5", [(32, 32, 4)], {"frozen": ("C1",)}),
    ("resnet18", [(33, 47, 1), (33, 47, 4), (40, 40, 1), (40, 40, 4), (64, 40, 1), (64, 40, 4)], {}),
    ("resnet18", [(33, 47, 4)], {"frozen": ("conv1", "bn1", "layer1")}),
    ("resnet18", [(40, 56, 1)], {"inplace": True}),
    ("resnet18", [(40, 56, 4)], {"checkpoint": ("layer1", "layer3.1")}),
    ("resnet18", [(40, 56, 1)], {"autocast": "bfloat16"}),
    ("resnet18", [(36, 36, 4)], {"autocast": "bfloat16", "inplace": True, "checkpoint": ("layer2",),
                                 "frozen": ("layer4.1",)}),
    ("mobilenet_v2", [(32, 48, 1), (48, 40, 4)], {}),
    ("mobilenet_v2", [(32, 48, 1)], {"inplace": True, "frozen": ("features.0", "features.1")}),
    ("mobilenet_v2", [(40, 56, 1)], {"autocast": "bfloat16", "checkpoint": ("features.2", "features.14")}),
    ("squeezenet1_1", [(64, 80, 4)], {}),
    ("squeezenet1_1", [(64, 64, 1)], {"inplace": True, "checkpoint": ("features.3",)}),
    ("dcgan_generator", [(1, 1, 4)], {}),
    ("dcgan_discriminator", [(64, 64, 1)], {"frozen": ("main.0",)}),
]
SLOW = [
    ("mobilenet_v2", [(32, 48, 4), (40, 56, 1), (40, 56, 4)], {}),
    ("mobilenet_v2", [(32, 48, 4)], {"inplace": True, "frozen": ("features.0", "features.1")}),
    ("resnet18", [(64, 96, 1), (64, 96, 4)], {"autocast": "bfloat16"}),
    ("alexnet", [(64, 96, 1), (64, 96, 4)], {}),
    ("googlenet", [(64, 64, 1), (64, 64, 4)], {}),
    ("densenet121", [(64, 64, 1), (64, 64, 4)], {"checkpoint": ("features.denseblock1",)}),
    ("vgg11_bn", [(32, 48, 1), (32, 48, 4)], {"inplace": True}),
    ("unet", [(188, 188, 1), (188, 188, 4)], {}),
]


def _params():
    for name, runs, options in CASES + (SLOW if ALL else []):
        for h, w, batch in runs:
            tag = ",".join(f"{k}={v}" for k, v in options.items())
            yield pytest.param(name, h, w, batch, options, id=f"{name}-{h}x{w}-b{batch}-{tag}")


@pytest.mark.parametrize(("name", "h", "w", "batch", "options"), list(_params()))
def test_flops_and_saved_bytes_equal_pytorch(name, h, w, batch, options):
    opts = {k: tuple(v) if isinstance(v, (list, tuple)) else v for k, v in options.items()}
    cost = symbolic(name, **opts)
    values = {B: batch, sc.H: h, sc.W: w}
    torch.manual_seed(0)
    module = twin(sc.to_torch(sc.models.get(name)), frozen=opts.get("frozen", ()), inplace=opts.get("inplace", False),
                  checkpoint=opts.get("checkpoint", ()))
    shape = tuple(v.xreplace(values) if hasattr(v, "xreplace") else v for v in _SHAPES.get(name, (3, h, w)))
    flops, saved = measure(module, shape, batch, autocast=opts.get("autocast"))
    assert cost.flops.xreplace(values) == flops
    assert cost.saved_activation_bytes.xreplace(values) == saved


def test_from_torch_network_matches_pytorch():
    """A network written in PyTorch (functional ReLU, residual add, dropout, frozen stem) through from_torch."""
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8))
            self.conv = nn.Conv2d(8, 8, 3, padding=1, groups=2)
            self.pool = nn.MaxPool2d(2, ceil_mode=True)
            self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.3), nn.Linear(8, 5))

        def forward(self, x):
            y = torch.relu(self.stem(x))
            y = torch.nn.functional.silu(self.conv(y)) + y
            return self.head(self.pool(y))

    source = twin(Net(), frozen=("stem",))
    graph = sc.from_torch(source, (3, sc.H, sc.W))
    cost = sc.training(graph, (3, sc.H, sc.W), device="cpu", frozen=source)  # requires_grad read from the module
    by_name = sc.training(graph, (3, sc.H, sc.W), device="cpu", frozen=lambda r: r.name.startswith("stem"))
    assert cost.totals() == by_name.totals()
    for h, w, batch in ((9, 9, 1), (12, 17, 4), (16, 10, 1), (16, 10, 4)):
        torch.manual_seed(0)
        module = twin(Net(), frozen=("stem",))
        flops, saved = measure(module, (3, h, w), batch)
        values = {B: batch, sc.H: h, sc.W: w}
        assert cost.flops.xreplace(values) == flops
        assert cost.saved_activation_bytes.xreplace(values) == saved


def _measured_total(module, shape, batch, optimizer_name):
    """Bytes actually held after a step: saved tensors, parameters, gradients, optimizer state, buffers."""
    optim = {"sgd": lambda p: torch.optim.SGD(p, lr=0.1), "sgd_momentum": lambda p: torch.optim.SGD(p, lr=0.1,
             momentum=0.9), "adam": lambda p: torch.optim.Adam(p), "adamw": lambda p: torch.optim.AdamW(p)}
    params = [p for p in module.parameters() if p.requires_grad]
    opt = optim[optimizer_name](params)
    _, saved = measure(module, shape, batch)
    opt.step()
    state = sum(t.untyped_storage().nbytes() for s in opt.state.values() for t in s.values()
                if isinstance(t, torch.Tensor))
    params_b = sum(p.untyped_storage().nbytes() for p in module.parameters())
    grads = sum(p.grad.untyped_storage().nbytes() for p in params)
    buffers = sum(b.untyped_storage().nbytes() for b in module.buffers())
    return saved + params_b + grads + state + buffers


@pytest.mark.parametrize("optimizer", ["sgd", "sgd_momentum", "adam", "adamw"])
def test_max_batch_fits_by_measured_bytes(optimizer):
    net = sc.Sequential(sc.Conv2d(3, 8, 3, padding=1), sc.BatchNorm2d(8), sc.ReLU(), sc.MaxPool2d(2),
                        sc.Conv2d(8, 4, 3), sc.ReLU(), sc.Flatten(), sc.Linear(4 * 6 * 6, 10))
    memory = 200_000
    n = sc.max_batch(net, (3, 16, 16), memory=memory, optimizer=optimizer, device="cpu")
    cost = sc.training(net, (3, 16, 16), optimizer=optimizer, device="cpu")
    for batch in (n, n + 1):
        torch.manual_seed(0)
        measured = _measured_total(twin(sc.to_torch(net)), (3, 16, 16), batch, optimizer)
        assert measured == cost.total_bytes.xreplace({B: batch})
    assert cost.total_bytes.xreplace({B: n}) <= memory < cost.total_bytes.xreplace({B: n + 1})


def test_frozen_from_a_torch_module_refuses_partly_frozen_layers():
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU())
    net[0].bias.requires_grad_(False)
    graph = sc.from_torch(net, (3, 8, 8))
    with pytest.raises(sc.SymcnnError, match="whole layers"):
        sc.training(graph, (3, 8, 8), frozen=net)


def _kinds_net():
    """One network with the layer kinds the zoo does not use (built with symcnn, run through its torch twin)."""
    x = sc.Input()
    y = sc.Conv2d(3, 8, 4, padding="same")(x)                   # even kernel: PyTorch pads asymmetrically
    y = sc.ReflectionPad2d(1)(sc.GELU()(y))
    y = sc.Conv2d(8, 8, 3, stride=2, padding="tf_same", groups=2)(y)  # strided SAME: an explicit zero pad
    a = sc.Sigmoid()(sc.PReLU(8)(y))
    b = sc.LeakyReLU(0.1, inplace=True)(sc.SiLU(inplace=True)(sc.ScalarOp("mul", 0.5)(y)))
    y = sc.Mul()(a, b)
    y = sc.Upsample(scale_factor=2, mode="bilinear")(sc.ELU(inplace=True)(y))
    y = sc.AvgPool2d(2)(sc.Hardswish()(sc.ZeroPad2d((0, 1, 1, 0))(y)))
    y = sc.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1, groups=2)(sc.Dropout2d(0.3)(y))
    y = sc.AdaptiveMaxPool2d((3, 2))(sc.AlphaDropout(0.2)(sc.Softplus()(y)))
    y = sc.Linear(6, 5)(sc.Flatten(2)(y))
    y = sc.Softmax(dim=-1)(sc.BatchNorm1d(4)(y))
    return sc.Graph(x, y)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")  # PyTorch's note on the padded copy
@pytest.mark.parametrize(("h", "w", "batch", "autocast"), [(8, 8, 1, None), (9, 13, 4, None), (16, 11, 2, None),
                                                         (9, 13, 4, "bfloat16")])
def test_other_layer_kinds_match_pytorch(h, w, batch, autocast):
    net = _kinds_net()
    cost = sc.training(net, (3, sc.H, sc.W), device="cpu", mixed_precision=autocast)
    torch.manual_seed(0)
    flops, saved = measure(twin(sc.to_torch(net)), (3, h, w), batch, autocast=autocast)
    values = {B: batch, sc.H: h, sc.W: w}
    assert cost.flops.xreplace(values) == flops
    assert cost.saved_activation_bytes.xreplace(values) == saved


def _kinds_net_3d():
    """3-d and 1-d layers, several on CPU autocast's float32 list."""
    return sc.Sequential(sc.Conv3d(2, 4, 3, padding=1), sc.ReplicationPad3d(1), sc.MaxPool3d(2), sc.Tanh(),
                         sc.Conv3d(4, 4, 1), sc.AvgPool3d(2, ceil_mode=True), sc.BatchNorm3d(4), sc.ReLU6(inplace=True),
                         sc.AdaptiveMaxPool3d(2), sc.Conv3d(4, 4, 1), sc.AdaptiveAvgPool3d(1), sc.Flatten(),
                         sc.Linear(4, 6), sc.LogSoftmax(dim=1))


@pytest.mark.parametrize(("size", "batch", "autocast"), [((5, 6, 7), 2, None), ((6, 6, 9), 1, "bfloat16"),
                                                         ((5, 6, 7), 4, "bfloat16")])
def test_3d_layers_match_pytorch(size, batch, autocast):
    d, h, w = sc.symbols("D3 H3 W3")
    net = _kinds_net_3d()
    cost = sc.training(net, (2, d, h, w), device="cpu", mixed_precision=autocast)
    torch.manual_seed(0)
    flops, saved = measure(twin(sc.to_torch(net)), (2, *size), batch, autocast=autocast)
    values = {B: batch, d: size[0], h: size[1], w: size[2]}
    assert cost.flops.xreplace(values) == flops
    assert cost.saved_activation_bytes.xreplace(values) == saved


@st.composite
def _random_net(draw):
    """A small random CNN: conv / BN / activation (in place or not) / pooling / dropout blocks and a linear head."""
    layers, c = [], 3
    for _ in range(draw(st.integers(1, 3))):
        cout = draw(st.sampled_from([4, 6, 8]))
        groups = draw(st.sampled_from([1, 2])) if c % 2 == 0 and cout % 2 == 0 else 1
        k = draw(st.integers(1, 3))
        layers.append(sc.Conv2d(c, cout, k, stride=draw(st.integers(1, 2)), padding=draw(st.integers(0, k // 2 + 1)),
                                groups=groups, bias=draw(st.booleans())))
        c = cout
        if draw(st.booleans()):
            layers.append(sc.BatchNorm2d(c))
        act = draw(st.sampled_from(["ReLU", "ReLU6", "SiLU", "Tanh", "LeakyReLU", "none"]))
        if act != "none":
            layers.append(getattr(sc, act)(inplace=draw(st.booleans())) if act != "Tanh" else sc.Tanh())
        pool = draw(st.sampled_from(["max", "avg", "none"]))
        if pool == "max":
            layers.append(sc.MaxPool2d(2, ceil_mode=True))
        elif pool == "avg":
            layers.append(sc.AvgPool2d(2, ceil_mode=True))
    p = draw(st.sampled_from([1, 2]))
    layers += [sc.AdaptiveAvgPool2d(p), sc.Flatten()]
    if draw(st.booleans()):
        layers.append(sc.Dropout(0.25))
    layers.append(sc.Linear(c * p * p, 3))  # trainable: some gradient always flows
    return sc.Sequential(*layers)


@given(net=_random_net(), h=st.integers(9, 20), w=st.integers(9, 20), batch=st.integers(2, 3),
       frozen=st.sets(st.integers(0, 12), max_size=3), autocast=st.sampled_from([None, "bfloat16"]))
@settings(max_examples=25, deadline=None, derandomize=True)
def test_random_networks_match_pytorch(net, h, w, batch, frozen, autocast):
    with_params = [r.index for r in sc.analyze(net, (3, 20, 20)).layers[:-1] if r.params != 0]
    names = [str(i) for i in sorted(frozen) if i in with_params]
    try:
        cost = sc.training(net, (3, h, w), batch=batch, device="cpu", mixed_precision=autocast,
                           frozen=names or None)
    except sc.SymcnnError as e:  # sizes the network refuses, or in place on a saved tensor: PyTorch fails too
        assert "in place" in str(e) or "larger than" in str(e) or "exceeds" in str(e) or "below 1" in str(e)
        return
    torch.manual_seed(0)
    flops, saved = measure(twin(sc.to_torch(net), frozen=names), (3, h, w), batch, autocast=autocast)
    assert cost.flops == flops
    assert cost.saved_activation_bytes == saved


def test_checkpointed_from_torch_block_with_a_functional_add_matches_pytorch():
    """Review finding 5: the block's `x + identity` is a function (fx node 'add', not under '1'); from_torch
    records the module it was called in, so the segment '1' holds it and the recomputation matches PyTorch's."""
    nn = torch.nn

    class Res(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(4, 4, 3, padding=1)
            self.act = nn.ReLU()

        def forward(self, x):
            return self.act(self.conv(x) + x)

    torch.manual_seed(0)
    source = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Sequential(Res()), nn.Conv2d(4, 4, 3))
    graph = sc.from_torch(source, (3, sc.H, sc.W))
    cost = sc.training(graph, (3, sc.H, sc.W), device="cpu", checkpoint=["1"])
    assert cost["add"].checkpointed == "1" and cost.recompute_flops != 0
    flops, saved = measure(twin(source, checkpoint=("1",)), (3, 9, 10), 2)
    values = {B: 2, sc.H: 9, sc.W: 10}
    assert (cost.flops.xreplace(values), cost.saved_activation_bytes.xreplace(values)) == (flops, saved)
