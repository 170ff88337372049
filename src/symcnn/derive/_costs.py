"""Derivations of costs: parameters, MACs, FLOPs and LeNet-5's connections, checked by counting loops."""

from __future__ import annotations

import numpy as np
import sympy

from .. import reference
from .._analysis import analyze
from .._symbols import C, F, G, K, P, S, W
from ..layers import Conv1d, ConvTranspose1d, Linear
from . import _brute
from ._core import Compare, Derivation, Grid, claim, eq, exhaustive, fact, identity

__all__ = ["conv_params", "conv_macs", "conv_flops", "lenet_connections"]

M = sympy.Symbol("M", integer=True, positive=True)  # depthwise multiplier
I_, O_ = sympy.symbols("I O", integer=True, positive=True)
N_ = sympy.Symbol("n", integer=True, positive=True)
SOURCES = ["torch-conv2d", "torch-convtranspose2d", "cs231n", "fvcore", "ptflops", "thop", "torchinfo"]


def _channels(top: int, **more) -> Grid:
    """C_in (C), C_out (K) 1..top and every group count G 1..6 dividing both, times ``more`` axes."""
    return Grid(dict(C=range(1, top + 1), K=range(1, top + 1), G=range(1, 7), **more)).such_that(
        lambda g: (g["C"] % g["G"] == 0) & (g["K"] % g["G"] == 0), "G divides C_in and C_out"
    )


def _conv_weights(C, K, G, F) -> int:
    """Brute force: the size of the weight tensor the reference convolution accepts, plus one bias each."""
    w = np.ones((K, C // G, F))
    reference.conv(np.ones((C, F)), w, np.zeros(K), groups=G)  # raises on any other weight shape
    return w.size + K


def _transposed_weights(C, K, G, F) -> int:
    w = np.ones((C, K // G, F))
    reference.conv_transpose(np.ones((C, 1)), w, np.zeros(K), groups=G)
    return w.size + K


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
    n = sympy.Symbol("N_params", integer=True)
    return claim(
        "conv_params",
        "Parameters of convolutions and linear layers",
        r"A convolution from $C_{in}$ to $C_{out}$ channels in $G$ groups with a kernel of $\prod F$ taps has "
        r"$C_{out} \frac{C_{in}}{G} \prod F + C_{out}$ parameters; a transposed convolution "
        r"$C_{in} \frac{C_{out}}{G} \prod F + C_{out}$ (the same number); a depthwise one ($G = C$, "
        r"$C_{out} = MC$) $MC \prod F + MC$; a linear layer $n_{in} n_{out} + n_{out}$.",
        assumptions=[(r"$G$ divides $C_{in}$ and $C_{out}$", None)],
        steps=[
            (r"Output channel $o$ belongs to group $\lfloor o/(C_{out}/G) \rfloor$ and reads the $C_{in}/G$ input "
             r"channels of that group through $F$ taps: weight tensor $(C_{out}, C_{in}/G, F)$, one bias per "
             "output channel.", eq(n, K * (C / G) * F + K)),
            ("Without bias:", eq(n, K * (C / G) * F)),
            (r"Transposed: input channel $c$ scatters to the $C_{out}/G$ output channels of its group: weight "
             r"$(C_{in}, C_{out}/G, F)$, the same count.", eq(n, C * (K / G) * F + K)),
            (r"Depthwise: $G = C$, $C_{out} = MC$ (multiplier $M$):", eq(n, M * C * F + M * C)),
            (r"Linear: weight $(n_{out}, n_{in})$, bias $(n_{out})$:", eq(n, I_ * O_ + O_)),
            (r"Two-dimensional kernels multiply $F$ by the second side: $3 \times 3$ from 3 channels to 32 is "
             r"$(3 \cdot 3 \cdot 3 + 1) \cdot 32$.", eq(n, sympy.Integer(896))),
        ],
        result={"conv": sympy.factor(conv), "transposed": sympy.factor(tr), "depthwise": sympy.factor(dw),
                "linear": sympy.factor(lin)},
        sources=["torch-conv2d", "torch-convtranspose2d", "cs231n"],
        argument="The engine's symbolic parameter counts (analyze) equal the sizes of the weight tensors, with "
        "every symbol symbolic.",
        facts=[
            identity("convolution", conv, K * (C / G) * F + K),
            identity("convolution without bias", conv_nb, K * (C / G) * F),
            identity("transposed convolution: the same count", tr, conv),
            identity("depthwise convolution", dw, M * C * F + M * C),
            identity("linear layer", lin, I_ * O_ + O_),
        ],
        checks=[
            Compare("engine conv params vs the weight tensor the reference accepts", _channels(6, F=range(1, 5)),
                    conv, _conv_weights),
            Compare("engine transposed params vs the reference's weight tensor", _channels(6, F=range(1, 5)), tr,
                    _transposed_weights),
            Compare("engine Linear params vs the weight and bias", Grid(dict(I=range(1, 30), O=range(1, 30))), lin,
                    lambda I, O: np.ones((O, I)).size + O),
        ],
    )


def _conv_macs(C, K, G, W, F, S, P) -> int:
    """Brute force: the reference convolution's multiply-accumulate counter."""
    return reference.conv(np.ones((C, W)), np.ones((K, C // G, F)), stride=S, padding=P, groups=G)[1]


def _transposed_macs(C, K, G, W, F, S) -> int:
    return reference.conv_transpose(np.ones((C, W)), np.ones((C, K // G, F)), stride=S, groups=G)[1]


def conv_macs() -> Derivation:
    """MACs of a convolution (per output) and of a transposed convolution (per input).

    >>> conv_macs().verified
    True
    """
    conv = analyze(Conv1d(C, K, F, stride=S, padding=P, groups=G), (C, W))
    tr = analyze(ConvTranspose1d(C, K, F, stride=S, groups=G), (C, W))
    out = conv.output_shape[1]
    macs = sympy.Symbol("MACs")
    return claim(
        "conv_macs",
        "MACs of convolution and transposed convolution",
        r"A convolution performs $\prod O \cdot C_{out} \frac{C_{in}}{G} \prod F$ multiply-accumulates (batch 1, "
        r"bias excluded); a transposed convolution $\prod W_{in} \cdot C_{in} \frac{C_{out}}{G} \prod F$, counted "
        "per input pixel.",
        assumptions=[(r"$G$ divides $C_{in}$ and $C_{out}$", None)],
        steps=[
            (r"Each output (channel, position) multiplies the $C_{in}/G$ input channels of its group by $F$ taps:",
             eq(sympy.Symbol("MACs_1"), C / G * F)),
            (r"Summed over the $C_{out}$ output channels and all output positions (padded zeros counted):",
             eq(macs, out * K * C / G * F)),
            (r"Transposed: each input (channel, position) is multiplied by the $F$ taps of the $C_{out}/G$ output "
             "channels it scatters to:", eq(macs, W * C * K / G * F)),
        ],
        result={"conv": conv.macs, "transposed": tr.macs},
        sources=["torch-conv2d", "torch-convtranspose2d", "fvcore", "ptflops", "thop"],
        argument="The engine's symbolic MACs equal the counting argument, every symbol symbolic.",
        facts=[
            identity("convolution", conv.macs, out * K * C / G * F),
            identity("transposed convolution", tr.macs, W * C * K / G * F),
        ],
        checks=[
            Compare("engine conv MACs vs the reference's counter",
                    _channels(4, W=range(1, 7), F=range(1, 4), S=range(1, 3), P=range(0, 2)).such_that(
                        lambda g: g["W"] + 2 * g["P"] >= g["F"], "output >= 1"), conv.macs, _conv_macs),
            Compare("engine transposed MACs vs the reference's counter",
                    _channels(4, W=range(1, 9), F=range(1, 4), S=range(1, 4)), tr.macs, _transposed_macs),
        ],
    )


def _loop_flops(C, K, G, W, F, S, P, bias: bool) -> int:
    """Brute force: operations of the accumulation loop times the window positions."""
    mults, adds = _brute.accumulate_ops(C // G * F, bias)
    return _brute.count_windows(W, F, S, P, P, 1) * K * (mults + adds)


def conv_flops() -> Derivation:
    """FLOPs per output: ``n`` multiplications, ``n - 1`` additions and one bias addition: ``2n``.

    >>> from symcnn import pretty
    >>> pretty(conv_flops().result)
    '2*C*F*K*(floor((W + 2*P - F)/S) + 1)/G'
    """
    conv = analyze(Conv1d(C, K, F, stride=S, padding=P, groups=G), (C, W))
    conv_nb = analyze(Conv1d(C, K, F, stride=S, padding=P, groups=G, bias=False), (C, W))
    lin = analyze(Linear(I_, O_), (I_,))
    out = conv.output_shape[1]
    flops = sympy.Symbol("FLOPs")
    grid = _channels(6, W=range(1, 9), F=range(1, 5), S=range(1, 4), P=range(0, 3)).such_that(
        lambda g: g["W"] + 2 * g["P"] >= g["F"], "output >= 1")
    return claim(
        "conv_flops",
        "FLOPs per output: 2n with bias",
        r"An output with $n$ weights costs $n$ multiplications, $n - 1$ additions and 1 bias addition: $2n$ "
        r"FLOPs, so a convolution with bias costs $2 \prod O \cdot C_{out} \frac{C_{in}}{G} \prod F$, twice its "
        "MACs (one less per output without bias).",
        assumptions=[("FLOPs count multiplications, additions and the bias addition", None)],
        steps=[
            (r"One output: $acc = x_1 w_1$, then $n - 1$ times $acc \mathrel{+}= x_i w_i$, then "
             r"$acc \mathrel{+}= b$: $n + (n - 1) + 1$ operations.", eq(sympy.Symbol("FLOPs_1"), 2 * N_)),
            (r"Convolution: $n = \frac{C_{in}}{G} \prod F$ and $\prod O \cdot C_{out}$ outputs:",
             eq(flops, sympy.factor(conv.flops))),
            (r"Linear: $n = n_{in}$ and $n_{out}$ outputs:", eq(flops, lin.flops)),
        ],
        result=sympy.factor(conv.flops),
        sources=["fvcore", "ptflops", "thop", "cs231n"],
        argument="The engine's symbolic FLOPs equal the per-output operation count, every symbol symbolic.",
        facts=[
            identity("convolution with bias", conv.flops, out * K * 2 * (C / G * F)),
            identity("convolution without bias", conv_nb.flops, out * K * (2 * (C / G * F) - 1)),
            identity("linear layer", lin.flops, O_ * 2 * I_),
            identity("with bias, FLOPs = 2 MACs", conv.flops, 2 * conv.macs),
        ],
        checks=[
            Compare("engine FLOPs with bias vs the accumulation loop", grid, conv.flops,
                    lambda **p: _loop_flops(**p, bias=True)),
            Compare("engine FLOPs without bias vs the accumulation loop", grid, conv_nb.flops,
                    lambda **p: _loop_flops(**p, bias=False)),
        ],
    )


def _windows2(size: int, k: int, s: int) -> int:
    return len(reference.windows_1d(size, k, s)) ** 2


def _lenet_loops() -> dict:
    """Brute force: every (output unit, input read) pair plus one per unit for the bias, by loops."""
    from ..layers import LENET5_C3_TABLE

    return {
        "C1": lambda: reference.conv(np.ones((1, 32, 32)), np.ones((6, 1, 5, 5)))[1] + 6 * 28 * 28,
        "S2": lambda: 6 * _windows2(28, 2, 2) * (4 + 1),
        "C3": lambda: sum(_windows2(14, 5, 1) * (len(maps) * 25 + 1) for maps in LENET5_C3_TABLE),
        "S4": lambda: 16 * _windows2(10, 2, 2) * (4 + 1),
        "C5": lambda: reference.conv(np.ones((16, 5, 5)), np.ones((120, 16, 5, 5)))[1] + 120,
        "F6": lambda: 120 * 84 + 84,
        "OUTPUT": lambda: 84 * 10,
    }


def lenet_connections() -> Derivation:
    """LeNet-5's connections: outputs times (inputs read + bias), 340,908 in total.

    >>> lenet_connections().result["total"]
    340908
    """
    from ..layers import LENET5_C3_TABLE
    from ..models import lenet5

    a = analyze(lenet5(), (1, 32, 32))
    per = {r.name: r.connections for r in a.layers if r.connections != 0}
    c3 = 100 * sum(len(x) * 25 + 1 for x in LENET5_C3_TABLE)
    arithmetic = {"C1": 6 * 28 * 28 * 26, "S2": 6 * 14 * 14 * 5, "C3": c3, "S4": 16 * 25 * 5, "C5": 120 * 401,
                  "F6": 84 * 121, "OUTPUT": 840}
    loops = _lenet_loops()
    n = sympy.Symbol
    return claim(
        "lenet_connections",
        "LeNet-5: 60,000 parameters and 340,908 connections",
        "Connections are, summed over the layers, the outputs times (the inputs each output reads + its bias); "
        "with C3's partial connection table LeNet-5 has 340,908 connections (including the 840 of the RBF layer) "
        "and 60,000 trainable parameters.",
        assumptions=[(r"input $1 \times 32 \times 32$", None)],
        steps=[
            ("A connection is one input (or the bias) feeding one output unit: outputs times (inputs read + 1).",
             None),
            (r"C1: 6 maps of $28 \times 28$, each unit reads $5 \times 5$ inputs and a bias: "
             r"$6 \cdot 28 \cdot 28 \cdot 26$.", eq(n("n_C1"), arithmetic["C1"])),
            (r"S2: $6 \cdot 14 \cdot 14$ units, each sums $2 \times 2$ inputs and a bias.",
             eq(n("n_S2"), arithmetic["S2"])),
            (r"C3: $10 \times 10$ units per map; map $m$ reads $\lvert T(m) \rvert \cdot 25 + 1$ (table $T$).",
             eq(n("n_C3"), c3)),
            (r"S4: $16 \cdot 5 \cdot 5 \cdot 5$.", eq(n("n_S4"), arithmetic["S4"])),
            (r"C5: $120 \cdot (400 + 1)$.", eq(n("n_C5"), arithmetic["C5"])),
            (r"F6: $84 \cdot 121$.", eq(n("n_F6"), arithmetic["F6"])),
            (r"Output: 10 RBF units of 84 inputs each.", eq(n("n_out"), arithmetic["OUTPUT"])),
        ],
        result={**per, "total": a.connections, "params": a.params},
        sources=["lecun1998, Section II-B"],
        argument="Integer arithmetic: the products of the steps equal the engine's per-layer connections, and "
        "the totals are 340,908 connections and 60,000 parameters (numbers only, nothing symbolic).",
        facts=[
            fact("the engine's per-layer connections are the products of the steps", lambda: per == arithmetic,
                 exhaustive("the 7 layers of LeNet-5 at input 1 x 32 x 32"), per, len(arithmetic)),
            fact("totals: 340,908 connections and 60,000 parameters",
                 lambda: (a.connections, a.params) == (340908, 60000),
                 exhaustive("the 7 layers of LeNet-5 at input 1 x 32 x 32"), (a.connections, a.params)),
        ],
        checks=[
            Compare("engine connections vs loops over windows and the reference's MAC counters",
                    Grid(dict(layer=list(loops))).described("LeNet-5 layers " + ", ".join(loops)),
                    lambda layer: int(per.get(layer, -1)), lambda layer: loops[layer]()),
        ],
    )
