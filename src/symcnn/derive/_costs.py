"""Derivations of costs: parameters, MACs, FLOPs and LeNet-5's connections, checked by counting loops."""

from __future__ import annotations

import numpy as np
import sympy

from .. import reference
from .._analysis import analyze
from .._symbols import C, F, G, K, P, S, W
from ..layers import Conv1d, ConvTranspose1d, Linear
from . import _brute
from ._core import Check, Derivation, Lemma, Proof, Timer, compare, same_expr

__all__ = ["conv_params", "conv_macs", "conv_flops", "lenet_connections"]

M = sympy.Symbol("M", integer=True, positive=True)  # depthwise multiplier
I_, O_ = sympy.symbols("I O", integer=True, positive=True)
SRC = [
    "FORMULAS.md §0 and §2.1 (weight shape (out, in/groups, *k))",
    "FORMULAS.md §5.1",
    "WORKED-EXAMPLES.md 'Weights and FLOPs'",
]


def _channel_grid():
    out = []
    for cin in range(1, 7):
        for cout in range(1, 7):
            for g in range(1, 7):
                if cin % g == 0 and cout % g == 0:
                    out.append((cin, cout, g))
    return out


def conv_params() -> Derivation:
    """Parameters of convolution, grouped, depthwise and transposed convolution, and Linear.

    >>> from symcnn import C, F, G, K
    >>> conv_params().result["conv"] == sympy.factor(K * (C / G) * F + K)
    True
    """
    conv = analyze(Conv1d(C, K, F, groups=G), (C, F)).params
    conv_nb = analyze(Conv1d(C, K, F, groups=G, bias=False), (C, F)).params
    tr = analyze(ConvTranspose1d(C, K, F, groups=G), (C, 1)).params
    dw = analyze(Conv1d(C, M * C, F, groups=C), (C, F)).params
    lin = analyze(Linear(I_, O_), (I_,)).params
    result = {
        "conv": sympy.factor(conv),
        "transposed": sympy.factor(tr),
        "depthwise": sympy.factor(dw),
        "linear": sympy.factor(lin),
    }
    steps = [
        (
            "output channel o belongs to group o // (K/G) and reads the C/G input channels of that "
            "group, each "
            "through F taps: weight tensor (K, C/G, F) (PyTorch), one bias per output channel",
            K * (C / G) * F + K,
        ),
        ("without bias", K * (C / G) * F),
        (
            "transposed: input channel c scatters to the K/G output channels of its group: weight (C, "
            "K/G, F), "
            "the same count",
            C * (K / G) * F + K,
        ),
        ("depthwise: G = C, K = M*C (multiplier M)", M * C * F + M * C),
        ("Linear: weight (out, in), bias (out)", I_ * O_ + O_),
        ("2-D kernels multiply F by the second kernel side: 3x3 from 3 channels to 32: (3*3*3 + 1)*32", 896),
    ]

    def prove() -> Proof:
        lem = (
            Lemma("conv", conv, same_expr(conv, K * (C / G) * F + K)),
            Lemma("conv without bias", conv_nb, same_expr(conv_nb, K * (C / G) * F)),
            Lemma("transposed == conv count", tr, same_expr(tr, conv)),
            Lemma("depthwise", dw, same_expr(dw, M * C * F + M * C)),
            Lemma("linear", lin, same_expr(lin, I_ * O_ + O_)),
        )
        return Proof(
            "identity (SymPy)",
            "the engine's symbolic parameter counts (analyze) against the sizes of "
            "the weight tensors; all symbols symbolic",
            all(x.passed for x in lem),
            len(lem),
            lem,
        )

    def check() -> Check:
        tm = Timer()
        fc = sympy.lambdify((C, K, F, G), conv)
        ft = sympy.lambdify((C, K, F, G), tr)
        got, want = [], []
        for cin, cout, g in _channel_grid():
            for f in range(1, 5):
                # the brute-force reference accepts exactly these weight shapes (it raises otherwise)
                x = np.ones((cin, f))
                w = np.ones((cout, cin // g, f))
                reference.conv(x, w, np.zeros(cout), groups=g)
                got.append(fc(cin, cout, f, g))
                want.append(w.size + cout)
                wt = np.ones((cin, cout // g, f))
                reference.conv_transpose(np.ones((cin, 1)), wt, np.zeros(cout), groups=g)
                got.append(ft(cin, cout, f, g))
                want.append(wt.size + cout)
        fl = sympy.lambdify((I_, O_), lin)
        for a in range(1, 30):
            for b in range(1, 30):
                got.append(fl(a, b))
                want.append(np.ones((b, a)).size + b)
        pts = {"case": np.arange(len(got))}
        return compare(
            "C_in, C_out 1..6, every G dividing both, F 1..4 (conv and transposed, weights accepted by "
            "the reference); Linear in, out 1..29",
            pts,
            np.array(got),
            np.array(want),
            t0=tm.start,
        )

    return Derivation(
        "conv_params",
        "Parameters of convolutions and linear layers",
        "conv: C_out (C_in/G) prod(F) + C_out; transposed conv: C_in (C_out/G) prod(F) + C_out (the "
        "same number); "
        "depthwise (G = C, C_out = M C): M C prod(F) + M C; Linear: in*out + out.",
        [("G divides C_in and C_out", None)],
        steps,
        result,
        SRC,
        prove,
        check,
    )


def conv_macs() -> Derivation:
    """MACs of a convolution (per output) and of a transposed convolution (per input).

    >>> conv_macs().verified
    True
    """
    conv = analyze(Conv1d(C, K, F, stride=S, padding=P, groups=G), (C, W))
    tr = analyze(ConvTranspose1d(C, K, F, stride=S, padding=P, groups=G), (C, W))
    out = conv.output_shape[1]
    result = {"conv": conv.macs, "transposed": tr.macs}
    steps = [
        (
            "each output (channel o, position) multiplies the C/G input channels of its group by F taps",
            C / G * F,
        ),
        (
            "summed over K output channels and all output positions (padded zeros counted)",
            out * K * C / G * F,
        ),
        (
            "transposed: each input (channel c, position) is multiplied by the F taps of the K/G output "
            "channels "
            "it scatters to",
            W * C * K / G * F,
        ),
    ]

    def prove() -> Proof:
        lem = (
            Lemma("conv", conv.macs, same_expr(conv.macs, out * K * C / G * F)),
            Lemma("transposed", tr.macs, same_expr(tr.macs, W * C * K / G * F)),
        )
        return Proof(
            "identity (SymPy)",
            "engine's symbolic MACs against the counting argument; all symbolic",
            all(x.passed for x in lem),
            2,
            lem,
        )

    def check() -> Check:
        tm = Timer()
        fc = sympy.lambdify((C, K, F, G, W, S, P), conv.macs)
        ft = sympy.lambdify((C, K, F, G, W, S, P), tr.macs)
        got, want = [], []
        chans = [c for c in _channel_grid() if max(c[0], c[1]) <= 4]
        for cin, cout, g in chans:
            for w in range(1, 7):
                for f in range(1, 4):
                    for s in (1, 2):
                        for p in (0, 1):
                            x = np.ones((cin, w))
                            if w + 2 * p >= f:
                                _, macs = reference.conv(
                                    x, np.ones((cout, cin // g, f)), stride=s, padding=p, groups=g
                                )
                                got.append(fc(cin, cout, f, g, w, s, p))
                                want.append(macs)
                            _, macs = reference.conv_transpose(
                                x, np.ones((cin, cout // g, f)), stride=s, groups=g
                            )
                            got.append(ft(cin, cout, f, g, w, s, 0))
                            want.append(macs)
        pts = {"case": np.arange(len(got))}
        return compare(
            "C_in, C_out 1..4, G | both, W 1..6, F 1..3, S 1..2, P 0..1 (conv) / 0 (transposed): "
            "the reference's multiply-accumulate counters",
            pts,
            np.array(got),
            np.array(want),
            t0=tm.start,
        )

    return Derivation(
        "conv_macs",
        "MACs of convolution and transposed convolution",
        "A convolution performs prod(O) C_out (C_in/G) prod(F) multiply-accumulates (batch 1, bias "
        "excluded); a "
        "transposed convolution prod(W_in) C_in (C_out/G) prod(F), counted per input pixel.",
        [("G divides C_in and C_out", None)],
        steps,
        result,
        SRC,
        prove,
        check,
    )


def conv_flops() -> Derivation:
    """FLOPs per output: ``n`` multiplications, ``n - 1`` additions and one bias addition: ``2n``.

    >>> from symcnn import pretty
    >>> pretty(conv_flops().result)
    '2*C*F*K*(floor((W + 2*P - F)/S) + 1)/G'
    """
    nn = sympy.Symbol("n", integer=True, positive=True)
    conv = analyze(Conv1d(C, K, F, stride=S, padding=P, groups=G), (C, W))
    conv_nb = analyze(Conv1d(C, K, F, stride=S, padding=P, groups=G, bias=False), (C, W))
    lin = analyze(Linear(I_, O_), (I_,))
    out = conv.output_shape[1]
    steps = [
        ("one output: acc = x_1 w_1, then n - 1 times acc += x_i w_i, then acc += b", (nn, nn - 1, 1)),
        ("per output n + (n - 1) + 1", 2 * nn),
        (
            "convolution: n = (C_in/G) prod(F), prod(O) C_out outputs; without bias one less per output",
            sympy.factor(conv.flops),
        ),
        ("Linear: n = in, out outputs", lin.flops),
    ]

    def prove() -> Proof:
        n_conv = C / G * F
        lem = (
            Lemma("conv with bias", conv.flops, same_expr(conv.flops, out * K * 2 * n_conv)),
            Lemma("conv without bias", conv_nb.flops, same_expr(conv_nb.flops, out * K * (2 * n_conv - 1))),
            Lemma("linear", lin.flops, same_expr(lin.flops, O_ * 2 * I_)),
            Lemma("FLOPs = 2 MACs with bias", conv.flops, same_expr(conv.flops, 2 * conv.macs)),
        )
        return Proof(
            "identity (SymPy)",
            "engine's symbolic FLOPs against the per-output operation count; all symbolic",
            all(x.passed for x in lem),
            len(lem),
            lem,
        )

    def check() -> Check:
        tm = Timer()
        fc = sympy.lambdify((C, K, F, G, W, S, P), conv.flops)
        fn = sympy.lambdify((C, K, F, G, W, S, P), conv_nb.flops)
        got, want = [], []
        for cin, cout, g in _channel_grid():
            for w in range(1, 9):
                for f in range(1, 5):
                    for s in (1, 2, 3):
                        for p in (0, 1, 2):
                            if w + 2 * p < f:
                                continue
                            outs = _brute.count_windows(w, f, s, p, p, 1) * cout
                            for bias, fun in ((True, fc), (False, fn)):
                                mults, adds = _brute.accumulate_ops(cin // g * f, bias)
                                got.append(fun(cin, cout, f, g, w, s, p))
                                want.append(outs * (mults + adds))
        pts = {"case": np.arange(len(got))}
        return compare(
            "C_in, C_out 1..6, G | both, W 1..8, F 1..4, S 1..3, P 0..2, bias on/off: operations of "
            "the accumulation loop times window positions",
            pts,
            np.array(got),
            np.array(want),
            t0=tm.start,
        )

    return Derivation(
        "conv_flops",
        "FLOPs per output: 2n with bias",
        "An output with n weights costs n multiplications, n - 1 additions and 1 bias addition: 2n "
        "FLOPs, so a "
        "convolution with bias costs 2 prod(O) C_out (C_in/G) prod(F) = 2 MACs (one less per output without "
        "bias).",
        [("FLOPs counted as in WORKED-EXAMPLES (mults + adds + bias add)", None)],
        steps,
        sympy.factor(conv.flops),
        SRC,
        prove,
        check,
    )


def lenet_connections() -> Derivation:
    """LeNet-5's connections: outputs times (inputs read + bias), 340,908 in total.

    >>> lenet_connections().result["total"]
    340908
    """
    from ..layers import LENET5_C3_TABLE
    from ..models import lenet5

    a = analyze(lenet5(), (1, 32, 32))
    per = {r.name: r.connections for r in a.layers if r.connections != 0}
    result = {**per, "total": a.connections, "params": a.params}
    steps = [
        (
            "a connection is one input (or the bias) feeding one output unit: outputs x (inputs read + bias)",
            None,
        ),
        ("C1: 6 maps of 28x28, each unit reads 5x5 + bias", 6 * 28 * 28 * 26),
        ("S2: 6 x 14 x 14 units, each sums 2x2 inputs + bias", 6 * 14 * 14 * 5),
        (
            "C3: 10x10 units per map, map m reads |table(m)| x 25 + 1",
            100 * sum(len(x) * 25 + 1 for x in LENET5_C3_TABLE),
        ),
        ("S4: 16 x 5 x 5 x 5", 16 * 25 * 5),
        ("C5: 120 x (400 + 1)", 120 * 401),
        ("F6: 84 x 121", 84 * 121),
        ("output: 10 RBF units x 84 inputs", 840),
    ]

    def prove() -> Proof:
        want = [
            26 * 6 * 784,
            6 * 196 * 5,
            100 * sum(len(x) * 25 + 1 for x in LENET5_C3_TABLE),
            16 * 25 * 5,
            120 * 401,
            84 * 121,
            840,
        ]
        ok = sorted(per.values()) == sorted(want) and a.connections == 340908 and a.params == 60000
        return Proof(
            "exact arithmetic",
            "integer arithmetic of the steps against the engine's per-layer "
            "connections (numbers, nothing symbolic)",
            ok,
            len(want),
            (Lemma("per-layer connections and totals 340,908 / 60,000", per, ok),),
        )

    def check() -> Check:
        tm = Timer()
        # count by loops: every (output unit, input read) pair, plus one per unit for the bias
        count = {}
        _, macs = reference.conv(np.ones((1, 32, 32)), np.ones((6, 1, 5, 5)))
        count["C1"] = macs + 6 * 28 * 28
        count["S2"] = sum(
            4 + 1
            for _c in range(6)
            for _i in reference.windows_1d(28, 2, 2)
            for _j in reference.windows_1d(28, 2, 2)
        )
        c3 = 0
        for maps in LENET5_C3_TABLE:
            for _i in reference.windows_1d(14, 5, 1):
                for _j in reference.windows_1d(14, 5, 1):
                    c3 += len(maps) * 25 + 1
        count["C3"] = c3
        count["S4"] = sum(
            5
            for _c in range(16)
            for _i in reference.windows_1d(10, 2, 2)
            for _j in reference.windows_1d(10, 2, 2)
        )
        _, macs = reference.conv(np.ones((16, 5, 5)), np.ones((120, 16, 5, 5)))
        count["C5"] = macs + 120
        count["F6"] = 120 * 84 + 84
        count["OUTPUT"] = 84 * 10
        names = list(count)
        got = np.array([int(per.get(n, -1)) for n in names])
        want = np.array([count[n] for n in names])
        return compare(
            "LeNet-5 layers " + ", ".join(names) + " (reference MAC counters and window loops)",
            {"layer": np.arange(len(names))},
            got,
            want,
            t0=tm.start,
        )

    return Derivation(
        "lenet_connections",
        "LeNet-5: 60,000 parameters and 340,908 connections",
        "Connections = sum over layers of outputs x (inputs read per output + bias); with C3's partial "
        "connection table LeNet-5 has 340,908 connections (incl. the 840 of the RBF layer) and 60,000 "
        "trainable parameters.",
        [("input 1 x 32 x 32", None)],
        steps,
        result,
        ["FORMULAS.md §6.3 (LeCun et al. 1998, Sec. II-B)", "WORKED-EXAMPLES.md 'LeNet-5'"],
        prove,
        check,
    )
