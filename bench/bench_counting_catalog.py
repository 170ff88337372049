"""``symcnn.count`` against the counting tools on torchvision's convolutional catalog (issue 15).

Run by hand (not in CI; about an hour on 2 cores): ``python bench/bench_counting_catalog.py``. For every
convolutional classification model of torchvision and the video models, in a fresh process per model, at
224 x 224 and one size with H != W (video: (3, 16, 112, 112) and (3, 8, 97, 129); s3d, whose last pooling
needs 7 x 7, at (3, 16, 224, 224) and (3, 16, 225, 257)):

* the real tools on the torchvision module itself: ``torch.utils.flop_counter`` (and torchvision's MACs, its
  half), fvcore, ptflops (pytorch and aten backends), thop, torchinfo; ``sum(p.numel())``, and the parameter
  counts thop and ptflops report;
* ``symcnn.count(analysis, convention=...)`` for each, with the model imported once by ``symcnn.from_torch``
  with symbolic ``(3, H, W)`` (video ``(3, T, H, W)``) and the analysis evaluated at the size; models the
  importer refuses are listed with the first line of its message.

Writes ``bench/counting_catalog.json`` (versions, machine, every figure; the counting page of the site reads
it) and ``bench/COUNTING_CATALOG.md``. Options: ``--models a,b`` (only these; merged into an existing file),
``--render`` (only rewrite the markdown from the JSON), ``--resume`` (skip the models already measured),
``--timeout S`` per model (default 1800).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import datetime
import importlib.metadata
import io
import json
import logging
import platform
import subprocess
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

OUT = ROOT / "bench" / "counting_catalog.json"
MARKDOWN = ROOT / "bench" / "COUNTING_CATALOG.md"
CONVENTIONS = ("torchvision", "flop_counter", "fvcore", "ptflops", "ptflops_aten", "thop", "torchinfo")
TOOLS = ("fvcore", "ptflops", "thop", "torchinfo")
VIDEO = ("r3d_18", "mc3_18", "r2plus1d_18", "s3d")
#: the transformers are not convolutional networks (refused by from_torch on purpose)
_NOT_CNN = ("vit_", "swin_", "maxvit_")


#: measured first: what from_torch imports today (lightest first), then one ConvNeXt (a tool-only note), then
#: the heaviest models (over ~15 GFLOPs at 224); the rest of the catalog (refused by from_torch) last
_FIRST = (
    "alexnet", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d", "mobilenet_v2",
    "mobilenet_v3_small", "mobilenet_v3_large", "mnasnet0_5", "mnasnet0_75", "mnasnet1_0", "mnasnet1_3",
    "squeezenet1_0", "squeezenet1_1", "densenet121", "googlenet", "inception_v3", "r3d_18", "mc3_18",
    "r2plus1d_18", "s3d", "convnext_tiny", "regnet_x_400mf", "regnet_x_800mf", "regnet_x_1_6gf", "regnet_x_3_2gf",
    "regnet_x_8gf", "regnet_y_400mf", "regnet_y_800mf", "regnet_y_1_6gf", "regnet_y_3_2gf", "regnet_y_8gf",
    "densenet161", "densenet169", "densenet201", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "wide_resnet50_2",
    "resnext101_32x8d", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn", "resnext101_64x4d", "wide_resnet101_2",
    "regnet_x_16gf", "regnet_y_16gf", "regnet_x_32gf", "regnet_y_32gf", "regnet_y_128gf",
)


def catalog() -> list[str]:
    """Every convolutional classification model of torchvision and the video models, in the order measured."""
    import torchvision

    names = [n for n in torchvision.models.list_models(module=torchvision.models) if not n.startswith(_NOT_CNN)]
    return list(_FIRST) + [n for n in names + list(VIDEO) if n not in _FIRST]


def sizes(name: str) -> list[tuple[int, ...]]:
    if name == "s3d":
        return [(3, 16, 224, 224), (3, 16, 225, 257)]
    if name in VIDEO:
        return [(3, 16, 112, 112), (3, 8, 97, 129)]
    return [(3, 224, 224), (3, 193, 257)]


def build(name: str):
    import torchvision

    kwargs = {"init_weights": False} if name in ("googlenet", "inception_v3") else {}
    return torchvision.models.get_model(name, weights=None, **kwargs).eval()


@contextlib.contextmanager
def quiet():
    """The tools print and warn; keep the JSON on stdout clean."""
    logging.disable(logging.CRITICAL)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(logging.NOTSET)


def run_tool(tool: str, model, shape) -> dict:
    """``{"total": the tool's printed total, "params": its parameter count where it reports one}``."""
    import torch

    model = copy.deepcopy(model).eval()  # the tools leave hooks and buffers behind
    x = torch.randn(1, *shape)
    with quiet(), torch.no_grad():
        if tool == "flop_counter":
            from torch.utils.flop_counter import FlopCounterMode

            mode = FlopCounterMode(display=False)
            with mode:
                model(x)
            return {"total": mode.get_total_flops()}
        if tool == "fvcore":
            from fvcore.nn import FlopCountAnalysis

            fca = FlopCountAnalysis(model, x)
            fca.unsupported_ops_warnings(False)
            fca.uncalled_modules_warnings(False)
            return {"total": fca.total()}
        if tool == "thop":
            from thop import profile

            total, params = profile(model, inputs=(x,), verbose=False)
            return {"total": total, "params": params}
        if tool in ("ptflops", "ptflops_aten"):
            from ptflops import get_model_complexity_info

            backend = "aten" if tool == "ptflops_aten" else "pytorch"
            total, params = get_model_complexity_info(model, tuple(shape), as_strings=False,
                                                      print_per_layer_stat=False, verbose=False, backend=backend)
            return {"total": total, "params": params}
        if tool == "torchinfo":
            from torchinfo import summary

            stats = summary(model, input_size=(1, *shape), verbose=0)
            return {"total": stats.total_mult_adds, "params": stats.total_params}
    raise ValueError(tool)


def measure_one(name: str) -> dict:
    """Every figure for one model (run in its own process)."""
    import torch

    import symcnn as sc

    torch.set_num_threads(1)  # one core per process: the tools' timings are not the point, and 2 cores are shared
    model = build(name)
    out = {"model": name, "params": sum(p.numel() for p in model.parameters()), "sizes": []}
    symbols = (sc.T, sc.H, sc.W) if name in VIDEO else (sc.H, sc.W)
    t0 = time.perf_counter()
    try:
        with quiet():
            net = sc.from_torch(model, (3, *symbols))
            analysis = sc.analyze(net, (3, *symbols))
        out["symcnn_params"] = int(analysis.params)
    except sc.SymcnnError as e:
        analysis = None
        out["refused"] = str(e).strip().splitlines()[0][:300]
    out["import_s"] = round(time.perf_counter() - t0, 3)
    for shape in sizes(name):
        row: dict = {"shape": list(shape), "tools": {}, "symcnn": {}}
        for tool in ("flop_counter", "fvcore", "ptflops", "ptflops_aten", "thop", "torchinfo"):
            t = time.perf_counter()
            try:
                row["tools"][tool] = run_tool(tool, model, shape)
            except Exception as e:  # noqa: BLE001 - a tool failing (or torch refusing the size) is recorded
                row["tools"][tool] = {"error": f"{type(e).__name__}: {str(e).strip()[:200]}"}
            row["tools"][tool]["seconds"] = round(time.perf_counter() - t, 3)
        flops = row["tools"]["flop_counter"].get("total")
        row["tools"]["torchvision"] = {"total": flops // 2} if flops is not None else {"error": "flop_counter"}
        if analysis is not None and "error" not in row["tools"]["flop_counter"]:
            try:
                at = analysis.subs(dict(zip(symbols, shape[1:], strict=True)))
                for c in CONVENTIONS:
                    row["symcnn"][c] = int(sc.count(at, convention=c))
                row["thop_slack"] = thop_slack(at)
            except sc.SymcnnError as e:
                row["symcnn_error"] = str(e).strip().splitlines()[0][:300]
        out["sizes"].append(row)
    return out


def thop_slack(analysis) -> int:
    """How far below ``count`` thop may print: it computes adaptive average pooling as
    ``int((prod(In/Out) + 1) * numel(out))`` in float64, 1 too low at worst per module whose Out does not divide
    In (e.g. ``AdaptiveAvgPool2d(7)`` on 6 x 8: 48/49 is not exact in binary)."""
    slack = 0
    for rec in analysis.layers:
        call = getattr(rec.layer, "_torch_call", None)
        if rec.kind.startswith("AdaptiveAvgPool") and (call is None or call[0] == "module"):
            pairs = zip(rec.input_shapes[0][1:], rec.output_shape[1:], strict=True)
            slack += any(int(i) % int(o) for i, o in pairs)
    return slack


def versions() -> dict:
    out = {"python": platform.python_version()}
    for pkg in ("torch", "torchvision", "fvcore", "ptflops", "thop", "torchinfo", "sympy"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            out[pkg] = importlib.metadata.version(pkg)
    return out


def _diff(row: dict, c: str):
    """symcnn's total minus the tool's, or None when either is missing."""
    tool = row["tools"].get(c, {}).get("total")
    mine = row["symcnn"].get(c)
    if tool is None or mine is None:
        return None
    return mine - tool


def render(data: dict) -> str:
    lines = ["# symcnn.count against the counting tools on torchvision's catalog", "",
             f"Measured {data['date']} on {data['machine']}; versions: "
             + ", ".join(f"{k} {v}" for k, v in data["versions"].items()) + ".", "",
             "Each cell: `exact` when `symcnn.count(from_torch(model, (3, H, W)), convention)` evaluated at the "
             "size equals the tool's own total on the torchvision module, else symcnn minus the tool. "
             "Sizes: 224 x 224 and 193 x 257 (video: 16 x 112 x 112 and 8 x 97 x 129; s3d 16 x 224 x 224 and "
             "16 x 225 x 257). `(float)`: thop's float64 truncation of adaptive average pooling, at most 1 per "
             "module whose output size does not divide its input (its total is `int((prod(In/Out) + 1) * "
             "numel(out))`); `count` gives the exact value.", ""]
    head = ["model", "size", *CONVENTIONS]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    refused = []
    for m in data["models"]:
        if "refused" in m:
            refused.append(m)
            continue
        for row in m["sizes"]:
            cells = []
            for c in CONVENTIONS:
                d = _diff(row, c)
                err = row["tools"].get(c, {}).get("error")
                cell = "exact" if d == 0 else (f"{d:+,.0f}" if d is not None else ("tool failed" if err else "-"))
                if c == "thop" and d and 0 < d <= row.get("thop_slack", 0):
                    cell += " (float)"
                cells.append(cell)
            size = "x".join(map(str, row["shape"][1:]))
            lines.append(f"| {m['model']} | {size} | " + " | ".join(cells) + " |")
    lines += ["", "## What the tools themselves miss", "",
              "MACs of convolutions and linear layers (`FlopCounterMode` / 2) against each tool's total, and "
              "parameters, where a tool reports less than those MACs (every tool adds its extras to them, so less "
              "means it misses convolution or linear work) or fewer parameters than `sum(p.numel())`.", "",
              "| model | size | tool | tool total | conv+linear MACs | ratio | tool params | sum(p.numel()) |",
              "|---|---|---|---|---|---|---|---|"]
    for m in data["models"]:
        for row in m["sizes"]:
            true = row["tools"].get("torchvision", {}).get("total")
            if not true:
                continue
            for tool in ("fvcore", "ptflops", "ptflops_aten", "thop", "torchinfo"):
                r = row["tools"].get(tool, {})
                total, params = r.get("total"), r.get("params")
                low = total is not None and total < true
                few = params is not None and params < m["params"]
                if low or few:
                    size = "x".join(map(str, row["shape"][1:]))
                    lines.append(f"| {m['model']} | {size} | {tool} | {total:,.0f} | {true:,} | "
                                 f"{total / true:.1%} | {params:,.0f} | {m['params']:,} |"
                                 if params is not None else
                                 f"| {m['model']} | {size} | {tool} | {total:,.0f} | {true:,} | {total / true:.1%} "
                                 f"| - | {m['params']:,} |")
    if refused:
        lines += ["", "## Not imported by from_torch (tools measured, symcnn not compared)", ""]
        lines += [f"- {m['model']}: {m['refused']}" for m in refused]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--models", help="comma-separated model names (default: the whole catalog)")
    ap.add_argument("--render", action="store_true", help="only rewrite the markdown from the JSON")
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--resume", action="store_true", help="skip the models already in the JSON")
    args = ap.parse_args()
    if args.one:
        print(json.dumps(measure_one(args.one)))
        return
    data = json.loads(OUT.read_text()) if OUT.is_file() else {"models": []}
    if not args.render:
        names = args.models.split(",") if args.models else catalog()
        machine = f"{platform.machine()}, {platform.processor() or 'cpu'}, Python {platform.python_version()}"
        data.update(date=datetime.date.today().isoformat(), versions=versions(), machine=machine)
        done = {m["model"]: m for m in data["models"]}
        for name in names:
            if args.resume and name in done:
                continue
            t = time.perf_counter()
            proc = subprocess.run([sys.executable, __file__, "--one", name], capture_output=True, text=True,
                                  timeout=args.timeout)
            if proc.returncode != 0:
                print(f"{name}: failed: {proc.stderr.strip().splitlines()[-1:]}", file=sys.stderr, flush=True)
                continue
            done[name] = json.loads(proc.stdout.strip().splitlines()[-1])
            order = {n: i for i, n in enumerate(catalog())}
            data["models"] = sorted(done.values(), key=lambda m: order.get(m["model"], len(order)))
            OUT.write_text(json.dumps(data, indent=1) + "\n")
            print(f"{name}: {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
    MARKDOWN.write_text(render(data))


if __name__ == "__main__":
    main()
