"""Catalog benchmark (issue 15): ``from_torch`` + symbolic analysis of every catalog model, by hand, not in CI.

    python bench/bench_catalog.py [--library torchvision|timm|all] [--out bench/catalog_results.json]

For each model of ``symcnn.interop.catalog``: the time to build it (``meta`` device), to read it with
``from_torch`` and to analyse it with symbolic (3, H, W) (video (3, T, H, W)); how compact the closed forms are
(integer-division terms in the size of the last feature map, additive product terms in the MACs); params and
MACs at 224 (video: 16x112x112). Targets: the slowest model under 2 s and the whole torchvision catalog under
60 s (import + analysis, 2 cores). A model symcnn refuses is reported with the first line of the refusal.
Results go to the JSON file and to a table on stdout (pasted into RESULTS.md's hand-run section).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import sympy

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import symcnn as sc  # noqa: E402
from symcnn.interop import catalog  # noqa: E402

SLOWEST_TARGET_S, CATALOG_TARGET_S = 2.0, 60.0


def _division_terms(shape) -> int:
    """Integer-division terms (floor / ceil / FloorDiv atoms) of the spatial sizes of ``shape``."""
    n = 0
    for dim in list(shape)[1:]:
        expr = sympy.sympify(dim)
        n += sum(1 for a in sympy.preorder_traversal(expr)
                 if isinstance(a, (sympy.floor, sympy.ceiling)) or type(a).__name__ in ("FloorDiv", "CeilDiv"))
    return n


def measure(entry) -> dict:
    row = {"library": entry.library, "model": entry.name, "task": entry.task}
    t0 = time.perf_counter()
    module = entry.build()
    t1 = time.perf_counter()
    try:
        net = entry.import_model(module)
        t2 = time.perf_counter()
        a = sc.analyze(net, entry.input_shape)
        t3 = time.perf_counter()
    except sc.SymcnnError as e:
        row.update(status="refused", reason=str(e).splitlines()[0][:200])
        return row
    at = a.subs(**entry.substitution(entry.sizes[0]))
    row.update(status="ok", build_s=round(t1 - t0, 3), import_s=round(t2 - t1, 3), analyze_s=round(t3 - t2, 3),
               symcnn_s=round(t3 - t1, 3), division_terms=_division_terms(catalog.last_feature_map(a)),
               feature_map=sc.present.fmt(catalog.last_feature_map(a)),
               mac_terms=len(sympy.Add.make_args(sympy.expand(a.macs))) if a.macs.free_symbols else 1,
               params=int(a.params), size=list(entry.sizes[0]), macs=int(at.macs),
               output_shape=sc.present.fmt(tuple(a.output_shape)))
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--library", default="all", choices=("torchvision", "timm", "all"))
    ap.add_argument("--out", default=str(ROOT / "bench" / "catalog_results.json"))
    args = ap.parse_args(argv)
    libraries = ("torchvision", "timm") if args.library == "all" else (args.library,)
    rows = []
    for lib in libraries:
        for entry in catalog.entries(lib):
            row = measure(entry)
            rows.append(row)
            print(f"{lib:11} {entry.name:28} {row['status']:8} "
                  + (f"{row['symcnn_s']:6.2f} s  div {row['division_terms']:2}  MAC terms {row['mac_terms']:3}"
                     if row["status"] == "ok" else row["reason"][:90]), file=sys.stderr, flush=True)
    summary = {}
    for lib in libraries:
        ok = [r for r in rows if r["library"] == lib and r["status"] == "ok"]
        if not ok:
            continue
        slowest = max(ok, key=lambda r: r["symcnn_s"])
        total = sum(r["symcnn_s"] for r in ok)
        summary[lib] = {"models": sum(1 for r in rows if r["library"] == lib), "read": len(ok),
                        "total_s": round(total, 2), "slowest": slowest["model"], "slowest_s": slowest["symcnn_s"],
                        "max_division_terms": max(r["division_terms"] for r in ok),
                        "max_mac_terms": max(r["mac_terms"] for r in ok),
                        "slowest_met": slowest["symcnn_s"] < SLOWEST_TARGET_S,
                        "catalog_met": total < CATALOG_TARGET_S if lib == "torchvision" else None}
    import torch

    versions = {"torch": torch.__version__, "python": platform.python_version(), "sympy": sympy.__version__}
    for name in ("torchvision", "timm"):
        try:
            versions[name] = __import__(name).__version__
        except ImportError:
            pass
    out = {"date": time.strftime("%Y-%m-%d"), "machine": f"{platform.machine()}, {_cores()} cores",
           "versions": versions, "summary": summary, "rows": rows}
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(summary, indent=1))
    return 0


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


if __name__ == "__main__":
    raise SystemExit(main())
