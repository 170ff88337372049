"""symcnn's fvcore count against timm's published table and against fvcore itself (issue 21), by hand.

    python bench/bench_timm_tables.py [--fvcore] [--only NAME,...] [--out bench/timm_tables.json]

timm publishes, for every model it benchmarks, ``infer_gmacs`` (fvcore's ``FlopCountAnalysis(model,
x).total()`` at batch 1, in units of 10^9, rounded to 2 decimals) and ``param_count`` (``sum(p.numel())`` in
millions, 2 decimals). ``bench/assets/timm-benchmark-infer-amp-nchw-pt291-cu130-5090.csv`` is the excerpt of
that table for symcnn's timm catalog (its header names the source). For every row whose model ``from_torch``
reads: ``symcnn.count(..., convention="fvcore")`` and ``analyze(...).params`` at the row's image size, compared
with the table within its printed precision (half a unit of the last digit: 0.005 GMACs = 5,000,000 MACs,
0.005 M = 5,000 parameters); a row that differs is compared again on the re-parameterised model
(``timm.utils.model.reparameterize_model``: RepVGG and MobileOne branches fused, the form timm benchmarks for
inference). With ``--fvcore``: fvcore itself on the installed model (CPU, one forward, one
thread) at the same size, which must equal symcnn exactly. Results go to the JSON file and a Markdown table on
stdout (RESULTS.md).
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import symcnn as sc  # noqa: E402
from symcnn.interop import catalog  # noqa: E402

TABLE = ROOT / "bench" / "assets" / "timm-benchmark-infer-amp-nchw-pt291-cu130-5090.csv"
GMACS_TOL, PARAMS_TOL = 0.005, 0.005  # half a unit of the table's last printed digit


def table_rows(path: Path = TABLE) -> list[dict]:
    lines = [ln for ln in path.read_text().splitlines() if not ln.startswith("#")]
    return list(csv.DictReader(lines))


def fvcore_total(name: str, size: int) -> int:
    import torch
    from fvcore.nn import FlopCountAnalysis

    model = catalog.CatalogEntry("timm", name, "classification").build("cpu")
    with torch.no_grad():
        fca = FlopCountAnalysis(model, torch.zeros(1, 3, size, size))
        fca.unsupported_ops_warnings(False)
        fca.uncalled_modules_warnings(False)
        return int(fca.total())


def _within(gmacs_diff: float, params_diff_m: float) -> bool:
    return abs(gmacs_diff) <= GMACS_TOL + 1e-9 and abs(params_diff_m) <= PARAMS_TOL + 1e-9


def _reparameterized(name: str, size: int):
    """symcnn's fvcore MACs and params of ``timm.utils.model.reparameterize_model(model)`` (RepVGG, MobileOne:
    the branches fused into one convolution, as timm's benchmark.py --reparam runs them), or None when the
    model has nothing to fuse."""
    from timm.utils.model import reparameterize_model

    model = catalog.CatalogEntry("timm", name, "classification").build("cpu")
    before = sum(p.numel() for p in model.parameters())
    fused = reparameterize_model(model)
    if sum(p.numel() for p in fused.parameters()) == before:
        return None
    a = sc.analyze(sc.from_torch(fused, (3, sc.H, sc.W)), (3, size, size))
    return int(sc.count(a, convention="fvcore")), int(a.params)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fvcore", action="store_true", help="also run fvcore itself at every row's size")
    ap.add_argument("--only", default="")
    ap.add_argument("--out", default=str(ROOT / "bench" / "timm_tables.json"))
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    logging.disable(logging.WARNING)
    warnings.simplefilter("ignore")
    only = set(filter(None, args.only.split(",")))
    analyses: dict[str, object] = {}
    rows = []
    for r in table_rows():
        name, size = r["model"], int(r["infer_img_size"])
        if only and name not in only:
            continue
        row = {"model": name, "size": size, "table_gmacs": float(r["infer_gmacs"]),
               "table_params_m": float(r["param_count"])}
        if name not in analyses:
            entry = catalog.CatalogEntry("timm", name, "classification")
            try:
                analyses[name] = sc.analyze(entry.import_model(), entry.input_shape)
            except sc.SymcnnError as e:
                analyses[name] = str(e).splitlines()[0][:160]
        a = analyses[name]
        if isinstance(a, str):
            row.update(status="not read", reason=a)
            rows.append(row)
            print(f"{name:22} {size:4}  not read: {a[:100]}", file=sys.stderr, flush=True)
            continue
        at = {sc.H: size, sc.W: size}
        macs = int(sc.count(a, convention="fvcore").subs(at))
        params = int(a.params.subs(at)) if hasattr(a.params, "subs") else int(a.params)
        row.update(symcnn_fvcore=macs, symcnn_params=params,
                   gmacs_diff=round(macs / 1e9 - row["table_gmacs"], 4),
                   params_diff_m=round(params / 1e6 - row["table_params_m"], 4))
        row["table_ok"] = _within(row["gmacs_diff"], row["params_diff_m"])
        if not row["table_ok"]:  # timm benchmarks a re-parameterised (fused) model where it has one
            fused = _reparameterized(name, size)
            if fused is not None:
                row.update(reparam_fvcore=fused[0], reparam_params=fused[1],
                           reparam_gmacs_diff=round(fused[0] / 1e9 - row["table_gmacs"], 4),
                           reparam_params_diff_m=round(fused[1] / 1e6 - row["table_params_m"], 4))
                row["reparam_ok"] = _within(row["reparam_gmacs_diff"], row["reparam_params_diff_m"])
        if args.fvcore:
            t0 = time.perf_counter()
            row["fvcore"] = fvcore_total(name, size)
            row["fvcore_s"] = round(time.perf_counter() - t0, 1)
            row["fvcore_equal"] = row["fvcore"] == macs
        row["status"] = "ok"
        rows.append(row)
        print(f"{name:22} {size:4}  symcnn {macs / 1e9:8.4f} G / {params / 1e6:7.3f} M  table {row['table_gmacs']:6.2f}"
              f" / {row['table_params_m']:6.2f}  {'ok' if row['table_ok'] else 'DIFF'}"
              + (f"  fvcore {row['fvcore']} {'equal' if row['fvcore_equal'] else 'DIFFERENT'}" if args.fvcore else ""),
              file=sys.stderr, flush=True)
    read = [r for r in rows if r["status"] == "ok"]
    summary = {"rows": len(rows), "read": len(read), "table_ok": sum(r["table_ok"] for r in read),
               "table_diff": [(r["model"], r["size"], r["gmacs_diff"], r["params_diff_m"]) for r in read
                              if not r["table_ok"]],
               "table_ok_reparameterized": [(r["model"], r["size"]) for r in read if r.get("reparam_ok")],
               "not_read": sorted({r["model"] for r in rows if r["status"] != "ok"})}
    if args.fvcore:
        summary["fvcore_equal"] = sum(r["fvcore_equal"] for r in read)
        summary["fvcore_diff"] = [(r["model"], r["size"], r["fvcore"] - r["symcnn_fvcore"]) for r in read
                                  if not r["fvcore_equal"]]
    import timm

    out = {"date": time.strftime("%Y-%m-%d"), "table": str(TABLE.relative_to(ROOT)),
           "versions": {"timm": timm.__version__, "torch": torch.__version__}, "summary": summary, "rows": rows}
    if not only:
        Path(args.out).write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
