"""Counting conventions: ``count(model, shape, convention)`` must equal what each real tool prints.

Per-layer rules are proven on small networks built twice, in symcnn and by hand in PyTorch (every layer kind
with a rule, at two input sizes, one of them odd and non-square); whole-model totals on the zoo's torch twins
(``symcnn.to_torch``). The published torchvision figures appear only as expected values.
"""

from __future__ import annotations

import contextlib
import copy
import io
import logging
import warnings

import pytest
import sympy

import symcnn as sc
from symcnn import H, W

CONVENTIONS = ("torchvision", "flop_counter", "fvcore", "thop", "ptflops", "ptflops_aten", "torchinfo")
TOOL_MODULES = {"fvcore": "fvcore", "thop": "thop", "ptflops": "ptflops", "ptflops_aten": "ptflops",
                "torchinfo": "torchinfo"}


# --- running the real tools ------------------------------------------------------------------------------

@contextlib.contextmanager
def _quiet():
    """Tools warn (jit tracing, unsupported ops, deprecated APIs) and print: keep both out of the test run."""
    loggers = [logging.getLogger(n) for n in ("fvcore", "fvcore.nn.jit_analysis", "root")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def tool_total(convention: str, model, shape: tuple[int, ...]):
    """The total printed by the tool of ``convention`` for a torch ``model`` on one input of ``shape``."""
    torch = pytest.importorskip("torch")
    if convention in TOOL_MODULES:
        pytest.importorskip(TOOL_MODULES[convention])
    model = copy.deepcopy(model).eval()  # tools leave hooks and buffers behind; never share a model
    x = torch.randn(1, *shape)
    with _quiet(), torch.no_grad():
        if convention in ("torchvision", "flop_counter"):
            from torch.utils.flop_counter import FlopCounterMode

            mode = FlopCounterMode(display=False)
            with mode:
                model(x)
            flops = mode.get_total_flops()
            if convention == "flop_counter":
                return flops
            assert flops % 2 == 0
            return flops // 2
        if convention == "fvcore":
            from fvcore.nn import FlopCountAnalysis

            fca = FlopCountAnalysis(model, x)
            fca.unsupported_ops_warnings(False)
            fca.uncalled_modules_warnings(False)
            return fca.total()
        if convention == "thop":
            from thop import profile

            return profile(model, inputs=(x,), verbose=False)[0]
        if convention in ("ptflops", "ptflops_aten"):
            from ptflops import get_model_complexity_info

            backend = "aten" if convention == "ptflops_aten" else "pytorch"
            macs, _ = get_model_complexity_info(model, tuple(shape), as_strings=False, print_per_layer_stat=False,
                                                verbose=False, backend=backend)
            assert macs is not None, f"ptflops ({backend}) failed on the model"
            return macs
        if convention == "torchinfo":
            from torchinfo import summary

            return summary(model, input_size=(1, *shape), verbose=0).total_mult_adds
    raise AssertionError(convention)


def _exact(value) -> int:
    """A tool's number as an int (thop returns a float): it must be integral."""
    assert float(value).is_integer(), value
    return int(value)


# --- the small twin networks, written independently in symcnn and in PyTorch ----------------------------

def _plain_pair():
    """Every single-input layer kind with a rule, in one chain (input 3 x H x W)."""
    nn = pytest.importorskip("torch").nn
    pairs = [
        (sc.Conv2d(3, 8, 3, padding=1), nn.Conv2d(3, 8, 3, padding=1)),
        (sc.BatchNorm2d(8), nn.BatchNorm2d(8)),
        (sc.ReLU(), nn.ReLU()),
        (sc.MaxPool2d(2), nn.MaxPool2d(2)),
        (sc.ZeroPad2d((1, 0, 2, 1)), nn.ZeroPad2d((1, 0, 2, 1))),
        (sc.Conv2d(8, 16, 3, stride=2, groups=2, bias=False), nn.Conv2d(8, 16, 3, 2, groups=2, bias=False)),
        (sc.BatchNorm2d(16, affine=False), nn.BatchNorm2d(16, affine=False)),
        (sc.ReLU6(), nn.ReLU6()),
        (sc.AvgPool2d(3, stride=2, padding=1, ceil_mode=True), nn.AvgPool2d(3, 2, 1, ceil_mode=True)),
        (sc.Conv2d(16, 16, 3, padding=1, groups=16), nn.Conv2d(16, 16, 3, padding=1, groups=16)),
        (sc.LeakyReLU(), nn.LeakyReLU()),
        (sc.ELU(), nn.ELU()),
        (sc.GELU(), nn.GELU()),
        (sc.SiLU(), nn.SiLU()),
        (sc.PReLU(16), nn.PReLU(16)),
        (sc.Hardswish(), nn.Hardswish()),
        (sc.Sigmoid(), nn.Sigmoid()),
        (sc.Tanh(), nn.Tanh()),
        (sc.Dropout(0.5), nn.Dropout(0.5)),
        (sc.AdaptiveAvgPool2d((3, 2)), nn.AdaptiveAvgPool2d((3, 2))),
        (sc.Flatten(), nn.Flatten()),
        (sc.Linear(96, 10), nn.Linear(96, 10)),
        (sc.BatchNorm1d(10), nn.BatchNorm1d(10)),
        (sc.Softmax(dim=1), nn.Softmax(dim=1)),
    ]
    return sc.Sequential(*(s for s, _ in pairs)), nn.Sequential(*(t for _, t in pairs))


def _graph_pair():
    """Residual add, concatenation, upsampling (three ways), transposed conv, adaptive max pooling."""
    torch = pytest.importorskip("torch")
    nn = torch.nn

    x = sc.Input()
    y = sc.ReLU()(sc.BatchNorm2d(8)(sc.Conv2d(3, 8, 3, padding=1)(x)))
    b = sc.Add()(sc.Conv2d(8, 8, 3, padding=1, bias=False)(y), y)
    c = sc.Concat()(b, y)
    up = sc.UpsamplingNearest2d(scale_factor=2)(c)
    up2 = sc.Upsample(scale_factor=2, mode="bilinear")(c)
    up3 = sc.Upsample(scale_factor=2, mode="nearest")(c)
    d = sc.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=1)(c)
    e = sc.Concat()(up, up2, up3, d)
    f = sc.Conv2d(56, 8, 1)(e)
    g = sc.Linear(8, 5, bias=False)(sc.Flatten()(sc.AdaptiveMaxPool2d(1)(sc.MaxPool2d(2)(f))))
    symcnn_net = sc.Graph(x, g)

    class Twin(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3, padding=1)
            self.bn = nn.BatchNorm2d(8)
            self.relu = nn.ReLU()
            self.conv2 = nn.Conv2d(8, 8, 3, padding=1, bias=False)
            self.up = nn.UpsamplingNearest2d(scale_factor=2)
            self.up2 = nn.Upsample(scale_factor=2, mode="bilinear")
            self.up3 = nn.Upsample(scale_factor=2, mode="nearest")
            self.deconv = nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=1)
            self.conv3 = nn.Conv2d(56, 8, 1)
            self.pool = nn.MaxPool2d(2)
            self.gmax = nn.AdaptiveMaxPool2d(1)
            self.flatten = nn.Flatten()
            self.fc = nn.Linear(8, 5, bias=False)

        def forward(self, x):
            y = self.relu(self.bn(self.conv(x)))
            b = self.conv2(y) + y
            c = torch.cat((b, y), 1)
            e = torch.cat((self.up(c), self.up2(c), self.up3(c), self.deconv(c)), 1)
            return self.fc(self.flatten(self.gmax(self.pool(self.conv3(e)))))

    return symcnn_net, Twin()


PAIRS = {"plain": _plain_pair, "graph": _graph_pair}
SIZES = ((32, 32), (29, 37))


@pytest.fixture(scope="module")
def pairs():
    return {name: build() for name, build in PAIRS.items()}


@pytest.mark.parametrize("convention", CONVENTIONS)
@pytest.mark.parametrize("name", sorted(PAIRS))
def test_per_layer_rules_match_the_tool(pairs, name, convention):
    """The symbolic count, substituted at two sizes, equals the tool's total on the hand-written twin."""
    symcnn_net, torch_net = pairs[name]
    closed = sc.count(symcnn_net, (3, H, W), convention)
    assert closed.free_symbols <= {H, W}
    for h, w in SIZES:
        expected = _exact(tool_total(convention, torch_net, (3, h, w)))
        assert closed.xreplace({H: h, W: w}) == expected, (name, convention, (h, w))
        assert sc.count(symcnn_net, (3, h, w), convention) == expected


def test_the_conventions_disagree_where_the_rules_differ(pairs):
    """The twins exercise every difference: all seven totals are distinct on the graph network."""
    symcnn_net, _ = pairs["graph"]
    totals = {c: sc.count(symcnn_net, (3, 32, 32), c) for c in CONVENTIONS}
    assert len(set(totals.values())) == len(CONVENTIONS), totals
    assert totals["flop_counter"] == 2 * totals["torchvision"]
    assert totals["torchvision"] == sc.analyze(symcnn_net, (3, 32, 32)).macs


# --- single-layer rules, against the tool and against the FORMULAS.md section 5.2 measurements ------------

TABLE_5_2 = [  # layer, torch constructor, input 4x10x10 (Linear: 100), {convention: published count}
    ("conv_bias", lambda nn: nn.Conv2d(4, 8, 3, padding=1), sc.Conv2d(4, 8, 3, padding=1), (4, 10, 10),
     {"flop_counter": 57600, "fvcore": 28800, "thop": 28800, "ptflops": 29600, "ptflops_aten": 29600}),
    ("deconv_s2", lambda nn: nn.ConvTranspose2d(4, 8, 3, stride=2, padding=1, output_padding=1, bias=False),
     sc.ConvTranspose2d(4, 8, 3, stride=2, padding=1, output_padding=1, bias=False), (4, 10, 10),
     {"flop_counter": 57600, "fvcore": 28800, "thop": 115200, "ptflops": 28800, "ptflops_aten": 28800}),
    ("deconv_s1", lambda nn: nn.ConvTranspose2d(4, 8, 3, bias=False), sc.ConvTranspose2d(4, 8, 3, bias=False),
     (4, 10, 10), {"flop_counter": 57600, "fvcore": 28800, "thop": 41472, "ptflops": 28800, "ptflops_aten": 28800}),
    ("linear", lambda nn: nn.Linear(100, 10), sc.Linear(100, 10), (100,),
     {"flop_counter": 2000, "fvcore": 1000, "thop": 1000, "ptflops": 1010, "ptflops_aten": 1010}),
    ("bn", lambda nn: nn.BatchNorm2d(4), sc.BatchNorm2d(4), (4, 10, 10),
     {"flop_counter": 0, "fvcore": 800, "thop": 1600, "ptflops": 800, "ptflops_aten": 0}),
    ("relu", lambda nn: nn.ReLU(), sc.ReLU(), (4, 10, 10),
     {"flop_counter": 0, "fvcore": 0, "thop": 0, "ptflops": 800, "ptflops_aten": 0}),
    ("avgpool", lambda nn: nn.AvgPool2d(2, 2), sc.AvgPool2d(2, 2), (4, 10, 10),
     {"flop_counter": 0, "fvcore": 0, "thop": 100, "ptflops": 800, "ptflops_aten": 0}),
    ("gap", lambda nn: nn.AdaptiveAvgPool2d(1), sc.AdaptiveAvgPool2d(1), (4, 10, 10),
     {"flop_counter": 0, "fvcore": 400, "thop": 404, "ptflops": 800, "ptflops_aten": 0}),
    ("bilinear", lambda nn: nn.Upsample(scale_factor=2, mode="bilinear"), sc.Upsample(scale_factor=2, mode="bilinear"),
     (4, 10, 10), {"flop_counter": 0, "fvcore": 6400, "thop": 17600, "ptflops": 3200, "ptflops_aten": 0}),
]


@pytest.mark.parametrize("case", TABLE_5_2, ids=[c[0] for c in TABLE_5_2])
def test_single_layers_reproduce_the_published_measurements(case):
    """FORMULAS.md 5.2 figures as expected values; each is also re-measured with the tool itself."""
    nn = pytest.importorskip("torch").nn
    _, make, layer, shape, published = case
    for convention, expected in published.items():
        assert sc.count(layer, shape, convention) == expected, convention
        assert _exact(tool_total(convention, nn.Sequential(make(nn)), shape)) == expected, convention


def test_count_stays_symbolic():
    """Closed forms in H, W; a transposed conv shows thop's per-output overcount as a factor."""
    up = sc.ConvTranspose2d(4, 8, 3, stride=2, padding=1, output_padding=1, bias=False)
    assert sc.count(up, (4, H, W)) == 288 * H * W
    assert sc.count(up, (4, H, W), "thop") == 288 * 4 * H * W       # (2H)(2W) output positions
    assert sc.count(up, (4, H, W), "torchinfo") == 288 * 4 * H * W
    net = sc.Sequential(sc.Conv2d(3, 8, 3, padding=1), sc.ReLU(), sc.MaxPool2d(2))
    ptf = sc.count(net, (3, H, W), "ptflops")
    assert sympy.expand(ptf - (216 * H * W + 8 * H * W + 16 * H * W + 16 * H * W)) == 0


# --- the zoo, on the torch twins ------------------------------------------------------------------------

# torchvision's published GFLOPS (FORMULAS.md 6.1 / 5.3) as expected values for the default convention
PUBLISHED_MACS = {"resnet50": 4_089_184_256, "vgg16_bn": 15_470_264_320, "mobilenet_v2": 300_774_272,
                  "densenet121": 2_834_161_664}
ZOO = tuple(PUBLISHED_MACS)
TOOL_RUNS = ("flop_counter", "fvcore", "thop", "ptflops", "ptflops_aten", "torchinfo")


def _zoo_model(name: str):
    return sc.models.get(name)


def _twin(model):
    pytest.importorskip("torch")
    return sc.to_torch(model)


@pytest.mark.parametrize("layer", [sc.UpsamplingNearest2d(scale_factor=2), sc.UpsamplingBilinear2d(scale_factor=2),
                                   sc.Upsample(scale_factor=2), sc.Upsample(scale_factor=2, mode="bilinear")],
                         ids=["UpsamplingNearest2d", "UpsamplingBilinear2d", "Upsample-nearest", "Upsample-bilinear"])
def test_upsampling_classes_survive_to_torch_and_match_every_tool(layer):
    """ptflops counts nn.Upsample twice but its Upsampling*2d subclasses once: the twin must keep the class."""
    model = sc.Sequential(sc.Conv2d(3, 4, 3), layer)
    twin = _twin(model)
    assert type(twin[1]).__name__ == layer.kind
    for convention in CONVENTIONS:
        assert sc.count(model, (3, 10, 12), convention) == _exact(tool_total(convention, twin, (3, 10, 12))), convention


@pytest.mark.parametrize("name", ZOO)
def test_zoo_default_convention_is_torchvision_figure(name):
    assert sc.count(_zoo_model(name), (3, 224, 224)) == PUBLISHED_MACS[name]


@pytest.mark.parametrize("name", ZOO)
def test_zoo_counts_match_every_tool_at_224(name):
    """Each tool run once on the twin; the symbolic count substituted at 224 equals every total."""
    model = _zoo_model(name)
    twin = _twin(model)
    for convention in TOOL_RUNS:
        closed = sc.count(model, (3, H, W), convention)
        expected = _exact(tool_total(convention, twin, (3, 224, 224)))
        assert closed.xreplace({H: 224, W: 224}) == expected, (name, convention)
        if convention == "flop_counter":
            assert expected == 2 * PUBLISHED_MACS[name]


@pytest.mark.parametrize("name", ("resnet50", "mobilenet_v2"))
def test_zoo_counts_off_the_usual_size(name):
    """193 x 257: odd, non-square, not a multiple of the stride 32 (ceil/floor terms matter)."""
    model = _zoo_model(name)
    twin = _twin(model)
    for convention in TOOL_RUNS:
        closed = sc.count(model, (3, H, W), convention)
        assert closed.xreplace({H: 193, W: 257}) == _exact(tool_total(convention, twin, (3, 193, 257))), convention


# --- API and errors -------------------------------------------------------------------------------------

def test_unknown_convention_lists_the_conventions():
    with pytest.raises(sc.SymcnnError, match=r"`convention`='flops' is not known; use one of 'torchvision', "
                                             r"'flop_counter', 'fvcore', 'thop', 'ptflops', 'ptflops_aten', "
                                             r"'torchinfo'"):
        sc.count(sc.ReLU(), (3, 4, 4), "flops")
    with pytest.raises(sc.SymcnnError, match=r"`convention`=None is not known"):
        sc.count(sc.ReLU(), (3, 4, 4), None)


def test_layers_without_a_rule_are_refused_not_zero():
    net = sc.Sequential(sc.Conv2d(1, 6, 5), sc.Subsampling2d(6, 2))
    with pytest.raises(sc.SymcnnError, match=r"layer 1 '1' \(Subsampling2d\) has no rule under convention "
                                             r"'fvcore'.*refused rather than counted as 0"):
        sc.count(net, (1, 32, 32), "fvcore")
    se = sc.Opaque(output_shape=lambda s: s, params=0, macs=0, name="SE")
    with pytest.raises(sc.SymcnnError, match=r"\(Opaque\) has no rule under convention 'torchvision'"):
        sc.count(se, (8, 4, 4))


def test_thop_softmax_needs_an_int_dim():
    with pytest.raises(sc.SymcnnError, match=r"\(Softmax\): `dim`=None must be an int indexing the input of rank 2"):
        sc.count(sc.Softmax(), (10,), "thop")
    assert sc.count(sc.Softmax(dim=-1), (10,), "thop") == 29   # exp 10, add 9, divide 10


def test_count_accepts_an_analysis():
    a = sc.analyze(sc.models.resnet18(), (3, 224, 224))
    assert sc.count(a, convention="fvcore") == sc.count(sc.models.resnet18(), (3, 224, 224), "fvcore")
    with pytest.raises(sc.SymcnnError, match=r"give `input_shape` with a model, not with an Analysis"):
        sc.count(a, (3, 224, 224))
    with pytest.raises(sc.SymcnnError, match=r"`input_shape` is required"):
        sc.count(sc.ReLU())
    with pytest.raises(sc.SymcnnError, match=r"batch=4; the conventions count one sample"):
        sc.count(sc.analyze(sc.ReLU(), (3, 4, 4), batch=4))


def test_conventions_describe_every_layer_kind():
    descs = sc.conventions()
    assert [d.name for d in descs] == list(CONVENTIONS)
    kinds = {n for n in sc.layers.__all__ if isinstance(getattr(sc.layers, n), type)
             and issubclass(getattr(sc.layers, n), sc.Layer) and n != "Layer"}
    for d in descs:
        assert d.unit == ("FLOPs" if d.name == "flop_counter" else "MACs")
        covered = {k for key in d.rules for k in key.split(", ")}
        assert covered | set(d.refused) == kinds, d.name
        assert not covered & set(d.refused)
        assert {"Subsampling2d", "ConnectionTableConv2d", "RBF", "SpatialPyramidPooling"} <= set(d.refused)
        assert all(text and "|" not in text for text in d.rules.values())
    thop = descs[CONVENTIONS.index("thop")]
    assert "output* position" in thop.rules["ConvTranspose1d, ConvTranspose2d, ConvTranspose3d"]
    ptflops = descs[CONVENTIONS.index("ptflops")]
    relu = next(text for key, text in ptflops.rules.items() if "ReLU" in key.split(", "))
    assert relu.startswith("2 per output element")


# --- the documentation page -----------------------------------------------------------------------------

def test_counting_page_figures_are_computed_and_tables_are_clean():
    from symcnn.docsgen._counting_page import PATH, page, render

    names = ("resnet50", "vgg16_bn")
    text = render(models=names)[PATH]
    for name in names:
        cells = [f"{int(sc.count(sc.models.get(name), (3, 224, 224), c)) / 1e9:.3f}" for c in CONVENTIONS]
        assert f"| {name} | " + " | ".join(cells) + " |" in text
    assert "| resnet50 | 4.089 | 8.178 | 4.112 | 4.134 | 4.132 | 4.089 | 4.089 |" in text   # FORMULAS.md 5.3
    for line in text.splitlines():
        if line.startswith("|"):
            assert "\\(" not in line and "\\[" not in line, line                       # no math in tables
    tables = [block for block in text.split("\n\n") if block.startswith("|")]
    for block in tables:
        rows = block.splitlines()
        widths = {len(r.replace("\\|", "").strip("|").split("|")) for r in rows}
        assert len(widths) == 1, rows[0]
    p = page(models=names)
    assert len(p.formulas) == 4 * len(CONVENTIONS)
    for f in p.formulas:                                       # every formula printed from a count() result
        assert f"\\[ {f.tex} \\]" in text


@pytest.mark.parametrize("make", [
    lambda: sc.Conv2d(3, 4, 3, padding="same"),
    lambda: sc.Conv2d(3, 4, 3, padding="valid"),
    lambda: sc.Conv1d(3, 4, 4, padding="same"),
    lambda: sc.Conv2d(3, 4, 3, stride=2, padding="tf_same"),  # SAME at stride 2: explicit padding in the twin
    lambda: sc.BatchNorm2d(3, track_running_stats=False),
    lambda: sc.BatchNorm2d(3, affine=False, track_running_stats=False),
], ids=["same", "valid", "same-1d", "same-stride2", "bn-batch-stats", "bn-batch-stats-no-affine"])
def test_string_padding_and_batch_statistics_match_every_tool(make):
    """Found in review: torch runs string paddings as aten::_convolution_mode (fvcore: 0) and a BatchNorm
    without running statistics as training-mode batch_norm (fvcore: 5 or 4 per element)."""
    layer = make()
    shape = (3, 9) if layer.kind == "Conv1d" else (3, 9, 10)
    twin = _twin(layer)
    for convention in CONVENTIONS:
        assert sc.count(layer, shape, convention) == _exact(tool_total(convention, twin, shape)), convention


def test_from_torch_keeps_the_upsampling_classes():
    torch = pytest.importorskip("torch")
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.UpsamplingNearest2d(scale_factor=2),
                              torch.nn.UpsamplingBilinear2d(scale_factor=2))
    imported = sc.from_torch(net, (3, 16, 16))
    kinds = [r.kind for r in sc.analyze(imported, (3, 16, 16)).layers]
    assert kinds == ["Conv2d", "UpsamplingNearest2d", "UpsamplingBilinear2d"]
    for convention in CONVENTIONS:
        assert sc.count(imported, (3, 16, 16), convention) == _exact(tool_total(convention, net, (3, 16, 16)))
