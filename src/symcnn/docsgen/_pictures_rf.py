"""A receptive-field drawing through a small stack, from dependency sets built on ``reference.windows_1d``.

Row 0 is the input, row ``l`` the output of layer ``l``; each cell of row ``l`` is drawn centred on the input
position it is centred on (so a stride-2 layer's cells are twice as wide, as in the Distill article) and the
cells one chosen output depends on are shaded, layer by layer. The engine's size, jump and start are printed
beside it; the tests check they equal the drawing's.

>>> s = rf_stack()
>>> sorted(s.deps[0])[0], sorted(s.deps[0])[-1], s.sizes
(0, 8, (12, 12, 6, 6))
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

import sympy

from .. import reference
from .._analysis import analyze
from .._graph import Sequential
from ..layers import Conv2d
from ..present import number

__all__ = ["RFStack", "rf_stack", "receptive_field_svg", "DEFAULT_STACK"]

#: conv3x3 -> conv3x3 stride 2 -> conv3x3 (padding 1 each)
DEFAULT_STACK = (dict(kernel=3, stride=1, padding=1), dict(kernel=3, stride=2, padding=1),
                 dict(kernel=3, stride=1, padding=1))


@dataclass(frozen=True)
class RFStack:
    """``sizes[l]``: length of row ``l``; ``starts[l]``: window starts of layer ``l + 1`` on row ``l``;
    ``deps[l]``: positions of row ``l`` the chosen output (index ``output`` of the last row) depends on
    (negative or past the end: padding); ``engine``: (size, jump, start) of the engine's receptive field."""

    layers: tuple[dict, ...]
    sizes: tuple[int, ...]
    starts: tuple[tuple[int, ...], ...]
    output: int
    deps: tuple[frozenset[int], ...]
    engine: tuple[sympy.Expr, sympy.Expr, sympy.Expr]

    def cell_deps(self, row: int, index: int) -> set[int]:
        """Input positions (row 0) that cell ``index`` of ``row`` depends on."""
        current = {index}
        for layer, st in zip(reversed(self.layers[:row]), reversed(self.starts[:row]), strict=True):
            d = layer.get("dilation", 1)
            current = {st[0] + o * layer.get("stride", 1) + t * d for o in current for t in range(layer["kernel"])}
        return current

    def centre(self, row: int, index: int) -> sympy.Rational:
        deps = self.cell_deps(row, index)
        return sympy.Rational(min(deps) + max(deps), 2)


def rf_stack(size: int = 12, layers=DEFAULT_STACK, output: int = 2) -> RFStack:
    """The dependency sets of output ``output`` of ``layers`` on an input of ``size``."""
    sizes, starts = [size], []
    for layer in layers:
        st = reference.windows_1d(sizes[-1], layer["kernel"], layer.get("stride", 1), layer.get("padding", 0),
                                  dilation=layer.get("dilation", 1))
        starts.append(tuple(st))
        sizes.append(len(st))
    deps = [frozenset({output})]
    for layer, st in zip(reversed(layers), reversed(starts), strict=True):
        d, step = layer.get("dilation", 1), layer.get("stride", 1)
        deps.insert(0, frozenset(st[0] + o * step + t * d for o in deps[0] for t in range(layer["kernel"])))
    model = Sequential(*(Conv2d(1, 1, la["kernel"], stride=la.get("stride", 1), padding=la.get("padding", 0),
                                dilation=la.get("dilation", 1)) for la in layers))
    rf = analyze(model, (1, size, size)).receptive_field
    return RFStack(tuple(layers), tuple(sizes), tuple(starts), output, tuple(deps),
                   (rf.size[-1], rf.stride[-1], rf.start[-1]))


def _label(layer: dict) -> str:
    k = layer["kernel"]
    parts = [f"conv {k}×{k}"]
    if layer.get("stride", 1) != 1:
        parts.append(f"stride {layer['stride']}")
    if layer.get("padding", 0):
        parts.append(f"pad {layer['padding']}")
    if layer.get("dilation", 1) != 1:
        parts.append(f"dil {layer['dilation']}")
    return ", ".join(parts)


def receptive_field_svg(stack: RFStack | None = None, ident: str = "rf-pic") -> str:
    """Inline SVG of :func:`rf_stack`: rows from the input (bottom) to the last layer (top), the chosen
    output's dependencies shaded per row (each shaded cell carries ``data-row`` and ``data-pos``)."""
    s = rf_stack() if stack is None else stack
    c = 24
    lo = min(min(s.deps[0]), 0)
    hi = max(max(s.deps[0]), s.sizes[0] - 1)
    label_w = 150
    left = label_w
    n_rows = len(s.sizes)
    top, row_h = 66, 44
    width = left + (hi - lo + 1) * c + 12
    size, jump, start = s.engine
    height = top + n_rows * row_h + 40
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="symcnn-pic" id="{escape(ident)}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="receptive field of output {s.output} through '
           f'{len(s.layers)} layers: size {number(size)}, jump {number(jump)}, start {number(start)}" '
           f'font-family="sans-serif" font-size="13" style="max-width:{width}px;width:100%;height:auto">',
           f'<text x="10" y="18" font-weight="bold">Receptive field of output {s.output} (shaded), layer by '
           'layer</text>',
           f'<text x="10" y="40">engine: size r = {number(size)}, jump j = {number(jump)}, start = {number(start)}'
           f' (output n centred at input {number(start)} + {number(jump)}·n)</text>']
    for row in range(n_rows):
        y = top + (n_rows - 1 - row) * row_h
        name = "input" if row == 0 else f"{row}: {_label(s.layers[row - 1])}"
        out.append(f'<text x="10" y="{y + 16}">{escape(name)}</text>')
        if row == 0:
            for x in range(lo, hi + 1):
                real = 0 <= x < s.sizes[0]
                shaded = x in s.deps[0]
                out.append(_cell(left + (x - lo) * c, y, c, real, shaded, 0, x))
            continue
        for k in range(s.sizes[row]):
            deps = s.cell_deps(row, k)
            j = (min(s.cell_deps(row, k + 1)) - min(deps)) if k + 1 < s.sizes[row] else \
                (min(deps) - min(s.cell_deps(row, k - 1)) if k else 1)
            centre = s.centre(row, k)
            x0 = left + (float(centre) - lo + 0.5 - j / 2) * c
            out.append(_cell(x0, y, c * j, True, k in s.deps[row], row, k))
    out.append(f'<text x="10" y="{height - 12}">dashed: zero padding; each row\'s cells drawn under the input '
               'positions they are centred on</text>')
    out.append("</svg>")
    return "\n".join(out)


def _cell(x: float, y: float, w: float, real: bool, shaded: bool, row: int, pos: int) -> str:
    fill = "#1f6fb2" if shaded else ("#cfd8e3" if real else "#ffffff")
    dash = "" if real else ' stroke-dasharray="3 2"'
    data = f' data-row="{row}" data-pos="{pos}"' if shaded else ""
    opacity = ' fill-opacity="0.7"' if shaded else ""
    return (f'<rect class="symcnn-rf"{data} x="{x + 1:.1f}" y="{y}" width="{w - 2:.1f}" height="24" fill="{fill}"'
            f'{opacity} stroke="#5b6b7d"{dash}/>')
