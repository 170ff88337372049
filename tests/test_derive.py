"""symcnn.derive (self-proving derivations) and symcnn.errata."""

from __future__ import annotations

import time

import numpy as np
import pytest
import sympy

from symcnn import derive
from symcnn.derive import _core
from symcnn.errata import errata

_RUNS: dict = {}


@pytest.fixture(scope="module")
def all_derivations():
    t0 = time.perf_counter()
    ds = derive.all()
    _RUNS["seconds"] = time.perf_counter() - t0
    return {d.name: d for d in ds}


@pytest.fixture(scope="module")
def all_errata():
    return {e.name: e for e in errata()}


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
    assert "S = 1..8" in all_derivations["same_padding"].proof.detail


def test_checker_detects_a_wrong_formula():
    g = _core.grid(W=range(1, 41), S=range(1, 6))
    ceil_form = -(-(g["W"] - 3) // g["S"]) + 1  # "ceil for PyTorch conv outputs", kernel 3
    floor_form = (g["W"] - 3) // g["S"] + 1
    keep = g["W"] >= 3
    c = _core.compare("toy", _core.restrict(g, keep), ceil_form[keep], floor_form[keep])
    assert c.mismatches > 0 and not c.passed


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


def test_grid_helper():
    g = _core.grid(a=range(3), b=range(2))
    assert np.array_equal(g["a"], [0, 0, 1, 1, 2, 2])
