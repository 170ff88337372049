"""Documents about one object: a derivation as HTML or LaTeX, and :func:`show` for the values they display.

The renderers take a derivation by duck typing (``title``, ``statement``, ``assumptions``, ``steps``,
``result``, ``proof``, ``check``, ``sources``), so the derivations import their renderers, never the reverse.

>>> from symcnn import W, S, ceildiv
>>> show({"out": ceildiv(W, S), "shape": (3,)})
'out = ceil(W/S), shape = (3,)'
"""

from __future__ import annotations

import html

import sympy

from ._notation import latex, pretty
from ._tables import _latex_escape

__all__ = ["show", "derivation_html", "derivation_latex"]


def show(value) -> str:
    """A value as text in a document: a relation as ``lhs op rhs``, a dict as ``k = v, ...``, a tuple or a
    list in parentheses (a 1-tuple as ``(x,)``), expressions in :func:`pretty` form, anything else by ``str``."""
    if isinstance(value, dict):
        return ", ".join(f"{k} = {show(v)}" for k, v in value.items())
    if isinstance(value, (tuple, list)):
        inner = ", ".join(show(v) for v in value)
        return f"({inner},)" if isinstance(value, tuple) and len(value) == 1 else f"({inner})"
    if isinstance(value, sympy.Rel):
        return f"{pretty(value.lhs)} {value.rel_op} {pretty(value.rhs)}"
    if isinstance(value, sympy.Basic):
        return pretty(value)
    return str(value)


def _show_latex(x) -> str:
    if isinstance(x, dict):
        return ",\\quad ".join(f"\\text{{{_latex_escape(str(k))}}} = {_show_latex(v)}" for k, v in x.items())
    if isinstance(x, (tuple, list)):
        comma = "," if isinstance(x, tuple) and len(x) == 1 else ""
        return "\\left(" + ", ".join(_show_latex(v) for v in x) + comma + "\\right)"
    if isinstance(x, sympy.Basic):
        return latex(x)
    return f"\\text{{{_latex_escape(str(x))}}}"


def derivation_latex(d) -> str:
    """A derivation's result as display math (Jupyter ``_repr_latex_``)."""
    return f"$${_show_latex(d.result)}$$"


def derivation_html(d) -> str:
    """A derivation as HTML: statement, assumptions, steps, result, proof and check (runs them if needed)."""
    esc = html.escape
    out = [f"<h4>{esc(d.title)}</h4>", f"<p>{esc(d.statement)}</p>"]
    if d.assumptions:
        items = "".join(f"<li>{esc(t)}" + ("" if r is None else f" (<code>{esc(show(r))}</code>)") + "</li>"
                        for t, r in d.assumptions)
        out.append(f"<p><b>Assumptions.</b></p><ul>{items}</ul>")
    steps = "".join(f"<li>{esc(t)}" + ("" if e is None else f": <code>{esc(show(e))}</code>") + "</li>"
                    for t, e in d.steps)
    out.append(f"<ol>{steps}</ol>")
    out.append(f"<p><b>Result.</b> <code>{esc(show(d.result))}</code></p>")
    p, c = d.proof, d.check
    out.append(f"<p><b>Proof</b> ({esc(p.method)}, {'passed' if p.passed else 'FAILED'}): {esc(p.detail)}</p>")
    out.append(f"<p><b>Check</b>: {c.cases} cases, {c.mismatches} mismatches; grid: {esc(c.grid)}.</p>")
    out.append(f"<p><b>Sources</b>: {esc('; '.join(d.sources))}</p>")
    return "<div>" + "".join(out) + "</div>"
