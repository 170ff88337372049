"""export_dims sweep (issue 21): the emitted ``dynamic_shapes`` export every catalog model, first time.

    python bench/bench_export_dims.py [--library torchvision|timm|zoo|all] [--only NAME,...] [--merge]
                                      [--out bench/export_dims_results.json] [--timing]

For every model of ``symcnn.interop.catalog`` (torchvision's convolutional models, timm's list) and of the
symcnn zoo (through ``to_torch``): build it on the ``meta`` device, read it with ``from_torch`` (zoo: the
network itself), ``export_dims`` with symbolic spatial sizes, ``torch.export.export`` with the emitted
``dynamic_shapes``, then run the exported program (meta tensors: shapes only) at the minimum, the maximum and
three random valid sizes of every axis, and compare every spatial size the program computes (each tensor of the
input's rank) with the sizes symcnn predicts at that input (:func:`spatial_sizes`). The exported range of each
axis must be the emitted one (torch must not have narrowed it), and a size just outside must be refused.
Results go to the JSON file and a summary on stdout (RESULTS.md's export_dims section).
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import symcnn as sc  # noqa: E402
from symcnn.interop import catalog  # noqa: E402
from symcnn.interop.dims import check_export  # noqa: E402

#: zoo models and the input each takes (channels, then the spatial sizes; symbols mark the dynamic axes)
ZOO_INPUTS = {"lenet5": (1, sc.H, sc.W), "unet": (1, sc.H, sc.W), "dcgan_generator": (100, sc.H, sc.W)}


def _cases(library: str):
    if library in ("torchvision", "timm"):
        for e in catalog.entries(library):
            if library == "timm" and e.name in catalog.TIMM_NOT_READ:
                continue
            yield library, e.name, e
    else:
        for name in sc.models.names():
            yield "zoo", name, None


def measure(library, name, entry, rng) -> dict:
    import torch

    row = {"library": library, "model": name}
    if entry is not None:
        module = entry.build()
        net = entry.import_model(module)
        shape = entry.input_shape
    else:
        net = sc.models.get(name)
        shape = ZOO_INPUTS.get(name, (3, sc.H, sc.W))
        with torch.device("meta"):
            module = sc.to_torch(net).eval()
    t0 = time.perf_counter()
    try:
        d = sc.export_dims(net, shape)
    except sc.SymcnnError as e:
        row.update(status="refused", reason=str(e).splitlines()[0][:300], dims_s=round(time.perf_counter() - t0, 3))
        return row
    row["dims_s"] = round(time.perf_counter() - t0, 3)
    row["dims"] = repr(d)
    example = d.example(shape, device="meta")
    t1 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ep = torch.export.export(module, (example,), dynamic_shapes=d.dynamic_shapes)
    except Exception as e:  # noqa: BLE001 - what torch says is the result
        row.update(status="export failed", reason=str(e)[:600], export_s=round(time.perf_counter() - t1, 2))
        return row
    row["export_s"] = round(time.perf_counter() - t1, 2)
    try:
        report = check_export(ep, d, net, shape, rng=rng, randoms=3, device="meta")
    except Exception as e:  # noqa: BLE001
        row.update(status="check failed", reason=str(e)[:600])
        return row
    row.update(status="ok", checked_sizes=report["sizes"], compared=report["compared"])
    return row


def timings(repeat: int = 5) -> dict:
    """Issue 26: export_dims(resnet50) (best of ``repeat`` calls after one warm-up, as bench_onnx measured it),
    and a stack of prime strides 2, 3, 5, 7, 11, 13 over a 10^6 range (first call in this process)."""
    def best(fn):
        fn()
        out = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t0)
        return min(out)

    net = sc.models.resnet50()
    resnet = best(lambda: sc.export_dims(net, (3, sc.H, sc.W)))
    primes = sc.Sequential(*[sc.Conv2d(1, 1, 3, stride=s) for s in (2, 3, 5, 7, 11, 13)])
    t0 = time.perf_counter()
    d = sc.export_dims(primes, (1, sc.H, sc.W), between=(2, 10**6))
    first = time.perf_counter() - t0
    again = best(lambda: sc.export_dims(primes, (1, sc.H, sc.W), between=(2, 10**6)))
    return {"resnet50_s": round(resnet, 4), "primes_1e6_first_s": round(first, 3), "primes_1e6_s": round(again, 3),
            "primes_dims": repr(d)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--library", default="all", choices=("torchvision", "timm", "zoo", "all"))
    ap.add_argument("--only", default="")
    ap.add_argument("--seed", type=int, default=21)
    ap.add_argument("--timing", action="store_true", help="only the issue-26 timings")
    ap.add_argument("--merge", action="store_true", help="keep the other models' rows of --out")
    ap.add_argument("--out", default=str(ROOT / "bench" / "export_dims_results.json"))
    args = ap.parse_args(argv)
    import logging

    import torch

    torch._logging.set_logs(dynamic=logging.ERROR, export=logging.ERROR)
    if args.timing:
        print(json.dumps(timings(), indent=1))
        return 0
    only = set(filter(None, args.only.split(",")))
    libraries = ("torchvision", "timm", "zoo") if args.library == "all" else (args.library,)
    rng = random.Random(args.seed)
    out_path = Path(args.out)
    kept = json.loads(out_path.read_text())["rows"] if args.merge and out_path.exists() else []
    rows, t_all = [], time.perf_counter()
    for lib in libraries:
        for library, name, entry in _cases(lib):
            if only and name not in only:
                continue
            row = measure(library, name, entry, rng)
            rows.append(row)
            _write(out_path, kept, rows, t_all, write=not only or args.merge)  # an interrupted sweep keeps rows
            print(f"{library:11} {name:26} {row['status']:13} dims {row.get('dims_s', 0):5.2f} s  export "
                  f"{row.get('export_s', 0):5.1f} s  {row.get('dims', '')}  {row.get('reason', '')[:400]}",
                  file=sys.stderr, flush=True)
    print(json.dumps(_write(out_path, kept, rows, t_all, write=not only or args.merge)["summary"], indent=1))
    return 0


def _write(path: Path, kept: list, rows: list, t_all: float, write: bool = True) -> dict:
    import torch

    done = {(r["library"], r["model"]) for r in rows}
    rows = [r for r in kept if (r["library"], r["model"]) not in done] + rows
    summary = {}
    for lib in ("torchvision", "timm", "zoo"):
        mine = [r for r in rows if r["library"] == lib]
        if mine:
            summary[lib] = {"models": len(mine), "ok": sum(r["status"] == "ok" for r in mine),
                            "refused": [r["model"] for r in mine if r["status"] == "refused"],
                            "failed": [r["model"] for r in mine if r["status"] not in ("ok", "refused")],
                            "slowest_dims": max(mine, key=lambda r: r.get("dims_s", 0))["model"],
                            "slowest_dims_s": max(r.get("dims_s", 0) for r in mine)}
    versions = {"torch": torch.__version__, "python": platform.python_version()}
    for mod in ("torchvision", "timm"):
        try:
            versions[mod] = __import__(mod).__version__
        except ImportError:
            pass
    out = {"date": time.strftime("%Y-%m-%d"), "run_s": round(time.perf_counter() - t_all, 1),
           "versions": versions, "summary": summary, "rows": rows}
    if write:
        path.write_text(json.dumps(out, indent=1) + "\n")
    return out


if __name__ == "__main__":
    raise SystemExit(main())
