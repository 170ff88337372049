"""The pictures of the site agree with the brute-force reference and with the engine.

A grid's drawn output cells are as many as the engine's output size; the cells each window highlights are the
input pixels the reference convolution (one-hot inputs) reads; the receptive-field drawing's extent, jump and
centre are the engine's; the architecture figures' shapes are the engine's. The SVG is parsed, not trusted.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import sympy
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import symcnn as sc
from symcnn import reference
from symcnn._symbols import F, S, W
from symcnn.docsgen import _pictures_arch as _arch
from symcnn.docsgen import _plots
from symcnn.docsgen._models import model_input
from symcnn.docsgen._pictures import CASES, caption, conv_grid, grid_svg, pool_grid, transposed_grid
from symcnn.docsgen._pictures_arch import FAMILIES, architecture_graph, architecture_svg
from symcnn.docsgen._pictures_page import render
from symcnn.docsgen._pictures_rf import receptive_field_svg, rf_stack

SVG = "{http://www.w3.org/2000/svg}"


def _parse(svg: str):
    return ET.fromstring(svg)


def _pair(text: str) -> tuple[int, int]:
    a, b = text.split(",")
    return int(a), int(b)


def drawn(svg: str):
    """(output cells, {output: highlighted drawn cells}) read back from the SVG."""
    root = _parse(svg)
    outs = {_pair(r.get("data-out")) for r in root.iter(SVG + "rect") if r.get("class") == "symcnn-out"}
    windows = {}
    for g in root.iter(SVG + "g"):
        if "symcnn-win" in (g.get("class") or ""):
            windows[_pair(g.get("data-out"))] = {_pair(r.get("data-cell")) for r in g if r.get("data-cell")}
    return outs, windows


def one_hot(n: int) -> np.ndarray:
    """``n*n`` channels, channel ``c`` one at pixel ``divmod(c, n)``."""
    x = np.zeros((n * n, n, n))
    for c in range(n * n):
        x[(c, *divmod(c, n))] = 1.0
    return x


def reads(out: np.ndarray, n: int) -> dict[tuple[int, int], set[tuple[int, int]]]:
    """{output pixel: input pixels whose one-hot channel reaches it}."""
    deps: dict = {}
    for c in range(n * n):
        for r, col in zip(*np.nonzero(out[c]), strict=True):
            deps.setdefault((int(r), int(col)), set()).add(divmod(c, n))
    return deps


def engine_size(layer, n: int) -> int:
    return int(sc.analyze(layer, (1, n, n)).output_shape[2])


def reference_reads(g) -> dict:
    n = g.size
    x = one_hot(n)
    params = dict(g.params)
    if g.kind == "conv":
        w = np.ones((n * n, 1, params["F"], params["F"]))
        out, _ = reference.conv(x, w, stride=params.get("S", 1), padding=[g.pads, g.pads],
                                dilation=params.get("D", 1), groups=n * n)
    elif g.kind == "transposed":
        w = np.ones((n * n, 1, params["F"], params["F"]))
        out, _ = reference.conv_transpose(x, w, stride=params["S"], padding=params["P"],
                                          output_padding=params["O_p"], dilation=params.get("D", 1), groups=n * n)
    else:
        out = reference.pool(x, "max", params["F"], params["S"], params.get("P", 0), ceil_mode="ceil_mode" in params)
    return reads(out, n), out.shape[1]


def check_grid(g, layer) -> None:
    svg = grid_svg(g, ident="t")
    outs, windows = drawn(svg)
    size = engine_size(layer, g.size)
    assert outs == {(r, c) for r in range(size) for c in range(size)}, "drawn output grid != engine output size"
    assert g.out_size == size == g.formula[2]
    deps, ref_size = reference_reads(g)
    assert ref_size == size
    assert set(windows) == outs
    for o, cells in windows.items():
        assert cells == g.window(*o)
        src = {x: g.source[x - g.lo] for x in range(g.lo, g.hi + 1)}
        pixels = {(src[a], src[b]) for a, b in cells if src[a] is not None and src[b] is not None}
        assert pixels == deps.get(o, set()), f"output {o}: drawn {sorted(pixels)} != reference {sorted(deps[o])}"


def _layer_of(g):
    p = dict(g.params)
    if g.kind == "conv":
        pad = "full" if "P_l" in p and g.pads[0] == p["F"] - 1 and g.pads[0] == g.pads[1] and "S" not in p else \
            ("tf_same" if "P_l" in p else p.get("P", 0))
        return sc.Conv2d(1, 1, p["F"], stride=p.get("S", 1), padding=pad, dilation=p.get("D", 1))
    if g.kind == "transposed":
        return sc.ConvTranspose2d(1, 1, p["F"], stride=p["S"], padding=p["P"], output_padding=p["O_p"],
                                  dilation=p.get("D", 1))
    return sc.MaxPool2d(p["F"], stride=p["S"], padding=p.get("P", 0), ceil_mode="ceil_mode" in p)


@pytest.mark.parametrize("anchor", [a for a, _ in CASES])
def test_page_grids_agree_with_reference_and_engine(anchor):
    g = dict(CASES)[anchor]()
    check_grid(g, _layer_of(g))


def test_same_split_puts_the_odd_pixel_at_the_end():
    g = dict(CASES)["same-split"]()
    layer = sc.Conv2d(1, 1, 3, stride=2, padding="tf_same")
    assert g.pads == tuple(int(v) for v in layer.pads((6, 6))[0]) == (0, 1)
    check_grid(g, layer)


def test_ceil_mode_draws_a_hanging_window():
    g = dict(CASES)["ceil-mode"]()
    assert "off" in g.kinds and max(g.taps[-1]) >= g.size  # the last window hangs over the end
    assert g.out_size == engine_size(sc.MaxPool2d(2, 2, ceil_mode=True), 5) > engine_size(sc.MaxPool2d(2, 2), 5)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(n=st.integers(1, 7), k=st.integers(1, 4), s=st.integers(1, 3), p=st.integers(0, 2), d=st.integers(1, 2))
def test_conv_grids_property(n, k, s, p, d):
    assume(n + 2 * p >= d * (k - 1) + 1)
    check_grid(conv_grid(n, k, s, p, d), sc.Conv2d(1, 1, k, stride=s, padding=p, dilation=d))


@settings(max_examples=30, deadline=None, derandomize=True)
@given(n=st.integers(1, 5), k=st.integers(1, 4), s=st.integers(1, 3), p=st.integers(0, 2), op=st.integers(0, 2),
       d=st.integers(1, 2))
def test_transposed_grids_property(n, k, s, p, op, d):
    assume(p <= d * (k - 1) and op < max(s, d) and (n - 1) * s - 2 * p + d * (k - 1) + op >= 0)
    check_grid(transposed_grid(n, k, s, p, op, d),
               sc.ConvTranspose2d(1, 1, k, stride=s, padding=p, output_padding=op, dilation=d))


@settings(max_examples=30, deadline=None, derandomize=True)
@given(n=st.integers(1, 7), k=st.integers(1, 4), s=st.integers(1, 3), p=st.integers(0, 2), ceil=st.booleans())
def test_pool_grids_property(n, k, s, p, ceil):
    assume(2 * p <= k and n + 2 * p >= k)
    check_grid(pool_grid(n, k, s, p, ceil), sc.MaxPool2d(k, stride=s, padding=p, ceil_mode=ceil))


def _shaded(svg: str) -> dict[int, set[int]]:
    rows: dict[int, set[int]] = {}
    for r in _parse(svg).iter(SVG + "rect"):
        if r.get("data-row") is not None:
            rows.setdefault(int(r.get("data-row")), set()).add(int(r.get("data-pos")))
    return rows


def test_receptive_field_drawing_equals_engine_and_reference():
    s = rf_stack()
    shaded = _shaded(receptive_field_svg(s))
    assert shaded == {row: set(d) for row, d in enumerate(s.deps)}
    size, jump, start = s.engine
    extent = max(shaded[0]) - min(shaded[0]) + 1
    ref = reference.receptive_field_1d(s.sizes[0], list(s.layers))
    assert extent == size == ref[0]
    assert jump == ref[1] == min(s.cell_deps(len(s.layers), 1)) - min(s.cell_deps(len(s.layers), 0))
    assert start == sympy.Rational(ref[2]).limit_denominator(2) == s.centre(len(s.layers), 0)
    assert s.centre(len(s.layers), s.output) == start + s.output * jump
    assert sympy.Rational(min(shaded[0]) + max(shaded[0]), 2) == start + s.output * jump  # drawn where the engine says
    text = receptive_field_svg(s)
    assert f"r = {size}, jump j = {jump}, start = {start}" in text


layer_st = st.fixed_dictionaries({"kernel": st.integers(1, 4), "stride": st.integers(1, 2),
                                  "padding": st.integers(0, 1), "dilation": st.integers(1, 2)})


@settings(max_examples=30, deadline=None, derandomize=True)
@given(layers=st.lists(layer_st, min_size=1, max_size=3))
def test_receptive_field_drawing_property(layers):
    try:
        ref = reference.receptive_field_1d(20, layers)
    except reference.InvalidConfig:
        assume(False)
    s = rf_stack(20, tuple(layers), output=0)
    assume(s.sizes[-1] > 1)
    size, jump, start = s.engine
    shaded = _shaded(receptive_field_svg(s))
    assert max(shaded[0]) - min(shaded[0]) + 1 == size == ref[0]
    assert jump == ref[1]
    assert s.centre(len(layers), 0) == start == sympy.Rational(min(shaded[0]) + max(shaded[0]), 2)


_FOLDED = ("ReLU", "BatchNorm", "Dropout", "Tanh", "Sigmoid", "LocalResponseNorm", "ReLU6")


@pytest.mark.parametrize("family", list(FAMILIES))
def test_architecture_figure_is_the_engines_graph(family):
    """Every layer that changes the tensor is one box (or one repeat of a ×n box) with the engine's output shape;
    every input of a drawn layer is an arrow from the box of the layer that produced it (activations and
    normalisation followed back); the figure keeps its natural size (the page scrolls it)."""
    name = FAMILIES[family]
    svg = architecture_svg(name, family)
    root = _parse(svg)
    assert "min-width" in root.get("style")
    _, sym, num, t = model_input(name)
    a = sym if sym is not None else num
    by_index = {r.index: r for r in a.layers}
    boxes = [g for g in root.iter(SVG + "g") if g.get("class") == "symcnn-node"]
    box_of: dict[int, int] = {}
    first: set[int] = set()
    for g in boxes:
        recs = [int(x) for x in g.get("data-records").split()]
        assert int(g.get("data-index")) == recs[0]
        first.add(recs[0])
        for x in recs:
            assert x not in box_of
            box_of[x] = recs[0]
        shape = a.input_shape if recs[-1] < 0 else by_index[recs[-1]].output_shape
        assert g.get("data-shape") == _arch._shape_text(tuple(shape))
        for x in recs:  # the repeats of a box have the same layer kind
            assert x < 0 or by_index[x].kind == by_index[recs[0]].kind
    assert box_of[-1] == -1

    def producer(i: int) -> int:  # follow folded layers back to the layer that made the tensor
        while i >= 0 and i not in box_of:
            r = by_index[i]
            assert r.kind.startswith(_FOLDED) and len(r.inputs) == 1, r.name
            i = r.inputs[0]
        return i

    for r in a.layers:  # every layer that changes a shape or merges is drawn
        if len(r.inputs) > 1 or tuple(r.output_shape) != tuple(r.input_shape) or "Conv" in r.kind:
            assert r.index in box_of, r.name
    edges = {(int(p.get("data-from")), int(p.get("data-to")))
             for p in root.iter(SVG + "path") if p.get("class") == "symcnn-edge"}
    for r in a.layers:
        if r.index in first and r.index >= 0:
            for i in r.inputs:
                assert (box_of[producer(i)], r.index) in edges, (r.name, i)
    assert not re.search(r"floor\(|ceiling\(|Max\(|Min\(|Mod\(|Gcd\(", svg)


def test_architecture_figures_show_skips_and_repeats():
    """ResNet's blocks add the identity or a downsampling convolution, U-Net's decoder concatenates the cropped
    encoder features (a bridge from each downN block), DenseNet and repeated ResNet blocks collapse to ×n."""
    res = architecture_graph("resnet50")
    adds = [k for k, n in enumerate(res.nodes) if n.kind == "Add"]
    assert len(adds) == 8  # one per drawn block: 4 with a downsample, 4 repeated ones
    for k in adds:
        sources = [res.nodes[s] for s, d in res.edges if d == k]
        assert len(sources) == 2
        assert any("downsample" in s.label or s.kind == "Add" or s.label == "maxpool" for s in sources)
    assert sorted(g.repeat for g in res.groups if g.repeat > 1) == [2, 2, 3, 5]
    unet = architecture_graph("unet")
    bridges = {(unet.nodes[s].index, unet.nodes[d].label) for s, d in unet.edges if unet.nodes[d].kind == "CropConcat"}
    down = {n.index: n for n in unet.nodes
            if n.label == "conv2" and n.group and unet.groups[n.group].title.startswith("down")}
    assert len(down) == 4 and {i for i, _ in bridges} >= set(down)
    dense = architecture_graph("densenet121")
    assert sorted(g.repeat for g in dense.groups if g.repeat > 1) == [6, 12, 16, 24]


def test_ceil_mode_caption_is_the_engine_while_the_last_window_starts_inside():
    """The ceil_mode picture shows O = ⌈(W − F)/S⌉ + 1 and says in words that the last window must start inside the
    input: wherever it does, that is the engine's output size (elsewhere PyTorch drops it and the engine has one
    fewer)."""
    (g,) = [b() for a, b in CASES if a == "ceil-mode"]
    assert g.shown is not None and "min" not in caption(g)[1] and "⌈" in caption(g)[1]
    for w in range(1, 30):
        for f in range(1, min(w, 6) + 1):
            for s in range(1, 6):
                engine = int(g.formula[1].subs({W: w, F: f, S: s}))
                shown = int(g.shown.subs({W: w, F: f, S: s}))
                starts_inside = (shown - 1) * s < w
                assert engine == (shown if starts_inside else shown - 1), (w, f, s)


def test_page_is_offline_and_well_formed():
    pages = render()
    (text,) = pages.values()
    svgs = re.findall(r"<svg.*?</svg>", text, re.S)
    assert len(svgs) == len(CASES) + 1 + len(FAMILIES)
    for svg in svgs:
        _parse(svg)
    assert "prefers-reduced-motion" in text
    urls = set(re.findall(r"https?://[^\s\"')]+", text))
    assert urls <= {"http://www.w3.org/2000/svg"}
    assert not re.search(r"floor\(|ceiling\(|Max\(|Min\(|Mod\(|Gcd\(", text)
    assert len(set(re.findall(r'<svg[^>]* id="([^"]+)"', text))) == len(svgs)  # ids scope each picture's CSS


# --- plots (issue 14 item 9) -----------------------------------------------------------------------------------

def _series(svg: str):
    root = _parse(svg)
    lines = [p for p in root.iter(SVG + "polyline") if p.get("class") == "symcnn-series"]
    return root, lines


def test_macs_plot_series_have_distinct_colours_and_markers_per_panel():
    curves = _plots.macs_curves()
    panels = _plots.family_panels(curves)
    assert sum(len(p) for p in panels.values()) == len(curves) >= 10
    svg = _plots.panel_plot("t", "input size", "MACs", panels, logy=True)
    root, lines = _series(svg)
    assert [p.get("data-label") for p in lines] == [n for p in panels.values() for n in p]
    start = 0
    for series in panels.values():  # within a panel (its own legend) no colour and no marker repeats
        part = lines[start:start + len(series)]
        start += len(series)
        assert len({p.get("stroke") for p in part}) == len(part)
        assert len({p.get("data-marker") for p in part}) == len(part)
    titles = [t.text for t in root.iter(SVG + "text") if t.get("class") == "symcnn-axis-title"]
    assert titles.count("input size") == titles.count("MACs") == len(panels)  # axis titles on every panel


def test_line_plot_draws_markers_and_legend_and_refuses_repeating_colours():
    series = {f"s{k}": ([1, 2, 3, 4], [k, k + 1, k + 3, k + 2]) for k in range(4)}
    svg = _plots.line_plot("t", "x axis", "y axis", series)
    root, lines = _series(svg)
    assert len({p.get("stroke") for p in lines}) == 4
    legend = [t.text for t in root.iter(SVG + "text")]
    assert all(f"s{k}" in legend for k in range(4)) and "x axis" in legend and "y axis" in legend
    shapes = {"circle", "rect", "polygon", "line"}
    n_markers = sum(1 for e in root if e.tag.removeprefix(SVG) in shapes)
    assert n_markers > 4 * 2 + 4  # markers on the curves and in the legend, beyond the axes
    too_many = {f"s{k}": ([1, 2], [1, 2]) for k in range(len(_plots.COLORS) + 1)}
    with pytest.raises(ValueError, match="distinct colours"):
        _plots.line_plot("t", "x", "y", too_many)
