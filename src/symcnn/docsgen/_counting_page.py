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

import json
from pathlib import Path

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
_CATALOG_CONVENTIONS = ("torchvision", "flop_counter", "fvcore", "ptflops", "ptflops_aten", "thop", "torchinfo")


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
        p.para("A layer `symcnn.from_torch` read from a function call, a tensor method or a subclass of a known "
               "module (the rules above are for the exact `torch.nn` module): " + md_escape(d.calls))


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
           "`F.adaptive_avg_pool2d`, mnasnet with `x.mean([2, 3])`, densenet121 applies its last ReLU with "
           "`F.relu`, inception_v3 pools with `F.max_pool2d` and `F.avg_pool2d`, residual blocks add with `+=`), "
           "and the video models use subclasses of `nn.Conv3d`, which the hook-based tools see differently. "
           "`symcnn.from_torch` records on each layer how the model called it, and every convention counts that "
           "form as its tool does (the last paragraph of each tool's section above), so `count` on an imported "
           "model equals the tool run on the original; see the catalog below.")
    p.para("Known limits, where a tool's number is not an exact function of the sizes: thop computes adaptive "
           "average pooling as `int((prod(In/Out) + 1) * numel(out))` in floating point, so when `In/Out` is not "
           "an integer it can print 1 less per layer than the exact value `count` gives (e.g. 57,855 instead of "
           "57,856 for `AdaptiveAvgPool2d(7)` on 512 x 8 x 8); ptflops truncates non-integer upsampling scales "
           "per axis product and adds float terms before truncating its total, so fractional scale factors can "
           "differ by a few units. Every other total is integer arithmetic (thop and ptflops add in float64, exact "
           "below 2^53).")


def catalog_path() -> Path:
    """``<repository>/bench/counting_catalog.json`` (written by the catalog benchmark of the repository)."""
    return Path(__file__).resolve().parents[3] / "bench" / "counting_catalog.json"


def _load_catalog(path: Path | None = None) -> dict | None:
    path = path or catalog_path()
    return json.loads(path.read_text()) if path.is_file() else None


def _catalog(p: Page, data: dict | None) -> None:
    """torchvision's catalog: `count` on the imported model against each tool, and what the tools miss (recorded
    figures: the page states the versions and date they were measured with)."""
    p.add("## torchvision's catalog against the tools", "")
    if not data or not data.get("models"):
        p.para("No catalog measurement recorded with this copy of symcnn (the repository's catalog benchmark "
               "writes one).")
        return
    versions = ", ".join(f"{k} {v}" for k, v in data["versions"].items())
    p.para(f"Measured on {data['date']} ({versions}): every convolutional classification model of torchvision "
           "that `symcnn.from_torch` imports, and the video models, imported once with symbolic `(3, H, W)` "
           "(video `(3, T, H, W)`), evaluated at 224 x 224 and 193 x 257 (video 16 x 112 x 112 and 8 x 97 x 129; "
           "s3d 16 x 224 x 224 and 16 x 225 x 257) and compared with each tool run on the torchvision module.")
    rows, off, floats = [], [], []
    for c in _CATALOG_CONVENTIONS:
        n = exact = close = 0
        for m in data["models"]:
            for row in m.get("sizes", []):
                tool, mine = row["tools"].get(c, {}).get("total"), row.get("symcnn", {}).get(c)
                if tool is None or mine is None:
                    continue
                n += 1
                exact += mine == tool
                size = " x ".join(map(str, row["shape"][1:]))
                if c == "thop" and 0 < mine - tool <= row.get("thop_slack", 0):
                    close += 1
                    floats.append(f"{m['model']} at {size} ({mine - tool:+,.0f})")
                elif mine != tool:
                    off.append(f"{m['model']} at {size}, {c}: symcnn {mine:,} vs the tool's {tool:,.0f}")
        rows.append([c, str(n), str(exact), str(close) if c == "thop" else "-"])
    p.table(["convention", "model x size compared", "equal", "within thop's float truncation"], rows)
    if floats:
        p.para("thop below `count` by its float64 truncation of adaptive average pooling (at most 1 per module "
               "whose output size does not divide its input; see the known limits above): " + ", ".join(floats)
               + ".")
    if off:
        p.para("Not equal: " + "; ".join(off) + ".")
    refused = [m["model"] for m in data["models"] if "refused" in m]
    if refused:
        p.para("Not imported by `symcnn.from_torch` at the time (measured for the tools only): "
               + ", ".join(refused) + ".")
    p.add("### What the tools miss", "")
    p.para("Every tool adds its extras to the multiply-accumulates of convolutions and linear layers "
           "(`FlopCounterMode` / 2), so a total below those MACs means the tool missed convolution or linear work; "
           "a parameter count below `sum(p.numel())` means it missed modules. At the first size of each model:")
    miss = []
    for m in data["models"]:
        row = (m.get("sizes") or [{}])[0]
        true = row.get("tools", {}).get("torchvision", {}).get("total")
        if not true:
            continue
        for tool in ("fvcore", "ptflops", "ptflops_aten", "thop", "torchinfo"):
            r = row["tools"].get(tool, {})
            total, params = r.get("total"), r.get("params")
            if (total is not None and total < true) or (params is not None and params < m["params"]):
                shown = "-" if params is None else f"{params:,.0f}"
                miss.append([m["model"], tool, f"{total:,.0f}", f"{true:,}", f"{total / true:.1%}", shown,
                             f"{m['params']:,}"])
    if miss:
        p.table(["model", "tool", "tool's total", "conv + linear MACs", "ratio", "tool's params", "sum(p.numel())"],
                miss)
    p.para("thop and ptflops' default backend hook modules by exact type, so a subclass of `nn.Conv3d` "
           "(torchvision's `Conv3DSimple`, `Conv3DNoTemporal`) is invisible to them; torchinfo counts a layer's "
           "parameters once per sample unless its class name contains \"Conv\", so a linear layer applied at "
           "every position (ConvNeXt's blocks) is counted once. thop's parameter count sums the registered modules "
           "that ran: googlenet and inception_v3 do not call their auxiliary heads in eval mode, and ConvNeXt's "
           "`LayerNorm2d` and layer scale are not registered. `symcnn.count` reproduces these totals under the "
           "tool's convention; `analyze(...).macs` gives the true count.")


def page(models: tuple[str, ...] | None = None, catalog: dict | None = None) -> Page:
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
    _catalog(p, _load_catalog() if catalog is None else catalog)
    return p


def render(models: tuple[str, ...] | None = None) -> dict[str, str]:
    """``{"reference/counting.md": markdown}``; ``models`` restricts the zoo tables (default: all at 224)."""
    p = page(models)
    return {p.path: p.text()}
