"""Properties (issue 13): the expression parser, the shape/substitution parsers and the spec loader fed random
junk raise only SymcnnError; every command of the CLI under random options exits 0, 1 or 2 with at most one
line on stderr and never a traceback (main() run in-process, output captured)."""

from __future__ import annotations

import contextlib
import io
from unittest import mock

import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symcnn as sc
from symcnn import cli, docsgen
from symcnn._parse import parse_expr_safe, parse_shape_text
from symcnn.cli._values import parse_bounds, parse_subs, parse_target_shape
from symcnn.spec import LAYER_TYPES

_SETTINGS = dict(deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])

_CHARS = "0123abHWPSxyz_+-*/%(),.=:x× \t*'\"[]{}#!\\\n\x00é"
junk = st.text(alphabet=_CHARS, max_size=40)


def _grammar():
    """Strings of the grammar (and near misses): names, numbers, operators, calls, parentheses."""
    atom = st.one_of(st.sampled_from(["W", "H", "P", "S", "F", "p", "a0", "b1", "OP", "P_1"]),
                     st.integers(-3, 300).map(str), st.sampled_from(["0", "1", "99999999999999999999", "x"]))

    def extend(inner):
        return st.one_of(
            st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "//", "%", "**"]), inner).map(" ".join),
            inner.map(lambda s: f"({s})"),
            inner.map(lambda s: f"-{s}"),
            st.tuples(st.sampled_from(["floor", "ceil", "min", "max", "mod", "sin"]),
                      st.lists(inner, min_size=1, max_size=3)).map(lambda t: f"{t[0]}({', '.join(t[1])})"),
        )

    return st.recursive(atom, extend, max_leaves=12)


grammar = _grammar()


def _only_symcnn_errors(fn, *args):
    try:
        return fn(*args)
    except sc.SymcnnError:
        return None


@settings(max_examples=300, **_SETTINGS)
@given(st.one_of(junk, grammar))
def test_expression_parser_raises_only_symcnn_error(text):
    value = _only_symcnn_errors(parse_expr_safe, text)
    assert value is None or isinstance(value, sympy.Expr)


@settings(max_examples=200, **_SETTINGS)
@given(st.one_of(junk, st.lists(st.one_of(grammar, st.just("*")), min_size=1, max_size=4).map("x".join)))
def test_shape_subs_and_bounds_parsers_raise_only_symcnn_error(text):
    for fn in (parse_shape_text, parse_target_shape, parse_subs, parse_bounds, cli.parse_shape):
        _only_symcnn_errors(fn, text)
    _only_symcnn_errors(parse_subs, "H=" + text)


# --- spec loader -------------------------------------------------------------------------------------------------

_VALUES = st.recursive(
    st.one_of(st.integers(-2, 40), st.booleans(), st.none(), st.floats(allow_nan=True, allow_infinity=True),
              grammar, st.sampled_from(["same", "valid", "full", "zeros", "reflect", "bilinear", "nearest-exact"]),
              junk),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(
        ["kernel_size", "stride", "padding", "dilation", "groups", "bias", "mode", "padding_mode", "ceil_mode",
         "scale_factor", "in_channels", "out_channels", "foo"]), inner, max_size=3)),
    max_leaves=6,
)
_ENTRY = st.one_of(
    st.sampled_from(sorted(LAYER_TYPES)),
    st.builds(lambda kind, args, name, src: {kind: args, **({"name": name} if name else {}),
                                             **({"from": src} if src else {})},
              st.one_of(st.sampled_from(sorted(LAYER_TYPES)), junk), _VALUES,
              st.one_of(st.none(), st.sampled_from(["a", "b", "input"]), junk),
              st.one_of(st.none(), st.sampled_from(["a", "b", "input"]), st.lists(st.sampled_from(["a", "b"])))),
)
_SPEC = st.fixed_dictionaries(
    {"layers": st.one_of(st.lists(_ENTRY, max_size=4), _VALUES)},
    optional={"input": st.one_of(st.sampled_from(["3xHxW", "1x8x8", "3xmax(H,8)xW", "[3, H, W]"]),
                                 st.lists(st.one_of(st.integers(-1, 9), grammar), max_size=4), _VALUES),
              "name": _VALUES, "output": st.one_of(st.sampled_from(["a", "b"]), _VALUES),
              "extra": _VALUES},
)


@settings(max_examples=150, **_SETTINGS)
@given(st.one_of(junk, _SPEC.map(repr)))
def test_spec_loader_raises_only_symcnn_error_on_junk_text(text):
    for fmt in ("yaml", "toml"):
        _only_symcnn_errors(lambda t, f=fmt: sc.load_spec(t, format=f), text)


@settings(max_examples=200, **_SETTINGS)
@given(_SPEC)
def test_spec_loader_raises_only_symcnn_error_on_random_specs(data):
    import json

    from symcnn.spec import Spec

    spec = _only_symcnn_errors(sc.load_spec, json.dumps(data, default=str))  # JSON is YAML
    assert spec is None or isinstance(spec, Spec)


# --- every command under random options --------------------------------------------------------------------------

_VALUE_POOL = st.one_of(
    st.sampled_from(["3x224x224", "3xHxW", "1x30", "3x32x32", "1xQ", "3xmax(H,8)xW", "64x112x112", "*", "8x*x*",
                     "H=32,W=32", "S=0", "H=0", "G=-2", "P=0:3", "F=1:3,S=1:2", "32,64", "5,1", "1-5", "same", "p",
                     "2*S+1", "-5", "0", "7", "true", "x", "((", "", "ceil_mode=true", "dim=1", "foo=1", "bias=no",
                     "output_size", "params", "macs", "constraints", "receptive_field", "table", "json", "fvcore",
                     "no such host", "127.0.0.1", "70000"]),
    st.text(alphabet="0123abHWPSx*+-=,:() ", max_size=6),
)
_OPTIONS = {
    "summary": ["--input", "--subs", "--format", "--convention", "--width"],
    "formula": ["--input", "--kernel", "--stride", "--padding", "--dilation", "--groups", "--in-channels",
                "--out-channels", "--output-padding", "--arg"],
    "solve": ["--input", "--output", "--bounds", "--between", "--kernel", "--stride", "--padding", "--arg"],
    "derive": [],
    "errata": [],
    "models": [],
    "docs": ["--site-dir", "--host", "--port"],
}
_FLAGS = {"summary": [], "formula": ["--latex", "--no-bias"], "solve": ["--valid-sizes", "--exact", "--latex"],
          "derive": ["--list", "--latex"], "errata": [], "models": ["--no-counts"], "docs": ["--force"]}
_POSITIONALS = {
    "summary": [["small_cnn"], ["lenet5"], ["small_cnn", "--input", "3x32x32"], ["tiny_unet", "--subs", "H=64,W=64"],
                ["tiny_resnet"], ["vgg_block"], ["nope"], ["os:getcwd"], ["x.yaml"]],
    "formula": [[layer, q] for layer in ("conv1d", "conv2d", "maxpool2d", "convtranspose1d", "linear", "softmax",
                                         "upsample", "batchnorm2d", "conv9d")
                for q in ("output_size", "params", "constraints", "receptive_field", "volume")],
    "solve": [["conv1d"], ["conv2d"], ["maxpool1d"], ["small_cnn"], ["linear"], ["nope"],
              ["conv2d", "--input", "3x32x32", "--output", "8x16x16", "--kernel", "3", "--stride", "2",
               "--padding", "P"],
              ["small_cnn", "--valid-sizes", "--between", "8,64"],
              ["conv1d", "--input", "1x30", "--output", "8x*", "--kernel", "F", "--stride", "2",
               "--bounds", "F=1:5"]],
    "derive": [["--list"], ["nope"], []],
    "errata": [["nope"]],
    "models": [["--no-counts"]],
    "docs": [["build"], ["serve"], ["nope"]],
}


@st.composite
def command_lines(draw):
    command = draw(st.sampled_from(sorted(_OPTIONS)))
    argv = [command, *draw(st.sampled_from(_POSITIONALS[command]))]
    for opt in draw(st.lists(st.sampled_from(_OPTIONS[command] + ["--junk"]), max_size=4)) if _OPTIONS[command] \
            else ():
        argv += [opt, draw(_VALUE_POOL)]
    argv += draw(st.lists(st.sampled_from(_FLAGS[command]), max_size=2, unique=True)) if _FLAGS[command] else []
    return argv


@pytest.fixture(scope="module")
def no_site_build():
    """`docs build/serve` under random options: the generator is stubbed (its own tests build for real)."""
    with mock.patch.object(docsgen, "build", lambda **kw: None), mock.patch.object(docsgen, "serve", lambda **kw: None):
        yield


@settings(max_examples=250, **_SETTINGS)
@given(command_lines())
def test_every_command_exits_0_1_or_2_without_a_traceback(no_site_build, argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(argv)
    text = err.getvalue()
    assert status in (0, 1, 2), (argv, status, text)
    assert "Traceback" not in text and len(text.splitlines()) <= 1, (argv, text)
    assert status == 0 or text, argv  # a failure always says why
