"""The formula site's renderer, without MkDocs: every family, derivation, erratum and zoo model has its page,
every formula on a page is printed from an engine expression, figures are the engine's, and the calculators'
generated JavaScript gives the library's numbers and messages (run under node)."""

from __future__ import annotations

import pathlib
import xml.etree.ElementTree as ET

import pytest
import sympy

import symcnn as sc
from symcnn import C, D, F, H, K, P, S, W, docsgen
from symcnn.docsgen import _calculators, _core, _layers, _plots

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def rendered():
    from symcnn.cli import main

    pages, files = docsgen.render_pages(cli=main)
    return {p.path: p for p in pages}, files


def _math(text: str) -> list[str]:
    return [(m.group(1) or m.group(2)).strip() for m in _core.MATH_RE.finditer(text)]


# --- coverage -------------------------------------------------------------------------------------------------

def test_every_family_derivation_erratum_and_model_has_a_page(rendered):
    pages, _ = rendered
    for fam in _layers.FAMILIES:
        assert f"reference/layers/{fam.slug}.md" in pages
    assert {f.slug for f in _layers.FAMILIES} >= {"conv", "transposed", "pool", "dense", "norm", "activation",
                                                 "resize", "merge", "lenet"}
    for name in sc.derive.names():
        page = pages[f"reference/derivations/{name}.md"].text()
        assert "## Statement" in page and "## Proof" in page and "## Check" in page
    errata = pages["reference/errata.md"].text()
    for e in sc.errata():
        assert f"`{e.name}`" in errata
    for name in sc.models.names():
        assert f"reference/models/{name}.md" in pages
    for p in ("reference/index.md", "reference/plots.md", "reference/solvers.md", "reference/cli.md",
              "reference/api.md", "reference/layers/index.md", "reference/derivations/index.md",
              "reference/models/index.md"):
        assert p in pages


def test_pool_page_covers_ceil_mode_adaptive_and_spp(rendered):
    text = rendered[0]["reference/layers/pool.md"].text()
    for title in ("ceil_mode=True", "AdaptiveAvgPool2d", "SpatialPyramidPooling"):
        assert title in text


# --- every formula comes from an expression -------------------------------------------------------------------

def _reprint(f: _core.Formula) -> str:
    e = f.expr
    if isinstance(e, sympy.Basic) and not isinstance(e, sympy.Rel):
        body = sc.latex(e)  # the library's printer, called here directly
    else:
        body = _core.tex(e)
    return body if not f.lhs else f"{f.lhs} = {body}"


def test_every_math_span_is_a_recorded_expression(rendered):
    pages, _ = rendered
    total = 0
    for path, page in pages.items():
        spans = _math(page.text())
        recorded = [f.tex.split(r" \quad \text")[0] for f in page.formulas]
        assert len(spans) == len(page.formulas), path
        for span, f, rec in zip(spans, page.formulas, recorded, strict=True):
            assert span == f.tex, path
            assert rec == _reprint(f), (path, rec)
        total += len(spans)
    assert total > 500


def test_no_math_in_table_cells(rendered):
    pages, _ = rendered
    for path, page in pages.items():
        for line in page.text().splitlines():
            if line.startswith("|"):
                assert "\\(" not in line and "\\[" not in line and "$$" not in line, (path, line)


def test_conv_page_formulas_equal_an_independent_analysis(rendered):
    text = rendered[0]["reference/layers/conv.md"].text()
    a = sc.analyze(sc.Conv2d(C, K, F, stride=S, padding=P, dilation=D), (C, H, W))
    for name, expr in (("W_{\\text{out}}", a.output_shape[2]), ("\\text{params}", a.params),
                       ("\\text{MACs}", a.macs), ("\\text{FLOPs}", a.flops)):
        assert f"\\[ {name} = {sc.latex(expr)} \\]" in text


def test_golden_latex(rendered):
    pages, _ = rendered
    conv = _math(pages["reference/layers/conv.md"].text())
    assert r"W_{\text{out}} = \left\lfloor \frac{W + 2 P - D \left(F - 1\right) - 1}{S} \right\rfloor + 1" in conv
    tr = _math(pages["reference/layers/transposed.md"].text())
    assert r"W_{\text{out}} = S \left(W - 1\right) + O_{p} + D \left(F - 1\right) - 2 P + 1" in tr
    pool = _math(pages["reference/layers/pool.md"].text())
    assert (r"W_{\text{out}} = \min\left(\left\lfloor \frac{W + 2 P - F - 1}{S} \right\rfloor + 1, "
            r"\left\lfloor \frac{W + P - 1}{S} \right\rfloor\right) + 1") in pool


# --- figures are the engine's ---------------------------------------------------------------------------------

def test_verified_counts_are_the_derivations(rendered):
    conv = rendered[0]["reference/layers/conv.md"].text()
    d = sc.derive.conv_output_size()
    assert d.verified
    assert f"verified on {d.check.cases:,} cases" in conv
    page = rendered[0]["reference/derivations/conv_output_size.md"].text()
    assert f"**{d.check.cases:,} cases**" in page


def test_worked_examples_and_walkthroughs_reproduce_published_figures(rendered):
    pages, files = rendered
    assert "`(64, 112, 112)`" in pages["reference/layers/conv.md"].text()      # 7x7/2 pad 3 on 224
    assert "`(1, 4, 4)`" in pages["reference/layers/conv.md"].text()            # FULL: 2x2 with 3x3 -> 4x4
    lenet = pages["reference/models/lenet5.md"].text()
    for figure in ("122,304", "5,880", "151,600", "2,000", "48,120", "10,164", "840", "60,000", "340,908", "1,516"):
        assert figure in lenet
    vgg = pages["reference/models/vgg16.md"].text()
    for figure in ("138,357,544", "14,714,688", "123,642,856", "102,764,544", "553,430,176", "527.8 MiB"):
        assert figure in vgg
    assert "W ≡ 12 (mod 16), W >= 188" in pages["reference/models/unet.md"].text()
    assert "(64, 112, 112)" in files["reference/_snippets/home_example.md"]


# --- plots ----------------------------------------------------------------------------------------------------

def test_plots_are_svg_drawn_from_the_closed_forms(rendered):
    _, files = rendered
    svg = ET.fromstring(files["reference/plots/macs.svg"])
    ns = "{http://www.w3.org/2000/svg}"
    curves = _plots.macs_curves()
    assert len(svg.findall(f"{ns}polyline")) == len(curves) >= 10
    xs, ys = curves["vgg16"]
    i = list(xs).index(224)
    assert int(ys[i]) == int(sc.analyze(sc.models.vgg16(), (3, 224, 224)).macs)
    rf = _plots.rf_curves()
    assert rf["vgg16"][1][-1] == 212                               # VGG16's receptive field (published)
    ET.fromstring(files["reference/plots/receptive_field.svg"])


# --- calculators ----------------------------------------------------------------------------------------------

# (the calculators' JavaScript against the library: tests/test_calculators.py)


def test_calculators_are_on_their_pages(rendered):
    pages, files = rendered
    for family, calc in (("conv", "conv2d"), ("transposed", "conv_transpose2d"), ("pool", "max_pool2d")):
        assert f'data-calc="{calc}"' in pages[f"reference/layers/{family}.md"].text()
    assert "function compute_max_pool2d" in files["reference/calculators.js"]
    assert all(f'data-calc="{name}"' in pages["reference/calculators.md"].text() for name in _calculators.CALCULATORS)


# --- writer, root, optional pages -----------------------------------------------------------------------------

def test_write_replaces_the_generated_folder(tmp_path):
    (tmp_path / "mkdocs.yml").write_text(f"{docsgen.ROOT_MARKER}\nsite_name: x\n")
    stale = tmp_path / "docs" / "reference" / "stale.md"
    stale.parent.mkdir(parents=True)
    stale.write_text("old")
    docs = docsgen.write(tmp_path, {"reference/a/b.md": "# B\n"})
    assert (docs / "reference" / "a" / "b.md").read_text() == "# B\n"
    assert not stale.exists()
    with pytest.raises(ValueError, match="leaves docs/"):
        docsgen.write(tmp_path, {"../evil.md": "x"})
    assert docsgen.find_root(tmp_path / "docs") == tmp_path


def test_render_includes_optional_pages_when_their_modules_exist(monkeypatch):
    import importlib.util

    monkeypatch.setattr(docsgen, "render_pages", lambda **kw: ([], {"reference/x.md": "# X\n"}))
    out = docsgen.render()
    assert out["reference/x.md"] == "# X\n"
    for name in docsgen.OPTIONAL_PAGES:
        if importlib.util.find_spec(name) is not None:
            extra = __import__(name, fromlist=["render"]).render()
            assert set(extra) <= set(out)


def test_generated_folder_is_git_ignored():
    assert "docs/reference/" in (ROOT / ".gitignore").read_text().splitlines()
    cfg = (ROOT / "mkdocs.yml").read_text()
    for needle in ("strict: true", "font: false", "validation:", "generic: true"):
        assert needle in cfg
    for forbidden in ("repo_url", "hooks:", "gen-files", "http://", "https://"):
        assert forbidden not in cfg
