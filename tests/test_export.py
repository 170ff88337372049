"""Exports: the four formats carry the same cells, the numbers are right, the terminal table fits, and the
Jupyter representations render."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from html.parser import HTMLParser

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symcnn as sc
from symcnn._parse import parse_expr_safe
from symcnn.present import _tables as export
from symcnn.spec import load_spec

KEYS = [k for k, _ in export.COLUMNS]


def _md_cell(cell: str) -> str:
    """What a Markdown reader shows for a table cell: a code span's text, or the text with its backslash
    escapes and entities decoded."""
    cell = cell.strip()
    if cell.startswith("`"):
        return cell.strip("`").strip().replace("\\|", "|")
    return html.unescape(re.sub(r"\\(.)", r"\1", cell))


def _markdown_rows(md: str) -> list[list[str]]:
    lines = [ln for ln in md.splitlines() if ln.startswith("|") and set(ln) - set("|-")]
    rows = [[_md_cell(c) for c in re.split(r"(?<!\\)\|", ln[1:-1])] for ln in lines]
    assert all(len(r) == len(KEYS) for r in rows), rows[:2]
    return rows[1:]  # header dropped


def _csv_rows(text: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [h for _, h in export.COLUMNS]
    return rows[1:]


def _json_rows(text: str) -> list[list[str]]:
    doc = json.loads(text)

    def s(v) -> str:
        if isinstance(v, list):
            inner = ", ".join(s(x) for x in v)
            return f"({inner},)" if len(v) == 1 else f"({inner})"
        return str(v)

    rows = [[s(layer[k]) for k in KEYS] for layer in doc["layers"]]
    total = doc["total"]
    rows.append([s(total.get(k, "")) for k in KEYS])
    return rows


def _latex_rows(tex: str) -> list[list[str]]:
    table = tex.split("\\end{tabular}")[0]
    body = table.split("\\midrule")[1:]  # rows, then total
    lines = [ln for part in body for ln in part.splitlines() if ln.endswith("\\\\")]
    return [[c.strip() for c in ln[:-2].split(" & ")] for ln in lines]


@pytest.fixture(scope="module", params=["resnet18@224", "tiny_unet", "small_cnn@33"])
def case(request):
    name, _, size = request.param.partition("@")
    if name in sc.models.names():
        a = sc.analyze(sc.models.get(name), (3, sc.H, sc.W))
    else:
        a = sc.analyze(*load_spec(name))
    if size:
        a = a.subs(H=int(size), W=int(size))
    return name, a


def test_markdown_csv_json_carry_identical_cells(case):
    name, a = case
    md, cs, js = _markdown_rows(export.to_markdown(a, name)), _csv_rows(export.to_csv(a)), _json_rows(export.to_json(a))
    assert len(md) == len(a.layers) + 1
    assert md == cs
    # JSON leaves the total row's index and kind out (they are empty)
    assert [r[:1] + r[3:] for r in md] == [r[:1] + r[3:] for r in js]
    assert [r[1] for r in md] == [r[1] for r in js]


def test_latex_carries_the_same_numbers(case):
    _, a = case
    md = _markdown_rows(export.to_markdown(a))
    tex = _latex_rows(export.to_latex(a))
    assert len(tex) == len(md)
    for m, t in zip(md, tex, strict=True):
        for k, mc, tc in zip(KEYS, m, t, strict=True):
            if re.fullmatch(r"[0-9]*", mc):  # numbers, and the empty cells of the total row
                assert tc == mc, (k, mc, tc)
            elif k in ("name", "kind"):
                assert tc == mc.replace("_", "\\_")
            elif k == "rf" and mc in ("whole input", "varies with n"):
                assert tc == mc  # the receptive-field cell's words (after a global layer; spans that need numbers)
            else:
                assert tc.startswith("$") or re.fullmatch(r"\([0-9, –]+\)", tc), tc


def test_cells_are_the_engines_values(case):
    """Each exported closed form parses back (whitelist parser) to the engine's expression, and the totals
    row equals the sum of the layer rows, computed here from the exported text."""
    _, a = case
    doc = json.loads(export.to_json(a))
    for q in ("params", "macs", "flops", "connections", "activations"):
        rows = [parse_expr_safe(str(layer[q])) for layer in doc["layers"]]
        total = parse_expr_safe(str(doc["total"][q]))
        assert sympy.expand(sympy.Add(*rows) - total) == 0, q
        assert sympy.expand(total - getattr(a, q)) == 0, q
    for layer, rec in zip(doc["layers"], a.layers, strict=True):
        out = tuple(parse_expr_safe(str(v)) for v in layer["output"])
        assert out == tuple(rec.output_shape)


def test_published_figures_resnet18_vgg16():
    """torchvision's figures (FORMULAS.md §5.3/§6.1): ResNet-18 11,689,512 params and 1.814 GMACs, VGG-16
    138,357,544 params and 15.470 GMACs, read back from the CSV total row."""
    for name, params, gmacs in (("resnet18", 11_689_512, 1.814), ("vgg16", 138_357_544, 15.470)):
        a = sc.analyze(sc.models.get(name), (3, 224, 224))
        total = _csv_rows(export.to_csv(a))[-1]
        assert total[1] == "total"
        assert int(total[4]) == params
        assert round(int(total[5]) / 1e9, 3) == gmacs


def test_latex_is_a_booktabs_table_with_formulas():
    a = sc.analyze(*load_spec("tiny_resnet"))
    tex = export.to_latex(a, "tiny_resnet")
    assert tex.count("\\toprule") == tex.count("\\bottomrule") == 1 and tex.count("\\midrule") == 2
    head = re.search(r"\\begin\{tabular\}\{([lr]+)\}", tex).group(1)
    table = tex.split("\\end{tabular}")[0]
    rows = [ln for ln in table.splitlines() if ln.endswith("\\\\")]
    assert len(rows) == len(a.layers) + 2
    assert all(ln.count(" & ") == len(head) - 1 for ln in rows)
    assert "\\begin{align*}" in tex and "\\text{MACs} &= " in tex
    assert "b1\\_conv1" in tex  # underscores escaped
    assert tex.count("$") % 2 == 0


def test_html_is_well_formed():
    class Collector(HTMLParser):
        def __init__(self):
            super().__init__()
            self.stack, self.rows = [], 0

        def handle_starttag(self, tag, attrs):
            self.stack.append(tag)
            self.rows += tag == "tr"

        def handle_endtag(self, tag):
            assert self.stack.pop() == tag

    a = sc.analyze(sc.models.get("vgg16"), (3, sc.H, sc.W))
    for text in (export.to_html(a), a._repr_html_()):
        p = Collector()
        p.feed(text)
        assert not p.stack and p.rows == len(a.layers) + 2


def test_terminal_table_fits_the_width():
    a = sc.analyze(sc.models.get("resnet18"), (3, sc.H, sc.W))
    for width in (80, 100, 140):
        text = export.to_text(a, "resnet18", width=width)
        assert max(len(ln) for ln in text.splitlines()) <= width
        # the first column still lists every layer index in order
        idx = [int(m.group(1)) for m in re.finditer(r"^([0-9]+)\s", text, re.MULTILINE)]
        assert idx == list(range(len(a.layers)))
    wide = export.to_text(a, "resnet18", width=400)
    assert "9408*ceil(H/2)*ceil(W/2)" in wide  # unwrapped when there is room


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="abcW*()/+- 0123456789", max_size=120), st.integers(3, 40))
def test_wrap_keeps_every_character_and_the_width(text, width):
    lines = export._wrap(text, width)
    assert all(len(ln) <= width for ln in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")


def test_render_and_analysis_to():
    a = sc.analyze(sc.Conv2d(3, 8, 3), (3, 8, 8))
    assert a.to("csv") == export.to_csv(a) and a.to("json") == export.to_json(a)
    assert export.render(a, "table", width=80) == export.to_text(a, width=80)
    with pytest.raises(sc.SymcnnError, match="`format`='xml' must be one of table, markdown"):
        a.to("xml")


def test_extra_facts_reach_every_format_but_csv():
    a = sc.analyze(sc.Conv2d(3, 8, 3), (3, 8, 8))
    extra = (("count (thop)", sympy.Integer(7776)),)
    assert "- count (thop): 7776" in export.to_markdown(a, extra=extra)
    assert json.loads(export.to_json(a, extra=extra))["facts"]["count (thop)"] == 7776
    assert "count (thop): 7776" in export.to_text(a, extra=extra)
    assert "count (thop)" not in export.to_csv(a, extra=extra)


def test_jupyter_reprs():
    a = sc.analyze(sc.Sequential(sc.Conv2d(3, 8, 3, stride=2, padding=1), sc.MaxPool2d(2)), (3, sc.H, sc.W))
    tex = a._repr_latex_()
    assert tex.startswith("$$\\begin{array}") and tex.endswith("\\end{array}$$")
    assert "\\text{MACs} & 216 \\left\\lceil \\frac{H}{2} \\right\\rceil" in tex

    r = sc.solve(sc.Conv2d(3, 64, 7, stride=2, padding=sc.P), (3, 224, 224), (64, 112, 112))
    assert r._repr_latex_() == "$$P = 3$$"
    none = sc.solve(sc.Conv2d(3, 64, 7, stride=2, padding=3), (3, 224, 224), (64, 100, 100))
    assert none._repr_latex_() == "$$\\text{no value}$$"
    sizes = sc.valid_input_sizes(sc.Sequential(sc.Conv2d(3, 8, 3, stride=2, padding=1), sc.MaxPool2d(2)),
                                 between=(1, 40), exact=True)
    assert sizes._repr_latex_() == "$$\\left(W + 1\\right) \\bmod 4 = 0 \\wedge W \\geq 3$$"

    d = sc.derive.conv_params()
    html = d._repr_html_()
    assert d.title in html and "mismatches" in html and "<ol>" in html
    tex = d._repr_latex_()
    assert tex.startswith("$$\\text{conv} = ") and tex.endswith("$$")
    assert ",\\quad \\text{linear} = O \\left(I + 1\\right)$$" in tex


EVIL = "**<script>x</script>** [a](http://e) `b` | c_d & $x$ \\input{f}\n% \x1b[31m"


def _evil_analysis():
    x = sc.Input((3, 8, 8))
    y = sc.ReLU()(sc.Conv2d(3, 4, 3)(x, name=EVIL), name="relu")
    return sc.analyze(sc.Graph(x, y), (3, 8, 8))


def test_markdown_escapes_names_and_titles():
    a = _evil_analysis()
    md = export.to_markdown(a, EVIL, extra=((EVIL, sympy.Integer(1)),))
    assert "<script>" not in md and "**<" not in md and "[a](" not in md and "\x1b" not in md
    title = md.splitlines()[0]
    assert title.startswith("**") and title.endswith("**") and title.count("**") == 2  # one bold span only
    assert title == "**" + export._md_escape(EVIL) + "**"
    # a reader decoding the escapes gets the name back, in the name column and in the facts
    assert _markdown_rows(md)[0][1] == EVIL.replace("\n", " ").replace("\x1b", " ")
    t = export.summary_table(a, EVIL, extra=((EVIL, sympy.Integer(1)),))
    # title, blank, header, rule, the rows and the total, blank, facts, conditions: no line break smuggled in
    assert len(md.splitlines()) == 4 + len(t.rows) + 1 + 1 + len(t.facts) + len(t.conditions)


def test_latex_html_text_json_csv_escape_names():
    a = _evil_analysis()
    tex = export.to_latex(a, EVIL)
    first = tex.splitlines()[0]
    assert first.startswith("% ") and "\\input" not in tex and "$x$" not in tex.split("\\end{tabular}")[0]
    assert "\\textbackslash{}input\\{f\\}" in first and "\\textless{}script\\textgreater{}" in first
    assert "\x1b" not in tex
    page = export.to_html(a)
    assert "<script>" not in page and html.escape(EVIL) in page
    text = export.to_text(a, EVIL, width=200)
    assert "\x1b" not in text and "\\x1b" in text and text.splitlines()[0].startswith("**<script>")
    doc = json.loads(export.to_json(a, EVIL))
    assert doc["title"] == EVIL and doc["layers"][0]["name"] == EVIL
    assert _csv_rows(export.to_csv(a))[0][1] == EVIL
