"""Regressions of the solvers (issue 13): wrong answers, crashes and unbounded work, each pinned by a test."""

from __future__ import annotations

from fractions import Fraction

import pytest
import sympy

import symcnn as sc
from symcnn import SymcnnError
from symcnn.solve import mirror_output_padding, solve, valid_input_sizes


def exact_brute(net, size: int) -> bool:
    """Every division of the numeric analysis at ``size`` is exact (window layers: the padded extent minus the
    effective kernel divides by the stride, SAME: the size divides; upsampling: size * scale is an integer)."""
    try:
        a = sc.analyze(net, (1, size))
    except SymcnnError:  # the network does not run at this size
        return False
    for r in a.layers:
        lay, (w,) = r.layer, [int(v) for v in tuple(r.input_shape)[1:]]
        if isinstance(lay, sc.Upsample) and lay.scale_factor is not None:
            if (w * Fraction(int(lay.scale_factor[0].p), int(lay.scale_factor[0].q))).denominator != 1:
                return False
        elif isinstance(lay, (sc.Conv1d, sc.MaxPool1d, sc.AvgPool1d)):
            s = int(lay.stride[0])
            if getattr(lay, "padding", None) == "tf_same":
                ok = w % s == 0
            else:
                pads = lay.pads((w,)) if isinstance(lay, sc.Conv1d) else lay.padding
                (pl, pr), f = pads[0], int(lay.dilation[0]) * (int(lay.kernel_size[0]) - 1) + 1
                ok = (w + int(pl) + int(pr) - f) % s == 0
            if not ok:
                return False
    return True


# --- wrong answers ------------------------------------------------------------------------------------------


def test_exact_sizes_of_same_stride_then_fractional_upsample():
    """4 -> 2 -> 1 loses nothing; the merged floor floor((L + 1)/4) carries SAME's ceil offset (was: none)."""
    net = sc.Sequential(sc.Conv1d(1, 1, 3, 2, "tf_same"), sc.Upsample(scale_factor=0.5))
    r = valid_input_sizes(net, between=(1, 40), exact=True)
    assert 4 in list(r)
    assert list(r) == [w for w in range(1, 41) if exact_brute(net, w)]
    assert [w for w in range(1, 41) if w in r] == list(r)  # the closed form says the same


def test_exact_sizes_of_non_dyadic_upsample_need_the_exact_product():
    net = sc.Sequential(sc.Conv1d(1, 1, 3), sc.Upsample(scale_factor=0.75))
    r = valid_input_sizes(net, between=(1, 40), exact=True)
    assert list(r) == [w for w in range(1, 41) if exact_brute(net, w)] and list(r)


def test_valid_sizes_with_non_dyadic_upsample_after_a_conv():
    """floor(1.7*(L - 2)) was evaluated as floor(L - 2*1.7) in the NumPy code (sizes 3 and 4 missing)."""
    net = sc.Sequential(sc.Conv1d(1, 1, 3), sc.Upsample(scale_factor=1.7))
    r = valid_input_sizes(net, between=(1, 30))
    want = []
    for w in range(1, 31):
        try:
            sc.analyze(net, (1, w))
            want.append(w)
        except SymcnnError:
            pass
    assert list(r) == want and 3 in want


def test_solve_with_sizes_near_int64_is_exact():
    """Sizes near 2**63 overflowed (OverflowError) or wrapped silently (a wrong 'no solution'); beyond PyTorch's
    int64 range they are refused, as PyTorch refuses them."""
    big = 2**62
    r = solve(sc.Conv1d(3, 8, 3, stride=2, padding=sc.P), (3, 2 * big - 2), (8, big + 5))
    assert list(r) == [{sc.P: 7}]  # floor((2**63 - 2 + 14 - 3)/2) + 1 = 2**62 + 5
    r = solve(sc.Conv1d(3, 8, sc.F, stride=2), (3, 2**63 - 1), (8, 5))
    assert [s[sc.F] for s in r] == [2**63 - 10, 2**63 - 9]
    for s in r:
        assert sc.analyze(sc.Conv1d(3, 8, s[sc.F], stride=2), (3, 2**63 - 1)).output_shape == (8, 5)
    with pytest.raises(SymcnnError, match=r"beyond PyTorch's int64 range"):
        solve(sc.Conv1d(3, 8, sc.F, stride=2), (3, 2**64), (8, 5))


def test_valid_input_sizes_near_int64():
    top = 2**63 - 1
    r = valid_input_sizes(sc.Conv1d(1, 1, 3, stride=2), between=(top - 9, top), exact=True)
    assert list(r) == [w for w in range(top - 9, top + 1) if w % 2 == 1]


# --- crashes ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("padding", ["tf_same", "valid", "full"])
def test_mirror_output_padding_with_string_padding(padding):
    enc = sc.Sequential(sc.Conv1d(1, 1, 3, stride=2, padding=padding))
    dec = sc.Sequential(sc.ConvTranspose1d(1, 1, 3, stride=2, padding=1))
    r = mirror_output_padding(enc, dec, (1, sc.L))
    for w in range(4, 20):
        try:
            (op,) = r.at(L=w)
        except SymcnnError as e:  # no output_padding restores this size: said so, with the allowed range
            assert "allowed 0..1" in str(e)
            continue
        out = sc.analyze(sc.Sequential(*enc, r.decoder(L=w)), (1, w)).output_shape
        assert out == (1, w), (padding, w, op)


def test_mirror_output_padding_refuses_an_impossible_value():
    enc = sc.Sequential(sc.Conv1d(1, 1, 3, stride=2, padding="tf_same"))
    dec = sc.Sequential(sc.ConvTranspose1d(1, 1, 3, stride=2))
    r = mirror_output_padding(enc, dec, (1, sc.L))
    with pytest.raises(SymcnnError, match=r"cannot restore .* L=5: it would need `output_padding`=-2 on axis 0, "
                                          r"allowed 0\.\.1"):
        r.at(L=5)


def test_solve_with_a_symbol_in_the_target():
    """The target symbol Q stays a parameter of the closed form (was: NameError 'Q')."""
    Q = sc.symbols("Q")
    r = solve(sc.Conv1d(3, 8, sc.F, stride=2), (3, 30), (8, Q))
    assert r.parameters == (Q,) and list(r) == []
    for q in range(1, 16):  # the closed form, at each Q, is exactly the kernels that give Q
        want = [f for f in range(1, 31) if sc.analyze(sc.Conv1d(3, 8, f, stride=2), (3, 30)).output_shape[1] == q]
        got = [f for f in range(1, 31) if r.closed_form.subs({Q: q, sc.F: f}) is sympy.true]
        assert got == want
    both = solve(sc.Conv1d(3, 8, sc.F, stride=2), (3, 30), (8, Q), unknowns=[sc.F, Q])
    assert all(sc.analyze(sc.Conv1d(3, 8, s[sc.F], stride=2), (3, 30)).output_shape == (8, s[Q]) for s in both)
    assert len(both) == 11  # F = 1..11 (default bounds), each with its Q


# --- bounded ------------------------------------------------------------------------------------------------


def test_solve_refuses_too_many_solutions_with_the_limit():
    net = sc.Conv1d(1, 1, sc.F, stride=sc.S, padding=sc.P, dilation=sc.D)
    bounds = {sc.F: (1, 50), sc.S: (1, 50), sc.P: (0, 999), sc.D: (1, 8)}
    with pytest.raises(SymcnnError, match=r"more than 2,000,000 solutions .* at most 2,000,000 are listed"):
        solve(net, (1, 100000), (1, None), bounds=bounds)


def test_solve_refuses_a_big_grid_of_huge_values():
    with pytest.raises(SymcnnError, match=r"at most 200,000 \(values beyond 2\*\*62"):
        solve(sc.Conv1d(3, 8, sc.F, stride=sc.S), (3, 2**63 - 1), (8, None), bounds={sc.F: (1, 1000), sc.S: (1, 1000)})


def test_solutions_are_stored_compactly_and_read_as_dicts():
    r = solve(sc.Conv1d(1, 1, sc.F, stride=sc.S), (1, 100), (1, None), bounds={sc.F: (1, 3), sc.S: (1, 2)})
    assert list(r) == [{sc.F: f, sc.S: s} for f in (1, 2, 3) for s in (1, 2)]
    assert r[1] == {sc.F: 1, sc.S: 2} and r.solutions[-1] == {sc.F: 3, sc.S: 2} and len(r.solutions[:4]) == 4


def test_exact_sizes_with_a_long_period_merge_into_one_progression():
    """Strides 2, 3, 5, 7, 11, 13: one period of 30,030 (the residue classes used to be merged in quadratic
    time, 78 s); the answer equals brute force (kernel 3, no padding: each size minus 3 divides by its stride)."""
    strides = (2, 3, 5, 7, 11, 13)
    r = valid_input_sizes(sc.Sequential(*[sc.Conv1d(1, 1, 3, stride=s) for s in strides]), between=(1, 70000),
                          exact=True)

    def exact(w):
        for s in strides:
            if w < 3 or (w - 3) % s:
                return False
            w = (w - 3) // s + 1
        return True

    assert list(r) == [w for w in range(1, 70001) if exact(w)] and len(r) > 0
    assert r.period == 30030 and len(r.progressions) == 1


# --- found by a quick fuzz: junk arguments raise SymcnnError -------------------------------------------------


@pytest.mark.parametrize("unknowns", [3, 1.5, True])
def test_solve_refuses_unknowns_that_are_not_symbols(unknowns):
    with pytest.raises(SymcnnError, match=r"`unknowns`=.* must be a symbol or a list of symbols"):
        solve(sc.Conv1d(1, 1, sc.F), (1, 30), (1, 28), unknowns=unknowns)


@pytest.mark.parametrize("entry", [sympy.Float(30.0), sympy.nan, 30.0, float("nan"), sympy.oo])
def test_solvers_refuse_non_integer_sizes(entry):
    match = r"`input_shape` entry .* must be an int or an integer symbol expression"
    with pytest.raises(SymcnnError, match=match):
        solve(sc.Conv1d(1, 1, sc.F), (1, entry), (1, 28))
    with pytest.raises(SymcnnError, match=match):
        mirror_output_padding(sc.Conv1d(1, 1, 3, 2), sc.ConvTranspose1d(1, 1, 3, 2), (1, entry))
    with pytest.raises(SymcnnError, match=match):
        valid_input_sizes(sc.Conv1d(1, 1, 3), input_shape=(entry, sc.L))


def test_exact_sizes_refuse_a_symbolic_stride():
    """Was NameError 'S' (the exactness condition kept the symbol into the numeric evaluation)."""
    with pytest.raises(SymcnnError, match=r"exactness condition .* involves S: .* substitute numbers"):
        valid_input_sizes(sc.Conv1d(1, 1, 3, stride=sc.S), exact=True)


def test_a_period_too_long_to_scan_is_stated_and_the_range_still_listed():
    strides = (101, 103, 107, 109)
    r = valid_input_sizes(sc.Sequential(*[sc.Conv1d(1, 1, 3, stride=s) for s in strides]), between=(1, 100),
                          exact=True)
    assert "period 121,330,189, above the 2,000,000 residue classes scanned: listed within (1, 100)" in r.describe()
    assert list(r) == [] and not r.periodic  # the first exact size is 2,247,253


def test_solve_misses_no_solution_behind_a_symbolic_same_stride():
    """Found by test_solve_properties with more examples: F1 = 2 was missed because the symbolic output size was
    floor(5/(2*S0)) - F1/2 + 3/2, i.e. 5/2 at S0 = 1, F1 = 2 (the numeric analysis gives 3): issue 13 item 1."""
    s0, f1 = sc.symbols("S0 F1")
    net = sc.Sequential(sc.Conv1d(1, 1, 1, stride=s0, padding="tf_same"), sc.Conv1d(1, 1, f1, stride=2))
    r = solve(net, (1, 6), (1, 3), bounds={s0: (1, 1), f1: (1, 2)})
    assert [s[f1] for s in r] == [1, 2]
