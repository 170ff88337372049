"""Derivations of the receptive field: closed forms of the recurrences, and alignment of branches."""

from __future__ import annotations

import numpy as np
import sympy

from .. import receptive as _rf
from .. import reference
from ..layers._base import AxisMap
from ..layers.conv import effective_kernel
from ._core import SYMBOLIC, Compare, Derivation, Grid, claim, eq, fact

__all__ = ["receptive_field", "receptive_alignment"]

MAX_LAYERS = 5
SOURCES = ["araujo2019", "hien2017"]


def _layer_symbols(L: int):
    k = [sympy.Symbol(f"k_{i}", integer=True, positive=True) for i in range(1, L + 1)]
    s = [sympy.Symbol(f"s_{i}", integer=True, positive=True) for i in range(1, L + 1)]
    p = [sympy.Symbol(f"p_{i}", integer=True, nonnegative=True) for i in range(1, L + 1)]
    d = [sympy.Symbol(f"d_{i}", integer=True, positive=True) for i in range(1, L + 1)]
    return k, s, p, d


def _engine_state(k, s, p, d):
    state = _rf.INPUT_AXIS
    for kk, ss, pp, dd in zip(k, s, p, d, strict=True):
        state = _rf.apply_axis(state, AxisMap("window", effective_kernel(kk, dd), ss, pp))
    return state


def _closed(k, s, p, d):
    jumps = [sympy.prod(s[:i]) for i in range(len(k))]  # the product of the strides before layer l
    fe = [dd * (kk - 1) + 1 for kk, dd in zip(k, d, strict=True)]
    r0 = 1 + sum((f - 1) * j for f, j in zip(fe, jumps, strict=True))
    pad = sum(pp * j for pp, j in zip(p, jumps, strict=True))
    return {"size": r0, "jump": sympy.prod(s), "padding": pad, "start": (r0 - 1) / sympy.Integer(2) - pad}


def _depth_fact(Ln: int, result: dict, L, bases) -> bool:
    """Depth ``Ln``, all layer parameters symbolic: engine recurrence == closed forms == Distill's backward
    recurrence == the Sum/Product result."""
    k, s, p, d = _layer_symbols(Ln)
    st = _engine_state(k, s, p, d)
    cf = _closed(k, s, p, d)
    eng = {"size": st.size, "jump": st.jump, "start": st.start, "padding": (st.size - 1) / sympy.Integer(2) - st.start}
    back = sympy.Integer(1)
    for kk, ss, dd in zip(reversed(k), reversed(s), reversed(d), strict=True):
        back = ss * back + (dd * (kk - 1) + 1 - ss)
    sub = {}
    for base, syms in zip(bases, (k, s, p, d), strict=True):
        sub |= {base[j + 1]: syms[j] for j in range(Ln)}
    return (
        all(sympy.expand(eng[x] - cf[x]) == 0 for x in cf)
        and sympy.expand(back - cf["size"]) == 0
        and all(sympy.expand(result[x].subs(L, Ln).doit().subs(sub) - cf[x]) == 0 for x in cf)
    )


def _engine_numbers(net) -> tuple:
    """The engine's recurrence on numbers: (size, jump, centre of output 0)."""
    st = _engine_state(*([x[key] for x in net] for key in ("kernel", "stride", "padding", "dilation")))
    return int(st.size), int(st.jump), float(st.start)


def _networks() -> list:
    layer = lambda a, b, c, e: dict(kernel=a, stride=b, padding=c, dilation=e)  # noqa: E731
    nets = [[layer(a, b, c, e)] for a in range(1, 6) for b in range(1, 4) for c in range(0, 3) for e in range(1, 4)]
    two = [layer(a, b, c, e) for a in range(1, 5) for b in range(1, 4) for c in range(0, 3) for e in (1, 2)]
    nets += [[x, y] for x in two for y in two]
    rng = np.random.default_rng(1)
    for _ in range(300):
        nets.append([layer(*(int(rng.integers(1, h)) for h in (6, 4)), int(rng.integers(0, 3)),
                           int(rng.integers(1, 3))) for _ in range(3)])
    return nets


def receptive_field() -> Derivation:
    r"""Receptive field closed forms (size, effective stride, effective padding, centre), with dilation.

    >>> d = receptive_field()
    >>> d.verified, d.check.mismatches
    (True, 0)
    """
    l, i, L = sympy.symbols("l i L", integer=True, positive=True)
    bases = kI, sI, pI, dI = tuple(sympy.IndexedBase(c) for c in "kspd")
    jump_l = sympy.Product(sI[i], (i, 1, l - 1))
    fe_l = dI[l] * (kI[l] - 1) + 1
    result = {
        "size": 1 + sympy.Sum((fe_l - 1) * jump_l, (l, 1, L)),
        "jump": sympy.Product(sI[l], (l, 1, L)),
        "padding": sympy.Sum(pI[l] * jump_l, (l, 1, L)),
        "start": sympy.Sum(((fe_l - 1) / 2 - pI[l]) * jump_l, (l, 1, L)),
    }
    return claim(
        "receptive_field",
        "Receptive field, effective stride, padding and centre in closed form",
        r"$r_0 = 1 + \sum_{l=1}^{L} (F_{\mathrm{eff},l} - 1) \prod_{i<l} s_i$, effective stride "
        r"$\prod_{l=1}^{L} s_l$, effective padding $P_0 = \sum_{l=1}^{L} p_l \prod_{i<l} s_i$, and output $n$ is "
        r"centred at $-P_0 + (r_0 - 1)/2 + n \prod_l s_l$; dilation enters through "
        r"$F_{\mathrm{eff},l} = d_l (k_l - 1) + 1$.",
        assumptions=[(r"windowed layers with left padding $p_l$ (the right padding does not enter)", None)],
        steps=[
            (r"Forward recurrence per layer, from $r = j = 1$ and centre $c = 0$: "
             r"$r' = r + (F_{\mathrm{eff}} - 1)j$, $j' = js$, $c' = c + ((F_{\mathrm{eff}} - 1)/2 - p)j$.", None),
            (r"Unrolled, the jump before layer $l$ is the product of the earlier strides (telescoping product):",
             eq(sympy.Symbol("j_l"), jump_l)),
            (r"$r$ telescopes: $r_L - r_0 = \sum_l (r_l - r_{l-1})$:", eq(sympy.Symbol("r_0"), result["size"])),
            ("The effective stride:", eq(sympy.Symbol("j_L"), result["jump"])),
            ("The centre of output 0 telescopes the same way:", eq(sympy.Symbol("c_0"), result["start"])),
            (r"The effective padding (Distill's $P_0$) is $(r_0 - 1)/2 - c_0$:", eq(sympy.Symbol("P_0"),
                                                                                      result["padding"])),
            (r"Distill's backward recurrence $r_{l-1} = s_l r_l + (k_l - s_l)$ from $r_L = 1$ gives the same closed "
             "form.", None),
        ],
        result=result,
        sources=SOURCES,
        argument=rf"For $L = 1..{MAX_LAYERS}$ layers with every $k_l, s_l, p_l, d_l$ symbolic, the engine's "
        "recurrence is expanded and compared with the closed forms, with Distill's backward recurrence and with "
        r"the Sum/Product result; a general $L$ follows by the telescoping induction of the steps.",
        facts=[
            fact(f"L = {Ln}: engine recurrence = closed forms = Distill's backward recurrence = the result",
                 lambda Ln=Ln: _depth_fact(Ln, result, L, bases),
                 f"symbolic for depths L = 1..{MAX_LAYERS} (every layer parameter symbolic)", Ln)
            for Ln in range(1, MAX_LAYERS + 1)
        ],
        checks=[
            Compare("engine (size, jump, centre) vs the input positions output 0 depends on",
                    Grid(dict(net=_networks())).described(
                        "1 layer: k 1..5, s 1..3, p 0..2, d 1..3 (all); 2 layers: k 1..4, s 1..3, p 0..2, d 1..2 "
                        "(all pairs); 300 random 3-layer nets; input 200"),
                    _engine_numbers, lambda net: reference.receptive_field_1d(200, net)),
        ],
    )


_SIZE = 24


def _single(x) -> tuple:
    """The engine's field after one layer, and the layer's windows (reference) with their centres."""
    state = _rf.apply_axis(_rf.INPUT_AXIS, AxisMap("window", effective_kernel(x["kernel"], x["dilation"]),
                                                   x["stride"], x["padding"]))
    starts = reference.windows_1d(_SIZE, x["kernel"], x["stride"], x["padding"], dilation=x["dilation"])
    return state, starts, [t + x["dilation"] * (x["kernel"] - 1) / 2 for t in starts]


def _engine_alignment(x, y) -> tuple:
    (merged,), verdict, _ = _rf.merge_states([(_single(x)[0],), (_single(y)[0],)])
    return (bool(verdict), int(merged.size) if verdict else None)


def _brute_alignment(x, y) -> tuple:
    """Aligned when the centres of all common outputs coincide; then the union of the two dependency intervals
    of every common output has one size."""
    _, sx, cx = _single(x)
    _, sy, cy = _single(y)
    n = min(len(cx), len(cy))
    if not (n >= 2 and cx[:n] == cy[:n]):
        return (False, None)
    fx, fy = (z["dilation"] * (z["kernel"] - 1) + 1 for z in (x, y))
    sizes = {max(sx[i] + fx, sy[i] + fy) - min(sx[i], sy[i]) for i in range(n)}
    return (True, sizes.pop() if len(sizes) == 1 else -1)


def receptive_alignment() -> Derivation:
    """Alignment of branches: equal effective stride and equal centre of output 0.

    >>> receptive_alignment().verified
    True
    """
    j1, j2, c1, c2 = sympy.symbols("j_1 j_2 c_1 c_2")
    nn = sympy.Symbol("n", integer=True, nonnegative=True)
    cond = sympy.And(sympy.Eq(j1, j2), sympy.Eq(c1, c2))
    coeffs = sympy.Poly(c1 + nn * j1 - c2 - nn * j2, nn).all_coeffs()
    sol = sympy.solve(coeffs, [j2, c2], dict=True)
    layers = [dict(kernel=a, stride=b, padding=c, dilation=e)
              for a in range(1, 6) for b in (1, 2) for c in range(0, 3) for e in (1, 2)]
    return claim(
        "receptive_alignment",
        "Alignment of branches in a multi-path network",
        "Two branches are aligned (their output grids coincide on the input) exactly when their effective strides "
        "and the centres of their output 0 are equal; the merged receptive field is then the larger one.",
        assumptions=[("both branches see the same input", None)],
        steps=[
            (r"Branch $b$ centres output $n$ at $c_b + n j_b$ (derivation receptive_field).",
             eq(sympy.Symbol("c_b(n)"), c1 + nn * j1)),
            (r"The two grids coincide for every $n$ exactly when the difference, linear in $n$, vanishes "
             r"identically: both coefficients are 0.", eq(sympy.Tuple(*coeffs), sympy.Tuple(0, 0))),
            ("Aligned (Distill): equal jump and equal centre; the merged field of every output is then the larger "
             "of two intervals with one centre, the larger size.", cond),
        ],
        result=cond,
        sources=["araujo2019"],
        argument=r"A polynomial in $n$ is zero for every $n$ exactly when its coefficients vanish; SymPy solves "
        "them with every symbol symbolic.",
        facts=[
            fact(r"the coefficients vanish exactly when $j_1 = j_2$ and $c_1 = c_2$",
                 lambda: sol == [{j2: j1, c2: c1}], SYMBOLIC, sol),
        ],
        checks=[
            Compare("engine verdict and merged size vs the centres and dependency intervals of all outputs",
                    Grid(dict(x=layers, y=layers)).described(
                        f"pairs of single-layer branches k 1..5, s 1..2, p 0..2, d 1..2 on input {_SIZE} "
                        f"({len(layers)}^2 pairs)"), _engine_alignment, _brute_alignment),
        ],
    )
