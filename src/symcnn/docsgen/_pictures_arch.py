"""One architecture figure per model family: the zoo model's blocks, top to bottom, each with its output shape
as the engine computes it (symbolic in H, W), a bar whose width grows with the channels (log scale).

>>> blocks = architecture_blocks("lenet5")
>>> [b.name for b in blocks][:3], blocks[0].shape
(['C1', 'S2', 'C3'], (6, H - 4, W - 4))
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

from ..present import number, pretty
from ._models import model_input

__all__ = ["FAMILIES", "Block", "architecture_blocks", "architecture_svg"]

#: family -> the zoo model drawn for it
FAMILIES = {
    "LeNet-5": "lenet5", "AlexNet": "alexnet", "VGG": "vgg16", "GoogLeNet": "googlenet", "ResNet": "resnet50",
    "DenseNet": "densenet121", "SqueezeNet": "squeezenet1_0", "MobileNetV2": "mobilenet_v2", "U-Net": "unet",
    "DCGAN": "dcgan_generator",
}

_CONTAINERS = {"features", "classifier", "main"}
_KEEP = ("Conv", "Linear", "Concat", "Add", "MaxPool", "AvgPool", "Adaptive", "Flatten", "Upsample", "Crop")


@dataclass(frozen=True)
class Block:
    """A drawn block: ``name`` (the module path prefix), ``kinds`` (its layer kinds, in order, without
    repeats), ``shape`` (the engine's output shape of its last layer)."""

    name: str
    kinds: tuple[str, ...]
    shape: tuple


def _key(name: str) -> str:
    parts = name.split(".")
    return ".".join(parts[:2]) if parts[0] in _CONTAINERS and len(parts) > 1 else parts[0]


def architecture_blocks(model_name: str) -> list[Block]:
    """The blocks of a zoo model: its layer records grouped by module prefix (``layer3``, ``features.4``,
    ``inception4a``), blocks of only shape-keeping activations/normalisation/dropout left out."""
    _, sym, num, _ = model_input(model_name)
    a = sym if sym is not None else num
    groups: list[tuple[str, list]] = []
    for r in a.layers:
        k = _key(r.name)
        if groups and groups[-1][0] == k:
            groups[-1][1].append(r)
        else:
            groups.append((k, [r]))
    blocks = []
    for k, records in groups:
        if not any(r.kind.startswith(_KEEP) or tuple(r.output_shape) != tuple(r.input_shape) for r in records):
            continue
        kinds = tuple(dict.fromkeys(r.kind for r in records))
        blocks.append(Block(k, kinds, tuple(records[-1].output_shape)))
    return blocks


def _shape_text(shape: tuple) -> str:
    return " × ".join(number(s) if _count(s) is not None else pretty(s, unicode=True) for s in shape)


def _kind_text(kinds: tuple[str, ...]) -> str:
    main = [k for k in kinds if k.startswith(_KEEP)] or list(kinds)
    text = ", ".join(main[:2]) + (", …" if len(main) > 2 else "")
    return text


def _count(x) -> int | None:
    return int(x) if isinstance(x, int) or getattr(x, "is_Integer", False) else None


def architecture_svg(model_name: str, family: str = "", ident: str = "") -> str:
    """Inline SVG of :func:`architecture_blocks`: one row per block (a bar growing with log2 of the channels,
    or of the features after flattening; the block's name and layer kinds; its output shape); each row is a
    ``<g class="symcnn-block" data-name=.. data-shape=..>``."""
    _, sym, num, _ = model_input(model_name)
    a = sym if sym is not None else num
    blocks = architecture_blocks(model_name)
    counts = [_count(b.shape[0]) for b in blocks]
    cmax = max([n for n in counts if n] + [int(a.input_shape[0]), 2])
    bar_max, row_h, top, text_x = 96, 46, 70, 118
    lines = [(b.name + " · " + _kind_text(b.kinds), _shape_text(b.shape)) for b in blocks]
    head = f"{family or model_name} ({model_name})"
    sub = f"input {_shape_text(tuple(a.input_shape))}; bar width ∝ log₂ channels"
    text_w = max(len(t) for pair in lines for t in pair) * 8.0
    width = int(max(text_x + text_w, len(sub) * 8.0, len(head) * 9.0) + 10)
    height = top + row_h * len(blocks) + 6
    ident = escape(ident or f"arch-{model_name}")
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="symcnn-pic symcnn-arch" id="{ident}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(head)}: {len(blocks)} blocks" '
           f'font-family="sans-serif" font-size="15" style="width:{width}px;max-width:100%;height:auto">',
           f'<text x="10" y="20" font-weight="bold">{escape(head)}</text>',
           f'<text x="10" y="44" fill="#333">{escape(sub)}</text>']
    for i, (b, n, (l1, l2)) in enumerate(zip(blocks, counts, lines, strict=True)):
        y = top + i * row_h
        w = bar_max * (0.15 + 0.85 * math.log2(min(n or cmax, cmax) + 1) / math.log2(cmax + 1))
        out.append(f'<g class="symcnn-block" data-name="{escape(b.name)}" data-shape="{escape(_shape_text(b.shape))}">')
        if i:
            out.append(f'<line x1="{10 + bar_max / 2}" y1="{y - row_h + 36}" x2="{10 + bar_max / 2}" y2="{y + 4}" '
                       'stroke="#33475b"/>')
        out.append(f'<rect x="{10 + (bar_max - w) / 2:.1f}" y="{y + 4}" width="{w:.1f}" height="32" rx="3" '
                   f'fill="{_colour(b.kinds)}" stroke="#33475b"/>')
        out.append(f'<text x="{10 + bar_max / 2}" y="{y + 25}" text-anchor="middle" font-size="13" '
                   f'fill="#111">{number(n) if n else ""}</text>')
        out.append(f'<text x="{text_x}" y="{y + 17}" font-weight="bold">{escape(l1)}</text>')
        out.append(f'<text x="{text_x}" y="{y + 36}">{escape(l2)}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)


def _colour(kinds: tuple[str, ...]) -> str:
    k = " ".join(kinds)
    if "ConvTranspose" in k or "Upsample" in k:
        return "#f4c7a1"
    if "Conv" in k:
        return "#a9c9e8"
    if "Pool" in k:
        return "#c9e3b5"
    if "Linear" in k:
        return "#e3c6ec"
    return "#e2e2e2"
