"""The catalog page: every convolutional torchvision model read by ``from_torch``, with its params, MACs at one
size and the closed form of its last feature map, computed when the site is built (and the timm list the tests
check).

Rendered only when torchvision is installed; models are built on PyTorch's
``meta`` device (no weights in memory) from :mod:`symcnn.interop.catalog`, the list the tests check against
PyTorch at three sizes each.
"""

from __future__ import annotations

import functools
import importlib.util

from .._analysis import analyze
from .._errors import SymcnnError
from ..interop import catalog
from ..present import number
from ._core import Page, code

__all__ = ["render", "page", "PATH"]

PATH = "reference/catalog.md"
#: the input sizes the MACs column is given at unless a row says otherwise
_USUAL = ((224, 224), (16, 112, 112))
_TASKS = (("classification", "Classification"), ("segmentation", "Segmentation (the `out` head)"),
          ("video", "Video"))


def _shape(shape) -> str:
    return code(tuple(shape))


def _row(entry) -> tuple[list[str] | None, str | None]:
    """The table row of one model, or the first line of symcnn's refusal."""
    try:
        a = analyze(entry.import_model(), entry.input_shape)
    except SymcnnError as e:
        return None, str(e).splitlines()[0]
    size = entry.sizes[0]
    at = a.subs(**entry.substitution(size))
    where = "" if size in _USUAL else " at " + "×".join(str(s) for s in size)
    feature_map = _shape(catalog.last_feature_map(a))
    return [f"`{entry.name}`", number(int(a.params)), number(int(at.macs)) + where, feature_map], None


def _table(p: Page, entries) -> list[tuple[str, str]]:
    refused, rows = [], []
    for e in entries:
        row, why = _row(e)
        if row is None:
            refused.append((e.name, why))
        else:
            rows.append(row)
    if rows:
        p.table(["model", "params", "MACs", "size of the last feature map"], rows)
    return refused


def page() -> Page:
    import torch
    import torchvision

    p = Page(PATH, "Model catalog")
    p.para("`symcnn.from_torch(model, (3, H, W))` reads the convolutional networks of torchvision and timm as "
           "they are built by those libraries (video models with `(3, T, H, W)`), and gives their sizes, "
           "parameters and MACs as formulas in the input size. Each row below is computed from the engine when "
           "this site is built, on torchvision "
           f"{torchvision.__version__.split('+')[0]} and PyTorch {torch.__version__.split('+')[0]} (models built with "
           "`weights=None` on PyTorch's `meta` device). The test suite checks every one against PyTorch: "
           "parameters against `sum(p.numel() for p in model.parameters())`, the output shape against a forward "
           "pass and the MACs against `torch.utils.flop_counter.FlopCounterMode` (FLOPs / 2), at three input "
           "sizes each, one with H ≠ W.")
    p.para("MACs are given at 224×224 (video: 16 frames of 112×112) unless the row names another size. The last "
           "feature map is the output of the last layer whose size still depends on the input (before a "
           "classifier's global pooling; for segmentation models, the output itself): its closed form is where "
           "the network's total stride shows, e.g. ⌈H/32⌉ for a stem of stride-2 convolutions with padding. "
           "Classifiers output `(1000,)` (video: `(400,)`), segmentation models `(21, H, W)`.")
    refused = []
    for task, title in _TASKS:
        entries = [e for e in catalog.entries("torchvision") if e.task == task]
        p.add(f"## torchvision: {title}", "")
        refused += _table(p, entries)
    p.add("## timm", "")
    names = ", ".join(f"`{n}`" for n in catalog.TIMM_MODELS if n not in catalog.TIMM_NOT_READ)
    read = len(catalog.TIMM_MODELS) - len(catalog.TIMM_NOT_READ)
    p.para(f"The tests check {len(catalog.TIMM_MODELS)} models of timm's convolutional families the same way "
           f"(`timm.create_model(name, pretrained=False)`), {read} of them exact: {names}. Their figures are not "
           "computed for this page (it would double the site's build time); `symcnn summary timm:<name>` prints "
           "any of them (and `symcnn summary torchvision:<name>` any model above).")
    p.para("Not read yet (refused with the operation named): " + "; ".join(
        f"`{n}` ({why})" for n, why in catalog.TIMM_NOT_READ.items()) + ".")
    if refused:
        p.add("## Not read yet", "")
        p.para("These models are refused with one error listing each operation symcnn has no formulas for (pass "
               "`custom=` to supply them):")
        p.table(["model", "symcnn's answer"], [[f"`{n}`", why.replace("|", "\\|")] for n, why in refused])
    p.add("## Transformers", "")
    names = ", ".join(f"`{e.name}`" for e in catalog.entries("torchvision", convolutional=False))
    p.para(f"Not convolutional networks, and refused with one line naming the attention operation: {names}.")
    return p


def render() -> dict[str, str]:
    """``{path: markdown}``: the page, or nothing when torchvision is not installed."""
    if importlib.util.find_spec("torchvision") is None or importlib.util.find_spec("torch") is None:
        return {}
    return {PATH: _text()}


@functools.lru_cache(maxsize=1)
def _text() -> str:
    """The page's text, computed once per process (it imports ~80 models; the inputs do not change in between)."""
    return page().text()
