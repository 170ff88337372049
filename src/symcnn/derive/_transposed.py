"""Transposed convolution: output size from the adjoint, and the output_padding that inverts a convolution."""

from __future__ import annotations

import numpy as np
import sympy

from .._symbols import D, F, P, S, W
from ..layers import conv as _conv
from ..layers import transposed as _tr
from . import _brute
from ._common import (
    _STD_TEXT,
    F_EFF,
    OP,
    SRC_DUMOULIN,
    Pl,
    Pr,
    X,
    _feff,
    q,
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
    numeric,
    restrict,
    same_expr,
)

__all__ = ["transposed_output_size", "transposed_offset"]


# --- 4. transposed convolution -----------------------------------------------------------------------------


def transposed_output_size() -> Derivation:
    """Transposed convolution as the adjoint of a convolution (zero insertion + stride-1 convolution).

    >>> from symcnn import pretty
    >>> pretty(transposed_output_size().result)
    'S*(W - 1) + OP + D*(F - 1) - P_l - P_r + 1'
    """
    i, tap = sympy.symbols("i tap", integer=True, nonnegative=True)
    reach = (W - 1) * S + (F - 1) * D
    result = _tr.transposed_output_size(W, F, S, Pl, Pr, D, OP)
    stretched = (W - 1) * S + 1
    as_conv = _conv.conv_output_size(stretched, F, 1, F_EFF - 1 - Pl, F_EFF - 1 - Pr + OP, D)
    steps = [
        ("the adjoint of a convolution scatters input i through tap t to output i*S + t*D", i * S + tap * D),
        ("the furthest write (i = W - 1, t = F - 1) fixes the full length reach + 1", reach + 1),
        ("output_padding appends OP positions at the end; the paddings crop P_l and P_r", result),
        (
            "equivalently: insert S - 1 zeros between inputs (length (W-1)S + 1) and run a stride-1 "
            "convolution "
            "with the flipped kernel and padding F_eff - 1 - P_l, F_eff - 1 - P_r + OP",
            as_conv,
        ),
    ]

    def prove() -> Proof:
        lem = (
            Lemma(
                "the writes i*S + t*D increase in i and t (S, D >= 1): maximum at the corner",
                sympy.diff(i * S + tap * D, i),
                bool(S.is_positive and D.is_positive),
            ),
            Lemma(
                "engine == reach + 1 + OP - P_l - P_r", result, same_expr(result, reach + 1 + OP - Pl - Pr)
            ),
            Lemma(
                "engine == stride-1 convolution over the stretched input", as_conv, same_expr(result, as_conv)
            ),
        )
        return Proof(
            "identity (SymPy)",
            "all symbols symbolic; the zero-insertion equivalence is also checked "
            "on values (reference conv of the stretched input vs reference conv_transpose)",
            all(x.passed for x in lem),
            3,
            lem,
        )

    def check() -> Check:
        from .. import reference

        tm = Timer()
        f = numeric(_tr.transposed_output_size(W, F, S, P, P, D, OP), (W, F, S, P, D, OP))
        g = grid(W=range(1, 41), F=range(1, 8), S=range(1, 6), P=range(0, 5), D=range(1, 4), OP=range(0, 5))
        g = restrict(g, g["OP"] < np.maximum(g["S"], g["D"]))
        want = np.array(
            [
                _brute.transposed_length(*a)
                for a in zip(
                    g["W"].tolist(),
                    g["F"].tolist(),
                    g["S"].tolist(),
                    g["P"].tolist(),
                    g["P"].tolist(),
                    g["D"].tolist(),
                    g["OP"].tolist(),
                    strict=True,
                )
            ]
        )
        keep = want >= 1
        g = restrict(g, keep)
        c1 = compare(
            _STD_TEXT + ", OP < max(S, D), output >= 1: scatter length",
            g,
            f(g["W"], g["F"], g["S"], g["P"], g["D"], g["OP"]),
            want[keep],
        )
        # values: zero insertion + stride-1 conv with the flipped kernel == the scatter (reference)
        rng = np.random.default_rng(0)
        v = grid(W=range(1, 5), F=range(1, 4), S=range(1, 4), P=range(0, 3), D=range(1, 3), OP=range(0, 3))
        v = restrict(v, (v["OP"] < v["S"]) & (v["P"] <= v["D"] * (v["F"] - 1)))
        v = restrict(
            v,
            np.array(
                [
                    _brute.transposed_length(*a) >= 1
                    for a in zip(*(v[c].tolist() for c in ("W", "F", "S", "P", "P", "D", "OP")), strict=True)
                ],
                bool,
            ),
        )
        same = []
        for w, f_, s, p, d, op in zip(*(v[c].tolist() for c in ("W", "F", "S", "P", "D", "OP")), strict=True):
            x = rng.integers(-3, 4, size=(1, w)).astype(float)
            wt = rng.integers(-3, 4, size=(1, 1, f_)).astype(float)
            y, _ = reference.conv_transpose(x, wt, stride=s, padding=p, output_padding=op, dilation=d)
            z = np.zeros((1, (w - 1) * s + 1))
            z[0, ::s] = x[0]
            fe = d * (f_ - 1) + 1
            y2, _ = reference.conv(
                z, wt[:, :, ::-1].copy(), padding=((fe - 1 - p, fe - 1 - p + op),), dilation=d
            )
            same.append(y.shape == y2.shape and bool(np.allclose(y, y2)))
        c2 = compare(
            "values, W 1..4, F 1..3, S 1..3, P 0..2 (<= F_eff - 1), D 1..2, OP < S: zero insertion + "
            "flipped stride-1 conv == scatter",
            v,
            np.array(same),
            np.ones(len(same), bool),
            t0=tm.start,
        )
        return c1 + c2

    return Derivation(
        "transposed_output_size",
        "Transposed convolution output size from the adjoint",
        "The adjoint of a convolution (kernel F, stride S, dilation D) maps W inputs to "
        "(W-1)S - P_l - P_r + D(F-1) + OP + 1 outputs; it equals a stride-1 convolution over the "
        "zero-inserted "
        "input with padding F_eff - 1 - P.",
        [("output size >= 1", sympy.Ge(result, 1)), ("PyTorch policy: OP < max(S, D)", None)],
        steps,
        result,
        [
            "FORMULAS.md §2.3 (ConvTranspose Shape)",
            SRC_DUMOULIN + " Rel. 8-14",
            "FORMULAS.md §9 R10",
            "WORKED-EXAMPLES.md 'Transposed convolution'",
        ],
        prove,
        check,
    )


def transposed_offset() -> Derivation:
    """The output_padding that recovers a convolution's input size: ``(X + 2P - F_eff) mod S``.

    >>> from symcnn import pretty
    >>> pretty(transposed_offset().result)
    'Mod(2*P + X - D*(F - 1) - 1, S)'
    """
    a = sympy.Symbol("a", integer=True, nonnegative=True)
    w_out = _conv.conv_output_size(X, F, S, P, P, D)
    back = _tr.transposed_output_size(w_out, F, S, P, P, D, 0)
    result = sympy.Mod(X + 2 * P - F_EFF, S, evaluate=False)
    ineq = sympy.And(
        sympy.Le((w_out - 1) * S, X + 2 * P - F_EFF), sympy.Le(X + 2 * P - F_EFF, (w_out - 1) * S + S - 1)
    )
    steps = [
        ("forward convolution X -> W", w_out),
        ("the transposed convolution with the same F, S, P, D and OP = 0 gives", back),
        (
            "write X + 2P - F_eff = S*q + a with 0 <= a <= S - 1: then W - 1 = q and the transposed "
            "size is X - a",
            None,
        ),
        ("so output_padding = a recovers X", result),
        (
            "every X with conv(X) = W satisfies (W-1)S <= X + 2P - F_eff <= (W-1)S + S - 1: exactly S "
            "inputs, "
            "reached by OP = 0..S-1; PyTorch also admits S <= OP < D (when D > S), sizes no such conv "
            "maps to W",
            ineq,
        ),
    ]

    def prove() -> Proof:
        Ss = a + 1 + t
        Xs = Ss * q + a - 2 * P + F_EFF
        fwd = _conv.conv_output_size(Xs, F, Ss, P, P, D)
        rec = _tr.transposed_output_size(fwd, F, Ss, P, P, D, a)
        lem = (
            Lemma(
                "symbolic (X = S q + a - 2P + F_eff, S = a + 1 + t): engine forward size is q + 1",
                fwd,
                sympy.expand(fwd - q - 1) == 0,
            ),
            Lemma("engine transposed size with OP = a is X", rec, sympy.expand(rec - Xs) == 0),
            Lemma("a < S", Ss - 1 - a, sympy.expand(Ss - 1 - a) == t),
        )
        return Proof(
            "symbolic residue",
            "fully symbolic: the residue a and the stride S = a + 1 + t are symbols; "
            "the engine's FloorDiv rules reduce floor((S q + a)/S) to q",
            all(x.passed for x in lem),
            1,
            lem,
        )

    def check() -> Check:
        tm = Timer()
        g = grid(X=range(1, 41), F=range(1, 8), S=range(1, 6), P=range(0, 5), D=range(1, 4))
        g = restrict(g, g["X"] + 2 * g["P"] >= _feff(g))
        ok_rec, ok_range = [], []
        for x, f_, s, p, d in zip(*(g[c].tolist() for c in ("X", "F", "S", "P", "D")), strict=True):
            w = _brute.count_windows(x, f_, s, p, p, d)
            op = (x + 2 * p - (d * (f_ - 1) + 1)) % s
            ok_rec.append(_brute.transposed_length(w, f_, s, p, p, d, op) == x and op < s)
            # OP = 0..S-1 reach exactly the inputs that map to w; larger OP (PyTorch allows < D) do not
            sizes = [_brute.transposed_length(w, f_, s, p, p, d, o) for o in range(max(s, d))]
            ok_range.append(
                all(
                    (_brute.count_windows(z, f_, s, p, p, d) == w) == (o < s)
                    for o, z in enumerate(sizes)
                    if z >= 1
                )
            )
        c1 = compare(
            "X 1..40, F 1..7, S 1..5, P 0..4, D 1..3: transposed(conv(X), OP) == X",
            g,
            np.array(ok_rec),
            np.ones(len(ok_rec), bool),
        )
        c2 = compare(
            "same grid: OP < S are exactly the offsets whose sizes map back to W",
            g,
            np.array(ok_range),
            np.ones(len(ok_range), bool),
            t0=tm.start,
        )
        return c1 + c2

    return Derivation(
        "transposed_offset",
        "The output_padding that inverts a convolution's size",
        "If a convolution maps X to W, the transposed convolution with the same F, S, P, D returns X exactly "
        "with output_padding = (X + 2P - F_eff) mod S; the useful range of output_padding is 0..S-1.",
        [("the forward convolution has an output", sympy.Ge(X + 2 * P, F_EFF))],
        steps,
        result,
        ["FORMULAS.md §2.3 (recovering a conv input size)", SRC_DUMOULIN + " Rel. 14", "FORMULAS.md §7.3"],
        prove,
        check,
    )
