"""Model pages: every zoo model's closed forms and per-layer table, plus the walk-throughs (LeNet-5, VGG16,
ResNet-50, U-Net, DCGAN) whose figures are those the tutorials print, computed here by the engine.

Pages exist for the models :func:`symcnn.models.names` lists when the site is built: a model added to the zoo
gets its page on the next build.
"""

from __future__ import annotations

import functools

import sympy

from .. import models
from .._analysis import analyze
from .._errors import SymcnnError
from .._symbols import H, W
from ..solve import valid_input_sizes
from ._core import Page, code

__all__ = ["render_models", "model_input", "TYPICAL_SIZE"]

#: the spatial size each model is shown at (224 unless the model is defined for another input)
TYPICAL_SIZE = {"lenet5": 32, "unet": 572, "dcgan_generator": 1, "dcgan_discriminator": 64}


def _first_channels(model) -> int:
    """Input channels declared by the first layer that has them (pooling keeps the channels)."""
    stack = [model]
    while stack:
        m = stack.pop(0)
        for attr in ("in_channels", "in_features", "num_features"):
            v = getattr(m, attr, None)
            if v is not None:
                return int(v)
        children = list(getattr(m, "_modules", {}).values()) if hasattr(m, "_modules") else []
        if not children and hasattr(m, "__iter__") and not isinstance(m, (str, bytes)):
            try:
                children = list(m)
            except TypeError:
                children = []
        if not children and hasattr(m, "_order"):
            children = [n.module for n in m._order if n.module is not None]
        stack[:0] = children
    raise SymcnnError(f"docs: cannot find the input channels of {type(model).__name__}")


@functools.cache
def model_input(name: str):
    """(model, symbolic analysis or None, numeric analysis, typical size) for a zoo model (cached: the models
    and plots pages share it)."""
    model = models.get(name)
    cin = _first_channels(model)
    t = TYPICAL_SIZE.get(name, 224)
    try:
        sym = analyze(model, (cin, H, W))
        num = sym.subs(H=t, W=t)
    except SymcnnError:  # the model fixes its input size (LeNet-5: C5 must produce 1x1)
        sym = None
        num = analyze(model, (cin, t, t))
    return model, sym, num, t


def _n(x) -> str:
    return f"{int(x):,}" if isinstance(x, (int, sympy.Integer)) or getattr(x, "is_Integer", False) else code(x)


def _rf(r) -> str:
    size = r.receptive_field.size
    return code(tuple(size)) if size else "-"


def _closed_forms(page: Page, a) -> None:
    page.add("## Closed forms", "")
    page.para(f"Input `{a.input_shape!r}`; every quantity as a function of the input size.")
    page.formula(r"\text{output shape}", tuple(a.output_shape))
    for key, lhs in (("params", r"\text{params}"), ("macs", r"\text{MACs}"), ("flops", r"\text{FLOPs}"),
                     ("activations", r"\text{activations}")):
        page.formula(lhs, getattr(a, key))
    rf = a.receptive_field
    if rf.size:
        page.formula(r"r", tuple(rf.size))
        page.formula(r"j", tuple(rf.stride))
    if a.conditions:
        page.para(f"Validity conditions ({len(a.conditions)}):")
        for c in a.conditions[:12]:
            page.formula("", c.relation)
        if len(a.conditions) > 12:
            page.para(f"... and {len(a.conditions) - 12} more (`symcnn.analyze(...).constraints`).")


def _table(page: Page, sym, num, t: int) -> None:
    page.add("## Per-layer table", "")
    page.para(f"Symbolic columns in H, W; numeric columns at {t}x{t}. Parameters of a shared layer are counted "
              "once.")
    head = ["#", "name", "kind", "output", f"output at {t}", "params", "MACs", f"MACs at {t}", f"RF at {t}"]
    rows = []
    for k, r in enumerate(num.layers):
        s = sym.layers[k] if sym is not None else None
        rows.append([str(r.index), f"`{r.name}`", r.kind, code(tuple(s.output_shape)) if s else "-",
                     code(tuple(r.output_shape)), _n(r.params), code(s.macs) if s else "-", _n(r.macs), _rf(r)])
    rows.append(["", "**total**", "", code(tuple(sym.output_shape)) if sym else "-", code(tuple(num.output_shape)),
                 _n(num.params), code(sym.macs) if sym else "-", _n(num.macs), _rf(num.layers[-1])])
    page.table(head, rows)


def _totals(page: Page, num, t: int) -> None:
    page.para(f"At {t}x{t}: {_n(num.params)} parameters, {_n(num.macs)} MACs, {_n(num.flops)} FLOPs, "
              f"{_n(num.connections)} connections, {_n(num.activations)} activations; output "
              f"`{num.output_shape!r}`.")


def _lenet(page: Page, sym, num, t: int) -> None:
    page.add("## Walk-through: the paper's table", "")
    page.para("LeNet-5 as LeCun et al. (1998) describe it: C3 reads the S2 maps through a connection table, S2/S4 "
              "are trainable subsampling, the output is 10 Euclidean RBF units. Connections are weights used per "
              "output, summed over outputs.")
    rows = [[f"`{r.name}`", r.kind, code(tuple(r.output_shape)), _n(r.params), _n(r.connections)]
            for r in num.layers if not r.name.endswith(".act") and r.name != "flatten"]
    rows.append(["**total**", "", "", _n(num.params), _n(num.connections)])
    page.table(["layer", "kind", "output", "trainable params", "connections"], rows)


def _vgg16(page: Page, sym, num, t: int) -> None:
    page.add("## Walk-through: the parameter count", "")
    convs = [r for r in num.layers if r.kind == "Conv2d"]
    fcs = [r for r in num.layers if r.kind == "Linear"]
    page.table(["layer", "output", "params"], [[f"`{r.name}`", code(tuple(r.output_shape)), _n(r.params)]
                                               for r in convs + fcs])
    conv_total = sum(int(r.params) for r in convs)
    fc_total = sum(int(r.params) for r in fcs)
    page.para(f"All convolutions: {conv_total:,}; fully connected layers: {fc_total:,}; total {_n(num.params)}.")
    b = int(num.param_bytes("float32"))
    page.para(f"At 4 bytes per float32 parameter: {b:,} bytes = {b / 1e6:.1f} MB = {b / 2**20:.1f} MiB. Dropout "
              "has no parameters; a file size near the MiB figure is the MB/MiB difference (see "
              "[errata](../errata.md)).")


def _resnet50(page: Page, sym, num, t: int) -> None:
    page.add("## Walk-through: stride 32 in one term", "")
    page.para("The stem (7x7/2 conv, 3x3/2 max pool) and three stride-2 stages give a final map of "
              "`ceil(W/32)`: symcnn's integer division collapses the nested floors (the closed forms above).")
    page.para(f"The output of the last stage: `{sym.layers[-3].output_shape!r}`." if sym is not None else "")


def _unet(page: Page, sym, num, t: int) -> None:
    page.add("## Walk-through: valid input sizes", "")
    model = models.get("unet")
    exact = valid_input_sizes(model, between=(32, 1024), exact=True)
    runs = valid_input_sizes(model, between=(32, 1024))
    page.para("The original U-Net uses unpadded convolutions and crops its skips, so only some input sizes "
              "work. Computed by `symcnn.valid_input_sizes`:")
    page.add("```text", repr(runs), repr(exact), "```", "")


def _dcgan(page: Page, sym, num, t: int) -> None:
    page.add("## Walk-through: from a latent vector to an image", "")
    page.para("Transposed convolutions grow a 1x1 latent map; sizes follow "
              "`(W - 1)*S - 2P + D*(F - 1) + OP + 1` per layer (see [transposed convolution]"
              "(../layers/transposed.md)); MACs are counted per input pixel.")
    rows = [[f"`{r.name}`", r.kind, code(tuple(r.output_shape)), _n(r.macs)] for r in num.layers]
    page.table(["layer", "kind", "output", "MACs"], rows)


_WALKS = {"lenet5": _lenet, "vgg16": _vgg16, "resnet50": _resnet50, "unet": _unet, "dcgan_generator": _dcgan}


def render_models() -> list[Page]:
    index = Page("reference/models/index.md", "Models")
    index.para("Every model of the zoo (`symcnn.models.names()` when this site was built), analysed by the engine. "
               "Walk-throughs reproduce the per-layer tables of the classic tutorials.")
    pages, rows = [], []
    for name in models.names():
        model, sym, num, t = model_input(name)
        page = Page(f"reference/models/{name}.md", name)
        page.para(f"`symcnn.models.get({name!r})`, {len(num.layers)} layer calls.")
        _totals(page, num, t)
        if name in _WALKS:
            _WALKS[name](page, sym, num, t)
        if sym is not None:
            _closed_forms(page, sym)
        _table(page, sym, num, t)
        pages.append(page)
        rows.append([f"[{name}]({name}.md)", f"{t}x{t}", _n(num.params), _n(num.macs),
                     "walk-through" if name in _WALKS else ""])
    index.table(["model", "shown at", "params", "MACs", ""], rows)
    return [index, *pages]
