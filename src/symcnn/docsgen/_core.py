r"""The page builder every generated page uses: Markdown text plus a record of where each formula came from.

Every formula on a generated page goes through :meth:`Page.formula` (display) or :meth:`Page.inline`, which
print a SymPy expression with :func:`symcnn.latex` and remember ``(tex, expression)``; the tests re-print the
recorded expressions and check that each ``\( \)`` / ``\[ \]`` on the page is one of them. Nothing here
knows a formula.

>>> from symcnn import W, S, ceildiv
>>> p = Page("reference/x.md", "X")
>>> p.formula("O", ceildiv(W, S))
>>> print(p.text().splitlines()[-1])
\[ O = \left\lceil \frac{W}{S} \right\rceil \]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sympy

from ..present import fmt, latex, pretty

__all__ = ["Page", "Formula", "tex", "code", "md_escape", "MATH_RE"]

#: a display or inline math span as written by :class:`Page` (what the tests and the browser look for)
MATH_RE = re.compile(r"\\\[(.+?)\\\]|\\\((.+?)\\\)", re.S)


def tex(expr) -> str:
    """LaTeX of an expression, a relation, or a tuple of them (comma separated, in parentheses)."""
    if isinstance(expr, dict):
        return r", \quad ".join(f"{_key(k)} = {tex(v)}" for k, v in expr.items())
    if isinstance(expr, (tuple, list)):
        return r"\left(" + ", ".join(tex(e) for e in expr) + r"\right)"
    if isinstance(expr, str):
        raise TypeError(f"tex: {expr!r} is text, not an expression")
    if isinstance(expr, sympy.Rel):
        op = {"==": "=", ">=": r"\geq", "<=": r"\leq", ">": ">", "<": "<", "!=": r"\neq"}[expr.rel_op]
        return f"{latex(expr.lhs)} {op} {latex(expr.rhs)}"
    return latex(expr)


def _key(k) -> str:
    if isinstance(k, str):
        return r"\text{" + k.replace("_", r"\_") + "}"
    return tex(k)


def code(expr) -> str:
    """An expression as inline code in its display form (safe inside a Markdown table cell)."""
    if isinstance(expr, (tuple, list)):
        s = fmt(tuple(expr))
    elif isinstance(expr, sympy.Rel):
        s = f"{pretty(expr.lhs)} {expr.rel_op} {pretty(expr.rhs)}"
    elif isinstance(expr, sympy.Basic):
        s = pretty(expr)
    else:
        s = str(expr)
    return "`" + s.replace("`", "'").replace("|", "/") + "`"


def md_escape(text: str) -> str:
    """Plain text made safe for a Markdown table cell or paragraph (pipes, and no raw math delimiters)."""
    return text.replace("|", "\\|").replace("\\(", "( ").replace("\\[", "[ ").replace("$$", "$ $")


@dataclass(frozen=True)
class Formula:
    """One formula on a page: the TeX written and the expression it was printed from."""

    tex: str
    lhs: str
    expr: object
    display: bool


@dataclass
class Page:
    """A generated Markdown page under ``docs/``: ``path`` is relative to ``docs/``."""

    path: str
    title: str
    lines: list[str] = field(default_factory=list)
    formulas: list[Formula] = field(default_factory=list)

    def __post_init__(self):
        self.lines[:0] = [f"# {self.title}", ""]

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def para(self, text: str) -> None:
        self.lines.extend([text, ""])

    def formula(self, lhs: str, expr, *, where: str = "") -> None:
        """A display formula ``lhs = expr`` (``lhs`` is TeX; empty for a relation shown on its own)."""
        body = tex(expr) if not lhs else f"{lhs} = {tex(expr)}"
        if where:
            body += rf" \quad \text{{{where}}}"
        self.formulas.append(Formula(body, lhs, expr, True))
        self.lines.extend([f"\\[ {body} \\]", ""])

    def inline(self, expr, lhs: str = "") -> str:
        """Inline math for ``expr`` (to be placed in a sentence, never in a table cell)."""
        body = tex(expr) if not lhs else f"{lhs} = {tex(expr)}"
        self.formulas.append(Formula(body, lhs, expr, False))
        return f"\\({body}\\)"

    def table(self, head: list[str], rows: list[list[str]]) -> None:
        self.lines.append("| " + " | ".join(head) + " |")
        self.lines.append("|" + "---|" * len(head))
        for r in rows:
            self.lines.append("| " + " | ".join(c.replace("\n", " ") for c in r) + " |")
        self.lines.append("")

    def text(self) -> str:
        return "\n".join(self.lines).rstrip() + "\n"
