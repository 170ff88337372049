"""symcnn benchmarks: one command, ``python bench/run.py`` (run by hand, not in CI; ~3-5 minutes on 2 cores).

Writes ``bench/results.json`` (machine, versions, date, load, every measurement), ``bench/RESULTS.md`` and
``bench/assets/benchmarks.svg``; the docs page ``benchmarks.md`` is rendered from results.json by
``symcnn.docsgen._bench_page``. Sections (each measurement in a fresh process started from here, see
``bench/_worker.py``):

* sweep (issues 8, 15): MACs and params of resnet50, vgg16 and mobilenet_v2 (zoo) and of five torchvision
  models read by ``from_torch`` (resnet50, mobilenet_v3_large, efficientnet_b0, convnext_tiny, regnet_y_400mf)
  at 17 square input sizes (64 to 576, step 32) by symcnn (import, build, analyse, evaluate) and by fvcore,
  ptflops and torchinfo (forward passes of the model's torch twin, or of torchvision's own module, on the CPU);
  wall time per tool, ratio to symcnn, agreement under the matching convention (``symcnn.count``; without it,
  MACs where the conventions coincide);
* scale: for every zoo model, analysis time of symbolic (3, H, W) against depth (layer calls), expression
  size (``sympy.count_ops``) of the output-size and MACs closed forms, marginal cost of one more input size;
* derivations, solver and site build times; the engine timings of issue 2;
* the targets of issues 2, 5, 7 and 8, each reported met or missed (a missed target is reported, not tuned).

Options: ``--quick`` (3 sizes, resnet50 only: a smoke run of the whole pipeline; does not overwrite the
results unless ``--out`` says so), ``--out DIR``, ``--repeat N`` (fresh processes per sweep measurement, the
fastest kept; default 2: load from other processes only ever slows a run down), ``--render`` (only re-render
RESULTS.md and the plots from an existing results.json).
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import symcnn as sc  # noqa: E402
from symcnn import H, W  # noqa: E402
from symcnn.docsgen import _bench_page  # noqa: E402

WORKER = Path(__file__).resolve().parent / "_worker.py"
SIZES = list(range(64, 577, 32))
SWEEP_MODELS = ("resnet50", "vgg16", "mobilenet_v2")
#: torchvision's own models through from_torch (issue 15): the tools count the same torchvision module
CATALOG_SWEEP = ("tv:resnet50", "tv:mobilenet_v3_large", "tv:efficientnet_b0", "tv:convnext_tiny",
                 "tv:regnet_y_400mf")
TOOLS = ("fvcore", "ptflops", "torchinfo")
TIMEOUT = 600


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def worker(*args) -> dict:
    """Run one measurement in a fresh process; its wall time as seen from here is ``wall_s``."""
    cmd = [sys.executable, str(WORKER), *map(str, args)]
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, cwd=ROOT)
    wall = time.perf_counter() - t
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {"error": (proc.stderr.strip().splitlines() or ["no output"])[-1], "wall_s": wall}
    out = json.loads(lines[-1])
    out["wall_s"] = wall
    return out


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {"python": platform.python_version()}
    for dist in ("symcnn", "sympy", "numpy", "torch", "fvcore", "ptflops", "torchinfo", "mkdocs"):
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = None
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    return {
        "cpu": cpu, "cores": os.cpu_count(), "platform": platform.platform(), "versions": versions,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "commit": commit.stdout.strip() or None, "load_before": list(os.getloadavg()),
    }


# --- sections -----------------------------------------------------------------------------------------------
def sweep(models: tuple[str, ...], sizes: list[int], repeat: int) -> dict:
    out = {}
    for name in models:
        if name not in sc.models.names() and not name.startswith("tv:"):
            out[name] = {"error": f"{name} is not in symcnn.models"}
            continue
        row = {}
        for tool in ("symcnn", *TOOLS):
            log(f"sweep {name} {tool}")
            runs = []
            for _ in range(repeat):  # fresh processes; the fastest run is kept (load only ever slows a run)
                r = worker("sweep", tool, name, *sizes)
                r["load"] = os.getloadavg()[0]
                runs.append(r)
            ok = [r for r in runs if "error" not in r]
            r = min(ok, key=lambda r: r["wall_s"] - r["phases_s"].get("twin", 0)) if ok else runs[0]
            r["wall_runs_s"] = [x["wall_s"] for x in runs]
            if "error" not in r and tool != "symcnn":
                # time the user spends in the tool: the process minus building the twin (symcnn's own cost)
                r["tool_s"] = r["wall_s"] - r["phases_s"]["twin"]
            row[tool] = r
        out[name] = row
    return out


def _compare(tool_values: list[int], ours: list[int]) -> dict:
    diffs = [abs(a - b) / max(b, 1) for a, b in zip(tool_values, ours, strict=True)]
    return {"agree": all(a == b for a, b in zip(tool_values, ours, strict=True)), "max_rel_diff": max(diffs),
            "equal_sizes": sum(a == b for a, b in zip(tool_values, ours, strict=True))}


def agreement(sweeps: dict) -> dict:
    """Tool numbers against symcnn's in the tool's convention (``symcnn.count``) or where conventions coincide."""
    out = {}
    for name, row in sweeps.items():
        if "error" in row or "error" in row.get("symcnn", {"error": 1}):
            continue
        ours = row["symcnn"]
        res = {}
        counted = ours.get("counts")
        for tool in TOOLS:
            r = row.get(tool, {})
            if "error" in r:
                res[tool] = {"error": r["error"]}
                continue
            entry = {"params": _compare([r["params"]], [ours["params"]])}
            if counted:
                entry["macs"] = _compare(r["macs"], counted[tool])
                entry["compared"] = f"total vs symcnn.count(convention={tool!r}), closed form evaluated"
            elif tool == "fvcore" and r.get("by_operator"):
                coinciding = [ops.get("conv", 0) + ops.get("linear", 0) + ops.get("addmm", 0)
                              for ops in r["by_operator"]]
                entry["macs"] = _compare(coinciding, ours["macs"])
                entry["compared"] = "fvcore conv + linear (by_operator) vs symcnn MACs: the coinciding convention"
            else:
                entry["compared"] = "not compared: symcnn.count is not available and the totals mix conventions"
            res[tool] = entry
        out[name] = res
    return out


def scale() -> dict:
    out = {}
    for name in sc.models.names():
        log(f"scale {name}")
        out[name] = worker("scale", name)
    return out


def engine() -> dict:
    """The issue-2 engine timings, in this process (after import)."""
    vgg = sc.models.vgg16()
    t = time.perf_counter()
    a = sc.analyze(vgg, (3, H, W))
    first = time.perf_counter() - t
    warm = []
    for _ in range(5):
        t = time.perf_counter()
        sc.analyze(sc.models.vgg16(), (3, H, W))
        warm.append(time.perf_counter() - t)
    f = a.lambdify("macs", symbols=(H, W))
    sizes = np.arange(32, 32 + 10**6, dtype=np.int64)
    evals = []
    for _ in range(3):
        t = time.perf_counter()
        f(sizes, sizes)
        evals.append(time.perf_counter() - t)
    return {"analyze_vgg16_first_s": first, "analyze_vgg16_warm_min_s": min(warm), "eval_1e6_sizes_s": min(evals)}


def others(quick: bool) -> dict:
    out: dict = {}
    log("derive.all()")
    t = time.perf_counter()
    ds = sc.derive.all()
    out["derive"] = {"seconds": time.perf_counter() - t, "count": len(ds), "verified": all(d.verified for d in ds)}
    if "unet" in sc.models.names():
        log("valid_input_sizes(unet)")
        unet = sc.models.get("unet")
        t = time.perf_counter()
        sol = sc.valid_input_sizes(unet, between=(32, 1024), exact=True)
        out["solver"] = {"seconds": time.perf_counter() - t, "what": "valid_input_sizes(unet, between=(32, 1024), "
                         "exact=True)", "result": str(sol)[:300]}
    cli = Path(sys.executable).parent / "symcnn"
    cmd = [str(cli)] if cli.exists() else [sys.executable, "-c", "import sys, symcnn.cli; sys.exit(symcnn.cli.main())"]
    times = []
    for _ in range(3):
        t = time.perf_counter()
        proc = subprocess.run([*cmd, "summary", "resnet50"], capture_output=True, text=True, cwd=ROOT)
        times.append(time.perf_counter() - t)
    out["cli"] = {"first_s": times[0], "median_s": statistics.median(times), "returncode": proc.returncode,
                  "command": "symcnn summary resnet50"}
    try:
        has_site = importlib.util.find_spec("symcnn.docsgen.__main__") is not None
    except ImportError:
        has_site = False
    if has_site and not quick:
        log("site build")
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "symcnn.docsgen", "--site-dir", tmp], capture_output=True,
                                  text=True, cwd=ROOT, timeout=TIMEOUT)
            out["site"] = {"seconds": time.perf_counter() - t, "returncode": proc.returncode,
                           "command": "python -m symcnn.docsgen --site-dir <tmpdir>",
                           "stderr_tail": proc.stderr.strip().splitlines()[-1:] if proc.returncode else []}
    else:
        out["site"] = {"error": "symcnn.docsgen has no __main__ yet" if not has_site else "skipped (--quick)"}
    return out


# --- targets ------------------------------------------------------------------------------------------------
_OPS = {"<": lambda v, lim: v < lim, "<=": lambda v, lim: v <= lim, ">=": lambda v, lim: v >= lim}


def target(issue: str, what: str, value, limit, unit: str, comparison: str = "<", note: str = "") -> dict:
    """One target: ``value comparison limit`` decides ``met`` (None when not measured)."""
    met = None if value is None else bool(_OPS[comparison](value, limit))
    return {"issue": issue, "what": what, "value": value, "limit": limit, "unit": unit, "comparison": comparison,
            "met": met, "note": note}


def targets(res: dict) -> list[dict]:
    out = []
    eng = res.get("engine", {})
    if eng:
        out.append(target("2", "analyze(vgg16, (3, H, W)) first call, after import", eng["analyze_vgg16_first_s"],
                          0.3, "s"))
        out.append(target("2", "MACs of vgg16 at 10^6 input sizes (lambdified, vectorised)",
                          eng["eval_1e6_sizes_s"], 1.0, "s"))
    sc_ = res.get("scale", {})
    for name, limit in (("resnet50", 1.0), ("resnet152", 2.0), ("densenet121", 2.0)):
        r = sc_.get(name, {})
        value = r.get("analyze_first_s")
        out.append(target("5/7", f"analyze({name}, (3, H, W)) symbolic, first call in a fresh process", value,
                          limit, "s", note="" if value is not None else r.get("error", "not in the zoo")))
    many, fwd = res.get("many", {}), res.get("forward", {})
    if "error" not in many and "error" not in fwd and many and fwd:
        fastest = min(fwd["first_s"], fwd["warm_min_s"])
        out.append(target("5/7", "MACs of resnet50 at 100 input sizes, fresh process (wall) vs ONE torch forward "
                          "at 224 (fastest of 6)", many["wall_s"], fastest, "s",
                          note=f"forward: first {fwd['first_s']:.3f} s, median of the next 5 "
                               f"{fwd['warm_median_s']:.3f} s; symcnn after interpreter start "
                               f"{many['process_s']:.3f} s"))
    cli = res.get("others", {}).get("cli")
    if cli:
        out.append(target("5/7", "`symcnn summary resnet50` cold start (subprocess, first run)", cli["first_s"],
                          2.0, "s"))
    for name, row in res.get("sweep", {}).items():
        if "error" in row or "error" in row.get("symcnn", {"error": 1}):
            out.append(target("8", f"{name}: sweep of 17 sizes, fastest tool / symcnn", None, 10, "x",
                              ">=", note=row.get("error", "symcnn sweep failed")))
            continue
        tools = {t: row[t] for t in TOOLS if "error" not in row.get(t, {"error": 1})}
        if not tools:
            continue
        fastest = min(tools, key=lambda t: tools[t]["tool_s"])
        ratio = tools[fastest]["tool_s"] / row["symcnn"]["wall_s"]
        out.append(target("8", f"{name}: sweep of {len(res['sizes'])} sizes, fastest tool ({fastest}) / symcnn, "
                          "fresh processes", ratio, 10, "x", ">="))
        per = {t: statistics.median(tools[t]["per_size_s"][1:] or tools[t]["per_size_s"]) for t in tools}
        fastest_per = min(per, key=per.get)
        ours = row["symcnn"].get("marginal", {}).get("scalar_median_s")
        out.append(target("8", f"{name}: one more input size, fastest tool ({fastest_per}) / symcnn (scalar call "
                          "of the lambdified MACs)", per[fastest_per] / ours if ours else None, 1000, "x", ">="))
    r50 = sc_.get("resnet50", {})
    if "feature_size" in r50:
        fs = r50["feature_size"]
        out.append(target("8", f"resnet50 output size `{fs['expr']}` is a single integer-division term",
                          int(fs["single_division"]), 1, "yes=1", ">="))
    if "macs" in r50:
        out.append(target("8", "resnet50 MACs(H, W): distinct product terms after collecting",
                          r50["macs"]["product_terms"], 8, "terms", "<="))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="3 sizes, resnet50 only, no site build")
    p.add_argument("--repeat", type=int, default=2, help="fresh processes per sweep measurement; the fastest is kept")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: bench/, or a temp dir if --quick)")
    p.add_argument("--render", action="store_true", help="only re-render RESULTS.md and the plots from results.json")
    args = p.parse_args(argv)
    if args.render:
        out_dir = args.out or ROOT / "bench"
        write_pages(json.loads((out_dir / "results.json").read_text()), out_dir)
        return 0
    out_dir = args.out or (Path(tempfile.mkdtemp(prefix="symcnn-bench-")) if args.quick else ROOT / "bench")
    sizes = [64, 224, 576] if args.quick else SIZES
    models = ("resnet50",) if args.quick else SWEEP_MODELS + CATALOG_SWEEP
    res: dict = {"schema": 1, "quick": args.quick, "machine": machine(), "sizes": sizes}
    log(f"load average {res['machine']['load_before']}")
    res["engine"] = engine()
    res["repeat"] = args.repeat
    res["sweep"] = sweep(models, sizes, args.repeat)
    res["agreement"] = agreement(res["sweep"])
    log("issue-5/7: 100 sizes from a fresh process, torch forward")
    res["many"] = worker("many", "resnet50", 100)
    res["forward"] = worker("forward", "resnet50", 224)
    res["scale"] = scale() if not args.quick else {n: worker("scale", n) for n in ("resnet50", "resnet152")}
    for name, row in res["sweep"].items():
        # one more size for symcnn: measured in the scale section, so that the sweep process does only the sweep
        marginal = res["scale"].get(name, {}).get("marginal")
        if marginal and "symcnn" in row and "error" not in row["symcnn"]:
            row["symcnn"]["marginal"] = marginal
    res["others"] = others(args.quick)
    res["machine"]["load_after"] = list(os.getloadavg())
    res["targets"] = targets(res)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(res, indent=1, default=float) + "\n")
    write_pages(res, out_dir)
    return 0


#: RESULTS.md from this line on is written by hand from the standalone scripts (bench_engine.py, bench_solve.py,
#: bench_training.py, bench_onnx.py) and kept when run.py re-renders the page
HAND_RUN = "<!-- hand-run targets -->"


def write_pages(res: dict, out_dir: Path) -> None:
    """RESULTS.md and the plots next to results.json, rendered as the docs page is."""
    pages = _bench_page.render(res)
    page = pages.pop(_bench_page.PAGE)
    old = out_dir / "RESULTS.md"
    if old.exists() and HAND_RUN in old.read_text():  # the hand-run section (bench_*.py scripts) is kept
        page = page.rstrip("\n") + "\n\n" + old.read_text()[old.read_text().index(HAND_RUN):]
    old.write_text(page)
    for path, text in pages.items():  # the plot, at the same place relative to RESULTS.md as to the docs page
        target_path = out_dir / Path(path).relative_to(Path(_bench_page.PAGE).parent)
        target_path.parent.mkdir(parents=True, exist_ok=True)
        target_path.write_text(text)
    log(f"wrote RESULTS.md and the plots in {out_dir}")
    print(page)


if __name__ == "__main__":
    sys.exit(main())
