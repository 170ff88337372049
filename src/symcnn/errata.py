"""Errata: published CNN-arithmetic formulas that are wrong, shown wrong by the engine.

Every entry is computed with the derivations' grid machinery (:class:`symcnn.derive.Grid`, exact rational
arithmetic): the claimed formula and the engine's correct one are evaluated over a stated grid, the smallest
counterexample is found by search (grid points ordered by the sum of their values, then lexicographically), and
the condition under which the two agree is itself verified on the whole grid. Values are integers or exact
rationals, never floats.

>>> from symcnn.errata import errata
>>> e = {x.name: x for x in errata()}
>>> e["transposed_offset"].counterexample
{'X': 1, 'F': 1, 'S': 3, 'P': 1}
>>> e["weight_count"].claimed_value, e["weight_count"].correct_value
(4, 3)
>>> e["same_stride_formula"].claimed_value
-1/3
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import sympy

from ._analysis import analyze
from ._bibliography import cite, key_of
from .derive._core import Grid, evaluate, same_value
from .layers import Conv2d, Dropout
from .layers import conv as _conv
from .layers import pool as _pool
from .layers import transposed as _tr
from .layers._base import AxisMap
from .present import show as _show
from .receptive import INPUT_AXIS, AxisState, apply_axis

__all__ = ["Erratum", "errata"]


@dataclass(frozen=True)
class Erratum:
    """A published formula shown wrong.

    Attributes:
        name: stable identifier; title: one line; source: the kind of text that states it; quote: the claim
            as it is stated there.
        claimed / correct: SymPy formulas (``correct`` comes from the engine).
        counterexample: the smallest grid point where they differ, with ``claimed_value``/``correct_value``
            (integers or exact rationals).
        agrees_when: text and SymPy condition (``agrees_condition``) for the two to coincide, verified on the
            grid (``cases`` points, ``grid`` describes them).
        examples: quoted examples, each checked (``claimed``, ``correct``, ``differs``).
        sources: citation keys of :data:`symcnn._bibliography.BIBLIOGRAPHY`.
        verified: True when the counterexample exists and the condition holds exactly on the grid.
    """

    name: str
    title: str
    source: str
    claimed: object
    correct: object
    counterexample: dict | None
    claimed_value: object
    correct_value: object
    agrees_when: str
    agrees_condition: object
    grid: str
    cases: int
    condition_mismatches: int
    verified: bool
    examples: tuple[dict, ...] = ()
    notes: str = ""
    sources: tuple[str, ...] = field(default_factory=tuple)
    quote: str = ""

    def __repr__(self) -> str:
        return (
            f"<Erratum {self.name}: counterexample {self.counterexample}, "
            f"{'verified' if self.verified else 'NOT VERIFIED'}>"
        )

    def to_markdown(self) -> str:
        rows = [
            f"### {self.title}",
            "",
            f"*Stated in*: {self.source}: \u201c{self.quote}\u201d",
            "",
            f"- claimed: `{_show(self.claimed)}`",
            f"- correct: `{_show(self.correct)}`",
            f"- smallest counterexample: {self.counterexample} (claimed {self.claimed_value}, correct "
            f"{self.correct_value})",
            f"- agrees exactly when: {self.agrees_when} (`{_show(self.agrees_condition)}`), verified on "
            f"{self.cases} cases ({self.grid}): {self.condition_mismatches} exceptions",
        ]
        rows += [f"- example {x}" for x in self.examples]
        if self.notes:
            rows += ["", self.notes]
        rows += ["", "*References*: " + "; ".join(self.sources)]
        return "\n".join(rows)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()


def _columns(rows: list[dict]) -> dict[str, np.ndarray]:
    """Grid rows (dicts) as one array per axis, in the given order."""
    out = {}
    for name in rows[0] if rows else ():
        values = [r[name] for r in rows]
        if all(isinstance(v, int) for v in values):
            out[name] = np.array(values, dtype=np.int64)
        else:
            out[name] = np.empty(len(values), dtype=object)
            for i, v in enumerate(values):
                out[name][i] = v
    return out


def _by_size(row: dict) -> tuple:
    return (sum(row.values()), tuple(row.values()))


def refute(
    name: str,
    title: str,
    *,
    stated_in: str,
    quote: str,
    claimed,
    correct,
    grid: Grid,
    agrees_when: str,
    condition,
    shown: tuple | None = None,
    examples: tuple[dict, ...] = (),
    notes: str = "",
    sources: tuple[str, ...] = (),
    order: Callable[[dict], tuple] = _by_size,
    also: Callable[[], bool] = lambda: True,
) -> Erratum:
    """State an erratum and refute it: evaluate ``claimed`` and ``correct`` (SymPy expressions in the grid's
    symbols, evaluated exactly, or functions of one point) on every point of ``grid``, smallest first; count
    the points where ``condition`` disagrees with the two agreeing. ``shown`` = (claimed, correct, condition)
    formulas to display when the evaluated ones are functions."""
    for s in sources:
        cite(key_of(s))
    rows = sorted(grid.rows(), key=order)
    pts = _columns(rows)
    a, b, c = (evaluate(fn, pts, exact=True) for fn in (claimed, correct, condition))
    same = [same_value(x, y) for x, y in zip(a, b, strict=True)]
    first = next((i for i, ok in enumerate(same) if not ok), None)
    bad = sum(bool(ci) != si for ci, si in zip(c, same, strict=True))
    checked = []
    if examples:
        ex = _columns([{k: x[k] for k in rows[0]} for x in examples])
        ea, eb = (evaluate(fn, ex, exact=True) for fn in (claimed, correct))
        checked = [{**x, "claimed": u, "correct": v, "differs": not same_value(u, v)}
                   for x, u, v in zip(examples, ea, eb, strict=True)]
    shown_claimed, shown_correct, shown_condition = shown or (claimed, correct, condition)
    return Erratum(
        name, title, stated_in, shown_claimed, shown_correct,
        None if first is None else rows[first],
        None if first is None else a[first],
        None if first is None else b[first],
        agrees_when, shown_condition, grid.describe(), len(rows), bad,
        first is not None and bad == 0 and all(x["differs"] for x in checked) and also(),
        tuple(checked), notes, tuple(sources), quote,
    )


def _R(a, b):
    return range(a, b + 1)


def _pos(*names):
    return sympy.symbols(names, integer=True, positive=True)


def _same_stride() -> Erratum:
    n, F, S = _pos("n", "F", "S")
    correct = ((n - 1) * S - n + F) / 2

    def engine_half_total(n, F, S):
        """From the engine: the minimal total padding T with conv_output_size(n, F, S, T//2, T - T//2) = n,
        halved."""
        T = 0
        while _conv.conv_output_size(n, F, S, T // 2, T - T // 2) < n:
            T += 1
        return sympy.Rational(T, 2)

    keep = lambda g: ((g["n"] - 1) * g["S"] - g["n"] + g["F"] >= 0) & (  # noqa: E731
        ((g["n"] - 1) * g["S"] - g["n"] + g["F"]) % 2 == 0)
    return refute(
        "same_stride_formula",
        "SAME padding with stride: (n − 1)/S instead of (n − 1)S",
        stated_in="tutorial articles on output sizes, for 'same' padding at stride S",
        quote="P = ((n - 1)/S - n + F)/2",
        claimed=((n - 1) / S - n + F) / 2,
        correct=engine_half_total,
        grid=Grid(dict(n=_R(1, 40), F=_R(1, 7), S=_R(1, 5))).such_that(
            keep, "where a symmetric integer padding keeps O = n"),
        agrees_when="$S = 1$ or $n = 1$",
        condition=sympy.Or(sympy.Eq(S, 1), sympy.Eq(n, 1)),
        shown=(((n - 1) / S - n + F) / 2, correct, sympy.Or(sympy.Eq(S, 1), sympy.Eq(n, 1))),
        notes=r"Keeping $O = n$ at stride $S$ needs the total padding $(n - 1)S - n + F$, the engine's minimal "
        r"one (found by search on every grid point); TensorFlow's SAME for $S > 1$ keeps $\lceil n/S \rceil$ "
        "outputs, not $n$ (derivation same_padding).",
        sources=("tf-padding", "dumoulin2016"),
    )


def _kernel_padding() -> Erratum:
    F, W = _pos("F", "W")
    correct = _conv.same_padding(W, F, 1)[0]  # stride 1: floor(D(F-1)/2) = (F-1)/2 for odd F
    table = {1: 0, 3: 1, 5: 3}
    wrong = {k: (v, int(correct.subs(F, k))) for k, v in table.items() if v != int(correct.subs(F, k))}
    return refute(
        "kernel_padding",
        "‘kernel 5 → padding 3’: the rule P = ⌈F/2⌉ instead of (F − 1)/2",
        stated_in="tutorial tables of the SAME padding per kernel size",
        quote="kernel 1 -> padding 0, kernel 3 -> padding 1, kernel 5 -> padding 3",
        claimed=sympy.ceiling(F / 2),
        correct=correct,
        grid=Grid(dict(F=range(1, 16, 2))).described("odd F 1..15, stride 1"),
        agrees_when="never (for every odd $F$ the rule gives one too many)",
        condition=sympy.false,
        examples=({"F": 5},),
        notes=f"The quoted table {table} follows $(F - 1)/2$ at kernels 1 and 3 and slips to the rule "
        rf"$\lceil F/2 \rceil$ at kernel 5, its only wrong entry: {wrong} (quoted, engine). As a rule, "
        r"$\lceil F/2 \rceil$ is one too many at every odd $F$ (so the smallest counterexample of the rule is "
        "$F = 1$), and the output grows by 2.",
        sources=("dumoulin2016, Relationship 3", "torch-conv2d"),
    )


def _transposed_offset() -> Erratum:
    X, F, S = _pos("X", "F", "S")
    P = sympy.Symbol("P", integer=True, nonnegative=True)
    return refute(
        "transposed_offset",
        "Transposed-convolution offset (D_out − 2P − K) mod S: the sign of 2P",
        stated_in="articles on transposed convolution, for the output_padding ('offset') that restores a size",
        quote="offset = (D_out - 2P - K) mod S",
        claimed=sympy.Mod(X - 2 * P - F, S),
        # from the engine: what is missing after conv then transposed conv with output_padding 0
        correct=X - _tr.transposed_output_size(_conv.conv_output_size(X, F, S, P), F, S, P),
        grid=Grid(dict(X=_R(1, 40), F=_R(1, 7), S=_R(1, 5), P=_R(0, 4))).such_that(
            lambda g: g["X"] + 2 * g["P"] >= g["F"], "X + 2P >= F"),
        agrees_when=r"$S$ divides $4P$ (always for $S \in \{1, 2, 4\}$ or $P = 0$; for $S = 3$ only when 3 "
        "divides $P$)",
        condition=sympy.Eq(sympy.Mod(4 * P, S), 0),
        examples=({"X": 6, "F": 3, "S": 3, "P": 1},),
        notes=r"The engine's correct value is what a convolution followed by its transposed convolution loses: "
        r"$(X + 2P - F) \bmod S$ (derivation transposed_offset).",
        sources=("torch-convtranspose2d", "dumoulin2016, Relationship 14"),
    )


def _weight_count() -> Erratum:
    Ci, k, Co = _pos("C_in", "k", "C_out")
    return refute(
        "weight_count",
        "Weight count 3 × (3 × 3 + 1) × 32 = 960: one bias per input channel",
        stated_in="articles on counting CNN parameters",
        quote="3 x (3 x 3 + 1) x 32 = 960",
        claimed=Ci * (k * k + 1) * Co,
        correct=analyze(Conv2d(Ci, Co, k), (Ci, k, k)).params,
        grid=Grid(dict(C_in=_R(1, 8), k=_R(1, 7), C_out=_R(1, 64))),
        agrees_when="$C_{in} = 1$",
        condition=sympy.Eq(Ci, 1),
        examples=({"C_in": 3, "k": 3, "C_out": 32},),
        notes=r"3 input channels, 32 kernels of $3 \times 3$: $(3 \cdot 3 \cdot 3 + 1) \cdot 32 = 896$, not 960; "
        r"the excess is $(C_{in} - 1) C_{out}$.",
        sources=("cs231n", "torch-conv2d"),
    )


def _power(base: int, exp: int):
    """``base**exp`` kept as written (10^6, 2^20), not multiplied out."""
    return sympy.Pow(sympy.Integer(base), exp, evaluate=False)


def _vgg_bytes() -> Erratum:
    p = sympy.Symbol("params", integer=True, positive=True)
    from .models import vgg16

    params = int(analyze(vgg16(), (3, 224, 224)).params)
    dropout = int(analyze(Dropout(0.5), (4096,)).params)
    size = 4 * params
    return refute(
        "vgg16_megabytes",
        "VGG-16's size: 553.4 MB and 527.8 MiB are the same bytes; dropout does not explain the gap",
        stated_in="an article on VGG-16's size",
        quote="the gap to the '540M' file is explained by dropout removing parameters",
        # reading the MiB figure as MB leaves 10^6/2^20 of the parameters: the count the explanation needs
        claimed=sympy.Mul(p, _power(10, 6), sympy.Pow(_power(2, 20), -1, evaluate=False), evaluate=False),
        correct=p + dropout,  # the engine: Dropout adds and removes no parameters
        grid=Grid(dict(params=_R(1, 1000))).described("params 1..1000, 4 bytes each"),
        agrees_when=r"never for a nonzero size ($10^6$ bytes are not $2^{20}$ bytes)",
        condition=sympy.false,
        examples=({"params": params},),
        notes=f"Both units are right: VGG-16 (engine) has {params:,} parameters = {size:,} bytes = "
        f"{size // 10**5 / 10} MB ($10^6$ bytes) = {round(size / 2**20, 1)} MiB ($2^{{20}}$ bytes). The gap between "
        "the two "
        "figures is the unit. Explaining it by parameters removed by dropout is the error: Dropout has "
        f"{dropout} parameters (engine), so the file holds all {params:,}.",
        sources=("simonyan2014", "torchvision-models", "torch-dropout"),
        also=lambda: dropout == 0 and params == 138357544,
    )


def _rf_start_floor() -> Erratum:
    n, k, s = _pos("n_in", "k", "s")
    p = sympy.Symbol("p", integer=True, nonnegative=True)
    actual = (_conv.conv_output_size(n, k, s, p) - 1) * s - n + k
    return refute(
        "rf_start_floor",
        "Receptive-field start from pL = ⌊actualP/2⌋",
        stated_in="the receptive-field code (its outFromIn function) of a widely copied 2017 tutorial",
        quote="pL = floor(actualP/2)",
        claimed=(k - 1) / sympy.Integer(2) - sympy.floor(actual / 2),
        correct=apply_axis(INPUT_AXIS, AxisMap("window", k, s, p)).start,  # engine: (k-1)/2 - p
        grid=Grid(dict(n_in=_R(1, 40), k=_R(1, 7), s=_R(1, 5), p=_R(0, 4))).such_that(
            lambda g: g["n_in"] + 2 * g["p"] >= g["k"], "n_in + 2p >= k"),
        agrees_when=r"$(n_{in} + 2p - k) \bmod s = 0$ (always for $s = 1$)",
        condition=sympy.Eq(sympy.Mod(n + 2 * p - k, s), 0),
        examples=({"n_in": 6, "k": 3, "s": 2, "p": 1}, {"n_in": 8, "k": 3, "s": 2, "p": 0}),
        notes=r"The code takes the left padding as $\lfloor \mathit{actualP}/2 \rfloor$ with "
        r"$\mathit{actualP} = (n_{out} - 1)s - n_{in} + k = 2p - ((n_{in} + 2p - k) \bmod s)$; the real left "
        r"padding is $p$. Offsets are relative to the input's start, jump 1 (first layer).",
        sources=("hien2017", "araujo2019"),
    )


def _ceil_pool() -> Erratum:
    W, F, S = _pos("W", "F", "S")
    P = sympy.Symbol("P", integer=True, nonnegative=True)
    return refute(
        "ceil_mode_naive",
        "ceil_mode pooling as a plain ceiling",
        stated_in="articles and code computing ceil_mode pooling sizes",
        quote="O = ceil((W + 2P - F)/S) + 1",
        claimed=sympy.ceiling((W + 2 * P - F) / S) + 1,
        correct=_pool.pool_output_size(W, F, S, P, ceil_mode=True),
        grid=Grid(dict(W=_R(1, 40), F=_R(1, 7), S=_R(1, 5), P=_R(0, 4))).such_that(
            lambda g: (2 * g["P"] <= g["F"]) & (g["W"] + 2 * g["P"] + g["S"] - 1 >= g["F"]),
            "P <= F/2 (PyTorch) and an output"),
        agrees_when=r"the last window starts inside the input or the left padding: "
        r"$S \lceil (W + 2P - F)/S \rceil \le W + P - 1$",
        condition=sympy.Le(S * sympy.ceiling((W + 2 * P - F) / S), W + P - 1),
        examples=({"W": 5, "F": 2, "S": 2, "P": 1},),
        notes="The smallest case is a kernel-1 stride-2 pool on 2 inputs (the second window would start past "
        "the input); the usual illustration is $W = 5$, $F = 2$, $S = 2$, $P = 1$ (naive 4, PyTorch 3).",
        sources=("torch-maxpool2d", "onnx-maxpool"),
    )


def _ceil_conv() -> Erratum:
    W, F, S = _pos("W", "F", "S")
    P = sympy.Symbol("P", integer=True, nonnegative=True)
    return refute(
        "ceil_conv_output",
        "Ceiling instead of floor for PyTorch convolution outputs",
        stated_in="articles quoting the convolution output size with rounding up",
        quote="O = ceil((W + 2P - F)/S) + 1",
        claimed=sympy.ceiling((W + 2 * P - F) / S) + 1,
        correct=_conv.conv_output_size(W, F, S, P),
        grid=Grid(dict(W=_R(1, 40), F=_R(1, 7), S=_R(1, 5), P=_R(0, 4))).such_that(
            lambda g: g["W"] + 2 * g["P"] >= g["F"], "W + 2P >= F"),
        agrees_when="$S$ divides $W + 2P - F$",
        condition=sympy.Eq(sympy.Mod(W + 2 * P - F, S), 0),
        notes=r"TensorFlow's 'round up' rule applies to $\lceil (W - F + 1)/S \rceil$ (VALID) and "
        r"$\lceil W/S \rceil$ (SAME), not to $(W + 2P - F)/S + 1$ (derivation valid_ceil_form).",
        sources=("torch-conv2d", "tf-padding"),
    )


def _layers_of(net) -> list:
    return [(d["k"], d["s"]) for d in net]


def _own_stride(layers) -> list:
    """The claimed recursion, layer by layer: r grows by (k - 1) times the layer's own stride."""
    r, out = 1, []
    for kk, ss in _layers_of(layers):
        r += (kk - 1) * ss
        out.append(r)
    return out


def _engine_sizes(layers) -> list:
    state, out = INPUT_AXIS, []
    for kk, ss in _layers_of(layers):
        state = apply_axis(state, AxisMap("window", sympy.Integer(kk), sympy.Integer(ss), 0))
        out.append(int(state.size))
    return out


def _rf_own_stride() -> Erratum:
    """Receptive field with each layer's own stride instead of the cumulative jump (1-3 layers)."""
    k_l, s_l, J = _pos("k_l", "s_l", "J_l")
    r = sympy.Symbol("r", integer=True, positive=True)
    condition = sympy.Eq((k_l - 1) * (s_l - J), 0)

    def agrees(layers) -> bool:
        state, ok = INPUT_AXIS, True
        for kk, ss in _layers_of(layers):
            ok &= bool(condition.subs({k_l: kk, s_l: ss, J: state.jump}))
            state = apply_axis(state, AxisMap("window", sympy.Integer(kk), sympy.Integer(ss), 0))
        return ok

    import itertools

    nets = [[{"k": kk, "s": ss} for kk, ss in net] for L in (1, 2, 3)
            for net in itertools.product(itertools.product(_R(1, 3), _R(1, 3)), repeat=L)]
    return refute(
        "rf_own_stride",
        "Receptive-field recursion with the layer's own stride",
        stated_in="receptive-field explanations that grow r by (k - 1) times the layer's stride",
        quote="r_out = r_in + (k - 1) * s",
        claimed=_own_stride,
        correct=_engine_sizes,
        grid=Grid(dict(layers=nets)).described("networks of 1-3 layers, k 1..3, s 1..3 (every layer compared)"),
        agrees_when=r"layer by layer exactly when $s_l = \prod_{i<l} s_i$ wherever $k_l > 1$ (e.g. all strides 1)",
        condition=agrees,
        shown=(r + (k_l - 1) * s_l, apply_axis(AxisState(r, J, sympy.Integer(0)), AxisMap("window", k_l, s_l, 0)).size,
               condition),
        order=lambda row: (len(row["layers"]), sum(sum(x.values()) for x in row["layers"]),
                           _layers_of(row["layers"])),
        notes=r"Correct: $r_{out} = r_{in} + (k - 1) j_{in}$ with $j_{in} = \prod_{i<l} s_i$, the product of the "
        "earlier strides (derivation receptive_field); the two-layer example, $3 \\times 3$ stride 2 then "
        r"$3 \times 3$, gives 3 then 7. Values are the receptive fields after each layer.",
        sources=("araujo2019", "hien2017"),
    )


def errata() -> list[Erratum]:
    """Every erratum, recomputed (search and verification run on each call)."""
    return [
        _same_stride(),
        _kernel_padding(),
        _transposed_offset(),
        _weight_count(),
        _vgg_bytes(),
        _rf_start_floor(),
        _ceil_pool(),
        _rf_own_stride(),
        _ceil_conv(),
    ]
