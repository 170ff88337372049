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

from ..present import latex, number, pretty

__all__ = ["Page", "Formula", "tex", "code", "words", "md_escape", "MATH_RE", "NOTATION", "notation", "prose",
           "cite_links", "BIB_PAGE"]

#: a display or inline math span as written by :class:`Page` (what the tests and the browser look for)
MATH_RE = re.compile(r"\\\[(.+?)\\\]|\\\((.+?)\\\)", re.S)

#: the site's one notation: engine symbol name -> the symbol shown (the Notation page lists them all)
NOTATION = {"C": "C_in", "K": "C_out", "OP": "O_p"}

#: the bibliography page, relative to docs/
BIB_PAGE = "reference/bibliography.md"


def notation(expr):
    """``expr`` with the engine's symbol names replaced by the site's notation (C -> C_in, K -> C_out, OP -> O_p)."""
    if isinstance(expr, dict):
        return {k: notation(v) for k, v in expr.items()}
    if isinstance(expr, (tuple, list)):
        return type(expr)(notation(e) for e in expr)
    if not isinstance(expr, sympy.Basic):
        return expr
    swap = {s: sympy.Symbol(NOTATION[s.name], **s.assumptions0) for s in expr.free_symbols
            if isinstance(s, sympy.Symbol) and s.name in NOTATION}
    return expr.xreplace(swap) if swap else expr


_DOLLAR = re.compile(r"\$(.+?)\$", re.S)
_TICKS = re.compile(r"``(.+?)''|``(.+?)``")


def prose(text: str) -> str:
    """Text of the package (a statement, a step, an argument) as Markdown: ``$...$`` LaTeX becomes inline math,
    literal ``*`` and ``_`` outside math are escaped (never emphasis), and pipes are escaped."""
    out, last = [], 0
    for m in _DOLLAR.finditer(text):
        out.append(_plain(text[last:m.start()]))
        out.append("\\(" + upright(m.group(1).strip()) + "\\)")
        last = m.end()
    out.append(_plain(text[last:]))
    return "".join(out)


_FLOOR = re.compile(r"\bfloor\(((?:[^()]|\([^()]*\))*)\)")
_CEIL = re.compile(r"\bceil(?:ing)?\(((?:[^()]|\([^()]*\))*)\)")


def words(text: str) -> str:
    """Engine text (a message, a grid description) in the notation of the pages: ``floor(W/n)`` reads ``⌊W/n⌋``,
    ``ceil(W/S)`` reads ``⌈W/S⌉`` (innermost first), made safe for Markdown."""
    return md_escape(brackets(text)).replace("*", "·")


def brackets(text: str) -> str:
    """``floor(x)`` and ``ceil(x)`` in text written ``⌊x⌋`` and ``⌈x⌉`` (innermost first); nothing else changes."""
    for _ in range(6):
        text = _FLOOR.sub(r"⌊\1⌋", _CEIL.sub(r"⌈\1⌉", text))
    return text


def _plain(text: str) -> str:
    text = _TICKS.sub(lambda m: "\u201c" + (m.group(1) or m.group(2)) + "\u201d", text)
    return text.replace("\\", "\\\\").replace("*", "\\*").replace("_", "\\_").replace("|", "\\|").replace(
        "<", "&lt;")


def cite_links(sources, prefix: str) -> str:
    """Citations by key, each a link to its entry on the bibliography page (``prefix``: the relative path from the
    citing page to ``docs/``); ``"key, locator"`` keeps the locator."""
    from .._bibliography import BIBLIOGRAPHY, key_of

    parts = []
    for s in sources:
        key = key_of(s)
        where = s.split(",", 1)[1].strip() if "," in s else ""
        if key in BIBLIOGRAPHY:
            link = f"[{key}]({prefix}{BIB_PAGE}#{key})"
            parts.append(f"{link}, {where}" if where else link)
        else:
            parts.append(_plain(s))
    return "; ".join(parts)



#: the order factors of a cost are written in (C_out, C_in/G, kernel, output sizes), as people write them
_FACTOR_ORDER = ("C_out", "K", "C_in", "C", "G", "M", "F", "T_out", "H_out", "W_out", "L_out", "T", "H", "W", "L")


def _product(expr) -> str | None:
    """A monomial (an integer or rational coefficient times powers of symbols) in the order people write a cost:
    ``C_out * C_in/G * F^2 * H_out * W_out`` with ``\\cdot``; None when ``expr`` is not such a monomial."""
    if not isinstance(expr, sympy.Mul):
        return None
    coeff, rest = expr.as_coeff_Mul()
    factors = sympy.Mul.make_args(rest)
    powers = []
    for f in factors:
        base, e = f.as_base_exp()
        if not (isinstance(base, sympy.Symbol) and e.is_Integer and base.name in _FACTOR_ORDER):
            return None
        powers.append((base, int(e)))
    if len(powers) < 2 or not coeff.is_Rational:
        return None
    num = [(b, e) for b, e in powers if e > 0]
    den = [(b, -e) for b, e in powers if e < 0]
    num.sort(key=lambda be: _FACTOR_ORDER.index(be[0].name))
    if len(den) > 1 or (den and den[0][1] != 1):
        return None

    def one(b, e):
        t = latex(b)
        return t if e == 1 else f"{t}^{{{e}}}"

    parts = [one(b, e) for b, e in num]
    if den:
        g = one(*den[0])
        cin = next((k for k, (b, _) in enumerate(num) if b.name in ("C_in", "C")), None)
        if cin is None:
            return None
        parts[cin] = rf"\frac{{{parts[cin]}}}{{{g}}}"
    head = "" if coeff == 1 else (latex(coeff) + r" \cdot ")
    return head + r" \cdot ".join(parts)


#: the widest display line, in :func:`tex_width` units (about 600 px of display math: the content column at
#: 1280 px is 660-690 px wide)
LINE_BUDGET = 52

_FRAC = re.compile(r"\\frac\{([^{}]*)\}\{([^{}]*)\}")
_RELATIONS = (" = ", r" \leq ", r" \geq ", " < ", " > ", r" \neq ")


def _units(t: str) -> str:
    t = re.sub(r"\\(?:text|mathrm|operatorname)\{([^{}]*)\}", r"\1", t)
    t = re.sub(r"\\[a-zA-Z]+", "#", t)
    t = re.sub(r"[_^]\{([^{}]*)\}", lambda m: "." * ((len(m.group(1)) * 7 + 9) // 10), t)
    t = re.sub(r"[_^](.)", ".", t)
    t = re.sub(r"\s*([-+=<>])\s*", r" \1 ", re.sub(r"[{}]", "", t))
    return re.sub(r"\s+", " ", t.strip())


def tex_width(t: str) -> float:
    r"""The width of TeX as KaTeX sets it, roughly, in characters (a fraction as wide as its wider part, a
    subscript 0.7, a space between terms 0.5): what decides where a long formula is broken.

    >>> tex_width(r"\frac{H}{2}"), tex_width("H/2")
    (1.0, 3.0)
    """
    t = t.replace(r"\left", "").replace(r"\right", "").replace("{,}", ",").replace(r"\quad", "  ")
    t = re.sub(r"\\begin\{aligned\}|\\end\{aligned\}|&", "", t)
    while (n := _FRAC.sub(lambda m: "#" * max(len(_units(m.group(1))), len(_units(m.group(2)))), t)) != t:
        t = n
    u = _units(t)
    return len(u) - 0.5 * u.count(" ")


def _depths(t: str):
    r"""(index, depth) of each character: braces, parentheses, brackets and \\left/\\right nest."""
    depth, i = 0, 0
    while i < len(t):
        if t.startswith(r"\left", i) or t.startswith(r"\right", i):
            depth += 1 if t[i + 1] == "l" else -1
            i += 5 if t[i + 1] == "l" else 6
            continue
        c = t[i]
        if c == "\\" and i + 1 < len(t) and t[i + 1] in "{}()[]":
            i += 2
            continue
        yield i, depth
        depth += c in "{([" and 1 or 0
        depth -= c in "})]" and 1 or 0
        i += 1


def _terms(t: str) -> list[str]:
    """``t`` cut before each top-level `` + `` / `` - `` (the sign stays with its term)."""
    cuts = [i for i, d in _depths(t) if d == 0 and i > 0 and t.startswith((" + ", " - "), i)]
    return [t[a:b].strip() for a, b in zip([0, *cuts], [*cuts, len(t)], strict=True) if t[a:b].strip()]


def _factors(term: str) -> list[str]:
    r"""``term`` cut before each top-level ``\left(``: a product's factors (a coefficient stays with the first)."""
    cuts = [i for i, d in _depths(term) if d == 0 and i > 0 and term.startswith(r" \left(", i)]
    return [term[a:b].strip() for a, b in zip([0, *cuts], [*cuts, len(term)], strict=True) if term[a:b].strip()]


def _relation(body: str) -> tuple[str, str, str]:
    """``(left, relation, right)`` of a formula at its first top-level relation (``("", "", body)`` if none)."""
    top = {i for i, d in _depths(body) if d == 0}
    for i in sorted(top):
        for rel in _RELATIONS:
            if body.startswith(rel, i):
                return body[:i], rel.strip(), body[i + len(rel):]
    return "", "", body


def fitted(body: str) -> str:
    """A display formula as written on a page: ``body`` itself, or when wider than :data:`LINE_BUDGET` broken
    into aligned lines at its relation (:func:`break_lines`)."""
    return break_lines([_relation(body)]) if tex_width(body) > LINE_BUDGET else body


def break_lines(rows) -> str:
    r"""An ``aligned`` block of ``(lhs, relation, rhs TeX)`` rows, each row as wide as :data:`LINE_BUDGET` allows:
    a long right side continues on the next lines, a group of whole terms each, indented under it.

    >>> break_lines([("a", "=", "b + c")])
    '\\begin{aligned} a &= b + c \\end{aligned}'
    >>> long = " + ".join(f"{k}000 H W" for k in range(1, 12))
    >>> print(break_lines([(r"\text{MACs}", "=", long)]).replace(r" \\ ", "\n"))
    \begin{aligned} \text{MACs} &= 1000 H W + 2000 H W + 3000 H W + 4000 H W + 5000 H W
    &\quad + 6000 H W + 7000 H W + 8000 H W + 9000 H W
    &\quad + 10000 H W + 11000 H W \end{aligned}
    """
    lines = []
    for lhs, rel, rhs in rows:
        head = f"{lhs} &{rel} " if rel else "&"
        room = LINE_BUDGET - tex_width(lhs) - 2
        line, width = "", 0.0
        for term in _terms(rhs):
            w = tex_width(term) + 1
            if line and width + w > room:
                lines.append(head + line)
                head, line, width = r"&\quad ", "", 2.0
            if width + w > room:  # one term wider than a line: its factors go on lines of their own
                for part in _factors(term):
                    pw = tex_width(part) + 1
                    if line and width + pw > room:
                        lines.append(head + line)
                        head, line, width = r"&\qquad \cdot ", "", 4.0
                    line = f"{line} {part}".strip()
                    width += pw
                continue
            line = f"{line} {term}".strip()
            width += w
        lines.append(head + line)
    return r"\begin{aligned} " + r" \\ ".join(lines) + r" \end{aligned}"


def tex(expr) -> str:
    """LaTeX of an expression, a relation, or a tuple of them (comma separated, in parentheses), in the site's
    notation (:data:`NOTATION`)."""
    return _LONG_INT.sub(_grouped, upright(_tex(expr)))


_WORD_INDEX = re.compile(r"_\{([a-z]{2,})\}")


def upright(tex_text: str) -> str:
    """Word subscripts upright, as in print: ``C_{in}`` -> ``C_{\\text{in}}``, ``N_{params}`` likewise."""
    return _WORD_INDEX.sub(r"_{\\text{\1}}", tex_text)


_LONG_INT = re.compile(r"(?<![\d.])\d{5,}(?![\d.])")


def _grouped(m) -> str:
    """A long integer in TeX with thousands separators (``38{,}592``), except as an exponent or index."""
    before = m.string[max(0, m.start() - 2):m.start()]
    if before.endswith(("^", "_")) or before in ("^{", "_{"):
        return m.group(0)
    return number(int(m.group(0))).replace(",", "{,}")


def _tex(expr) -> str:
    if isinstance(expr, dict):
        return r", \quad ".join(f"{_key(k)} = {tex(v)}" for k, v in expr.items())
    if isinstance(expr, (tuple, list)):
        return r"\left(" + ", ".join(tex(e) for e in expr) + r"\right)"
    if isinstance(expr, str):
        raise TypeError(f"tex: {expr!r} is text, not an expression")
    expr = notation(expr)
    mono = _product(expr)
    if mono is not None:
        return mono
    if isinstance(expr, sympy.Add) and all(_product(t) is not None or t.is_Symbol for t in expr.args):
        terms = sorted(expr.args, key=lambda t: (-len(sympy.Mul.make_args(t)), str(t)))
        return " + ".join(_product(t) or latex(t) for t in terms)
    if isinstance(expr, sympy.Rel):
        op = {"==": "=", ">=": r"\geq", "<=": r"\leq", ">": ">", "<": "<", "!=": r"\neq"}[expr.rel_op]
        return f"{latex(expr.lhs)} {op} {latex(expr.rhs)}"
    return latex(expr)


def _key(k) -> str:
    if isinstance(k, str):
        return r"\text{" + k.replace("_", r"\_") + "}"
    return tex(k)


def _uni(expr) -> str:
    """An expression as people write it in text (``⌊(H + 2P − F)/S⌋ + 1``, ``C·F²``), in the site's notation."""
    if isinstance(expr, (tuple, list)):
        inner = ", ".join(_uni(e) for e in expr)
        return f"({inner},)" if len(expr) == 1 else f"({inner})"
    if isinstance(expr, sympy.Rel):
        expr = notation(expr)
        op = {"==": "=", ">=": "≥", "<=": "≤", "!=": "≠"}.get(expr.rel_op, expr.rel_op)
        return f"{pretty(expr.lhs, unicode=True)} {op} {pretty(expr.rhs, unicode=True)}"
    if isinstance(expr, sympy.Basic):
        return pretty(notation(expr), unicode=True)
    return str(expr)


def code(expr) -> str:
    """An expression as inline code in the form people write (safe inside a Markdown table cell)."""
    return "`" + _uni(expr).replace("`", "'").replace("|", "/") + "`"


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
        """A display formula ``lhs = expr`` (``lhs`` is TeX; empty for a relation shown on its own). One too
        wide for the content column is broken into aligned lines, one group of terms each (:func:`break_lines`)."""
        body = fitted(tex(expr) if not lhs else f"{lhs} = {tex(expr)}")
        if where:
            body += rf" \quad \text{{{where}}}"
        self.formulas.append(Formula(body, lhs, expr, True))
        self.lines.extend([f"\\[ {body} \\]", ""])

    def inline(self, expr, lhs: str = "") -> str:
        """Inline math for ``expr`` (to be placed in a sentence, never in a table cell)."""
        body = tex(expr) if not lhs else f"{lhs} = {tex(expr)}"
        self.formulas.append(Formula(body, lhs, expr, False))
        return f"\\({body}\\)"

    def prose(self, text: str) -> str:
        """Package text (``$...$`` LaTeX inside) as Markdown; its math spans are recorded with no expression."""
        out = prose(text)
        for m in MATH_RE.finditer(out):
            self.formulas.append(Formula((m.group(1) or m.group(2)).strip(), "", None, False))
        return out

    def aligned(self, rows, *, where: str = "") -> None:
        """One display block of equations aligned on ``=``: ``rows`` are ``(lhs TeX, expression)`` pairs, one line
        each (a long sum is broken into named parts instead of running off the page)."""
        body = break_lines([(lhs, "=", tex(e)) for lhs, e in rows])
        if where:
            body += rf" \quad \text{{{where}}}"
        self.formulas.append(Formula(body, "", tuple(rows), True))
        self.lines.extend([f"\\[ {body} \\]", ""])

    def details(self, title: str, kind: str = "note") -> None:
        """Start a collapsed block (``??? note``): the lines added until :meth:`end_details` are indented."""
        self.lines.extend([f'??? {kind} "{title}"', ""])
        self._indent = len(self.lines)

    def end_details(self) -> None:
        start = getattr(self, "_indent", None)
        if start is not None:
            self.lines[start:] = [("    " + ln) if ln else ln for ln in self.lines[start:]]
            self._indent = None

    def table(self, head: list[str], rows: list[list[str]]) -> None:
        self.lines.append("| " + " | ".join(head) + " |")
        self.lines.append("|" + "---|" * len(head))
        for r in rows:
            self.lines.append("| " + " | ".join(c.replace("\n", " ") for c in r) + " |")
        self.lines.append("")

    def text(self) -> str:
        return "\n".join(self.lines).rstrip() + "\n"
