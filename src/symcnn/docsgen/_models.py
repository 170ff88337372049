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
from ..present import number
from ..solve import valid_input_sizes
from ._core import Formula, Page, code, md_escape
from ._layers import _always_true, _ge_form
from ._nav import model_title
from ._rf_text import interval_text, rule_formulas, span_text, varies

__all__ = ["render_models", "model_input", "TYPICAL_SIZE", "last_feature_map", "rf_row", "resnet50_rf_versions",
           "render_receptive_field"]


def _core_formula(tex: str, display: bool = True) -> Formula:
    """A formula written as TeX on the page (a general statement, not an engine expression)."""
    return Formula(tex, "", None, display)

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
    return number(int(x)) if isinstance(x, (int, sympy.Integer)) or getattr(x, "is_Integer", False) else code(x)


def _rf(r) -> str:
    rf = r.receptive_field
    if not rf.lo:
        return "-"
    cells = [span_text(rf, i) for i in range(len(rf.lo))]
    if all(c == cells[0] for c in cells) and not cells[0][0].isdigit() and not cells[0].startswith("`"):
        return cells[0]  # "whole input", "varies with n"
    return "(" + ", ".join(c.strip("`") for c in cells) + ")"


def last_feature_map(num) -> int:
    """Index of the last layer whose output is still a spatial feature map (before global or adaptive pooling,
    Flatten and the classifier): where a receptive field means a region of the input."""
    idx = [k for k, r in enumerate(num.layers) if len(r.output_shape) >= 3 and "Adaptive" not in r.kind
           and r.receptive_field.lo and not any(r.receptive_field.whole)]
    return idx[-1] if idx else len(num.layers) - 1


def _v(x) -> str:
    """A receptive-field value (an integer or an exact half) as text; "–" where the map has none (a field that
    varies with the position has no single effective padding or centre)."""
    if x is None:
        return "–"
    x = sympy.nsimplify(x) if not isinstance(x, sympy.Basic) else x
    return number(int(x)) if x.is_Integer else str(x)


def rf_row(name: str) -> list[str]:
    """Model, size, last feature map, its size, span r (a range where it varies), jump, effective padding, centre
    of output 0, and the inputs output 0 depends on (along the width)."""
    _, _, num, t = model_input(name)
    k = last_feature_map(num)
    r = num.layers[k]
    rf = r.receptive_field
    jump = _v(rf.stride[-1]) if not varies(rf) else f"{_v(rf.stride[-1])} (average)"
    return [f"[{model_title(name)}]({name}.md)", f"{t}", f"`{r.name}`", "×".join(str(int(x)) for x in
            r.output_shape[1:]), span_text(rf), jump, _v(rf.padding[-1]), _v(rf.start[-1]), interval_text(rf)]


def _headline_rf(page: Page, num, t: int) -> None:
    k = last_feature_map(num)
    r = num.layers[k]
    rf = r.receptive_field
    last = num.layers[-1].receptive_field
    page.add("## Receptive field", "")
    where = (f"At the last spatial feature map (`{r.name}`, {'×'.join(str(int(x)) for x in r.output_shape[1:])} "
             f"at {t}×{t})")
    if not varies(rf):
        page.para(f"{where} each output sees **{span_text(rf)} × {span_text(rf, 0)}** input pixels, "
                  f"with a jump of {_v(rf.stride[-1])} between neighbouring outputs, effective padding "
                  f"{_v(rf.padding[-1])}, and output 0 centred at input coordinate {_v(rf.start[-1])} "
                  "([araujo2019](../bibliography.md#araujo2019)).")
    else:
        page.para(f"{where} the field depends on the output position (the network upsamples or transposes): "
                  f"along each axis an output sees **{span_text(rf)}** input pixels (the smallest and "
                  f"the largest span over the positions); output 0 depends on inputs {interval_text(rf)}. Output "
                  "n depends on the inputs first(n) to last(n) (definition on the "
                  "[receptive field](../receptive-field.md) page):")
        rule_formulas(page, rf)
    if (last.lo and all(last.whole)) or len(num.output_shape) < 3:
        page.para("After Flatten or global pooling every output of the classifier depends on the whole input.")


def _stages(sym) -> list[tuple[int, int]]:
    """Runs of consecutive layers with the same spatial output size (the network's stages): (first, last)."""
    runs, start = [], 0
    shapes = [tuple(r.output_shape)[1:] if len(r.output_shape) >= 2 else ("flat",) for r in sym.layers]
    for k in range(1, len(shapes) + 1):
        if k == len(shapes) or shapes[k] != shapes[start]:
            runs.append((start, k - 1))
            start = k
    return runs


def _closed_forms(page: Page, a, num, name: str) -> None:
    page.add("## Closed forms", "")
    page.para(f"Input `{a.input_shape!r}`; every quantity as a function of the input size \\(H \\times W\\)."
              .replace("\\(H \\times W\\)", "H × W"))
    page.formula(r"\text{output shape}", tuple(a.output_shape))
    page.formula(r"\text{params}", a.params)
    stages = [(i, j) for i, j in _stages(a) if any(a.layers[k].macs != 0 for k in range(i, j + 1))]
    page.add("### MACs per stage", "")
    page.para("A stage is a run of layers with the same output size; the network's MACs are the sum of the lines "
              "(numbers at the size the page is shown at).")
    rows = []
    for n, (i, j) in enumerate(stages, 1):
        out = tuple(a.layers[j].output_shape)
        macs = sum(int(num.layers[k].macs) for k in range(i, j + 1))
        rows.append([str(n), f"`{a.layers[i].name}` … `{a.layers[j].name}`" if i != j else f"`{a.layers[i].name}`",
                     code(out), number(macs)])
    page.table(["stage", "layers", "output", "MACs at the shown size"], rows)
    page.aligned([(rf"\text{{MACs}}_{{{n}}}", sum((a.layers[k].macs for k in range(i, j + 1)), sympy.Integer(0)))
                  for n, (i, j) in enumerate(stages, 1)])
    page.details("The totals as single formulas (long)")
    for key, lhs in (("macs", r"\text{MACs}"), ("flops", r"\text{FLOPs}"), ("activations", r"\text{activations}")):
        page.formula(lhs, getattr(a, key))
    page.end_details()
    conds = [c for c in a.conditions if not _always_true(c.relation)]
    if conds:
        page.add("### Validity", "")
        page.para(f"The input sizes the network accepts ({len(conds)} conditions the engine cannot decide for every "
                  "size; each protects an output size ≥ 1 or an exact shape):")
        for c in conds[:12]:
            page.formula("", _ge_form(c.relation))
        if len(conds) > 12:
            page.para(f"… and {len(conds) - 12} more (`symcnn.analyze(...).constraints`).")
        if any(isinstance(c.relation, sympy.Eq) for c in conds):
            _sizes_in_words(page, name)
    last = a.layers[last_feature_map(num)].receptive_field
    if last.lo:
        page.details(f"Receptive field at the last feature map (`{a.layers[last_feature_map(num)].name}`) as a formula")
        rule_formulas(page, last)
        page.end_details()


def _sizes_in_words(page: Page, name: str) -> None:
    """An equality condition (a layer that needs an exact size, like LeNet-5's C5 producing 1×1) read as the list
    of sizes it allows, computed by the solver."""
    sizes = list(valid_input_sizes(models.get(name), between=(1, 1024)).sizes)
    if sizes and len(sizes) <= 64:
        run = (f"{sizes[0]}..{sizes[-1]}" if sizes == list(range(sizes[0], sizes[-1] + 1))
               else ", ".join(str(x) for x in sizes))
        page.para(f"In words: these hold exactly for input sizes H, W ∈ {{{run}}} (between 1 and 1,024, "
                  "computed by `symcnn.valid_input_sizes`).")


def _table(page: Page, sym, num, t: int) -> None:
    page.add("## Per-layer table", "")
    page.para(f"At {t}×{t}. Memory is the number of output values of the layer (CS231n's count; 4 bytes each in "
              "float32). Parameters of a shared layer are counted once.")
    head = ["#", "name", "kind", f"output at {t}", "memory", "params", "MACs", "RF"]
    rows = []
    for r in num.layers:
        mem = 1
        for x in r.output_shape:
            mem *= int(x)
        rows.append([str(r.index), f"`{r.name}`", r.kind, code(tuple(r.output_shape)), number(mem), _n(r.params),
                     _n(r.macs), _rf(r)])
    rows.append(["", "**total**", "", code(tuple(num.output_shape)), number(int(num.activations)), _n(num.params),
                 _n(num.macs), ""])
    page.table(head, rows)
    if sym is not None:
        page.details("Per-layer output sizes and MACs as formulas in H and W")
        page.table(["#", "name", "output", "MACs"],
                   [[str(k), f"`{r.name}`", code(tuple(r.output_shape)), code(r.macs)]
                    for k, r in enumerate(sym.layers)])
        page.end_details()


def _totals(page: Page, num, t: int) -> None:
    page.para(f"At {t}×{t}: {_n(num.params)} parameters, {_n(num.macs)} MACs, {_n(num.flops)} FLOPs, "
              f"{_n(num.connections)} connections, {_n(num.activations)} activations; output "
              f"`{num.output_shape!r}`.")


def _lenet(page: Page, sym, num, t: int) -> None:
    page.add("## Walk-through: the paper's table", "")
    page.para("LeNet-5 as LeCun et al. describe it ([lecun1998](../bibliography.md#lecun1998)): C3 reads the S2 "
              "maps through a connection table, S2 and S4 are trainable subsampling, the output is 10 Euclidean RBF "
              "units. Connections are weights used per output, summed over outputs.")
    rows = []
    for r in num.layers:
        if r.name.endswith(".act") or r.name == "flatten":
            continue
        mem = 1
        for x in r.output_shape:
            mem *= int(x)
        arith = _conv_arith(r.layer, r) if r.kind in ("Conv2d", "Linear") else _n(r.params)
        rows.append([f"`{r.name}`", r.kind, "×".join(str(int(x)) for x in r.output_shape), number(mem),
                     md_escape(arith), _n(r.connections)])
    rows.append(["**total**", "", "", "", _n(num.params), _n(num.connections)])
    page.table(["layer", "kind", "output", "memory", "trainable params", "connections"], rows)


def _conv_arith(layer, r) -> str:
    """``3·3·3·64 + 64 = 1,792``: a conv's or linear layer's parameter count written out."""
    cin, cout = getattr(layer, "in_channels", None), getattr(layer, "out_channels", None)
    if cin is not None:
        k = tuple(int(x) for x in layer.kernel_size)
        g = int(getattr(layer, "groups", 1) or 1)
        bias = getattr(layer, "bias", True)
        terms = "·".join(str(x) for x in (*k, int(cin) // g, int(cout)))
        return f"{terms}{' + ' + str(int(cout)) if bias else ''} = {number(int(r.params))}"
    fin, fout = getattr(layer, "in_features", None), getattr(layer, "out_features", None)
    if fin is not None:
        return f"{number(int(fin))}·{number(int(fout))} + {number(int(fout))} = {number(int(r.params))}"
    return number(int(r.params))


def _vgg16(page: Page, sym, num, t: int) -> None:
    page.add("## Walk-through: parameters and memory, layer by layer", "")
    page.para("As in the CS231n notes ([cs231n](../bibliography.md#cs231n)) for VGG-16 "
              "([simonyan2014](../bibliography.md#simonyan2014)): memory is the number of values a layer outputs, "
              "parameters are written out as kernel height · kernel width · input channels · output channels + "
              "biases.")
    rows = []
    for r in num.layers:
        if r.kind not in ("Conv2d", "Linear", "MaxPool2d", "AdaptiveAvgPool2d"):
            continue
        mem = 1
        for x in r.output_shape:
            mem *= int(x)
        arith = _conv_arith(r.layer, r) if r.kind in ("Conv2d", "Linear") else "0"
        rows.append([f"`{r.name}`", r.kind, "×".join(str(int(x)) for x in r.output_shape), number(mem),
                     md_escape(arith)])
    page.table(["layer", "kind", "output", "memory", "params"], rows)
    convs = [r for r in num.layers if r.kind == "Conv2d"]
    fcs = [r for r in num.layers if r.kind == "Linear"]
    conv_total = sum(int(r.params) for r in convs)
    fc_total = sum(int(r.params) for r in fcs)
    page.para(f"All convolutions: {number(conv_total)}; fully connected layers: {number(fc_total)}; total "
              f"{_n(num.params)}. Activations (all layers, per image): {_n(num.activations)} values.")
    b = int(num.param_bytes("float32"))
    page.para(f"At 4 bytes per float32 parameter: {number(b)} bytes = {b / 10**6:.1f} MB ({number(10**6)} bytes) "
              f"= {b / 2**20:.1f} MiB ({number(2**20)} bytes). Both units are right; explaining the gap between the "
              "two figures by dropout is the error (Dropout has no parameters; see [errata](../errata.md)).")


def _resnet50(page: Page, sym, num, t: int) -> None:
    page.add("## Walk-through: stride 32 in one term", "")
    page.para("The stem (7×7 stride-2 convolution, 3×3 stride-2 max pool) and three stride-2 stages give a final map "
              "of ⌈W/32⌉: symcnn's integer division collapses the nested floors "
              "([he2016resnet](../bibliography.md#he2016resnet)).")
    if sym is not None:
        k = last_feature_map(num)
        page.formula(r"W_{\text{last}}", sym.layers[k].output_shape[-1])
    v1, v15 = resnet50_rf_versions()
    page.para(f"**V1 and V1.5.** torchvision's ResNet-50 is V1.5: a downsampling bottleneck puts its stride on "
              f"the 3×3 convolution, which therefore still reads the finer grid. The original V1 (the paper, TF-slim, "
              f"the Distill table [araujo2019](../bibliography.md#araujo2019)) puts the stride on the first 1×1 "
              f"convolution, so the block's 3×3 already works on the downsampled grid, at twice the jump, and widens "
              f"the field twice as much. Receptive field at the last feature map, computed by the engine on both: "
              f"**V1.5 {v15}**, **V1 {v1}**.")


def _unet(page: Page, sym, num, t: int) -> None:
    page.add("## Walk-through: valid input sizes", "")
    model = models.get("unet")
    exact = valid_input_sizes(model, between=(32, 1024), exact=True)
    runs = valid_input_sizes(model, between=(32, 1024))
    page.para("The original U-Net uses unpadded convolutions and crops its skips, so only some input sizes "
              "work. Computed by `symcnn.valid_input_sizes` between 32 and 1,024:")
    page.para(f"- runs at all: {md_escape(runs.describe())} ({number(len(runs.sizes))} sizes);\n"
              f"- runs without losing a pixel to rounding: {md_escape(exact.describe())} "
              f"({number(len(exact.sizes))} sizes: {', '.join(str(x) for x in exact.sizes[:6])}, …).")


def _dcgan(page: Page, sym, num, t: int) -> None:
    page.add("## Walk-through: from a latent vector to an image", "")
    page.para("Transposed convolutions grow a 1×1 latent map; each layer's size follows the transposed-convolution "
              "formula (see [transposed convolution](../layers/transposed.md)); MACs are counted per input pixel.")
    rows = [[f"`{r.name}`", r.kind, code(tuple(r.output_shape)), _n(r.macs)] for r in num.layers]
    page.table(["layer", "kind", "output", "MACs"], rows)


_WALKS = {"lenet5": _lenet, "vgg16": _vgg16, "resnet50": _resnet50, "unet": _unet, "dcgan_generator": _dcgan}


@functools.cache
def resnet50_rf_versions() -> tuple[str, str]:
    """Receptive field at ResNet-50's last feature map at 224: (V1, V1.5), both computed by the engine; V1 is built
    from the zoo's blocks with the stride moved to the first 1×1 convolution."""
    from .._graph import Sequential
    from ..layers import BatchNorm2d, Conv2d, MaxPool2d, ReLU
    from ..models import resnet as R

    def bottleneck_v1(cin, planes, stride=1):
        out = planes * 4
        return R._block([
            ("conv1", Conv2d(cin, planes, 1, stride, bias=False)), ("bn1", BatchNorm2d(planes)), ("relu", ReLU()),
            ("conv2", Conv2d(planes, planes, 3, 1, 1, bias=False)), ("bn2", BatchNorm2d(planes)),
            ("relu2", ReLU()),
            ("conv3", Conv2d(planes, out, 1, bias=False)), ("bn3", BatchNorm2d(out)),
        ], R._downsample(cin, out, stride))

    def features(block):
        layers = [Conv2d(3, 64, 7, 2, 3, bias=False), BatchNorm2d(64), ReLU(), MaxPool2d(3, 2, 1)]
        cin = 64
        for i, (n, planes) in enumerate(zip((3, 4, 6, 3), (64, 128, 256, 512), strict=True)):
            for b in range(n):
                layers.append(block(cin, planes, 2 if (b == 0 and i > 0) else 1))
                cin = planes * 4
        return Sequential(*layers)

    out = []
    for block in (bottleneck_v1, R.Bottleneck):
        a = analyze(features(block), (3, 224, 224))
        out.append(_v(a.receptive_field.size[-1]))
    return out[0], out[1]


def render_receptive_field() -> Page:
    """The zoo-wide receptive-field table (Distill's table, for every zoo model) and the V1/V1.5 note."""
    page = Page("reference/receptive-field.md", "Receptive field")
    page.para(page.prose("The receptive field of an output is the region of the input it depends on. For a chain "
                         "of windowed layers with kernels $F_l$, strides $S_l$, left paddings $P_l$ and dilations "
                         "$D_l$, Araujo et al. give it in closed form; the engine's recurrence is proved equal to it "
                         "(derivation linked below):")
              + " [araujo2019](bibliography.md#araujo2019), [derivation](derivations/receptive_field.md).")
    general = (r"\begin{aligned} r &= 1 + \sum_{l=1}^{L} D_l (F_l - 1) \prod_{i<l} S_i, & j &= \prod_{l=1}^{L} S_l, "
               r"\\ P_0 &= \sum_{l=1}^{L} P_l \prod_{i<l} S_i, & c &= \frac{r - 1}{2} - P_0 \end{aligned}")
    page.add(f"\\[ {general} \\]", "")
    page.formulas.append(_core_formula(general))
    page.add("## Through upsampling and transposed convolutions", "")
    page.para("Along each axis, output n of a tensor depends on the input positions first(n) to last(n): every "
              "layer's rule for the positions output n reads, substituted into the rule of its input (so the field "
              "is exact per position, not a linear estimate). A window layer (convolution, pooling, crop, padding) "
              "with kernel F, stride S, dilation D and left padding P reads n·S − P … n·S − P + D(F − 1); positions "
              "outside the input are its padding and are counted, as in Distill's definition, so for networks of "
              "window layers first(n) = c + n·j − (r − 1)/2 and last(n) = c + n·j + (r − 1)/2 with r, j and c "
              "above. A transposed convolution reads only its real inputs i (0 ≤ i < W) with i·S − P + t·D = n for "
              "a tap t (with D = 1: from max(0, ⌈(n + P − F + 1)/S⌉) to min(W − 1, ⌊(n + P)/S⌋)); an upsampling "
              "reads the real inputs PyTorch's index rule gives a nonzero weight (nearest: ⌊n/s⌋ for a scale s; "
              "linear: ⌊x⌋ and ⌈x⌉ of the source coordinate x = (n + ½)/s − ½, or n(W − 1)/(Out − 1) with "
              "align_corners); adaptive pooling reads ⌊n·W/Out⌋ … ⌈(n + 1)·W/Out⌉ − 1; global pooling, Flatten and "
              "a Linear read the whole axis; an add or a concat takes the union of its branches. The span of "
              "output n is last(n) − first(n) + 1; where it differs between positions the tables show its smallest "
              "and largest value (every position evaluated), never an average. The interpolation is taken in exact "
              "arithmetic: PyTorch computes it in floating point, and where the exact source coordinate is an "
              "integer its rounding can give the neighbouring pixel a weight near 1e-15 (float64) or 1e-7 (float32), "
              "which this definition does not count.")
    page.para("Every zoo model at the size it is shown at, at its **last spatial feature map** (before global "
              "pooling, Flatten and the classifier; after those every output depends on the whole input): span r "
              "(a range where it depends on the position), jump j (effective stride; an average where the network "
              "upsamples), effective padding P₀ and centre c of output 0 in input coordinates (where the field "
              "moves by a constant step), and the inputs output 0 depends on, along the width. Each figure equals "
              "a brute-force walk of every layer's reads (`symcnn.reference.dependencies_1d`).")
    rows = [rf_row(name) for name in models.names()]
    page.table(["model", "input", "last feature map", "map", "r", "j", "P₀", "c", "output 0 reads"],
               [[cell.replace("](", "](models/", 1) if k == 0 else cell for k, cell in enumerate(row)] for row in rows])
    v1, v15 = resnet50_rf_versions()
    page.add("## ResNet-50: V1 or V1.5", "")
    page.para(f"Published tables differ for ResNet-50 because two architectures carry the name. The original (V1: "
              f"He et al. [he2016resnet](bibliography.md#he2016resnet), TF-slim, the Distill article) puts a "
              f"downsampling block's stride on its first 1×1 convolution, so the block's 3×3 convolution already "
              f"works on the downsampled grid, at twice the jump; torchvision's model (V1.5, the zoo's `resnet50`) "
              f"puts the stride on the 3×3 convolution itself, which then reads the finer grid and widens the field "
              f"half as much. Computed by the engine at 224: **V1 {v1}**, **V1.5 {v15}**.")
    return page


def render_models() -> list[Page]:
    index = Page("reference/models/index.md", "Models")
    index.para("Every model of the zoo (`symcnn.models.names()` when this site was built), analysed by the engine. "
               "Walk-throughs reproduce the per-layer tables of the classic tutorials; the receptive field of every "
               "model is on the [receptive field](../receptive-field.md) page.")
    pages, rows = [], []
    for name in models.names():
        model, sym, num, t = model_input(name)
        page = Page(f"reference/models/{name}.md", model_title(name))
        page.para(f"`symcnn.models.get({name!r})`, {len(num.layers)} layer calls.")
        _totals(page, num, t)
        _headline_rf(page, num, t)
        if name in _WALKS:
            _WALKS[name](page, sym, num, t)
        if sym is not None:
            _closed_forms(page, sym, num, name)
        _table(page, sym, num, t)
        pages.append(page)
        rows.append([f"[{model_title(name)}]({name}.md)", f"{t}×{t}", _n(num.params), _n(num.macs),
                     "walk-through" if name in _WALKS else ""])
    index.table(["model", "shown at", "params", "MACs", ""], rows)
    return [index, *pages, render_receptive_field()]
