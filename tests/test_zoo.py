"""The rest of the zoo: MobileNetV2, SqueezeNet, DenseNet-121, GoogLeNet, U-Net, DCGAN.

Expected values are published figures (torchvision meta, FORMULAS.md §6.1; the U-Net paper's 572 -> 388;
the DCGAN tutorial's parameter count) or come from an independent computation: window enumeration
(``symcnn.reference``), the receptive-field recurrence written out by hand from the papers' layer tables,
or the networks rewritten in plain PyTorch and run on the meta device.
"""

from __future__ import annotations

import functools

import pytest

import symcnn as sc
from symcnn import H, W
from symcnn.reference import receptive_field_1d, windows_1d

NEW = ("mobilenet_v2", "squeezenet1_0", "squeezenet1_1", "densenet121", "googlenet")


@functools.cache
def _analysis(name: str, shape: tuple, features: bool = False) -> sc.Analysis:
    """Analyses are immutable: share them between tests (the symbolic ones take up to a second)."""
    model = sc.models.get(name)
    return sc.analyze(model.features if features else model, shape)


# --- published figures ----------------------------------------------------------------------------------------


# torchvision meta num_params and exact conv+linear MACs at 224x224 (FORMULAS.md §6.1), BN affine params inside
@pytest.mark.parametrize(
    ("name", "params", "macs", "bn_affine"),
    [
        ("mobilenet_v2", 3_504_872, 300_774_272, 34_112),
        ("squeezenet1_0", 1_248_424, 818_924_576, 0),
        ("squeezenet1_1", 1_235_496, 349_151_936, 0),
        ("densenet121", 7_978_856, 2_834_161_664, 83_648),
        ("googlenet", 6_624_904, 1_498_376_192, 14_560),
    ],
)
def test_torchvision_figures(name, params, macs, bn_affine):
    a = _analysis(name, (3, 224, 224))
    assert (a.params, a.macs) == (params, macs)
    assert a.output_shape == (1000,)
    assert sum(r.params for r in a.layers if r.kind == "BatchNorm2d") == bn_affine


def test_registry_has_the_new_models():
    assert set(NEW + ("unet", "dcgan_generator", "dcgan_discriminator")) <= set(sc.models.names())
    for name in NEW + ("unet", "dcgan_generator", "dcgan_discriminator"):
        assert name in sc.models.__all__ and callable(getattr(sc.models, name))
    assert sc.analyze(sc.models.get("googlenet", num_classes=10), (3, 224, 224)).output_shape == (10,)


# torchvision state-dict prefixes (module names) of a few parameterised layers per model
@pytest.mark.parametrize(
    ("name", "layer_names"),
    [
        ("mobilenet_v2", ["features.0.0", "features.0.1", "features.1.conv.0.0", "features.1.conv.1",
                          "features.2.conv.0.0", "features.2.conv.1.0", "features.2.conv.2", "features.2.conv.3",
                          "features.18.0", "classifier.1"]),
        ("squeezenet1_0", ["features.0", "features.3.squeeze", "features.3.expand1x1", "features.3.expand3x3",
                           "features.12.expand3x3", "classifier.1"]),
        ("densenet121", ["features.conv0", "features.norm0", "features.denseblock1.denselayer1.norm1",
                         "features.denseblock1.denselayer6.conv2", "features.transition1.conv",
                         "features.denseblock4.denselayer16.conv2", "features.norm5", "classifier"]),
        ("googlenet", ["conv1.conv", "conv1.bn", "conv3.conv", "inception3a.branch1.conv",
                       "inception3a.branch2.1.conv", "inception3a.branch3.1.bn", "inception3a.branch4.1.conv",
                       "inception5b.branch4.1.bn", "fc"]),
    ],
)
def test_torchvision_module_names(name, layer_names):
    a = _analysis(name, (3, 224, 224))
    for n in layer_names:
        assert a[n].params > 0, n


def test_mobilenet_residuals_where_torchvision_has_them():
    a = _analysis("mobilenet_v2", (3, 224, 224))
    adds = sorted(int(r.name.split(".")[1]) for r in a.layers if r.kind == "Add")
    # stride 1 and equal channels: the 2nd..nth repeat of each (t, c, n, s) row of the paper's table 2
    assert adds == [3, 5, 6, 8, 9, 10, 12, 13, 15, 16]
    assert a["features.1.conv.0.0"].layer.groups == 32  # t = 1: no expansion, the first conv is depthwise
    assert a["features.2.conv.1.0"].layer.groups == 96  # 16*6 expanded channels, depthwise


def test_googlenet_uses_torchvisions_3x3_in_the_5x5_branch_and_ceil_pools():
    a = _analysis("googlenet", (3, 224, 224))
    assert a["inception3a.branch3.1.conv"].layer.kernel_size == (3, 3)
    pools = [r for r in a.layers if r.kind == "MaxPool2d"]
    assert pools and all(r.layer.ceil_mode for r in pools)
    assert [a[f"maxpool{i}"].output_shape for i in (1, 2, 3, 4)] == [(64, 56, 56), (192, 28, 28), (480, 14, 14),
                                                                     (832, 7, 7)]
    assert not any("aux" in r.name for r in a.layers)


# --- blocks: hand arithmetic ------------------------------------------------------------------------------------


def test_blocks():
    m = sc.models
    fire = sc.analyze(m.Fire(96, 16, 64, 64), (96, 55, 55))
    assert fire.output_shape == (128, 55, 55)
    assert fire.params == (96 * 16 + 16) + (16 * 64 + 64) + (16 * 64 * 9 + 64)
    block = sc.analyze(m.DenseBlock(6, 64), (64, 56, 56))
    assert block.output_shape == (64 + 6 * 32, 56, 56)
    assert block["denselayer3.norm1"].input_shape == (64 + 2 * 32, 56, 56)  # the block input and 2 new maps
    assert block["cat3"].inputs == (-1, block["denselayer1.conv2"].index, block["denselayer2.conv2"].index)
    per_layer = [2 * c + c * 128 + 2 * 128 + 128 * 32 * 9 for c in range(64, 256, 32)]
    assert block.params == sum(per_layer)
    trans = sc.analyze(m.Transition(256, 128), (256, 56, 56))
    assert (trans.output_shape, trans.params) == ((128, 28, 28), 2 * 256 + 256 * 128)
    inc = sc.analyze(m.Inception(192, 64, 96, 128, 16, 32, 32), (192, 28, 28))
    assert inc.output_shape == (64 + 128 + 32 + 32, 28, 28)
    bc = sc.analyze(m.BasicConv2d(3, 64, 7, 2, 3), (3, 224, 224))
    assert (bc.output_shape, bc.params) == ((64, 112, 112), 3 * 64 * 49 + 2 * 64)
    ir = sc.analyze(m.InvertedResidual(32, 64, 2, 6), (32, 28, 28))
    assert ir.output_shape == (64, 14, 14) and "add" not in [r.name for r in ir.layers]


# --- symbolic (3, H, W) -----------------------------------------------------------------------------------------


def _sizes(width: int, ops) -> int | None:
    """Output size along one axis by enumerating the windows of each (kernel, stride, padding, ceil) op."""
    for k, s, p, ceil in ops:
        width = len(windows_1d(width, k, s, p, ceil_mode=ceil))
        if not width:
            return None
    return width


# the strided / size-changing layers of each trunk, read off torchvision's source (convs keeping the size omitted)
TRUNKS = {
    "mobilenet_v2": [(3, 2, 1, False)] + [(3, 2, 1, False)] * 4,
    "squeezenet1_0": [(7, 2, 0, False)] + [(3, 2, 0, True)] * 3,
    "squeezenet1_1": [(3, 2, 0, False)] + [(3, 2, 0, True)] * 3,
    "densenet121": [(7, 2, 3, False), (3, 2, 1, False)] + [(2, 2, 0, False)] * 3,
    "googlenet": [(7, 2, 3, False)] + [(3, 2, 0, True)] * 3 + [(2, 2, 0, True)],
}


@pytest.mark.parametrize("name", NEW)
def test_symbolic_trunk_size_equals_window_enumeration(name):
    feat = _analysis(name, (3, H, W), features=True)
    size = feat.lambdify("output_shape", symbols=(H, W))
    for w in range(1, 260):
        want = _sizes(w, TRUNKS[name])
        holds = all(bool(c.xreplace({H: w, W: w})) for c in feat.constraints)
        assert holds == (want is not None), w
        if want is not None:
            assert tuple(int(v) for v in size(w, w)[1:]) == (want, want), w


# compact closed forms of the trunk's output width, checked for equality above by enumeration
@pytest.mark.parametrize(
    ("name", "printed", "compact"),
    [
        ("mobilenet_v2", "ceil(W/32)", lambda w: -(-w // 32)),
        ("densenet121", "floor((W + 3)/32)", lambda w: (w + 3) // 32),
        # ceil_mode nets: one term too, since no pool's last window can start in the right padding
        ("squeezenet1_0", "floor((W + 11)/16) - 1", lambda w: (w - 5) // 16),
        ("squeezenet1_1", "ceil(W/16) - 1", lambda w: -(-w // 16) - 1),
        ("googlenet", "floor((W + 17)/32)", lambda w: (w + 17) // 32),
    ],
)
def test_trunk_closed_forms(name, printed, compact):
    feat = _analysis(name, (3, H, W), features=True)
    if printed is not None:
        assert [sc.pretty(v) for v in feat.output_shape[1:]] == [printed.replace("W", "H"), printed]
    for w in range(32, 400):
        assert _sizes(w, TRUNKS[name]) == compact(w), w
        assert feat.output_shape[2].xreplace({W: w}) == compact(w), w


@pytest.mark.parametrize("name", NEW)
def test_symbolic_totals_substitute_to_the_numeric_analysis(name):
    sym = _analysis(name, (3, H, W))
    assert sym.output_shape == (1000,)
    for h, w in ((224, 224), (193, 257)):
        got, num = sym.subs(H=h, W=w), _analysis(name, (3, h, w))
        assert (got.params, got.macs, got.flops, got.activations) == (num.params, num.macs, num.flops,
                                                                      num.activations)


def test_densenet_and_mobilenet_macs_stay_one_term_per_resolution():
    # one product per stage resolution (/2, /4, /8, /16, /32) plus the classifier
    macs = _analysis("mobilenet_v2", (3, H, W)).macs
    assert len(macs.args) == 6 and macs.xreplace({H: 224, W: 224}) == 300_774_272
    macs = _analysis("densenet121", (3, H, W)).macs
    assert len(macs.args) == 6 and macs.xreplace({H: 224, W: 224}) == 2_834_161_664


# --- receptive fields: the recurrence written out by hand, and window enumeration -------------------------------


def _chain(spec):
    return [dict(kernel=k, stride=s, padding=p) for k, s, p in spec]


# the longest path through each trunk: (kernel, stride, padding) of every layer that widens the field
RF_PATHS = {
    # stem 3x3/2; per inverted residual one 3x3 depthwise (stride s of the table's first repeat)
    "mobilenet_v2": [(3, 2, 1)] + [(3, s, 1) for _, _, n, s0 in
                                   [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                                    (6, 160, 3, 2), (6, 320, 1, 1)]
                                   for s in [s0] + [1] * (n - 1)],
    # conv0, pool0, then 6/12/24/16 3x3 convs separated by 2x2 average pools
    "densenet121": [(7, 2, 3), (3, 2, 1)] + [(3, 1, 1)] * 6 + [(2, 2, 0)] + [(3, 1, 1)] * 12 + [(2, 2, 0)]
    + [(3, 1, 1)] * 24 + [(2, 2, 0)] + [(3, 1, 1)] * 16,
    # conv, pool, 3 fires (3x3 expand), pool, 4 fires, pool, 1 fire
    "squeezenet1_0": [(7, 2, 0), (3, 2, 0)] + [(3, 1, 1)] * 3 + [(3, 2, 0)] + [(3, 1, 1)] * 4 + [(3, 2, 0), (3, 1, 1)],
    "squeezenet1_1": [(3, 2, 0), (3, 2, 0)] + [(3, 1, 1)] * 2 + [(3, 2, 0)] + [(3, 1, 1)] * 2 + [(3, 2, 0)]
    + [(3, 1, 1)] * 4,
    # conv1, maxpool1, conv3, maxpool2, 3a-3b, maxpool3, 4a-4e, maxpool4, 5a-5b (one 3x3 per inception)
    "googlenet": [(7, 2, 3), (3, 2, 0), (3, 1, 1), (3, 2, 0)] + [(3, 1, 1)] * 2 + [(3, 2, 0)] + [(3, 1, 1)] * 5
    + [(2, 2, 0)] + [(3, 1, 1)] * 2,
}


def _by_hand(spec):
    """Distill's recurrence: r += (k - 1)*j, j *= s, start += ((k - 1)/2 - p)*j."""
    r, j, start = 1, 1, 0.0
    for k, s, p in spec:
        r, start, j = r + (k - 1) * j, start + ((k - 1) / 2 - p) * j, j * s
    return r, j, start


@pytest.mark.parametrize("name", NEW)
def test_trunk_receptive_fields(name):
    rf = _analysis(name, (3, 224, 224), features=True).receptive_field
    size, jump, centre = receptive_field_1d(224, _chain(RF_PATHS[name]))  # window enumeration
    assert (size, jump, centre) == _by_hand(RF_PATHS[name])
    assert rf.size == (size, size) and rf.stride == (jump, jump) and tuple(map(float, rf.start)) == (centre, centre)
    assert rf.aligned is True and rf.exact is True


def test_receptive_field_figures():
    # the by-hand values behind test_trunk_receptive_fields, for the record (size, effective stride)
    got = {name: _by_hand(RF_PATHS[name])[:2] for name in NEW}
    assert got == {"mobilenet_v2": (491, 32), "densenet121": (2071, 32), "squeezenet1_0": (155, 16),
                   "squeezenet1_1": (207, 16), "googlenet": (379, 32)}


# --- U-Net --------------------------------------------------------------------------------------------------------


def test_unet_paper_tile_and_closed_form():
    net = sc.models.unet()
    a = sc.analyze(net, (1, 572, 572))
    assert a.output_shape == (2, 388, 388)
    assert a["down1.relu2"].output_shape == (64, 568, 568) and a["bottleneck.relu2"].output_shape == (1024, 28, 28)
    assert a["upconv4"].output_shape == (512, 56, 56) and a["crop_concat4"].output_shape == (1024, 56, 56)
    sym = sc.analyze(net, (1, H, W))
    assert sc.pretty(sym.output_shape[2]) == "16*floor((W + 4)/16) - 188"
    assert sym.constraints == [H >= 188, W >= 188]
    assert sym.subs(H=572, W=572).output_shape == (2, 388, 388)
    with pytest.raises(sc.SymcnnError, match=r"layer \d+ 'bottleneck.conv1'.*input \(512, 2, 2\)"):
        sc.analyze(net, (1, 100, 100))


# --- PyTorch references (no torchvision needed): the U-Net and the DCGAN tutorial nets written in plain torch ------


def _torch_unet(nn):
    def double(cin, cout):
        return nn.Sequential(nn.Conv2d(cin, cout, 3), nn.ReLU(), nn.Conv2d(cout, cout, 3), nn.ReLU())

    class UNet(nn.Module):
        def __init__(self):
            super().__init__()
            chans = [64, 128, 256, 512, 1024]
            self.down = nn.ModuleList([double(c, o) for c, o in zip([1, *chans[:3]], chans[:4], strict=True)])
            self.mid = double(512, 1024)
            self.up = nn.ModuleList([nn.ConvTranspose2d(c, c // 2, 2, stride=2) for c in chans[:0:-1]])
            self.dec = nn.ModuleList([double(c, c // 2) for c in chans[:0:-1]])
            self.out = nn.Conv2d(64, 2, 1)

        def forward(self, x):
            import torch

            skips = []
            for d in self.down:
                x = d(x)
                skips.append(x)
                x = nn.functional.max_pool2d(x, 2)
            x = self.mid(x)
            for up, dec, s in zip(self.up, self.dec, reversed(skips), strict=True):
                x = up(x)
                top, left = (s.shape[-2] - x.shape[-2]) // 2, (s.shape[-1] - x.shape[-1]) // 2
                s = s[..., top:top + x.shape[-2], left:left + x.shape[-1]]
                x = dec(torch.cat([s, x], 1))
            return self.out(x)

    return UNet()


def _torch_dcgan(nn):
    g = nn.Sequential(  # the DCGAN tutorial's Generator.main, nz=100, ngf=64, nc=3
        nn.ConvTranspose2d(100, 512, 4, 1, 0, bias=False), nn.BatchNorm2d(512), nn.ReLU(True),
        nn.ConvTranspose2d(512, 256, 4, 2, 1, bias=False), nn.BatchNorm2d(256), nn.ReLU(True),
        nn.ConvTranspose2d(256, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.ReLU(True),
        nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(True),
        nn.ConvTranspose2d(64, 3, 4, 2, 1, bias=False), nn.Tanh(),
    )
    d = nn.Sequential(  # Discriminator.main, ndf=64
        nn.Conv2d(3, 64, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(64, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(128, 256, 4, 2, 1, bias=False), nn.BatchNorm2d(256), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(256, 512, 4, 2, 1, bias=False), nn.BatchNorm2d(512), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(512, 1, 4, 1, 0, bias=False), nn.Sigmoid(),
    )
    return g, d


def _torch_measure(module, shape):
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    module = module.to("meta").eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        out = module(torch.empty(1, *shape, device="meta"))
    return tuple(out.shape[1:]), sum(p.numel() for p in module.parameters()), counter.get_total_flops() // 2


@pytest.mark.torch
def test_unet_and_dcgan_against_plain_pytorch():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    g, d = _torch_dcgan(nn)
    cases = [(sc.models.unet(), _torch_unet(nn), (1, 572, 572)), (sc.models.unet(), _torch_unet(nn), (1, 188, 188)),
             (sc.models.dcgan_generator(), g, (100, 1, 1)), (sc.models.dcgan_discriminator(), d, (3, 64, 64))]
    for ours, ref, shape in cases:
        a = sc.analyze(ours, shape)
        assert (tuple(a.output_shape), a.params, a.macs) == _torch_measure(ref, shape)


def test_dcgan_figures():
    g = sc.analyze(sc.models.dcgan_generator(), (100, 1, 1))
    assert (g.output_shape, g.params) == ((3, 64, 64), 3_576_704)  # the tutorial's generator
    assert [r.output_shape[1] for r in g.layers if r.kind == "ConvTranspose2d"] == [4, 8, 16, 32, 64]
    assert sc.analyze(sc.models.dcgan_generator(), (100, H, W)).output_shape == (3, 16 * H + 48, 16 * W + 48)
    d = sc.analyze(sc.models.dcgan_discriminator(), (3, 64, 64))
    assert (d.output_shape, d.params) == ((1, 1, 1), 2_765_568)
    assert g["main.0"].kind == "ConvTranspose2d" and d["main.12"].kind == "Sigmoid"
