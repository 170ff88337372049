"""Properties of the solvers against brute force by the numeric analysis (issue 13): valid and exact input
sizes of random 1-D stacks (SAME padding at any stride, ceil_mode pools, integer and fractional upsampling,
transposed convolutions), and `solve` on random two-layer problems (every answer reproduces the target, no
solution of the grid is missed)."""

from __future__ import annotations

import itertools
from fractions import Fraction

from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

import symcnn as sc
from symcnn import SymcnnError
from symcnn.solve import solve, valid_input_sizes
from test_solve_regressions import exact_brute

PROPS = settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
SCALES = (2, 3, 0.5, 1.5, 0.25, Fraction(2, 3), Fraction(3, 4))


def runs(net, w: int) -> bool:
    try:
        sc.analyze(net, (1, w))
    except SymcnnError:
        return False
    return True


@st.composite
def stacks(draw):
    layers = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["conv", "same", "maxpool", "avgpool", "up", "tconv"]))
        k, s = draw(st.integers(1, 4)), draw(st.integers(1, 3))
        if kind == "conv":
            pad, dil = draw(st.integers(0, 2)), draw(st.integers(1, 2))
            layers.append(sc.Conv1d(1, 1, k, stride=s, padding=pad, dilation=dil))
        elif kind == "same":
            layers.append(sc.Conv1d(1, 1, k, stride=s, padding="tf_same"))
        elif kind in ("maxpool", "avgpool"):
            pool = sc.MaxPool1d if kind == "maxpool" else sc.AvgPool1d
            layers.append(pool(k, stride=s, padding=draw(st.integers(0, k // 2)), ceil_mode=draw(st.booleans())))
        elif kind == "up":
            layers.append(sc.Upsample(scale_factor=draw(st.sampled_from(SCALES))))
        else:
            layers.append(sc.ConvTranspose1d(1, 1, k, stride=s, padding=draw(st.integers(0, k - 1)),
                                             output_padding=draw(st.integers(0, s - 1))))
    return sc.Sequential(*layers)


@PROPS
@given(stacks(), st.booleans())
@example(sc.Sequential(sc.Conv1d(1, 1, 3, 2, "tf_same"), sc.Upsample(scale_factor=0.5)), True)  # issue 13, item 3
@example(sc.Sequential(sc.Conv1d(1, 1, 3), sc.Upsample(scale_factor=Fraction(2, 3))), False)
@example(sc.Sequential(sc.MaxPool1d(3, 2, 1, ceil_mode=True), sc.Upsample(scale_factor=0.25)), True)
def test_valid_and_exact_sizes_equal_brute_force(net, exact):
    r = valid_input_sizes(net, between=(1, 64), exact=exact, input_shape=(1, sc.L))
    want = [w for w in range(1, 65) if (exact_brute(net, w) if exact else runs(net, w))]
    assert list(r) == want
    if r.periodic:  # the closed form (progressions) says the same on the range
        assert [w for w in range(1, 65) if w in r] == want


# --- solve on random two-layer problems ----------------------------------------------------------------------

ROLE = {"k": (1, 4), "s": (1, 3), "p": (0, 2)}


def build(spec, values):
    """The network of ``spec`` ([(kind, {attr: int}), ...]) with ``values`` {(layer, attr): int or symbol}."""
    layers = []
    for i, (kind, attrs) in enumerate(spec):
        a = {name: values.get((i, name), v) for name, v in attrs.items()}
        if kind == "conv":
            layers.append(sc.Conv1d(1, 1, a["k"], stride=a["s"], padding=a["p"]))
        elif kind == "same":
            layers.append(sc.Conv1d(1, 1, a["k"], stride=a["s"], padding="tf_same"))
        elif kind == "pool":
            layers.append(sc.MaxPool1d(a["k"], stride=a["s"], ceil_mode=True))
        else:
            layers.append(sc.ConvTranspose1d(1, 1, a["k"], stride=a["s"], padding=a["p"]))
    return sc.Sequential(*layers)


@st.composite
def problems(draw):
    spec = []
    for _ in range(2):
        kind = draw(st.sampled_from(["conv", "same", "pool", "tconv"]))
        attrs = {"k": draw(st.integers(1, 4)), "s": draw(st.integers(1, 3))}
        if kind in ("conv", "tconv"):
            attrs["p"] = draw(st.integers(0, min(2, attrs["k"] - 1) if kind == "tconv" else 2))
        spec.append((kind, attrs))
    slots = [(i, name) for i, (_, attrs) in enumerate(spec) for name in attrs]
    unknown = draw(st.lists(st.sampled_from(slots), min_size=1, max_size=2, unique=True))
    return spec, unknown, draw(st.integers(6, 40))


@PROPS
@given(problems())
def test_solve_answers_reproduce_the_target_and_miss_nothing(problem):
    spec, unknown, w = problem
    truth = build(spec, {})
    assume(runs(truth, w))
    target = sc.analyze(truth, (1, w)).output_shape
    syms = {}
    for i, name in unknown:
        syms[(i, name)] = sc.symbols(f"{name.upper()}{i}", **({"nonnegative": True} if name == "p" else {}))
    try:
        r = solve(build(spec, syms), (1, w), target, bounds={syms[u]: ROLE[u[1]] for u in unknown})
    except SymcnnError as e:  # a model that cannot be analysed symbolically must say so, not crash
        assert "cannot be analysed" in str(e)
        return
    got = [tuple(s[syms[u]] for u in unknown) for s in r]
    for values in got:  # each answer, substituted, reproduces the target
        assert sc.analyze(build(spec, dict(zip(unknown, values, strict=True))), (1, w)).output_shape == target
    grid = itertools.product(*(range(ROLE[u[1]][0], ROLE[u[1]][1] + 1) for u in unknown))
    want = []
    for values in grid:  # brute force: nothing missed
        net = build(spec, dict(zip(unknown, values, strict=True)))
        try:
            if sc.analyze(net, (1, w)).output_shape == target:
                want.append(values)
        except SymcnnError:
            pass
    assert sorted(got) == want  # (the solver orders by role, then name)
