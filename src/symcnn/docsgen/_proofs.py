"""Derivation and errata pages, printed from :mod:`symcnn.derive` and :func:`symcnn.errata` (run at build time)."""

from __future__ import annotations

import sympy

from ._core import Page, md_escape

__all__ = ["render_derivations", "render_errata"]


def _formulas(page: Page, lhs: str, value) -> None:
    """One display formula per entry of a dict result, else one formula."""
    if isinstance(value, dict):
        for k, v in value.items():
            page.formula(r"\text{" + str(k).replace("_", r"\_") + "}", v)
    elif value is None:
        return
    else:
        page.formula(lhs, value)


def _is_math(x) -> bool:
    return isinstance(x, (sympy.Basic, int, tuple, list, dict)) and not isinstance(x, bool)


def _derivation(d) -> Page:
    page = Page(f"reference/derivations/{d.name}.md", d.title)
    state = "verified" if d.verified else "NOT VERIFIED"
    page.para(f"`symcnn.derive.{d.name}()`: **{state}** (symbolic proof and exhaustive check both run while "
              "this page was built).")
    page.add("## Statement", "")
    page.para(md_escape(d.statement))
    if d.assumptions:
        page.add("## Assumptions", "")
        for text, rel in d.assumptions:
            page.para(f"- {md_escape(text)}")
            if _is_math(rel) and rel not in (sympy.true, sympy.false):
                page.formula("", rel)
    page.add("## Steps", "")
    for i, (text, expr) in enumerate(d.steps, 1):
        page.para(f"**{i}.** {md_escape(text)}")
        if _is_math(expr):
            _formulas(page, "", expr)
    page.add("## Result", "")
    _formulas(page, "", d.result)
    p, c = d.proof, d.check
    page.add("## Proof", "")
    page.para(f"Method: **{md_escape(p.method)}**, {'passed' if p.passed else 'FAILED'}, {p.cases} symbolic "
              f"case(s). {md_escape(p.detail)}")
    if p.lemmas:
        page.table(["lemma", "established"], [[md_escape(lm.text), "yes" if lm.passed else "no"] for lm in p.lemmas])
    page.add("## Check", "")
    page.para(f"Compared with brute force on **{c.cases:,} cases**, {c.mismatches} mismatches "
              f"({c.seconds:.2f} s). Grid: {md_escape(c.grid)}.")
    if c.examples:
        keys = list(c.examples[0])
        page.table(keys, [[str(e.get(k, "")) for k in keys] for e in c.examples])
    page.add("## Sources", "")
    page.para("; ".join(md_escape(s) for s in d.sources))
    return page


def render_derivations(derivations: dict) -> list[Page]:
    """The derivations index and one page per derivation (``derivations``: name -> run Derivation)."""
    index = Page("reference/derivations/index.md", "Derivations")
    index.para("Each formula below is derived from definitions, proved equal to the engine's with SymPy, and "
               "checked exhaustively against brute force (window enumeration, scattering, counting). The figures "
               "are those of the run made while this site was built.")
    rows = []
    pages = []
    for name, d in derivations.items():
        pages.append(_derivation(d))
        rows.append([f"[{md_escape(d.title)}]({name}.md)", "yes" if d.verified else "**no**", f"{d.check.cases:,}",
                     md_escape(d.proof.method)])
    index.table(["derivation", "verified", "brute-force cases", "proof"], rows)
    return [index, *pages]


def _value(v) -> str:
    return f"{v:.10g}" if isinstance(v, float) else str(v)


def render_errata(errata: list) -> list[Page]:
    """One page listing every erratum: claimed vs correct formula, smallest counterexample, when they agree."""
    page = Page("reference/errata.md", "Errata")
    page.para("Formulas in circulation that are wrong, each refuted by the engine: the claimed formula, the "
              "correct one (from the engine), the smallest counterexample found by search, and the condition under "
              "which the two agree, verified on the whole grid. Computed while this site was built "
              "(`symcnn.errata()`).")
    for e in errata:
        page.add(f"## {md_escape(e.title)}", "")
        page.para(f"`{e.name}`: **{'verified' if e.verified else 'NOT VERIFIED'}**. Source: {md_escape(e.source)}.")
        page.para("Claimed:")
        page.formula("", e.claimed)
        page.para("Correct:")
        page.formula("", e.correct)
        if e.counterexample is not None:
            point = ", ".join(f"{k} = {v}" for k, v in e.counterexample.items())
            page.para(f"Smallest counterexample: {point}: claimed {_value(e.claimed_value)}, correct "
                      f"{_value(e.correct_value)}.")
        page.para(f"They agree exactly when {md_escape(e.agrees_when)}, verified on {e.cases:,} cases "
                  f"({md_escape(e.grid)}): {e.condition_mismatches} exceptions.")
        if _is_math(e.agrees_condition) and e.agrees_condition not in (sympy.true, sympy.false):
            page.formula("", e.agrees_condition)
        if e.examples:
            keys = list(e.examples[0])
            page.table(keys, [[_value(x.get(k, "")) for k in keys] for x in e.examples])
        if e.notes:
            page.para(md_escape(e.notes))
        if e.sources:
            page.para("References: " + "; ".join(md_escape(s) for s in e.sources))
    return [page]
