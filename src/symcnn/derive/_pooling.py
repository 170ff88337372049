"""Pooling: ceil_mode, adaptive windows, spatial pyramid pooling levels."""

from __future__ import annotations

import math

import sympy

from .. import reference
from .._intmath import ceildiv, floordiv, smin
from .._symbols import D, F, P, S, W
from ..layers import pool as _pool
from . import _brute
from ._common import F_EFF, STD, Pl, Pr, feff, m, n, q, qn, qp, r, t
from ._core import Compare, Derivation, Grid, claim, eq, fact, identity, nonneg, same_expr

__all__ = ["pool_ceil_mode", "adaptive_pool_windows", "spp_levels"]

O = sympy.Symbol("O", integer=True)


def _torch_ceil_rule(W, F, S, P, D) -> int:
    """PyTorch's rule (Pool.h pooling_output_shape_pad_lr), step by step: ceil, then O -= 1 if needed."""
    o = (W + 2 * P - D * (F - 1) - 1 + S - 1) // S + 1
    return o - 1 if (o - 1) * S >= W + P else o


def pool_ceil_mode() -> Derivation:
    """PyTorch ``ceil_mode`` pooling: the engine's ``min`` form equals PyTorch's ``O -= 1`` rule.

    >>> pool_ceil_mode().verified
    True
    """
    N = W + Pl + Pr - F_EFF
    a_, b_ = ceildiv(N, S), floordiv(W + Pl - 1, S)
    engine = _pool.pool_output_size(W, F, S, Pl, Pr, D, ceil_mode=True)
    Ss = r + 1 + t
    xs = Ss * q + r
    Ns = xs - m
    grid = STD.such_that(lambda g: (2 * g["P"] <= g["F"]) & (g["W"] + 2 * g["P"] + g["S"] - 1 >= feff(g)),
                         "P <= F/2 (PyTorch), output >= 1")
    symmetric = _pool.pool_output_size(W, F, S, P, P, D, ceil_mode=True)
    return claim(
        "pool_ceil_mode",
        "Pooling with ceil_mode: the last window may hang over, but not start in the right padding",
        r"With ceil_mode, $O = \min\left(\lceil N/S \rceil,\ \lfloor (W + P_l - 1)/S \rfloor\right) + 1$ with "
        r"$N = W + P_l + P_r - F_{\mathrm{eff}}$; this is PyTorch's rule ``$O = \lceil N/S \rceil + 1$, then "
        r"$O \leftarrow O - 1$ if $(O - 1)S \ge W + P_l$''. Example $W = 5$, $F = 2$, $S = 2$, $P = 1$: 3, not the "
        "naive 4.",
        assumptions=[(r"$P_r \le F_{\mathrm{eff}} - 1$ (PyTorch: $P \le F/2$)", sympy.Le(Pr, F_EFF - 1)),
                     ("output size at least 1", None)],
        steps=[
            (r"ceil_mode first allows a last window hanging over the end by less than a stride "
             r"($N = W + P_l + P_r - F_{\mathrm{eff}}$):", eq(O, a_ + 1)),
            (r"A window must start inside the input or the left padding: its start $(O - 1)S - P_l \le W - 1$, "
             "that is", sympy.Le(O - 1, b_)),
            (r"PyTorch (Pool.h) takes $O = \lceil N/S \rceil + 1$ and subtracts 1 when $(O - 1)S \ge W + P_l$:",
             eq(O, sympy.Piecewise((a_, sympy.Ge(a_ * S, W + Pl)), (a_ + 1, True)))),
            ("The engine's form:", eq(O, engine)),
            (r"With $x = W + P_l - 1 = Sq + r$, $S = r + 1 + t$ and $m = F_{\mathrm{eff}} - 1 - P_r \ge 0$: "
             r"$b = q$, $a \le q + 1$; $a \ge q + 1$ implies $aS \ge W + P_l$, and $a \le q$ implies "
             r"$aS \le W + P_l - 1$, so both forms are $\min(a, b) + 1$.", None),
        ],
        result=engine,
        sources=["torch-maxpool2d", "torch-avgpool2d", "onnx-maxpool"],
        argument=r"For all $W, S, F, D, P_l$ and $P_r \le F_{\mathrm{eff}} - 1$ (implied by PyTorch's "
        r"$P \le F/2$): $x = Sq + r$, $S = r + 1 + t$, $m = F_{\mathrm{eff}} - 1 - P_r$, every step an "
        r"inequality in the nonnegative symbols $r, t, m$ decided by SymPy.",
        facts=[
            nonneg(r"$b = q$: $x - qS \ge 0$", xs - q * Ss),
            nonneg(r"$b = q$: $S - 1 - (x - qS) \ge 0$", Ss - 1 - (xs - q * Ss)),
            nonneg(r"$a \le q + 1$: $(q + 1)S - N \ge 0$", (q + 1) * Ss - Ns),
            nonneg(r"$a \ge q + 1 \Rightarrow aS \ge W + P_l$: $(q + 1)S - (x + 1) \ge 0$", (q + 1) * Ss - (xs + 1)),
            nonneg(r"$a \le q \Rightarrow aS \le W + P_l - 1$: $x - qS \ge 0$", xs - q * Ss),
            identity(r"the engine's expression is $\min(\lceil N/S \rceil, \lfloor (W + P_l - 1)/S \rfloor) + 1$",
                     engine, smin(a_, b_) + 1),
        ],
        checks=[
            Compare("engine vs window count (ceil_mode)", grid, symmetric,
                    lambda W, F, S, P, D: _brute.count_windows(W, F, S, P, P, D, ceil_mode=True)),
            Compare("engine vs PyTorch's O -= 1 rule", grid, symmetric, _torch_ceil_rule),
        ],
    )


def _adaptive_total(I, O) -> int:  # noqa: E741 - the axis names
    return sum(len(w) for w in _brute.adaptive_windows(I, O))


def _adaptive_is_avgpool(I, O) -> bool:  # noqa: E741 - the axis names
    ws, k_ = _brute.adaptive_windows(I, O), I // O
    return [w.start for w in ws] == reference.windows_1d(I, k_, k_) and all(len(w) == k_ for w in ws)


def adaptive_pool_windows() -> Derivation:
    r"""Adaptive pooling windows: lengths add up to ``In + Out - gcd(In, Out)``.

    >>> adaptive_pool_windows().verified
    True
    """
    In = sympy.Symbol("I", integer=True, positive=True)
    Out = sympy.Symbol("O", integer=True, positive=True)
    i = sympy.Symbol("i", integer=True, nonnegative=True)
    length = sympy.ceiling((i + 1) * In / Out) - sympy.floor(i * In / Out)
    result = _pool.adaptive_window_total(In, Out)
    outs = range(1, 9)

    def split() -> tuple[bool, tuple, int]:
        fails, cases = [], 0
        for o in outs:
            for rr in range(o):
                cases += 1
                Is = o * qn + rr
                total = sum(
                    sympy.ceiling(sympy.expand((j + 1) * Is / o)) - sympy.floor(sympy.expand(j * Is / o))
                    for j in range(o)
                )
                g = sympy.Integer(math.gcd(rr, o))  # Euclid: gcd(o q + r, o) = gcd(r, o)
                engine = result.subs({In: Is, Out: o}).replace(lambda e: e.func.__name__ == "Gcd", lambda e, g=g: g)
                if not same_expr(total, engine):
                    fails.append((o, rr))
        return not fails, tuple(fails), cases

    return claim(
        "adaptive_pool_windows",
        "Adaptive pooling: window sizes add up to I + O − gcd(I, O)",
        r"PyTorch's adaptive windows $\left[\lfloor i I/O \rfloor, \lceil (i + 1) I/O \rceil\right)$ for an input "
        r"of size $I$ and $O$ outputs have total length $I + O - \gcd(I, O)$; when $O$ divides $I$ they are the "
        r"windows of an average pooling with kernel and stride $I/O$.",
        assumptions=[(r"$I$, $O$ integers $\ge 1$", None)],
        steps=[
            (r"Window $i = 0, \dots, O - 1$ is $[\lfloor iI/O \rfloor, \lceil (i + 1)I/O \rceil)$ "
             "(PyTorch's AdaptivePooling start and end indices); its length is", eq(sympy.Symbol("L_i"), length)),
            (r"Summed and re-indexed: $\sum_{i=1}^{O} \lceil iI/O \rceil - \sum_{i=0}^{O-1} \lfloor iI/O \rfloor$.",
             None),
            (r"$\lceil y \rceil = \lfloor y \rfloor + [y \notin \mathbb{Z}]$; the floors telescope to "
             r"$\lfloor I \rfloor - \lfloor 0 \rfloor = I$.", None),
            (r"$iI/O$ is an integer for $i = 1, \dots, O$ exactly when $(O/g) \mid i$ with $g = \gcd(I, O)$: "
             r"$g$ values, so the sum is", eq(sympy.Symbol("L"), result)),
            (r"When $O$ divides $I$ every window has length $I/O$, the stride: an average pooling with kernel and "
             r"stride $I/O$.", None),
        ],
        result=result,
        sources=["torch-adaptiveavgpool2d"],
        argument="The general argument is the telescoping sum of the steps; SymPy verifies the identity on every "
        r"residue of $I$ modulo $O$ for $O = 1..8$ with the quotient of $I$ symbolic.",
        facts=[
            fact(r"the sum of the window lengths equals the engine's total for $I = Oq + r$ ($q$ symbolic; "
                 r"$\gcd(Oq + r, O) = \gcd(r, O)$ by Euclid)", lambda: split()[0], "residue split over O = 1..8",
                 branches=sum(outs)),
        ],
        checks=[
            Compare("engine total window length vs the windows' lengths", Grid(dict(I=range(1, 65), O=range(1, 65))),
                    result, _adaptive_total),
            Compare("adaptive windows == average-pooling windows",
                    Grid(dict(I=range(1, 65), O=range(1, 65))).such_that(lambda g: g["I"] % g["O"] == 0, "O | I"),
                    True, _adaptive_is_avgpool),
        ],
    )


def _spp_bins(W, n) -> int:
    return len(reference.windows_1d(W, -(-W // n), W // n))


def spp_levels() -> Derivation:
    """Spatial pyramid pooling: level ``n`` yields ``n`` bins iff ``W mod n <= floor(W/n)``.

    >>> spp_levels().result["condition"]
    Mod(W, n) <= floor(W/n)
    """
    window, stride, bins = _pool.SpatialPyramidPooling.level_window(W, n)
    condition = sympy.Le(sympy.Mod(W, n), floordiv(W, n))
    levels = range(1, 9)

    def split() -> bool:
        for nn in levels:
            for rr in range(nn):
                b = bins.subs({n: nn, W: nn * qp + rr})
                claimed = nn if rr == 0 else nn + sympy.floor(sympy.Rational(rr - 1) / qp)
                if not same_expr(b, claimed):
                    return False
        return True

    grid = Grid(dict(W=range(1, 81), n=range(1, 9))).such_that(lambda g: g["W"] >= g["n"], "W >= n")
    return claim(
        "spp_levels",
        "Spatial pyramid pooling: when a level yields n × n bins",
        r"SPP level $n$ (window $\lceil W/n \rceil$, stride $\lfloor W/n \rfloor$) gives "
        r"$\lfloor (W - \lceil W/n \rceil)/\lfloor W/n \rfloor \rfloor + 1$ bins, which is $n$ exactly when "
        r"$W \bmod n \le \lfloor W/n \rfloor$, in particular for every $W \ge n(n - 1)$.",
        assumptions=[(r"$W \ge n$", sympy.Ge(W, n))],
        steps=[
            (r"He et al. (SPP-net): level $n$ pools with window $\lceil W/n \rceil$ and stride "
             r"$\lfloor W/n \rfloor$.", eq(sympy.Tuple(sympy.Symbol("F_n"), sympy.Symbol("S_n")),
                                           sympy.Tuple(window, stride))),
            ("The number of windows (derivation conv_output_size, no padding):", eq(sympy.Symbol("B_n"), bins)),
            (r"$W = nq + r$ ($q \ge 1$): $r = 0$ gives window = stride = $q$ and $n$ bins.", None),
            (r"$r \ge 1$: window $q + 1$, stride $q$, $n + \lfloor (r - 1)/q \rfloor$ bins, which is $n$ exactly "
             r"when $r \le q$:", condition),
            (r"Sufficient: $W \ge n(n - 1)$ (then $q \ge n - 1 \ge r$).", sympy.Ge(W, n * (n - 1))),
        ],
        result={"window": window, "stride": stride, "bins": bins, "condition": condition},
        sources=["he2015spp"],
        argument=r"$W = nq + r$ with $q$ symbolic, split over every residue $r$ for $n = 1..8$: the engine's bin "
        r"count is $n + \lfloor (r - 1)/q \rfloor$ ($n$ for $r = 0$); and $\lfloor (r - 1)/q \rfloor = 0$ exactly "
        r"when $0 \le r - 1 \le q - 1$.",
        facts=[
            fact(r"the engine's bins are $n + \lfloor (r - 1)/q \rfloor$ ($n$ when $r = 0$)", split,
                 "residue split over n = 1..8", branches=sum(levels)),
        ],
        checks=[
            Compare(r"engine bins vs windows of size ceil(W/n), stride floor(W/n)", grid, bins, _spp_bins),
            Compare(r"condition W mod n <= floor(W/n) vs n bins", grid, condition,
                    lambda W, n: _spp_bins(W, n) == n),
            Compare("n bins for W >= n(n - 1)", grid.such_that(lambda g: g["W"] >= g["n"] * (g["n"] - 1),
                                                                "W >= n(n - 1)"), bins, lambda W, n: n),
        ],
    )
