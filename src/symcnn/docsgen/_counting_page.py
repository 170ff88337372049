r"""The counting-conventions page: how each FLOP/MAC tool counts, and what each prints for the zoo at 224.

Every number and formula on the page is computed by :func:`symcnn.count` when the page is rendered; the rule
texts are the docstrings of the rule methods (:func:`symcnn.conventions`), so the page cannot drift from the
code. Formulas are display math outside tables (pipes in a table cell would break ``\left|``).

>>> pages = render(models=("resnet18",))
>>> list(pages)
['reference/counting.md']
>>> "| resnet18 | 1.814 |" in pages["reference/counting.md"]   # torchvision's published 1.814 GFLOPS
True
"""

from __future__ import annotations

import sympy

from .. import models as zoo
from .._analysis import analyze
from .._errors import SymcnnError
from .._symbols import C, F, H, K, P, S, W
from ..counting import _rules, conventions, count
from ..layers import BatchNorm2d, Conv2d, ConvTranspose2d, ReLU
from ._core import Page, md_escape

__all__ = ["render", "page", "PATH"]

PATH = "reference/counting.md"

#: the spatial size each zoo model is compared at; models defined for another input are left out
_SIZE = 224
_OTHER_SIZES = {"lenet5", "unet", "dcgan_generator", "dcgan_discriminator"}


def _zoo_names() -> tuple[str, ...]:
    return tuple(n for n in zoo.names() if n not in _OTHER_SIZES)


def _g(value) -> str:
    """Giga with three decimals, as torchvision prints them."""
    return f"{int(value) / 1e9:.3f}"


def _m(value) -> str:
    return f"{int(value) / 1e6:+.2f} M"


def _kinds_breakdown(analysis, convention: str) -> str:
    """Per layer kind, what the convention adds to (or removes from) the torchvision count, in millions."""
    base, rules = _rules("torchvision"), _rules(convention)
    extra: dict[str, int] = {}
    for rec in analysis.layers:
        diff = int(rules.count_record(rec) - base.count_record(rec))
        if diff:
            extra[rec.kind] = extra.get(rec.kind, 0) + diff
    if not extra:
        return "none"
    return "; ".join(f"{k} {_m(v)}" for k, v in sorted(extra.items(), key=lambda kv: -abs(kv[1])))


def _formulas(p: Page, descs) -> None:
    p.add("## One layer under every convention", "")
    p.para("The same layers, symbolic in the input size, counted by `symcnn.count` under each convention "
           "(stride S, padding P, kernel F, C_in input and C_out output channels, as on the notation page). "
           "The convolution has a bias, so ptflops and torchinfo add one addition per output element.")
    conv = Conv2d(C, K, F, stride=S, padding=P)
    up = ConvTranspose2d(C, K, F, stride=S, bias=False)
    for d in descs:
        p.add(f"**{d.name}** ({d.unit})", "")
        p.formula(r"\text{Conv2d}", sympy.factor_terms(count(conv, (C, H, W), d.name)))
        p.formula(r"\text{ConvTranspose2d}", sympy.factor_terms(count(up, (C, H, W), d.name)))
        bn = count(BatchNorm2d(C), (C, H, W), d.name)
        relu = count(ReLU(), (C, H, W), d.name)
        p.formula(r"\text{BatchNorm2d}", bn)
        p.formula(r"\text{ReLU}", relu)


def _tool_sections(p: Page, descs) -> None:
    p.add("## How each tool counts", "")
    for d in descs:
        p.add(f"### {d.name}", "")
        p.para(f"Reproduces: `{d.tool}` ({md_escape(d.version)}); unit: **{d.unit}**.")
        p.para(md_escape(d.summary))
        p.table(["layer kinds", "rule"], [[md_escape(kinds), md_escape(text)] for kinds, text in d.rules.items()])
        p.para("Refused (no rule; `count` raises instead of counting 0): " + ", ".join(d.refused) + ".")


def _zoo_tables(p: Page, descs, names) -> None:
    p.add(f"## The zoo at {_SIZE} x {_SIZE}", "")
    p.para("Totals in G (10^9) of each convention's unit, computed by `symcnn.count` and checked against the "
           "tools themselves by the project's test suite (resnet50, vgg16_bn, mobilenet_v2, densenet121 on their "
           "`symcnn.to_torch` twins, at 224 and at 193 x 257). `flop_counter` counts FLOPs (2 per "
           "multiply-accumulate); every other column counts MACs.")
    analyses = {}
    for name in names:
        try:
            analyses[name] = analyze(zoo.get(name), (3, _SIZE, _SIZE))
        except SymcnnError:
            continue
    head = ["model"] + [d.name for d in descs]
    rows = [[name] + [_g(count(a, convention=d.name)) for d in descs] for name, a in analyses.items()]
    p.table(head, rows)
    p.add("### Where the differences come from", "")
    p.para("Per layer kind, what each convention adds to the torchvision count (millions of its unit; "
           "`flop_counter` doubles everything, so its row is the torchvision count again).")
    others = [d for d in descs if d.name != "torchvision"]
    rows = []
    for name, a in analyses.items():
        for d in others:
            rows.append([name, d.name, md_escape(_kinds_breakdown(a, d.name))])
    p.table(["model", "convention", "difference from torchvision, by layer kind"], rows)
    p.para("Reasons, in short: fvcore adds batch norm (2 per element in eval mode) and the input of the "
           "adaptive average pooling; thop counts batch norm at 4 per element, adaptive pooling at `(kernel + 1)` "
           "per output, and transposed convolutions per output position; ptflops' default backend adds the "
           "bias of every convolution and linear layer, batch norm at 2 per element, and counts ReLU and "
           "every pooling twice (module hook and patched functional; ReLU6 once, because `nn.ReLU6` calls "
           "the unpatched `hardtanh`); its aten backend adds only the biases; torchinfo adds the biases and "
           "`2C` per batch norm layer (its parameters, not its elements). Residual `+` and `torch.cat` count 0 "
           "in every tool.")
    p.para("These are the totals of symcnn's twins (`symcnn.to_torch`: one module per layer). torchvision's own "
           "definitions call some layers functionally (mobilenet_v2 and densenet121 pool with "
           "`F.adaptive_avg_pool2d`, densenet121 applies its last ReLU with `F.relu`, residual blocks add with "
           "`+=`), which the hook-based tools see differently: thop and torchinfo count nothing for a "
           "functional call, ptflops counts a patched functional call once instead of twice, so those columns "
           "can differ slightly for the torchvision originals.")
    p.para("Known limits, where a tool's number is not an exact function of the sizes: thop computes adaptive "
           "average pooling as `int((prod(In/Out) + 1) * numel(out))` in floating point, so when `In/Out` is not "
           "an integer it can print 1 less per layer than the exact value `count` gives (e.g. 57,855 instead of "
           "57,856 for `AdaptiveAvgPool2d(7)` on 512 x 8 x 8); ptflops truncates non-integer upsampling scales "
           "per axis product and adds float terms before truncating its total, so fractional scale factors can "
           "differ by a few units. The same applies to a model imported with `symcnn.from_torch` when it calls "
           "layers functionally (see above): `count` gives the total of its one-module-per-layer twin (an "
           "imported `tensor * number` or `tensor + number` is a `ScalarOp`, which no tool counts when it is "
           "written with the operators, as the twin writes it).")


def page(models: tuple[str, ...] | None = None) -> Page:
    """The page as a :class:`~symcnn.docsgen._core.Page` (its formulas recorded for the docs tests)."""
    descs = conventions()
    names = _zoo_names() if models is None else tuple(models)
    p = Page(PATH, "Counting tools")
    p.para('"FLOPs" in papers and tools are rarely FLOPs: torchvision\'s published "GFLOPS" are '
           "multiply-accumulates (MACs) of convolutions and linear layers, `torch.utils.flop_counter` counts "
           "two FLOPs per MAC, and fvcore, thop, ptflops and torchinfo each add their own selection of bias, "
           "normalization, activation, pooling and upsampling costs. `symcnn.count(model, shape, convention)` "
           "returns, as a closed form in the input size, the total each tool prints; the per-layer rules below "
           "were read from each tool's installed source and are tested against the tools themselves.")
    p.para("Usage: `symcnn.count(symcnn.models.resnet50(), (3, symcnn.H, symcnn.W), \"fvcore\")`. All counts "
           "are per sample, with the model in eval mode.")
    _formulas(p, descs)
    _tool_sections(p, descs)
    _zoo_tables(p, descs, names)
    return p


def render(models: tuple[str, ...] | None = None) -> dict[str, str]:
    """``{"reference/counting.md": markdown}``; ``models`` restricts the zoo tables (default: all at 224)."""
    p = page(models)
    return {p.path: p.text()}
