"""Convolution-arithmetic pictures drawn from the brute-force window enumeration (:mod:`symcnn.reference`).

Every picture is a :class:`Grid` (the data: which input cells each output reads) turned into inline SVG by
:func:`grid_svg`. The windows come from :func:`symcnn.reference.windows_1d`, the same enumeration the tests
compare the formulas against, so a picture cannot disagree with a formula; the caption's formula and output
size come from the engine (:func:`symcnn.analyze`) and the tests check both agree with the drawing.

>>> g = conv_grid(4, 3)                      # 4x4 input, 3x3 kernel, no padding: 2x2 output
>>> g.out_size, g.taps[1]
(2, (1, 2, 3))
>>> svg = grid_svg(g)
>>> svg.startswith("<svg") and svg.count('class="symcnn-out"') == 4
True
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from html import escape

import sympy

from .. import reference
from .._analysis import analyze
from .._intmath import ceildiv
from .._symbols import D, F, H, P, S, W, size_symbol
from ..layers import Conv2d, ConvTranspose2d, MaxPool2d
from ..present import number, pretty

__all__ = ["Grid", "caption", "conv_grid", "transposed_grid", "pool_grid", "grid_svg", "conv_grid_svg", "CASES", "OP"]

#: output_padding, as in the derivations
OP = size_symbol("O_p", nonnegative=True)

_CELL = 30  # SVG units per cell
_FRAME = 0.7  # seconds per window in the animation


@dataclass(frozen=True)
class Grid:
    """One square picture (the same arguments on both axes), per axis.

    ``size``: input cells; ``lo``/``hi``: the drawn range of positions (negative = left padding);
    ``kinds[x - lo]``: what position ``x`` is ('in' input, 'pad' zero padding, 'zero' a zero inserted between
    inputs of a transposed convolution, 'off' outside the padded input: ceil_mode's hanging window);
    ``taps[o]``: the positions output ``o`` reads; ``source[x - lo]``: the input index position ``x`` holds
    (None for padding and inserted zeros). ``formula``: (name, engine expression, engine value) of the output
    size; ``params``: the arguments as shown.
    """

    title: str
    kind: str
    size: int
    lo: int
    hi: int
    kinds: tuple[str, ...]
    source: tuple[int | None, ...]
    taps: tuple[tuple[int, ...], ...]
    params: tuple[tuple[str, int], ...]
    formula: tuple[str, sympy.Expr, int]
    pads: tuple[int, int]
    #: the form a person writes, when it is not the engine's own (ceil_mode: the rounded-up count, valid while the
    #: last window starts inside the input or the left padding, which the caption says in words)
    shown: sympy.Expr | None = None

    @property
    def out_size(self) -> int:
        return len(self.taps)

    def window(self, r: int, c: int) -> set[tuple[int, int]]:
        """Drawn cells (row, column) output ``(r, c)`` reads."""
        return set(itertools.product(self.taps[r], self.taps[c]))

    def inputs(self, r: int, c: int) -> set[tuple[int, int]]:
        """Input pixels (row, column) output ``(r, c)`` depends on (padding and inserted zeros dropped)."""
        src = {x: self.source[x - self.lo] for x in range(self.lo, self.hi + 1)}
        return {(src[a], src[b]) for a, b in self.window(r, c) if src.get(a) is not None and src.get(b) is not None}


def _engine(layer, sym_layer, n: int) -> tuple[sympy.Expr, int]:
    value = analyze(layer, (1, n, n)).output_shape[2]
    expr = analyze(sym_layer, (1, H, W)).output_shape[2]
    return expr, int(value)


def _kinds(size: int, lo: int, hi: int, pl: int, pr: int) -> tuple[tuple[str, ...], tuple[int | None, ...]]:
    kinds, source = [], []
    for x in range(lo, hi + 1):
        if 0 <= x < size:
            kinds.append("in")
            source.append(x)
        else:
            kinds.append("pad" if -pl <= x < size + pr else "off")
            source.append(None)
    return tuple(kinds), tuple(source)


def conv_grid(size: int, kernel: int, stride: int = 1, padding: int | str = 0, dilation: int = 1,
              title: str = "") -> Grid:
    """A convolution's windows (``padding`` an int or a string mode such as ``"tf_same"`` or ``"full"``), from
    ``reference.windows_1d``."""
    layer = Conv2d(1, 1, kernel, stride=stride, padding=padding, dilation=dilation)
    pl, pr = (int(v) for v in layer.pads((size, size))[0])
    starts = reference.windows_1d(size, kernel, stride, pl, pr, dilation)
    taps = tuple(tuple(t + dilation * k for k in range(kernel)) for t in starts)
    kinds, source = _kinds(size, -pl, size + pr - 1, pl, pr)
    sym = Conv2d(1, 1, F, stride=S if stride != 1 else 1,
                 padding=padding if isinstance(padding, str) else (P if padding else 0),
                 dilation=D if dilation != 1 else 1)
    expr, value = _engine(layer, sym, size)
    params = [("W", size), ("F", kernel)]
    params += [("S", stride)] if stride != 1 else []
    params += [("P", padding)] if isinstance(padding, int) and padding else []
    params += [("D", dilation)] if dilation != 1 else []
    if isinstance(padding, str):
        params += [("P_l", pl), ("P_r", pr)]
    return Grid(title, "conv", size, -pl, size + pr - 1, kinds, source, taps, tuple(params), ("O", expr, value),
                (pl, pr))


def transposed_grid(size: int, kernel: int, stride: int = 1, padding: int = 0, output_padding: int = 0,
                    dilation: int = 1, title: str = "") -> Grid:
    """A transposed convolution drawn as the equivalent stride-1 convolution (the guide's view): ``stride - 1``
    zeros between inputs, ``D(F - 1) - P`` zeros before, ``D(F - 1) - P + O_p`` after (the offset)."""
    edge = dilation * (kernel - 1) - padding
    if edge < 0:
        raise ValueError("transposed_grid: padding larger than D(F - 1) crops; not drawn")
    stretched = (size - 1) * stride + 1
    pl, pr = edge, edge + output_padding
    starts = reference.windows_1d(stretched, kernel, 1, pl, pr, dilation)
    taps = tuple(tuple(t + dilation * k for k in range(kernel)) for t in starts)
    lo, hi = -pl, stretched + pr - 1
    kinds, source = [], []
    for x in range(lo, hi + 1):
        if 0 <= x < stretched and x % stride == 0:
            kinds.append("in")
            source.append(x // stride)
        else:
            kinds.append("zero" if 0 <= x < stretched else "pad")
            source.append(None)
    layer = ConvTranspose2d(1, 1, kernel, stride=stride, padding=padding, output_padding=output_padding,
                            dilation=dilation)
    sym = ConvTranspose2d(1, 1, F, stride=S, padding=P if padding else 0, output_padding=OP if output_padding else 0,
                          dilation=D if dilation != 1 else 1)
    expr, value = _engine(layer, sym, size)
    params = [("W", size), ("F", kernel), ("S", stride), ("P", padding), ("O_p", output_padding)]
    params += [("D", dilation)] if dilation != 1 else []
    return Grid(title, "transposed", size, lo, hi, tuple(kinds), tuple(source), taps, tuple(params),
                ("O", expr, value), (pl, pr))


def pool_grid(size: int, kernel: int, stride: int, padding: int = 0, ceil_mode: bool = False,
              title: str = "") -> Grid:
    """Max pooling's windows; with ``ceil_mode`` the last one may hang over the end (cells marked 'off')."""
    starts = reference.windows_1d(size, kernel, stride, padding, padding, 1, ceil_mode)
    taps = tuple(tuple(t + k for k in range(kernel)) for t in starts)
    hi = max(size + padding - 1, max(taps[-1]))
    kinds, source = _kinds(size, -padding, hi, padding, padding)
    layer = MaxPool2d(kernel, stride=stride, padding=padding, ceil_mode=ceil_mode)
    sym = MaxPool2d(F, stride=S, padding=P if padding else 0, ceil_mode=ceil_mode)
    expr, value = _engine(layer, sym, size)
    params = [("W", size), ("F", kernel), ("S", stride)] + ([("P", padding)] if padding else [])
    params += [("ceil_mode", 1)] if ceil_mode else []
    shown = ceildiv(W + 2 * P - F if padding else W - F, S) + 1 if ceil_mode else None
    return Grid(title, "pool", size, -padding, hi, kinds, source, taps, tuple(params), ("O", expr, value),
                (padding, padding), shown)


#: the pictures of the page: (anchor, grid builder), in reading order
CASES = (
    ("no-padding", lambda: conv_grid(4, 3, title="No padding, unit stride")),
    ("half-padding", lambda: conv_grid(5, 3, padding=1, title="Half (same) padding, unit stride")),
    ("full-padding", lambda: conv_grid(5, 3, padding="full", title="Full padding, unit stride")),
    ("strided", lambda: conv_grid(5, 3, stride=2, padding=1, title="Stride 2, padding 1")),
    ("dilated", lambda: conv_grid(7, 3, dilation=2, title="Dilation 2 (atrous)")),
    ("same-split", lambda: conv_grid(6, 3, stride=2, padding="tf_same",
                                     title="SAME at stride 2: the odd padding pixel goes at the end")),
    ("transposed", lambda: transposed_grid(3, 3, stride=2, padding=1, output_padding=1,
                                           title="Transposed: stride 2, padding 1, output_padding 1")),
    ("ceil-mode", lambda: pool_grid(5, 2, 2, ceil_mode=True, title="Max pooling 2x2, stride 2, ceil_mode")),
)

_FILL = {"in": "#cfd8e3", "pad": "#ffffff", "zero": "#ffffff", "off": "#ffffff"}
_STROKE = {"in": "#5b6b7d", "pad": "#9aa5b1", "zero": "#9aa5b1", "off": "#c0392b"}
_DASH = {"in": "", "pad": ' stroke-dasharray="3 2"', "zero": ' stroke-dasharray="1 2"',
         "off": ' stroke-dasharray="4 2"'}


def caption(g: Grid) -> tuple[str, str]:
    """The two caption lines: the arguments, then ``O = formula = value`` (printed by :mod:`symcnn.present`)."""
    args = ", ".join(f"{k} = {number(v)}" if k != "ceil_mode" else "ceil_mode" for k, v in g.params)
    name, expr, value = g.formula
    return args, f"{name} = {pretty(expr if g.shown is None else g.shown, unicode=True)} = {number(value)}"


def grid_svg(g: Grid, ident: str = "pic", animate: bool = True, show_title: bool = True) -> str:
    """Inline SVG of ``g``: input (with padding, inserted zeros, hanging cells) and output, the window of each
    output shown in turn (CSS animation; paused on hover; the first window only under prefers-reduced-motion).

    Each window is a ``<g class="symcnn-win" data-out="r,c">`` of ``<rect data-cell="row,col">`` (drawn
    positions); each output cell a ``<rect class="symcnn-out" data-out="r,c">``. ``show_title=False`` leaves the
    title out (a page whose heading already says it).
    """
    n_in, n_out = g.hi - g.lo + 1, g.out_size
    c = _CELL
    lines = caption(g)
    left, top = 10, 84 - (0 if show_title and g.title else 24)
    ox = left + n_in * c + 36  # output grid's left edge
    in_label, out_label = f"input {g.size}×{g.size}{_legend(g)}", f"output {n_out}×{n_out}"
    title = g.title if show_title else ""
    shift = 0 if title else 24
    text_w = max(len(t) for t in (title, *lines)) * 8.2 + 20
    labels_w = ox + len(out_label) * 8.2 + 10
    width = int(max(ox + n_out * c + 10, text_w, labels_w))
    height = int(top + max(n_in, n_out) * c + 46)
    frames = n_out * n_out
    period = frames * _FRAME
    ident = escape(ident)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="symcnn-pic" id="{ident}" viewBox="0 0 {width} {height}" '
           f'role="img" aria-label="{escape(g.title)}: {escape(lines[0])}; {escape(lines[1])}" '
           f'font-family="sans-serif" font-size="15" style="width:{width}px;max-width:100%;height:auto">']
    if animate and frames > 1:
        on = 100 / frames
        out.append(f"<style>@keyframes {ident}-step {{0% {{opacity:1}} {on:.3f}% {{opacity:1}} "
                   f"{on + 0.001:.3f}% {{opacity:0}} 100% {{opacity:0}}}}"
                   f" #{ident} .symcnn-win {{opacity:0;animation:{ident}-step {period:.1f}s linear infinite}}"
                   f" #{ident}:hover .symcnn-win {{animation-play-state:paused}}"
                   f" @media (prefers-reduced-motion: reduce) {{#{ident} .symcnn-win {{animation:none}}"
                   f" #{ident} .symcnn-win.first {{opacity:1}}}}</style>")
    elif frames > 1:
        out.append(f"<style>#{ident} .symcnn-win {{opacity:0}} #{ident} .symcnn-win.first {{opacity:1}}</style>")
    if title:
        out.append(f'<text x="{left}" y="18" font-weight="bold">{escape(title)}</text>')
    out.append(f'<text x="{left}" y="{42 - shift}">{escape(lines[0])}</text>')
    out.append(f'<text x="{left}" y="{64 - shift}">{escape(lines[1])}</text>')
    for i, j in itertools.product(range(n_in), repeat=2):
        ki, kj = g.kinds[i], g.kinds[j]
        kind = "off" if "off" in (ki, kj) else "pad" if "pad" in (ki, kj) else "zero" if "zero" in (ki, kj) else "in"
        out.append(f'<rect x="{left + j * c}" y="{top + i * c}" width="{c}" height="{c}" fill="{_FILL[kind]}" '
                   f'stroke="{_STROKE[kind]}"{_DASH[kind]}/>')
    for r, col in itertools.product(range(n_out), repeat=2):
        out.append(f'<rect class="symcnn-out" data-out="{r},{col}" x="{ox + col * c}" y="{top + r * c}" width="{c}" '
                   f'height="{c}" fill="#e8f0e0" stroke="#4f6b3a"/>')
    for k, (r, col) in enumerate(itertools.product(range(n_out), repeat=2)):
        cls = "symcnn-win first" if k == 0 else "symcnn-win"
        out.append(f'<g class="{cls}" data-out="{r},{col}" style="animation-delay:{k * _FRAME:.1f}s">')
        for a, b in sorted(g.window(r, col)):
            x, y = left + (b - g.lo) * c, top + (a - g.lo) * c
            out.append(f'<rect data-cell="{a},{b}" x="{x + 2}" y="{y + 2}" width="{c - 4}" height="{c - 4}" '
                       'fill="#1f6fb2" fill-opacity="0.55" stroke="#0b3d66"/>')
        out.append(f'<rect x="{ox + col * c + 2}" y="{top + r * c + 2}" width="{c - 4}" height="{c - 4}" '
                   'fill="#1f6fb2" fill-opacity="0.75" stroke="#0b3d66"/>')
        out.append("</g>")
    base = top + max(n_in, n_out) * c + 24
    if left + len(in_label) * 8.2 > ox:  # the input label would run into the output's: put it one line lower
        out.append(f'<text x="{left}" y="{base + 18}">{escape(in_label)}</text>')
        height += 18
        out[0] = out[0].replace(f'viewBox="0 0 {width} {height - 18}"', f'viewBox="0 0 {width} {height}"')
    else:
        out.append(f'<text x="{left}" y="{base}">{escape(in_label)}</text>')
    out.append(f'<text x="{ox}" y="{base}">{escape(out_label)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def _legend(g: Grid) -> str:
    if g.kind == "transposed":
        return " (+ zeros, dotted)"
    if "off" in g.kinds:
        return " (red: past the end)"
    return " (+ padding, dashed)" if "pad" in g.kinds else ""


def conv_grid_svg(size: int, kernel: int, stride: int = 1, padding: int | str = 0, dilation: int = 1,
                  ident: str = "conv-pic", title: str = "") -> str:
    """Inline SVG of a convolution's windows (see :func:`conv_grid` and :func:`grid_svg`)."""
    return grid_svg(conv_grid(size, kernel, stride, padding, dilation, title or "Convolution"), ident)
