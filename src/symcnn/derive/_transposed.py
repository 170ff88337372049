"""Transposed convolution: output size from the adjoint, and the output_padding that inverts a convolution."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy

from .. import reference
from .._symbols import D, F, P, S, W
from ..layers import conv as _conv
from ..layers import transposed as _tr
from . import _brute
from ._common import F_EFF, OP, Pl, Pr, X, q, t, windows
from ._core import SYMBOLIC, Compare, Derivation, Grid, claim, eq, fact, identity, nonneg

__all__ = ["transposed_output_size", "transposed_offset"]

O = sympy.Symbol("O", integer=True)


@lru_cache(maxsize=131072)
def _scatter(W, F, S, P, D, OP) -> int:
    """Brute force: the transposed output length by scattering (symmetric padding)."""
    return _brute.transposed_length(W, F, S, P, P, D, OP)


def _has_output(g) -> np.ndarray:
    cols = (g[c].tolist() for c in ("W", "F", "S", "P", "D", "OP"))
    return np.array([_scatter(*a) >= 1 for a in zip(*cols, strict=True)], bool)


def _zero_insertion_matches(W, F, S, P, D, OP) -> bool:
    """Values: zero insertion + stride-1 convolution with the flipped kernel equals the reference scatter."""
    rng = np.random.default_rng((W, F, S, P, D, OP))
    x = rng.integers(-3, 4, size=(1, W)).astype(float)
    wt = rng.integers(-3, 4, size=(1, 1, F)).astype(float)
    y, _ = reference.conv_transpose(x, wt, stride=S, padding=P, output_padding=OP, dilation=D)
    z = np.zeros((1, (W - 1) * S + 1))
    z[0, ::S] = x[0]
    fe = D * (F - 1) + 1
    y2, _ = reference.conv(z, wt[:, :, ::-1].copy(), padding=((fe - 1 - P, fe - 1 - P + OP),), dilation=D)
    return y.shape == y2.shape and bool(np.allclose(y, y2))


def transposed_output_size() -> Derivation:
    """Transposed convolution as the adjoint of a convolution (zero insertion + stride-1 convolution).

    >>> from symcnn import pretty
    >>> pretty(transposed_output_size().result)
    'S*(W - 1) + OP + D*(F - 1) - P_l - P_r + 1'
    """
    i, tap = sympy.symbols("i tap", integer=True, nonnegative=True)
    reach = (W - 1) * S + (F - 1) * D
    result = _tr.transposed_output_size(W, F, S, Pl, Pr, D, OP)
    as_conv = _conv.conv_output_size((W - 1) * S + 1, F, 1, F_EFF - 1 - Pl, F_EFF - 1 - Pr + OP, D)
    sizes = Grid(dict(W=range(1, 41), F=range(1, 8), S=range(1, 6), P=range(0, 5), D=range(1, 4), OP=range(0, 5)))
    sizes = sizes.such_that(lambda g: g["OP"] < np.maximum(g["S"], g["D"]), "OP < max(S, D)")
    values = Grid(dict(W=range(1, 5), F=range(1, 4), S=range(1, 4), P=range(0, 3), D=range(1, 3), OP=range(0, 3)))
    values = values.such_that(lambda g: (g["OP"] < g["S"]) & (g["P"] <= g["D"] * (g["F"] - 1)),
                              "OP < S, P <= F_eff - 1")
    return claim(
        "transposed_output_size",
        "Transposed convolution output size from the adjoint",
        r"The adjoint of a convolution (kernel $F$, stride $S$, dilation $D$) maps $W$ inputs to "
        r"$(W - 1)S - P_l - P_r + D(F - 1) + O_p + 1$ outputs ($O_p$ the output_padding); it equals a stride-1 "
        r"convolution over the zero-inserted input with padding $F_{\mathrm{eff}} - 1 - P$.",
        assumptions=[("output size at least 1", sympy.Ge(result, 1)),
                     (r"PyTorch's policy: output_padding below $\max(S, D)$", sympy.Lt(OP, sympy.Max(S, D)))],
        steps=[
            (r"The adjoint of a convolution scatters input $i$ through tap $t$ to output position $iS + tD$.",
             eq(sympy.Symbol("y_{i,t}"), i * S + tap * D)),
            (r"The furthest write ($i = W - 1$, $t = F - 1$) fixes the full length:",
             eq(sympy.Symbol("L_full"), reach + 1)),
            (r"output_padding appends $O_p$ positions at the end; the paddings crop $P_l$ and $P_r$.",
             eq(O, result)),
            (r"Equivalently: insert $S - 1$ zeros between inputs (length $(W - 1)S + 1$) and run a stride-1 "
             r"convolution with the flipped kernel and paddings $F_{\mathrm{eff}} - 1 - P_l$ and "
             r"$F_{\mathrm{eff}} - 1 - P_r + O_p$.", eq(O, as_conv)),
        ],
        result=result,
        sources=["torch-convtranspose2d", "dumoulin2016, Relationships 8 to 14"],
        argument="All symbols symbolic: the writes increase in the input index and the tap, so the furthest is "
        "at the corner, and the engine's expression equals both the scatter length and the stride-1 "
        "convolution over the stretched input. The zero-insertion equivalence is also checked on values.",
        facts=[
            nonneg(r"the writes increase with $i$: $\partial(iS + tD)/\partial i - 1 = S - 1 \ge 0$", S - 1),
            nonneg(r"the writes increase with $t$: $\partial(iS + tD)/\partial t - 1 = D - 1 \ge 0$", D - 1),
            identity(r"the engine's size is the full length $+ O_p - P_l - P_r$", result, reach + 1 + OP - Pl - Pr),
            identity("the engine's size is that of the stride-1 convolution over the stretched input", result,
                     as_conv),
        ],
        checks=[
            Compare("engine vs scatter length", sizes.such_that(_has_output, "output >= 1"),
                    _tr.transposed_output_size(W, F, S, P, P, D, OP), _scatter),
            Compare("values: zero insertion + flipped stride-1 convolution == scatter",
                    values.such_that(_has_output, "output >= 1"), True, _zero_insertion_matches),
        ],
    )


def _offset_search(X, F, S, P, D) -> int:
    """Brute force: the smallest output_padding whose scatter gives back X after the window count of X."""
    w = windows(X, F, S, P, D)
    return next((o for o in range(max(S, D)) if _brute.transposed_length(w, F, S, P, P, D, o) == X), -1)


def _offset_range(X, F, S, P, D) -> bool:
    """Brute force: output_padding < S are exactly the offsets whose sizes map back to conv(X)."""
    w = windows(X, F, S, P, D)
    sizes = [_brute.transposed_length(w, F, S, P, P, D, o) for o in range(max(S, D))]
    return all((windows(z, F, S, P, D) == w) == (o < S) for o, z in enumerate(sizes) if z >= 1)


def transposed_offset() -> Derivation:
    """The output_padding that recovers a convolution's input size: ``(X + 2P - F_eff) mod S``.

    >>> from symcnn import pretty
    >>> pretty(transposed_offset().result)
    '(2*P + X - D*(F - 1) - 1) mod S'
    """
    a = sympy.Symbol("a", integer=True, nonnegative=True)
    w_out = _conv.conv_output_size(X, F, S, P, P, D)
    result = sympy.Mod(X + 2 * P - F_EFF, S, evaluate=False)
    ineq = sympy.And(
        sympy.Le((w_out - 1) * S, X + 2 * P - F_EFF), sympy.Le(X + 2 * P - F_EFF, (w_out - 1) * S + S - 1)
    )
    Ss = a + 1 + t
    Xs = Ss * q + a - 2 * P + F_EFF
    fwd = _conv.conv_output_size(Xs, F, Ss, P, P, D)
    grid = Grid(dict(X=range(1, 41), F=range(1, 8), S=range(1, 6), P=range(0, 5), D=range(1, 4)))
    grid = grid.such_that(lambda g: g["X"] + 2 * g["P"] >= g["D"] * (g["F"] - 1) + 1, "output >= 1")
    return claim(
        "transposed_offset",
        "The output_padding that inverts a convolution's size",
        r"If a convolution maps $X$ to $W$, the transposed convolution with the same $F, S, P, D$ returns $X$ "
        r"exactly with output_padding $O_p = (X + 2P - F_{\mathrm{eff}}) \bmod S$; the useful range of "
        r"output_padding is $0, \dots, S - 1$.",
        assumptions=[("the forward convolution has an output", sympy.Ge(X + 2 * P, F_EFF))],
        steps=[
            (r"The forward convolution maps $X$ to", eq(W, w_out)),
            (r"The transposed convolution with the same $F, S, P, D$ and $O_p = 0$ gives",
             eq(O, _tr.transposed_output_size(w_out, F, S, P, P, D, 0))),
            (r"Write $X + 2P - F_{\mathrm{eff}} = Sq + a$ with $0 \le a \le S - 1$: then $W - 1 = q$ and the "
             r"transposed size is $X - a$.", eq(W - 1, q)),
            (r"So output_padding $a$ recovers $X$:", eq(OP, result)),
            (r"Every $X$ with the same $W$ satisfies the bounds below: exactly $S$ inputs, reached by "
             r"$O_p = 0, \dots, S - 1$; PyTorch also admits $S \le O_p < D$ (when $D > S$), sizes that no such "
             r"convolution maps to $W$.", ineq),
        ],
        result=result,
        sources=["torch-convtranspose2d", "dumoulin2016, Relationship 14"],
        argument=r"Fully symbolic: the residue $a$ and the stride $S = a + 1 + t$ are symbols, and the engine's "
        r"floor-division rules reduce $\lfloor (Sq + a)/S \rfloor$ to $q$.",
        facts=[
            identity(r"with $X = Sq + a - 2P + F_{\mathrm{eff}}$, $S = a + 1 + t$: the engine's forward size is "
                     r"$q + 1$", fwd, q + 1),
            identity(r"the engine's transposed size with $O_p = a$ is $X$",
                     _tr.transposed_output_size(fwd, F, Ss, P, P, D, a), Xs),
            fact(r"$a < S$: $S - 1 - a = t$", lambda: sympy.expand(Ss - 1 - a) == t, SYMBOLIC,
                 sympy.Eq(Ss - 1 - a, t, evaluate=False)),
        ],
        checks=[
            Compare("offset formula vs the smallest output_padding that recovers X by scatter", grid, result,
                    _offset_search),
            Compare("output_padding < S are exactly the offsets whose sizes map back to W", grid, True,
                    _offset_range),
        ],
    )
