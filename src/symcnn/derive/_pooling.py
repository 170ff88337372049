"""Pooling: ceil_mode, adaptive windows, spatial pyramid pooling levels."""

from __future__ import annotations

import numpy as np
import sympy

from .._intmath import ceildiv, floordiv, smin
from .._symbols import D, F, P, S, W
from ..layers import pool as _pool
from . import _brute
from ._common import (
    _STD,
    _STD_TEXT,
    F_EFF,
    Pl,
    Pr,
    _feff,
    m,
    n,
    q,
    qn,
    qp,
    r,
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
    restrict,
    same_expr,
)

__all__ = ["pool_ceil_mode", "adaptive_pool_windows", "spp_levels"]


# --- 5. pooling -------------------------------------------------------------------------------------------


def pool_ceil_mode() -> Derivation:
    """PyTorch ``ceil_mode`` pooling: the engine's ``min`` form equals PyTorch's ``O -= 1`` rule.

    >>> pool_ceil_mode().verified
    True
    """
    N = W + Pl + Pr - F_EFF
    a_, b_ = ceildiv(N, S), floordiv(W + Pl - 1, S)
    engine = _pool.pool_output_size(W, F, S, Pl, Pr, D, ceil_mode=True)
    O = sympy.Symbol("O", integer=True)
    torch_rule = sympy.Piecewise((a_, sympy.Ge(a_ * S, W + Pl)), (a_ + 1, True))
    steps = [
        (
            "ceil_mode first allows a last window hanging over the end by less than a stride: O = "
            "ceil(N/S) + 1, "
            "N = W + P_l + P_r - F_eff",
            a_ + 1,
        ),
        (
            "a window must start inside the input or the left padding: start (O-1)S - P_l <= W - 1, i.e. "
            "O - 1 <= floor((W + P_l - 1)/S)",
            sympy.Le(O - 1, b_),
        ),
        ("PyTorch (Pool.h): O -= 1 if (O - 1)*S >= W + P_l", torch_rule),
        ("the engine's form", engine),
        (
            "with x = W + P_l - 1 = S q + r, S = r + 1 + t and m = F_eff - 1 - P_r >= 0: b = q, a <= q + 1, "
            "a >= q + 1 implies a S >= W + P_l, a <= q implies a S <= W + P_l - 1; so both forms are "
            "min(a, b) + 1",
            None,
        ),
    ]

    def prove() -> Proof:
        Ss = r + 1 + t
        xs = Ss * q + r
        Ns = xs - m
        lem = nonneg_lemmas(
            [
                ("b = q: x - q S >= 0", xs - q * Ss),
                ("b = q: S - 1 - (x - q S) >= 0", Ss - 1 - (xs - q * Ss)),
                ("a <= q + 1: (q + 1) S - N >= 0", (q + 1) * Ss - Ns),
                ("a >= q + 1 => a S >= W + P_l: (q + 1) S - (x + 1) >= 0", (q + 1) * Ss - (xs + 1)),
                ("a <= q => a S <= W + P_l - 1: x - q S >= 0", xs - q * Ss),
            ]
        )
        lem += (
            Lemma(
                "engine expression is min(ceil(N/S), floor((W + P_l - 1)/S)) + 1",
                engine,
                same_expr(engine, smin(a_, b_) + 1),
            ),
        )
        return Proof(
            "symbolic residue",
            "symbolic for all W, S, F, D, P_l and P_r <= F_eff - 1 (implied by "
            "PyTorch's P <= F/2): x = S q + r, S = r + 1 + t, m = F_eff - 1 - P_r, every step an "
            "inequality in the nonnegative symbols r, t, m decided by SymPy",
            all(x.passed for x in lem),
            2,
            lem,
        )

    def check() -> Check:
        tm = Timer()
        f = numeric(_pool.pool_output_size(W, F, S, P, P, D, ceil_mode=True), (W, F, S, P, D))
        g = grid(**_STD)
        g = restrict(g, (2 * g["P"] <= g["F"]) & (g["W"] + 2 * g["P"] + g["S"] - 1 >= _feff(g)))
        want, torch = [], []
        for w, f_, s, p, d in zip(*(g[c].tolist() for c in ("W", "F", "S", "P", "D")), strict=True):
            want.append(_brute.count_windows(w, f_, s, p, p, d, ceil_mode=True))
            o = (w + 2 * p - d * (f_ - 1) - 1 + s - 1) // s + 1  # Pool.h pooling_output_shape_pad_lr
            if (o - 1) * s >= w + p:
                o -= 1
            torch.append(o)
        got = f(g["W"], g["F"], g["S"], g["P"], g["D"])
        text = _STD_TEXT + ", P <= F/2 (PyTorch), output >= 1"
        c1 = compare(text + ": engine vs windows (ceil_mode)", g, got, np.array(want))
        c2 = compare("same grid: engine vs PyTorch's O -= 1 rule", g, got, np.array(torch), t0=tm.start)
        return c1 + c2

    return Derivation(
        "pool_ceil_mode",
        "Pooling with ceil_mode: the last window may hang over, but not start in the right padding",
        "With ceil_mode, O = min(ceil(N/S), floor((W + P_l - 1)/S)) + 1 (N = W + P_l + P_r - F_eff); this is "
        "PyTorch's 'O = ceil(N/S) + 1, then O -= 1 if (O - 1)S >= W + P_l'. Example W=5, F=2, S=2, P=1: 3, "
        "not the naive 4.",
        [("P_r <= F_eff - 1 (PyTorch: P <= F/2)", sympy.Le(Pr, F_EFF - 1)), ("output >= 1", None)],
        steps,
        engine,
        [
            "FORMULAS.md §2.4 (Pool.h pooling_output_shape_pad_lr; pooling.py ceil_mode doc)",
            "FORMULAS.md §9 R11",
            "FORMULAS.md §3.3 (ONNX MaxPool ceil_mode)",
        ],
        prove,
        check,
    )


def adaptive_pool_windows() -> Derivation:
    """Adaptive pooling windows: lengths add up to ``In + Out - gcd(In, Out)``.

    >>> adaptive_pool_windows().verified
    True
    """
    In = sympy.Symbol("I", integer=True, positive=True)
    Out = sympy.Symbol("O", integer=True, positive=True)
    i = sympy.Symbol("i", integer=True, nonnegative=True)
    length = sympy.ceiling((i + 1) * In / Out) - sympy.floor(i * In / Out)
    result = _pool.adaptive_window_total(In, Out)
    steps = [
        ("window i = 0..Out-1 is [floor(i In/Out), ceil((i+1) In/Out)) (AdaptivePooling.h)", length),
        ("sum and re-index: sum_{i=1}^{Out} ceil(i In/Out) - sum_{i=0}^{Out-1} floor(i In/Out)", None),
        ("ceil(y) = floor(y) + [y not an integer]; the floors telescope to floor(In) - floor(0) = In", None),
        (
            "i In/Out is an integer for i = 1..Out iff (Out/g) | i, g = gcd(In, Out): g values; so the "
            "sum is "
            "In + Out - g",
            result,
        ),
        ("when Out | In every window has length In/Out = stride: AvgPool(k = s = In/Out)", None),
    ]

    def prove() -> Proof:
        fails, cases = [], 0
        for o in range(1, 9):
            for rr in range(o):
                cases += 1
                Is = o * qn + rr
                total = sum(
                    sympy.ceiling(sympy.expand((j + 1) * Is / o)) - sympy.floor(sympy.expand(j * Is / o))
                    for j in range(o)
                )
                # Euclid: gcd(o q + r, o) = gcd(r, o)
                g_ro = sympy.Integer(int(np.gcd(rr, o)))
                engine = result.subs({In: Is, Out: o}).replace(
                    lambda e: e.func.__name__ == "Gcd", lambda e, g_ro=g_ro: g_ro
                )
                if sympy.expand(total - engine) != 0:
                    fails.append((o, rr))
        lem = (
            Lemma(
                f"sum of the window lengths == engine total, Out = 1..8, In = Out q + r ({cases} "
                "branches, q symbolic; gcd(Out q + r, Out) = gcd(r, Out) by Euclid)",
                fails,
                not fails,
            ),
        )
        return Proof(
            "residue split",
            "the general argument is the telescoping sum above (text); SymPy verifies "
            "the identity for Out = 1..8 and every residue of In, with In's quotient symbolic",
            not fails,
            cases,
            lem,
        )

    def check() -> Check:
        tm = Timer()
        f = numeric(result, (In, Out))
        g = grid(I=range(1, 65), O=range(1, 65))
        want = np.array(
            [
                sum(len(wr) for wr in _brute.adaptive_windows(a, b))
                for a, b in zip(g["I"].tolist(), g["O"].tolist(), strict=True)
            ]
        )
        c1 = compare("In 1..64, Out 1..64: total window length", g, f(g["I"], g["O"]), want)
        h = restrict(g, g["I"] % g["O"] == 0)
        same = [
            [wr.start for wr in _brute.adaptive_windows(a, b)] == _windows(a, a // b)
            and all(len(wr) == a // b for wr in _brute.adaptive_windows(a, b))
            for a, b in zip(h["I"].tolist(), h["O"].tolist(), strict=True)
        ]
        c2 = compare(
            "Out | In: adaptive windows == AvgPool(k = s = In/Out) windows",
            h,
            np.array(same),
            np.ones(len(same), bool),
            t0=tm.start,
        )
        return c1 + c2

    return Derivation(
        "adaptive_pool_windows",
        "Adaptive pooling: window sizes add up to In + Out - gcd(In, Out)",
        "PyTorch's adaptive windows [floor(i In/Out), ceil((i+1) In/Out)) have total length In + Out - "
        "gcd(In, Out); "
        "when Out divides In they are the windows of AvgPool(k = s = In/Out).",
        [("In, Out integers >= 1", None)],
        steps,
        result,
        ["FORMULAS.md §2.4 (AdaptivePooling.h start_index/end_index)"],
        prove,
        check,
    )


def _windows(size, k_):
    from .. import reference

    return reference.windows_1d(size, k_, k_)


def spp_levels() -> Derivation:
    """Spatial pyramid pooling: level ``n`` yields ``n`` bins iff ``W mod n <= floor(W/n)``.

    >>> spp_levels().result["condition"]
    Mod(W, n) <= floor(W/n)
    """
    window, stride, bins = _pool.SpatialPyramidPooling.level_window(W, n)
    condition = sympy.Le(sympy.Mod(W, n), floordiv(W, n))
    steps = [
        ("He et al. (SPP-net): level n pools with window ceil(W/n) and stride floor(W/n)", (window, stride)),
        ("number of windows (derivation conv_output_size, P = 0)", bins),
        ("W = n q + r (q >= 1): r = 0 gives window = stride = q and n bins", None),
        ("r >= 1: window q + 1, stride q, bins = n + floor((r - 1)/q): n iff r <= q", condition),
        ("sufficient: W >= n(n - 1) (then q >= n - 1 >= r)", sympy.Ge(W, n * (n - 1))),
    ]

    def prove() -> Proof:
        fails, cases = [], 0
        for nn in range(1, 9):
            for rr in range(nn):
                cases += 1
                b = bins.subs({n: nn, W: nn * qp + rr})
                claim = nn if rr == 0 else nn + sympy.floor(sympy.Rational(rr - 1) / qp)
                if not same_expr(b, claim):
                    fails.append((nn, rr))
        lem = (
            Lemma(
                f"engine bins == n + floor((r-1)/q), n = 1..8, every residue r, q symbolic ({cases} "
                "branches)",
                fails,
                not fails,
            ),
            Lemma("floor((r-1)/q) = 0 iff 0 <= r - 1 <= q - 1 (r >= 1): bins = n iff r <= q", None, True),
        )
        return Proof(
            "residue split",
            "W = n q + r with q symbolic for n = 1..8; the condition follows from the floor characterisation",
            not fails,
            cases,
            lem,
        )

    def check() -> Check:
        tm = Timer()
        fb = numeric(bins, (W, n))
        g = grid(W=range(1, 81), n=range(1, 9))
        g = restrict(g, g["W"] >= g["n"])
        want = np.array(
            [
                len(_windows_ws(w, -(-w // nn), w // nn))
                for w, nn in zip(g["W"].tolist(), g["n"].tolist(), strict=True)
            ]
        )
        c1 = compare(
            "W 1..80, n 1..8, W >= n: bins of the (ceil(W/n), floor(W/n)) windows",
            g,
            fb(g["W"], g["n"]),
            want,
        )
        cond = (g["W"] % g["n"]) <= (g["W"] // g["n"])
        c2 = compare("same grid: bins == n iff W mod n <= floor(W/n)", g, cond, want == g["n"])
        suff = restrict(g, g["W"] >= g["n"] * (g["n"] - 1))
        ws = want[g["W"] >= g["n"] * (g["n"] - 1)]
        c3 = compare("W >= n(n-1) implies n bins", suff, ws, suff["n"], t0=tm.start)
        return c1 + c2 + c3

    return Derivation(
        "spp_levels",
        "Spatial pyramid pooling: when a level yields n x n bins",
        "SPP level n (window ceil(W/n), stride floor(W/n)) gives floor((W - ceil(W/n))/floor(W/n)) + 1 bins, "
        "which is n exactly when W mod n <= floor(W/n), in particular for every W >= n(n-1).",
        [("W >= n", sympy.Ge(W, n))],
        steps,
        {"window": window, "stride": stride, "bins": bins, "condition": condition},
        ["WORKED-EXAMPLES.md 'Pooling' (SPP)", "He et al. 2014 (SPP-net), as quoted there"],
        prove,
        check,
    )


def _windows_ws(size, kernel, stride):
    from .. import reference

    return reference.windows_1d(size, kernel, stride)
