"""export_dims: the dynamic_shapes it emits make torch.export succeed first time, the exported program runs at
valid sizes with the shapes symcnn predicts, and refuses sizes outside; a naive Dim range fails to export."""

from __future__ import annotations

import os
import random

import pytest

import symcnn as sc
from symcnn import SymcnnError
from symcnn.interop.dims import AxisDim, ExportDims, check_export, export_dims

torch = pytest.importorskip("torch")
NIGHTLY = os.environ.get("SYMCNN_PROFILE") == "nightly"


def _decoder():
    """A DCGAN-style decoder from a spatial code: transposed convolutions doubling the size."""
    return sc.Sequential(sc.ConvTranspose2d(16, 8, 4, 2, 1, bias=False), sc.BatchNorm2d(8), sc.ReLU(),
                         sc.ConvTranspose2d(8, 3, 4, 2, 1, bias=False), sc.Tanh())


CASES = {
    "resnet18": (sc.models.resnet18, 3),
    "unet": (sc.models.unet, 1),
    "decoder": (_decoder, 16),
}


@pytest.mark.parametrize("name", list(CASES))
def test_export_succeeds_runs_at_valid_sizes_and_refuses_others(name):
    build, c = CASES[name]
    net = build()
    d = export_dims(net, (c, sc.H, sc.W), between=(2, 1024))
    h, w = d.axes
    with torch.device("meta"):
        tm = sc.to_torch(net).eval()
    ep = torch.export.export(tm, (d.example((c, sc.H, sc.W), device="meta"),), dynamic_shapes=d.dynamic_shapes)
    report = check_export(ep, d, net, (c, sc.H, sc.W), rng=random.Random(0), randoms=1, device="meta")
    assert report["sizes"] == 6 and report["compared"] > 6
    assert report["guarded"] == (h.k_max - h.k_min + 1) + (w.k_max - w.k_min + 1)
    run = ep.module()
    outside = h.min - 1 if h.min > 2 else h.max + h.step  # torch does not check a minimum of 2 at run time
    with pytest.raises(Exception, match="Guard failed|is not in range"):
        run(torch.zeros(1, c, outside, w.min, device="meta"))


def test_resnet_minimum_is_where_no_size_is_one():
    d = export_dims(sc.models.resnet50(), (3, sc.H, sc.W))
    h, w = d.axes
    assert (h.min, h.max, h.step, w.min) == (33, 4096, 1, 33)
    text = d.explain()
    assert "H >= 33: below it layer 'layer4.2.relu_out' (output size 1 at 32) is 1" in text
    assert "torch.export specialises sizes 0 and 1" in text


def test_unet_dims_are_a_progression_with_the_layers_that_need_it():
    d = export_dims(sc.models.unet(), (1, sc.H, sc.W), between=(2, 1024))
    h = d.axes[0]
    assert (h.step, h.min % 16, h.min) == (16, 12, 188)
    assert 572 in h and 573 not in h and 172 not in h
    text = d.explain()
    assert "H = 16k + 12" in text and "crop_concat" in text
    assert "at 187: layer 34 'up3.conv2'" in text


def test_a_naive_range_fails_where_the_emitted_one_succeeds():
    net = sc.models.resnet18()
    tm = sc.to_torch(net).eval()
    naive = torch.export.Dim("h", min=2, max=1024)
    with pytest.raises(Exception, match="Constraints violated"):
        torch.export.export(tm, (torch.zeros(1, 3, 64, 64),), dynamic_shapes=({2: naive},))
    d = export_dims(net, (3, sc.H, 64), between=(2, 1024))
    assert len(d.axes) == 1 and d.axes[0].axis == 2
    torch.export.export(tm, (torch.zeros(1, 3, 64, 64),), dynamic_shapes=d.dynamic_shapes)


def test_named_argument_and_repr():
    d = export_dims(_decoder(), (16, sc.H, sc.W), arg_name="x")
    assert set(d.dynamic_shapes) == {"x"}
    assert repr(d) == "ExportDims(2 <= H <= 4096; 2 <= W <= 4096)"


def _export_and_check(module, net, shape, d, randoms=1):
    ep = torch.export.export(module, (d.example(shape, device="meta"),), dynamic_shapes=d.dynamic_shapes)
    return ep, check_export(ep, d, net, shape, rng=random.Random(21), randoms=randoms, device="meta")


def _first_without_size_one(module, high):
    """Brute force with PyTorch: the smallest H from which on (to ``high``) every layer's output H is >= 2."""
    first = None
    for size in range(2, high + 1):
        x, ok = torch.zeros(1, 3, size, 9, device="meta"), True
        try:
            for layer in module.children():
                x = layer(x)
                ok = ok and x.shape[2] >= 2
        except RuntimeError:
            ok = False
        first = None if not ok else (first or size)
    return first


def test_ceil_mode_pools_export_over_the_whole_range():
    """Issue 21: MaxPool2d(2, 2, ceil_mode=True) made torch.export raise 'Constraints violated ... 2*((h - 1)//2)
    < h' on the emitted named Dim. PyTorch checks that the last window starts inside the input; true at every
    size, unprovable by torch's solver: the axis is Dim.DYNAMIC, with the same range, and every size of it runs."""
    net = sc.Sequential(sc.Conv2d(3, 8, 3, padding=1), sc.MaxPool2d(2, 2, ceil_mode=True), sc.Conv2d(8, 8, 3),
                        sc.MaxPool2d(3, 2, ceil_mode=True), sc.AvgPool2d(2, 2, ceil_mode=True, count_include_pad=False),
                        sc.ReLU())
    d = export_dims(net, (3, sc.H, sc.W), between=(2, 400))
    h, w = d.axes
    with torch.device("meta"):
        tm = sc.to_torch(net).eval()
    assert h.dynamic and w.dynamic and h.step == 1 and (h.min, h.max) == (_first_without_size_one(tm, 400), 400)
    assert "layer '1' (and 2 more) pools with ceil_mode and stride 2" in d.explain()
    assert "(out - 1)*stride < in + pad" in d.explain()
    naive = ({2: torch.export.Dim("h", min=h.min, max=h.max)},)
    # torch 2.14 sometimes fails while writing its suggested fixes for that violation ("Expected op to be '=='")
    with pytest.raises(Exception, match="Constraints violated|Expected op to be '=='"):
        torch.export.export(tm, (d.example((3, sc.H, sc.W), device="meta"),), dynamic_shapes=naive)
    _, report = _export_and_check(tm, net, (3, sc.H, sc.W), d)
    assert report["guarded"] == 2 * (h.max - h.min + 1)


def test_a_ceil_pool_whose_last_window_can_drop_is_exported_on_one_progression():
    """MaxPool2d(2, 2, padding=1, ceil_mode=True): PyTorch drops the last window at odd sizes only, so one
    range cannot be exported (Dim.DYNAMIC would keep the guard of the traced parity and refuse the other): the
    sizes where the division is exact, H = 2k - 2 with k >= 2 (torch specialises the root dim at 0 and 1 too)."""
    net = sc.Sequential(sc.Conv2d(3, 4, 3, padding=1), sc.MaxPool2d(2, 2, padding=1, ceil_mode=True))
    d = export_dims(net, (3, sc.H, sc.W), between=(2, 300))
    h = d.axes[0]
    assert (h.step, h.offset, h.k_min, h.min, h.max, h.dynamic) == (2, -2, 2, 2, 300, False)
    assert "H = 2k - 2, 2 <= k <= 151" in repr(d)
    assert "layer '1' pools with ceil_mode where PyTorch drops the last window at some sizes only" in d.explain()
    assert "k >= 2 (H = 2k - 2)" in d.explain()
    with torch.device("meta"):
        tm = sc.to_torch(net).eval()
    _export_and_check(tm, net, (3, sc.H, sc.W), d, randoms=3)


def test_named_dims_where_torch_proves_them_and_dynamic_where_it_cannot():
    d = export_dims(sc.models.resnet18(), (3, sc.H, 64), between=(2, 512), named=True)
    assert not d.axes[0].dynamic and "Dim.DYNAMIC" not in d.explain()
    assert d.dynamic_shapes[0][2].__name__ == "h"
    d = export_dims(sc.models.squeezenet1_1(), (3, sc.H, sc.W), named=True)
    assert all(a.dynamic for a in d.axes) and "Dim.DYNAMIC(min=33, max=4096), not a named Dim" in d.explain()


def test_check_export_finds_a_size_below_the_true_minimum():
    """A Dim.DYNAMIC range below what the network allows exports without a word (torch keeps its guards
    ``size != 1`` as checks in the program): the guards run at every size of the range find it."""
    net = sc.models.resnet18()
    with torch.device("meta"):
        tm = sc.to_torch(net).eval()
    wrong = ExportDims((AxisDim(sc.H, 2, 1, 0, 2, 512, (), dynamic=True),), None)
    ep = torch.export.export(tm, (torch.zeros(1, 3, 64, 64, device="meta"),), dynamic_shapes=wrong.dynamic_shapes)
    with pytest.raises(SymcnnError, match=r"H=2 is in the emitted range, but the exported program refuses it: "
                                          r"Guard failed: .* != 1"):
        check_export(ep, wrong, net, (3, sc.H, 64), device="meta")


def test_check_export_finds_a_size_the_program_refuses():
    """The same live ceil pool given one Dim.DYNAMIC range: torch keeps the guard of the traced parity, and the
    guards run at every size of the range find the first size of the other parity."""
    net = sc.Sequential(sc.Conv2d(3, 4, 3, padding=1), sc.MaxPool2d(2, 2, padding=1, ceil_mode=True))
    with torch.device("meta"):
        tm = sc.to_torch(net).eval()
    wrong = ExportDims((AxisDim(sc.H, 2, 1, 0, 4, 100, (), dynamic=True),), None)
    ep = torch.export.export(tm, (torch.zeros(1, 3, 20, 8, device="meta"),), dynamic_shapes=wrong.dynamic_shapes)
    with pytest.raises(SymcnnError, match="H=5 is in the emitted range, but the exported program refuses it: "
                                          "Guard failed"):
        check_export(ep, wrong, net, (3, sc.H, 8), device="meta")


#: torchvision's own modules (meta device): ceil_mode pools (squeezenet, googlenet), odd sizes (inception_v3)
CATALOG_SAMPLE = {"squeezenet1_1": (2, 512), "googlenet": (2, 512), "resnet18": (2, 160),
                  "inception_v3": (75, 400)}


@pytest.mark.parametrize("name", list(CATALOG_SAMPLE))
def test_catalog_sample_exports_first_time(name):
    pytest.importorskip("torchvision")
    from symcnn.interop import catalog

    entry = next(e for e in catalog.entries("torchvision") if e.name == name)
    module = entry.build()
    net = entry.import_model(module)
    d = export_dims(net, entry.input_shape, between=CATALOG_SAMPLE[name])
    _, report = _export_and_check(module, net, entry.input_shape, d)
    assert report["compared"] > report["sizes"]


@pytest.mark.parametrize("kwargs, match", [
    ({"input_shape": (3, 224, 224)}, r"has no symbolic spatial size"),
    ({"input_shape": (3, sc.H, sc.W), "between": (5, 3)}, r"leaves no size >= 2"),
    ({"input_shape": (3, sc.H, sc.W), "between": "big"}, r"must be a pair of ints"),
    ({"input_shape": (3, sc.H, sc.W), "exact": "yes"}, r"`exact`='yes' must be None, True or False"),
    ({}, r"give input_shape=\(C, H, W\)"),
    ({"input_shape": (3, sc.H, sc.W), "named": "yes"}, r"`named`='yes' must be True or False"),
    ({"input_shape": (3, sc.H, sc.H)}, r"uses one symbol for two axes"),
])
def test_bad_arguments_are_refused(kwargs, match):
    with pytest.raises(SymcnnError, match=match):
        export_dims(sc.models.resnet18(), **kwargs)
