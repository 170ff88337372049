"""The formula site's renderer, without MkDocs: every family, derivation, erratum and zoo model has its page,
every formula on a page is printed from an engine expression, figures are the engine's, and the calculators'
generated JavaScript gives the library's numbers and messages (run under node)."""

from __future__ import annotations

import pathlib
import re
import xml.etree.ElementTree as ET

import pytest
import sympy

import symcnn as sc
from symcnn import C, D, F, H, K, P, S, W, docsgen
from symcnn.docsgen import _calculators, _core, _layers, _plots

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def rendered(site_pages):
    pages, files = site_pages
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
    if f.expr is None:  # math written in the package's own text (a statement, a step): LaTeX between $ signs
        return f.tex
    if isinstance(e, tuple) and all(isinstance(r, tuple) and isinstance(r[0], str) for r in e):  # Page.aligned
        return r"\begin{aligned} " + r" \\ ".join(f"{lhs} &= {_core.tex(x)}" for lhs, x in e) + r" \end{aligned}"
    body = _core.tex(e)
    return body if not f.lhs else f"{f.lhs} = {body}"


def _flat(t: str) -> str:
    r"""TeX without the alignment markup a long formula is broken with (``aligned``, ``&``, ``\\``, ``\quad``)."""
    t = re.sub(r"\\\\ &\\qquad \\cdot", " ", t)  # a product continued on the next line
    t = re.sub(r"\\begin\{aligned\}|\\end\{aligned\}|&|\\\\|\\quad", " ", t)
    return re.sub(r"\s+", " ", t).strip()


def test_every_math_span_is_a_recorded_expression(rendered):
    pages, _ = rendered
    total = 0
    for path, page in pages.items():
        spans = _math(page.text())
        recorded = [f.tex.split(r" \quad \text")[0] for f in page.formulas]
        assert len(spans) == len(page.formulas), path
        for span, f, rec in zip(spans, page.formulas, recorded, strict=True):
            assert span == f.tex, path
            assert _flat(rec) == _flat(_reprint(f)), (path, rec)  # line breaks of a long formula aside
            if f.display:  # a display line wider than the budget is broken into aligned lines
                for line in rec.split(r" \\ "):
                    if _core.tex_width(line) > _core.LINE_BUDGET:
                        rhs = _core._relation(line.replace("&", ""))[2]
                        assert len(_core._terms(rhs)) <= 2 and len(_core._factors(rhs)) <= 2, (path, line)
        total += len(spans)
    assert total > 500


def test_no_math_in_table_cells(rendered):
    pages, _ = rendered
    for path, page in pages.items():
        for line in page.text().splitlines():
            if line.startswith("|"):
                assert "\\(" not in line and "\\[" not in line and "$$" not in line, (path, line)


def _recorded(page, lhs: str):
    return next(f for f in page.formulas if f.lhs == lhs)


def test_conv_page_formulas_equal_an_independent_analysis(rendered):
    """The named intermediates: MACs is written with H_out and W_out; put their formulas back and it is the
    engine's MACs of an independent analysis, as are the output size, params and FLOPs."""
    page = rendered[0]["reference/layers/conv.md"]
    a = sc.analyze(sc.Conv2d(C, K, F, stride=S, padding=P, dilation=D), (C, H, W))
    h_out, w_out = (sympy.Symbol(n, integer=True, positive=True) for n in ("H_out", "W_out"))
    back = {h_out: a.output_shape[1], w_out: a.output_shape[2]}
    assert _recorded(page, r"W_{\text{out}}").expr == a.output_shape[2]
    for lhs, want in ((r"\text{params}", a.params), (r"\text{MACs}", a.macs), (r"\text{FLOPs}", a.flops)):
        got = _recorded(page, lhs).expr
        assert sympy.expand(got.xreplace(back) - want) == 0, lhs
    assert h_out in _recorded(page, r"\text{MACs}").expr.free_symbols


def test_golden_formulas_as_rendered(rendered):
    """A few key formulas exactly as a reader sees them (TeX on the page)."""
    pages, _ = rendered
    conv = _math(pages["reference/layers/conv.md"].text())
    assert r"W_{\text{out}} = \left\lfloor \frac{W + 2 P - D \left(F - 1\right) - 1}{S} \right\rfloor + 1" in conv
    assert (r"\text{MACs} = C_{\text{out}} \cdot C_{\text{in}} \cdot F^{2} \cdot H_{\text{out}} \cdot "
            r"W_{\text{out}}") in conv
    assert (r"\text{MACs} = C_{\text{out}} \cdot \frac{C_{\text{in}}}{G} \cdot F^{2} \cdot H_{\text{out}} \cdot "
            r"W_{\text{out}}") in conv
    assert r"\text{params} = C_{\text{out}} \cdot C_{\text{in}} \cdot F^{2} + C_{\text{out}}" in conv
    assert r"W_{\text{out}} = \left\lceil \frac{W}{S} \right\rceil" in conv                 # SAME
    assert r"W + 2 P \geq D \left(F - 1\right) + 1" in conv                               # output size >= 1
    tr = _math(pages["reference/layers/transposed.md"].text())
    assert r"W_{\text{out}} = S \left(W - 1\right) + O_{p} + D \left(F - 1\right) - 2 P + 1" in tr
    pool = _math(pages["reference/layers/pool.md"].text())
    assert (r"W_{\text{out}} = \min\left(\left\lfloor \frac{W + 2 P - F - 1}{S} \right\rfloor + 1, "
            r"\left\lfloor \frac{W + P - 1}{S} \right\rfloor\right) + 1") in pool
    vgg = _math(pages["reference/models/vgg16.md"].text())
    assert any(r"\text{MACs}_{1} &= 38{,}592 \cdot H \cdot W" in m for m in vgg)
    errata = pages["reference/errata.md"].text()
    assert "the claim gives -1/3, the correct value is 1" in errata
    assert "They agree exactly when never" not in errata and "The two never agree" in errata


_SYMPY_NAMES = ("Gcd(", "Max(", "Min(", "Mod(", "floor(", "ceiling(", "Piecewise(", "Eq(", "Sum(", "Product(")


def _visible(text: str) -> str:
    """Page text a reader sees as prose, math and table cells (code blocks, where Python's forms are the point,
    removed; inline code stays: formulas in table cells are inline code)."""
    return re.sub(r"```.*?```", "", text, flags=re.S)


def test_no_sympy_names_in_rendered_text(rendered):
    pages, _ = rendered
    for path, page in pages.items():
        if path.endswith(("api.md", "cli.md", "solvers.md", "benchmarks.md", "plots.md")):
            continue  # other authors' pages (examples run at the Python prompt), checked in the browser test
        seen = _visible(page.text())
        for name in _SYMPY_NAMES:
            assert name not in seen, (path, name)
        assert not re.search(r"(?<![\w/.])\d\.\d{6,}", seen), path  # no float noise (DOIs aside)


def test_no_reference_to_files_outside_the_project(rendered, site_text):
    pages, files = rendered
    texts = {p: page.text() for p, page in pages.items()}
    for static in ("index.md", "getting-started.md", "notation.md", "conventions.md"):
        texts[static] = (ROOT / "docs" / static).read_text()
    for path, text in texts.items():
        for needle in ("FORMULAS", "WORKED-EXAMPLES", "tests/", "test_", ".py`", "issue 1", "issue #"):
            assert needle not in text, (path, needle)
    out = site_text  # the optional pages of other modules (tool comparison, benchmarks) too
    for path in ("reference/counting.md", "reference/benchmarks.md"):
        if path in out:
            for needle in ("FORMULAS", "WORKED-EXAMPLES", "tests/", "issue #"):
                assert needle not in out[path], (path, needle)
            if path == "reference/counting.md":  # the benchmarks quote recorded final sizes as the run printed them
                for name in _SYMPY_NAMES:
                    assert name not in _visible(out[path]), (path, name)


def test_every_page_has_a_title_and_is_in_the_navigation(rendered, site_text):
    out = site_text
    nav = out["reference/_snippets/site.yml"]
    for path, text in out.items():
        if path.endswith(".md") and "/_snippets/" not in path:
            assert text.startswith("# ") and len(text.splitlines()[0]) > 3, path
            assert f'"{path}"' in nav, path
    for static in ("index.md", "getting-started.md", "notation.md", "conventions.md"):
        assert f'"{static}"' in nav
    assert nav.index("getting-started.md") < nav.index("notation.md") < nav.index("reference/layers/index.md") \
        < nav.index("reference/receptive-field.md") < nav.index("reference/derivations/index.md") \
        < nav.index("reference/errata.md") < nav.index("reference/models/index.md") < nav.index("reference/api.md")
    assert f"symcnn {sc.__version__}" in nav
    assert rendered[0]["reference/models/lenet5.md"].text().startswith("# LeNet-5\n")
    assert rendered[0]["reference/models/vgg16.md"].text().startswith("# VGG-16\n")
    assert rendered[0]["reference/models/resnet50.md"].text().startswith("# ResNet-50\n")


def test_citations_link_to_the_bibliography(rendered):
    from symcnn._bibliography import BIBLIOGRAPHY

    pages, _ = rendered
    bib = pages["reference/bibliography.md"].text()
    for key, source in BIBLIOGRAPHY.items():
        assert f"## {key} {{#{key}}}" in bib and source.url in bib
    for name in sc.derive.names():
        text = pages[f"reference/derivations/{name}.md"].text()
        for s in getattr(sc.derive, name)().sources:
            assert f"bibliography.md#{s.split(',')[0]}" in text
        assert "../../reference/bibliography.md#" in text
    assert "../reference/bibliography.md#" in pages["reference/errata.md"].text()


def test_receptive_field_headline_and_versions(rendered):
    pages, _ = rendered
    rf = pages["reference/receptive-field.md"].text()
    assert "| [VGG-16](models/vgg16.md) | 224 | `features.30` | 7×7 | 212 | 32 |" in rf
    assert "| [ResNet-50](models/resnet50.md) | 224 | `layer4.2.relu_out` | 7×7 | 427 | 32 |" in rf
    assert "**V1 483**, **V1.5 427**" in rf
    vgg = pages["reference/models/vgg16.md"].text()
    assert "**212 × 212**" in vgg and "every output of the classifier depends on the whole input" in vgg
    assert "| `classifier.6` | Linear | `(1000,)` |" in vgg and "| whole input |" in vgg
    # through upsampling and transposed convolutions: exact ranges, never a fraction of a pixel
    assert "| [U-Net](models/unet.md) | 572 | `final` | 388×388 | 188–204 | 1 (average) | – | – | [0, 187] |" in rf
    assert "| [DCGAN generator](models/dcgan_generator.md) | 1 | `main.13` | 64×64 | 1 | 0 | 0 | 0 | [0, 0] |" in rf
    unet, gen = pages["reference/models/unet.md"].text(), pages["reference/models/dcgan_generator.md"].text()
    assert "**188–204**" in unet and "inputs [0, 187]" in unet and "15/2" not in unet and "200 × 200" not in unet
    assert "**1 × 1**" in gen and "47/8" not in gen
    assert "3·3·3·64 + 64 = 1,792" in vgg and "3·3·64·64 + 64 = 36,928" in vgg


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
    assert "W ≡ 12 (mod 16), W >= 188" in pages["reference/models/unet.md"].text().replace("\\>", ">")
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
