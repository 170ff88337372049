"""The page "Convolution arithmetic in pictures": grids, a receptive-field drawing and architecture figures,
all drawn at build time from the reference enumeration and the engine (see :mod:`._pictures`).

:func:`render` returns ``{path under docs/: text}`` (listed in ``OPTIONAL_PAGES`` of :mod:`symcnn.docsgen`).
"""

from __future__ import annotations

import re

from ..present import number
from ._core import Page
from ._pictures import CASES, caption, grid_svg
from ._pictures_arch import FAMILIES, architecture_svg
from ._pictures_rf import receptive_field_svg, rf_stack

__all__ = ["render", "render_page", "PATH"]

PATH = "reference/pictures.md"

_TEXT = {
    "no-padding": "The kernel slides over the input without leaving it: each output reads one 3×3 window, and "
                  "there are W − F + 1 positions per axis.",
    "half-padding": "Padding P = ⌊F/2⌋ on each side (dashed cells are zeros) keeps the size at unit stride: "
                    "output size = input size for odd F.",
    "full-padding": "Padding F − 1 on each side: every input pixel meets every kernel tap, and the output grows "
                    "by F − 1.",
    "strided": "The window jumps S cells; positions whose window would leave the padded input are dropped, "
               "hence the floor.",
    "dilated": "The kernel's taps are D cells apart: an effective kernel of D·(F − 1) + 1 cells with F taps.",
    "same-split": "SAME (padding=\"tf_same\": TensorFlow, ONNX SAME_UPPER; PyTorch's \"same\" at stride 1 only) "
                  "makes the output ⌈W/S⌉ and pads "
                  "the total needed, putting the odd pixel at the end: here 0 cells at the top and left, 1 at the "
                  "bottom and right.",
    "transposed": "A transposed convolution is drawn as the convolution it equals: S − 1 zeros between inputs "
                  "(dotted), D·(F − 1) − P zeros before, and D·(F − 1) − P + O_p after. The extra O_p "
                  "(output_padding) is the offset: with stride S, S output sizes convolve back to the same input "
                  "size, and O_p picks one of them.",
    "ceil-mode": "With ceil_mode the number of windows is rounded up instead of down, so the last window may hang "
                 "over the end (red cells are not read). PyTorch keeps that window only if it starts inside the "
                 "input or the left padding; otherwise there is one window fewer.",
}


def render_page() -> Page:
    page = Page(PATH, "Convolution arithmetic in pictures")
    page.para("Every picture on this page is drawn while the site is built from the same window enumeration the "
              "tests compare the formulas against (`symcnn.reference`), and every caption's formula and output size "
              "is the engine's: a picture cannot disagree with a formula. Windows are shown in turn (hover to "
              "pause; with reduced motion the first window is shown). Blue: the window of the highlighted output; "
              "grey: input; dashed: zero padding.")
    for anchor, build in CASES:
        g = build()
        page.add(f"## {g.title}", "")
        page.para(_TEXT[anchor])
        svg = grid_svg(g, ident=f"pic-{anchor}", show_title=False)
        page.add('<figure class="symcnn-figure">', svg, "</figure>", "")
        name, expr, value = g.formula
        page.formula(name, expr if g.shown is None else g.shown)
        args = caption(g)[0]
        page.para(f"With {args}: {name} = {number(value)}, the number of output cells drawn.")
        if g.shown is not None:  # ceil_mode: say where the last window starts (the condition of the form above)
            start = g.taps[-1][0]
            page.para(f"The last window starts at input cell {number(start)} (counting from 0), inside the input "
                      f"(W = {number(g.size)} cells), so it counts.")
    s = rf_stack()
    size, jump, start = s.engine
    page.add("## Receptive field through a small stack", "")
    page.para("Three 3×3 convolutions (padding 1), the middle one with stride 2. Each row is a tensor; a cell is "
              "drawn under the input positions it is centred on. Shaded: what one output of the last layer "
              f"depends on, found by following the windows back. Its extent is the receptive field, "
              f"r = {number(size)}; neighbouring outputs are j = {number(jump)} input pixels apart, and output 0 is "
              f"centred at input {number(start)}: the engine's r = 1 + Σ (F_l − 1)·j_(l−1), j = Π S_l.")
    page.add('<figure class="symcnn-figure">', receptive_field_svg(s, ident="pic-rf"), "</figure>", "")
    page.add("## Architectures", "")
    page.para("One model per family, drawn from the engine's graph of the model: a box for every layer that "
              "changes the tensor (activations, normalisation and dropout are folded into the box before them), "
              "with the output shape the engine derives for an input of size C × H × W (⌊·⌋ and ⌈·⌉ are floor and "
              "ceiling), and an arrow for every input of a layer. Residual additions (⊕) take the block's input "
              "through the identity or a downsampling convolution; concatenations take their branches (GoogLeNet), "
              "all earlier features (DenseNet) or the cropped encoder features (U-Net's bridges). A dashed block "
              "stands for ×n consecutive blocks of the same structure; the shapes shown are those of the last. "
              "Wide figures scroll sideways.")
    for family, model in FAMILIES.items():
        page.add(f"### {family}", "")
        svg = architecture_svg(model, family, ident=f"arch-{model}")
        width = int(re.search(r'viewBox="0 0 (\d+) ', svg).group(1))
        where = "" if width > 640 else " symcnn-narrow-only"  # wider than the 1280 px column, or than a phone
        page.add(f'<p class="symcnn-scroll-hint{where}">Wider than the column: scroll the figure sideways →</p>', "")
        page.add('<figure class="symcnn-figure symcnn-scroll">', svg,
                 "</figure>", "")
    return page


def render() -> dict[str, str]:
    """``{PATH: markdown}``."""
    page = render_page()
    return {page.path: page.text()}
