"""Layer-family pages: every quantity of every layer family, printed from an analysis with symbolic arguments.

Each family lists *cases* (a layer built with symbols for its arguments and a symbolic input shape); the page
shows, per case, the formulas :func:`symcnn.analyze` returns, the conditions that stay symbolic (with the
message the layer raises when one fails), a worked example (the same analysis substituted) and, where a
derivation covers the quantity, a link to it with the number of brute-force cases it was checked on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import sympy

from .. import layers as L
from .._analysis import analyze
from .._graph import Graph, Input
from .._intmath import decide
from .._symbols import C, D, F, G, H, K, P, S, W, size_symbol
from ..present import number
from ._calculator_defs import CALCULATORS
from ._core import NOTATION, Page, cite_links, code, md_escape, words
from ._rf_text import rule_formulas, span_text, varies

__all__ = ["FAMILIES", "Family", "Case", "render_layers", "case_analysis"]

OP = size_symbol("O_p", nonnegative=True)  #: output_padding of the transposed convolution page
O = size_symbol("O")  #: the output size of adaptive pooling (the adaptive-pooling derivation's O)


@dataclass(frozen=True)
class Case:
    """One layer configuration shown on a family page."""

    title: str
    build: Callable[[], object]  # () -> layer or Graph
    input_shape: tuple | Callable[[], tuple]
    numbers: dict[str, int]
    derivations: dict[str, str] = field(default_factory=dict)  # quantity -> derivation name
    note: str = ""


@dataclass(frozen=True)
class Family:
    slug: str
    title: str
    module: str
    intro: str
    cases: tuple[Case, ...]
    calculators: tuple[str, ...] = ()


def _two(layer_factory):
    """A two-input graph applying a merge layer to two tensors of the same shape."""
    def build():
        x = Input()
        return Graph(x, layer_factory()(x, x))
    return build


def _crop_concat():
    a = Input()
    b = L.MaxPool2d(2)(a)
    return Graph(a, L.CropConcat()(a, b))


_CONV = {"output": "conv_output_size", "params": "conv_params", "macs": "conv_macs", "flops": "conv_flops",
         "connections": "lenet_connections", "receptive field": "receptive_field"}

FAMILIES: tuple[Family, ...] = (
    Family(
        "conv", "Convolution", "symcnn/layers/conv.py",
        "`Conv1d`, `Conv2d`, `Conv3d` with PyTorch's arguments; `padding` may also be PyTorch's `\"same\"` "
        "(stride 1 only, as in PyTorch) or `\"valid\"`, or symcnn's `\"tf_same\"` (TensorFlow's SAME, ONNX "
        "SAME_UPPER, at any stride), `\"same_lower\"` (ONNX SAME_LOWER) or `\"full\"`.",
        (
            Case("Conv2d: kernel, stride, padding, dilation", lambda: L.Conv2d(C, K, F, stride=S, padding=P,
                 dilation=D), (C, H, W), {"C": 3, "K": 64, "F": 7, "S": 2, "P": 3, "D": 1, "H": 224, "W": 224},
                 _CONV),
            Case("Conv2d, padding=\"same\" (PyTorch's: stride 1)", lambda: L.Conv2d(C, K, F, padding="same",
                 dilation=D), (C, H, W), {"C": 3, "K": 32, "F": 4, "D": 1, "H": 10, "W": 10},
                 {**_CONV, "output": "same_padding"},
                 "An even kernel: PyTorch pads 1 pixel on the left and 2 on the right; a stride other than 1 is "
                 "refused, as PyTorch refuses it."),
            Case("Conv2d, padding=\"tf_same\"", lambda: L.Conv2d(C, K, F, stride=S, padding="tf_same"), (C, H, W),
                 {"C": 3, "K": 32, "F": 3, "S": 2, "H": 225, "W": 225},
                 {**_CONV, "output": "same_padding"}),
            Case("Conv2d, padding=\"full\"", lambda: L.Conv2d(C, K, F, padding="full"), (C, H, W),
                 {"C": 1, "K": 1, "F": 3, "H": 2, "W": 2}, {**_CONV, "output": "full_padding"},
                 "A 2 by 2 input with a 3 by 3 kernel gives 4 by 4."),
            Case("Conv2d with groups", lambda: L.Conv2d(C, K, F, groups=G), (C, H, W),
                 {"C": 32, "K": 64, "F": 3, "G": 4, "H": 56, "W": 56}, {k: v for k, v in _CONV.items()
                                                                       if k != "output"}),
        ),
        ("conv2d", "conv1d", "conv3d", "conv2d_same"),
    ),
    Family(
        "transposed", "Transposed convolution", "symcnn/layers/transposed.py",
        "`ConvTranspose1d/2d/3d`: every input pixel scatters its products; costs are counted per *input* pixel.",
        (
            Case("ConvTranspose2d", lambda: L.ConvTranspose2d(C, K, F, stride=S, padding=P, output_padding=OP,
                 dilation=D), (C, H, W), {"C": 1, "K": 1, "F": 3, "S": 2, "P": 0, "O_p": 0, "D": 1, "H": 3, "W": 3},
                 {"output": "transposed_output_size", "output_padding": "transposed_offset",
                  "receptive field": "receptive_field"},
                 "A 3 by 3 input, 3 by 3 kernel, stride 2 gives 7 by 7 here (5 by 5 with padding 1)."),
        ),
        ("conv_transpose2d", "conv_transpose1d", "conv_transpose3d"),
    ),
    Family(
        "pool", "Pooling", "symcnn/layers/pool.py",
        "Max and average pooling (with `ceil_mode`), adaptive pooling and spatial pyramid pooling (SPP).",
        (
            Case("MaxPool2d", lambda: L.MaxPool2d(F, stride=S, padding=P, dilation=D), (C, H, W),
                 {"C": 64, "F": 3, "S": 2, "P": 1, "D": 1, "H": 112, "W": 112},
                 {"output": "conv_output_size", "receptive field": "receptive_field"}),
            Case("MaxPool2d, ceil_mode=True", lambda: L.MaxPool2d(F, stride=S, padding=P, ceil_mode=True),
                 (C, H, W), {"C": 64, "F": 3, "S": 2, "P": 0, "H": 112, "W": 112},
                 {"output": "pool_ceil_mode", "receptive field": "receptive_field"}),
            Case("AvgPool2d", lambda: L.AvgPool2d(F, S, P), (C, H, W),
                 {"C": 1, "F": 2, "S": 2, "P": 0, "H": 4, "W": 4}, {"output": "conv_output_size"},
                 "A 4 by 4 input, 2 by 2 window, stride 2 gives 2 by 2."),
            Case("AdaptiveAvgPool2d", lambda: L.AdaptiveAvgPool2d(O), (C, H, W),
                 {"C": 512, "O": 7, "H": 10, "W": 10}, {"flops": "adaptive_pool_windows"}),
            Case("SpatialPyramidPooling (levels 4, 2, 1)", lambda: L.SpatialPyramidPooling((4, 2, 1)), (C, H, W),
                 {"C": 256, "H": 13, "W": 13}, {"output": "spp_levels"},
                 "A fixed-length output of 21 values per channel (16 + 4 + 1 bins) for any input size inside the "
                 "validity range."),
        ),
        ("max_pool2d", "avg_pool2d", "max_pool1d", "avg_pool1d", "max_pool3d", "avg_pool3d", "adaptive_avg_pool2d",
         "adaptive_max_pool2d"),
    ),
    Family(
        "dense", "Dense layers", "symcnn/layers/dense.py", "`Linear` acts on the last dimension; `Flatten`.",
        (
            Case("Linear", lambda: L.Linear(C, K), (C,), {"C": 25088, "K": 4096}),
            Case("Linear without bias", lambda: L.Linear(C, K, bias=False), (C,), {"C": 120, "K": 84}),
            Case("Flatten", lambda: L.Flatten(), (C, H, W), {"C": 512, "H": 7, "W": 7}),
        ),
    ),
    Family(
        "norm", "Normalization", "symcnn/layers/norm.py",
        "`BatchNorm1d/2d/3d`: weight and bias are parameters; running statistics are buffers. `LayerNorm` (over "
        "trailing dims), `LayerNorm2d` (over the channels, ConvNeXt's) and `GroupNorm` compute their statistics "
        "at inference too.",
        (Case("BatchNorm2d", lambda: L.BatchNorm2d(C), (C, H, W), {"C": 64, "H": 112, "W": 112}),
         Case("LayerNorm2d", lambda: L.LayerNorm2d(C), (C, H, W), {"C": 96, "H": 56, "W": 56}),
         Case("GroupNorm", lambda: L.GroupNorm(G, C), (C, H, W), {"G": 32, "C": 256, "H": 56, "W": 56})),
    ),
    Family(
        "scale", "Learned scale and shift, permute", "symcnn/layers/scale.py",
        "`LearnedScale` (layer scale: `x * w`), `LearnedShift` (`x + b`); `Permute` (its own file, permute.py) "
        "reorders dims, as ConvNeXt's channels-last blocks do.",
        (Case("LearnedScale (per channel)", lambda: L.LearnedScale((C, 1, 1)), (C, H, W),
              {"C": 96, "H": 56, "W": 56}),
         Case("Permute to channels last", lambda: L.Permute([0, 2, 3, 1]), (C, H, W), {"C": 96, "H": 56, "W": 56})),
    ),
    Family(
        "activation", "Activations, dropout, identity", "symcnn/layers/activation.py",
        "Element-wise layers: the shape is unchanged.",
        (
            Case("ReLU", lambda: L.ReLU(), (C, H, W), {"C": 64, "H": 112, "W": 112}),
            Case("Softmax", lambda: L.Softmax(dim=0), (C,), {"C": 1000}),
            Case("PReLU", lambda: L.PReLU(C), (C, H, W), {"C": 64, "H": 56, "W": 56}),
            Case("Dropout", lambda: L.Dropout(0.5), (C,), {"C": 4096}),
            Case("StochasticDepth", lambda: L.StochasticDepth(0.2, "row"), (C, H, W), {"C": 96, "H": 56, "W": 56}),
        ),
    ),
    Family(
        "resize", "Upsampling and padding", "symcnn/layers/resize.py",
        "`Upsample` (nearest, (bi/tri)linear, bicubic) and the padding layers.",
        (
            Case("Upsample, nearest, scale 2", lambda: L.Upsample(scale_factor=2), (C, H, W),
                 {"C": 64, "H": 28, "W": 28}),
            Case("Upsample, bilinear, scale 2", lambda: L.Upsample(scale_factor=2, mode="bilinear"), (C, H, W),
                 {"C": 64, "H": 28, "W": 28}),
            Case("ZeroPad2d", lambda: L.ZeroPad2d(P), (C, H, W), {"C": 3, "P": 2, "H": 32, "W": 32}),
        ),
        ("upsample_scale", "upsample_size"),
    ),
    Family(
        "merge", "Merging branches", "symcnn/layers/merge.py",
        "`Add` (residual), `Mul`, `Concat` and `CropConcat` (U-Net skips), shown on two copies of one tensor.",
        (
            Case("Add", _two(L.Add), (C, H, W), {"C": 256, "H": 56, "W": 56}),
            Case("Concat", _two(L.Concat), (C, H, W), {"C": 64, "H": 28, "W": 28}),
            Case("CropConcat (skip of a 2x2 pool)", _crop_concat, (C, H, W), {"C": 64, "H": 64, "W": 64}),
        ),
    ),
    Family(
        "lenet", "LeNet-5 layers", "symcnn/layers/lenet.py",
        "LeNet-5's own layers: trainable subsampling, the C3 connection table, the Euclidean RBF output.",
        (
            Case("Subsampling2d", lambda: L.Subsampling2d(C), (C, H, W), {"C": 6, "H": 28, "W": 28},
                 {"connections": "lenet_connections"}),
            Case("ConnectionTableConv2d (C3's table)", lambda: L.ConnectionTableConv2d(6, 16, F,
                 table=L.LENET5_C3_TABLE), (6, H, W), {"F": 5, "H": 14, "W": 14},
                 {"connections": "lenet_connections"}),
            Case("RBF", lambda: L.RBF(C, K), (C,), {"C": 84, "K": 10}, {"connections": "lenet_connections"}),
        ),
    ),
)

#: the sources each family page cites (keys of the bibliography)
SOURCES = {
    "conv": ("torch-conv2d", "dumoulin2016", "tf-padding", "onnx-conv"),
    "transposed": ("torch-convtranspose2d", "dumoulin2016"),
    "pool": ("torch-maxpool2d", "torch-avgpool2d", "torch-adaptiveavgpool2d", "he2015spp", "onnx-maxpool"),
    "dense": ("cs231n",),
    "resize": ("torch-upsample",),
    "activation": ("torch-dropout",),
    "lenet": ("lecun1998",),
}

_SYMBOLS_TEXT = (r"Symbols (see the notation page): input size $H, W$; channels $C_{\text{in}}$ and "
                 r"$C_{\text{out}}$; kernel $F$; stride $S$; padding $P$; dilation $D$; groups $G$; output "
                 r"sizes $H_{\text{out}}, W_{\text{out}}$. The conventions page says what MACs, FLOPs and "
                 "connections count.")

# (quantity key, TeX name, attribute of Analysis)
_QUANTITIES = (
    ("params", r"\text{params}", "params"),
    ("buffers", r"\text{buffers}", "buffers"),
    ("macs", r"\text{MACs}", "macs"),
    ("flops", r"\text{FLOPs}", "flops"),
    ("connections", r"\text{connections}", "connections"),
)


def case_analysis(case: Case):
    """The symbolic analysis of a case (the tests call this to re-derive every formula)."""
    return analyze(case.build(), case.input_shape)


def _verified(page: Page, derivations: dict, quantity: str, case: Case) -> None:
    name = case.derivations.get(quantity)
    if name is None:
        return
    d = derivations[name]
    state = "verified" if d.verified else "NOT VERIFIED"
    page.para(f"Derivation: [{d.title}](../derivations/{name}.md), {state} on {d.check.cases:,} cases "
              f"({d.check.mismatches} mismatches against brute force).")


def _axis_names(n: int) -> tuple[str, ...]:
    return {1: ("W",), 2: ("H", "W"), 3: ("T", "H", "W")}.get(n, ())


def output_names(a) -> dict:
    """``{output size expression: H_out / W_out symbol}`` for the spatial outputs that are formulas (bare symbols
    and numbers stay as they are): the named intermediates the other quantities are written with."""
    out = tuple(a.output_shape)[1:]
    names = {}
    for axis, size in zip(_axis_names(len(out)), out, strict=False):
        if isinstance(size, sympy.Basic) and size.free_symbols and not size.is_Symbol:
            names[size] = sympy.Symbol(f"{axis}_out", integer=True, positive=True)
    return names


def _ge_form(rel):
    """A size condition ``lhs >= rhs`` rearranged as people write it: the input side (terms in the sizes and the
    padding) on the left, the kernel side (collected, factored) on the right. Same difference ``lhs - rhs``."""
    if not isinstance(rel, sympy.GreaterThan):
        return rel
    diff = sympy.expand(rel.lhs - rel.rhs)
    sizes = {s for s in diff.free_symbols if s.name in ("H", "W", "T", "L", "P", "S")}
    left = sum((t for t in sympy.Add.make_args(diff) if t.free_symbols & sizes), sympy.Integer(0))
    rest = -(diff - left)
    const = sum((t for t in sympy.Add.make_args(rest) if t.is_Number), sympy.Integer(0))
    right = sympy.factor(rest - const) + const
    if left == 0 or not any(t.could_extract_minus_sign() is False for t in sympy.Add.make_args(left)):
        return rel
    return sympy.Ge(left, right, evaluate=False)


def _always_true(rel) -> bool:
    """True when the engine proves the condition for every value: decided directly, or with each ``max`` on the
    larger side replaced by one of its arguments (a lower bound)."""
    if decide(rel) is True:
        return True
    if not isinstance(rel, sympy.GreaterThan):
        return False
    diff = sympy.expand(rel.lhs - rel.rhs)
    for m in diff.atoms(sympy.Max):
        if sympy.expand(diff.coeff(m)).is_positive:
            for arg in m.args:
                if decide(sympy.Ge(diff.xreplace({m: arg}), 0)) is True:
                    return True
    return False


def _condition(page: Page, c, names: dict) -> None:
    rel = c.relation
    if "output size below 1" in c.message or "is below 1" in c.message:
        axis = next((n for n in ("H", "W", "T", "L") if f"axis {n}" in c.message or f"({n} - 1)" in c.message),
                    "")
        what = f"output size ${axis}_{{\\text{{out}}}} \\ge 1$" if axis else "output size at least 1"
        page.para(page.prose(f"The {what}: the effective kernel fits the padded input,"))
        page.formula("", _ge_form(rel))
    else:
        page.para("Required by PyTorch:")
        page.formula("", rel)
    page.para("Message when it fails: “" + words(c.message.replace("`", "")) + "”")


def _case(page: Page, case: Case, derivations: dict) -> None:
    a = case_analysis(case)
    page.add(f"## {case.title}", "")
    page.para(f"`{case.build()!r}` on input `{a.input_shape!r}`." + (f" {case.note}" if case.note else ""))
    page.add("### Output size", "")
    out = a.output_shape
    spatial = len(out) - 1
    names = output_names(a)
    for name, size in zip(_axis_names(spatial), tuple(out)[1:], strict=False):
        if size.free_symbols:
            page.formula(f"{name}_{{\\text{{out}}}}", size)
    page.formula(r"\text{output shape}", tuple(e.xreplace(names) for e in out))
    _verified(page, derivations, "output", case)
    if "output_padding" in case.derivations:
        _verified(page, derivations, "output_padding", case)
    for key, texname, attr in _QUANTITIES:
        value = getattr(a, attr)
        if key == "buffers" and value == 0:
            continue
        page.add(f"### {key if key in ('params', 'buffers', 'connections') else texname[6:-1]}", "")
        page.formula(texname, value.xreplace(names) if isinstance(value, sympy.Basic) else value)
        _verified(page, derivations, key, case)
    rf = a.receptive_field
    if rf.lo:
        page.add("### Receptive field", "")
        if not varies(rf):
            page.para("Of one output pixel, per spatial axis, with the effective stride (jump) of the output grid.")
        else:
            page.para("Output n depends on the inputs first(n) to last(n) along each axis (the span differs between "
                      "positions: see [receptive field](../receptive-field.md)).")
        rule_formulas(page, rf)
        _verified(page, derivations, "receptive field", case)
    page.add("### Constraints", "")
    shown = [c for c in a.conditions if not _always_true(c.relation)]
    if shown:
        page.para("Conditions that stay symbolic; when one is false for given numbers, the layer raises "
                  "`symcnn.SymcnnError` with the message shown.")
        for c in shown:
            _condition(page, c, names)
    elif a.conditions:
        page.para(f"None: the engine proves the {len(a.conditions)} size conditions of this layer true for every "
                  "input size.")
    else:
        page.para("None: the layer is valid for every input size its arguments allow.")
    num = a.subs(**{k: v for k, v in case.numbers.items() if k in {s.name for s in a.free_symbols}})
    page.add("### Worked example", "")
    shown_n = ", ".join(f"{NOTATION.get(k, k)} = {number(v)}" for k, v in case.numbers.items())
    page.para(f"With {md_escape(shown_n)} (the analysis above, substituted):")
    rows = [["output shape", code(tuple(num.output_shape))]]
    rows += [[key, number(getattr(num, attr)) if getattr(num, attr).is_Integer else code(getattr(num, attr))]
             for key, _, attr in _QUANTITIES]
    if num.receptive_field.lo:
        rows.append(["receptive field", "(" + ", ".join(span_text(num.receptive_field, i).strip("`")
                                                        for i in range(len(num.receptive_field.lo))) + ")"])
    page.table(["quantity", "value"], rows)


def render_layers(derivations: dict, calculators: dict[str, str]) -> list[Page]:
    """One page per layer family, plus the section index. ``calculators``: name -> HTML block."""
    pages = []
    index = Page("reference/layers/index.md", "Layers")
    index.para("One page per layer family. Every formula is printed from `symcnn.analyze` run on the layer "
               "with symbolic arguments; nothing is typed by hand.")
    rows = []
    for fam in FAMILIES:
        page = Page(f"reference/layers/{fam.slug}.md", fam.title)
        page.para(fam.intro)
        src = SOURCES.get(fam.slug, ())
        page.para(page.prose(_SYMBOLS_TEXT) + " [Notation](../../notation.md) · [Conventions](../../conventions.md)."
                  + (f" Sources: {cite_links(src, '../../')}." if src else ""))
        if len(fam.calculators) == 1:
            page.add("## Calculator", "", calculators[fam.calculators[0]], "")
        elif fam.calculators:
            names = ", ".join(f"`{CALCULATORS[c].title}`" for c in fam.calculators)
            page.para(f"[Calculators](#calculators) for {names} are at the end of the page.")
        for case in fam.cases:
            _case(page, case, derivations)
        if len(fam.calculators) > 1:
            page.add("## Calculators", "")
            page.para("Type numbers; the outputs update as you type. Every number is exact (JavaScript BigInt, also "
                      "above 2^53), computed by code generated from the same expressions and validity conditions as "
                      "the formulas above; an input the library (and PyTorch) refuses shows the layer's own message.")
            for c in fam.calculators:
                page.add(f"### {CALCULATORS[c].title}", "", f'<div class="symcnn-calc" data-calc="{c}" '
                         'markdown="0"></div>', "")
        pages.append(page)
        rows.append([f"[{fam.title}]({fam.slug}.md)", ", ".join(f"`{c.title}`" for c in fam.cases)])
    index.table(["family", "cases"], rows)
    return [index, *pages]


def _smoke() -> None:  # pragma: no cover - manual
    for fam in FAMILIES:
        for case in fam.cases:
            a = case_analysis(case)
            print(fam.slug, case.title, a.output_shape, sympy.srepr(a.params)[:20])
