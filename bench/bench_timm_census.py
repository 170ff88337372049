"""timm census (issue 22): how many of ``timm.list_models()`` ``from_torch`` reads exactly, by hand, not in CI.

    python bench/bench_timm_census.py --sample 2 [--workers 1] [--timeout 20]   # 2 models per timm module
    python bench/bench_timm_census.py                                          # every model (CPU heavy)
    python bench/bench_timm_census.py --report                                 # only rewrite TIMM_CENSUS.md

Each model is built on the ``meta`` device (``timm.create_model(name, pretrained=False)`` under
``torch.device("meta")``: no weights in memory), read with symbolic ``(3, H, W)``, substituted at its default input
size (``pretrained_cfg["input_size"]``) and compared with ``sum(p.numel())``, the output shape of the meta model
and ``FlopCounterMode`` (FLOPs = 2 x MACs). Outcomes:

- ``exact``: all three equal;
- ``wrong``: read, but a figure differs (``wrong_params``, ``wrong_shape``, ``wrong_macs`` say which);
- ``refused``: a ``SymcnnError``; ``reason`` is the first unsupported operation, ``class`` the operation (module
  type, function or tensor method, or ``fx trace: <exception>``), ``classes`` every operation listed;
- ``crash``: any other exception (a bug of symcnn, or of the model on the meta device: ``stage`` says where);
- ``timeout``: not done within ``--timeout`` seconds (the worker process is killed and restarted).

Models run in ``--workers`` worker processes (default 1: the machine is shared); each worker imports torch, timm
and symcnn once. Results go to ``bench/timm_census.json`` (merged by model name with what is already there, so a
sample run and a later full run add up) and the summary table to ``bench/TIMM_CENSUS.md``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import platform
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT_JSON, OUT_MD = ROOT / "bench" / "timm_census.json", ROOT / "bench" / "TIMM_CENSUS.md"


# --- one model (in a worker) ----------------------------------------------------------------------------------
def _build(name: str):
    import timm
    import torch

    from symcnn.interop.catalog import _no_init

    try:
        with torch.device("meta"):
            return timm.create_model(name, pretrained=False).eval()
    except (NotImplementedError, RuntimeError):  # a builder reading tensor values: build on the CPU, no init
        with _no_init():
            return timm.create_model(name, pretrained=False).eval().to("meta")


def _torch_figures(module, size):
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        y = module(torch.zeros((1, *size), device="meta"))
    if isinstance(y, (tuple, list)):
        y = y[0]
    return tuple(y.shape[1:]), counter.get_total_flops()


_LINE = re.compile(r"^\s*- (module '[^']*' \(([^)]*)\)|node '[^']*' \((\w+) ([^)\s]*)\)[^:]*?): (.*)$")


def classify(message: str) -> tuple[str, str, list[str]]:
    """(class, reason, every class) of a refusal: the operation of each listed unsupported line."""
    lines = message.splitlines()
    first = lines[0]
    m = re.match(r"from_torch: torch\.fx cannot trace \S+: (\w+): (.*)", first)
    if m:
        text = re.sub(r"0x[0-9a-f]+|\d+", "N", m.group(2))[:70]
        return f"fx trace: {m.group(1)}: {text}", first, [f"fx trace: {m.group(1)}"]
    classes, reasons = [], []
    for line in lines[1:]:
        m = _LINE.match(line)
        if not m:
            continue
        op = f"module {m.group(2)}" if m.group(2) else f"{m.group(3)} {m.group(4)}"
        classes.append(op)
        reasons.append(line.strip()[2:])
    if not classes:
        return f"other: {first[:80]}", first, [f"other: {first[:80]}"]
    return classes[0], reasons[0][:300], sorted(set(classes))


def _fx_where(module) -> str:
    """The innermost timm (or model) function of the traceback of a failing ``torch.fx`` trace."""
    import traceback

    import torch.fx

    try:
        torch.fx.Tracer().trace(module)
    except Exception as e:  # noqa: BLE001
        frames = [f for f in traceback.extract_tb(e.__traceback__) if "/timm/" in f.filename]
        if frames:
            f = frames[-1]
            return f"{f.filename.split('/timm/')[-1]}:{f.name}"
    return "?"


def census_one(name: str) -> dict:
    import timm

    import symcnn as sc

    row = {"model": name}
    t0 = time.perf_counter()
    stage = "build"
    try:
        row["module"] = timm.models.model_entrypoint(name).__module__.rsplit(".", 1)[-1]
        size = tuple(timm.models.get_pretrained_cfg(name).input_size)
        row["size"] = list(size)
        module = _build(name)
        stage = "torch"
        params = sum(p.numel() for p in module.parameters())
        shape, flops = _torch_figures(module, size)
        stage = "from_torch"
        try:
            net = sc.from_torch(module, (3, sc.H, sc.W))
            stage = "analyze"
            a = sc.analyze(net, (3, sc.H, sc.W))
            at = a.subs(H=size[1], W=size[2])
        except sc.SymcnnError as e:
            cls, reason, classes = classify(str(e))
            if cls.startswith("fx trace"):
                where = _fx_where(module)
                cls = f"fx trace in {where}"
                classes = [cls]
            row.update(status="refused", stage=stage, **{"class": cls}, reason=reason, classes=classes)
            return row
        wrong = {}
        if int(at.params) != params:
            wrong["wrong_params"] = [int(at.params), params]
        if tuple(int(v) for v in at.output_shape) != shape:
            wrong["wrong_shape"] = [list(map(int, at.output_shape)), list(shape)]
        if 2 * int(at.macs) != flops:
            wrong["wrong_macs"] = [2 * int(at.macs), flops]
        row.update(status="wrong" if wrong else "exact", **wrong)
    except Exception as e:  # noqa: BLE001 - the census records every failure
        row.update(status="crash", stage=stage, reason=f"{type(e).__name__}: {str(e).strip()[:300]}")
    finally:
        row["seconds"] = round(time.perf_counter() - t0, 2)
    return row


def _worker(conn, src):
    sys.path.insert(0, src)
    import warnings

    warnings.filterwarnings("ignore")
    import timm  # noqa: F401 - imported once per worker
    import torch  # noqa: F401

    import symcnn  # noqa: F401

    conn.send("ready")
    while True:
        name = conn.recv()
        if name is None:
            return
        conn.send(census_one(name))


# --- the pool ---------------------------------------------------------------------------------------------------
class _Slot:
    def __init__(self, ctx, src):
        self.ctx, self.src = ctx, src
        self.start()

    def start(self):
        self.conn, child = self.ctx.Pipe()
        self.proc = self.ctx.Process(target=_worker, args=(child, self.src), daemon=True)
        self.proc.start()
        self.conn.recv()  # imports done: the timeout counts the model only
        self.name = self.since = None

    def give(self, name):
        self.name, self.since = name, time.perf_counter()
        self.conn.send(name)

    def stop(self):
        self.proc.kill()
        self.proc.join()


def run(names: list[str], workers: int, timeout: float, done=lambda row: None, src=str(ROOT / "src")) -> list[dict]:
    ctx = mp.get_context("spawn")
    slots = [_Slot(ctx, src) for _ in range(max(1, min(workers, len(names))))]
    todo, rows = list(names), []
    while todo or any(s.name for s in slots):
        for s in slots:
            if s.name is None and todo:
                s.give(todo.pop(0))
        for s in slots:
            if s.name is None:
                continue
            if s.conn.poll(0.05):
                try:
                    row = s.conn.recv()
                except EOFError:  # the worker died (out of memory, a segfault)
                    row = {"model": s.name, "status": "crash", "stage": "worker", "reason": "worker died"}
                    s.stop()
                    s.start()
                rows.append(row)
                done(row)
                s.name = None
            elif time.perf_counter() - s.since > timeout:
                rows.append({"model": s.name, "status": "timeout", "seconds": timeout})
                done(rows[-1])
                s.stop()
                s.start()
    for s in slots:
        s.conn.send(None)
        s.proc.join(5)
    return rows


def _module_of() -> dict:
    import timm

    return {n: timm.models.model_entrypoint(n).__module__.rsplit(".", 1)[-1] for n in timm.list_models()}


def choose(sample: int | None, only: list[str] | None) -> list[str]:
    import timm

    if only:
        return only
    names = timm.list_models()
    if not sample:
        return names
    by_module = defaultdict(list)
    for n, mod in _module_of().items():
        by_module[mod].append(n)
    picked = []
    for mod in sorted(by_module):  # evenly spread over each module's (alphabetical) list, first and middle
        group = by_module[mod]
        step = max(1, len(group) // sample)
        picked += group[::step][:sample]
    return picked


# --- the report ---------------------------------------------------------------------------------------------------
def report(data: dict) -> str:
    rows = list(data["rows"].values())
    mods = data.get("modules") or {}
    base = data.get("baseline")
    status = Counter(r["status"] for r in rows)
    out = ["# timm census", "",
           "`python bench/bench_timm_census.py` (by hand, not in CI; see its docstring). Every model is built on the",
           "meta device, read by `sc.from_torch(model, (3, H, W))`, substituted at its default input size and compared",
           "with `sum(p.numel())`, the meta model's output shape and `FlopCounterMode` (2 x MACs).", "",
           f"Run {data['date']} on {data['machine']} ({', '.join(f'{k} {v}' for k, v in data['versions'].items())}); "
           f"{len(rows)} of {data['listed']} models of `timm.list_models()` censused"
           + (f" (sample: {data['sample']} per module)." if data.get("sample") else "."), "",
           "| outcome | models |" + (" before |" if base else ""), "|---|---:|" + ("---:|" if base else "")]
    for k in ("exact", "wrong", "refused", "crash", "timeout"):
        out.append(f"| {k} | {status.get(k, 0)} |" + (f" {base['status'].get(k, 0)} |" if base else ""))
    if base:
        out += ["", f"`before`: {base['what']}, the same models censused the same way."]
    refused = [r for r in rows if r["status"] == "refused"]
    first = Counter(r["class"] for r in refused)
    blocking = Counter(c for r in refused for c in r.get("classes", [r["class"]]))
    alone = Counter(r["classes"][0] for r in refused if len(r.get("classes", ())) == 1)
    out += ["", "## Refusals by operation", "",
            "`first`: models whose first listed refusal is this operation; `listed`: models listing it at all;",
            "`alone`: models it is the only listed refusal of (fixing it alone may unlock them, unless the",
            "operations after it, not reached, refuse too).", "",
            "| operation | first | listed | alone | example |", "|---|---:|---:|---:|---|"]
    for cls, n in sorted(blocking.items(), key=lambda kv: (-first.get(kv[0], 0), -kv[1], kv[0])):
        ex = next(r["model"] for r in refused if cls in r.get("classes", [r["class"]]))
        out.append(f"| `{cls}` | {first.get(cls, 0)} | {n} | {alone.get(cls, 0)} | {ex} |")
    bad = [r for r in rows if r["status"] in ("wrong", "crash", "timeout")]
    if bad:
        out += ["", "## Wrong, crashed, timed out", "", "| model | outcome | detail |", "|---|---|---|"]
        for r in sorted(bad, key=lambda r: r["model"]):
            detail = ", ".join(f"{k[6:]} {r[k][0]} != {r[k][1]}" for k in ("wrong_params", "wrong_shape",
                                                                            "wrong_macs") if k in r)
            detail = detail or f"{r.get('stage', '')}: {r.get('reason', '')}"[:160]
            out.append(f"| {r['model']} | {r['status']} | {detail.replace('|', '/')} |")
    out += ["", "## Per timm module", "", "| module | models (timm) | censused | exact | refused because (first "
            "operation: models) |", "|---|---:|---:|---:|---|"]
    by_mod = defaultdict(list)
    for r in rows:
        by_mod[r.get("module") or mods.get(r["model"], "?")].append(r)
    listed = Counter(mods.values())
    for mod in sorted(set(listed) | set(by_mod)):
        rs = by_mod.get(mod, [])
        why = Counter(r["class"] if r["status"] == "refused" else r["status"] for r in rs if r["status"] != "exact")
        text = "; ".join(f"`{k}`: {v}" for k, v in why.most_common())
        out.append(f"| {mod} | {listed.get(mod, '?')} | {len(rs)} | {sum(r['status'] == 'exact' for r in rs)} | "
                   f"{text} |")
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sample", type=int, default=None, help="models per timm module (default: every model)")
    ap.add_argument("--models", nargs="*", help="only these models")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=20.0)
    ap.add_argument("--src", default=str(ROOT / "src"), help="the symcnn source tree to census (another checkout)")
    ap.add_argument("--out", default=str(OUT_JSON), help="the JSON file (its Markdown table: --md)")
    ap.add_argument("--md", default=str(OUT_MD))
    ap.add_argument("--fresh", action="store_true", help="forget the rows already in the JSON file")
    ap.add_argument("--report", action="store_true", help="only rewrite the Markdown table from the JSON file")
    ap.add_argument("--baseline", nargs=2, metavar=("JSON", "WHAT"),
                    help="a census of another checkout (--src) to show beside this one, and what it is")
    args = ap.parse_args(argv)
    out_json, out_md = Path(args.out), Path(args.md)
    data = json.loads(out_json.read_text()) if out_json.exists() and not args.fresh else {"rows": {}}
    if not args.report:
        import sympy
        import timm
        import torch

        names = choose(args.sample, args.models)
        t0 = time.perf_counter()

        def done(row):
            data["rows"][row["model"]] = row
            print(f"{row['model']:40} {row['status']:8} {row.get('seconds', '')!s:6} "
                  f"{row.get('class', row.get('reason', ''))[:100]}", file=sys.stderr, flush=True)

        run(names, args.workers, args.timeout, done, args.src)
        data.update(date=time.strftime("%Y-%m-%d"), machine=f"{platform.machine()}, {mp.cpu_count()} cores",
                    versions={"timm": timm.__version__, "torch": torch.__version__, "sympy": sympy.__version__},
                    listed=len(timm.list_models()), modules=_module_of(), sample=args.sample,
                    wall_s=round(time.perf_counter() - t0, 1))
        data["rows"] = dict(sorted(data["rows"].items()))
        out_json.write_text(json.dumps(data, indent=1) + "\n")
    if args.baseline:
        rows = json.loads(Path(args.baseline[0]).read_text())["rows"]
        mine = set(data["rows"])
        data["baseline"] = {"what": args.baseline[1], "status": dict(Counter(
            r["status"] for k, r in rows.items() if k in mine))}
        out_json.write_text(json.dumps(data, indent=1) + "\n")
    out_md.write_text(report(data))
    print(out_md.read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
