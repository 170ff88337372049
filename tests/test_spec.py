"""Spec files and the whitelist expression parser: examples against PyTorch, errors with file/line/field,
injection attempts that must not run, and fuzzing that only ever yields SymcnnError."""

from __future__ import annotations

import json
import string

import pytest
import sympy
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import symcnn as sc
from symcnn import SymcnnError
from symcnn._parse import parse_expr_safe, symbol_for
from symcnn.spec import LAYER_TYPES, Spec, examples, load_spec

# --- the expression parser ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("224", sympy.Integer(224)),
        ("2*W + 1", 2 * sc.W + 1),
        ("(W + 2*P - F)//S + 1", sc.floordiv(sc.W + 2 * sc.P - sc.F, sc.S) + 1),
        ("floor((W + 2*P - F)/S) + 1", sc.floordiv(sc.W + 2 * sc.P - sc.F, sc.S) + 1),
        ("ceil(W/32)", sc.ceildiv(sc.W, 32)),
        ("2**3", sympy.Integer(8)),
        ("-W + 5", 5 - sc.W),
        ("max(W, W + 1)", sc.W + 1),
        ("min(H, 7)", sympy.Min(sc.H, 7)),
        ("mod(W, 4)", sympy.Mod(sc.W, 4)),
        ("W % S", sympy.Mod(sc.W, sc.S)),
        ("floor(7/2)", sympy.Integer(3)),
        # FloorDiv recurses forever on the unexpanded product W*(W + 2); the parser retries expanded
        ("(W*(W + 2))//2", sc.W + sc.floordiv(sc.W**2, 2)),
        ("floor((2*W + W*W)/2)", sc.W + sc.floordiv(sc.W**2, 2)),
    ],
)
def test_parser_builds_the_expected_sympy_object(text, expected):
    assert parse_expr_safe(text) == expected


def test_parser_uses_symcnns_symbols():
    assert parse_expr_safe("P") is sc.P
    assert parse_expr_safe("W") is sc.W
    assert symbol_for("P2").is_nonnegative and symbol_for("P2").is_integer
    assert symbol_for("W2").is_positive and symbol_for("W2").is_integer


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "is empty"),
        ("W +", "unexpected end"),
        ("(W", r"expected '\)'"),
        ("W)", r"unexpected '\)' at column 2"),
        ("W/0", "divisor after '/' at column 2 must be positive"),
        ("W**9", "exponent after '\\*\\*' at column 2 must be an integer 0..8"),
        ("W**H", "exponent"),
        ("2 3", "unexpected '3' at column 3"),
        ("1e5", "unexpected 'e5'"),
        ("1.5", r"unexpected character '\.'"),
        ("W.real", r"unexpected character '\.' at column 2"),
        ("abs(W)", "'abs' at column 1 is not a function"),
        ("floor(W, 2)", r"floor\(\) at column 1 takes 1 argument"),
        ("min(W)", "at least 2 arguments"),
        ("floor(W/(H - 3))", r"the divisor after ./. at column 8 must be positive for every value"),
        ("9" * 19, "more than 18 digits"),
        ("((((9**8)**8)**8)**8)", "too large"),
        ("(" * 70 + "W" + ")" * 70, "nested more than"),
        ("W" * 40, "longer than 31"),
        ("x" * 4001, "at most 4000"),
    ],
)
def test_parser_refuses_with_the_position(text, match):
    with pytest.raises(SymcnnError, match=match):
        parse_expr_safe(text)


_INJECTIONS = [
    "__import__('os').system('touch {p}')",
    "exec(\"open('{p}', 'w')\")",
    "W; open('{p}', 'w')",
    "lambda: open('{p}', 'w')",
    "[c for c in ().__class__.__bases__]",
    "open('{p}','w').write('x')",
    "eval('1')",
]


@pytest.mark.parametrize("payload", _INJECTIONS)
def test_parser_never_runs_code(payload, tmp_path):
    target = tmp_path / "pwned"
    with pytest.raises(SymcnnError):
        parse_expr_safe(payload.format(p=target))
    assert not target.exists()


# a random expression tree, rendered to text and evaluated in Python by interpretation (no eval)
_leaf = st.one_of(st.integers(0, 50).map(lambda v: ("int", v)),
                  st.sampled_from(["W", "H", "S"]).map(lambda n: ("sym", n)))


def _extend(children):
    return st.one_of(
        st.tuples(st.sampled_from(["+", "-", "*"]), children, children),
        st.tuples(st.just("//"), children, st.integers(1, 9).map(lambda v: ("int", v))),
        st.tuples(st.just("floor/"), children, st.integers(1, 9).map(lambda v: ("int", v))),
        st.tuples(st.just("ceil/"), children, st.integers(1, 9).map(lambda v: ("int", v))),
        st.tuples(st.sampled_from(["min", "max"]), children, children),
    )


_trees = st.recursive(_leaf, _extend, max_leaves=8)


def _render(t) -> str:
    if t[0] == "int":
        return str(t[1])
    if t[0] == "sym":
        return t[1]
    op, a, b = t
    if op in ("floor/", "ceil/"):
        return f"{op[:-1]}(({_render(a)})/{_render(b)})"
    if op in ("min", "max"):
        return f"{op}({_render(a)}, {_render(b)})"
    return f"({_render(a)}) {op} ({_render(b)})"


def _value(t, env) -> int:
    if t[0] == "int":
        return t[1]
    if t[0] == "sym":
        return env[t[1]]
    op, a, b = t
    x, y = _value(a, env), _value(b, env)
    ops = {"+": lambda: x + y, "-": lambda: x - y, "*": lambda: x * y, "//": lambda: x // y,
           "floor/": lambda: x // y, "ceil/": lambda: -(-x // y), "min": lambda: min(x, y), "max": lambda: max(x, y)}
    return ops[op]()


@settings(max_examples=150, deadline=None)
@given(_trees, st.integers(1, 300), st.integers(1, 300), st.integers(1, 9))
def test_parser_agrees_with_python_integer_arithmetic(tree, w, h, s):
    """Parsed expressions evaluate like the same tree interpreted with Python ints (floor/ceil division,
    min/max), at random sizes: the parser builds the intended formula, rewrite rules included."""
    expr = parse_expr_safe(_render(tree))
    got = expr.xreplace({sc.W: w, sc.H: h, sc.S: s})
    assert got == _value(tree, {"W": w, "H": h, "S": s})


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=string.printable + "×éλ∞", max_size=80))
def test_fuzz_parser_only_symcnn_errors(text):
    try:
        out = parse_expr_safe(text)
    except SymcnnError:
        return
    assert isinstance(out, sympy.Expr)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["W", "H", "P", "2", "0", "17", "+", "-", "*", "/", "//", "%", "**", "(", ")",
                                 ",", "floor", "ceil", "min", "max", "mod", " "]), max_size=25))
def test_fuzz_parser_token_soup(tokens):
    try:
        out = parse_expr_safe("".join(tokens))
    except SymcnnError:
        return
    assert isinstance(out, sympy.Expr)


# --- loading -----------------------------------------------------------------------------------------------

def test_examples_are_listed_and_load_by_name():
    names = examples()
    assert {"small_cnn", "tiny_resnet", "tiny_unet", "vgg_block"} <= set(names)
    for name in names:
        spec = load_spec(name)
        assert isinstance(spec, Spec) and spec.name == name and spec.description
        model, shape = spec
        sc.analyze(model, shape)


def test_expression_sizes_resolve():
    """small_cnn's classifier input is 64*floor(H/4)*floor(W/4): consistent at any size the net accepts."""
    model, shape = load_spec("small_cnn")
    for hw in (32, 33, 35, 64, 100):
        a = sc.analyze(model, shape).subs(H=hw, W=hw)
        assert a.output_shape == (10,)
        assert a["fc1"].params == 64 * (hw // 4) ** 2 * 128 + 128


def _torch_twin(name):
    """The example specs written independently with torch.nn (the reference)."""
    nn = pytest.importorskip("torch").nn

    class Res(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
            self.b1 = nn.Sequential(nn.Conv2d(16, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
                                    nn.Conv2d(16, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16))
            self.b2 = nn.Sequential(nn.Conv2d(16, 32, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(32),
                                    nn.ReLU(), nn.Conv2d(32, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32))
            self.short = nn.Sequential(nn.Conv2d(16, 32, 1, stride=2, bias=False), nn.BatchNorm2d(32))
            self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10))

        def forward(self, x):
            x0 = self.stem(x)
            x1 = (self.b1(x0) + x0).relu()
            return self.head((self.b2(x1) + self.short(x1)).relu())

    class UNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = nn.Sequential(nn.Conv2d(1, 16, 3), nn.ReLU(), nn.Conv2d(16, 16, 3), nn.ReLU())
            self.bottom = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(16, 32, 3), nn.ReLU(), nn.Conv2d(32, 32, 3),
                                        nn.ReLU())
            self.up = nn.ConvTranspose2d(32, 16, 2, stride=2)
            self.dec = nn.Sequential(nn.Conv2d(32, 16, 3), nn.ReLU(), nn.Conv2d(16, 16, 3), nn.ReLU(),
                                     nn.Conv2d(16, 2, 1))

        def forward(self, x):
            e = self.enc(x)
            u = self.up(self.bottom(e))
            dh, dw = (e.shape[2] - u.shape[2]) // 2, (e.shape[3] - u.shape[3]) // 2
            e = e[:, :, dh:dh + u.shape[2], dw:dw + u.shape[3]]
            return self.dec(__import__("torch").cat([e, u], 1))

    if name == "small_cnn":
        def make(hw):
            return nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                 nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                                 nn.Linear(64 * (hw // 4) ** 2, 128), nn.ReLU(), nn.Linear(128, 10))
        return make
    if name == "vgg_block":
        return lambda hw: nn.Sequential(
            nn.Conv2d(3, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2, 2), nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, 10))
    if name == "tiny_resnet":
        return lambda hw: Res()
    return lambda hw: UNet()


@pytest.mark.torch
@pytest.mark.parametrize(("name", "sizes"), [("small_cnn", (32, 37, 64)), ("vgg_block", (32, 45)),
                                             ("tiny_resnet", (32, 33, 50)), ("tiny_unet", (60, 61, 92))])
def test_examples_match_pytorch(name, sizes):
    """Parameter counts, output shapes and MACs (FlopCounterMode / 2) of each example equal those of the same
    network written in PyTorch, at several input sizes (odd ones included)."""
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    make = _torch_twin(name)
    model, shape = load_spec(name)
    for hw in sizes:
        net = make(hw).eval()
        a = sc.analyze(model, shape).subs(H=hw, W=hw)
        x = torch.zeros(1, int(shape[0]), hw, hw)
        with torch.no_grad(), FlopCounterMode(display=False) as fc:
            y = net(x)
        assert tuple(y.shape[1:]) == tuple(a.output_shape), (name, hw)
        assert sum(p.numel() for p in net.parameters()) == a.params, (name, hw)
        assert fc.get_total_flops() // 2 == a.macs, (name, hw)


def test_toml_and_yaml_give_the_same_network():
    yaml_text = """
input: [3, H, W]
layers:
  - Conv2d: [3, 64, 3, {padding: 1}]
    name: c1
  - ReLU
  - MaxPool2d: {kernel_size: 2, stride: 2}
  - Conv2d: [64, 128, 3, {padding: 1}]
"""
    toml_text = """
input = [3, "H", "W"]
layers = [{Conv2d = [3, 64, 3, {padding = 1}], name = "c1"}, "ReLU", {MaxPool2d = {kernel_size = 2, stride = 2}},
          {Conv2d = [64, 128, 3, {padding = 1}]}]
"""
    a = sc.analyze(*load_spec(yaml_text))
    b = sc.analyze(*load_spec(toml_text))
    assert a.output_shape == b.output_shape and a.params == b.params and a.macs == b.macs
    assert [r.name for r in a.layers] == [r.name for r in b.layers] == ["c1", "1", "2", "3"]


def test_spec_files_by_path(tmp_path):
    p = tmp_path / "net.yml"
    p.write_text("layers:\n  - Conv2d: [1, 4, 3]\n  - ReLU\n")
    spec = load_spec(p)
    assert spec.name == "net" and spec.input_shape == (1, sc.H, sc.W)  # inferred from the first layer
    assert load_spec(str(p)).input_shape == (1, sc.H, sc.W)


def test_branches_by_name():
    spec = load_spec("""
input: 8xHxW
layers:
  - Conv2d: [8, 8, 3, {padding: 1}]
    name: a
  - Conv2d: [8, 4, 1]
    from: input
    name: b
  - Concat:
    from: [a, b]
  - Conv2d: [12, 2, 1]
""")
    a = sc.analyze(*spec)
    assert a.output_shape == (2, sc.H, sc.W)
    assert [r.name for r in a.layers] == ["a", "b", "concat", "conv2d"]


def test_string_options_and_booleans():
    a = sc.analyze(*load_spec("""
input: [3, H, W]
layers:
  - Conv2d: [3, 8, 3, {stride: 2, padding: tf_same, bias: false}]
  - MaxPool2d: {kernel_size: 3, stride: 2, ceil_mode: true}
"""))
    assert a.layers[0].params == 8 * 27
    assert a.layers[1].layer.ceil_mode is True and a.layers[0].layer.padding == "tf_same"
    # SAME at stride 2: ceil(W/2); then ceil((w - 3)/2) + 1 (ceil mode; floor mode would give 1 and 3)
    assert [a.subs(H=w, W=w).output_shape[2] for w in (8, 16)] == [2, 4]


# --- errors: file, line, field -----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("layers:\n  - Conv2d: [3, 8, 3]\n  - Conv2dd: [8, 8, 3]\n",
         r"<text>, line 3, field layers\[1\]: unknown layer type 'Conv2dd'; did you mean Conv2d"),
        ("layers:\n  - Conv2d: [3, 8, 3, {strid: 2}]\n",
         r"line 2, field layers\[0\]\.Conv2d\.strid: Conv2d has no argument 'strid'"),
        ("input: [3, H, W]\nlayers:\n  - Conv2d: [3, 8, 'W +']\n",
         r"line 3, field layers\[0\]\.Conv2d\[2\]: `kernel_size` 'W \+': unexpected end"),
        ("input: [3, H, W]\nlayers:\n  - Conv2d: [3, 8, 3]\n  - Conv2d: [4, 8, 3]\n",
         r"line 4, field layers\[1\]: layer 1 '1' .*input has 8 channels but `in_channels`=4"),
        ("layers:\n  - Conv2d: [3, 8, 0]\n",
         r"line 2, field layers\[0\]\.Conv2d: Conv2d: `kernel_size`=0 must be positive"),
        ("layers:\n  - Conv2d: [3, 8, 3, {stride: 2, padding: same}]\n",  # PyTorch's 'same': stride 1 only
         r"line 2, field layers\[0\]\.Conv2d: Conv2d: `padding`='same' is not supported for strided convolutions "
         r".*TensorFlow's SAME at any stride is `padding`='tf_same'"),
        ("layers:\n  - Add:\n    from: [x, y]\n", r"line 3, field layers\[0\]\.from\[0\]: 'x' is not an earlier layer"),
        ("layers:\n  - ReLU:\n    name: a\n  - ReLU:\n    name: a\n", r"line 5, .*two layers are named 'a'"),
        ("input: [3, H, W]\nlayerz: []\n", r"line 2, field layerz: unknown key 'layerz'; allowed: name"),
        ("layers: [\n", r"<text>, line 2, column 1: invalid YAML"),
        ("layers:\n  - Conv2d: [3, 8, 3]\n  - ReLU\n", None),
        ("- 1\n- 2\n", r"the spec must be a mapping"),
        ("", r"the spec is empty"),
        ("a: &x [1]\nb: *x\n", r"aliases"),
        ("layers:\n  - Conv2d: [3, 8, 3]\n    ReLU: []\n", r"line 2, field layers\[0\]: a layer entry has exactly one"),
        ("input: [0, H, W]\nlayers:\n  - ReLU\n", r"line 1, field input\[0\]: 0 must be a positive integer"),
        ("layers:\n  - Linear: [.nan, 3]\n", r"not a finite number"),
        ("layers:\n  - Conv2d: [3, 8, 3]\n  - Linear: [10, 2, 3, 4, 5, 6]\n", r"Linear takes at most 5 positional"),
        ("output: nope\nlayers:\n  - Conv2d: [3, 8, 3]\n", r"line 1, field output: 'nope' must be the name"),
        ("layers:\n  - Conv2d: [3, 8, 3]\n  - Linear: {in_features: 5}\n", r"missing a required argument"),
    ],
)
def test_yaml_errors_name_file_line_and_field(text, match):
    if match is None:
        load_spec(text)
        return
    with pytest.raises(SymcnnError, match=match):
        load_spec(text)


def test_toml_errors_name_file_and_field(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text('input = [3, "H", "W"]\n[[layers]]\nConv2d = [3, 8, 3, {stride = "S +"}]\n')
    with pytest.raises(SymcnnError, match=r"bad\.toml, field layers\[0\]\.Conv2d\.stride: `stride` 'S \+'"):
        load_spec(p)
    p.write_text('name = "x"\nlayers = [1 2]\n')
    with pytest.raises(SymcnnError, match=r"bad\.toml: invalid TOML: .*line 2"):
        load_spec(p)


def test_source_errors(tmp_path):
    with pytest.raises(SymcnnError, match=r"missing\.yaml: spec file not found"):
        load_spec(tmp_path / "missing.yaml")
    with pytest.raises(SymcnnError, match=r"'no_such_example' is not an example spec \(examples: small_cnn"):
        load_spec("no_such_example")
    with pytest.raises(SymcnnError, match="`format`='json' must be"):
        load_spec("layers: [ReLU]", format="json")
    with pytest.raises(SymcnnError, match="pass a file path"):
        load_spec(42)
    bad = tmp_path / "latin.yaml"
    bad.write_bytes(b"name: caf\xe9\n")
    with pytest.raises(SymcnnError, match="not UTF-8"):
        load_spec(bad)


# --- injection ---------------------------------------------------------------------------------------------

def _payload_specs(target) -> list[tuple[str, str]]:
    cmd = f"__import__('os').system('touch {target}')"
    return [
        ("yaml", f"layers:\n  - Linear: [\"{cmd}\", 10]\n"),
        ("yaml", f"input: [3, \"{cmd}\", W]\nlayers:\n  - ReLU\n"),
        ("yaml", f"layers:\n  - Conv2d: [3, 8, 3, {{padding: \"{cmd}\"}}]\n"),
        ("yaml", f"layers:\n  - \"{cmd}\"\n"),
        ("yaml", f"layers:\n  - ReLU:\n    name: \"{cmd}\"\n"),
        ("yaml", f"layers:\n  - Conv2d: [3, 8, 3]\n  - Add:\n    from: [\"{cmd}\"]\n"),
        ("yaml", f"layers:\n  - !!python/object/apply:os.system [\"touch {target}\"]\n"),
        ("yaml", f"name: !!python/object/apply:os.system [\"touch {target}\"]\nlayers: [ReLU]\n"),
        ("yaml", f"layers:\n  - Conv2d: !!python/name:os.system\n  - \"touch {target}\"\n"),
        ("toml", f"layers = [{{Linear = [\"{cmd}\", 10]}}]\n"),
        ("toml", f"input = [3, \"{cmd}\", 4]\nlayers = [\"ReLU\"]\n"),
    ]


def test_spec_injection_is_refused_and_nothing_runs(tmp_path):
    target = tmp_path / "pwned"
    for fmt, text in _payload_specs(target):
        with pytest.raises(SymcnnError):
            load_spec(text, format=fmt)
        assert not target.exists(), text


# --- fuzzing the loader ------------------------------------------------------------------------------------

_names = st.sampled_from([*list(LAYER_TYPES)[:40], "Conv2dd", "os", "__import__", "eval", "name", "from", "input"])
_scalars = st.one_of(
    st.integers(-3, 300), st.booleans(), st.none(), st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["W", "H", "2*W", "floor(H/2)", "same", "valid", "max", "W +", "__import__('os')", "3xHxW", ""]),
    st.text(max_size=12),
)
_values = st.recursive(_scalars, lambda c: st.one_of(st.lists(c, max_size=5),
                                                      st.dictionaries(st.text(max_size=10) | _names, c, max_size=4)),
                       max_leaves=12)
_entries = st.one_of(_names, st.dictionaries(_names, _values, min_size=1, max_size=3), _scalars)
_docs = st.fixed_dictionaries(
    {},
    optional={"layers": st.lists(_entries, max_size=6), "input": st.one_of(_values, st.just("3xHxW")),
              "name": _scalars, "output": _scalars, "extra": _values},
)


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "nan" if v != v else ("inf" if v == float("inf") else ("-inf" if v == float("-inf") else repr(v)))
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v if x is not None) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {_toml_value(x)}" for k, x in v.items() if x is not None) + "}"
    return '""'


def _check_load(text: str, fmt: str) -> None:
    try:
        out = load_spec(text, format=fmt)
    except SymcnnError as e:
        assert str(e)
        return
    assert isinstance(out, Spec)


@settings(max_examples=150, deadline=None)
@given(_docs)
def test_fuzz_structured_yaml_documents(doc):
    _check_load(yaml.safe_dump(doc, allow_unicode=True), "yaml")


@settings(max_examples=150, deadline=None)
@given(_docs)
def test_fuzz_structured_toml_documents(doc):
    text = "\n".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in doc.items() if v is not None)
    _check_load(text, "toml")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=string.printable + "é∞", max_size=120), st.sampled_from(["yaml", "toml"]))
def test_fuzz_random_text(text, fmt):
    _check_load(text, fmt)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["layers:", "\n", "  - ", "Conv2d: ", "[3, 8, 3]", "ReLU", "{", "}", "[", "]",
                                 ": ", "name: a", "from: [a]", "&x ", "*x", "!!python/object:os.system", "'W'",
                                 "input: 3xHxW", "Add:", "- ", ",", "    ", "#", "\"", "2*W", "1e400"]),
                max_size=30))
def test_fuzz_yaml_token_soup(parts):
    _check_load("".join(parts), "yaml")


def test_review_findings_special_files_and_huge_toml_integers(tmp_path):
    """A symlink to /dev/zero reports size 0 (read forever before); a 5000-digit TOML integer raised ValueError."""
    zero = tmp_path / "z.yaml"
    zero.symlink_to("/dev/zero")
    with pytest.raises(sc.SymcnnError, match="not a regular file"):
        sc.load_spec(zero)
    big = tmp_path / "big.toml"
    big.write_text("[[layers]]\nLinear = [" + "9" * 5000 + ", 3]\n")
    with pytest.raises(sc.SymcnnError, match="invalid TOML"):
        sc.load_spec(big)


@pytest.mark.parametrize("text", ["W//P", "(W-1)//(W-1)", "W/(P-1)", "W % 0", "mod(W, P)"])
def test_divisors_that_may_be_zero_are_refused(text):
    """Found in review: `W//P` (P may be 0) was accepted; a divisor must be positive for every symbol value."""
    from symcnn._parse import parse_expr_safe

    with pytest.raises(sc.SymcnnError, match="positive"):
        parse_expr_safe(text)
