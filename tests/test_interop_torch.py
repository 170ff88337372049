"""``to_torch``: the torch module built from a symcnn network has the engine's parameters, output shape and MACs.

Every zoo model (``symcnn.models.names()``, so models added later are covered) at two input sizes:
``sum(p.numel())``, the forward output shape and ``FlopCounterMode`` total / 2 against ``analyze``. The zoo runs
on the ``meta`` device (shapes and FLOP counts without arithmetic), small networks on the CPU for real.
"""

from __future__ import annotations

import sys
import warnings

import pytest
import sympy

import symcnn as sc
from symcnn import SymcnnError

torch = pytest.importorskip("torch")
nn = torch.nn
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

#: candidate input shapes per model (the first two the engine accepts are used); others: 224 and an odd size
NATURAL = {
    "lenet5": [(1, 32, 32), (1, 36, 36), (1, 33, 41)],
    "unet": [(1, 188, 188), (1, 204, 204), (3, 188, 188), (3, 204, 204), (1, 192, 192), (1, 208, 208),
             (3, 192, 192), (3, 208, 208), (1, 572, 572)],
    "dcgan_generator": [(100, 1, 1), (100, 2, 2), (100,)],
    "dcgan_discriminator": [(3, 64, 64), (3, 96, 96), (3, 224, 224), (3, 193, 193)],
}
DEFAULT = [(3, 224, 224), (3, 193, 193), (3, 193, 211), (3, 299, 299)]


def _shapes(name, model):
    chosen = []
    for shape in NATURAL.get(name, DEFAULT):
        try:
            sc.analyze(model, shape)
        except SymcnnError:
            continue
        chosen.append(shape)
        if len(chosen) == 2:
            break
    return chosen


def torch_figures(module, shape, device="cpu"):
    """(output shape without batch, parameters, MACs = FlopCounterMode total / 2) of one forward pass."""
    module = module.eval()
    x = torch.zeros((1, *shape), device=device)
    with FlopCounterMode(display=False) as counter, torch.no_grad(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Using padding='same'")  # torch's note on even kernels
        y = module(x)
    return tuple(y.shape[1:]), sum(p.numel() for p in module.parameters()), counter.get_total_flops() // 2


def engine_figures(model, shape):
    a = sc.analyze(model, shape)
    return tuple(int(v) for v in a.output_shape), int(a.params), int(a.macs)


@pytest.mark.parametrize("name", sc.models.names())
def test_zoo_model_matches_torch(name):
    model = sc.models.get(name)
    shapes = _shapes(name, model)
    assert shapes, f"{name}: none of the candidate input shapes is valid"
    with torch.device("meta"):
        module = sc.to_torch(model)
    for shape in shapes:
        assert torch_figures(module, shape, "meta") == engine_figures(model, shape), (name, shape)


def test_real_forward_on_cpu():
    """The meta device proves shapes and counts; here actual arithmetic runs (LeNet-5 and a ResNet-18)."""
    torch.manual_seed(0)
    for model, shape in ((sc.models.lenet5(), (1, 32, 32)), (sc.models.resnet18(), (3, 67, 45))):
        module = sc.to_torch(model)
        assert torch_figures(module, shape) == engine_figures(model, shape)
        y = module(torch.randn(2, *shape))
        assert torch.isfinite(y).all()


def test_names_and_structure():
    m = sc.to_torch(sc.models.resnet18())
    assert isinstance(m, nn.Sequential)
    names = dict(m.named_modules())
    for path in ("conv1", "layer1.0.conv1", "layer2.0.downsample.0", "layer4.1.bn2", "fc"):
        assert path in names
    assert isinstance(names["layer2.0.downsample.0"], nn.Conv2d)
    conv = names["layer2.0.conv1"]
    assert (conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding) == (
        64, 128, (3, 3), (2, 2), (1, 1))
    assert conv.bias is None
    lenet = dict(sc.to_torch(sc.models.lenet5()).named_children())
    assert list(lenet)[:3] == ["C1", "C1_act", "S2"]  # a "." in a symcnn name becomes "_"


def _graph(*build):
    """A Graph from (layer, input indices) steps; index 0 is the input."""
    nodes = [sc.Input()]
    for layer, refs in build:
        nodes.append(layer(*[nodes[i] for i in refs]))
    return sc.Graph(nodes[0], nodes[-1])


LAYERS = [
    (sc.Conv2d(4, 6, 3, stride=2, padding=((1, 2), (0, 1))), (4, 11, 12)),
    (sc.Conv2d(4, 6, 4, stride=3, padding="tf_same", dilation=2), (4, 11, 13)),
    (sc.Conv2d(4, 6, 3, padding="tf_same"), (4, 6, 5)),  # TF's SAME at stride 1: PyTorch's "same"
    (sc.Conv2d(4, 6, 4, stride=2, padding="same_lower"), (4, 9, 8)),  # ONNX's SAME_LOWER: the odd pixel first
    (sc.Conv2d(4, 6, 5, padding="same", padding_mode="reflect"), (4, 6, 5)),  # PyTorch's "same" takes any mode
    (sc.Conv2d(4, 6, 4, padding="same"), (4, 10, 7)),
    (sc.Conv2d(4, 6, 3, padding="full", dilation=2, groups=2), (4, 6, 7)),
    (sc.Conv1d(4, 6, 3, padding=((2, 1),), padding_mode="reflect"), (4, 9)),
    (sc.Conv3d(2, 4, (1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1), bias=False), (2, 3, 9, 8)),
    (sc.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2, dilation=1), (4, 5, 6)),
    (sc.ConvTranspose1d(4, 2, 4, stride=3, padding=2, dilation=2, output_padding=1), (4, 7)),
    (sc.MaxPool2d(3, 2, padding=1, ceil_mode=True, dilation=1), (3, 10, 9)),
    (sc.MaxPool1d(3, 2, padding=1, dilation=2, ceil_mode=True), (3, 12)),
    (sc.AvgPool2d(3, 2, padding=1, ceil_mode=True, count_include_pad=False), (3, 10, 9)),
    (sc.AvgPool2d(2, divisor_override=3), (3, 10, 9)),
    (sc.AdaptiveAvgPool2d((3, None)), (3, 10, 9)),
    (sc.AdaptiveMaxPool1d(4), (3, 10)),
    (sc.SpatialPyramidPooling((4, 2, 1)), (8, 13, 13)),
    (sc.Sequential(sc.Flatten(), sc.Linear(3 * 4 * 5, 7)), (3, 4, 5)),
    (sc.Linear(5, 7, bias=False), (3, 5)),
    (sc.BatchNorm2d(3), (3, 4, 5)),
    (sc.BatchNorm1d(3, affine=False), (3, 5)),
    (sc.LeakyReLU(0.2), (3, 4)),
    (sc.Softmax(dim=1), (3, 4)),
    (sc.Dropout2d(0.3), (3, 4, 4)),
    (sc.PReLU(3), (3, 4, 4)),
    (sc.Upsample(scale_factor=1.5, mode="bilinear"), (3, 5, 7)),
    (sc.Upsample(size=(9, 4)), (3, 5, 7)),
    (sc.UpsamplingBilinear2d(scale_factor=2), (3, 5, 7)),
    (sc.ZeroPad2d((1, 2, 0, 3)), (3, 5, 7)),
    (sc.ConstantPad1d((2, -1), 0.5), (3, 5)),
    (sc.ReflectionPad2d(1), (3, 5, 7)),
    (sc.ReplicationPad3d((1, 0, 2, 0, 0, 1)), (3, 2, 5, 7)),
    (_graph((sc.Conv2d(3, 3, 3, padding=1), [0]), (sc.Add(), [1, 0]), (sc.Mul(), [2, 1])), (3, 6, 5)),
    (_graph((sc.Conv2d(3, 5, 1), [0]), (sc.MaxPool2d(3, 1, 1), [0]), (sc.Concat(), [1, 2, 0])), (3, 6, 5)),
    (_graph((sc.Conv2d(3, 5, 3), [0]), (sc.Conv2d(5, 2, 3), [1]), (sc.CropConcat(), [0, 1, 2])), (3, 11, 10)),
    (sc.Subsampling2d(6), (6, 28, 28)),
    (sc.ConnectionTableConv2d(6, 16, 5, table=sc.LENET5_C3_TABLE), (6, 14, 14)),
    (sc.RBF(84, 10), (84,)),
]


@pytest.mark.parametrize(("layer", "shape"), LAYERS, ids=[repr(layer)[:40] for layer, _ in LAYERS])
def test_layer_matches_torch(layer, shape):
    module = sc.to_torch(layer)
    assert torch_figures(module, shape) == engine_figures(layer, shape)


def test_crop_concat_crops_the_centre():
    x = torch.arange(7.0).view(1, 1, 7)
    y = torch.zeros(1, 1, 3)
    out = sc.to_torch(sc.CropConcat())(x, y)
    assert out[0, 0].tolist() == [2.0, 3.0, 4.0]  # offset floor((7 - 3)/2) = 2


def test_shared_layer_is_one_module():
    conv = sc.Conv2d(3, 3, 3, padding=1)
    g = _graph((conv, [0]), (conv, [1]))
    module = sc.to_torch(g)
    assert sum(p.numel() for p in module.parameters()) == sc.analyze(g, (3, 5, 5)).params == 84
    assert torch_figures(module, (3, 5, 5)) == engine_figures(g, (3, 5, 5))


def test_same_padding_module_pads_like_the_engine():
    """SAME at stride 2 pads per input size; the engine's closed form ceil(W/S) holds at each size."""
    layer = sc.Conv1d(1, 1, 4, stride=2, padding="tf_same")
    module = sc.to_torch(layer)
    a = sc.analyze(layer, (1, sc.W))
    for w in range(1, 12):
        assert torch_figures(module, (1, w))[0] == (1, int(a.subs(W=w).output_shape[1]))


@pytest.mark.parametrize(
    ("layer", "pattern"),
    [
        (sc.Conv2d(sc.C, 8, 3), r"to_torch: layer 'Conv2d' \(Conv2d\(C, 8.*`in_channels`=C is symbolic"),
        (sc.Sequential(sc.ReLU(), sc.MaxPool2d(sc.F)),
         r"layer '1' \(MaxPool2d.*`kernel_size`=\(F, F\) is symbolic; a torch module needs numbers"),
        (sc.MaxPool2d(3, padding=((1, 0), (1, 1))), r"asymmetric `padding`=\(\(1, 0\), \(1, 1\)\) has no PyTorch"),
        (sc.MaxPool2d(2, return_indices=True), r"`return_indices`=True returns a tuple"),
        (sc.Opaque(output_shape=lambda s: s, params=0, macs=0, name="se"), r"Opaque layer has formulas but no"),
    ],
)
def test_refusals(layer, pattern):
    with pytest.raises(SymcnnError, match=pattern):
        sc.to_torch(layer)


def test_not_a_model():
    with pytest.raises(SymcnnError, match=r"to_torch: `model` is a int; expected a symcnn layer"):
        sc.to_torch(3)


def test_missing_torch_is_a_clear_error(monkeypatch):
    import symcnn.interop.torch as interop

    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now raises ImportError
    interop._custom.cache_clear()
    try:
        with pytest.raises(SymcnnError, match=r"PyTorch is not installed.*pip install symcnn\[torch\]"):
            sc.to_torch(sc.ReLU())
    finally:
        interop._custom.cache_clear()


def test_import_symcnn_does_not_import_torch():
    import subprocess

    code = "import sys, symcnn; symcnn.analyze(symcnn.models.resnet18(), (3, 64, 64)); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_symbolic_quantities_untouched():
    """to_torch needs numbers for layer arguments only: the engine stays symbolic in the input size."""
    model = sc.models.resnet18()
    module = sc.to_torch(model)
    a = sc.analyze(model, (3, sc.H, sc.W))
    for h, w in ((64, 64), (97, 131)):
        out = torch_figures(module, (3, h, w))
        assert out[0] == tuple(int(v) for v in a.subs(H=h, W=w).output_shape)
        assert out[2] == int(sympy.sympify(a.macs).xreplace({sc.H: h, sc.W: w}))


def test_same_lower_module_puts_the_odd_pixel_first():
    """ONNX's SAME_LOWER through to_torch: a kernel of two ones over ones pads (1, 0); tf_same pads (0, 1)."""
    x = torch.ones(1, 1, 4)
    for padding, expected in (("same_lower", [1.0, 2.0, 2.0, 2.0]), ("tf_same", [2.0, 2.0, 2.0, 1.0])):
        module = sc.to_torch(sc.Conv1d(1, 1, 2, padding=padding, bias=False))
        with torch.no_grad():
            for w in module.parameters():
                w.fill_(1.0)
            assert module(x)[0, 0].tolist() == expected, padding
