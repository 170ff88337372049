"""The catalog (issue 15): every convolutional torchvision model and a list of timm's, imported with symbolic
(3, H, W) (video: (3, T, H, W)), equal PyTorch at three sizes (H != W among them).

For each model: params = ``sum(p.numel())``; at each size, output shape = torch's and MACs = FlopCounterMode's
total / 2. Torch's figures are computed here, on the ``meta`` device (shapes only, no weights in memory), from the
same module symcnn imports. Every size of every model runs in CI (the meta device makes the heaviest,
regnet_y_128gf, as cheap as the lightest).
"""

from __future__ import annotations

import pytest

import symcnn as sc
from symcnn.interop import catalog

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")

#: known gaps, each with the reason: a strict xfail, so a fix must remove it from here
KNOWN_GAPS: dict[str, str] = {f"timm:{n}": why for n, why in catalog.TIMM_NOT_READ.items()}


def _torch_figures(module, entry, size):
    from torch.utils.flop_counter import FlopCounterMode

    x = torch.zeros((1, 3, *size), device="meta")
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        y = module(x)
    if isinstance(y, dict):
        y = y[entry.output]
    return tuple(y.shape[1:]), counter.get_total_flops()


def _params(entries):
    """Each entry as a test case; a known gap is a strict xfail (it fails the run once it passes)."""
    def key(e):
        return e.name if e.library == "torchvision" else f"{e.library}:{e.name}"

    slow = {f"timm:{n}": why for n, why in catalog.TIMM_SLOW.items()}
    return [pytest.param(e, id=e.name, marks=pytest.mark.xfail(strict=True, reason=KNOWN_GAPS[key(e)]))
            if key(e) in KNOWN_GAPS else pytest.param(e, id=e.name, marks=pytest.mark.skip(reason=slow[key(e)]))
            if key(e) in slow else pytest.param(e, id=e.name) for e in entries]


def _check(entry):
    module = entry.build()
    net = entry.import_model(module)
    a = sc.analyze(net, entry.input_shape)
    assert a.params == sum(p.numel() for p in module.parameters())
    for size in entry.sizes:
        shape, flops = _torch_figures(module, entry, size)
        at = a.subs(**entry.substitution(size))
        assert tuple(at.output_shape) == shape, size
        assert 2 * at.macs == flops, size


TORCHVISION = catalog.entries("torchvision") if torchvision else []


@pytest.mark.parametrize("entry", _params(TORCHVISION))
def test_torchvision_catalog(entry):
    _check(entry)


def test_the_catalog_is_the_whole_torchvision_list():
    names = {e.name for e in TORCHVISION}
    from torchvision import models

    every = set(models.list_models(module=models)) | set(models.list_models(module=models.segmentation)) | set(
        models.list_models(module=models.video))
    transformers = {e.name for e in catalog.entries("torchvision", convolutional=False)}
    quantizable = set(catalog.TORCHVISION_QUANTIZABLE)
    assert quantizable <= set(models.list_models(module=models.quantization))
    assert (names - quantizable) | transformers == every and not names & transformers
    assert len(names) >= 75


@pytest.mark.parametrize("entry", catalog.entries("torchvision", convolutional=False)[:4], ids=lambda e: e.name)
def test_transformers_are_refused_in_one_clear_line(entry):
    with pytest.raises(sc.SymcnnError, match="from_torch") as info:
        entry.import_model()
    assert "object at 0x" not in str(info.value)


@pytest.mark.parametrize("entry", _params(catalog.entries("timm")))
def test_timm_catalog(entry):
    pytest.importorskip("timm")
    _check(entry)


def test_timm_list_is_long_enough():
    assert len(catalog.TIMM_MODELS) >= 40 and len(set(catalog.TIMM_MODELS)) == len(catalog.TIMM_MODELS)


def test_a_catalog_model_on_the_cpu_equals_its_meta_twin():
    entry = next(e for e in TORCHVISION if e.name == "mobilenet_v3_small")
    cpu, meta = entry.import_model(entry.build("cpu")), entry.import_model()
    a, b = sc.analyze(cpu, entry.input_shape), sc.analyze(meta, entry.input_shape)
    assert (a.params, a.macs, a.output_shape) == (b.params, b.macs, b.output_shape)


def test_catalog_refuses_an_unknown_library():
    with pytest.raises(sc.SymcnnError, match="library"):
        catalog.entries("keras")
