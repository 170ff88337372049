"""Every public entry point of the engine fed random junk raises only SymcnnError, or returns (issue 13, item 5).

Entry points: ``analyze``, ``Analysis.subs``, ``Analysis.lambdify`` (and calling the function it returns),
``FloorDiv`` / ``floordiv`` / ``ceildiv`` / ``mod``.
"""

from __future__ import annotations

import math

import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symcnn as sc
from symcnn import H, S, W
from symcnn._intmath import FloorDiv, ceildiv, floordiv, mod

_PLAIN = sympy.Symbol("x")  # no integer assumption
_ANY_INT = sympy.Symbol("n", integer=True)  # any sign

atoms = st.one_of(
    st.integers(-10**20, 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.none(),
    st.booleans(),
    st.sampled_from([W, H, S, -W, W - 7, W / 2, 2 * S, S - 1, _PLAIN, _ANY_INT, sympy.nan, sympy.oo, -sympy.oo,
                     sympy.zoo, sympy.Float(3.0), sympy.Float(2.5), sympy.Rational(3, 2), sympy.Integer(0),
                     sympy.I, sympy.true, sympy.Max(W, 3), floordiv(W, 3), sympy.Eq(W, 2), sympy.sqrt(W)]),
    st.builds(complex, st.integers(-3, 3), st.integers(-3, 3)),
)
junk = st.one_of(atoms, st.lists(atoms, max_size=4), st.tuples(atoms, atoms, atoms),
                 st.dictionaries(st.text(max_size=3), atoms, max_size=3))


def _only_symcnn_error(fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except sc.SymcnnError:
        pass


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(junk, junk)
def test_intmath_functions_take_junk(x, d):
    for fn in (FloorDiv, floordiv, ceildiv, mod):
        _only_symcnn_error(fn, x, d)


_NET = sc.Sequential(sc.Conv2d(3, 8, 3, stride=S, padding=1), sc.MaxPool2d(2, ceil_mode=True))


@settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(junk, junk)
def test_analyze_takes_junk(shape, batch):
    _only_symcnn_error(sc.analyze, _NET, shape)
    _only_symcnn_error(sc.analyze, _NET, (3, H, W), batch=batch)
    _only_symcnn_error(sc.analyze, sc.ReLU(), shape, batch=batch)


_ANALYSIS = sc.analyze(_NET, (3, H, W))


@settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.dictionaries(st.one_of(st.sampled_from(["H", "W", "S", "Q", ""]), st.sampled_from([H, W, S, _PLAIN]),
                                 atoms), atoms, max_size=3))
def test_subs_takes_junk(mapping):
    _only_symcnn_error(_ANALYSIS.subs, mapping)
    strs = {k: v for k, v in mapping.items() if isinstance(k, str) and k.isidentifier()}
    _only_symcnn_error(_ANALYSIS.subs, **strs)


@settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(junk, junk, st.lists(junk, min_size=0, max_size=4), st.booleans())
def test_lambdify_takes_junk(quantity, symbols, values, vectorized):
    _only_symcnn_error(_ANALYSIS.lambdify, quantity, symbols, vectorized=vectorized)
    try:
        fn = _ANALYSIS.lambdify("macs", ["H", "S", "W"], vectorized=vectorized)
    except sc.SymcnnError:  # pragma: no cover - the call above is valid
        raise
    _only_symcnn_error(fn, *values)


@given(st.integers(1, 2**63 - 1), st.integers(1, 2**63 - 1), st.integers(1, 4))  # PyTorch's sizes: int64
@settings(max_examples=100, deadline=None, derandomize=True)
def test_lambdify_results_are_exact_or_refused(h, w, s):
    want = _ANALYSIS.subs(H=h, W=w, S=s).macs
    for vectorized in (True, False):
        got = _ANALYSIS.lambdify("macs", ["H", "S", "W"], vectorized=vectorized)(h, s, w)
        assert int(got) == int(want)
    if max(h, w) < 2**62:
        arr = _ANALYSIS.lambdify("macs", ["H", "S", "W"])([h, 5], [s, 1], [w, 7])
        assert [int(v) for v in arr.tolist()] == [int(want), int(_ANALYSIS.subs(H=5, W=7, S=1).macs)]
    assert math.isfinite(float(want))
