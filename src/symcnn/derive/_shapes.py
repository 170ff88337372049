"""Derivations of output sizes and paddings: convolution, VALID/SAME/FULL, transposed convolution, pooling.

Every derivation imports the engine's function through its module (``_conv.conv_output_size``), so the proof
and the check cover the code users run (and a monkeypatched engine is caught).
"""

from __future__ import annotations

import numpy as np
import sympy

from .._intmath import ceildiv, floordiv, smin
from .._symbols import D, F, P, S, W
from ..layers import conv as _conv
from ..layers import pool as _pool
from ..layers import transposed as _tr
from . import _brute
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

__all__ = [
    "conv_output_size",
    "valid_ceil_form",
    "same_padding",
    "same_symmetric",
    "full_padding",
    "transposed_output_size",
    "transposed_offset",
    "pool_ceil_mode",
    "adaptive_pool_windows",
    "spp_levels",
]

_int = {"integer": True}
Pl = sympy.Symbol("P_l", integer=True, nonnegative=True)
Pr = sympy.Symbol("P_r", integer=True, nonnegative=True)
OP = sympy.Symbol("OP", integer=True, nonnegative=True)
X = sympy.Symbol("X", integer=True, positive=True)
q = sympy.Symbol("q", integer=True)
qn = sympy.Symbol("q", integer=True, nonnegative=True)
qp = sympy.Symbol("q", integer=True, positive=True)
r = sympy.Symbol("r", integer=True, nonnegative=True)
t = sympy.Symbol("t", integer=True, nonnegative=True)
m = sympy.Symbol("m", integer=True, nonnegative=True)
k = sympy.Symbol("k", real=True)
n = sympy.Symbol("n", integer=True, positive=True)
F_EFF = D * (F - 1) + 1
MODULI = range(1, 9)  # concrete strides for the residue splits
SRC_TORCH = "FORMULAS.md §2.1 (torch/nn/modules/conv.py Shape sections; torch/_meta_registrations.py)"
SRC_DUMOULIN = "FORMULAS.md §1 (Dumoulin & Visin, arXiv:1603.07285, Rel. 1-15)"
SRC_TF = "FORMULAS.md §3.1 (TensorFlow 'Notes on padding', kernel_shape_util.cc)"

# The standard grid of the brief: W <= 40, F <= 7, S <= 5, P <= 4, D <= 3.
_STD = dict(W=range(1, 41), F=range(1, 8), S=range(1, 6), P=range(0, 5), D=range(1, 4))
_STD_TEXT = "W 1..40, F 1..7, S 1..5, P 0..4, D 1..3"


def solve_linear_le(rel: sympy.Le, var: sympy.Symbol) -> sympy.Le:
    """Solve ``lhs <= rhs``, linear in ``var`` with a coefficient SymPy proves positive, as ``var <= bound``.

    >>> solve_linear_le(sympy.Le(k * S - 3, W), k)
    k <= (W + 3)/S
    """
    diff = sympy.expand(rel.lhs - rel.rhs)
    coeff = diff.coeff(var)
    if not (coeff.is_positive and sympy.expand(diff - coeff * var).has(var) is False):
        raise ValueError(f"cannot solve {rel} for {var}")
    return sympy.Le(var, sympy.factor(-(diff - coeff * var) / coeff))


def _feff(g):
    return g["D"] * (g["F"] - 1) + 1


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
    '(2*P + X - D*(F - 1) - 1) mod S'
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
