"""The calculators page: every browser calculator, grouped by layer family, with a sentence on each family."""

from __future__ import annotations

from .._intmath import ceildiv, floordiv
from .._symbols import size_symbol
from ._calculator_defs import CALCULATORS
from ._core import Page

__all__ = ["render_calculator_page"]


def _groups(page: Page) -> list[tuple[str, str, tuple[str, ...]]]:
    """The calculators page: (heading, text, calculators), in reading order; formulas printed by ``page``."""
    x, s, o, i = (size_symbol(n) for n in ("X", "S", "O", "i"))
    return [
        ("Convolution", "`Conv1d`, `Conv2d`, `Conv3d` with per-axis kernel F, stride S, padding P and dilation D, "
         "groups G and bias.", ("conv2d", "conv1d", "conv3d")),
        ("SAME padding", "`padding=\"tf_same\"`: TensorFlow's SAME (ONNX `SAME_UPPER`) at any stride: the output "
         f"size is {page.inline(ceildiv(x, s))} and the total padding is split with the odd pixel on the right "
         "(bottom). At stride 1 it is PyTorch's `padding=\"same\"`, which PyTorch (and symcnn) refuse at any "
         "other stride.",
         ("conv2d_same",)),
        ("Transposed convolution", "`ConvTranspose1d/2d/3d` with output_padding, dilation and groups; MACs are "
         "counted per input pixel.", ("conv_transpose2d", "conv_transpose1d", "conv_transpose3d")),
        ("Max and average pooling", "With `ceil_mode` a last, partial window counts when it starts inside the input "
         "or the left padding; the rows below the sizes say where the last window starts and how far it hangs over. "
         "`count_include_pad` changes the divisor of an average (the values), never the output size.",
         ("max_pool2d", "avg_pool2d", "max_pool1d", "avg_pool1d", "max_pool3d", "avg_pool3d")),
        ("Adaptive pooling", f"Window {page.inline(i)} of an axis covers the inputs from "
         f"{page.inline(floordiv(i * x, o))} up to, not including, {page.inline(ceildiv((i + 1) * x, o))}; windows "
         f"overlap when "
         f"{page.inline(o)} does not divide {page.inline(x)}.", ("adaptive_avg_pool2d", "adaptive_max_pool2d")),
        ("Upsampling", "`Upsample` with `scale_factor` (PyTorch multiplies in double precision, then rounds down: "
         "10 × 1.7 gives 17) or with `size`.", ("upsample_scale", "upsample_size")),
    ]


def render_calculator_page() -> Page:
    """One page with every calculator, grouped by layer family."""
    page = Page("reference/calculators.md", "Calculators")
    page.para("Type numbers; the outputs update as you type. Every number is exact, also far above 2^53 "
              "(9,007,199,254,740,992), because the page computes with JavaScript integers (BigInt) in code generated "
              "from the same expressions and validity conditions that the layer pages print. An input PyTorch "
              "refuses is refused here too, with the layer's own message in a red box.")
    for heading, text, names in _groups(page):
        page.add(f"## {heading}", "")
        page.para(text)
        for name in names:
            page.add(f"### {CALCULATORS[name].title}", "", f'<div class="symcnn-calc" data-calc="{name}" '
                     'markdown="0"></div>', "")
    return page
