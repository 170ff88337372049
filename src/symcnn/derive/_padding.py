"""SAME padding (minimal total, split, symmetric at stride 1) and FULL padding."""

from __future__ import annotations

import numpy as np
import sympy

from .._intmath import ceildiv, floordiv
from .._symbols import D, F, P, S, W
from ..layers import conv as _conv
from . import _brute
from ._common import (
    F_EFF,
    MODULI,
    SRC_DUMOULIN,
    SRC_TF,
    _feff,
    q,
    qn,
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
    same_expr,
)

__all__ = ["same_padding", "same_symmetric", "full_padding"]


# --- 2. SAME padding ---------------------------------------------------------------------------------------


def same_padding() -> Derivation:
    """SAME padding (TensorFlow / ONNX SAME_UPPER, SAME_LOWER, PyTorch ``'same'``).

    >>> d = same_padding()
    >>> d.verified
    True
    >>> d.result["total"]
    Max(0, D*(F - 1) + S*floor((W - 1)/S) - W + 1)
    """
    out = ceildiv(W, S)
    T = sympy.Symbol("T", integer=True, nonnegative=True)
    count = _conv.conv_output_size(W, F, S, T, 0, D)
    total = sympy.Max((out - 1) * S + F_EFF - W, 0)
    Wm = sympy.Mod(W, S)
    piecewise = sympy.Piecewise((sympy.Max(F_EFF - S, 0), sympy.Eq(Wm, 0)), (sympy.Max(F_EFF - Wm, 0), True))
    left, right = _conv.same_padding(W, F, S, D)
    steps = [
        (
            "SAME asks for O = ceil(W/S) outputs (TensorFlow; ONNX: ceil(input_shape/strides))",
            out,
        ),
        ("with total padding T the number of windows is (derivation conv_output_size)", count),
        ("at least O windows iff (O - 1)*S <= W + T - F_eff: the smallest admissible T >= 0", total),
        (
            "with that T there are exactly O windows: if the bound is active W + T - F_eff = (O-1)*S; "
            "if T = 0, "
            "floor((W - F_eff)/S) + 1 <= floor((W - 1)/S) + 1 = O",
            None,
        ),
        (
            "W = S*q + r: r = 0 gives O = q and T = max(F_eff - S, 0); r >= 1 gives O = q + 1 and "
            "T = max(F_eff - r, 0) (TensorFlow's piecewise form)",
            piecewise,
        ),
        (
            "split: SAME_UPPER (TF, ONNX, PyTorch) left = T//2, right = T - T//2; SAME_LOWER the mirror",
            (floordiv(T, 2), T - floordiv(T, 2)),
        ),
        (
            "PyTorch 'same' (stride 1 only): O = W, T = D*(F - 1), left = T//2: the same split",
            sympy.Eq(total.subs(S, 1), D * (F - 1)),
        ),
    ]

    def prove() -> Proof:
        rp = sympy.Symbol("r", integer=True, positive=True)
        Ss, Ws = rp + 1 + t, (rp + 1 + t) * q + rp
        lem = nonneg_lemmas(
            [
                ("r >= 1: ceil(W/S) > q since W - q*S - 1 = r - 1 >= 0", Ws - q * Ss - 1),
                ("r >= 1: ceil(W/S) <= q + 1 since (q + 1)*S - W = t + 1 >= 0", (q + 1) * Ss - Ws),
            ]
        )
        engine_total = left + right
        ok, cases, fails = residue_split(engine_total, piecewise, S, MODULI, lambda s, rr: {W: s * qn + rr})
        ok2, cases2, fails2 = residue_split(engine_total, total, S, MODULI, lambda s, rr: {W: s * qn + rr})
        lem += (
            Lemma(f"engine total == TF piecewise form, residue split S = 1..8 ({cases} branches)", fails, ok),
            Lemma(
                f"engine total == max((ceil(W/S)-1)S + F_eff - W, 0), S = 1..8 ({cases2} branches)",
                fails2,
                ok2,
            ),
            Lemma(
                "engine left == total//2 (odd pixel at the end)",
                left,
                same_expr(left, floordiv(engine_total, 2)),
            ),
            Lemma(
                "stride 1: total == D*(F-1) (PyTorch 'same')",
                engine_total.subs(S, 1),
                same_expr(engine_total.subs(S, 1), D * (F - 1)),
            ),
        )
        return Proof(
            "symbolic residue + residue split",
            "W = S*q + r with q, F, D symbolic and S = 1..8 for the engine identities; the ceil "
            "step symbolic for all S (S = r + 1 + t); 'exactly O windows' is checked numerically",
            all(le.passed for le in lem),
            cases + cases2 + 4,
            lem,
        )

    def check() -> Check:
        tm = Timer()
        fl, fr = (numeric(e, (W, F, S, D)) for e in (left, right))
        g = grid(W=range(1, 41), F=range(1, 8), S=range(1, 6), D=range(1, 4))
        L_, R_ = fl(g["W"], g["F"], g["S"], g["D"]), fr(g["W"], g["F"], g["S"], g["D"])
        want_T, ok_upper, ok_lower = [], [], []
        for w, f_, s, d in zip(
            g["W"].tolist(), g["F"].tolist(), g["S"].tolist(), g["D"].tolist(), strict=True
        ):
            target = -(-w // s)
            T_ = 0
            while _brute.count_windows(w, f_, s, T_ // 2, T_ - T_ // 2, d) < target:
                T_ += 1
            want_T.append(T_)
            ok_upper.append(_brute.count_windows(w, f_, s, T_ // 2, T_ - T_ // 2, d) == target)
            ok_lower.append(_brute.count_windows(w, f_, s, T_ - T_ // 2, T_ // 2, d) == target)
        want_T = np.array(want_T)
        text = "W 1..40, F 1..7, S 1..5, D 1..3; minimal total padding found by search"
        c1 = compare(text + ": left", g, L_, want_T // 2)
        c2 = compare("same grid: right", g, R_, want_T - want_T // 2)
        c3 = compare(
            "same grid: exactly ceil(W/S) windows (UPPER and LOWER split)",
            g,
            np.array(ok_upper) & np.array(ok_lower),
            np.ones(len(want_T), bool),
            t0=tm.start,
        )
        return c1 + c2 + c3

    return Derivation(
        "same_padding",
        "SAME padding: output ceil(W/S), minimal total padding and its split",
        "SAME keeps ceil(W/S) outputs with the minimal total padding T = max((ceil(W/S) - 1)S + F_eff - "
        "W, 0) "
        "= max(F_eff - S, 0) if S | W else max(F_eff - (W mod S), 0); SAME_UPPER (TensorFlow, ONNX, PyTorch) "
        "puts T//2 first and the odd pixel at the end, SAME_LOWER the reverse.",
        [("sizes, kernel, stride, dilation integers >= 1", None)],
        steps,
        {"out": out, "total": total, "piecewise": piecewise, "left": left, "right": right},
        [
            SRC_TF,
            "FORMULAS.md §2.2 (PyTorch padding='same')",
            "FORMULAS.md §3.3-3.4 (ONNX SAME_UPPER/LOWER)",
            "FORMULAS.md §9 R9",
        ],
        prove,
        check,
    )


def same_symmetric() -> Derivation:
    """Stride-1 symmetric SAME padding ``P = D(F - 1)/2``, an integer iff ``F`` is odd or ``D`` even.

    >>> same_symmetric().result
    D*(F - 1)/2
    """
    eq = sympy.Eq(_conv.conv_output_size(W, F, 1, P, P, D), W)
    sol = sympy.solve(eq, P)
    result = D * (F - 1) / 2
    a, b = sympy.symbols("a b", integer=True, nonnegative=True)
    steps = [
        ("stride 1: the output equals the input iff", eq),
        ("solving for P (SymPy)", sympy.Eq(P, sol[0]) if sol else None),
        (
            "an integer iff D*(F - 1) is even, i.e. F odd or D even (otherwise pad asymmetrically, the "
            "odd pixel "
            "at the end: derivation same_padding)",
            sympy.Eq(sympy.Mod(D * (F - 1), 2), 0),
        ),
    ]

    def prove() -> Proof:
        cases = {
            "F odd": sympy.Mod(D * (2 * a), 2),
            "F even, D even": sympy.Mod(2 * b * (2 * a + 1), 2),
            "F even, D odd": sympy.Mod((2 * b + 1) * (2 * a + 1), 2) - 1,
        }
        lem = (
            Lemma("SymPy solves O = W for P", sol, bool(sol) and sympy.simplify(sol[0] - result) == 0),
            *(
                Lemma(f"parity, {name}: D(F-1) mod 2 as claimed", e, sympy.simplify(e) == 0)
                for name, e in cases.items()
            ),
        )
        return Proof(
            "identity (SymPy) + parity split",
            "solve() on the engine's stride-1 expression; parity "
            "of D*(F-1) split on F mod 2 and D mod 2 with symbolic a, b",
            all(x.passed for x in lem),
            4,
            lem,
        )

    def check() -> Check:
        tm = Timer()
        g = grid(W=range(1, 41), F=range(1, 8), D=range(1, 4))
        got, want = [], []
        for w, f_, d in zip(g["W"].tolist(), g["F"].tolist(), g["D"].tolist(), strict=True):
            ps = [p for p in range(0, 20) if _brute.count_windows(w, f_, 1, p, p, d) == w]
            want.append(ps[0] if ps else -1)
            v = d * (f_ - 1) / 2
            got.append(int(v) if v == int(v) else -1)
        return compare(
            "W 1..40, F 1..7, D 1..3, S 1: symmetric P (-1 if none) found by search",
            g,
            np.array(got),
            np.array(want),
            t0=tm.start,
        )

    return Derivation(
        "same_symmetric",
        "Stride-1 SAME with symmetric padding: P = D(F-1)/2",
        "At stride 1 the output size equals the input size iff P = D(F-1)/2; this is an integer iff F is odd "
        "or D is even (kernel 5 -> padding 2).",
        [("stride 1", sympy.Eq(S, 1))],
        steps,
        result,
        [SRC_DUMOULIN + " Rel. 3", "FORMULAS.md §7.2", "WORKED-EXAMPLES.md 'Output size'"],
        prove,
        check,
    )


# --- 3. FULL and the family -----------------------------------------------------------------------------


def full_padding() -> Derivation:
    """FULL padding ``F_eff - 1``; VALID, SAME and FULL as special paddings of one formula.

    >>> from symcnn import pretty
    >>> pretty(full_padding().result["full"])
    'floor((W + D*(F - 1) - 1)/S) + 1'
    """
    j = sympy.Symbol("j", real=True)
    start = j * S - (F_EFF - 1)
    solved = solve_linear_le(sympy.Le(start, W - 1), j)
    full = _conv.conv_output_size(W, F, S, F_EFF - 1, F_EFF - 1, D)
    keras = sympy.ceiling((W + F_EFF - 1) / S)
    family = {
        "valid": _conv.conv_output_size(W, F, 1, 0, 0, D),
        "same": _conv.conv_output_size(W, F, 1, (F_EFF - 1) / 2, (F_EFF - 1) / 2, D),
        "full": _conv.conv_output_size(W, F, 1, F_EFF - 1, F_EFF - 1, D),
    }
    steps = [
        (
            "FULL: the kernel may hang over the input as long as its span meets it; the first window "
            "starts at "
            "-(F_eff - 1) (only its last tap on pixel 0)",
            start,
        ),
        ("window j meets the input iff it starts at or before pixel W - 1 (SymPy)", solved),
        ("counting j = 0..floor((W + F_eff - 2)/S): this is padding P = F_eff - 1 on both sides", full),
        ("Keras writes FULL as ceil((W + F_eff - 1)/S): equal by derivation valid_ceil_form", keras),
        (
            "the family at stride 1: VALID (P = 0), SAME (P = (F_eff-1)/2), FULL (P = F_eff - 1)",
            tuple(sympy.expand(sympy.sympify(e)) for e in family.values()),
        ),
    ]

    def prove() -> Proof:
        derived = floordiv(W + F_EFF - 2, S) + 1
        lem = [
            Lemma(
                "solved bound is j <= (W + F_eff - 2)/S",
                solved,
                isinstance(solved, sympy.Le) and sympy.simplify(solved.rhs - (W + F_EFF - 2) / S) == 0,
            ),
            Lemma("engine with P = F_eff - 1 equals the count", full, same_expr(full, derived)),
            Lemma(
                "stride 1: VALID W - F_eff + 1, SAME W, FULL W + F_eff - 1",
                family,
                all(
                    same_expr(e, v)
                    for e, v in zip(family.values(), (W - F_EFF + 1, W, W + F_EFF - 1), strict=True)
                ),
            ),
        ]
        ok, cases, fails = residue_split(full, keras, S, MODULI, lambda s, rr: {W: s * q + rr - F_EFF + 2})
        lem.append(Lemma(f"Keras ceil form, residue split S = 1..8 ({cases} branches)", fails, ok))
        return Proof(
            "identity (SymPy) + residue split",
            "window count solved symbolically; the Keras ceil "
            "form split on (W + F_eff - 2) mod S for S = 1..8, other symbols symbolic",
            all(x.passed for x in lem),
            cases + 3,
            tuple(lem),
        )

    def check() -> Check:
        tm = Timer()
        f = numeric(full, (W, F, S, D))
        g = grid(W=range(1, 41), F=range(1, 8), S=range(1, 6), D=range(1, 4))
        want = np.array(
            [
                _brute.full_windows(w, f_, s, d)
                for w, f_, s, d in zip(
                    g["W"].tolist(), g["F"].tolist(), g["S"].tolist(), g["D"].tolist(), strict=True
                )
            ]
        )
        c1 = compare(
            "W 1..40, F 1..7, S 1..5, D 1..3: FULL windows meeting the input",
            g,
            f(g["W"], g["F"], g["S"], g["D"]),
            want,
        )
        c2 = compare(
            "same grid: Keras ceil((W + F_eff - 1)/S)",
            g,
            -(-(g["W"] + _feff(g) - 1) // g["S"]),
            want,
            t0=tm.start,
        )
        return c1 + c2

    return Derivation(
        "full_padding",
        "FULL padding and the VALID / SAME / FULL family",
        "FULL convolution (every window whose span meets the input) is padding F_eff - 1 per side: "
        "floor((W + F_eff - 2)/S) + 1 = ceil((W + F_eff - 1)/S) outputs; at stride 1 VALID, SAME and "
        "FULL give "
        "W - F_eff + 1, W and W + F_eff - 1 (a 2x2 input with a 3x3 kernel gives 4x4).",
        [("sizes, kernel, stride, dilation integers >= 1", None)],
        steps,
        {"full": full, "keras": keras, **{f"stride1_{k_}": v for k_, v in family.items()}},
        [
            SRC_DUMOULIN + " Rel. 4",
            "FORMULAS.md §3.2 (Keras conv_output_length)",
            "WORKED-EXAMPLES.md 'Output size, VALID, SAME, FULL'",
        ],
        prove,
        check,
    )
