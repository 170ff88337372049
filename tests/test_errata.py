"""symcnn.errata: published formulas refuted by the engine, with exact values and real sources."""

from __future__ import annotations

import re
from fractions import Fraction

import pytest
import sympy

from symcnn._bibliography import BIBLIOGRAPHY, key_of
from symcnn.errata import errata


@pytest.fixture(scope="module")
def all_errata():
    return {e.name: e for e in errata()}


def test_errata_counterexamples(all_errata):
    e = all_errata
    assert all(x.verified and x.condition_mismatches == 0 and x.cases > 0 for x in e.values())
    assert {x["W"]: (x["claimed"], x["correct"]) for x in e["ceil_mode_naive"].examples} == {5: (4, 3)}
    assert e["ceil_mode_naive"].counterexample == {"W": 2, "F": 1, "S": 2, "P": 0}
    assert e["transposed_offset"].counterexample["S"] == 3 and e["transposed_offset"].counterexample["P"] == 1
    assert e["weight_count"].examples[0]["claimed"] == 960 and e["weight_count"].examples[0]["correct"] == 896
    assert e["kernel_padding"].examples[0]["correct"] == 2
    assert e["rf_own_stride"].counterexample == {"layers": [{"k": 2, "s": 2}]}
    assert "527.8 MiB" in e["vgg16_megabytes"].notes and "553.4 MB" in e["vgg16_megabytes"].notes
    for x in e.values():
        assert x.name in repr(x) and x.title in x.to_markdown()


@pytest.mark.parametrize("P, agrees", [(0, True), (1, False), (2, False), (3, True), (4, False)])
def test_transposed_offset_needs_3_divides_P_at_stride_3(P, agrees):
    X, F, S = 10, 3, 3
    claimed = (X - 2 * P - F) % S
    correct = (X + 2 * P - F) % S
    assert (claimed == correct) is agrees
    cond = sympy.Eq(sympy.Mod(4 * P, S), 0)
    assert bool(cond) is agrees


def test_same_stride_condition(all_errata):
    e = all_errata["same_stride_formula"]
    n, S = sorted(e.agrees_condition.free_symbols, key=str)
    assert e.agrees_condition.subs({n: 7, S: 1}) == sympy.true
    assert e.agrees_condition.subs({n: 7, S: 2}) == sympy.false




def _values(e):
    yield e.claimed_value
    yield e.correct_value
    for x in e.examples:
        yield from x.values()


def test_errata_print_no_floats(all_errata):
    for e in all_errata.values():
        for v in _values(e):
            assert not isinstance(v, float), (e.name, v)
        text = e.to_markdown() + repr(e)
        assert not re.search(r"\d\.\d{5,}|\de-\d", text), (e.name, text)
    same = all_errata["same_stride_formula"]
    assert same.claimed_value == sympy.Rational(-1, 3) and str(same.claimed_value) == "-1/3"
    assert Fraction(str(all_errata["vgg16_megabytes"].claimed_value)) == Fraction(10**6, 2**20)


def test_errata_name_the_text_and_quote_the_claim(all_errata):
    for e in all_errata.values():
        assert e.source and e.quote and e.quote in e.to_markdown(), e.name
        assert not re.search(r"FORMULAS|WORKED-EXAMPLES|\.py\b|\.md\b|test_|#\d", e.source + e.notes), e.name
        assert e.sources and all(key_of(s) in BIBLIOGRAPHY for s in e.sources), (e.name, e.sources)
    assert "960" in all_errata["weight_count"].quote


def test_vgg_erratum_blames_the_explanation_not_the_units(all_errata):
    e = all_errata["vgg16_megabytes"]
    assert "Both units are right" in e.notes and "dropout" in e.title.lower() and "0 parameters" in e.notes
    assert e.examples[0]["correct"] == 138357544 and e.verified
