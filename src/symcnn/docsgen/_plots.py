"""SVG plots drawn from lambdified analyses (no plotting library): axes, ticks, lines, labels, legend.

>>> svg = line_plot("t", "x", "y", {"a": ([1, 2, 3], [1, 4, 9])})
>>> svg.startswith("<svg") and "<polyline" in svg
True
"""

from __future__ import annotations

import math
from html import escape

import numpy as np
import sympy

from .. import models
from .._analysis import analyze
from .._symbols import H, W
from ._core import Page
from ._models import model_input

__all__ = ["line_plot", "render_plots", "macs_curves", "rf_curves"]

_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#7f7f7f",
           "#bcbd22")


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


def line_plot(title: str, xlabel: str, ylabel: str, series: dict[str, tuple], *, logy: bool = False,
              width: int = 720, height: int = 420) -> str:
    """An SVG line chart of ``series`` ({label: (xs, ys)})."""
    left, right, top, bottom = 80, 170, 40, 50
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
    pw, ph = width - left - right, height - top - bottom

    def px(x):
        return left + (x - x0) / (x1 - x0) * pw

    def py(y):
        return top + ph - (y - y0) / (y1 - y0) * ph

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="symcnn-plot" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}" font-family="sans-serif" '
           'font-size="12">',
           f'<rect x="0" y="0" width="{width}" height="{height}" fill="white"/>',
           f'<text x="{left + pw / 2}" y="20" text-anchor="middle" font-size="14">{escape(title)}</text>',
           f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" stroke="black"/>',
           f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + ph}" stroke="black"/>']
    for t in _ticks(x0, x1):
        out.append(f'<line x1="{px(t):.1f}" y1="{top + ph}" x2="{px(t):.1f}" y2="{top + ph + 5}" stroke="black"/>')
        out.append(f'<text x="{px(t):.1f}" y="{top + ph + 18}" text-anchor="middle">{_fmt(t)}</text>')
    yt = [float(k) for k in range(int(y0), int(y1) + 1)] if logy else _ticks(y0, y1)
    for t in yt:
        label = f"1e{int(t)}" if logy else _fmt(t)
        out.append(f'<line x1="{left - 5}" y1="{py(t):.1f}" x2="{left + pw}" y2="{py(t):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 8}" y="{py(t) + 4:.1f}" text-anchor="end">{label}</text>')
    out.append(f'<text x="{left + pw / 2}" y="{height - 10}" text-anchor="middle">{escape(xlabel)}</text>')
    out.append(f'<text x="16" y="{top + ph / 2}" text-anchor="middle" transform="rotate(-90 16 {top + ph / 2})">'
               f'{escape(ylabel)}</text>')
    for k, (label, (x, y)) in enumerate(series.items()):
        color = _COLORS[k % len(_COLORS)]
        pts = " ".join(f"{px(a):.1f},{py(b):.1f}" for a, b in zip(np.asarray(x, float), fy(y), strict=True))
        out.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.6" points="{pts}"/>')
        ly = top + 14 + 16 * k
        out.append(f'<line x1="{left + pw + 12}" y1="{ly - 4}" x2="{left + pw + 32}" y2="{ly - 4}" stroke="{color}" '
                   'stroke-width="2"/>')
        out.append(f'<text x="{left + pw + 38}" y="{ly}">{escape(label)}</text>')
    out.append("</svg>")
    return "\n".join(out)


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
            if main_path and r.kind.startswith(("Conv", "MaxPool", "AvgPool")) and r.receptive_field.size:
                depth += 1
                xs.append(depth)
                ys.append(int(r.receptive_field.size[-1]))
        out[name] = (xs, ys)
    return out


def render_plots() -> tuple[list[Page], dict[str, str]]:
    """The plots page and its SVG files ({path under docs/: SVG text})."""
    page = Page("reference/plots.md", "Plots")
    macs = macs_curves()
    rf = rf_curves()
    files = {
        "reference/plots/macs.svg": line_plot("MACs vs input size (square inputs)", "input size H = W",
                                              "MACs (log scale)", macs, logy=True),
        "reference/plots/receptive_field.svg": line_plot("Receptive field vs depth (224x224)",
                                                         "windowed layers (conv / pool), in order",
                                                         "receptive field (pixels)", rf),
    }
    page.para("Drawn while the site was built from the engine: each MACs curve is the model's closed form "
              "(`Analysis.lambdify`) evaluated at every input size where its conditions hold; receptive fields "
              "come from the per-layer records.")
    page.add("## MACs vs input size", "", "![MACs vs input size](plots/macs.svg){ .symcnn-plot }", "")
    page.add("## Receptive field vs depth", "",
             "![Receptive field vs depth](plots/receptive_field.svg){ .symcnn-plot }", "")
    final = ", ".join(f"{n}: {ys[-1]}" for n, (_, ys) in rf.items())
    page.para(f"Final receptive fields at 224x224 (last windowed layer): {final}.")
    return [page], files
