"""SAME padding (minimal total, its split, symmetric at stride 1) and FULL padding."""

from __future__ import annotations

from functools import lru_cache

import sympy

from .._intmath import ceildiv, floordiv
from .._symbols import D, F, P, S, W
from ..layers import conv as _conv
from . import _brute
from ._common import F_EFF, MODULI, STD_NOPAD, Pl, q, qn, solve_linear_le, t, windows
from ._core import Compare, Derivation, Grid, claim, eq, identity, nonneg, residues

__all__ = ["same_padding", "same_symmetric", "full_padding"]

O = sympy.Symbol("O", integer=True)
T = sympy.Symbol("T", integer=True, nonnegative=True)


@lru_cache(maxsize=16384)
def _min_total(w: int, f: int, s: int, d: int) -> int:
    """Brute force: the smallest total padding (split SAME_UPPER) that gives ceil(w/s) windows."""
    target, total = -(-w // s), 0
    while _brute.count_windows(w, f, s, total // 2, total - total // 2, d) < target:
        total += 1
    return total


def _exactly_same(W, F, S, D) -> bool:
    """Brute force: both splits of the minimal total padding give exactly ceil(W/S) windows."""
    total, target = _min_total(W, F, S, D), -(-W // S)
    a, b = total // 2, total - total // 2
    return _brute.count_windows(W, F, S, a, b, D) == target == _brute.count_windows(W, F, S, b, a, D)


def same_padding() -> Derivation:
    """SAME padding (TensorFlow / ONNX SAME_UPPER, SAME_LOWER, PyTorch ``'same'``).

    >>> d = same_padding()
    >>> d.verified
    True
    >>> d.result["total"]
    Max(0, D*(F - 1) + S*floor((W - 1)/S) - W + 1)
    """
    out = ceildiv(W, S)
    total = sympy.Max((out - 1) * S + F_EFF - W, 0)
    Wm = sympy.Mod(W, S)
    piecewise = sympy.Piecewise((sympy.Max(F_EFF - S, 0), sympy.Eq(Wm, 0)), (sympy.Max(F_EFF - Wm, 0), True))
    left, right = _conv.same_padding(W, F, S, D)
    rp = sympy.Symbol("r", integer=True, positive=True)
    Ss, Ws = rp + 1 + t, (rp + 1 + t) * q + rp
    return claim(
        "same_padding",
        "SAME padding: output ⌈W/S⌉, the minimal total padding and its split",
        r"SAME keeps $\lceil W/S \rceil$ outputs with the minimal total padding "
        r"$T = \max\left((\lceil W/S \rceil - 1)S + F_{\mathrm{eff}} - W,\ 0\right)$, which is "
        r"$\max(F_{\mathrm{eff}} - S, 0)$ when $S$ divides $W$ and $\max(F_{\mathrm{eff}} - (W \bmod S), 0)$ "
        r"otherwise; SAME_UPPER (TensorFlow, ONNX, PyTorch) puts $\lfloor T/2 \rfloor$ first and the odd pixel "
        "at the end, SAME_LOWER the reverse.",
        assumptions=[(r"sizes, kernel, stride and dilation are integers $\ge 1$", None)],
        steps=[
            (r"SAME asks for $\lceil W/S \rceil$ outputs (TensorFlow; ONNX: the input size over the stride, "
             "rounded up).", eq(O, out)),
            (r"With total padding $T$ the number of windows is (derivation conv_output_size):",
             eq(sympy.Symbol("O_T"), _conv.conv_output_size(W, F, S, T, 0, D))),
            (r"At least $O$ windows exactly when $(O - 1)S \le W + T - F_{\mathrm{eff}}$; the smallest "
             r"admissible $T \ge 0$ is", eq(T, total)),
            (r"With that $T$ there are exactly $O$ windows: if the bound is active, "
             r"$W + T - F_{\mathrm{eff}} = (O - 1)S$; if $T = 0$, "
             r"$\lfloor (W - F_{\mathrm{eff}})/S \rfloor + 1 \le \lfloor (W - 1)/S \rfloor + 1 = O$.", None),
            (r"With $W = Sq + r$: $r = 0$ gives $O = q$ and $T = \max(F_{\mathrm{eff}} - S, 0)$; $r \ge 1$ gives "
             r"$O = q + 1$ and $T = \max(F_{\mathrm{eff}} - r, 0)$ (TensorFlow's form).", eq(T, piecewise)),
            (r"SAME_UPPER (TensorFlow, ONNX; symcnn's padding='tf_same') pads $\lfloor T/2 \rfloor$ on the left and "
             r"$T - \lfloor T/2 \rfloor$ on the right; SAME_LOWER swaps them.", eq(Pl, floordiv(T, 2))),
            (r"PyTorch's padding='same' (stride 1 only) keeps $O = W$ with $T = D(F - 1)$, split the same way.",
             eq(sympy.Symbol("T_1"), D * (F - 1))),
        ],
        result={"out": out, "total": total, "piecewise": piecewise, "left": left, "right": right},
        sources=["tf-padding", "onnx-conv", "torch-conv2d"],
        argument=r"The ceiling step holds for all values ($W = Sq + r$, $S = r + 1 + t$, every symbol symbolic). "
        r"The engine's total padding is compared with both closed forms by a residue split on $W \bmod S$ for "
        r"$S = 1..8$ with $q$, $F$, $D$ symbolic; that the minimal $T$ gives exactly $O$ windows is checked "
        "against brute force below.",
        facts=[
            nonneg(r"$r \ge 1$: $\lceil W/S \rceil > q$ since $W - qS - 1 = r - 1 \ge 0$", Ws - q * Ss - 1),
            nonneg(r"$r \ge 1$: $\lceil W/S \rceil \le q + 1$ since $(q + 1)S - W = t + 1 \ge 0$", (q + 1) * Ss - Ws),
            residues("the engine's total padding equals TensorFlow's piecewise form", left + right, piecewise, S,
                     MODULI, lambda s, rr: {W: s * qn + rr}),
            residues(r"the engine's total padding equals $\max((\lceil W/S \rceil - 1)S + F_{\mathrm{eff}} - W, 0)$",
                     left + right, total, S, MODULI, lambda s, rr: {W: s * qn + rr}),
            identity(r"the engine's left padding is $\lfloor T/2 \rfloor$ (odd pixel at the end)", left,
                     floordiv(left + right, 2)),
            identity("at stride 1 the engine's total is $D(F - 1)$ (PyTorch's 'same')", (left + right).subs(S, 1),
                     D * (F - 1)),
            identity("at stride 1 the engine's left padding is that of PyTorch's 'same' (its own formula, "
                     r"$\lfloor D(F - 1)/2 \rfloor$)", left.subs(S, 1), _conv.torch_same_padding(F, D)[0]),
        ],
        checks=[
            Compare("engine left padding vs half the minimal total found by search", STD_NOPAD, left,
                    lambda W, F, S, D: _min_total(W, F, S, D) // 2),
            Compare("engine right padding vs the rest", STD_NOPAD, right,
                    lambda W, F, S, D: _min_total(W, F, S, D) - _min_total(W, F, S, D) // 2),
            Compare("exactly ceil(W/S) windows with the SAME_UPPER and SAME_LOWER splits", STD_NOPAD, True,
                    _exactly_same),
        ],
    )


def same_symmetric() -> Derivation:
    """Stride-1 symmetric SAME padding ``P = D(F - 1)/2``, an integer iff ``F`` is odd or ``D`` even.

    >>> same_symmetric().result
    D*(F - 1)/2
    """
    keeps = sympy.Eq(_conv.conv_output_size(W, F, 1, P, P, D), W)
    sol = sympy.solve(keeps, P)
    result = D * (F - 1) / 2
    solved = sympy.lambdify((D, F), sol[0] if sol else sympy.Integer(-1))
    a, b = sympy.symbols("a b", integer=True, nonnegative=True)

    def symmetric(W, F, D):
        v = solved(D, F)
        return int(v) if v == int(v) else -1

    def search(W, F, D):
        return next((p for p in range(20) if windows(W, F, 1, p, D) == W), -1)

    return claim(
        "same_symmetric",
        "Stride-1 SAME with symmetric padding: P = D(F − 1)/2",
        r"At stride 1 the output size equals the input size exactly when $P = D(F-1)/2$; this is an integer "
        r"exactly when $F$ is odd or $D$ is even (kernel 5 needs padding 2).",
        assumptions=[("stride 1", sympy.Eq(S, 1))],
        steps=[
            ("At stride 1 the output equals the input exactly when", keeps),
            (r"Solving for $P$ (SymPy):", eq(P, sol[0]) if sol else None),
            (r"An integer exactly when $D(F - 1)$ is even, i.e. $F$ odd or $D$ even (otherwise pad asymmetrically, "
             "the odd pixel at the end: derivation same_padding).", eq(sympy.Mod(D * (F - 1), 2), 0)),
        ],
        result=result,
        sources=["dumoulin2016, Relationship 3", "torch-conv2d"],
        argument=r"SymPy solves the engine's stride-1 equation for $P$ (all symbols symbolic); the parity of "
        r"$D(F - 1)$ is split on $F \bmod 2$ and $D \bmod 2$ with symbolic $a$, $b$.",
        facts=[
            identity(r"SymPy's solution of $O = W$ is $P = D(F - 1)/2$", sol[0] if sol else sympy.nan, result),
            identity(r"$F = 2a + 1$: $D(F - 1)$ is even", sympy.Mod(D * (2 * a), 2), 0),
            identity(r"$F = 2a$, $D = 2b$: $D(F - 1)$ is even", sympy.Mod(2 * b * (2 * a + 1), 2), 0),
            identity(r"$F = 2a$, $D = 2b + 1$: $D(F - 1)$ is odd", sympy.Mod((2 * b + 1) * (2 * a + 1), 2), 1),
        ],
        checks=[
            Compare("symmetric P solved from the engine (-1 if not an integer) vs search (-1 if none)",
                    Grid(dict(W=range(1, 41), F=range(1, 8), D=range(1, 4))).described(
                        "W 1..40, F 1..7, D 1..3, S 1"), symmetric, search),
        ],
    )


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
    claimed = {"valid": W - F_EFF + 1, "same": W, "full": W + F_EFF - 1}
    meets = lambda W, F, S, D: _brute.full_windows(W, F, S, D)  # noqa: E731 - a brute force of one point
    return claim(
        "full_padding",
        "FULL padding and the VALID / SAME / FULL family",
        r"A FULL convolution (every window whose span meets the input) is padding $F_{\mathrm{eff}} - 1$ on "
        r"each side: $\lfloor (W + F_{\mathrm{eff}} - 2)/S \rfloor + 1 = \lceil (W + F_{\mathrm{eff}} - 1)/S "
        r"\rceil$ outputs; at stride 1 VALID, SAME and FULL give $W - F_{\mathrm{eff}} + 1$, $W$ and "
        r"$W + F_{\mathrm{eff}} - 1$ (a 2 by 2 input with a 3 by 3 kernel gives 4 by 4).",
        assumptions=[(r"sizes, kernel, stride and dilation are integers $\ge 1$", None)],
        steps=[
            (r"FULL lets the kernel hang over the input as long as its span meets it: window $j$ starts at "
             r"$jS - (F_{\mathrm{eff}} - 1)$ (the first one has only its last tap on pixel 0).",
             eq(sympy.Symbol("t_j"), start)),
            (r"Window $j$ meets the input exactly when it starts at or before pixel $W - 1$:", solved),
            (r"Counting $j = 0, \dots, \lfloor (W + F_{\mathrm{eff}} - 2)/S \rfloor$: this is padding "
             r"$F_{\mathrm{eff}} - 1$ on both sides.", eq(O, full)),
            (r"Keras writes FULL as $\lceil (W + F_{\mathrm{eff}} - 1)/S \rceil$: equal by derivation "
             "valid_ceil_form.", eq(O, keras)),
            (r"At stride 1, VALID ($P = 0$):", eq(sympy.Symbol("O_VALID"), sympy.expand(family["valid"]))),
            (r"SAME ($P = (F_{\mathrm{eff}} - 1)/2$):", eq(sympy.Symbol("O_SAME"), sympy.expand(family["same"]))),
            (r"FULL ($P = F_{\mathrm{eff}} - 1$):", eq(sympy.Symbol("O_FULL"), sympy.expand(family["full"]))),
        ],
        result={"full": full, "keras": keras, **{f"stride1_{k_}": v for k_, v in family.items()}},
        sources=["dumoulin2016, Relationship 4", "tf-padding"],
        argument=r"The window count is solved symbolically; the stride-1 family is an identity in all symbols; "
        r"the Keras ceil form is split on $(W + F_{\mathrm{eff}} - 2) \bmod S$ for $S = 1..8$ with the other "
        "symbols symbolic.",
        facts=[
            identity(r"window $j$ meets the input for $j \le (W + F_{\mathrm{eff}} - 2)/S$", solved.rhs,
                     (W + F_EFF - 2) / S),
            identity(r"the engine with $P = F_{\mathrm{eff}} - 1$ equals the count", full,
                     floordiv(W + F_EFF - 2, S) + 1),
            *(identity(f"stride 1, {k_.upper()}: the engine gives the claimed size", family[k_], v)
              for k_, v in claimed.items()),
            residues("the engine's FULL size equals Keras' ceil form", full, keras, S, MODULI,
                     lambda s, rr: {W: s * q + rr - F_EFF + 2}),
        ],
        checks=[
            Compare("engine FULL size vs windows meeting the input", STD_NOPAD, full, meets),
            Compare("Keras ceil form vs windows meeting the input", STD_NOPAD, keras, meets),
        ],
    )
