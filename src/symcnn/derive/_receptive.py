"""Derivations of the receptive field: closed forms of the recurrences, and alignment of branches."""

from __future__ import annotations

import numpy as np
import sympy

from .. import receptive as _rf
from .. import reference
from ..layers._base import AxisMap
from ..layers.conv import effective_kernel
from ._core import Check, Derivation, Lemma, Proof, Timer, compare

__all__ = ["receptive_field", "receptive_alignment"]

MAX_LAYERS = 5
SOURCES = [
    "FORMULAS.md §4.1 (Araujo, Norris, Sim, Distill 2019)",
    "FORMULAS.md §4.3 (Dang Ha The Hien 2017, jump/start recurrence)",
    "WORKED-EXAMPLES.md 'Receptive field'",
]


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
    jumps = [sympy.prod(s[:i]) for i in range(len(k))]  # prod_{i<l} s_i
    fe = [dd * (kk - 1) + 1 for kk, dd in zip(k, d, strict=True)]
    r0 = 1 + sum((f - 1) * j for f, j in zip(fe, jumps, strict=True))
    pad = sum(pp * j for pp, j in zip(p, jumps, strict=True))
    return {"size": r0, "jump": sympy.prod(s), "padding": pad, "start": (r0 - 1) / sympy.Integer(2) - pad}


def receptive_field() -> Derivation:
    """Receptive field closed forms (size, effective stride, effective padding, centre), with dilation.

    >>> d = receptive_field()
    >>> d.verified, d.check.mismatches
    (True, 0)
    """
    l, i, L = sympy.symbols("l i L", integer=True, positive=True)
    kI, sI, pI, dI = (sympy.IndexedBase(c) for c in "kspd")
    jump_l = sympy.Product(sI[i], (i, 1, l - 1))
    fe_l = dI[l] * (kI[l] - 1) + 1
    result = {
        "size": 1 + sympy.Sum((fe_l - 1) * jump_l, (l, 1, L)),
        "jump": sympy.Product(sI[l], (l, 1, L)),
        "padding": sympy.Sum(pI[l] * jump_l, (l, 1, L)),
        "start": sympy.Sum(((fe_l - 1) / 2 - pI[l]) * jump_l, (l, 1, L)),
    }
    steps = [
        (
            "forward recurrence per layer (F_eff = d(k-1) + 1): r' = r + (F_eff - 1) j, j' = j s, "
            "start' = start + ((F_eff - 1)/2 - p) j, from r = j = 1, start = 0",
            None,
        ),
        ("unrolling: j before layer l is prod_{i<l} s_i (telescoping product)", jump_l),
        (
            "r telescopes: r_L - r_0 = sum_l (r_l - r_{l-1}) = sum_l (F_eff,l - 1) prod_{i<l} s_i",
            result["size"],
        ),
        ("effective stride", result["jump"]),
        ("start (centre of output 0) telescopes the same way", result["start"]),
        ("effective padding (Distill P_0) = (r - 1)/2 - start", result["padding"]),
        (
            "Distill's backward recurrence r_{l-1} = s_l r_l + (k_l - s_l) from r_L = 1 gives the same "
            "closed "
            "form",
            None,
        ),
    ]

    def prove() -> Proof:
        lem = []
        for Ln in range(1, MAX_LAYERS + 1):
            k, s, p, d = _layer_symbols(Ln)
            st = _engine_state(k, s, p, d)
            cf = _closed(k, s, p, d)
            eng = {
                "size": st.size,
                "jump": st.jump,
                "start": st.start,
                "padding": (st.size - 1) / sympy.Integer(2) - st.start,
            }
            back = sympy.Integer(1)
            for kk, ss, dd in zip(reversed(k), reversed(s), reversed(d), strict=True):
                back = ss * back + (dd * (kk - 1) + 1 - ss)
            ok = all(sympy.expand(eng[q] - cf[q]) == 0 for q in cf) and sympy.expand(back - cf["size"]) == 0
            sub = {kI[j + 1]: k[j] for j in range(Ln)} | {sI[j + 1]: s[j] for j in range(Ln)}
            sub |= {pI[j + 1]: p[j] for j in range(Ln)} | {dI[j + 1]: d[j] for j in range(Ln)}
            ok_sum = all(sympy.expand(result[q].subs(L, Ln).doit().subs(sub) - cf[q]) == 0 for q in cf)
            lem.append(
                Lemma(
                    f"L = {Ln}: engine recurrence == closed forms == Distill backward recurrence "
                    "== the Sum/Product result",
                    Ln,
                    ok and ok_sum,
                )
            )
        return Proof(
            "identity (SymPy) per depth",
            f"for L = 1..{MAX_LAYERS} layers with all-symbolic k_l, s_l, "
            "p_l, d_l the engine's recurrence (receptive.apply_axis) is expanded and compared with the "
            "closed forms and with Distill's backward recurrence; the general L follows by the "
            "telescoping induction of the steps (text)",
            all(x.passed for x in lem),
            len(lem),
            tuple(lem),
        )

    def check() -> Check:
        tm = Timer()
        fns = {}
        for Ln in (1, 2, 3):
            k, s, p, d = _layer_symbols(Ln)
            cf = _closed(k, s, p, d)
            fns[Ln] = sympy.lambdify((*k, *s, *p, *d), (cf["size"], cf["jump"], cf["start"]), "math")
        nets = [
            [dict(kernel=a, stride=b, padding=c, dilation=e)]
            for a in range(1, 6)
            for b in range(1, 4)
            for c in range(0, 3)
            for e in range(1, 4)
        ]
        two = [
            dict(kernel=a, stride=b, padding=c, dilation=e)
            for a in range(1, 5)
            for b in range(1, 4)
            for c in range(0, 3)
            for e in (1, 2)
        ]
        nets += [[x, y] for x in two for y in two]
        rng = np.random.default_rng(1)
        for _ in range(300):
            nets.append(
                [
                    dict(
                        kernel=int(rng.integers(1, 6)),
                        stride=int(rng.integers(1, 4)),
                        padding=int(rng.integers(0, 3)),
                        dilation=int(rng.integers(1, 3)),
                    )
                    for _ in range(3)
                ]
            )
        got, want = [], []
        for net in nets:
            Ln = len(net)
            args = [x["kernel"] for x in net] + [x["stride"] for x in net] + [x["padding"] for x in net]
            args += [x["dilation"] for x in net]
            size, jump, start = fns[Ln](*args)
            got.append((size, jump, float(start)))
            want.append(reference.receptive_field_1d(200, net))
        got, want = np.array(got, float), np.array(want, float)
        pts = {"net": np.arange(len(nets))}
        c = compare(
            "1 layer: k 1..5, s 1..3, p 0..2, d 1..3 (all); 2 layers: k 1..4, s 1..3, p 0..2, d 1..2 "
            "(all pairs); 300 random 3-layer nets; input 200: size, jump, centre vs dependency sets",
            pts,
            got.ravel(),
            want.ravel(),
            t0=tm.start,
        )
        return Check(
            c.grid, len(nets), int(np.any(~np.isclose(got, want), axis=1).sum()), c.examples, c.seconds
        )

    return Derivation(
        "receptive_field",
        "Receptive field, effective stride, padding and centre in closed form",
        "r_0 = 1 + sum_l (F_eff,l - 1) prod_{i<l} s_i, effective stride prod_l s_l, effective padding "
        "P_0 = sum_l p_l prod_{i<l} s_i, centre of output n = -P_0 + (r_0 - 1)/2 + n prod s_l; dilation "
        "enters "
        "through F_eff = d(k - 1) + 1.",
        [("windowed layers with left padding p_l (right padding does not enter)", None)],
        steps,
        result,
        SOURCES,
        prove,
        check,
    )


def _centres(size, layer):
    st = reference.windows_1d(
        size, layer["kernel"], layer["stride"], layer["padding"], dilation=layer["dilation"]
    )
    return [t + layer["dilation"] * (layer["kernel"] - 1) / 2 for t in st], st


def receptive_alignment() -> Derivation:
    """Alignment of branches: equal effective stride and equal centre of output 0.

    >>> receptive_alignment().verified
    True
    """
    j1, j2, c1, c2 = sympy.symbols("j_1 j_2 c_1 c_2")
    nn = sympy.Symbol("n", integer=True, nonnegative=True)
    cond = sympy.And(sympy.Eq(j1, j2), sympy.Eq(c1, c2))
    steps = [
        ("branch b centres output n at c_b + n j_b (derivation receptive_field)", c1 + nn * j1),
        (
            "the two grids coincide for every n iff the difference, linear in n, vanishes identically",
            sympy.Poly(c1 + nn * j1 - c2 - nn * j2, nn).all_coeffs(),
        ),
        (
            "aligned (Distill): equal jump and equal centre (equivalently -P + (r-1)/2); then the "
            "merged field of "
            "every output is the larger of two intervals with one centre: the max of the sizes",
            cond,
        ),
    ]

    def prove() -> Proof:
        coeffs = sympy.Poly(c1 + nn * j1 - c2 - nn * j2, nn).all_coeffs()
        sol = sympy.solve(coeffs, [j2, c2], dict=True)
        ok = sol == [{j2: j1, c2: c1}]
        return Proof(
            "identity (SymPy)",
            "a polynomial in n is zero for all n iff its coefficients vanish; SymPy solves them",
            ok,
            1,
            (Lemma("coefficients vanish iff j_1 = j_2 and c_1 = c_2", sol, ok),),
        )

    def check() -> Check:
        tm = Timer()
        layers = [
            dict(kernel=a, stride=b, padding=c, dilation=e)
            for a in range(1, 6)
            for b in (1, 2)
            for c in range(0, 3)
            for e in (1, 2)
        ]
        size = 24
        got, want = [], []
        for x in layers:
            sx = _rf.apply_axis(
                _rf.INPUT_AXIS,
                AxisMap("window", effective_kernel(x["kernel"], x["dilation"]), x["stride"], x["padding"]),
            )
            cx, stx = _centres(size, x)
            for y in layers:
                sy = _rf.apply_axis(
                    _rf.INPUT_AXIS,
                    AxisMap(
                        "window", effective_kernel(y["kernel"], y["dilation"]), y["stride"], y["padding"]
                    ),
                )
                cy, sty = _centres(size, y)
                (merged,), verdict, _ = _rf.merge_states([(sx,), (sy,)])
                n = min(len(cx), len(cy))
                brute_aligned = n >= 2 and all(cx[i] == cy[i] for i in range(n))
                # merged field of each common output: union of the two dependency intervals
                fx = x["dilation"] * (x["kernel"] - 1) + 1
                fy = y["dilation"] * (y["kernel"] - 1) + 1
                union_ok = True
                if brute_aligned:
                    for i in range(n):
                        lo = min(stx[i], sty[i])
                        hi = max(stx[i] + fx - 1, sty[i] + fy - 1)
                        union_ok &= (hi - lo + 1) == int(merged.size)
                got.append(bool(verdict) and union_ok)
                want.append(brute_aligned)
        pts = {"pair": np.arange(len(got))}
        return compare(
            f"pairs of single-layer branches k 1..5, s 1..2, p 0..2, d 1..2 on input {size} "
            f"({len(layers)}^2 pairs): engine verdict and merged size vs centres of all outputs",
            pts,
            np.array(got),
            np.array(want),
            t0=tm.start,
        )

    return Derivation(
        "receptive_alignment",
        "Alignment of branches in a multi-path network",
        "Two branches are aligned (their output grids coincide on the input) iff their effective strides and "
        "the centres of output 0 are equal; the merged receptive field is then the larger one.",
        [("both branches see the same input", None)],
        steps,
        cond,
        SOURCES[:1],
        prove,
        check,
    )
