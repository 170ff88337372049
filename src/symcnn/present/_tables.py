"""Tables of an analysis summary: Markdown, LaTeX (booktabs), CSV, JSON, HTML and a terminal table.

One model, several renderings: :func:`summary_table` turns an :class:`~symcnn.Analysis` (or any object with
the same attributes: this module imports nothing from the engine) into a :class:`SummaryTable` (per-layer
rows, a total row, footer facts), and each format renders exactly those cells.
Integers are written as plain digits in every format (so the formats can be compared number by number);
closed forms are written with :func:`symcnn.pretty` (Markdown, CSV, JSON, HTML, terminal) or
:func:`symcnn.latex` (LaTeX).

>>> import symcnn as sc
>>> a = sc.analyze(sc.Sequential(sc.Conv2d(3, 8, 3, padding=1), sc.ReLU()), (3, 32, 32))
>>> print(to_markdown(a).splitlines()[2])
| # | name | kind | output | params | MACs | FLOPs | connections | activations | RF |
>>> print(to_csv(a).splitlines()[1])      # MACs 221184 = 8*32*32 * 3*3*3, FLOPs = 2 * MACs (bias)
0,0,Conv2d,"(8, 32, 32)",224,221184,442368,229376,8192,"(3, 3)"
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import shutil
import textwrap
from dataclasses import dataclass

import sympy

from .._errors import SymcnnError
from ._notation import latex, pretty

__all__ = [
    "SummaryTable", "summary_table", "rf_cell", "rf_rule", "render", "FORMATS", "to_markdown", "to_latex", "to_csv",
    "to_json", "to_html", "to_text", "latex_display",
]

#: (key, header) of every column, in order
COLUMNS = (
    ("index", "#"), ("name", "name"), ("kind", "kind"), ("output", "output"), ("params", "params"),
    ("macs", "MACs"), ("flops", "FLOPs"), ("connections", "connections"), ("activations", "activations"),
    ("rf", "RF"),
)
#: columns of the terminal table (the other totals go to the footer)
TEXT_COLUMNS = ("index", "name", "kind", "output", "params", "macs", "rf")
FORMATS = ("table", "markdown", "latex", "csv", "json", "html")


@dataclass(frozen=True)
class SummaryTable:
    """The cells every format renders.

    ``rows`` and ``total`` map column keys to cells: ``str`` (names), ``int`` (index), a tuple of SymPy
    expressions (shapes, receptive fields) or a SymPy expression. ``facts`` are ``(label, cell)`` pairs shown
    after the table (input shape, receptive-field stride, ...); ``conditions`` the validity conditions left.
    """

    title: str
    rows: tuple[dict, ...]
    total: dict
    facts: tuple[tuple[str, object], ...]
    conditions: tuple[str, ...]


def _rf_axis(rf, i: int):
    if rf.whole[i]:
        return "whole input"
    if rf.size[i] is not None:
        return rf.size[i]
    if rf.span_min[i] is not None:
        return f"{_text(rf.span_min[i])}–{_text(rf.span_max[i])}"
    return "varies with n"


def rf_cell(rf):
    """The receptive field of a tensor as a table cell (an analysis's ``ReceptiveField``, read by its attributes):
    per axis the span every output has, ``a–b`` where it varies between positions (the smallest and the largest),
    ``varies with n`` where that needs numbers, and ``whole input`` (the whole cell) after a global layer."""
    cells = tuple(_rf_axis(rf, i) for i in range(len(rf.lo)))
    if cells and cells[0] in ("whole input", "varies with n") and all(c == cells[0] for c in cells):
        return cells[0]
    return cells


def rf_rule(rf):
    """``[lo(n), hi(n)]`` per axis as text: the first and last input index output ``n`` depends on."""
    return tuple(f"[{pretty(lo)}, {pretty(hi)}]" for lo, hi in (rf.rule(i) for i in range(len(rf.lo))))


def _rf_facts(analysis) -> tuple:
    rf = analysis.receptive_field
    whole = bool(rf.whole) and all(rf.whole)
    facts = [("receptive field", rf_cell(rf)),
             ("receptive field stride", "-" if whole else tuple(s if not w else "-" for s, w in zip(
                 rf.stride, rf.whole, strict=True)))]
    if any(v or (not a and not w) for v, a, w in zip(rf.varies, rf.affine, rf.whole, strict=True)):
        facts.append(("receptive field of output n (first, last input index)", rf_rule(rf)))
    if whole:
        inner = [r for r in analysis.layers if len(r.output_shape) == len(analysis.input_shape) and rf.lo
                 and "Adaptive" not in r.kind and not any(r.receptive_field.whole)]
        if inner:
            last = inner[-1]
            facts.append((f"receptive field at the last feature map ({last.name})", rf_cell(last.receptive_field)))
    if not rf.exact:
        facts.append(("receptive field is exact", "no: a bound (" + "; ".join(rf.notes[:3]) + ")"))
    return tuple(facts)


def summary_table(analysis, title: str = "model", extra=()) -> SummaryTable:
    """The cells of a summary of ``analysis`` (one row per layer call and a total row); ``extra``
    ``(label, value)`` pairs are added to the facts (e.g. a tool's count)."""
    rows = []
    for r in analysis.layers:
        rows.append({
            "index": r.index, "name": r.name, "kind": r.kind, "output": tuple(r.output_shape),
            "params": r.params, "macs": r.macs, "flops": r.flops, "connections": r.connections,
            "activations": r.activations, "rf": rf_cell(r.receptive_field),
        })
    total = {
        "index": "", "name": "total", "kind": "", "output": tuple(analysis.output_shape),
        **{q: getattr(analysis, q) for q in ("params", "macs", "flops", "connections", "activations")},
        "rf": rf_cell(analysis.receptive_field),
    }
    facts = (
        ("input shape", tuple(analysis.input_shape)),
        ("output shape", tuple(analysis.output_shape)),
        *_rf_facts(analysis),
        *tuple(extra),
    )
    conditions = tuple(f"{c!r}  ({c.where}: {c.message})" for c in analysis.conditions)
    return SummaryTable(title, tuple(rows), total, facts, conditions)


# --- cells ------------------------------------------------------------------------------------------------

def _text(cell) -> str:
    if isinstance(cell, tuple):
        inner = ", ".join(_text(c) for c in cell)
        return f"({inner},)" if len(cell) == 1 else f"({inner})"
    if isinstance(cell, sympy.Basic):
        return str(int(cell)) if cell.is_Integer else pretty(cell)
    return str(cell)


def _numeric(cell) -> bool:
    if isinstance(cell, tuple):
        return all(_numeric(c) for c in cell)
    return isinstance(cell, int) or (isinstance(cell, sympy.Basic) and cell.is_Integer)


def _json_cell(cell):
    if isinstance(cell, tuple):
        return [_json_cell(c) for c in cell]
    if isinstance(cell, sympy.Basic):
        return int(cell) if cell.is_Integer else pretty(cell)
    return cell


def _latex_cell(cell) -> str:
    if isinstance(cell, tuple):
        if _numeric(cell):
            return _text(cell)
        inner = ", ".join(latex(c) if isinstance(c, sympy.Basic) else rf"\text{{{_latex_escape(str(c))}}}"
                          for c in cell)
        return f"$({inner}{',' if len(cell) == 1 else ''})$"
    if isinstance(cell, sympy.Basic):
        return str(int(cell)) if cell.is_Integer else f"${latex(cell)}$"
    return _latex_escape(str(cell))


_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                  "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                  "<": r"\textless{}", ">": r"\textgreater{}", "–": "--"}


def _latex_escape(text: str) -> str:
    """Text for LaTeX's text mode: specials escaped, line breaks and control characters as spaces (a name
    cannot end a ``%`` comment or start a new command line)."""
    return "".join(_LATEX_SPECIAL.get(ch, ch if ch.isprintable() else " ") for ch in text)


_MD_SPECIAL = {"&": "&amp;", "<": "&lt;", ">": "&gt;",
               **{ch: "\\" + ch for ch in "\\`*_[]|~$!"}}


def _md_escape(text: str) -> str:
    """Plain text for Markdown: no emphasis, link, code, table cell break or raw HTML can start inside it."""
    return "".join(_MD_SPECIAL.get(ch, ch if ch.isprintable() else " ") for ch in text)


def _md_code(text: str) -> str:
    """``text`` as a Markdown code span, fenced with more backticks than it contains in a row."""
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    fence = "`" * (max((len(r) for r in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _plain(text: str) -> str:
    """Text for a terminal: control characters (escape sequences, line breaks) shown as ``\\x1b``, ``\\n``."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def _keys(columns) -> list[str]:
    return [k for k, _ in COLUMNS if columns is None or k in columns]


def _headers(keys) -> list[str]:
    names = dict(COLUMNS)
    return [names[k] for k in keys]


# --- formats ----------------------------------------------------------------------------------------------

def to_markdown(analysis, title: str = "model", extra=()) -> str:
    """A Markdown pipe table (closed forms in backticks), then the facts and the conditions."""
    t = summary_table(analysis, title, extra)
    keys = _keys(None)

    def cell(c) -> str:
        if _numeric(c):
            return _text(c)
        if not isinstance(c, (tuple, sympy.Basic)):
            return _md_escape(_text(c))
        return _md_code(_text(c).replace("|", r"\|"))

    out = [f"**{_md_escape(t.title)}**", "", "| " + " | ".join(_headers(keys)) + " |", "|" + "---|" * len(keys)]
    for row in (*t.rows, t.total):
        out.append("| " + " | ".join(cell(row[k]) for k in keys) + " |")
    out.append("")
    out += [f"- {_md_escape(label)}: {cell(value)}" for label, value in t.facts]
    out += [f"- condition: {_md_code(c)}" for c in t.conditions]
    return "\n".join(out) + "\n"


def to_latex(analysis, title: str = "model", extra=()) -> str:
    """A booktabs ``tabular`` (closed forms in math mode) and the totals as display formulas.

    Needs ``\\usepackage{booktabs}`` and ``amsmath`` in the document.
    """
    t = summary_table(analysis, title, extra)
    keys = _keys(None)
    align = "".join("r" if k in ("index", "params", "macs", "flops", "connections", "activations") else "l"
                    for k in keys)
    out = [f"% {_latex_escape(t.title)}: per-layer summary generated by symcnn", f"\\begin{{tabular}}{{{align}}}",
           "\\toprule", " & ".join(_latex_escape(h) for h in _headers(keys)) + " \\\\", "\\midrule"]
    for row in t.rows:
        out.append(" & ".join(_latex_cell(row[k]) for k in keys) + " \\\\")
    out.append("\\midrule")
    out.append(" & ".join(_latex_cell(t.total[k]) for k in keys) + " \\\\")
    out += ["\\bottomrule", "\\end{tabular}", "", latex_display(analysis, env="align*")]
    return "\n".join(out) + "\n"


def latex_display(analysis, env: str = "array") -> str:
    """The totals as formulas: an ``align*`` environment, or ``$$\\begin{array}...$$`` for Jupyter/MathJax."""
    t = summary_table(analysis)
    items = [(label, value) for label, value in t.facts[:2]]
    items += [(label, t.total[k]) for k, label in (("params", "params"), ("macs", "MACs"), ("flops", "FLOPs"),
                                                   ("connections", "connections"), ("activations", "activations"))]
    items.append(("receptive field", t.total["rf"]))

    def math(c) -> str:
        if isinstance(c, tuple):
            return "\\left(" + ", ".join(math(x) for x in c) + ("," if len(c) == 1 else "") + "\\right)"
        return latex(c) if isinstance(c, sympy.Basic) else f"\\text{{{_latex_escape(str(c))}}}"

    if env == "align*":
        lines = [f"\\text{{{label}}} &= {math(v)}" for label, v in items]
        return "\\begin{align*}\n" + " \\\\\n".join(lines) + "\n\\end{align*}"
    lines = [f"\\text{{{label}}} & {math(v)}" for label, v in items]
    return "$$\\begin{array}{ll}\n" + " \\\\\n".join(lines) + "\n\\end{array}$$"


def to_csv(analysis, title: str = "model", extra=()) -> str:
    """CSV: a header row, one row per layer, the total row (its ``name`` is ``total``)."""
    t = summary_table(analysis, title, extra)
    keys = _keys(None)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(_headers(keys))
    for row in (*t.rows, t.total):
        w.writerow([_text(row[k]) for k in keys])
    return buf.getvalue()


def to_json(analysis, title: str = "model", extra=()) -> str:
    """JSON: ``layers`` (one object per layer), ``total``, ``facts`` and ``conditions``; integers are numbers,
    closed forms strings in :func:`symcnn.pretty` form."""
    t = summary_table(analysis, title, extra)
    doc = {
        "title": t.title,
        "columns": dict(COLUMNS),
        "layers": [{k: _json_cell(row[k]) for k, _ in COLUMNS} for row in t.rows],
        "total": {k: _json_cell(t.total[k]) for k, _ in COLUMNS if k not in ("index", "kind")},
        "facts": {label: _json_cell(v) for label, v in t.facts},
        "conditions": list(t.conditions),
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def to_html(analysis, title: str = "model", extra=()) -> str:
    """An HTML table (Jupyter ``_repr_html_``): closed forms in ``<code>``."""
    t = summary_table(analysis, title, extra)
    keys = _keys(None)
    esc = html.escape

    def cell(c) -> str:
        s = esc(_text(c))
        return s if (_numeric(c) or not isinstance(c, (tuple, sympy.Basic))) else f"<code>{s}</code>"

    head = "".join(f"<th>{esc(h)}</th>" for h in _headers(keys))
    body = "".join("<tr>" + "".join(f"<td>{cell(row[k])}</td>" for k in keys) + "</tr>" for row in t.rows)
    body += "<tr>" + "".join(f"<td><b>{cell(t.total[k])}</b></td>" for k in keys) + "</tr>"
    facts = "".join(f"<li>{esc(label)}: {cell(v)}</li>" for label, v in t.facts)
    facts += "".join(f"<li>condition: <code>{esc(c)}</code></li>" for c in t.conditions)
    return f"<div><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table><ul>{facts}</ul></div>"


def to_text(analysis, title: str = "model", width: int | None = None, extra=()) -> str:
    """A terminal table no wider than ``width`` (default: the terminal's): long closed forms are wrapped at
    spaces inside their column; the remaining totals, the facts and the conditions follow."""
    t = summary_table(analysis, title, extra)
    if width is None:
        width = shutil.get_terminal_size((120, 24)).columns
    width = max(int(width), 40)
    keys = [k for k, _ in COLUMNS if k in TEXT_COLUMNS]
    head = _headers(keys)
    cells = [[_plain(_text(row[k])) for k in keys] for row in (*t.rows, t.total)]
    table = _fit([head, *cells], width, total_row=len(cells))
    footer = [f"{_plain(title)}: input {_text(t.facts[0][1])}"]
    for k in ("flops", "connections", "activations"):
        footer.append(f"total {dict(COLUMNS)[k]}: {_text(t.total[k])}")
    stride = "" if t.facts[3][1] == "-" else f", stride {_text(t.facts[3][1])}"
    footer.append(f"receptive field {_text(t.facts[2][1])}{stride}")
    footer += [f"{_plain(label)}: {_plain(_text(v))}" for label, v in t.facts[4:]]
    footer += [f"condition: {_plain(c)}" for c in t.conditions]
    wrapped = [textwrap.fill(line, width, subsequent_indent="    ", break_on_hyphens=False) for line in footer]
    return "\n".join([wrapped[0], table, *wrapped[1:]])


def _wrap(text: str, width: int) -> list[str]:
    """Break ``text`` into lines of at most ``width``: preferably after ``, `` and ``*`` (between shape entries
    and factors), else at spaces, and inside a word only when it is longer than a line."""
    pieces: list[str] = []
    for chunk in re.findall(r"[^,*]*(?:, |,|\*)|[^,*]+", text):
        if len(chunk.rstrip()) <= width:
            pieces.append(chunk)
            continue
        for word in re.findall(r"[^ ]+ *| +", chunk):
            while len(word.rstrip()) > width:
                pieces.append(word[:width])
                word = word[width:]
            pieces.append(word)
    lines, cur = [], ""
    for piece in pieces:
        if len(cur) + len(piece.rstrip()) <= width:
            cur += piece
            continue
        if cur.strip():
            lines.append(cur.rstrip())
        cur = piece.lstrip()
    if cur.strip() or not lines:
        lines.append(cur.rstrip())
    return lines


def _fit(rows: list[list[str]], width: int, total_row: int, protect: int = 3) -> str:
    """Lay out ``rows`` (the first is the header) in columns fitting ``width``: shrink the widest formula column
    first (the first ``protect`` columns, index/name/kind, only when the others are down to 10 characters; none
    below its header, its longest plain number or 6 characters), wrapping cells (:func:`_wrap`)."""
    n = len(rows[0])
    sep = 2
    widths = [max(len(r[i]) for r in rows) for i in range(n)]
    numbers = [max((len(r[i]) for r in rows[1:] if r[i].isdigit()), default=0) for i in range(n)]  # never broken
    for floors in ([max(len(rows[0][i]), 10, numbers[i]) if i >= protect else widths[i] for i in range(n)],
                   [max(len(rows[0][i]), 6, numbers[i]) for i in range(n)]):
        while sum(widths) + sep * (n - 1) > width:
            i = max((j for j in range(n) if widths[j] > floors[j]), key=lambda j: (widths[j], j), default=None)
            if i is None:
                break
            widths[i] -= 1
    lines = []
    for ri, row in enumerate(rows):
        parts = [_wrap(c, widths[i]) for i, c in enumerate(row)]
        height = max(len(p) for p in parts)
        for h in range(height):
            line = (" " * sep).join((p[h] if h < len(p) else "").ljust(widths[i]) for i, p in enumerate(parts))
            lines.append(line.rstrip())
        if ri == 0 or ri == total_row - 1:
            lines.append((" " * sep).join("-" * w for w in widths))
    return "\n".join(lines)


def render(analysis, format: str = "table", title: str = "model", width: int | None = None,  # noqa: A002
           extra=()) -> str:
    """Render ``analysis`` in one of :data:`FORMATS` (``extra``: more ``(label, value)`` facts)."""
    if not isinstance(format, str) or format not in FORMATS:
        raise SymcnnError(f"render: `format`={format!r} must be one of {', '.join(FORMATS)}")
    if not isinstance(title, str):
        raise SymcnnError(f"render: `title`={title!r} must be a string")
    if format == "table":
        return to_text(analysis, title, width, extra)
    funcs = {"markdown": to_markdown, "latex": to_latex, "csv": to_csv, "json": to_json, "html": to_html}
    if format not in funcs:
        raise SymcnnError(f"render: `format`={format!r} must be one of {', '.join(FORMATS)}")
    return funcs[format](analysis, title, extra)
