"""Solvers (symcnn.solve): closed forms and solution lists against brute force by forward analysis."""

from __future__ import annotations

import itertools
import math

import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symcnn as sc
from symcnn import SymcnnError
from symcnn.solve import (
    InputSizes,
    OutputPaddings,
    Progression,
    Solutions,
    mirror_output_padding,
    solve,
    valid_input_sizes,
)

F, S, P, D = sc.F, sc.S, sc.P, sc.D
OP = sc.symbols("OP", nonnegative=True)
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- networks built here (independent of symcnn.models) -----------------------------------------------------


def unet(dims=2, channels=1, base=4, classes=2):
    """Original U-Net: valid 3x3 convs (2 per level), four 2x2 max-pools, 2x2/2 up-convs, CropConcat skips."""
    conv = {1: sc.Conv1d, 2: sc.Conv2d}[dims]
    pool = {1: sc.MaxPool1d, 2: sc.MaxPool2d}[dims]
    up = {1: sc.ConvTranspose1d, 2: sc.ConvTranspose2d}[dims]
    x = sc.Input()

    def block(h, cin, cout):
        h = sc.ReLU()(conv(cin, cout, 3)(h))
        return sc.ReLU()(conv(cout, cout, 3)(h))

    h, ch, skips = x, channels, []
    for i in range(4):
        h = block(h, ch, base * 2**i)
        ch = base * 2**i
        skips.append(h)
        h = pool(2)(h)
    h = block(h, ch, 2 * ch)
    ch *= 2
    for i in reversed(range(4)):
        u = up(ch, ch // 2, 2, stride=2)(h)
        h = block(sc.CropConcat()(skips[i], u), ch, ch // 2)
        ch //= 2
    return sc.Graph(x, conv(ch, classes, 1)(h))


def fpn(dims=1):
    """ResNet-like backbone (stride-2 stages), FPN top-down path: upsample x2 + add of lateral 1x1 convs."""
    conv = {1: sc.Conv1d, 2: sc.Conv2d}[dims]
    x = sc.Input()
    h = conv(3, 8, 7, stride=2, padding=3)(x)
    h = {1: sc.MaxPool1d, 2: sc.MaxPool2d}[dims](3, stride=2, padding=1)(h)
    feats = []
    for _ in range(4):
        h = conv(8, 8, 3, stride=2, padding=1)(h)
        feats.append(h)
    top = conv(8, 4, 1)(feats[-1])
    for f in reversed(feats[:-1]):
        top = sc.Add()(sc.Upsample(scale_factor=2)(top), conv(8, 4, 1)(f))
    return sc.Graph(x, top)


def runs(model, shape) -> bool:
    try:
        sc.analyze(model, shape)
    except SymcnnError:
        return False
    return True


def exact_numeric(model, shape) -> bool:
    """Brute force of exactness: every conv/pool/upsample division of the numeric analysis is exact."""
    a = sc.analyze(model, shape)
    for r in a.layers:
        lay = r.layer
        w_in = [int(v) for v in tuple(r.input_shape)[1:]]
        if isinstance(lay, (sc.ConvTranspose1d, sc.ConvTranspose2d)):
            continue
        if hasattr(lay, "kernel_size") and hasattr(lay, "stride"):
            for w, k, s, d, (pl, pr) in zip(
                w_in, lay.kernel_size, lay.stride, lay.dilation, lay.padding, strict=True
            ):
                if (w + pl + pr - (d * (k - 1) + 1)) % s:
                    return False
    return True


# --- the contract examples ----------------------------------------------------------------------------------


def test_padding_of_resnet_stem():
    r = solve(
        sc.Conv2d(3, 64, kernel_size=7, stride=2, padding=P),
        input_shape=(3, 224, 224),
        output_shape=(64, 112, 112),
    )
    assert [dict(s) for s in r] == [{P: 3}]
    assert r.closed_form == sympy.Eq(P, 3)
    assert r.exact_set and "P=3" in repr(r)


def brute_single(layer_fn, unknowns, rng, input_shape, target):
    out = []
    for values in itertools.product(*(range(lo, hi + 1) for lo, hi in (rng[u] for u in unknowns))):
        point = dict(zip(unknowns, values, strict=True))
        try:
            a = sc.analyze(layer_fn(point), input_shape)
        except SymcnnError:
            continue
        if all(t is None or o == t for o, t in zip(a.output_shape, target, strict=True)):
            out.append(point)
    return out


def test_kernel_stride_padding_triples_equal_brute_force():
    bounds = {F: (1, 11), S: (1, 4), P: (0, 5)}
    r = solve(
        sc.Conv2d(3, 64, kernel_size=F, stride=S, padding=P), (3, 224, 224), (64, 112, 112), bounds=bounds
    )
    want = brute_single(
        lambda v: sc.Conv2d(3, 64, v[F], v[S], v[P]), (F, S, P), bounds, (3, 224, 224), (64, 112, 112)
    )
    assert list(r) == sorted(want, key=lambda d: (d[F], d[S], d[P]))
    assert len(r) == 11 and all(s[S] == 2 and s[P] == (s[F] - 1) // 2 for s in r)


def test_symbolic_closed_forms_match_formulas_section_8():
    W, O = sc.W, sc.symbols("O")
    r = solve(sc.Conv1d(1, 1, F, stride=S, padding=P, dilation=D), (1, W), (1, O), unknowns=[P])
    lo = sc.ceildiv((O - 1) * S - W + D * (F - 1) + 1, 2)
    hi = sc.floordiv(O * S - 1 - W + D * (F - 1) + 1, 2)
    rel = {type(a): a for a in r.closed_form.args}
    upper, lower = (
        rel[sympy.LessThan].rhs,
        rel[sympy.GreaterThan].rhs,
    )  # lower: Max(kernel fit, FORMULAS bound)
    for vals in itertools.product((3, 10), (1, 4), (1, 2), (1, 3), (1, 5)):
        m = dict(zip((W, F, S, D, O), map(sympy.Integer, vals), strict=True))
        assert upper.xreplace(m) == hi.xreplace(m)
        assert lower.xreplace(m) == max(lo.xreplace(m), sc.ceildiv(m[D] * (m[F] - 1) + 1 - m[W], 2))
    for w, f, s, d, o in itertools.product((5, 9, 16), (1, 3, 4), (1, 2, 3), (1, 2), (1, 3, 6)):
        got = [
            x[P]
            for x in solve(
                sc.Conv1d(1, 1, f, stride=s, padding=P, dilation=d), (1, w), (1, o), bounds={P: (0, 12)}
            )
        ]
        want = [
            p
            for p in range(13)
            if (w + 2 * p - d * (f - 1) - 1) >= 0 and (w + 2 * p - d * (f - 1) - 1) // s + 1 == o
        ]
        assert got == want
    # stride: N//O + 1 <= S <= N//(O - 1)
    for n, o in itertools.product(range(0, 30), range(2, 6)):
        r = solve(sc.Conv1d(1, 1, 1, stride=S), (1, n + 1), (1, o), bounds={S: (1, 40)})
        assert [x[S] for x in r] == list(range(n // o + 1, n // (o - 1) + 1))


def test_output_padding_and_transposed():
    r = solve(sc.ConvTranspose1d(1, 1, 3, stride=2, padding=1, output_padding=OP), (1, 7), (1, 14))
    assert list(r) == [{OP: 1}] and r.exact_set
    r = solve(sc.ConvTranspose1d(1, 1, 3, stride=2, padding=1, output_padding=OP), (1, 7), (1, 15))
    assert not r and "max(`stride`, `dilation`)" in r.reason
    assert r.nearest[0][0] in ((1, 14), (1, 13))


def test_no_solution_names_constraint_and_nearest_targets():
    r = solve(sc.Conv1d(1, 1, 4, padding=P), (1, 10), (1, 10))
    assert not r and len(r) == 0
    assert "2*P + 7 = 10 never holds" in r.reason
    assert {o for o, _ in r.nearest[:2]} == {(1, 9), (1, 11)}
    r = solve(sc.MaxPool1d(3, stride=2, padding=P, ceil_mode=True), (1, 10), (1, 9))
    assert "at most half of `kernel_size`" in r.reason and r.nearest[0][0] == (1, 6)


def test_network_merges_and_several_unknowns():
    """A residual block with unknown kernel and padding in one branch: the add forces same padding."""
    P1, P2 = sc.symbols("P1 P2", nonnegative=True)
    F1, F2 = sc.symbols("F1 F2")
    x = sc.Input()
    y = sc.Conv1d(2, 2, F1, padding=P1)(x)
    y = sc.Conv1d(2, 2, F2, padding=P2)(y)
    g = sc.Graph(x, sc.Add()(y, x))
    bounds = {F1: (1, 5), F2: (1, 5), P1: (0, 3), P2: (0, 3)}
    r = solve(g, (2, 12), (2, 12), bounds=bounds)

    def build(v):
        x = sc.Input()
        y = sc.Conv1d(2, 2, v[F1], padding=v[P1])(x)
        y = sc.Conv1d(2, 2, v[F2], padding=v[P2])(y)
        return sc.Graph(x, sc.Add()(y, x))

    want = brute_single(build, r.unknowns, bounds, (2, 12), (2, 12))
    assert sorted(map(lambda d: tuple(d.values()), r)) == sorted(
        tuple(d[u] for u in r.unknowns) for d in want
    )
    assert all(s[F1] + s[F2] - 2 == 2 * (s[P1] + s[P2]) for s in r)


def test_unet_paddings_so_skips_line_up_without_crop():
    """Choose the padding of the level-1 conv so the U-Net skip lines up without cropping."""
    Pa = sc.symbols("Pa", nonnegative=True)
    x = sc.Input()
    h1 = sc.Conv1d(1, 4, 3, padding=Pa)(x)
    h = sc.MaxPool1d(2)(h1)
    h = sc.Conv1d(4, 8, 3, padding=1)(h)
    u = sc.ConvTranspose1d(8, 4, 2, stride=2)(h)
    out = sc.Concat()(h1, u)
    r = solve(sc.Graph(x, out), (1, 64), (8, 64))
    assert list(r) == [{Pa: 1}]


# --- Hypothesis: solver set == brute-force set --------------------------------------------------------------

LAYERS = ("conv1d", "conv2d", "maxpool_ceil", "maxpool", "convT")


@st.composite
def single_layer_problems(draw):
    kind = draw(st.sampled_from(LAYERS))
    fixed = {
        "F": draw(st.integers(1, 5)),
        "S": draw(st.integers(1, 3)),
        "P": draw(st.integers(0, 2)),
        "D": draw(st.integers(1, 2)),
        "OP": draw(st.integers(0, 1)),
    }
    names = ["F", "S", "P", "D"] + (["OP"] if kind == "convT" else [])
    chosen = draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True))
    w = draw(st.integers(1, 14))
    target = draw(st.integers(1, 14))
    highs = {
        "F": draw(st.integers(1, 6)),
        "S": draw(st.integers(1, 4)),
        "P": draw(st.integers(0, 4)),
        "D": draw(st.integers(1, 3)),
        "OP": draw(st.integers(0, 3)),
    }
    return kind, fixed, chosen, w, target, highs


SYMS = {"F": F, "S": S, "P": P, "D": D, "OP": OP}
MINS = {"F": 1, "S": 1, "P": 0, "D": 1, "OP": 0}


def make_layer(kind, v):
    if kind == "conv1d":
        return sc.Conv1d(1, 1, v["F"], stride=v["S"], padding=v["P"], dilation=v["D"])
    if kind == "conv2d":
        return sc.Conv2d(1, 1, (v["F"], 3), stride=(v["S"], 1), padding=(v["P"], 1), dilation=(v["D"], 1))
    if kind in ("maxpool_ceil", "maxpool"):
        return sc.MaxPool1d(
            v["F"], stride=v["S"], padding=v["P"], dilation=v["D"], ceil_mode=kind == "maxpool_ceil"
        )
    return sc.ConvTranspose1d(
        1, 1, v["F"], stride=v["S"], padding=v["P"], dilation=v["D"], output_padding=v["OP"]
    )


@FAST
@given(single_layer_problems())
def test_single_layer_solver_equals_brute_force(problem):
    kind, fixed, chosen, w, target, highs = problem
    spec = {k: (SYMS[k] if k in chosen else fixed[k]) for k in fixed}
    shape = (1, w, 5) if kind == "conv2d" else (1, w)
    want_shape = (1, target, 5) if kind == "conv2d" else (1, target)
    bounds = {SYMS[k]: (MINS[k], highs[k]) for k in chosen}
    try:
        layer = make_layer(kind, spec)
    except SymcnnError:
        return  # symbolic construction refused (e.g. a fixed argument already invalid)
    try:
        r = solve(layer, shape, want_shape, bounds=bounds)
    except SymcnnError as e:
        assert "cannot be analysed" in str(e)
        return
    rng = {k: (MINS[k], highs[k]) for k in chosen}
    brute = []
    for values in itertools.product(*(range(lo, hi + 1) for lo, hi in rng.values())):
        v = dict(fixed, **dict(zip(rng, values, strict=True)))
        try:
            a = sc.analyze(make_layer(kind, v), shape)
        except SymcnnError:
            continue
        if tuple(a.output_shape) == want_shape:
            brute.append({SYMS[k]: v[k] for k in chosen})
    got = [dict(s) for s in r]
    key = lambda d: tuple(d[u] for u in r.unknowns)  # noqa: E731
    if r.exact_set:  # closed form without bounds: compare inside the box
        got = [s for s in got if all(lo <= s[u] <= hi for u, (lo, hi) in bounds.items())]
    assert sorted(got, key=key) == sorted(brute, key=key)
    for s in got:  # every returned solution re-checked by forward analysis
        v = dict(fixed, **{k: s[SYMS[k]] for k in chosen})
        assert tuple(sc.analyze(make_layer(kind, v), shape).output_shape) == want_shape


@st.composite
def small_networks(draw):
    layers = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(("conv", "pool", "pool_ceil", "convT")))
        k, s = draw(st.integers(1, 4)), draw(st.integers(1, 3))
        p = draw(st.integers(0, k // 2))
        if kind == "conv":
            layers.append(sc.Conv1d(2, 2, k, stride=s, padding=p, dilation=draw(st.integers(1, 2))))
        elif kind.startswith("pool"):
            layers.append(sc.MaxPool1d(k, stride=s, padding=p, ceil_mode=kind == "pool_ceil"))
        else:
            layers.append(
                sc.ConvTranspose1d(2, 2, k, stride=s, padding=p, output_padding=draw(st.integers(0, s - 1)))
            )
    if draw(st.booleans()):  # a residual / skip merge
        x = sc.Input()
        y = sc.Sequential(*layers)(x)
        z = sc.Conv1d(2, 2, draw(st.integers(1, 3)), stride=draw(st.integers(1, 2)))(x)
        return sc.Graph(x, sc.Concat()(y, z))  # Concat: Add's broadcasting of size 1 is not symbolic yet
    return sc.Sequential(*layers)


@FAST
@given(small_networks(), st.booleans())
def test_valid_input_sizes_equal_brute_force(net, exact):
    r = valid_input_sizes(net, between=(1, 60), exact=exact, input_shape=(2, sc.L))
    want = [w for w in range(1, 61) if runs(net, (2, w)) and (not exact or exact_numeric(net, (2, w)))]
    assert list(r) == want
    if r.periodic:  # the closed form agrees with the list
        assert [w for w in range(1, 61) if w in r] == want


# --- valid input sizes: U-Net, FPN, SPP ---------------------------------------------------------------------


def test_unet_valid_and_exact_sizes():
    net = unet()
    exact = valid_input_sizes(net, between=(32, 1024), exact=True)
    assert exact.progressions == (Progression(188, 16),)
    assert exact.describe() == "W ≡ 12 (mod 16), W >= 188"
    assert list(exact) == list(range(188, 1025, 16)) and 572 in exact
    assert all((w - 124) % 16 == 0 and (w - 124) // 16 >= 4 for w in exact)
    valid = valid_input_sizes(net, between=(32, 1024))
    assert valid.describe() == "W >= 188"  # crops make every W >= 188 run: larger than the exact set
    assert set(exact) < set(valid)
    assert sc.analyze(net, (1, 572, 572)).output_shape == (2, 388, 388)
    assert isinstance(exact.closed_form, sympy.Basic) and exact.closed_form.subs(sc.W, 572) == sympy.true


def test_unet_sizes_brute_force_1d():
    net = unet(dims=1)
    valid = valid_input_sizes(net, between=(150, 260))
    exact = valid_input_sizes(net, between=(150, 260), exact=True)
    assert list(valid) == [w for w in range(150, 261) if runs(net, (1, w))]
    assert list(exact) == [w for w in range(150, 261) if runs(net, (1, w)) and exact_numeric(net, (1, w))]


def test_unet_range_of_10k_sizes():
    r = valid_input_sizes(unet(), between=(1, 10_000), exact=True)
    assert len(r) == len(range(188, 10_001, 16))


def test_fpn_sizes_agree_at_every_add():
    net = fpn()
    r = valid_input_sizes(net, between=(100, 400))  # from 100: no add input of size 1 (broadcast, see report)
    want = [w for w in range(100, 401) if runs(net, (3, w))]
    # the adds broadcast as in PyTorch (an input of size 1 is valid): each add condition is a product
    # (a - b)*(b - 1) = 0, split into the union of its factors' conditions, each periodic
    assert list(r) == want and r.periodic
    # every stage size before an add is even, or the smaller input is 1 (broadcast: sizes 1..8)
    assert r.describe() == "L >= 1, L <= 8 or L mod 64 in {0, 57..63}, L >= 57"
    assert [w for w in range(1, 400) if w in r] == [w for w in range(1, 400) if runs(net, (3, w))]


def test_spatial_pyramid_pooling_sizes():
    net = sc.Sequential(sc.Conv2d(3, 8, 3), sc.SpatialPyramidPooling((4, 2, 1)))
    r = valid_input_sizes(net, between=(1, 80))
    assert not r.periodic  # the window and stride depend on the size
    assert list(r) == [w for w in range(1, 81) if runs(net, (3, w, w))]


def test_axis_and_input_shape():
    net = sc.Sequential(sc.Conv2d(1, 1, (3, 1), stride=(2, 1)))
    assert valid_input_sizes(net, between=(1, 9), axis=0, exact=True).sizes == [3, 5, 7, 9]
    assert valid_input_sizes(net, between=(1, 9), axis=-1, exact=True).sizes == list(range(1, 10))
    r = valid_input_sizes(net, between=(1, 9), input_shape=(1, sc.H, 7), axis=0)
    assert r.sizes == list(range(3, 10))


# --- mirrored decoders --------------------------------------------------------------------------------------


def test_mirror_output_padding_restores_every_stage():
    enc = sc.Sequential(*[sc.Conv2d(4, 4, 3, stride=2, padding=1) for _ in range(3)])
    dec = sc.Sequential(*[sc.ConvTranspose2d(4, 4, 3, stride=2, padding=1) for _ in range(3)])
    r = mirror_output_padding(enc, dec, (4, sc.H, sc.W))
    assert r.output_padding[-1] == (sympy.Mod(sc.H + 1, 2), sympy.Mod(sc.W + 1, 2))  # (W + 2 - 3) mod 2
    for h, w in itertools.product(range(1, 40, 3), range(1, 40, 5)):
        a = sc.analyze(enc, (4, h, w))
        stages = [tuple(rec.input_shape) for rec in a.layers]
        d = sc.analyze(r.decoder(H=h, W=w), a.output_shape)
        assert [tuple(rec.output_shape) for rec in d.layers] == stages[::-1]
        want = [tuple((x + 2 - 3) % 2 for x in s[1:]) for s in stages[::-1]]
        assert r.at(H=h, W=w) == want


def test_mirror_output_padding_with_pool_and_same_size_layers():
    enc = sc.Sequential(
        sc.Conv1d(2, 2, 3, padding=1), sc.MaxPool1d(3, stride=3), sc.Conv1d(2, 2, 5, stride=2)
    )
    dec = [sc.ConvTranspose1d(2, 2, 5, stride=2), sc.ReLU(), sc.ConvTranspose1d(2, 2, 3, stride=3)]
    r = mirror_output_padding(enc, dec, (2, sc.L))
    for n in range(21, 60):
        a = sc.analyze(enc, (2, n))
        d = sc.analyze(r.decoder(L=n), a.output_shape)
        assert d.output_shape == (2, n)


# --- errors and display -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: solve(sc.Conv1d(1, 1, 3, padding=P), (1, 10), (1, 10, 3)),
            r"`output_shape`=.*has 3 entries",
        ),
        (
            lambda: solve(sc.Conv1d(1, 1, 3, padding=P), (1, 10), (1, 0)),
            r"`output_shape` entry 0 must be >= 1",
        ),
        (
            lambda: solve(sc.Conv1d(1, 1, 3, padding=P), (1, 10), (1, 8), bounds={P: (-1, 3)}),
            r"`bounds`\[P\]=\(-1, 3\): P is non-negative, so low must be >= 0",
        ),
        (
            lambda: solve(sc.Conv1d(1, 1, 3, padding=P), (1, 10), (1, 8), bounds={P: (3, 1)}),
            r"`bounds`\[P\]=\(3, 1\) is empty",
        ),
        (
            lambda: solve(sc.Conv1d(1, 1, 3, padding=P), (1, 10), (1, 8), bounds={S: (1, 3)}),
            r"`bounds` key S is not an unknown .*unknowns: P",
        ),
        (
            lambda: solve(sc.Conv1d(1, 1, 3, padding=P), (1, 10), (1, 8), bounds={P: (0, 2.5)}),
            r"`bounds`\[P\]=\(0, 2.5\) must be a pair of ints",
        ),
        (
            lambda: solve(sc.Conv1d(1, 1, 3, padding=P), (1, 10), (1, 8), unknowns=[S]),
            r"`unknowns` entry S does not",
        ),
        (
            lambda: solve(
                sc.Conv1d(1, 1, F, stride=S, padding=P, dilation=D),
                (1, 10),
                (1, 8),
                bounds={F: (1, 400), S: (1, 400), P: (0, 400), D: (1, 400)},
            ),
            r"`bounds` span .* candidates",
        ),
        (lambda: valid_input_sizes(sc.Conv1d(1, 1, 3), between=(5, 1)), r"`between`=\(5, 1\) must satisfy"),
        (lambda: valid_input_sizes(sc.Conv1d(1, 1, 3), between=5), r"`between`=5 must be a pair of ints"),
        (lambda: valid_input_sizes(sc.Conv1d(1, 1, 3), axis=2), r"`axis`=2 must be an int in \[-1, 0\]"),
        (lambda: valid_input_sizes(sc.Conv1d(1, 1, 3), exact=1), r"`exact`=1 must be True or False"),
        (lambda: valid_input_sizes(sc.ReLU()), r"cannot infer the input shape .* pass `input_shape`"),
        (
            lambda: mirror_output_padding(sc.Conv1d(1, 1, 3, stride=2), [], (1, sc.L)),
            r"`decoder` has 0 transposed layer\(s\) but `encoder` has 1 stage",
        ),
        (lambda: mirror_output_padding(sc.Conv1d(1, 1, 3), "x", (1, sc.L)), r"`decoder` must be a layer"),
    ],
)
def test_error_messages(call, match):
    with pytest.raises(SymcnnError, match=match):
        call()


def test_reprs_for_notebooks():
    r = solve(sc.Conv2d(3, 64, kernel_size=7, stride=2, padding=P), (3, 224, 224), (64, 112, 112))
    assert isinstance(r, Solutions)
    assert repr(r).splitlines()[:3] == [
        "Solutions for (P) -> output (64, 112, 112): 1 found, all solutions (no bounds needed)",
        "  closed form: P = 3",
        "  P=3",
    ]
    assert "<table>" in r._repr_html_() and "| P |" in r._repr_markdown_()
    v = valid_input_sizes(unet(dims=1), between=(1, 400), exact=True)
    assert isinstance(v, InputSizes)
    assert repr(v).startswith(
        "InputSizes(exact (no pixel lost to rounding) input sizes L: L ≡ 12 (mod 16), L >= 188;"
    )
    assert "188" in v._repr_html_() and "188" in v._repr_markdown_()
    m = mirror_output_padding(
        sc.Conv1d(1, 1, 3, stride=2), [sc.ConvTranspose1d(1, 1, 3, stride=2)], (1, sc.L)
    )
    assert isinstance(m, OutputPaddings)
    assert "output_padding=((L + 1) mod 2,)" in repr(m) and "<table>" in m._repr_html_()
    assert "(L + 1) mod 2" in m._repr_markdown_()


def test_default_bounds_are_stated():
    r = solve(sc.Conv1d(1, 1, F, stride=2, padding=P), (1, 32), (1, 16))
    assert r.default_bounds == (F, P) and "(default)" in repr(r)
    assert all((32 + 2 * s[P] - s[F]) // 2 + 1 == 16 for s in r)


def test_models_unet_if_available():
    net = sc.models.unet()  # the zoo's 64-channel 2-D U-Net: same sizes as the small one built here
    r = valid_input_sizes(net, between=(32, 1024), exact=True)
    assert r.progressions == (Progression(188, 16),) and r.describe() == "W ≡ 12 (mod 16), W >= 188"
    assert 572 in r and 573 not in r and 556 in r and 172 not in r
    assert all((w - 124) % 16 == 0 and (w - 124) // 16 >= 4 for w in r)  # W = 16k + 124, k >= 4
    assert list(r) == list(valid_input_sizes(unet(), between=(32, 1024), exact=True))
    assert valid_input_sizes(net, between=(32, 1024)).describe() == "W >= 188"


def test_progression_helpers():
    p = Progression(188, 16)
    assert 572 in p and 573 not in p and 172 not in p
    assert list(p.values(180, 230)) == [188, 204, 220]
    assert math.gcd(p.step, 12) == 4


def test_never_exact_division_gives_no_exact_sizes():
    # (3W - 4) mod 3 = 2 for every W: the division folds to a constant, and no size is exact.
    net = sc.Sequential(sc.ConvTranspose1d(2, 2, 1, stride=3), sc.Conv1d(2, 2, 2, stride=3))
    assert list(sc.valid_input_sizes(net, between=(1, 60), exact=True)) == []
    assert list(sc.valid_input_sizes(net, between=(1, 60)))[:3] == [2, 3, 4]
