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


def _row_cells(s: RFStack, row: int) -> list[tuple[float, float, int]]:
    """(left edge, width, index) of each cell of ``row``, in input positions (cell ``x`` of the input spans
    ``[x, x + 1)``): centred on the centre of its dependencies, as wide as the row's jump."""
    if row == 0:
        return [(float(x), 1.0, x) for x in range(s.sizes[0])]
    cells = []
    for k in range(s.sizes[row]):
        other = k + 1 if k + 1 < s.sizes[row] else k - 1
        j = abs(min(s.cell_deps(row, other)) - min(s.cell_deps(row, k))) if s.sizes[row] > 1 else 1
        cells.append((float(s.centre(row, k)) + 0.5 - j / 2, float(j), k))
    return cells


def receptive_field_svg(stack: RFStack | None = None, ident: str = "rf-pic") -> str:
    """Inline SVG of :func:`rf_stack`: rows from the input (bottom) to the last layer (top), the chosen
    output's dependencies shaded per row (each shaded cell carries ``data-row`` and ``data-pos``)."""
    s = rf_stack() if stack is None else stack
    c = 30
    rows = [_row_cells(s, r) for r in range(len(s.sizes))]
    lo = min(min(s.deps[0]), min(x for cells in rows for x, _, _ in cells))
    lo = int(lo // 1)
    hi = max(max(s.deps[0]), max(int(-(-(x + w) // 1)) - 1 for cells in rows for x, w, _ in cells))
    left, top, row_h = 10, 92, 62
    n_rows = len(s.sizes)
    width = left + (hi - lo + 1) * c + 10
    size, jump, start = s.engine
    height = top + n_rows * row_h + 16
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="symcnn-pic" id="{escape(ident)}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="receptive field of output {s.output} through '
           f'{len(s.layers)} layers: size {number(size)}, jump {number(jump)}, start {number(start)}" '
           f'font-family="sans-serif" font-size="15" style="width:{width}px;max-width:100%;height:auto">',
           f'<text x="{left}" y="20" font-weight="bold">What output {s.output} of the last layer sees</text>',
           f'<text x="{left}" y="44">engine: r = {number(size)}, jump j = {number(jump)}, '
           f'start = {number(start)}</text>',
           f'<text x="{left}" y="66">(output n centred at input {number(start)} + {number(jump)}·n)</text>']
    for row in range(n_rows):
        y = top + (n_rows - 1 - row) * row_h
        name = f"input ({s.sizes[0]} pixels, dashed: padding)" if row == 0 else \
            f"layer {row}: {_label(s.layers[row - 1])} → {s.sizes[row]}"
        out.append(f'<text x="{left}" y="{y + 14}" fill="#333">{escape(name)}</text>')
        y += 20
        if row == 0:
            for x in range(lo, hi + 1):
                out.append(_cell(left + (x - lo) * c, y, c, 0 <= x < s.sizes[0], x in s.deps[0], 0, x))
            continue
        for x0, w, k in rows[row]:
            out.append(_cell(left + (x0 - lo) * c, y, c * w, True, k in s.deps[row], row, k))
    out.append("</svg>")
    return "\n".join(out)


def _cell(x: float, y: float, w: float, real: bool, shaded: bool, row: int, pos: int) -> str:
    fill = "#1f6fb2" if shaded else ("#cfd8e3" if real else "#ffffff")
    dash = "" if real else ' stroke-dasharray="3 2"'
    data = f' data-row="{row}" data-pos="{pos}"' if shaded else ""
    opacity = ' fill-opacity="0.7"' if shaded else ""
    return (f'<rect class="symcnn-rf"{data} x="{x + 1:.1f}" y="{y}" width="{w - 2:.1f}" height="28" fill="{fill}"'
            f'{opacity} stroke="#5b6b7d"{dash}/>')
