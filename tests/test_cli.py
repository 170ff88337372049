"""The command line, run as users run it: ``python -m symcnn ...`` in a subprocess (exit status, stdout,
one-line stderr). A few checks that need to patch a collaborator (``docs``) call ``main()`` in-process."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import string
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symcnn as sc
from symcnn import cli
from symcnn._parse import parse_expr_safe
from symcnn.reference import windows_1d


def run(*args: str, cwd=None, script: bool = False) -> subprocess.CompletedProcess:
    cmd = [shutil.which("symcnn")] if script else [sys.executable, "-m", "symcnn"]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=240, cwd=cwd,
                          env={**os.environ, "COLUMNS": "100"})


def bad(*args: str, match: str, cwd=None) -> str:
    """A user mistake: exit 2, nothing on stdout, exactly one line on stderr naming the problem."""
    r = run(*args, cwd=cwd)
    assert r.returncode == 2, (r.returncode, r.stdout[-500:], r.stderr[-2000:])
    assert r.stdout == ""
    assert "Traceback" not in r.stderr
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert match in lines[0], lines[0]
    return lines[0]


# --- help ------------------------------------------------------------------------------------------------

def test_help_everywhere_with_examples():
    r = run("--help")
    assert r.returncode == 0 and "summary" in r.stdout and "symcnn solve unet --valid-sizes" in r.stdout
    for command in ("summary", "formula", "solve", "derive", "errata", "models", "docs"):
        assert cli.main([command, "--help"]) == 0


def test_subcommand_help_in_a_subprocess():
    r = run("solve", "--help")
    assert r.returncode == 0
    assert "examples:" in r.stdout and "--valid-sizes" in r.stdout and "--padding P" in r.stdout


@pytest.mark.skipif(shutil.which("symcnn") is None, reason="console script not installed")
def test_console_script():
    r = run("formula", "conv2d", "params", script=True)
    assert r.returncode == 0 and r.stdout.strip() == "K + C*F**2*K/G"


# --- summary ---------------------------------------------------------------------------------------------

def test_summary_symbolic_table_fits_the_terminal():
    r = run("summary", "vgg16")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("vgg16: input (3, H, W)")
    assert "1728*H*W" in r.stdout and "138357544" in r.stdout
    assert max(len(ln) for ln in r.stdout.splitlines()) <= 100  # COLUMNS=100


def test_summary_numbers_csv_published_figures():
    """torchvision's VGG-16: 138,357,544 parameters, 15.470 GMACs (FORMULAS.md §5.3)."""
    r = run("summary", "vgg16", "--input", "3x224x224", "--format", "csv")
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    total = rows[-1]
    assert total["name"] == "total" and int(total["params"]) == 138_357_544
    assert round(int(total["MACs"]) / 1e9, 3) == 15.470
    assert sum(int(row["MACs"]) for row in rows[:-1]) == int(total["MACs"])  # the total is the sum


def test_summary_subs_and_formats_agree():
    """--subs on a spec example; JSON and Markdown give the same cells, and --input gives the same numbers as
    --subs."""
    j = run("summary", "small_cnn", "--subs", "H=32,W=32", "--format", "json")
    m = run("summary", "small_cnn", "--input", "3x32x32", "--format", "markdown")
    assert j.returncode == m.returncode == 0, (j.stderr, m.stderr)
    doc = json.loads(j.stdout)
    assert doc["total"]["params"] == 545_098  # 896 + 18496 + 524416 + 1290, per layer from the formulas
    md_rows = [ln for ln in m.stdout.splitlines() if ln.startswith("| ") and not ln.startswith("| #")]
    for layer, line in zip(doc["layers"], md_rows, strict=False):
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert int(cells[4]) == layer["params"] and int(cells[5]) == layer["macs"]


@pytest.mark.parametrize("fmt", ["latex", "html"])
def test_summary_other_formats(fmt):
    n_layers = len(sc.analyze(*sc.load_spec("tiny_resnet")).layers)
    r = run("summary", "tiny_resnet", "--format", fmt)
    assert r.returncode == 0, r.stderr
    if fmt == "latex":
        assert "\\toprule" in r.stdout and "\\begin{align*}" in r.stdout
    else:
        assert r.stdout.startswith("<div><table>") and r.stdout.count("<tr>") == n_layers + 2


def test_summary_of_spec_file_and_python_module(tmp_path):
    (tmp_path / "net.toml").write_text('input = "3xHxW"\nlayers = [{Conv2d = [3, 4, 3, {stride = 2}]}, "ReLU"]\n')
    (tmp_path / "mynets.py").write_text(
        "import symcnn as sc\n"
        "net = sc.Sequential(sc.Conv2d(3, 4, 3, stride=2), sc.ReLU())\n"
        "def make():\n    return net\n"
    )
    outs = [run("summary", "net.toml", "--subs", "H=9,W=9", "--format", "csv", cwd=tmp_path),
            run("summary", "mynets:net", "--input", "3x9x9", "--format", "csv", cwd=tmp_path),
            run("summary", "mynets:make", "--input", "3x9x9", "--format", "csv", cwd=tmp_path)]
    for r in outs:
        assert r.returncode == 0, r.stderr
    rows = [list(csv.reader(io.StringIO(r.stdout)))[1:] for r in outs]
    # 4 = floor((9 - 3)/2) + 1; params 4*27 + 4 = 112
    assert rows[0][0][3] == "(4, 4, 4)" and rows[0][0][4] == "112"
    assert [r[3:] for r in rows[0]] == [r[3:] for r in rows[1]] == [r[3:] for r in rows[2]]


@pytest.mark.torch
def test_summary_of_a_torch_module(tmp_path):
    pytest.importorskip("torch")
    (tmp_path / "tnet.py").write_text(
        "import torch.nn as nn\n"
        "model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),\n"
        "                      nn.Linear(8 * 16 * 16, 10))\n"
        "n_params = sum(p.numel() for p in model.parameters())\n"
    )
    r = run("summary", "tnet:model", "--input", "3x32x32", "--format", "json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    sys.path.insert(0, str(tmp_path))
    try:
        import tnet
    finally:
        sys.path.remove(str(tmp_path))
    assert json.loads(r.stdout)["total"]["params"] == tnet.n_params


def test_summary_of_a_torchvision_or_timm_model_by_name():
    torchvision = pytest.importorskip("torchvision")
    r = run("summary", "torchvision:mobilenet_v3_small", "--input", "3x193x257", "--format", "json")
    assert r.returncode == 0, r.stderr
    model = torchvision.models.get_model("mobilenet_v3_small", weights=None)
    assert json.loads(r.stdout)["total"]["params"] == sum(p.numel() for p in model.parameters())
    for name, said in (("torchvision:no_such_net", "torchvision has no model 'no_such_net'"),
                       ("timm:no_such_net", "timm cannot build it")):
        if name.startswith("timm"):
            pytest.importorskip("timm")
        r = run("summary", name)
        assert r.returncode != 0 and said in r.stderr and "Traceback" not in r.stderr


def test_summary_with_a_tool_convention():
    """fvcore's ResNet-18 total, 1.819 G (FORMULAS.md §5.3), through symcnn.count."""
    pytest.importorskip("symcnn.counting")
    r = run("summary", "resnet18", "--input", "3x224x224", "--convention", "fvcore", "--format", "json")
    assert r.returncode == 0, r.stderr
    facts = json.loads(r.stdout)["facts"]
    assert round(facts["count (fvcore)"] / 1e9, 3) == 1.819


# --- formula ---------------------------------------------------------------------------------------------

def test_formula_text_parses_back_and_matches_brute_force():
    """The printed closed form, parsed back with the whitelist parser, counts the same windows as window
    enumeration for every W, F, S, P, D in a grid."""
    r = run("formula", "conv2d", "output_size")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "floor((W + 2*P - D*(F - 1) - 1)/S) + 1"
    expr = parse_expr_safe(r.stdout.strip())
    checked = 0
    for w in range(1, 16):
        for f in range(1, 5):
            for s in range(1, 4):
                for p in range(0, 3):
                    for d in range(1, 3):
                        if w + 2 * p < d * (f - 1) + 1:
                            continue
                        got = expr.xreplace({sc.W: w, sc.F: f, sc.S: s, sc.P: p, sc.D: d})
                        assert got == len(windows_1d(w, f, s, p, dilation=d))
                        checked += 1
    assert checked > 900


def test_formula_options_latex_and_constraints():
    r = run("formula", "conv2d", "output_size", "--stride", "2", "--padding", "tf_same")
    assert r.returncode == 0 and r.stdout.strip() == "ceil(W/2)"
    r = run("formula", "conv2d", "output_size", "--stride", "2", "--padding", "same")  # PyTorch refuses it
    assert r.returncode == 2 and "not supported for strided convolutions" in r.stderr and "'tf_same'" in r.stderr
    r = run("formula", "conv2d", "output_size", "--padding", "same")  # PyTorch's: stride 1, a condition on S
    assert r.returncode == 0 and r.stdout.strip() == "W"
    r = run("formula", "convtranspose2d", "output_shape", "--latex", "--dilation", "1")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == ("\\left(K, S \\left(H - 1\\right) + F + OP - 2 P, "
                                "S \\left(W - 1\\right) + F + OP - 2 P\\right)")
    r = run("formula", "maxpool2d", "constraints")
    assert r.returncode == 0 and "F >= 2*P" in r.stdout


# --- solve -----------------------------------------------------------------------------------------------

def test_solve_layer_padding():
    r = run("solve", "conv2d", "--input", "3x224x224", "--output", "64x112x112", "--kernel", "7", "--stride", "2",
            "--padding", "P")
    assert r.returncode == 0, r.stderr
    assert "closed form: P = 3" in r.stdout and "1 found" in r.stdout
    r = run("solve", "conv2d", "--input", "3x224x224", "--output", "64x112x112", "--kernel", "F", "--stride", "S",
            "--padding", "P", "--bounds", "F=1:5,S=1:4,P=0:2")
    assert r.returncode == 0, r.stderr
    found = [ln.strip() for ln in r.stdout.splitlines() if ln.strip().startswith("F=")]
    # brute force: every (F, S, P) in the bounds with floor((224 + 2P - F)/S) + 1 == 112
    want = [f"F={f}, S={s}, P={p}" for f in range(1, 6) for s in range(1, 5) for p in range(0, 3)
            if (224 + 2 * p - f) // s + 1 == 112]
    assert found == want


def test_solve_valid_sizes_match_brute_force():
    """tiny_unet: the listed exact sizes are those where the network runs and the pooled size is exact."""
    r = run("solve", "tiny_unet", "--valid-sizes", "--between", "1,120", "--exact")
    assert r.returncode == 0, r.stderr
    listed = [int(v) for v in r.stdout.splitlines()[1].split(":", 1)[1].split(",")]
    model, _ = sc.load_spec("tiny_unet")
    want = []
    for w in range(1, 121):
        try:
            sc.analyze(model, (1, w, w))
        except sc.SymcnnError:
            continue
        if (w - 4) % 2 == 0:  # the 2x2 pool after two unpadded 3x3 convolutions
            want.append(w)
    assert listed == want


# --- derive, errata, models, docs --------------------------------------------------------------------------

def test_derive_one_and_list():
    r = run("derive", "same_padding")
    assert r.returncode == 0, r.stderr
    assert "**Check**: 12600 cases, 0 mismatches" in r.stdout and "verified: True" in r.stdout
    assert cli.main(["derive", "--list"]) == 0


def test_errata_rerun():
    r = run("errata")
    assert r.returncode == 0, r.stderr
    assert "transposed_offset" in r.stdout and "all verified: True" in r.stdout
    assert "counterexample: {'X': 1, 'F': 1, 'S': 3, 'P': 1}" in r.stdout


def test_models_lists_zoo_and_examples():
    r = run("models")
    assert r.returncode == 0, r.stderr
    vgg = next(ln for ln in r.stdout.splitlines() if ln.startswith("vgg16 "))
    assert "138,357,544" in vgg and "15,470,264,320" in vgg
    assert "tiny_unet" in r.stdout


def test_docs_calls_docsgen(monkeypatch, capsys):
    import symcnn.docsgen as docsgen

    calls = []
    monkeypatch.setattr(docsgen, "build", lambda **kw: calls.append(("build", kw)), raising=False)
    monkeypatch.setattr(docsgen, "serve", lambda **kw: calls.append(("serve", kw)), raising=False)
    assert cli.main(["docs", "build"]) == 0
    assert cli.main(["docs", "serve", "--port", "8123"]) == 0
    assert calls == [("build", {"site_dir": "site", "strict": True, "force": False, "cli": cli.main}),
                     ("serve", {"host": "127.0.0.1", "port": 8123, "cli": cli.main})]
    monkeypatch.delattr(docsgen, "build")
    assert cli.main(["docs", "build"]) == 2
    assert "symcnn.docsgen.build is not available" in capsys.readouterr().err


# --- bad input: exit 2, one line, no traceback -------------------------------------------------------------

_BAD = [
    ((), "the following arguments are required: COMMAND"),
    (("summary", "nope"), "unknown model 'nope'"),
    (("summary", "vgg16", "--input", "3x0x4"), "`input_shape`=0 must be positive"),
    (("summary", "vgg16", "--input", "3xHx"), "--input: '3xHx' must look like 3x224x224"),
    (("summary", "vgg16", "--format", "xml"), "invalid choice: 'xml'"),
    (("summary", "vgg16", "--subs", "Q=3"), "`Q` is not a symbol of this analysis"),
    (("summary", "lenet5", "--input", "1x4x4"), "layer 0 'C1'"),
    (("formula", "conv2d", "volume"), "unknown quantity 'volume'"),
    (("formula", "conv9d", "params"), "unknown layer 'conv9d'"),
    (("formula", "conv2d", "params", "--strid", "2"), "unrecognized arguments: --strid 2"),
    (("formula", "conv2d", "params", "--arg", "strides=2"), "Conv2d has no argument `strides`"),
    (("solve", "conv2d", "--input", "3x224x224"), "give --output"),
    (("solve", "vgg16", "--valid-sizes", "--between", "1-5"), "--between: '1-5' must look like 32,1024"),
    (("derive", "nope"), "unknown derivation 'nope'"),
    (("errata", "nope"), "unknown erratum 'nope'"),
    (("summary", "json:dumps"), "'json' is a standard-library module"),
    (("summary", "os:system"), "'os' is a standard-library module"),
    (("summary", "no_such_module_xyz:net"), "cannot import 'no_such_module_xyz'"),
]


@pytest.mark.parametrize(("args", "match"), _BAD[:6])
def test_bad_input_one_line_exit_2(args, match):
    """In a subprocess: argparse errors and SymcnnErrors both end as one line and exit 2."""
    bad(*args, match=match)


@pytest.mark.parametrize(("args", "match"), _BAD[6:])
def test_bad_input_one_line_exit_2_in_process(args, match, capsys):
    assert cli.main(list(args)) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1 and match in err, err


def test_injection_is_refused_and_nothing_runs(tmp_path):
    target = tmp_path / "pwned"
    payload = f"__import__('os').system('touch {target}')"
    bad("summary", "vgg16", "--subs", f"H={payload}", match="--subs: \"H=__import__")
    bad("summary", "vgg16", "--input", f"3x{payload}xW", match="--input")
    bad("formula", "conv2d", "output_size", "--stride", payload, match="--stride")
    bad("solve", "conv2d", "--input", "3x224x224", "--output", f"64x{payload}", "--kernel", "3",
        match="--output")
    spec = tmp_path / "evil.yaml"
    spec.write_text(f'layers:\n  - Linear: ["{payload}", 10]\n')
    bad("summary", str(spec), match="evil.yaml, line 2, field layers[0].Linear[0]")
    spec.write_text(f'layers:\n  - !!python/object/apply:os.system ["touch {target}"]\n')
    bad("summary", str(spec), match="evil.yaml, line 2, column 5: invalid YAML")
    bad("summary", "os:system('touch x')", match="use module:attribute with Python names")
    assert not target.exists()


def test_parsers_in_process():
    assert cli.parse_shape("3xHxW") == (3, sc.H, sc.W)
    assert cli.parse_shape("1, 2*H, max(W, 8)")[2] == parse_expr_safe("max(W, 8)")
    assert cli.parse_subs("H=224, W=2*K") == {"H": 224, "W": 2 * sc.K}
    with pytest.raises(sc.SymcnnError, match="must look like NAME=INTEGER or NAME=EXPRESSION"):
        cli.parse_subs("H")


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(["--input", "--subs", "--stride", "--padding", "--kernel", "--arg"]),
       st.text(alphabet=string.printable + "×é", min_size=1, max_size=40))
def test_fuzz_option_values_only_exit_0_or_2(option, value):
    """Random option values: the CLI answers (0) or refuses on one line (2); no exception escapes."""
    import contextlib

    if option in ("--input", "--subs"):
        argv = ["summary", "small_cnn", option, value]
    else:
        argv = ["formula", "conv2d", "output_shape", option, value]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    assert code in (0, 2), (argv, code)
    if code == 2:
        assert len(err.getvalue().splitlines()) == 1 and "Traceback" not in err.getvalue()


# --- found in review: each of these once gave a traceback, a hang or a misleading hint -----------------------

@pytest.mark.parametrize(("args", "match"), [
    (("summary", "vgg16", "--subs", "W=" + "1**" * 600 + "1"), "nested more than"),
    (("summary", "vgg16", "--subs", "W=((((H+1)**8)**8)**8)"), "degree 64"),
    (("solve", "resnet50", "--valid-sizes", "--between", "1,999999999"), "at most 1,000,000"),
    (("docs", "serve", "--port", "99999"), "between 0 and 65535"),
    (("formula", "connectiontableconv2d", "params"), "cannot be given on the command line"),
], ids=["power-chain", "power-tower", "between-cap", "port", "table"])
def test_review_findings_are_one_line_errors(args, match):
    bad(*args, match=match)


def test_formula_defaults_the_input_rank_of_batchnorm_1d_and_3d():
    for layer, want in (("batchnorm1d", "(C, L)"), ("batchnorm3d", "(C, T, H, W)")):
        r = run("formula", layer, "output_shape")
        assert r.returncode == 0 and r.stdout.strip() == want, (r.stdout, r.stderr)


def test_a_module_that_exits_on_import_is_a_one_line_error(tmp_path):
    (tmp_path / "exits_on_import.py").write_text("import sys\nsys.exit(3)\n")
    bad("summary", "exits_on_import:model", match="called sys.exit(3)", cwd=tmp_path)


def test_formula_takes_the_channels_from_input():
    """Found in review: `--input 64xHxW` was ignored for in_channels (the formula kept the symbol C)."""
    r = run("formula", "linear", "params", "--input", "10")
    assert r.returncode == 0 and r.stdout.strip() == "11*K", (r.stdout, r.stderr)
    r = run("formula", "conv2d", "macs", "--kernel", "3", "--input", "64xHxW")
    assert r.returncode == 0 and r.stdout.startswith("576*K*"), (r.stdout, r.stderr)
