"""Derivation, errata and bibliography pages, printed from :mod:`symcnn.derive`, :func:`symcnn.errata` and the
bibliography (run at build time).

A derivation page is typeset as mathematics: the statement in sentences with its formulas, the assumptions as
relations, every step as an equation with its left-hand side, the result, and a proof line that says what kind
of proof it is (symbolic for all values, a residue split over a stated range, an exhaustive check over a grid).
"""

from __future__ import annotations

import re

import sympy

from .._bibliography import BIBLIOGRAPHY
from ..present import fmt, number
from ._core import BIB_PAGE, Page, cite_links, md_escape, words

__all__ = ["render_derivations", "render_errata", "render_bibliography", "proof_label"]

_UP2 = "../../"  # from reference/derivations/x.md to docs/
_UP1 = "../"  # from reference/errata.md to docs/


def _is_math(x) -> bool:
    if isinstance(x, (bool, sympy.logic.boolalg.BooleanAtom)) or x is None:
        return False
    return isinstance(x, (sympy.Basic, int, tuple, list, dict))


def _key_tex(k) -> str:
    return r"\text{" + str(k).replace("_", " ") + "}"


def _result(page: Page, value) -> None:
    """The result: a dict as one aligned block (one named line each), else one display formula."""
    if isinstance(value, dict):
        page.aligned([(_key_tex(k), v) for k, v in value.items() if _is_math(v)])
    elif isinstance(value, sympy.Rel) or isinstance(value, sympy.logic.boolalg.Boolean):
        page.formula("", value)
    elif _is_math(value):
        page.formula("", value)


def _link_derivations(text: str, names, prefix: str) -> str:
    """``derivation same\\_padding`` in prose becomes a link to that derivation's page."""
    def sub(m):
        raw = m.group(1).replace("\\_", "_")
        return f"[derivation {m.group(1)}]({prefix}{raw}.md)" if raw in names else m.group(0)
    return re.sub(r"derivation ((?:[a-z0-9]|\\_)+)", sub, text)


def _words(text: str) -> str:
    return words(text)


def proof_label(p) -> str:
    """What kind of proof it is, in words: "proved symbolically for all values", "proved for S = 1..8 by a
    residue split", "checked exhaustively over ..."."""
    parts = []
    for scope in p.method.split("; "):
        if scope.startswith("symbolic, for all values"):
            parts.append("proved symbolically for all values")
        elif scope.startswith("residue split over"):
            parts.append("proved " + scope.replace("residue split over ", "for ") + " by a residue split "
                         "(each residue symbolic)")
        elif scope.startswith("symbolic for"):
            parts.append("proved " + scope)
        elif scope.startswith("exhaustive check over"):
            parts.append("checked exhaustively over " + scope[len("exhaustive check over "):])
        else:
            parts.append(scope)
    return "; ".join(parts)


def _derivation(d, names) -> Page:
    page = Page(f"reference/derivations/{d.name}.md", d.title)
    p, c = d.proof, d.check
    state = "Verified" if d.verified else "NOT VERIFIED"
    page.para(f"**{state}**: {proof_label(p)}; compared with brute force on {c.cases:,} cases, "
              f"{c.mismatches} mismatches. Computed while this page was built (`symcnn.derive.{d.name}()`).")
    page.add("## Statement", "")
    page.para(_link_derivations(page.prose(d.statement), names, ""))
    if d.assumptions:
        page.add("## Assumptions", "")
        for text, rel in d.assumptions:
            line = "- " + page.prose(text)
            if _is_math(rel):
                line += ": " + page.inline(rel)
            page.add(line)
        page.add("")
    page.add("## Derivation", "")
    for i, (text, expr) in enumerate(d.steps, 1):
        page.para(f"**Step {i}.** " + _link_derivations(page.prose(text), names, ""))
        if isinstance(expr, dict):
            page.aligned([(_key_tex(k), v) for k, v in expr.items() if _is_math(v)])
        elif _is_math(expr):
            page.formula("", expr)
    page.add("## Result", "")
    _result(page, d.result)
    page.add("## Proof", "")
    label = proof_label(p)
    page.para(f"*{label[:1].upper() + label[1:]}*{'' if p.passed else ' (FAILED)'}. "
              + _link_derivations(page.prose(p.detail), names, ""))
    if p.lemmas:
        page.para("The facts the proof establishes:")
        for lm in p.lemmas:
            mark = "established" if lm.passed else "NOT established"
            page.add(f"- {page.prose(lm.text)} ({mark}; {proof_label(type(p)(lm.scope, '', True))}).")
        page.add("")
    page.add("## Check", "")
    page.para(f"The engine's formula compared with brute force (window enumeration, scattering, counting) on "
              f"**{c.cases:,} cases**: {c.mismatches} mismatches. Grids: {_words(c.grid)}.")
    if c.examples:
        keys = list(c.examples[0])
        page.table(keys, [[md_escape(fmt(e.get(k, ""))) for k in keys] for e in c.examples])
    page.add("## Sources", "")
    page.para(cite_links(d.sources, _UP2) + ".")
    return page


def render_derivations(derivations: dict) -> list[Page]:
    """The derivations index and one page per derivation (``derivations``: name -> run Derivation)."""
    index = Page("reference/derivations/index.md", "Derivations")
    index.para("Each formula below is derived from definitions, proved equal to the engine's with SymPy, and "
               "checked exhaustively against brute force (window enumeration, scattering, counting). Each page "
               "says what kind of proof it is: symbolic for all values, a residue split over a stated range of a "
               "modulus, or a check over a grid. The figures are those of the run made while this site was built.")
    rows = []
    pages = []
    names = set(derivations)
    for name, d in derivations.items():
        pages.append(_derivation(d, names))
        rows.append([f"[{md_escape(d.title)}]({name}.md)", "yes" if d.verified else "**no**", f"{d.check.cases:,}",
                     md_escape(proof_label(d.proof))])
    index.table(["derivation", "verified", "brute-force cases", "proof"], rows)
    return [index, *pages]


def _value(v) -> str:
    """An exact value as text: integers with thousands separators, rationals as fractions, lists in brackets."""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, float):
        raise TypeError(f"errata: float value {v!r}; the page shows exact values only")
    if isinstance(v, (int, sympy.Integer)) or getattr(v, "is_Rational", False):
        return number(v)
    return fmt(v)


def _agree(text: str, page: Page) -> str:
    body = page.prose(text)
    if text.startswith("never"):
        return "The two never agree" + body[len("never"):]
    return "The two agree exactly when " + body


def render_errata(errata: list, derivation_names=()) -> list[Page]:
    """One page listing every erratum: the quote, the kind of text, claimed vs correct formula, the smallest
    counterexample with exact values, and when the two agree."""
    names = set(derivation_names)
    page = Page("reference/errata.md", "Errata")
    page.para("Formulas in circulation that are wrong, each refuted by the engine: the claim as quoted, the kind of "
              "text that states it, the claimed and the correct formula (the engine's), the smallest "
              "counterexample found by search with exact values, and the condition under which the two agree, "
              "verified on the whole grid. Computed while this site was built (`symcnn.errata()`).")
    for e in errata:
        page.add(f"## {md_escape(e.title)}", "")
        if e.quote:
            page.add(f"> “{words(e.quote)}”", "")
        page.para(f"Stated in: {md_escape(e.source)}. Status: **{'refuted' if e.verified else 'NOT VERIFIED'}** "
                  f"(`{e.name}`).")
        page.formula(r"\text{claimed}", e.claimed)
        page.formula(r"\text{correct}", e.correct)
        if e.counterexample is not None:
            point = ", ".join(f"{k} = {_value(v)}" for k, v in e.counterexample.items())
            page.para(f"Smallest counterexample: {md_escape(point)}: the claim gives {_value(e.claimed_value)}, "
                      f"the correct value is {_value(e.correct_value)}.")
        page.para(f"{_link_derivations(_agree(e.agrees_when, page), names, 'derivations/')}; verified on "
                  f"{e.cases:,} cases ({_words(e.grid)}): {e.condition_mismatches} exceptions.")
        if _is_math(e.agrees_condition):
            page.formula("", e.agrees_condition)
        if e.examples:
            keys = list(e.examples[0])
            page.table(keys, [[md_escape(_value(x.get(k, ""))) for k in keys] for x in e.examples])
        if e.notes:
            page.para(_link_derivations(page.prose(e.notes), names, "derivations/"))
        if e.sources:
            page.para("Sources: " + cite_links(e.sources, _UP1) + ".")
    return [page]


def render_bibliography() -> list[Page]:
    """The bibliography: every source cited on the site, by key, with a link."""
    page = Page(BIB_PAGE, "Bibliography")
    page.para("Every page cites its sources by key; each key links here. Locators (a relationship, a table) "
              "follow the key where a page cites part of a source.")
    for key, s in BIBLIOGRAPHY.items():
        page.add(f"## {key} {{#{key}}}", "")
        page.para(f"{md_escape(s.authors)}. *{md_escape(s.title)}*. {md_escape(s.venue)}. "
                  f"<{s.url}>")
    return [page]
