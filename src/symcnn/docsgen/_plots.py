"""SVG plots drawn from lambdified analyses (no plotting library): axes, ticks, lines, labels, legend.

>>> svg = line_plot("t", "x", "y", {"a": ([1, 2, 3], [1, 4, 9])})
>>> svg.startswith("<svg") and "<polyline" in svg
True
"""

from __future__ import annotations

import math
import re
from html import escape

import numpy as np
import sympy

from .. import models
from .._analysis import analyze
from .._symbols import H, W
from ._core import Page
from ._models import model_input

__all__ = ["line_plot", "panel_plot", "marker", "render_plots", "macs_curves", "rf_curves", "family_panels", "COLORS",
           "MARKERS"]

#: distinct, strong colours (Okabe-Ito without yellow, then black, brown, purple, olive): a plot never repeats one
COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#8C564B", "#7F3C8D",
          "#6B6B00")
#: marker shapes, one per series (with its colour): readable in grey scale and for colour-blind readers
MARKERS = ("circle", "square", "triangle", "diamond", "triangle-down", "plus", "cross", "star", "pentagon", "bar")


def _ticks(lo: float, hi: float, n: int = 6) -> list[float]:
    span = hi - lo or 1.0
    step = 10 ** math.floor(math.log10(span / n))
    for m in (1, 2, 5, 10):
        if span / (m * step) <= n:
            step *= m
            break
    start = math.ceil(lo / step) * step
    return [start + k * step for k in range(int((hi - start) / step) + 1)]


def _fmt(v: float) -> str:
    if abs(v) >= 1e4 or (0 < abs(v) < 1e-2):
        return f"{v:.0e}".replace("e+0", "e").replace("e+", "e")
    return f"{v:g}"


def marker(shape: str, x: float, y: float, color: str, r: float = 4.5) -> str:
    """An SVG marker of ``shape`` centred at ``(x, y)``."""
    if shape == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{color}"/>'
    if shape == "square":
        return f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r}" height="{2 * r}" fill="{color}"/>'
    if shape in ("plus", "cross", "bar"):
        d = {"plus": [(-r, 0, r, 0), (0, -r, 0, r)], "cross": [(-r, -r, r, r), (-r, r, r, -r)],
             "bar": [(-r, 0, r, 0)]}[shape]
        return "".join(f'<line x1="{x + a:.1f}" y1="{y + b:.1f}" x2="{x + c:.1f}" y2="{y + e:.1f}" stroke="{color}" '
                       'stroke-width="2.2"/>' for a, b, c, e in d)
    n, rot = {"triangle": (3, -90), "triangle-down": (3, 90), "diamond": (4, 0), "pentagon": (5, -90),
              "star": (10, -90)}[shape]
    pts = []
    for k in range(n):
        rr = r * 1.25 if shape != "star" or k % 2 == 0 else r * 0.5
        a = math.radians(rot + 360 * k / n)
        pts.append(f"{x + rr * math.cos(a):.1f},{y + rr * math.sin(a):.1f}")
    return f'<polygon points="{" ".join(pts)}" fill="{color}"/>'


def _panel(title: str, xlabel: str, ylabel: str, series: dict[str, tuple], *, logy: bool, width: int, oy: int,
           plot_h: int) -> tuple[list[str], int]:
    """One chart's elements at vertical offset ``oy`` (absolute coordinates, no wrapper): title, axes with
    their titles, ticks, one polyline and markers per series, the legend below in two columns. Returns
    (elements, height used)."""
    if len(series) > len(COLORS):
        raise ValueError(f"line_plot: {len(series)} series but {len(COLORS)} distinct colours; split the plot")
    left, right, top = 70, 16, 34
    xs = np.concatenate([np.asarray(x, float) for x, _ in series.values()])
    ys = np.concatenate([np.asarray(y, float) for _, y in series.values()])
    fy = (lambda v: np.log10(v)) if logy else (lambda v: np.asarray(v, float))
    x0, x1 = float(xs.min()), float(xs.max())
    y0, y1 = float(fy(ys).min()), float(fy(ys).max())
    if logy:
        y0, y1 = math.floor(y0), math.ceil(y1)
    else:
        y0 = min(0.0, y0)
    x1 = x1 if x1 > x0 else x0 + 1
    y1 = y1 if y1 > y0 else y0 + 1
    pw, ph = width - left - right, plot_h

    def px(x):
        return left + (x - x0) / (x1 - x0) * pw

    def py(y):
        return oy + top + ph - (y - y0) / (y1 - y0) * ph

    base = oy + top + ph
    out = [f'<text x="{left + pw / 2}" y="{oy + 20}" text-anchor="middle" font-size="16" font-weight="bold">'
           f'{escape(title)}</text>',
           f'<line x1="{left}" y1="{base}" x2="{left + pw}" y2="{base}" stroke="black"/>',
           f'<line x1="{left}" y1="{oy + top}" x2="{left}" y2="{base}" stroke="black"/>']
    for t in _ticks(x0, x1):
        out.append(f'<line x1="{px(t):.1f}" y1="{base}" x2="{px(t):.1f}" y2="{base + 5}" stroke="black"/>')
        out.append(f'<text x="{px(t):.1f}" y="{base + 20}" text-anchor="middle">{_fmt(t)}</text>')
    yt = [float(k) for k in range(int(y0), int(y1) + 1)] if logy else _ticks(y0, y1)
    for t in yt:
        label = f"1e{int(t)}" if logy else _fmt(t)
        out.append(f'<line x1="{left - 5}" y1="{py(t):.1f}" x2="{left + pw}" y2="{py(t):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 8}" y="{py(t) + 5:.1f}" text-anchor="end">{label}</text>')
    out.append(f'<text class="symcnn-axis-title" x="{left + pw / 2}" y="{base + 42}" text-anchor="middle" '
               f'font-weight="bold">{escape(xlabel)}</text>')
    cy = oy + top + ph / 2
    out.append(f'<text class="symcnn-axis-title" x="18" y="{cy}" text-anchor="middle" font-weight="bold" '
               f'transform="rotate(-90 18 {cy})">{escape(ylabel)}</text>')
    n_series = len(series)
    for k, (label, (x, y)) in enumerate(series.items()):
        color, shape = COLORS[k], MARKERS[k]
        pts = [(px(a), py(b)) for a, b in zip(np.asarray(x, float), fy(y), strict=True)]
        out.append(f'<polyline class="symcnn-series" data-label="{escape(label)}" data-color="{color}" '
                   f'data-marker="{shape}" fill="none" stroke="{color}" stroke-width="2" '
                   f'points="{" ".join(f"{a:.1f},{b:.1f}" for a, b in pts)}"/>')
        every = max(1, len(pts) // 7)
        for a, b in pts[(k * every) // max(n_series, 1) % every::every]:  # staggered so coinciding lines show
            out.append(marker(shape, a, b, color))
    ly = base + 62
    col_w = pw // 2
    for k, label in enumerate(series):
        x = left + (k % 2) * col_w
        y = ly + (k // 2) * 22
        out.append(f'<line x1="{x}" y1="{y - 5}" x2="{x + 26}" y2="{y - 5}" stroke="{COLORS[k]}" stroke-width="2"/>')
        out.append(marker(MARKERS[k], x + 13, y - 5, COLORS[k]))
        out.append(f'<text x="{x + 34}" y="{y}">{escape(label)}</text>')
    used = top + ph + 62 + 22 * ((n_series + 1) // 2)
    return out, used


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    return "\n".join([f'<svg xmlns="http://www.w3.org/2000/svg" class="symcnn-plot" viewBox="0 0 {width} {height}" '
                      f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}" '
                      'font-family="sans-serif" font-size="15">',
                      f'<rect x="0" y="0" width="{width}" height="{height}" fill="white"/>', *body, "</svg>"])


def line_plot(title: str, xlabel: str, ylabel: str, series: dict[str, tuple], *, logy: bool = False,
              width: int = 480, height: int = 280) -> str:
    """An SVG line chart of ``series`` ({label: (xs, ys)}): each series its own colour and marker shape (at
    most ``len(COLORS)``), axis titles on the axes, the legend under the plot. ``height`` is the plot area's."""
    body, used = _panel(title, xlabel, ylabel, series, logy=logy, width=width, oy=0, plot_h=height)
    return _svg(width, used + 8, title, body)


def panel_plot(title: str, xlabel: str, ylabel: str, panels: dict[str, dict[str, tuple]], *, logy: bool = False,
               width: int = 480, height: int = 250) -> str:
    """Small multiples: one chart per ``panels`` entry ({panel title: series}), stacked in one SVG."""
    body, oy = [], 0
    for name, series in panels.items():
        part, used = _panel(name, xlabel, ylabel, series, logy=logy, width=width, oy=oy, plot_h=height)
        body += part
        oy += used + 24
    return _svg(width, oy, title, body)


def macs_curves(sizes=range(64, 513, 8)) -> dict[str, tuple[list[int], np.ndarray]]:
    """MACs at square inputs for every zoo model analysable on (3, H, W), from the lambdified closed form."""
    xs = np.asarray(list(sizes))
    out = {}
    for name in models.names():
        _, a, _, typical = model_input(name)
        if a is None or typical != 224:  # fixed-size inputs (LeNet-5), latent inputs (DCGAN), U-Net: not here
            continue
        if not (a.macs.free_symbols <= {H, W}) or not a.macs.free_symbols:
            continue
        ok = [s for s in xs if _valid(a, int(s))]
        if len(ok) < 2:
            continue
        f = a.lambdify("macs", symbols=(H, W))
        out[name] = (ok, f(np.asarray(ok), np.asarray(ok)))
    return out


def _valid(a, s: int) -> bool:
    return all(bool(sympy.lambdify((H, W), c, "numpy")(s, s)) for c in a.constraints)


def rf_curves(names=("vgg16", "resnet50"), size: int = 224) -> dict[str, tuple[list[int], list[int]]]:
    """Receptive field (width axis) after each windowed layer, at ``size`` x ``size``."""
    out = {}
    for name in names:
        if name not in models.names():
            continue
        a = model_input(name)[2] if size == model_input(name)[3] else analyze(models.get(name), (3, size, size))
        xs, ys = [], []
        depth = 0
        for r in a.layers:
            main_path = "downsample" not in r.name  # the 1x1 shortcut convs are not on the main path
            if main_path and r.kind.startswith(("Conv", "MaxPool", "AvgPool")) and r.receptive_field.lo \
                    and r.receptive_field.size[-1] is not None:
                depth += 1
                xs.append(depth)
                ys.append(int(r.receptive_field.size[-1]))
        out[name] = (xs, ys)
    return out


def family_panels(curves: dict[str, tuple]) -> dict[str, dict[str, tuple]]:
    """The curves split by family (VGG, ResNet, the others): at most ``len(COLORS)`` series per panel."""
    panels: dict[str, dict[str, tuple]] = {"VGG": {}, "ResNet": {}, "Other families": {}}
    for name, xy in curves.items():
        key = "VGG" if name.startswith("vgg") else "ResNet" if name.startswith("resnet") else "Other families"
        panels[key][name] = xy
    return {k: dict(sorted(v.items(), key=lambda kv: _natural(kv[0]))) for k, v in panels.items() if v}


def _natural(name: str) -> tuple:
    """vgg11 < vgg11_bn < vgg13, resnet18 < resnet34 < resnet101: numbers compared as numbers."""
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name))


def _coinciding(curves: dict[str, tuple]) -> list[tuple[str, str]]:
    """Pairs of series with equal values at every size (drawn on top of each other)."""
    names = list(curves)
    return [(a, b) for i, a in enumerate(names) for b in names[i + 1:]
            if list(curves[a][0]) == list(curves[b][0]) and np.array_equal(curves[a][1], curves[b][1])]


def render_plots() -> tuple[list[Page], dict[str, str]]:
    """The plots page and its SVG files ({path under docs/: SVG text})."""
    page = Page("reference/plots.md", "Plots")
    macs = macs_curves()
    rf = rf_curves()
    files = {
        "reference/plots/macs.svg": panel_plot("MACs vs input size (square inputs)", "input size H = W (pixels)",
                                               "MACs (log scale)", family_panels(macs), logy=True),
        "reference/plots/receptive_field.svg": line_plot("Receptive field vs depth (224×224)",
                                                         "windowed layer (conv / pool), in order",
                                                         "receptive field (pixels)", rf),
    }
    page.para("Drawn while the site was built from the engine: each MACs curve is the model's closed form "
              "(`Analysis.lambdify`) evaluated at every input size where its conditions hold; receptive fields "
              "come from the per-layer records. Each series has its own colour and marker shape.")
    page.add("## MACs vs input size", "", "![MACs vs input size, one panel per family](plots/macs.svg)"
             "{ .symcnn-plot }", "")
    same = _coinciding(macs)
    if same:
        page.para("Drawn on top of each other (equal MACs at every size; their markers are staggered): "
                  + ", ".join(f"{a} and {b}" for a, b in same) + ".")
    page.add("## Receptive field vs depth", "",
             "![Receptive field vs depth](plots/receptive_field.svg){ .symcnn-plot }", "")
    final = ", ".join(f"{n}: {ys[-1]}" for n, (_, ys) in rf.items())
    page.para(f"Final receptive fields at 224×224 (last windowed layer): {final}.")
    return [page], files
