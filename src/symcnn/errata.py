"""Errata: published CNN-arithmetic formulas that are wrong, shown wrong by the engine.

Every entry is computed: the claimed formula and the engine's correct one are evaluated over a stated grid,
the smallest counterexample is found by search (grid points ordered by the sum of their values, then
lexicographically), and the condition under which the two agree is itself verified on the whole grid.

>>> from symcnn.errata import errata
>>> e = {x.name: x for x in errata()}
>>> e["transposed_offset"].counterexample
{'X': 1, 'F': 1, 'S': 3, 'P': 1}
>>> e["weight_count"].claimed_value, e["weight_count"].correct_value
(4, 3)
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import sympy

from ._analysis import analyze
from .layers import Conv2d, Dropout
from .layers import conv as _conv
from .layers import pool as _pool
from .layers import transposed as _tr
from .layers._base import AxisMap
from .present import show as _show
from .receptive import INPUT_AXIS, apply_axis

__all__ = ["Erratum", "errata"]


@dataclass(frozen=True)
class Erratum:
    """A published formula shown wrong.

    Attributes:
        name: stable identifier; title: one line; source: the kind of article that states it.
        claimed / correct: SymPy formulas (``correct`` comes from the engine).
        counterexample: the smallest grid point where they differ, with ``claimed_value``/``correct_value``.
        agrees_when: text and SymPy condition (``agrees_condition``) for the two to coincide, verified on the
            grid (``cases`` points, ``grid`` describes them).
        examples: quoted examples, each checked (``claimed``, ``correct``, ``differs``).
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

    def __repr__(self) -> str:
        return (
            f"<Erratum {self.name}: counterexample {self.counterexample}, "
            f"{'verified' if self.verified else 'NOT VERIFIED'}>"
        )

    def to_markdown(self) -> str:
        rows = [
            f"### {self.title}",
            "",
            f"*Source*: {self.source}",
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


def _close(a, b) -> bool:
    return abs(float(a) - float(b)) < 1e-9


def _search(
    name,
    title,
    source,
    claimed,
    correct,
    names: Sequence[str],
    ranges: dict,
    *,
    agrees_when: str,
    condition,
    valid: Callable[..., bool] = lambda **_: True,
    claimed_fn=None,
    correct_fn=None,
    cond_fn=None,
    examples=(),
    notes="",
    sources=(),
    grid_text="",
) -> Erratum:
    """Evaluate both formulas on the grid, smallest points first, and verify the agreement condition."""
    syms = [sympy.Symbol(n) for n in names]
    sym_of = {s.name: s for s in (claimed.free_symbols | correct.free_symbols | condition.free_symbols)}
    args = [sym_of.get(n, s) for n, s in zip(names, syms, strict=True)]
    fc = claimed_fn or sympy.lambdify(args, claimed, "math")
    fk = correct_fn or sympy.lambdify(args, correct, "math")
    fa = cond_fn or sympy.lambdify(args, condition, "math")
    points = [
        p for p in itertools.product(*(ranges[n] for n in names)) if valid(**dict(zip(names, p, strict=True)))
    ]
    points.sort(key=lambda p: (sum(p), p))
    first, bad = None, 0
    for p in points:
        a, b = fc(*p), fk(*p)
        same = _close(a, b)
        if not same and first is None:
            first = (dict(zip(names, p, strict=True)), a, b)
        if bool(fa(*p)) != same:
            bad += 1
    checked = []
    for ex in examples:
        p = tuple(ex[n] for n in names)
        a, b = fc(*p), fk(*p)
        checked.append({**ex, "claimed": _num(a), "correct": _num(b), "differs": not _close(a, b)})
    ce, va, vb = first if first else (None, None, None)
    return Erratum(
        name,
        title,
        source,
        claimed,
        correct,
        ce,
        _num(va),
        _num(vb),
        agrees_when,
        condition,
        grid_text,
        len(points),
        bad,
        first is not None and bad == 0 and all(c["differs"] for c in checked),
        tuple(checked),
        notes,
        tuple(sources),
    )


def _num(v):
    if v is None:
        return None
    v = float(v) if not isinstance(v, int) else v
    return (
        int(v)
        if isinstance(v, float) and v.is_integer()
        else (float(f"{v:.10g}") if isinstance(v, float) else v)
    )


def _R(a, b):
    return range(a, b + 1)


_STD = "n or W 1..40, F 1..7, S 1..5, P 0..4"


def _same_stride() -> Erratum:
    n, F, S = sympy.symbols("n F S", integer=True, positive=True)
    claimed = ((n - 1) / S - n + F) / 2
    correct = ((n - 1) * S - n + F) / 2

    def correct_fn(n_, F_, S_):
        # from the engine: the minimal total padding T with conv_output_size(n, F, S, ., .) = n, halved
        T = 0
        while _conv.conv_output_size(n_, F_, S_, T // 2, T - T // 2) < n_:
            T += 1
        assert T == (n_ - 1) * S_ - n_ + F_ or (n_ - 1) * S_ - n_ + F_ < 0
        return ((n_ - 1) * S_ - n_ + F_) / 2

    return _search(
        "same_stride_formula",
        "SAME padding with stride: (n-1)/S instead of (n-1)*S",
        "tutorial articles on output sizes ('same padding for stride S')",
        claimed,
        correct,
        ["n", "F", "S"],
        {"n": _R(1, 40), "F": _R(1, 7), "S": _R(1, 5)},
        agrees_when="S = 1 or n = 1",
        condition=sympy.Or(sympy.Eq(S, 1), sympy.Eq(n, 1)),
        correct_fn=correct_fn,
        valid=lambda n, F, S: (n - 1) * S - n + F >= 0 and ((n - 1) * S - n + F) % 2 == 0,
        grid_text="n 1..40, F 1..7, S 1..5 where a symmetric integer padding keeps O = n",
        notes="Keeping O = n at stride S needs total padding (n-1)S - n + F (the engine's minimal T, "
        "checked); "
        "TensorFlow's SAME for S > 1 keeps ceil(n/S), not n (derivation same_padding).",
        sources=("FORMULAS.md §7.1", "WORKED-EXAMPLES.md 'Output size, VALID, SAME, FULL'"),
    )


def _kernel_padding() -> Erratum:
    F = sympy.Symbol("F", integer=True, positive=True)
    W = sympy.Symbol("W", integer=True, positive=True)
    claimed = sympy.ceiling(F / 2)
    correct = _conv.same_padding(W, F, 1)[0]  # stride 1: floor(D(F-1)/2) = (F-1)/2 for odd F
    table = {1: 0, 3: 1, 5: 3}
    wrong = {k: (v, int(correct.subs(F, k))) for k, v in table.items() if v != int(correct.subs(F, k))}
    return _search(
        "kernel_padding",
        "'kernel 5 -> padding 3': the rule P = ceil(F/2) instead of (F-1)/2",
        "tutorial tables of SAME paddings per kernel size",
        claimed,
        correct,
        ["F"],
        {"F": range(1, 16, 2)},
        agrees_when="never for odd F (always 1 too many)",
        condition=sympy.false,
        cond_fn=lambda F_: False,
        grid_text="odd F 1..15, stride 1",
        examples=({"F": 5},),
        notes=f"The quoted table {table} follows (F-1)/2 at kernels 1 and 3 and slips to the rule ceil(F/2) at "
        f"kernel 5, its only wrong entry: {wrong} (quoted, engine). As a rule, ceil(F/2) is one too many at "
        "every odd F (so the smallest counterexample of the rule is F = 1), and the output grows by 2.",
        sources=("FORMULAS.md §7.2", "WORKED-EXAMPLES.md 'Output size, VALID, SAME, FULL'"),
    )


def _transposed_offset() -> Erratum:
    X, F, S = sympy.symbols("X F S", integer=True, positive=True)
    P = sympy.Symbol("P", integer=True, nonnegative=True)
    claimed = sympy.Mod(X - 2 * P - F, S)
    # from the engine: what is missing after conv then transposed conv with output_padding 0
    correct = X - _tr.transposed_output_size(_conv.conv_output_size(X, F, S, P), F, S, P)
    return _search(
        "transposed_offset",
        "Transposed-conv offset (D_out - 2P - K) mod S: the sign of 2P",
        "articles on transposed convolution ('offset' / output_padding)",
        claimed,
        correct,
        ["X", "F", "S", "P"],
        {"X": _R(1, 40), "F": _R(1, 7), "S": _R(1, 5), "P": _R(0, 4)},
        agrees_when="S divides 4P (always for S in {1, 2, 4} or P = 0; for S = 3 only when 3 | P)",
        condition=sympy.Eq(sympy.Mod(4 * P, S), 0),
        valid=lambda X, F, S, P: X + 2 * P >= F,
        grid_text="X 1..40, F 1..7, S 1..5, P 0..4, X + 2P >= F",
        examples=({"X": 6, "F": 3, "S": 3, "P": 1},),
        notes="The engine's correct value is X - transposed(conv(X)) = (X + 2P - F) mod S (derivation "
        "transposed_offset).",
        sources=("FORMULAS.md §7.3", "WORKED-EXAMPLES.md 'Transposed convolution'"),
    )


def _weight_count() -> Erratum:
    Ci, k, Co = sympy.symbols("C_in k C_out", integer=True, positive=True)
    claimed = Ci * (k * k + 1) * Co
    correct = analyze(Conv2d(Ci, Co, k), (Ci, k, k)).params
    return _search(
        "weight_count",
        "Weight count 3x(3x3+1)x32 = 960: one bias per input channel",
        "articles on counting CNN parameters",
        claimed,
        correct,
        ["C_in", "k", "C_out"],
        {"C_in": _R(1, 8), "k": _R(1, 7), "C_out": _R(1, 64)},
        agrees_when="C_in = 1",
        condition=sympy.Eq(Ci, 1),
        grid_text="C_in 1..8, k 1..7, C_out 1..64",
        examples=({"C_in": 3, "k": 3, "C_out": 32},),
        notes="3 input channels, 32 kernels 3x3: (3*3*3 + 1)*32 = 896, not 960; the excess is (C_in - "
        "1) C_out.",
        sources=("FORMULAS.md §7.4", "WORKED-EXAMPLES.md 'Weights and FLOPs'"),
    )


def _vgg_bytes() -> Erratum:
    p = sympy.Symbol("params", integer=True, positive=True)
    claimed = 4 * p / 10**6
    correct = 4 * p / 2**20
    try:
        from .models import vgg16

        params = int(analyze(vgg16(), (3, 224, 224)).params)
    except ImportError:  # pragma: no cover - the models package ships with symcnn
        params = None
    dropout = int(analyze(Dropout(0.5), (4096,)).params)
    size = 4 * params
    notes = (
        f"VGG16 (engine): {params:,} parameters = {size:,} bytes = {size / 1e6:.1f} MB = "
        f"{size / 2**20:.1f} MiB. Dropout has {dropout} parameters (engine), so it cannot explain the gap; "
        "the smaller figure is the same size in MiB."
    )
    e = _search(
        "vgg16_megabytes",
        "VGG16's size: MB vs MiB, not dropout",
        "an article explaining the '540M' VGG16 file by dropout removing parameters",
        claimed,
        correct,
        ["params"],
        {"params": _R(1, 1000)},
        agrees_when="never for a nonzero size (10^6 != 2^20)",
        condition=sympy.Eq(p, 0),
        grid_text="params 1..1000, fp32",
        examples=({"params": params},),
        notes=notes,
        sources=("WORKED-EXAMPLES.md 'VGG16'", "FORMULAS.md §6.1 (torchvision vgg16 138,357,544)"),
    )
    ok = e.verified and dropout == 0 and params == 138357544
    return Erratum(**{**e.__dict__, "verified": ok})


def _rf_start_floor() -> Erratum:
    n, k, s = sympy.symbols("n_in k s", integer=True, positive=True)
    p = sympy.Symbol("p", integer=True, nonnegative=True)
    n_out = _conv.conv_output_size(n, k, s, p)
    actual = (n_out - 1) * s - n + k
    claimed = (k - 1) / sympy.Integer(2) - sympy.floor(actual / 2)
    correct = apply_axis(INPUT_AXIS, AxisMap("window", k, s, p)).start  # engine: (k-1)/2 - p
    return _search(
        "rf_start_floor",
        "Receptive-field start from pL = floor(actualP/2)",
        "the widely copied receptive-field code (outFromIn) of a 2017 receptive-field guide",
        claimed,
        correct,
        ["n_in", "k", "s", "p"],
        {"n_in": _R(1, 40), "k": _R(1, 7), "s": _R(1, 5), "p": _R(0, 4)},
        agrees_when="(n_in + 2p - k) mod s = 0 (always for s = 1)",
        condition=sympy.Eq(sympy.Mod(n + 2 * p - k, s), 0),
        valid=lambda n_in, k, s, p: n_in + 2 * p >= k,
        grid_text="n_in 1..40, k 1..7, s 1..5, p 0..4, n_in + 2p >= k",
        examples=({"n_in": 6, "k": 3, "s": 2, "p": 1}, {"n_in": 8, "k": 3, "s": 2, "p": 0}),
        notes="The code takes the left padding as floor(actualP/2), actualP = (n_out - 1)s - n_in + k = "
        "2p - ((n_in + 2p - k) mod s); the real left padding is p. Offsets shown relative to start_in, "
        "jump 1 (first layer).",
        sources=("FORMULAS.md §4.3",),
    )


def _ceil_pool() -> Erratum:
    W, F, S = sympy.symbols("W F S", integer=True, positive=True)
    P = sympy.Symbol("P", integer=True, nonnegative=True)
    claimed = sympy.ceiling((W + 2 * P - F) / S) + 1
    correct = _pool.pool_output_size(W, F, S, P, ceil_mode=True)
    return _search(
        "ceil_mode_naive",
        "ceil_mode pooling as a plain ceil",
        "articles and code computing ceil_mode pooling sizes as ceil((W + 2P - F)/S) + 1",
        claimed,
        correct,
        ["W", "F", "S", "P"],
        {"W": _R(1, 40), "F": _R(1, 7), "S": _R(1, 5), "P": _R(0, 4)},
        agrees_when="the last window starts inside the input or the left padding: "
        "S*ceil((W + 2P - F)/S) <= W + P - 1",
        condition=sympy.Le(S * sympy.ceiling((W + 2 * P - F) / S), W + P - 1),
        valid=lambda W, F, S, P: 2 * P <= F and W + 2 * P + S - 1 >= F,
        grid_text="W 1..40, F 1..7, S 1..5, P 0..4 with P <= F/2 (PyTorch) and an output",
        examples=({"W": 5, "F": 2, "S": 2, "P": 1},),
        notes="The smallest case is a kernel-1 stride-2 pool on 2 inputs (the second window would start past "
        "the input); the usual illustration is W=5, F=2, S=2, P=1 (naive 4, PyTorch 3).",
        sources=("FORMULAS.md §2.4, §7.5", "FORMULAS.md §9 R11"),
    )


def _ceil_conv() -> Erratum:
    W, F, S = sympy.symbols("W F S", integer=True, positive=True)
    P = sympy.Symbol("P", integer=True, nonnegative=True)
    claimed = sympy.ceiling((W + 2 * P - F) / S) + 1
    correct = _conv.conv_output_size(W, F, S, P)
    return _search(
        "ceil_conv_output",
        "ceil instead of floor for PyTorch convolution outputs",
        "articles quoting the output size with rounding up",
        claimed,
        correct,
        ["W", "F", "S", "P"],
        {"W": _R(1, 40), "F": _R(1, 7), "S": _R(1, 5), "P": _R(0, 4)},
        agrees_when="S divides W + 2P - F",
        condition=sympy.Eq(sympy.Mod(W + 2 * P - F, S), 0),
        valid=lambda W, F, S, P: W + 2 * P >= F,
        grid_text=_STD + ", W + 2P >= F",
        notes="TensorFlow's 'round up' rule applies to ceil((W - F + 1)/S) (VALID) and ceil(W/S) "
        "(SAME), not to "
        "(W + 2P - F)/S + 1 (derivation valid_ceil_form).",
        sources=("FORMULAS.md §7.5", "WORKED-EXAMPLES.md 'Output size, VALID, SAME, FULL'"),
    )


def _rf_own_stride() -> Erratum:
    """Receptive field with each layer's own stride instead of the cumulative jump (1-3 layers)."""
    k_l, s_l, J = sympy.symbols("k_l s_l J_l", integer=True, positive=True)
    r = sympy.Symbol("r", integer=True, positive=True)
    claimed = r + (k_l - 1) * s_l
    correct = apply_axis(INPUT_AXIS.__class__(r, J, sympy.Integer(0)), AxisMap("window", k_l, s_l, 0)).size
    condition = sympy.Eq((k_l - 1) * (s_l - J), 0)
    nets = [
        net for L in (1, 2, 3) for net in itertools.product(itertools.product(_R(1, 3), _R(1, 3)), repeat=L)
    ]
    nets.sort(key=lambda net: (len(net), sum(map(sum, net)), net))
    first, bad = None, 0
    for net in nets:
        rc = sympy.Integer(1)
        state = INPUT_AXIS
        same = cond = True
        for kk, ss in net:
            cond &= bool(condition.subs({k_l: kk, s_l: ss, J: state.jump}))
            rc = rc + (kk - 1) * ss
            state = apply_axis(state, AxisMap("window", sympy.Integer(kk), sympy.Integer(ss), 0))
            same &= rc == state.size
        if not same and first is None:
            first = ({"layers": [{"k": kk, "s": ss} for kk, ss in net]}, int(rc), int(state.size))
        bad += same != cond
    ce, a, b = first
    return Erratum(
        "rf_own_stride",
        "Receptive-field recursion with the layer's own stride",
        "receptive-field explanations that grow r by (k - 1) times the layer's stride",
        claimed,
        correct,
        ce,
        a,
        b,
        "layer by layer iff s_l = prod_{i<l} s_i wherever k_l > 1 (e.g. all strides 1)",
        condition,
        "networks of 1-3 layers, k 1..3, s 1..3 (every layer compared)",
        len(nets),
        bad,
        bad == 0,
        notes="Correct: r_out = r_in + (k - 1) j_in with j_in = prod of the earlier strides (derivation "
        "receptive_field); the two-layer example 3x3/2 then 3x3 gives 3 then 7.",
        sources=("FORMULAS.md §7.5", "WORKED-EXAMPLES.md 'Receptive field'"),
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
