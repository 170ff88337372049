"""Convolution output size by counting windows, and TensorFlow's VALID ceil form."""

from __future__ import annotations

import numpy as np
import sympy

from .._intmath import floordiv
from .._symbols import D, F, S, W
from ..layers import conv as _conv
from . import _brute
from ._common import (
    _STD,
    _STD_TEXT,
    F_EFF,
    MODULI,
    SRC_DUMOULIN,
    SRC_TF,
    SRC_TORCH,
    Pl,
    Pr,
    _feff,
    k,
    q,
    r,
    solve_linear_le,
    t,
)
from ._core import (
    Check,
    Derivation,
    Lemma,
    Proof,
    Timer,
    compare,
    grid,
    nonneg_lemmas,
    numeric,
    residue_split,
    restrict,
    same_expr,
)

__all__ = ["conv_output_size", "valid_ceil_form"]


# --- 1. convolution output size ----------------------------------------------------------------------------


def conv_output_size() -> Derivation:
    """Output size of a convolution by counting window positions.

    >>> d = conv_output_size()
    >>> from symcnn import pretty
    >>> d.verified, pretty(d.result)
    (True, 'floor((W + P_l + P_r - D*(F - 1) - 1)/S) + 1')
    """
    start = k * S - Pl
    fits = sympy.Le(start + F_EFF - 1, W + Pr - 1)
    solved = solve_linear_le(fits, k)
    N = W + Pl + Pr - F_EFF
    count = sympy.Sum(1, (sympy.Symbol("k_", integer=True), 0, sympy.floor(N / S))).doit()
    result = _conv.conv_output_size(W, F, S, Pl, Pr, D)
    steps = [
        (
            "window k (k = 0, 1, ...) starts at k*S - P_l in input coordinates (left padding: -P_l..-1)",
            sympy.Eq(sympy.Symbol("t_k"), start),
        ),
        (
            "it reads t_k, t_k + D, ..., t_k + D*(F - 1): its span is the effective kernel",
            sympy.Eq(sympy.Symbol("F_eff"), F_EFF),
        ),
        ("it fits inside the padded input [-P_l, W + P_r - 1] iff its last tap does", fits),
        ("solving for k (SymPy, solve_univariate_inequality)", solved),
        ("so k = 0, 1, ..., floor(N/S) with N = W + P_l + P_r - F_eff >= 0: count them (SymPy Sum)", count),
    ]

    def prove() -> Proof:
        lem = (
            Lemma(
                "solving the fit inequality gives k <= N/S",
                solved,
                sympy.simplify(solved.rhs - N / S) == 0 if isinstance(solved, sympy.Le) else False,
            ),
            Lemma("engine conv_output_size == floor(N/S) + 1", result, same_expr(result, count)),
        )
        return Proof(
            "identity (SymPy)",
            "the fit inequality is solved symbolically for k and the integers "
            "0..floor(N/S) counted; the engine's expression is identical (all symbols symbolic)",
            all(x.passed for x in lem),
            1,
            lem,
        )

    def check() -> Check:
        tm = Timer()
        f = numeric(_conv.conv_output_size(W, F, S, Pl, Pr, D), (W, F, S, Pl, Pr, D))
        g = grid(**_STD)
        g = restrict(g, g["W"] + 2 * g["P"] >= _feff(g))
        want = _brute.brute_map_count(g, sym=True)
        c1 = compare(
            _STD_TEXT + ", symmetric padding, output >= 1",
            g,
            f(g["W"], g["F"], g["S"], g["P"], g["P"], g["D"]),
            want,
        )
        h = grid(W=range(1, 21), F=range(1, 6), S=range(1, 5), Pl=range(0, 4), Pr=range(0, 4), D=range(1, 3))
        h = restrict(h, h["W"] + h["Pl"] + h["Pr"] >= _feff(h))
        want = _brute.brute_map_count(h, sym=False)
        c2 = compare(
            "W 1..20, F 1..5, S 1..4, P_l 0..3, P_r 0..3, D 1..2 (asymmetric)",
            h,
            f(h["W"], h["F"], h["S"], h["Pl"], h["Pr"], h["D"]),
            want,
            t0=tm.start,
        )
        return c1 + c2

    return Derivation(
        "conv_output_size",
        "Convolution output size from the number of window positions",
        "A convolution with kernel F, dilation D, stride S and paddings P_l, P_r has "
        "floor((W + P_l + P_r - D(F-1) - 1)/S) + 1 outputs along an axis of size W.",
        [
            ("sizes, kernel, stride, dilation are integers >= 1; paddings >= 0", None),
            ("at least one window fits", sympy.Ge(W + Pl + Pr, F_EFF)),
        ],
        steps,
        result,
        [SRC_TORCH, SRC_DUMOULIN + " Rel. 6 and 15"],
        prove,
        check,
    )


def valid_ceil_form() -> Derivation:
    """TensorFlow's VALID form ``ceil((W - F_eff + 1)/S)`` equals the floor form for every integer.

    >>> valid_ceil_form().verified
    True
    """
    x = sympy.Symbol("x", integer=True)
    tf_form = sympy.ceiling((x + 1) / S)
    engine = _conv.conv_output_size(x + F_EFF, F, S, 0, 0, D)
    steps = [
        ("TensorFlow documents VALID as ceil((W - F_eff + 1)/S); put x = W - F_eff", tf_form),
        ("the engine (PyTorch) form is floor(x/S) + 1", engine),
        ("write x = S*q + r with 0 <= r <= S - 1 and S = r + 1 + t (t >= 0): floor(x/S) = q", None),
        (
            "q < (x + 1)/S <= q + 1 because x + 1 - q*S = r + 1 >= 1 and (q + 1)*S - x - 1 = t >= 0, "
            "so ceil((x + 1)/S) = q + 1",
            None,
        ),
    ]

    def prove() -> Proof:
        xs, Ss = S * q + r, r + 1 + t  # x = S q + r, S = r + 1 + t
        lem = nonneg_lemmas(
            [
                ("floor(x/S) = q: x - q*S >= 0", (xs - q * S).subs(S, Ss)),
                ("floor(x/S) = q: S - 1 - (x - q*S) >= 0", (S - 1 - (xs - q * S)).subs(S, Ss)),
                ("ceil((x+1)/S) = q + 1: x + 1 - q*S - 1 >= 0", (xs + 1 - q * S - 1).subs(S, Ss)),
                ("ceil((x+1)/S) = q + 1: (q + 1)*S - (x + 1) >= 0", ((q + 1) * S - xs - 1).subs(S, Ss)),
            ]
        )
        ok, cases, fails = residue_split(tf_form, engine, S, MODULI, lambda s, rr: {x: s * q + rr})
        lem += (Lemma(f"residue split of engine vs ceil form, S = 1..8 ({cases} branches)", fails, ok),)
        return Proof(
            "symbolic residue + residue split",
            "symbolic for all S: x = S*q + r with symbolic q, r and S = r + 1 + t, the floor/ceil "
            "characterised by inequalities decided by SymPy; independently, the engine's expression "
            "against ceil((x+1)/S) split on x mod S for S = 1..8 with q, F, D symbolic",
            all(le.passed for le in lem),
            cases + 1,
            lem,
        )

    def check() -> Check:
        tm = Timer()
        f = numeric(_conv.conv_output_size(W, F, S, 0, 0, D), (W, F, S, D))
        g = grid(W=range(1, 41), F=range(1, 8), S=range(1, 6), D=range(1, 4))
        g = restrict(g, g["W"] >= _feff(g))
        tf = -(-(g["W"] - _feff(g) + 1) // g["S"])
        want = np.array(
            [
                _brute.count_windows(w, f_, s, 0, 0, d)
                for w, f_, s, d in zip(
                    g["W"].tolist(), g["F"].tolist(), g["S"].tolist(), g["D"].tolist(), strict=True
                )
            ]
        )
        c1 = compare("W 1..40, F 1..7, S 1..5, D 1..3, P 0 (VALID): TF ceil form vs windows", g, tf, want)
        c2 = compare("same grid: engine vs windows", g, f(g["W"], g["F"], g["S"], g["D"]), want, t0=tm.start)
        xs = grid(x=range(-60, 61), S=range(1, 9))
        c3 = compare(
            "x -60..60, S 1..8: ceil((x+1)/S) vs floor(x/S) + 1 (all integers)",
            xs,
            -(-(xs["x"] + 1) // xs["S"]),
            xs["x"] // xs["S"] + 1,
        )
        return c1 + c2 + c3

    return Derivation(
        "valid_ceil_form",
        "TensorFlow's VALID ceil form equals the floor form",
        "ceil((W - F_eff + 1)/S) = floor((W - F_eff)/S) + 1 for all integers W - F_eff and S >= 1.",
        [("S integer >= 1, x = W - F_eff any integer", sympy.Ge(S, 1))],
        steps,
        sympy.Eq(tf_form, floordiv(x, S) + 1),
        [SRC_TF, "WORKED-EXAMPLES.md 'Output size, VALID, SAME, FULL'"],
        prove,
        check,
    )
