"""Regressions of issue 13 (engine part): leaked fractions, ceil_mode blow-up, crashes on substitution,
lambdify overflow and names, input shapes no tensor has."""

from __future__ import annotations

import numpy as np
import pytest
import sympy
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import symcnn as sc
from symcnn import F, G, H, S, W
from symcnn._intmath import FloorDiv, ceildiv, decide, floordiv, smin


def _torch_out(mods, shape):
    with torch.no_grad():
        return tuple(torch.nn.Sequential(*mods)(torch.zeros(1, *shape)).shape[1:])


def test_strided_conv_then_symbolic_kernel_keeps_the_kernel_inside_the_floor():
    net = sc.Sequential(sc.Conv2d(3, 8, 3, stride=S, padding=1), sc.Conv2d(8, 8, F, stride=2))
    a = sc.analyze(net, (3, H, W))
    assert not any(t.is_Rational and not t.is_Integer for v in a.output_shape for t in sympy.Add.make_args(v))
    for s in (1, 2, 3):
        for f in (1, 2, 3):
            for h in range(6, 20):
                mods = [torch.nn.Conv2d(3, 8, 3, stride=s, padding=1), torch.nn.Conv2d(8, 8, f, stride=2)]
                try:
                    want = _torch_out(mods, (3, h, h + 1))
                except RuntimeError:
                    with pytest.raises(sc.SymcnnError):
                        a.subs(S=s, F=f, H=h, W=h + 1)
                    continue
                got = a.subs(S=s, F=f, H=h, W=h + 1).output_shape
                assert all(isinstance(v, sympy.Integer) for v in got)
                assert tuple(got) == want
    assert a.subs(S=1, F=2, H=4, W=4).output_shape == (8, 2, 2)


def test_summary_subs_prints_integers(capsys, tmp_path):
    from symcnn.cli import main

    spec = tmp_path / "net.yaml"
    spec.write_text("name: leak\ninput: [3, H, W]\nlayers:\n  - Conv2d: [3, 8, 3, {stride: S, padding: 1}]\n"
                    "  - Conv2d: [8, 8, F, {stride: 2}]\n")
    code = main(["summary", str(spec), "--subs", "S=1,F=2,H=4,W=4", "--format", "csv"])
    out = capsys.readouterr().out
    assert code in (0, None)
    assert "/" not in out
    assert '"(8, 2, 2)"' in out


def test_a_term_leaves_a_floor_only_when_it_is_an_integer_multiple():
    # S*(2 - F) is not a multiple of 2*S: it must stay inside
    e = floordiv(W + S * (2 - F), 2 * S)
    for s in range(1, 5):
        for f in range(1, 6):
            for w in range(1, 30):
                assert e.subs({S: s, F: f, W: w}) == (w + s * (2 - f)) // (2 * s)
    assert floordiv(W + 4 * S * F, 2 * S) == 2 * F + floordiv(W, 2 * S)  # 4SF is a multiple of 2S
    assert floordiv(W + F * S, S) == F + floordiv(W, S)
    x = sympy.Symbol("x", integer=True)
    y = sympy.Symbol("y")  # not known to be an integer: nothing may leave the floor
    assert floordiv(x + 2 * y, 2).has(y)


def test_stacked_ceil_mode_pools_stay_one_term():
    net = sc.Sequential(*[sc.MaxPool2d(3, 3, 1, ceil_mode=True) for _ in range(6)])
    out = sc.analyze(net, (3, H, W)).output_shape[1]
    assert not out.has(sympy.Min)
    assert out == floordiv(H + 363, 729) + 1
    assert smin(floordiv(W, 3), floordiv(W + 1, 3)) == floordiv(W, 3)
    assert smin(floordiv(W + 1, 3), floordiv(W, 3)) == floordiv(W, 3)
    assert decide(sympy.Le(floordiv(W, 3), floordiv(W + 1, 3))) is True
    assert decide(sympy.Le(floordiv(W, 3), floordiv(W + 4, 3))) is True
    assert decide(sympy.Lt(floordiv(W + 3, 3), floordiv(W, 3))) is False
    assert decide(sympy.Le(floordiv(W + 1, 3), floordiv(W, 3))) is None  # false at W = 2, true at W = 1


@pytest.mark.parametrize(("kw", "words"), [
    ({"S": 0}, ["stride", "S=0"]),
    ({"G": 0}, ["groups", "G=0"]),
    ({"G": -2}, ["groups", "G=-2"]),
    ({"G": 3}, ["groups", "G=3"]),
    ({"H": 0}, ["input_shape", "H=0"]),
])
def test_subs_out_of_range_names_the_layer_argument(kw, words):
    a = sc.analyze(sc.Conv2d(8, 8, 3, stride=S, groups=G), (8, H, W))
    with pytest.raises(sc.SymcnnError) as err:
        a.subs(**kw)
    for w in words:
        assert w in str(err.value)


def test_subs_with_a_symbolic_value_below_the_range_is_refused():
    a = sc.analyze(sc.Conv2d(3, 8, 3, stride=S), (3, H, W))
    with pytest.raises(sc.SymcnnError, match="stride"):
        a.subs(S=-W)
    assert a.subs(S=2 * W).output_shape[1] == floordiv(H - 3, 2 * W) + 1


def test_lambdify_accepts_names_and_is_exact_beyond_int64():
    a = sc.analyze(sc.Conv2d(3, 8, 3, stride=2), (3, H, W))
    f = a.lambdify("macs", symbols=["H", "W"])
    g = a.lambdify("macs", symbols=[W, "H"])
    assert f(31, 32) == g(32, 31) == 48600
    big = 10**10
    exact = 216 * ((big - 3) // 2 + 1) ** 2
    assert f(big, big) == exact
    assert f([big, 31], [big, 32]).tolist() == [exact, 48600]
    assert f(np.array([31, 63]), np.array([32, 64])).dtype == np.int64
    with pytest.raises(sc.SymcnnError):
        a.lambdify("macs", symbols=["Q", "W"])
    with pytest.raises(sc.SymcnnError):
        a.lambdify("macs", symbols=["H"])
    with pytest.raises(sc.SymcnnError):
        f(3.5, 4)
    with pytest.raises(sc.SymcnnError):
        f(0, 4)


@pytest.mark.parametrize("bad", [(3, -W, 4), (3, 0, 4), (3, -5, 4), (3, float("nan"), 4), (3, sympy.nan, 4),
                                 (3, sympy.oo, 4), (3, sympy.Float(3.5), 4), (3, sympy.Rational(7, 2), 4),
                                 (3, W / 2, 4)])
def test_input_shapes_no_tensor_has_are_refused(bad):
    with pytest.raises(sc.SymcnnError, match="input_shape"):
        sc.analyze(sc.Conv2d(3, 8, 1), bad)


def test_float_input_size_is_converted_exactly_and_symbolic_sizes_keep_a_condition():
    assert sc.analyze(sc.Conv2d(3, 8, 1), (3, sympy.Float(3.0), 4)).output_shape == (8, 3, 4)
    a = sc.analyze(sc.Conv2d(3, 8, 1), (3, W - 5, 4))
    assert any(decide(sympy.Eq(c.lhs, W)) for c in a.constraints)
    with pytest.raises(sc.SymcnnError):
        a.subs(W=5)


@pytest.mark.parametrize("args", [(W, 0), (W, -2), (W, sympy.Rational(1, 2)), (sympy.Rational(1, 2), 3), (W, sympy.nan),
                                  (W, sympy.oo), (W, -S), ("W", 2), (W, 2.0), (None, 2)])
def test_floordiv_junk_raises_symcnn_error(args):
    with pytest.raises(sc.SymcnnError):
        FloorDiv(*args)
    with pytest.raises(sc.SymcnnError):
        ceildiv(*args)


_A, _B = sc.symbols("A B")
_Z = sc.symbols("Z", nonnegative=True)


@st.composite
def _small_exprs(draw):
    """Sums of monomials and floor divisions of them in positive (A, B) and nonnegative (Z) symbols."""
    atoms = [_A, _B, _Z, _A * _B, _A**2, sympy.Integer(1)]
    terms = []
    for _ in range(draw(st.integers(1, 4))):
        c = draw(st.integers(-4, 4))
        m = draw(st.sampled_from(atoms))
        if draw(st.booleans()):
            m = floordiv(m + draw(st.integers(-3, 3)), draw(st.sampled_from([2, 3, _A, 2 * _B])))
        terms.append(c * m)
    return sympy.Add(*terms) + draw(st.integers(-6, 6))


@given(_small_exprs())
@settings(max_examples=300, deadline=None, derandomize=True)
def test_decide_and_floor_rules_never_guess(expr):
    verdict = decide(sympy.Ge(expr, 0))
    for a in range(1, 6):
        for b in range(1, 5):
            for z in range(0, 4):
                v = sympy.sympify(expr.xreplace({_A: sympy.Integer(a), _B: sympy.Integer(b), _Z: sympy.Integer(z)}))
                assert v.is_Integer
                if verdict is True:
                    assert v >= 0, (expr, a, b, z)
                elif verdict is False:
                    assert v < 0, (expr, a, b, z)


@given(_small_exprs(), st.sampled_from([2, 3, _A, 2 * _A, _A * _B, _A + 1]))
@settings(max_examples=300, deadline=None, derandomize=True)
def test_floordiv_equals_integer_division_everywhere(num, div):
    e = floordiv(num, div)
    for a in range(1, 6):
        for b in range(1, 4):
            for z in range(0, 3):
                m = {_A: sympy.Integer(a), _B: sympy.Integer(b), _Z: sympy.Integer(z)}
                d = sympy.sympify(div).xreplace(m)
                assert e.xreplace(m) == int(num.xreplace(m)) // int(d), (num, div, m)
