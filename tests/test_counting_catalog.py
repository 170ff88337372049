"""``count`` on what ``from_torch`` reads from real models equals each tool's own total (issue 15).

The tools hook modules by exact type (thop, ptflops, torchinfo) or count operators (FlopCounterMode, fvcore,
ptflops' aten backend), so the same layer counts differently when a model calls it as a module, as a subclass
of one, or as a function (``F.relu``, ``F.adaptive_avg_pool2d``, ``x.mean((2, 3))``, ``torch.add``).
``from_torch`` records the call on each layer and every convention reads it. Checked here on a network that
calls every form, and on torchvision's own modules (a CI-sized selection; ``bench/bench_counting_catalog.py``
runs the whole catalog at 224 x 224 and at 193 x 257). Every expected value is the tool run at test time.
"""

from __future__ import annotations

import functools

import pytest

import symcnn as sc
from symcnn import H, T, W

pytest.importorskip("torch")
from test_counting import CONVENTIONS, TOOL_MODULES, _exact, tool_total  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Forward passes on one thread: on 2 shared cores, intra-op threads only spin against each other."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _installed(convention: str) -> bool:
    import importlib.util

    return convention not in TOOL_MODULES or importlib.util.find_spec(TOOL_MODULES[convention]) is not None


def _thop_slack(analysis) -> int:
    """thop computes adaptive average pooling as ``int((prod(In/Out) + 1) * numel(out))`` in float64: where
    ``Out`` does not divide ``In`` its figure can be 1 below the exact value ``count`` gives, per such layer."""
    slack = 0
    for rec in analysis.layers:
        call = getattr(rec.layer, "_torch_call", None)
        if rec.kind.startswith("AdaptiveAvgPool") and (call is None or call[0] == "module"):
            ins, outs = rec.input_shapes[0][1:], rec.output_shape[1:]
            slack += any(int(i) % int(o) for i, o in zip(ins, outs, strict=True))
    return slack


def check_against_tools(model, analysis, shape) -> None:
    """``count`` under every installed convention equals the tool's total on ``model`` at ``shape``."""
    wrong = {}
    for convention in CONVENTIONS:
        if not _installed(convention):
            continue
        tool = _exact(tool_total(convention, model, shape)) if convention != "thop" else tool_total(
            convention, model, shape)
        mine = sc.count(analysis, convention=convention)
        if convention == "thop":
            slack = _thop_slack(analysis)
            if not 0 <= mine - tool <= slack:
                wrong[convention] = (int(mine), tool, f"allowed: 0 .. {slack} above the tool")
        elif mine != tool:
            wrong[convention] = (int(mine), tool)
    assert not wrong, wrong


# --- one network calling every form -------------------------------------------------------------------------

@functools.cache
def _forms_net():
    torch = pytest.importorskip("torch")
    nn, F = torch.nn, torch.nn.functional

    class MyConv(nn.Conv2d):
        """A subclass keeping Conv2d's forward: from_torch reads it as a Conv2d, the exact-type tools miss it."""

    class MyReLU(nn.ReLU):
        pass

    class MyPool(nn.AdaptiveAvgPool2d):
        pass

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3, padding=1)
            self.sub = MyConv(8, 8, 3, padding=1)
            self.relu, self.myrelu, self.gelu = nn.ReLU(), MyReLU(), nn.GELU()
            self.pool, self.mypool = nn.MaxPool2d(2, ceil_mode=True), MyPool(2)
            self.bn = nn.BatchNorm2d(8)
            self.up = nn.Upsample(scale_factor=2.0)
            self.fc = nn.Linear(8, 10)

        def forward(self, x):
            x = self.relu(self.conv(x))
            x = self.myrelu(F.relu(self.sub(x)))
            x = torch.relu(F.max_pool2d(x, 2, ceil_mode=True)).relu()
            x = self.pool(F.interpolate(self.up(x), scale_factor=2.0))
            y = x.add(torch.add(x, x))
            x = torch.mul(x + y, 0.5).mul(x)
            x = F.relu6(F.gelu(self.gelu(F.avg_pool2d(x, 3, 1, 1))))
            x = F.hardswish(self.bn(x))
            a = F.adaptive_avg_pool2d(x, 1).flatten(1)
            b = x.mean((2, 3))
            c = torch.flatten(self.mypool(x).mean((2, 3), keepdim=True), 1)
            return self.fc(a + b + torch.mean(x, (2, 3)) + c)

    return Net().eval()


def test_from_torch_records_how_each_layer_was_called():
    net = sc.from_torch(_forms_net(), (3, H, W))
    calls = {n.name: getattr(n.module, "_torch_call", None) for n in net._order}
    assert calls["conv"] == ("module", "torch.nn.modules.conv.Conv2d")
    assert calls["sub"][0] == "subclass" and calls["sub"][1].endswith(".MyConv")
    assert calls["relu"] == ("module", "torch.nn.modules.activation.ReLU")
    assert calls["relu_1"] == ("function", "torch.nn.functional.relu")
    assert calls["relu_2"] == ("function", "torch.relu")
    assert calls["relu_3"] == ("function", "Tensor.relu")
    assert calls["myrelu"][0] == "subclass"
    assert calls["max_pool2d"] == ("function", "torch.nn.functional.max_pool2d")
    assert calls["avg_pool2d"] == ("function", "torch.nn.functional.avg_pool2d")   # torch._C._nn.avg_pool2d
    assert calls["mean"] == ("function", "Tensor.mean")
    assert calls["add"] == ("function", "torch.add")
    assert calls["add_1"] == ("function", "Tensor.add")
    assert calls["add_2"] == ("function", "operator.add")


def test_user_built_layers_count_as_modules():
    """A layer built in symcnn carries no call record: every convention counts it as the torch module; the same
    layer read from ``F.relu`` counts as the function (ptflops: once instead of twice, thop and torchinfo: 0)."""
    torch = pytest.importorskip("torch")

    class Functional(torch.nn.Module):
        def forward(self, x):
            return torch.nn.functional.relu(x)

    layer, shape = sc.ReLU(), (8, 5, 7)
    imported = sc.from_torch(Functional(), shape)
    assert not hasattr(layer, "_torch_call")
    for convention in CONVENTIONS:
        if _installed(convention):
            assert sc.count(layer, shape, convention) == _exact(tool_total(convention, torch.nn.ReLU(), shape))
            assert sc.count(imported, shape, convention) == _exact(tool_total(convention, Functional(), shape))
    assert sc.count(layer, shape, "ptflops") == 2 * sc.count(imported, shape, "ptflops")


@pytest.mark.parametrize("shape", [(3, 16, 16), (3, 13, 19)])
def test_every_call_form_counts_as_the_tools_count_it(shape):
    model = _forms_net()
    analysis = sc.analyze(sc.from_torch(model, (3, H, W)), (3, H, W)).subs(H=shape[1], W=shape[2])
    check_against_tools(model, analysis, shape)


def test_the_forms_differ_where_the_tools_differ():
    """The same network written with modules only would count differently: the call record is what matters."""
    a = sc.analyze(sc.from_torch(_forms_net(), (3, 16, 16)), (3, 16, 16))
    stripped = sc.analyze(sc.from_torch(_forms_net(), (3, 16, 16)), (3, 16, 16))
    for rec in stripped.layers:
        if hasattr(rec.layer, "_torch_call"):
            object.__delattr__(rec.layer, "_torch_call")
    for convention in ("thop", "ptflops", "fvcore"):
        assert sc.count(a, convention=convention) != sc.count(stripped, convention=convention), convention
    for convention in ("torchvision", "flop_counter", "ptflops_aten"):
        assert sc.count(a, convention=convention) == sc.count(stripped, convention=convention), convention


# --- torchvision's own modules ---------------------------------------------------------------------------------

#: a CI-sized selection of the catalog, each at one H != W size (video: T x H x W); the whole catalog at 224 and
#: 193 x 257 is bench/bench_counting_catalog.py
CATALOG = {
    "resnet18": (3, 97, 129), "mobilenet_v2": (3, 97, 129), "mobilenet_v3_small": (3, 97, 129),
    "mnasnet0_5": (3, 97, 129), "densenet121": (3, 65, 97), "googlenet": (3, 97, 129),
    "squeezenet1_1": (3, 97, 129), "regnet_x_400mf": (3, 97, 129), "inception_v3": (3, 107, 139),
    "r3d_18": (3, 4, 33, 49),
}


@functools.cache
def _torchvision(name: str):
    tv = pytest.importorskip("torchvision")
    kwargs = {"init_weights": False} if name in ("googlenet", "inception_v3") else {}
    model = tv.models.get_model(name, weights=None, **kwargs).eval()
    symbols = (T, H, W) if len(CATALOG[name]) == 4 else (H, W)
    analysis = sc.analyze(sc.from_torch(model, (3, *symbols)), (3, *symbols))
    return model, analysis.subs(dict(zip(symbols, CATALOG[name][1:], strict=True)))


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_torchvision_models_count_as_every_tool(name):
    model, analysis = _torchvision(name)
    check_against_tools(model, analysis, CATALOG[name])
