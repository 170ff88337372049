"""The presentation layer: golden strings of the key formulas (text, unicode, LaTeX), the printed text read
back by the whitelist parser equals the engine's expression on grids, settings refused by name, number()."""

from __future__ import annotations

import ast
import itertools
import pathlib
from fractions import Fraction

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symcnn as sc
from symcnn import C, D, F, H, K, P, S, W
from symcnn._intmath import Gcd, ceildiv, floordiv, mod, smax, smin
from symcnn._parse import parse_expr_safe
from symcnn.layers import conv as _conv
from symcnn.layers import pool as _pool
from symcnn.layers import transposed as _tr
from symcnn.present import fmt, latex, number, pretty, show
from symcnn.present._documents import derivation_latex
from symcnn.present._tables import _latex_cell, _text
from symcnn.receptive import transposed_span

n = sympy.Symbol("n", integer=True, positive=True)


def _resnet18_last_map():
    a = sc.analyze(sc.models.get("resnet18"), (3, H, W))
    i = [r.kind for r in a.layers].index("AdaptiveAvgPool2d")
    return a.layers[i - 1].output_shape[2]


def _formulas():
    """(name, the engine's expression, text, unicode text, LaTeX)."""
    same_l, same_r = _conv.same_padding(W, F, S, D)
    return [
        ("conv output size", _conv.conv_output_size(W, F, S, P, P, D),
         "floor((W + 2*P - D*(F - 1) - 1)/S) + 1", "⌊(W + 2P − D·(F − 1) − 1)/S⌋ + 1",
         r"\left\lfloor \frac{W + 2 P - D \left(F - 1\right) - 1}{S} \right\rfloor + 1"),
        ("7x7/2 pad 3", _conv.conv_output_size(W, 7, 2, 3, 3, 1),
         "ceil(W/2)", "⌈W/2⌉", r"\left\lceil \frac{W}{2} \right\rceil"),
        ("ResNet-18 last feature map", _resnet18_last_map(),
         "ceil(W/32)", "⌈W/32⌉", r"\left\lceil \frac{W}{32} \right\rceil"),
        ("SAME output", ceildiv(W, S), "ceil(W/S)", "⌈W/S⌉", r"\left\lceil \frac{W}{S} \right\rceil"),
        ("ceil_mode window count", ceildiv(W - F, S) + 1, "ceil((W - F)/S) + 1", "⌈(W − F)/S⌉ + 1",
         r"\left\lceil \frac{W - F}{S} \right\rceil + 1"),
        ("SAME total padding", same_l + same_r,
         "max(0, S*floor((W - 1)/S) + D*(F - 1) - W + 1)", "max(0, S·⌊(W − 1)/S⌋ + D·(F − 1) − W + 1)",
         r"\max\left(0, S \left\lfloor \frac{W - 1}{S} \right\rfloor + D \left(F - 1\right) - W + 1\right)"),
        ("transposed output size", _tr.transposed_output_size(W, F, S, P, P, D, 0),
         "S*(W - 1) + D*(F - 1) - 2*P + 1", "S·(W − 1) + D·(F − 1) − 2P + 1",
         r"S \left(W - 1\right) + D \left(F - 1\right) - 2 P + 1"),
        ("pool ceil_mode", _pool.pool_output_size(W, F, S, P, P, 1, True),
         "min(floor((W + P - 1)/S), floor((W + 2*P - F - 1)/S) + 1) + 1",
         "min(⌊(W + P − 1)/S⌋, ⌊(W + 2P − F − 1)/S⌋ + 1) + 1",
         r"\min\left(\left\lfloor \frac{W + 2 P - F - 1}{S} \right\rfloor + 1, "
         r"\left\lfloor \frac{W + P - 1}{S} \right\rfloor\right) + 1"),
        ("pool 2x2 ceil_mode", _pool.pool_output_size(W, 2, 2, 0, 0, 1, True),
         "ceil(W/2)", "⌈W/2⌉", r"\left\lceil \frac{W}{2} \right\rceil"),
        ("adaptive windows total", _pool.adaptive_window_total(W, n),
         "W + n - gcd(W, n)", "W + n − gcd(W, n)", r"W + n - \gcd\left(W, n\right)"),
        ("adaptive longest window", _pool.adaptive_longest_window(W, n),
         "floor(W/n) + min(2, (W mod n)/gcd(W, n))", "⌊W/n⌋ + min(2, (W mod n)/gcd(W, n))",
         r"\left\lfloor \frac{W}{n} \right\rfloor + \min\left(2, \frac{W \bmod n}{\gcd\left(W, n\right)}\right)"),
        ("transposed receptive span", transposed_span(F, S, D),
         "D*floor((F*gcd(S, D) - 1)/S)/gcd(S, D) + 1", "D·⌊(F·gcd(S, D) − 1)/S⌋/gcd(S, D) + 1",
         r"\frac{D \left\lfloor \frac{F \gcd\left(D, S\right) - 1}{S} \right\rfloor}{\gcd\left(D, S\right)} + 1"),
        ("transposed offset", sc.derive.transposed_offset().result,
         "(2*P + X - D*(F - 1) - 1) mod S", "(2P + X − D·(F − 1) − 1) mod S",
         r"\left(2 P + X - D \left(F - 1\right) - 1\right) \bmod S"),
        ("max and min", smax(F, S) + smin(W, F),
         "min(F, W) + max(F, S)", "min(F, W) + max(F, S)", r"\min\left(F, W\right) + \max\left(F, S\right)"),
        ("floor of a product", floordiv(C * H * W, 4),
         "floor((C*H*W)/4)", "⌊C·H·W/4⌋", r"\left\lfloor \frac{C H W}{4} \right\rfloor"),
        ("negative coefficients last", 2 - 3 * W + H - K,
         "H - 3*W - K + 2", "H − 3W − K + 2", "H - 3 W - K + 2"),
        ("conv params", sc.analyze(sc.Conv2d(C, K, F), (C, H, W)).params,
         "K + C*F**2*K", "K + C·F²·K", "K + C F^{2} K"),
        ("conv MACs", sc.analyze(sc.Conv2d(C, K, F, stride=S, padding=P), (C, H, W)).macs,
         "C*F**2*K*(floor((H + 2*P - F)/S) + 1)*(floor((W + 2*P - F)/S) + 1)",
         "C·F²·K·(⌊(H + 2P − F)/S⌋ + 1)·(⌊(W + 2P − F)/S⌋ + 1)",
         r"C F^{2} K \left(\left\lfloor \frac{H + 2 P - F}{S} \right\rfloor + 1\right) "
         r"\left(\left\lfloor \frac{W + 2 P - F}{S} \right\rfloor + 1\right)"),
        ("SAME output as a factor", K * ceildiv(W, S) ** 2,
         "K*ceil(W/S)**2", "K·⌈W/S⌉²", r"K \left\lceil \frac{W}{S} \right\rceil^{2}"),
        ("mod as a factor", 2 * mod(W, 3), "2*(W mod 3)", "2(W mod 3)", r"2 \left(W \bmod 3\right)"),
        ("mod of a product", sympy.Mod(2 * W, S * D),
         "2*W mod (D*S)", "2W mod (D·S)", r"2 W \bmod \left(D S\right)"),
        ("negative rational", -W / 3, "-W/3", "−W/3", r"- \frac{W}{3}"),
    ]


FORMULAS = _formulas()


@pytest.mark.parametrize("case", FORMULAS, ids=[f[0] for f in FORMULAS])
def test_golden_strings(case):
    _, expr, text, uni, tex = case
    assert pretty(expr) == text
    assert pretty(expr, unicode=True) == uni
    assert latex(expr) == tex
    assert sc.pretty(expr) == text and sc.latex(expr) == tex  # the public names are these


@pytest.mark.parametrize("case", FORMULAS, ids=[f[0] for f in FORMULAS])
def test_golden_text_reads_back_as_the_engines_expression(case):
    _, expr, text, _, _ = case
    _agree(expr, parse_expr_safe(text))


def test_no_sympy_function_names_in_text():
    for _, expr, _, _, tex in FORMULAS:
        for out in (pretty(expr), pretty(expr, unicode=True)):
            assert not any(name in out for name in ("Gcd", "Max", "Min", "Mod", "ceiling(")), out
        assert "operatorname" not in tex


def test_str_and_pretty_agree_on_floor_division():
    """FloorDiv's own str() hook delegates to the presentation layer."""
    for e in (floordiv(W + 31, 32), floordiv(W, S), floordiv(C * H, 4)):
        assert str(e) == pretty(e)


def test_one_tuples():
    three = (sympy.Integer(3),)
    assert fmt(three) == "(3,)" and fmt((W,)) == "(W,)" and fmt((W, H)) == "(W, H)"
    assert show(three) == "(3,)" and show([W]) == "(W)" and show({"out": three}) == "out = (3,)"
    assert _text(three) == "(3,)" and _latex_cell(three) == "(3,)" and _latex_cell((W,)) == "$(W,)$"

    class Result:
        result = (ceildiv(W, S),)

    assert derivation_latex(Result()) == r"$$\left(\left\lceil \frac{W}{S} \right\rceil,\right)$$"
    a = sc.analyze(sc.Linear(4, 1000), (4,))
    assert repr(a.output_shape) == "(1000,)" and "| (1000,) |" in a.to("markdown")
    assert "\\text{output shape} & \\left(1000,\\right)" in a._repr_latex_()


@pytest.mark.parametrize(("value", "text"), [
    (0, "0"), (7, "7"), (-1, "-1"), (1234567, "1,234,567"), (-1234567, "-1,234,567"),
    (10**20, "100,000,000,000,000,000,000"), (sympy.Integer(138357544), "138,357,544"),
    (np.int64(-4096), "-4,096"), (sympy.Rational(-1, 3), "-1/3"), (Fraction(123457, 1000), "123,457/1,000"),
    (Fraction(10, 5), "2"), (sympy.Rational(6, 4), "3/2"),
])
def test_number(value, text):
    assert number(value) == text


@pytest.mark.parametrize("value", [0.5, 4e-06, True, W, sympy.Float(2.0), "12", None])
def test_number_refuses_inexact_values(value):
    with pytest.raises(sc.SymcnnError, match="number: .* expected an exact integer or rational|not an exact"):
        number(value)


def test_settings_are_validated_by_name():
    with pytest.raises(sc.SymcnnError, match=r"unknown setting `colour`=1; allowed settings: unicode"):
        pretty(W, colour=1)
    with pytest.raises(sc.SymcnnError, match=r"unknown setting `unicode`=True; allowed settings: mul_symbol"):
        latex(W, unicode=True)
    with pytest.raises(sc.SymcnnError, match=r"setting `unicode`='yes' must be True or False"):
        pretty(W, unicode="yes")
    with pytest.raises(sc.SymcnnError, match=r"setting `unicode`=1 must be True or False"):
        pretty(W, unicode=1)
    with pytest.raises(sc.SymcnnError, match=r"setting `mul_symbol`='star' must be None, \"dot\""):
        latex(W, mul_symbol="star")
    assert latex(S * W, mul_symbol="dot") == r"S \cdot W" and pretty(S * W, unicode=False) == "S*W"


def test_present_imports_nothing_from_the_engine():
    """Layer 1: present imports only sympy, the standard library and symcnn._errors (its own modules aside)."""
    root = pathlib.Path(sc.__file__).parent / "present"
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                assert node.module is None or node.module == "_errors" or node.level == 1, (path.name, node.module)
                if node.level == 2:
                    assert node.module == "_errors", (path.name, node.module)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
                assert all(not m.startswith("symcnn") for m in names), (path.name, names)


# --- presented form == engine on grids ---------------------------------------------------------------------

_NAMES = (W, H, S, D, F, P, n)
_GRID = list(itertools.product((1, 2, 3, 7, 12, 31), (1, 4, 9), (1, 2, 3), (1, 2), (1, 2, 3), (0, 1, 2), (1, 5)))[::37]


def _agree(engine, parsed) -> None:
    for point in _GRID:
        sub = dict(zip(_NAMES, map(sympy.Integer, point), strict=True))
        a, b = sympy.sympify(engine).xreplace(sub), sympy.sympify(parsed).xreplace(sub)
        assert a.free_symbols == b.free_symbols and sympy.expand(a - b) == 0, (point, engine, parsed)


_POSITIVE_LEAF = st.sampled_from([W, H, S, D, F, n, sympy.Integer(1), sympy.Integer(2), sympy.Integer(3)])
_DIVISOR = st.one_of(_POSITIVE_LEAF, st.tuples(_POSITIVE_LEAF, _POSITIVE_LEAF).map(lambda t: t[0] * t[1]))


def _extend(children):
    pair = st.tuples(children, children)
    return st.one_of(
        pair.map(lambda t: t[0] + t[1]),
        pair.map(lambda t: t[0] - t[1]),
        st.tuples(children, st.integers(-3, 3)).map(lambda t: t[0] * t[1]),
        st.tuples(children, _POSITIVE_LEAF).map(lambda t: t[0] * t[1]),
        st.tuples(children, _DIVISOR).map(lambda t: floordiv(t[0], t[1])),
        st.tuples(children, _DIVISOR).map(lambda t: ceildiv(t[0], t[1])),
        st.tuples(children, _DIVISOR).map(lambda t: mod(t[0], t[1])),
        pair.map(lambda t: smax(*t)),
        pair.map(lambda t: smin(*t)),
        st.tuples(_DIVISOR, _DIVISOR).map(lambda t: Gcd(*t)),
    )


_EXPRS = st.recursive(st.one_of(_POSITIVE_LEAF, st.just(P), st.integers(-5, 5).map(sympy.Integer)), _extend,
                      max_leaves=8)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(_EXPRS)
def test_printed_text_parses_back_to_the_engines_expression(expr):
    text = pretty(expr)
    _agree(expr, parse_expr_safe(text))


@pytest.mark.parametrize("model", ["alexnet", "vgg16", "googlenet", "resnet18"])
def test_zoo_closed_forms_read_back(model):
    """Every closed form a summary shows (totals, shapes, receptive field) read back equals the engine's."""
    a = sc.analyze(sc.models.get(model), (3, H, W))
    exprs = [getattr(a, q) for q in ("params", "macs", "flops", "connections", "activations")]
    fields = [r.receptive_field for r in a.layers]
    exprs += [*a.output_shape, *(e for rf in fields for e in (*rf.size, *rf.stride) if e is not None)]
    exprs += [e for r in a.layers for e in r.output_shape]
    for e in dict.fromkeys(exprs):  # distinct, in order
        _agree(e, parse_expr_safe(pretty(e)))
