"""Every layer class against junk: constructing with random arguments (wrong types, negatives, NaN, huge ints,
strings) raises only SymcnnError or succeeds; a layer with a ``torch.nn`` twin agrees with it on random small
inputs (same output shape when torch runs, a refusal when torch refuses)."""

from __future__ import annotations

import inspect
import math
import re
import warnings

import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symcnn as sc
import symcnn.layers as L
from symcnn import SymcnnError

torch = pytest.importorskip("torch")
nn = torch.nn

#: the layer classes of ``symcnn.layers.__all__`` (not the base classes)
CLASSES = [getattr(L, n) for n in L.__all__
           if isinstance(getattr(L, n), type) and issubclass(getattr(L, n), L.Layer) and n != "Layer"]
#: those with a torch.nn twin of the same name and arguments (merge layers and LeNet's have none)
TWINS = [c for c in CLASSES if hasattr(nn, c.__name__) and c.__name__ != "Opaque"]
#: arguments that only place tensors (never junk-tested: they change no count)
_PLACEMENT = {"device", "dtype"}

_STRINGS = ["same", "valid", "full", "zeros", "reflect", "replicate", "circular", "bogus", "none", "tanh",
            "nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "max", "avg", ""]
_SCALARS = st.one_of(
    st.integers(-2, 6),
    st.sampled_from([2**63, -(2**63) - 1, 2**70]),
    st.sampled_from([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, -1.0, math.nan, math.inf, -math.inf, 1e30]),
    st.sampled_from(_STRINGS),
    st.sampled_from([None, True, False, sympy.Float(3.0), sympy.nan, sympy.Integer(2), sympy.Rational(1, 2)]),
)
_JUNK = st.one_of(_SCALARS, st.lists(st.integers(-1, 5), min_size=0, max_size=4).map(tuple),
                  st.lists(_SCALARS, min_size=1, max_size=3).map(tuple))


def _parameters(cls):
    """(name, has_default, annotation) of the constructor arguments, PyTorch's where a twin exists."""
    init = getattr(nn, cls.__name__).__init__ if cls in TWINS else cls.__init__
    out = []
    for p in list(inspect.signature(init).parameters.values())[1:]:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.name in _PLACEMENT:
            continue
        out.append((p.name, p.default is not p.empty, str(p.annotation)))
    return out


def _plausible(annotation: str):
    """Values of the declared type (so that both libraries often run and the shapes get compared)."""
    options = []
    if "bool" in annotation:
        options.append(st.booleans())
    if "str" in annotation or "Literal" in annotation:
        options.append(st.sampled_from(_STRINGS))
    if "float" in annotation:
        options.append(st.sampled_from([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 2, 1]))
    if "int" in annotation:
        options.append(st.integers(0, 4))
        options.append(st.lists(st.integers(0, 4), min_size=1, max_size=3).map(tuple))
    return st.one_of(*options) if options else _JUNK


@st.composite
def _arguments(draw, cls):
    kwargs = {}
    for name, has_default, annotation in _parameters(cls):
        if has_default and draw(st.booleans()):
            continue
        kwargs[name] = draw(st.one_of(_plausible(annotation), _JUNK))
    return kwargs


_SHAPES = st.lists(st.integers(1, 6), min_size=1, max_size=5).map(tuple)
_TORCH_REFUSALS = (RuntimeError, ValueError, TypeError, NotImplementedError, IndexError, AssertionError,
                   OverflowError, ZeroDivisionError)


def _symcnn(cls, kwargs, shape):
    """('built', None) / ('refused', stage) / ('ok', shape): SymcnnError is the only refusal allowed."""
    try:
        layer = cls(**kwargs)
    except SymcnnError:
        return "refused", "construct"
    try:
        out = sc.analyze(layer, shape).output_shape
    except SymcnnError:
        return "refused", "analyze"
    return "ok", tuple(int(v) for v in out)


def _torch(cls, kwargs, shape):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module = getattr(nn, cls.__name__)(**kwargs)
    except _TORCH_REFUSALS:
        return "refused", "construct"
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y = module.eval()(torch.zeros((1, *shape)))
    except _TORCH_REFUSALS:
        return "refused", "run"
    if isinstance(y, tuple):  # return_indices=True: (values, indices)
        y = y[0]
    if y.numel() == 0:  # torch returns an empty tensor where symcnn refuses an output size below 1
        return "refused", "run"
    return "ok", tuple(y.shape[1:])


def _off_type(value, annotation: str) -> bool:
    if isinstance(value, tuple):
        sized = re.search(r"tuple\[([^\]]*)\]", annotation)
        if sized and "..." not in sized.group(1) and len(value) != len(sized.group(1).split(",")):
            return True  # a tuple of another length than PyTorch declares
        return "tuple" not in annotation or any(_off_type(v, annotation) for v in value)
    if isinstance(value, sympy.Basic):  # symcnn's own kind of value
        return True
    if isinstance(value, bool):
        return "bool" not in annotation
    if isinstance(value, str):
        return "str" not in annotation and "Literal" not in annotation
    if value is None:
        return "None" not in annotation
    if "bool" in annotation and "int" not in annotation and "float" not in annotation:
        return True  # a flag given as a number or a string
    return isinstance(value, float) and "float" not in annotation


def _symcnn_is_stricter(cls, kwargs) -> bool:
    """symcnn may refuse, at construction, a value that is not of the type PyTorch declares for it (a bool or
    a float for an int, a number for a bool flag) even where torch takes it by duck typing."""
    params = inspect.signature(getattr(nn, cls.__name__).__init__).parameters
    return any(_off_type(v, str(params[k].annotation) if k in params else "") for k, v in kwargs.items())


def _merges_the_batch(cls, kwargs, shape) -> bool:
    """A ``Flatten`` whose start is the batch dimension, a ``LayerNorm`` over it: symcnn counts per sample and
    refuses them (by design)."""
    if cls is sc.LayerNorm:  # a normalized_shape covering the batch dim: symcnn counts per sample and refuses it
        n = kwargs.get("normalized_shape")
        return isinstance(n, (list, tuple)) and len(n) > len(shape)
    if cls is not sc.Flatten:
        return False
    start = kwargs.get("start_dim", 1)
    return isinstance(start, int) and not isinstance(start, bool) and start % (len(shape) + 1) == 0


def _has_sympy(value) -> bool:
    if isinstance(value, dict):
        value = tuple(value.values())
    if isinstance(value, tuple):
        return any(_has_sympy(v) for v in value)
    return isinstance(value, sympy.Basic)


def _torch_quirk(cls, kwargs, shape) -> bool:
    """Inputs torch takes only through a shortcut: adaptive average pooling to size 1 is a mean over the last
    axes and runs on any rank, while any other output size needs the layer's own rank (symcnn: always)."""
    if cls.__name__ not in ("AdaptiveAvgPool2d", "AdaptiveAvgPool3d") or len(shape) <= cls._dims + 1:
        return False
    out = kwargs.get("output_size")
    return out == 1 or (isinstance(out, tuple) and set(out) == {1})


@settings(max_examples=200, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_junk_arguments_raise_only_symcnn_error(data):
    cls = data.draw(st.sampled_from(CLASSES))
    kwargs = data.draw(_arguments(cls))
    shape = data.draw(_SHAPES)
    _symcnn(cls, kwargs, shape)  # anything but SymcnnError propagates and fails the test


@settings(max_examples=200, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_layers_agree_with_their_torch_twins_on_junk(data):
    cls = data.draw(st.sampled_from(TWINS))
    kwargs = data.draw(_arguments(cls))
    shape = data.draw(_SHAPES)
    s = _symcnn(cls, kwargs, shape)
    if _has_sympy(kwargs):
        return  # symcnn's own kind of value (sympy.Integer(2) is a size for symcnn; torch may not take it)
    t = _torch(cls, kwargs, shape)
    if s[0] == "refused" and (_merges_the_batch(cls, kwargs, shape) or len(shape) <= getattr(cls, "_dims", 0)):
        return  # batch-merging Flatten; or torch reads (1, *shape) as an unbatched input of another layout
    if s[0] == "refused" and _torch_quirk(cls, kwargs, shape):
        return
    if t[0] == "refused":
        assert s[0] == "refused", f"torch refuses {cls.__name__}(**{kwargs}) on {shape} ({t[1]}); symcnn gives {s}"
    elif s == ("refused", "construct"):
        assert _symcnn_is_stricter(cls, kwargs), f"symcnn refuses {cls.__name__}(**{kwargs}); torch gives {t[1]}"
    else:
        assert s == t, f"{cls.__name__}(**{kwargs}) on {shape}: torch {t}, symcnn {s}"


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_unknown_keywords_and_extra_arguments_raise_symcnn_error(cls):
    if cls is sc.Identity:  # nn.Identity takes and ignores anything
        return
    with pytest.raises(SymcnnError, match=rf"^{cls.__name__}: .*(bogus_keyword|missing)"):
        cls(bogus_keyword=1)
    with pytest.raises(SymcnnError, match=rf"^{cls.__name__}: "):
        cls(*range(1, 13))


def test_every_layer_class_is_covered():
    assert len(CLASSES) > 60 and len(TWINS) > 50
    assert not {c.__name__ for c in CLASSES} - {c.__name__ for c in TWINS} - {
        "Subsampling2d", "ConnectionTableConv2d", "RBF", "Add", "Mul", "Sub", "Concat", "CropConcat", "ScalarOp",
        "SamePad2d", "SpaceToDepth", "SpatialPyramidPooling", "Opaque", "Narrow", "GroupSum", "GroupSoftmax",
        "Reshape", "Expand", "ExpandAs", "Clamp", "Permute", "LayerNorm2d", "StochasticDepth", "LearnedScale",
        "LearnedShift"}  # torchvision / timm classes, or a tensor and a parameter combined in forward
