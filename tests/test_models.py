"""Published figures reproduced by the engine from the zoo's layers (never typed in as answers)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import symcnn as sc
from symcnn import H, W


def test_lenet5_per_layer_and_totals():
    a = sc.analyze(sc.models.lenet5(), (1, 32, 32))
    rows = {r.name: (tuple(r.output_shape), r.params, r.connections) for r in a.layers if "." not in r.name}
    assert rows == {
        "C1": ((6, 28, 28), 156, 122_304),
        "S2": ((6, 14, 14), 12, 5_880),
        "C3": ((16, 10, 10), 1_516, 151_600),
        "S4": ((16, 5, 5), 32, 2_000),
        "C5": ((120, 1, 1), 48_120, 48_120),
        "flatten": ((120,), 0, 0),
        "F6": ((84,), 10_164, 10_164),
        "OUTPUT": ((10,), 0, 840),
    }
    assert (a.params, a.connections) == (60_000, 340_908)
    dense_c3 = sc.analyze(sc.Conv2d(6, 16, 5), (6, 14, 14))
    assert (dense_c3.params, dense_c3.connections) == (2_416, 241_600)


def test_vgg16_per_layer_parameters():
    a = sc.analyze(sc.models.vgg16(), (3, 224, 224))
    convs = [r.params for r in a.layers if r.kind == "Conv2d"]
    assert convs == [1_792, 36_928, 73_856, 147_584, 295_168, 590_080, 590_080, 1_180_160] + [2_359_808] * 5
    assert sum(convs) == 14_714_688
    fcs = [r.params for r in a.layers if r.kind == "Linear"]
    assert fcs == [102_764_544, 16_781_312, 4_097_000]
    assert a["flatten"].output_shape == (25_088,)
    assert a.params == 138_357_544


# torchvision meta (FORMULAS.md §6.1): num_params and exact conv+linear MACs at 224x224
@pytest.mark.parametrize(
    ("name", "params", "macs"),
    [
        ("alexnet", 61_100_840, 714_188_480),
        ("vgg11", 132_863_336, 7_609_090_048),
        ("vgg11_bn", 132_868_840, 7_609_090_048),
        ("vgg13", 133_047_848, None),
        ("vgg13_bn", 133_053_736, None),
        ("vgg16", 138_357_544, 15_470_264_320),
        ("vgg16_bn", 138_365_992, 15_470_264_320),
        ("vgg19", 143_667_240, 19_632_062_464),
        ("vgg19_bn", 143_678_248, 19_632_062_464),
        ("resnet18", 11_689_512, 1_814_073_344),
        ("resnet34", 21_797_672, 3_663_761_408),
        ("resnet50", 25_557_032, 4_089_184_256),
        ("resnet101", 44_549_160, 7_801_405_440),
        ("resnet152", 60_192_808, 11_513_626_624),
    ],
)
def test_torchvision_figures(name, params, macs):
    a = sc.analyze(sc.models.get(name), (3, 224, 224))
    assert a.params == params
    if macs is not None:
        assert a.macs == macs


def test_vgg16_symbolic_closed_forms_hold_at_other_sizes():
    m = sc.models.vgg16()
    sym = sc.analyze(m, (3, H, W))
    assert sc.pretty(sc.analyze(m.features, (3, H, W)).output_shape[1]) == "floor(H/32)"
    for h, w in ((224, 224), (320, 256), (97, 411)):
        num = sc.analyze(m, (3, h, w))
        got = sym.subs(H=h, W=w)
        assert (got.macs, got.flops, got.activations, got.params) == (num.macs, num.flops, num.activations,
                                                                      num.params)
    with pytest.raises(sc.SymcnnError, match="false for H=31"):
        sym.subs(H=31, W=224)


def test_vgg16_receptive_field_matches_published_table():
    rf = sc.analyze(sc.models.vgg16().features, (3, 224, 224)).receptive_field
    assert (rf.size, rf.stride, rf.padding) == ((212, 212), (32, 32), (90, 90))


def test_alexnet_receptive_field_matches_published_table():
    rf = sc.analyze(sc.models.alexnet().features, (3, 224, 224)).receptive_field
    assert (rf.size, rf.stride) == ((195, 195), (32, 32))


def test_registry():
    assert "lenet5" in sc.models.names() and "vgg19_bn" in sc.models.names()
    with pytest.raises(sc.SymcnnError, match="unknown model 'vgg17'"):
        sc.models.get("vgg17")


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "symcnn.cli", *args], capture_output=True, text=True, timeout=120)


def test_cli_summary_and_bad_input():
    r = _cli("summary", "vgg16")
    assert r.returncode == 0, r.stderr
    assert "floor(W/32)" in r.stdout and "138357544" in r.stdout
    r = _cli("summary", "lenet5")
    assert r.returncode == 0 and "340908" in r.stdout
    r = _cli("summary", "vgg16", "--subs", "H=224,W=224")
    assert r.returncode == 0 and "15470264320" in r.stdout
    r = _cli("summary", "vgg16", "--subs", "H=__import__('os').system('echo pwned')")
    assert r.returncode == 2 and "pwned" not in r.stdout + r.stderr.replace("echo pwned", "")
    assert "Traceback" not in r.stderr and "must look like NAME=INTEGER" in r.stderr
    r = _cli("summary", "nope")
    assert r.returncode == 2 and "unknown model 'nope'" in r.stderr


@pytest.mark.parametrize(("name", "bn_affine"), [("resnet18", 9_600), ("resnet50", 53_120), ("vgg16_bn", 8_448)])
def test_batchnorm_affine_parameters(name, bn_affine):
    a = sc.analyze(sc.models.get(name), (3, 224, 224))
    assert sum(r.params for r in a.layers if r.kind == "BatchNorm2d") == bn_affine


def test_resnet50_closed_forms():
    m = sc.models.resnet50()
    a = sc.analyze(m, (3, H, W))
    feat = sc.analyze(m.features, (3, H, W))
    assert [sc.pretty(v) for v in feat.output_shape[1:]] == ["ceil(H/32)", "ceil(W/32)"]
    assert a["layer1.0.conv1"].kind == "Conv2d" and a["layer4.2.add"].kind == "Add"
    for h, w in ((224, 224), (320, 257), (33, 65)):
        assert a.subs(H=h, W=w).macs == sc.analyze(m, (3, h, w)).macs
    rf = sc.analyze(m.features, (3, 224, 224)).receptive_field
    assert rf.stride == (32, 32) and rf.aligned is True
