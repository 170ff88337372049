"""Convolution output size by counting windows, and TensorFlow's VALID ceil form."""

from __future__ import annotations

import sympy

from .._intmath import floordiv
from .._symbols import D, F, P, S, W
from ..layers import conv as _conv
from ._brute import count_windows
from ._common import F_EFF, MODULI, STD, STD_NOPAD, Pl, Pr, feff, k, q, r, solve_linear_le, t, windows
from ._core import Compare, Derivation, Grid, claim, eq, identity, nonneg, residues

__all__ = ["conv_output_size", "valid_ceil_form"]

O = sympy.Symbol("O", integer=True)
N_ = sympy.Symbol("N", integer=True)


def conv_output_size() -> Derivation:
    r"""Output size of a convolution by counting window positions.

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
    return claim(
        "conv_output_size",
        "Convolution output size from the number of window positions",
        r"A convolution with kernel $F$, dilation $D$, stride $S$ and paddings $P_l, P_r$ has "
        r"$\left\lfloor \frac{W + P_l + P_r - D(F-1) - 1}{S} \right\rfloor + 1$ outputs along an axis of size $W$.",
        assumptions=[
            (r"sizes, kernel, stride and dilation are integers $\ge 1$; paddings are integers $\ge 0$", None),
            ("at least one window fits", sympy.Ge(W + Pl + Pr, F_EFF)),
        ],
        steps=[
            (r"Window $k$ ($k = 0, 1, \dots$) starts at $kS - P_l$ in input coordinates (the left padding is "
             r"$-P_l, \dots, -1$).", eq(sympy.Symbol("t_k"), start)),
            (r"It reads $t_k, t_k + D, \dots, t_k + D(F-1)$: its span is the effective kernel.",
             eq(sympy.Symbol("F_eff"), F_EFF)),
            (r"It fits inside the padded input $[-P_l,\ W + P_r - 1]$ exactly when its last tap does.", fits),
            (r"Solved for $k$:", solved),
            (r"So $k = 0, 1, \dots, \lfloor N/S \rfloor$ with $N = W + P_l + P_r - F_{\mathrm{eff}} \ge 0$; "
             "counting them gives the number of outputs.", eq(O, count)),
        ],
        result=result,
        sources=["torch-conv2d", "dumoulin2016, Relationships 6 and 15"],
        argument=r"The fit inequality is solved for $k$ and the integers $0, \dots, \lfloor N/S \rfloor$ are "
        "counted, with every symbol symbolic; the engine's expression is identical to the count.",
        facts=[
            identity(r"solving the fit inequality gives $k \le N/S$", solved.rhs, N / S),
            identity(r"the engine's output size is $\lfloor N/S \rfloor + 1$", result, count),
        ],
        checks=[
            Compare("engine vs window count, symmetric padding",
                    STD.such_that(lambda g: g["W"] + 2 * g["P"] >= feff(g), "output >= 1"),
                    _conv.conv_output_size(W, F, S, P, P, D), windows),
            Compare("engine vs window count, asymmetric padding",
                    Grid(dict(W=range(1, 21), F=range(1, 6), S=range(1, 5), P_l=range(0, 4), P_r=range(0, 4),
                              D=range(1, 3))).such_that(lambda g: g["W"] + g["P_l"] + g["P_r"] >= feff(g),
                                                        "output >= 1"),
                    result, lambda W, F, S, P_l, P_r, D: count_windows(W, F, S, P_l, P_r, D)),
        ],
    )


def valid_ceil_form() -> Derivation:
    r"""TensorFlow's VALID form $\lceil (W - F_{\mathrm{eff}} + 1)/S \rceil$ equals the floor form for every integer.

    >>> valid_ceil_form().verified
    True
    """
    x = sympy.Symbol("x", integer=True)
    tf_form = sympy.ceiling((x + 1) / S)
    engine = _conv.conv_output_size(x + F_EFF, F, S, 0, 0, D)
    valid = STD_NOPAD.such_that(lambda g: g["W"] >= feff(g), "P = 0, output >= 1")
    xs, Ss = S * q + r, r + 1 + t  # x = S q + r with 0 <= r <= S - 1, written S = r + 1 + t
    return claim(
        "valid_ceil_form",
        "TensorFlow's VALID ceil form equals the floor form",
        r"$\left\lceil \frac{W - F_{\mathrm{eff}} + 1}{S} \right\rceil = "
        r"\left\lfloor \frac{W - F_{\mathrm{eff}}}{S} \right\rfloor + 1$ for every integer $W - F_{\mathrm{eff}}$ "
        r"and every stride $S \ge 1$.",
        assumptions=[(r"$S$ an integer $\ge 1$, $x = W - F_{\mathrm{eff}}$ any integer", sympy.Ge(S, 1))],
        steps=[
            (r"TensorFlow documents VALID as $\lceil (W - F_{\mathrm{eff}} + 1)/S \rceil$; put "
             r"$x = W - F_{\mathrm{eff}}$.", eq(O, tf_form)),
            (r"The engine (PyTorch) form is $\lfloor x/S \rfloor + 1$.", eq(O, engine)),
            (r"Write $x = Sq + r$ with $0 \le r \le S - 1$, i.e. $S = r + 1 + t$ with $t \ge 0$: then "
             r"$\lfloor x/S \rfloor = q$.", eq(floordiv(x, S), q)),
            (r"$q < (x + 1)/S \le q + 1$, because $x + 1 - qS = r + 1 \ge 1$ and $(q + 1)S - x - 1 = t \ge 0$; "
             r"so the ceiling is $q + 1$.", eq(tf_form, q + 1)),
        ],
        result=eq(tf_form, floordiv(x, S) + 1),
        sources=["tf-padding", "torch-conv2d", "dumoulin2016, Relationship 6"],
        argument=r"For all $S$ and $x$: $x = Sq + r$, $S = r + 1 + t$ with $q$, $r$, $t$ symbolic; the floor and "
        r"the ceiling are pinned by inequalities in the nonnegative symbols, decided by SymPy, and the engine's "
        r"expression is $\lfloor x/S \rfloor + 1$ identically. A residue split of the engine's expression "
        r"against the ceil form for $S = 1..8$ confirms it independently.",
        facts=[
            identity(r"the engine's VALID size is $\lfloor x/S \rfloor + 1$", engine, floordiv(x, S) + 1),
            nonneg(r"$\lfloor x/S \rfloor = q$: $x - qS \ge 0$", (xs - q * S).subs(S, Ss)),
            nonneg(r"$\lfloor x/S \rfloor = q$: $S - 1 - (x - qS) \ge 0$", (S - 1 - (xs - q * S)).subs(S, Ss)),
            nonneg(r"$\lceil (x+1)/S \rceil = q + 1$: $x + 1 - qS - 1 \ge 0$", (xs - q * S).subs(S, Ss)),
            nonneg(r"$\lceil (x+1)/S \rceil = q + 1$: $(q + 1)S - (x + 1) \ge 0$", ((q + 1) * S - xs - 1).subs(S, Ss)),
            residues(r"the engine's expression equals $\lceil (x+1)/S \rceil$ on every residue of $x$ modulo $S$",
                     tf_form, engine, S, MODULI, lambda s, rr: {x: s * q + rr}),
        ],
        checks=[
            Compare("TensorFlow ceil form vs window count (VALID)", valid, sympy.ceiling((W - F_EFF + 1) / S), windows),
            Compare("engine vs window count (VALID)", valid, _conv.conv_output_size(W, F, S, 0, 0, D), windows),
            Compare(r"ceil form vs floor form for all integers", Grid(dict(x=range(-60, 61), S=range(1, 9))),
                    tf_form, lambda x, S: x // S + 1),
        ],
    )
