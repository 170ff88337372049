"""export_dims: the dynamic_shapes it emits make torch.export succeed first time, the exported program runs at
valid sizes with the shapes symcnn predicts, and refuses sizes outside; a naive Dim range fails to export."""

from __future__ import annotations

import os

import pytest

import symcnn as sc
from symcnn import SymcnnError
from symcnn.interop.dims import export_dims

torch = pytest.importorskip("torch")
NIGHTLY = os.environ.get("SYMCNN_PROFILE") == "nightly"


def _decoder():
    """A DCGAN-style decoder from a spatial code: transposed convolutions doubling the size."""
    return sc.Sequential(sc.ConvTranspose2d(16, 8, 4, 2, 1, bias=False), sc.BatchNorm2d(8), sc.ReLU(),
                         sc.ConvTranspose2d(8, 3, 4, 2, 1, bias=False), sc.Tanh())


CASES = {
    "resnet50": (sc.models.resnet50, 3),
    "unet": (sc.models.unet, 1),
    "decoder": (_decoder, 16),
}


@pytest.mark.parametrize("name", list(CASES))
def test_export_succeeds_runs_at_valid_sizes_and_refuses_others(name):
    build, c = CASES[name]
    net = build()
    d = export_dims(net, (c, sc.H, sc.W), between=(2, 1024))
    h, w = d.axes
    tm = sc.to_torch(net).eval()
    ep = torch.export.export(tm, (torch.zeros(1, c, h.min, w.min + w.step),), dynamic_shapes=d.dynamic_shapes)
    run = ep.module()
    a = sc.analyze(net, (c, sc.H, sc.W))
    for hh, ww in [(h.min, w.max), (h.min + 3 * h.step, w.min), (h.max, w.min + w.step)]:
        assert hh in h and ww in w
        assert tuple(run(torch.zeros(1, c, hh, ww)).shape[1:]) == a.subs(H=hh, W=ww).output_shape
    outside = h.min - 1 if h.min > 2 else h.max + h.step  # torch does not check a minimum of 2 at run time
    with pytest.raises(Exception, match="Guard failed"):
        run(torch.zeros(1, c, outside, w.min))


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


@pytest.mark.parametrize("kwargs, match", [
    ({"input_shape": (3, 224, 224)}, r"has no symbolic spatial size"),
    ({"input_shape": (3, sc.H, sc.W), "between": (5, 3)}, r"leaves no size >= 2"),
    ({"input_shape": (3, sc.H, sc.W), "between": "big"}, r"must be a pair of ints"),
    ({"input_shape": (3, sc.H, sc.W), "exact": "yes"}, r"`exact`='yes' must be None, True or False"),
    ({}, r"give input_shape=\(C, H, W\)"),
])
def test_bad_arguments_are_refused(kwargs, match):
    with pytest.raises(SymcnnError, match=match):
        export_dims(sc.models.resnet18(), **kwargs)
