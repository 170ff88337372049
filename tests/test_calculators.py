"""The browser calculators' generated JavaScript, run under node, against the library.

Per layer family, one node process computes >= 10,000 random inputs (valid and refused; sizes, channels and
arguments up to 2**63, far above 2**53 where Number arithmetic would round) and every output (sizes, params,
MACs, FLOPs, connections, the derived facts) and every refusal message must equal :func:`symcnn.analyze` of the
same layer (``reference_result``). The derived facts (last pooling window, adaptive windows) are also checked
against brute-force window enumeration (``symcnn.reference``) on small inputs.
"""

from __future__ import annotations

import functools
import json
import pathlib
import random
import re
import shutil
import subprocess

import pytest

from symcnn import reference
from symcnn.docsgen import _calculators
from symcnn.docsgen._calculators import CALCULATORS, reference_result

N_PER_FAMILY = 10_000
FAMILIES = {
    "conv": ("conv1d", "conv2d", "conv3d"),
    "same": ("conv2d_same",),
    "transposed": ("conv_transpose1d", "conv_transpose2d", "conv_transpose3d"),
    "pool": ("max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d"),
    "adaptive": ("adaptive_avg_pool2d", "adaptive_max_pool2d"),
    "upsample": ("upsample_scale", "upsample_size"),
}
BIG = 2**53
INT64 = 2**63 - 1

#: one calculator case ``[name, values]`` -> ``{outputs}`` / ``{error}`` / ``{exception}``, in the page's own code
#: (``SYMCNN_CALCULATORS``); node runs it here, the browser in tests/test_site.py
EVALUATE_ONE = r"""([name, values]) => {
  const spec = SYMCNN_CALCULATORS[name];
  const kinds = {};
  for (const row of spec.rows) for (const f of row.fields) kinds[f.name] = row.kind;
  const v = {};
  for (const [k, x] of Object.entries(values)) {
    v[k] = k in kinds ? (kinds[k] === "scale" ? Number(x) : BigInt(x)) : x;
  }
  try {
    const r = spec.compute(v);
    if (r.error !== undefined) return {error: r.error};
    const o = {};
    for (const [k, x] of Object.entries(r.outputs)) {
      if (typeof x !== "bigint") return {exception: "not a BigInt: " + k};
      o[k] = x.toString();
    }
    return {outputs: o};
  } catch (e) { return {exception: String(e)}; }
}"""

_RUN = r"""
const {SYMCNN_CALCULATORS} = require(process.argv[1]);
const cases = JSON.parse(require("fs").readFileSync(0, "utf8"));
const out = cases.map(""" + EVALUATE_ONE + r""");
process.stdout.write(JSON.stringify(out));
"""


@pytest.fixture(scope="module")
def calc_js(tmp_path_factory):
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    path = tmp_path_factory.mktemp("calc") / "calculators.js"
    path.write_text(_calculators.render_js())
    return path


def _node(js: pathlib.Path, cases: list) -> list:
    run = subprocess.run(["node", "-e", _RUN, str(js)], input=json.dumps(cases), capture_output=True, text=True,
                         check=True, timeout=300)
    return json.loads(run.stdout)


# --- random inputs ---------------------------------------------------------------------------------------------

def _int(rng: random.Random, minimum: int, small: int, big: bool) -> int:
    if big and rng.random() < 0.6:  # above 2**53, now and then beyond int64 (refused, as by PyTorch)
        return rng.randrange(BIG, 2**63) if rng.random() < 0.93 else rng.randrange(INT64 - 3, 2**64)
    return rng.randrange(minimum, minimum + small)


def _scale(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.05:
        return rng.choice(["0", "-1.5", "-2", "0.0"])
    if r < 0.5:
        return rng.choice(["2", "1.5", "0.5", "1.7", "0.7", "1.3", "3", "2.5", "0.3", "10.1", "0.25", "1.1", "4"])
    return repr(round(rng.uniform(0.01, 6), rng.randrange(1, 5)))


def _case(rng: random.Random, name: str) -> dict:
    calc = CALCULATORS[name]
    big = rng.random() < 0.4
    values = {}
    for row in calc.rows:
        for f in row.fields():
            if f.kind == "scale":
                values[f.name] = _scale(rng)
            elif row.role == "shape" or row.symbol == "X":
                values[f.name] = _int(rng, 1, 40, big)
            elif row.symbol in ("C", "K"):
                values[f.name] = _int(rng, 1, 12, big and rng.random() < 0.5)
            elif row.symbol in ("O",):
                values[f.name] = _int(rng, 1, 20, big and rng.random() < 0.5)
            else:  # kernel, stride, padding, dilation, groups, output_padding: mostly small
                values[f.name] = _int(rng, f.minimum, 5, big and rng.random() < 0.15)
    for a in calc.axes:  # mostly inside PyTorch's limits: P <= F/2 (pools), O_p < max(S, D) (transposed)
        if name.startswith(("max_pool", "avg_pool")) and "F_" + a in values and rng.random() < 0.9:
            values[f"P_{a}"] = rng.randrange(0, values[f"F_{a}"] // 2 + 1) if values[f"F_{a}"] < BIG else \
                values[f"P_{a}"]
        if f"O_p_{a}" in values and rng.random() < 0.9:
            values[f"O_p_{a}"] = rng.randrange(0, min(max(values[f"S_{a}"], values[f"D_{a}"]), 2**63))
    if "G" in values and rng.random() < 0.8:  # channels divisible by groups, mostly
        values["C"] = values["G"] * rng.randrange(1, 4)
        values["K"] = values["G"] * rng.randrange(1, 4)
    if rng.random() < 0.2:  # one field below its minimum: refused
        f = rng.choice(calc.fields)
        values[f.name] = "-1.5" if f.kind == "scale" else f.minimum - rng.randrange(1, 3)
    for c in calc.choices:
        values[c.name] = rng.choice([o for o, _ in c.options])
    return values


def _as_python(name: str, values: dict) -> dict:
    calc = CALCULATORS[name]
    return {k: (float(v) if k in {f.name for f in calc.fields if f.kind == "scale"} else v) for k, v in values.items()}


@functools.cache
def random_cases(family: str) -> tuple[list, list]:
    """``N_PER_FAMILY`` random inputs of a family's calculators, as ``(name, {field: text})``, and what the
    library says for each (``{"outputs": {key: text}}`` or ``{"error": message}``); shared with the browser test,
    which runs the same inputs in the page."""
    rng = random.Random(f"calc-{family}")
    names = FAMILIES[family]
    cases, wants = [], []
    for k in range(N_PER_FAMILY):
        name = names[k % len(names)]
        values = _case(rng, name)
        cases.append((name, {key: str(v) for key, v in values.items()}))
        want = reference_result(CALCULATORS[name], _as_python(name, values))
        if "outputs" in want:
            want = {"outputs": {key: str(v) for key, v in want["outputs"].items()}}
        wants.append(want)
    return cases, wants


def check_family(family: str, got: list) -> None:
    """``got`` (the generated code's answers to :func:`random_cases`) equals the library on every input; the
    inputs exercise refusals, valid inputs, values above 2**53 and refusals beyond int64."""
    cases, wants = random_cases(family)
    assert len(got) == len(cases) >= N_PER_FAMILY
    mismatches = [(name, values, g, w) for (name, values), g, w in zip(cases, got, wants, strict=True) if g != w]
    assert mismatches[:5] == []
    refused = sum("error" in w for w in wants)
    big_valid = sum("outputs" in w and any(v.lstrip("-").isdigit() and int(v) >= BIG for v in values.values())
                    for (_, values), w in zip(cases, wants, strict=True))
    beyond = sum("int64" in w.get("error", "") for w in wants)
    assert refused > N_PER_FAMILY // 20, refused            # refusals are exercised
    assert len(cases) - refused > N_PER_FAMILY // 4         # and valid inputs
    assert big_valid > N_PER_FAMILY // 10, big_valid         # including values above 2**53
    assert beyond > N_PER_FAMILY // 100, beyond              # and refusals beyond int64


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_calculators_equal_the_library(calc_js, family):
    cases, _ = random_cases(family)
    check_family(family, _node(calc_js, cases))


# --- derived facts against brute force ------------------------------------------------------------------------

def test_pool_last_window_facts_match_the_window_enumeration(calc_js):
    rng = random.Random(1)
    cases = []
    while len(cases) < 1500:
        name = rng.choice(FAMILIES["pool"])
        values = CALCULATORS[name].defaults()
        for a in CALCULATORS[name].axes:
            values.update({f"X_{a}": rng.randrange(1, 30), f"F_{a}": rng.randrange(1, 6),
                           f"S_{a}": rng.randrange(1, 5)})
            values[f"P_{a}"] = rng.randrange(0, values[f"F_{a}"] // 2 + 1)
            if name.startswith("max_pool"):
                values[f"D_{a}"] = rng.randrange(1, 3)
        for c in CALCULATORS[name].choices:
            values[c.name] = rng.choice([o for o, _ in c.options])
        if "outputs" in reference_result(CALCULATORS[name], values):
            cases.append((name, values))
    got = _node(calc_js, [(n, {k: str(v) for k, v in vals.items()}) for n, vals in cases])
    for (name, v), g in zip(cases, got, strict=True):
        ceil = v["ceil_mode"] == "True"
        divisor = 1
        for a in CALCULATORS[name].axes:
            d = v.get(f"D_{a}", 1)
            w, f, s, p = v[f"X_{a}"], v[f"F_{a}"], v[f"S_{a}"], v[f"P_{a}"]
            starts = reference.windows_1d(w, f, s, p, p, d, ceil)
            last = starts[-1]
            taps = [last + t * d for t in range(f)]
            assert int(g["outputs"][f"{a}_out"]) == len(starts), (name, v)
            assert int(g["outputs"][f"last_start_{a}"]) == last, (name, v)
            assert int(g["outputs"][f"overhang_{a}"]) == max(0, taps[-1] + 1 - (w + p)), (name, v)
            lo = -p if v.get("count_include_pad") == "True" else 0
            hi = w + p if v.get("count_include_pad") == "True" else w
            divisor *= sum(lo <= t < hi for t in taps)
        if name.startswith("avg_pool"):
            assert int(g["outputs"]["divisor"]) == divisor, v


def test_adaptive_windows_match_the_enumeration(calc_js):
    rng = random.Random(2)
    cases = []
    for _ in range(1000):
        values = CALCULATORS["adaptive_avg_pool2d"].defaults()
        values.update({"X_H": rng.randrange(1, 60), "X_W": rng.randrange(1, 60), "O_H": rng.randrange(1, 40),
                       "O_W": rng.randrange(1, 40)})
        cases.append(("adaptive_avg_pool2d", values))
    got = _node(calc_js, [(n, {k: str(v) for k, v in vals.items()}) for n, vals in cases])
    for (_, v), g in zip(cases, got, strict=True):
        for a in "HW":
            w, o = v[f"X_{a}"], v[f"O_{a}"]
            lengths = [-(-(i + 1) * w // o) - (i * w) // o for i in range(o)]
            assert int(g["outputs"][f"longest_{a}"]) == max(lengths), v
            assert int(g["outputs"][f"total_{a}"]) == sum(lengths), v


def test_upsample_size_follows_pytorch_double_rounding(calc_js):
    torch = pytest.importorskip("torch")
    cases = [("upsample_scale", {**CALCULATORS["upsample_scale"].defaults(), "X_H": w, "X_W": 7, "s_H": s})
             for w, s in [(10, "1.7"), (90, "0.7"), (4, "0.3"), (7, "2.5"), (33, "1.1"), (1000, "0.001")]]
    got = _node(calc_js, [(n, {k: str(v) for k, v in vals.items()}) for n, vals in cases])
    for (_, v), g in zip(cases, got, strict=True):
        x = torch.zeros(1, 1, v["X_H"], 7)
        want = torch.nn.functional.interpolate(x, scale_factor=(float(v["s_H"]), 2.0), mode="nearest").shape[2]
        assert int(g["outputs"]["H_out"]) == want, v


# --- the generated code --------------------------------------------------------------------------------------

def test_generated_code_is_exact_integer_arithmetic():
    for calc in CALCULATORS.values():
        code = _calculators.generate_js(calc)
        assert "Math." not in code and "Number(" not in code and "parseInt" not in code, calc.name
        for block in re.findall(r"return \{outputs: \{(.*?)\}\};", code, re.S):
            assert re.findall(r"(?<![\w.])\d+(?![\dn])", block) == [], (calc.name, block)
        for cond in re.findall(r"if \(!\((.*?)\)\) return", code):
            if re.fullmatch(r"vs_\w+ > 0", cond):
                continue  # a scale is PyTorch's double: its sign is the one Number test
            assert re.findall(r"(?<![\w.])\d+(?![\dn])", cond) == [], (calc.name, cond)


def test_message_template_turns_quoted_expressions_into_bigint_js():
    names = {"vF", "vD", "vW", "vP", "vS"}
    t = _calculators.message_template("kernel vF (effective vD*(vF - 1) + 1) is larger than vW + 2*vP along axis W",
                                      names)
    assert t == "`kernel ${vF} (effective ${((vD * (vF - 1n)) + 1n)}) is larger than ${(vW + (2n * vP))} along axis W`"
    t = _calculators.message_template("input vW + max(0, vS*floor((vW - 1)/vS) - vW + 1) here", names)
    assert t == "`input ${(vW + bmax(0n, (((vS * fdiv((vW - 1n), vS)) - vW) + 1n)))} here`"


def test_thousands_separators_and_fraction_repr(calc_js):
    run = ("const m = require(process.argv[1]);"
           "console.log(JSON.stringify([m.grouped(0n), m.grouped(999n), m.grouped(1000n), m.grouped(-1234567n),"
           " m.grouped(51279818440209279921n), m.pyfraction(-1000.5), m.pyfraction(0.1), m.pyfraction(-2)]));")
    out = json.loads(subprocess.run(["node", "-e", run, str(calc_js)], capture_output=True, text=True, check=True,
                                    timeout=60).stdout)
    from fractions import Fraction

    assert out == ["0", "999", "1,000", "-1,234,567", f"{51279818440209279921:,}", repr(Fraction(-1000.5)),
                   repr(Fraction(0.1)), repr(Fraction(-2.0))]


def test_every_calculator_has_labels_and_hints():
    for calc in CALCULATORS.values():
        for row in calc.rows:
            assert row.label and row.hint and len(row.hint) < 120, (calc.name, row.symbol)
        for c in calc.choices:
            assert c.hint, (calc.name, c.name)
        keys = [k for k, _ in _calculators._out_keys(calc)]
        assert set(reference_result(calc, calc.defaults())["outputs"]) == set(keys), calc.name
