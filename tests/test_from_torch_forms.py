"""``from_torch`` on the forms torchvision's models are written in: subclasses of known modules, dict / tuple
outputs, sizes read from another tensor (``x.shape[-2:]``), ``torch.flatten``, ``mean(keepdim=True)`` and a
squeeze-excitation gate. Each against torch (output shape, ``sum(p.numel())``, ``FlopCounterMode`` / 2) at three
sizes, H != W included, analysed once symbolically."""

from __future__ import annotations

import warnings
from collections import OrderedDict

import pytest

import symcnn as sc
from symcnn import H, SymcnnError, T, W
from symcnn._intmath import floordiv

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from test_from_torch import check  # noqa: E402

SIZES = [(32, 32), (33, 47), (20, 31)]


def run(module, shape, pick=None):
    """torch's output shape (of entry ``pick``), parameters and MACs (FlopCounterMode / 2)."""
    module = module.eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Using padding='same'")
        y = module(torch.zeros((1, *shape)))
    y = y if pick is None else y[pick]
    return tuple(y.shape[1:]), sum(p.numel() for p in module.parameters()), counter.get_total_flops() // 2


def engine(a, **values):
    sub = a.subs(**values)
    return tuple(int(v) for v in sub.output_shape), int(sub.params), int(sub.macs)


# --- subclasses of known modules -------------------------------------------------------------------------------

class Conv3DSimple(nn.Conv3d):
    """torchvision.models.video.resnet's form: a Conv3d subclass that keeps Conv3d.forward."""

    def __init__(self, in_planes, out_planes, stride=1, padding=1):
        super().__init__(in_planes, out_planes, (3, 3, 3), stride, padding, bias=False)

    @staticmethod
    def get_downsample_stride(stride):
        return stride, stride, stride


class Conv3DNoTemporal(nn.Conv3d):
    def __init__(self, in_planes, out_planes, stride=1, padding=1):
        super().__init__(in_planes, out_planes, (1, 3, 3), (1, stride, stride), (0, padding, padding), bias=False)


class Video(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = Conv3DSimple(3, 8, stride=2)
        self.bn = nn.BatchNorm3d(8)
        self.block = Conv3DNoTemporal(8, 8, stride=2)
        self.pool = nn.AdaptiveAvgPool3d(1)

    def forward(self, x):
        return torch.flatten(self.pool(self.block(F.relu(self.bn(self.stem(x))))), 1)


def test_subclass_keeping_forward_is_the_parent():
    """Found in review: r3d_18 / mc3_18 were refused (their Conv3d subclasses were traced into torch.conv3d)."""
    module = Video()
    net = sc.from_torch(module, (3, T, H, W))
    a = sc.analyze(net, (3, T, H, W))
    assert [r.kind for r in a.layers] == ["Conv3d", "BatchNorm3d", "ReLU", "Conv3d", "AdaptiveAvgPool3d", "Flatten"]
    for t, h, w in ((4, 32, 32), (5, 33, 47), (8, 20, 31)):
        assert engine(a, T=t, H=h, W=w) == run(module, (3, t, h, w))
    assert net.notes == ()


def test_subclass_with_its_own_forward_is_traced_and_said():
    class DoubledReLU(nn.ReLU):
        def forward(self, x):
            return torch.relu(x) * 2

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.act = nn.Conv2d(3, 4, 3, stride=2), DoubledReLU()

        def forward(self, x):
            return self.act(self.conv(x))

    net, a = check(Net(), SIZES)
    assert [r.kind for r in a.layers] == ["Conv2d", "ReLU", "ScalarOp"]
    assert net.notes == ("'DoubledReLU' subclasses ReLU with its own forward: traced into it",)

    class Scaled3d(nn.Conv3d):
        def forward(self, x):
            return super().forward(x) * 2

    class Net3d(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = Scaled3d(3, 4, 3)

        def forward(self, x):
            return self.conv(x)

    net3d = sc.from_torch(Net3d(), (3, 4, 8, 8))  # traced into: F.conv3d with the weight read in forward
    a3 = sc.analyze(net3d, (3, 4, 8, 8))
    assert [r.kind for r in a3.layers] == ["Conv3d", "ScalarOp"]
    assert a3.params == sum(p.numel() for p in Net3d().parameters())
    assert net3d.notes == ("'Scaled3d' subclasses Conv3d with its own forward: traced into it",)


# --- dict and tuple outputs, sizes read from another tensor -------------------------------------------------------

class Segmenter(nn.Module):
    """torchvision's segmentation form: a stride-4 backbone, heads resized to the input with x.shape[-2:], and a
    dict {'out': ..., 'aux': ...} (aux=False: the auxiliary head exists but is not called)."""

    def __init__(self, aux=True, classes=5):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.ReLU(), nn.Conv2d(8, 16, 3, 2, 1), nn.ReLU())
        self.classifier = nn.Sequential(nn.Conv2d(16, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                                        nn.Conv2d(8, classes, 1))
        self.aux_classifier = nn.Conv2d(16, classes, 1)
        self.aux = aux

    def forward(self, x):
        input_shape = x.shape[-2:]
        features = self.backbone(x)
        result = OrderedDict()
        y = self.classifier(features)
        result["out"] = F.interpolate(y, size=input_shape, mode="bilinear", align_corners=False)
        if self.aux:
            z = self.aux_classifier(features)
            result["aux"] = F.interpolate(z, size=x.size()[2:], mode="bilinear", align_corners=False)
        return result


def test_dict_output_selected_by_key():
    """Found in review: fcn / deeplabv3 / lraspp were refused with `<..._Unknown object at 0x..>`."""
    module = Segmenter()
    with pytest.raises(SymcnnError, match=r"^from_torch: Segmenter.forward returns a dict with keys 'out', 'aux'; "
                                          r"symcnn reads one output tensor: choose it with output='out'"):
        sc.from_torch(module, (3, H, W))
    for key in ("out", "aux"):
        net = sc.from_torch(module, (3, H, W), output=key)
        a = sc.analyze(net, (3, H, W))
        assert a.output_shape == (5, H, W)
        unused = "aux_classifier" if key == "out" else "classifier"
        assert list(net.unused_parameters) == [unused]
        alone = Segmenter(aux=key == "aux")
        alone.load_state_dict(module.state_dict())
        if key == "aux":
            alone.classifier = nn.Identity()  # torch's MACs of the aux branch alone
        for h, w in SIZES:
            shape, params, macs = engine(a, H=h, W=w)
            assert (shape, params) == run(module, (3, h, w), key)[:2]
            if key == "out":
                assert macs == run(alone, (3, h, w), "out")[2]
            else:
                assert macs == run(alone, (3, h, w), "aux")[2]
    with pytest.raises(SymcnnError, match=r"`output`='logits' is not an entry of what Segmenter.forward returns \(a "
                                          r"dict with keys 'out', 'aux'\)"):
        sc.from_torch(module, (3, H, W), output="logits")


def test_tuple_output_selected_by_index():
    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Conv2d(3, 4, 3), nn.Conv2d(3, 2, 5, stride=2)

        def forward(self, x):
            return self.a(x), self.b(x)

    module = Two()
    net = sc.from_torch(module, (3, H, W), output=1)
    a = sc.analyze(net, (3, H, W))
    for h, w in SIZES:
        shape, params, _ = engine(a, H=h, W=w)
        assert (shape, params) == run(module, (3, h, w), 1)[:2]
    assert net.unused_parameters == {"a": 4 * 27 + 4}
    with pytest.raises(SymcnnError, match=r"Two.forward returns a tuple of 2 values; .* choose it with output=0"):
        sc.from_torch(module, (3, H, W))
    with pytest.raises(SymcnnError, match=r"`output`=2 is not an entry of what Two.forward returns \(a tuple of 2"):
        sc.from_torch(module, (3, H, W), output=2)


class SqueezeExcite(nn.Module):
    """MobileNetV3 / EfficientNet's gate: mean(keepdim=True), 1x1 convs, a sigmoid gate multiplied in, then a
    resize to the input's size read with x.shape[-2:] and torch.flatten(x, 1)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, 2, 1)
        self.fc1, self.fc2 = nn.Conv2d(8, 2, 1), nn.Conv2d(2, 8, 1)

    def forward(self, x):
        y = self.conv(x)
        s = y.mean((2, 3), keepdim=True)
        y = y * torch.sigmoid(self.fc2(F.relu(self.fc1(s))))
        y = F.interpolate(y, size=x.shape[-2:], mode="nearest")
        return torch.flatten(y, 1)


def test_squeeze_excite_resize_and_flatten():
    net, a = check(SqueezeExcite(), SIZES)
    assert a.output_shape == (8 * H * W,)
    assert [r.kind for r in a.layers] == ["Conv2d", "AdaptiveAvgPool2d", "Conv2d", "ReLU", "Conv2d", "Sigmoid", "Mul",
                                          "Upsample", "Flatten"]


def test_size_slices_and_arithmetic_stay_symbolic():
    class Half(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3, padding=1)

        def forward(self, x):
            h, w = x.size()[2:]
            return F.interpolate(self.conv(x), size=(h // 2, w - 3))

    net, a = check(Half(), SIZES)
    assert a.output_shape == (4, floordiv(H, 2), W - 3)


def test_an_unknown_tensor_method_is_refused_by_name():
    """An operation without formulas (here ``roll``) is refused with its name and source line."""
    class Roll(nn.Module):
        def forward(self, x):
            return x.roll(1, 2)

    with pytest.raises(SymcnnError, match=r"node 'roll' \(call_method Tensor.roll\): no symcnn formulas for this "
                                          r"operation at test_from_torch_forms.py:\d+ `return x.roll\(1, 2\)`"):
        sc.from_torch(Roll(), (4, H, W))


def test_tensor_minus_number():
    class Shift(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3, stride=2)

        def forward(self, x):
            return F.relu(self.conv(x - 0.5) - 1)

    net, a = check(Shift(), SIZES)
    assert [(r.kind, r.layer.value) for r in a.layers if r.kind == "ScalarOp"] == [("ScalarOp", -0.5), ("ScalarOp", -1)]

    class Between(nn.Module):
        def forward(self, x):
            return x - x.sigmoid()

    between = sc.analyze(sc.from_torch(Between(), (3, H, W)), (3, H, W))  # two tensors: a Sub (issue 22)
    assert [r.kind for r in between.layers] == ["Sigmoid", "Sub"] and between.output_shape == (3, H, W)
