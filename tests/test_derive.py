"""symcnn.derive (self-proving derivations) and symcnn.errata."""

from __future__ import annotations

import re
import time

import numpy as np
import pytest
import sympy

from symcnn import SymcnnError, derive
from symcnn.derive import _core

_RUNS: dict = {}


@pytest.fixture(scope="module")
def all_derivations():
    t0 = time.perf_counter()
    ds = derive.all()
    _RUNS["seconds"] = time.perf_counter() - t0
    return {d.name: d for d in ds}


def test_every_derivation_verified(all_derivations):
    assert list(all_derivations) == derive.names()
    for d in all_derivations.values():
        assert d.proof.passed, (d.name, [lem for lem in d.proof.lemmas if not lem.passed])
        assert d.check.cases > 0 and d.check.mismatches == 0, (d.name, d.check.examples)
        assert d.verified
    assert _RUNS["seconds"] < 30


def test_records_are_printable(all_derivations):
    for d in all_derivations.values():
        assert d.name and d.title and d.sources and d.steps and d.statement
        assert repr(d).startswith(f"<Derivation {d.name}: verified")
        md = d.to_markdown()
        assert d.title in md and "**Proof**" in md and f"{d.check.cases} cases" in md


def test_brief_grids(all_derivations):
    assert "W 1..40, F 1..7, S 1..5, P 0..4, D 1..3" in all_derivations["conv_output_size"].check.grid
    assert all_derivations["conv_output_size"].check.cases > 20000
    assert "residue split over S = 1..8" in all_derivations["same_padding"].proof.method


def test_checker_detects_a_wrong_formula():
    from symcnn import S, W

    g = _core.Grid(dict(W=range(1, 41), S=range(1, 6))).such_that(lambda p: p["W"] >= 3, "W >= 3")
    ceil_form = sympy.ceiling((W - 3) / S) + 1  # "ceil for PyTorch conv outputs", kernel 3
    c = _core.Compare("toy", g, ceil_form, lambda W, S: (W - 3) // S + 1).run()
    assert c.cases == 38 * 5 and c.mismatches > 0 and not c.passed
    assert c.examples[0] == {"W": 4, "S": 2, "engine": 2, "brute force": 1}
    assert "W 1..40, S 1..5, W >= 3" in c.grid


def test_monkeypatched_engine_is_caught(monkeypatch):
    from symcnn._intmath import ceildiv
    from symcnn.layers import conv

    def wrong(size, kernel, stride=1, pad_left=0, pad_right=None, dilation=1):
        pad_right = pad_left if pad_right is None else pad_right
        return ceildiv(sympy.sympify(size) + pad_left + pad_right - dilation * (kernel - 1) - 1, stride) + 1

    monkeypatch.setattr(conv, "conv_output_size", wrong)
    d = derive.conv_output_size()
    assert d.check.mismatches > 0
    assert not d.proof.passed
    assert d.verified is False


def test_residue_split_can_fail():
    from symcnn import S, W
    from symcnn._intmath import floordiv

    q = sympy.Symbol("q", integer=True)
    ok, cases, fails = _core.residue_split(
        floordiv(W, S), floordiv(W + 1, S), S, range(1, 4), lambda s, r: {W: s * q + r}
    )
    assert not ok and cases == 6 and (2, 1) in fails


def test_results(all_derivations):
    from symcnn import D, F, S, W, pretty

    assert (
        pretty(all_derivations["conv_output_size"].result) == "floor((W + P_l + P_r - D*(F - 1) - 1)/S) + 1"
    )
    assert all_derivations["same_symmetric"].result == D * (F - 1) / 2
    assert all_derivations["lenet_connections"].result["total"] == 340908
    same = all_derivations["same_padding"].result
    assert same["left"].subs({W: 224, F: 7, S: 2, D: 1}) == 2


def test_grid_helper():
    g = _core.grid(a=range(3), b=range(2))
    assert np.array_equal(g["a"], [0, 0, 1, 1, 2, 2])


def test_monkeypatched_transposed_engine_is_caught(monkeypatch):
    from symcnn.layers import transposed

    right = transposed.transposed_output_size

    def wrong(size, kernel, stride=1, pad_left=0, pad_right=None, dilation=1, output_padding=0):
        return right(size, kernel, stride, pad_left, pad_right, dilation, 0)  # output_padding ignored

    monkeypatch.setattr(transposed, "transposed_output_size", wrong)
    d = derive.transposed_output_size()
    assert d.check.mismatches > 0 and not d.proof.passed and not d.verified


def test_monkeypatched_pool_engine_is_caught(monkeypatch):
    from symcnn.layers import pool

    right = pool.pool_output_size

    def wrong(size, kernel, stride=None, pad_left=0, pad_right=None, dilation=1, ceil_mode=False):
        return right(size, kernel, stride, pad_left, pad_right, dilation, ceil_mode=False)  # ceil_mode ignored

    monkeypatch.setattr(pool, "pool_output_size", wrong)
    d = derive.pool_ceil_mode()
    assert d.check.mismatches > 0 and not d.proof.passed and not d.verified


_SCOPE = re.compile(
    r"^(symbolic, for all values|residue split over \w+ = 1\.\.8|symbolic for depths L = 1\.\.\d"
    r" \(every layer parameter symbolic\)|exhaustive check over .+)$"
)


def test_proofs_say_what_they_are(all_derivations):
    for d in all_derivations.values():
        scopes = d.proof.method.split("; ")
        assert all(_SCOPE.match(x) for x in scopes), (d.name, d.proof.method)
        assert {lm.scope for lm in d.proof.lemmas} == set(scopes)
        if any(x.startswith("residue split") for x in scopes):
            assert "residue" in d.proof.detail or "split" in d.proof.detail, d.name
    assert all_derivations["adaptive_pool_windows"].proof.method == "residue split over O = 1..8"
    assert all_derivations["conv_output_size"].proof.method == "symbolic, for all values"


_PSEUDO_TEX = re.compile(r"prod_\{|sum_\{|//|\*\*|<=|>=")


def _outside_math(text: str) -> str:
    return re.sub(r"\$[^$]*\$", "", text)


def test_steps_are_equations_in_words_and_latex(all_derivations):
    for d in all_derivations.values():
        for text, expr in d.steps:
            assert expr is None or isinstance(expr, (sympy.Rel, sympy.And)), (d.name, text, expr)
            assert expr not in (sympy.true, sympy.false), (d.name, text)
            assert "solve_univariate_inequality" not in text and not _PSEUDO_TEX.search(_outside_math(text)), text
            for math in re.findall(r"\$([^$]*)\$", text):
                assert "//" not in math and "_{i<l} s_i" not in math.replace("\\prod", ""), (d.name, math)
        assert not _PSEUDO_TEX.search(_outside_math(d.statement)), (d.name, d.statement)
        assert d.statement.count("$") % 2 == 0 and all(t.count("$") % 2 == 0 for t, _ in d.steps)


def test_a_step_must_have_a_left_hand_side():
    with pytest.raises(TypeError, match="left-hand side"):
        _core.claim("x", "x", "x", steps=[("a bare expression", sympy.Symbol("x") + 1)], result=0,
                    sources=["dumoulin2016"], argument="", facts=[], checks=[])
    with pytest.raises(TypeError, match="left-hand side"):
        _core.claim("x", "x", "x", steps=[("evaluates to True", sympy.Eq(1, 1))], result=0,
                    sources=["dumoulin2016"], argument="", facts=[], checks=[])


_FOREIGN = re.compile(r"FORMULAS|WORKED-EXAMPLES|\.py\b|\.md\b|tests?/|test_|#\d+|issue", re.IGNORECASE)


def test_sources_are_bibliography_keys(all_derivations):
    from symcnn._bibliography import BIBLIOGRAPHY, key_of

    for d in all_derivations.values():
        assert d.sources
        for s in d.sources:
            assert key_of(s) in BIBLIOGRAPHY and not _FOREIGN.search(s), (d.name, s)
        for text in (d.statement, d.proof.detail, *(t for t, _ in d.steps)):
            assert not _FOREIGN.search(text.replace("padding='same'", "")), (d.name, text)
    with pytest.raises(SymcnnError, match="not in the bibliography"):
        _core.claim("x", "x", "x", steps=[], result=0, sources=["FORMULAS.md §1"], argument="", facts=[],
                    checks=[])


def test_bibliography_entries():
    from symcnn._bibliography import BIBLIOGRAPHY, cite, reference

    for key, src in BIBLIOGRAPHY.items():
        assert src.authors and src.title and src.venue and src.url.startswith("https://"), key
        assert reference(key).endswith(src.url)
    assert "arXiv:1603.07285" in BIBLIOGRAPHY["dumoulin2016"].venue
    assert BIBLIOGRAPHY["araujo2019"].url == "https://doi.org/10.23915/distill.00021"
    assert cite("he2015spp", "Section 2.3") == "he2015spp, Section 2.3"
    with pytest.raises(SymcnnError, match="`key`='nope'"):
        cite("nope")


def test_exact_evaluation_keeps_rationals():
    n, S = sympy.symbols("n S", integer=True, positive=True)
    pts = {"n": np.array([2, 4]), "S": np.array([3, 2])}
    vals = _core.evaluate((n - 1) / S - n / 2, pts, exact=True)
    assert vals == [sympy.Rational(-2, 3), sympy.Rational(-1, 2)] and not any(isinstance(v, float) for v in vals)


def test_grid_with_listed_points():
    g = _core.Grid(dict(net=[[1, 2], [3]], k=range(2)))
    rows = g.rows()
    assert len(rows) == 4 and rows[0] == {"net": [1, 2], "k": 0}
    c = _core.Compare("lengths", g, lambda net, k: len(net) + k, lambda net, k: len(net) + k).run()
    assert c.passed and c.cases == 4 and "(2 values)" in c.grid
