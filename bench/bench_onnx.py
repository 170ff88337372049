"""ONNX in: from_onnx + symbolic analysis of zoo models, export_dims, and the catalog sweep.

    python bench/bench_onnx.py                  # zoo timings; writes bench/onnx_results.json
    python bench/bench_onnx.py --catalog        # every torchvision and timm catalog model, both exporters
    python bench/bench_onnx.py --catalog --only resnet18,googlenet --exporter legacy
    python bench/bench_onnx.py --chain 200000   # reading and analysing a chain of N nodes (bench/onnx_chain.json)
    python bench/bench_onnx.py --report         # the ONNX section of bench/RESULTS.md from the two files

The catalog sweep exports each model (fresh weights, eval) with PyTorch's TorchScript-based exporter
(``dynamo=False``) and the dynamo exporter (``dynamo=True``), spatial axes dynamic, one fresh process per (model,
exporter) with a time limit, and compares from_onnx with from_torch and onnxruntime (``tests/_onnx_catalog.py``:
shapes and MACs at the catalog's three sizes, params with the file's). Results: bench/onnx_catalog.json and the
ONNX section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE.parent / "tests"))

import symcnn as sc  # noqa: E402


def _export(net, shape) -> bytes:
    import torch

    f = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(sc.to_torch(net).eval(), (torch.zeros(1, *shape),), f, dynamo=False,
                          input_names=["input"], dynamic_axes={"input": {0: "batch", 2: "height", 3: "width"}},
                          training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    return f.getvalue()


def _best(fn, n=3) -> float:
    best = float("inf")
    for _ in range(n):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def zoo() -> None:
    import onnx

    rows = []
    for name, shape in [("resnet18", (3, 224, 224)), ("resnet50", (3, 224, 224)), ("mobilenet_v2", (3, 224, 224)),
                        ("unet", (1, 572, 572))]:
        net = getattr(sc.models, name)()
        proto = onnx.load_from_string(_export(net, shape))

        def read_and_analyse(proto=proto):
            g = sc.from_onnx(proto)
            sc.analyze(g, g.input_shape)

        t_onnx = _best(read_and_analyse)
        t_dims = _best(lambda net=net, c=shape[0]: sc.export_dims(net, (c, sc.H, sc.W)))
        rows.append({"model": name, "from_onnx_and_analyze_s": round(t_onnx, 4), "export_dims_s": round(t_dims, 4)})
        print(f"{name:14s} from_onnx+analyze {t_onnx:7.3f} s   export_dims {t_dims:7.3f} s")
    HERE.joinpath("onnx_results.json").write_text(json.dumps(rows, indent=1) + "\n")


def chain_model(n: int):
    """A chain of ``n`` nodes: Conv, then alternately Relu and Add of a constant (the node-limit graph)."""
    import numpy as np
    from onnx import TensorProto, helper

    nodes = [helper.make_node("Conv", ["x", "w"], ["v0"], kernel_shape=[3, 3], pads=[1, 1, 1, 1])]
    for i in range(1, n):
        op = "Relu" if i % 2 else "Add"
        ins = [f"v{i - 1}"] + (["one"] if op == "Add" else [])
        nodes.append(helper.make_node(op, ins, [f"v{i}"], name=f"n{i}"))
    inits = [helper.make_tensor("w", TensorProto.FLOAT, [4, 3, 3, 3], np.zeros(108, np.float32)),
             helper.make_tensor("one", TensorProto.FLOAT, [], [1.0])]
    graph = helper.make_graph(nodes, "chain", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                                             [1, 3, "H", "W"])],
                              [helper.make_tensor_value_info(f"v{n - 1}", TensorProto.FLOAT, None)], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def chain(n: int) -> dict:
    model = chain_model(n)
    t = time.perf_counter()
    g = sc.from_onnx(model)
    t_read = time.perf_counter() - t
    a = sc.analyze(g, g.input_shape)
    t_all = time.perf_counter() - t
    print(f"chain of {n:,} nodes: from_onnx {t_read:.2f} s, + analyze {t_all:.2f} s ({a.output_shape})")
    row = {"nodes": n, "from_onnx_s": round(t_read, 2), "from_onnx_and_analyze_s": round(t_all, 2),
           "load": round(_load(), 1)}
    path = HERE / "onnx_chain.json"
    rows = {r["nodes"]: r for r in json.loads(path.read_text())} if path.exists() else {}
    rows[n] = row
    path.write_text(json.dumps(sorted(rows.values(), key=lambda r: r["nodes"]), indent=1) + "\n")
    return row


def _load() -> float:
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return float("nan")


_BEGIN = "<!-- onnx-catalog: begin (python bench/bench_onnx.py --report) -->"
_END = "<!-- onnx-catalog: end -->"


def report() -> str:
    """The ONNX section of bench/RESULTS.md from bench/onnx_catalog.json and bench/onnx_chain.json."""
    rows = json.loads((HERE / "onnx_catalog.json").read_text())
    lines = [_BEGIN, "## ONNX in: catalog models through both exporters (issue 21)", "",
             "`python bench/bench_onnx.py --catalog` then `--report`: each torchvision and timm catalog model (fresh "
             "weights, eval) exported with PyTorch's TorchScript-based exporter (`dynamo=False`, defaults: constant "
             "folding) and the dynamo exporter (`dynamo=True`), spatial axes dynamic (static where the exporter "
             "refuses them), read with `from_onnx` and compared (tests/_onnx_catalog.py): output shape at the "
             "catalog's three sizes equal to from_torch's and onnxruntime's, MACs equal to from_torch's, params "
             "equal to the file's parameter initializers (folding and deduplication make them differ from "
             "from_torch's). torch 2.14.1, onnxruntime 1.32.0, on the shared 2-core machine.", ""]
    for exporter in ("legacy", "dynamo"):
        sel = [r for r in rows if r["exporter"] == exporter]
        if sel:
            read = sum(r["read"] for r in sel)
            equal = sum(r["equal"] for r in sel)
            static = sum(1 for r in sel if r.get("dynamic") is False)
            lines.append(f"- {exporter}: {len(sel)} models run, {read} read, {equal} equal "
                         f"({static} exported with static sizes)")
    chain_path = HERE / "onnx_chain.json"
    if chain_path.exists():
        for r in json.loads(chain_path.read_text()):
            lines.append(f"- a chain of {r['nodes']:,} nodes (Conv, then Relu / Add): from_onnx {r['from_onnx_s']} s, "
                         f"read + analyse {r['from_onnx_and_analyze_s']} s (load average {r['load']})")
    lines += ["", "| model | exporter | read? | equal? | note |", "|---|---|---|---|---|"]
    for r in sorted(rows, key=lambda r: (r["library"], r["model"], r["exporter"])):
        note = r.get("error") or r.get("diff") or ("static sizes" if r.get("dynamic") is False else "")
        note = note.replace("|", "/").replace("\n", " ")[:160]
        lines.append(f"| {r['library']}:{r['model']} | {r['exporter']} | {'yes' if r['read'] else 'no'} | "
                     f"{'yes' if r['equal'] else 'no'} | {note} |")
    lines.append(_END)
    text = "\n".join(lines) + "\n"
    path = HERE / "RESULTS.md"
    old = path.read_text()
    if _BEGIN in old:
        old = old[:old.index(_BEGIN)] + old[old.index(_END) + len(_END) + 1:]
    path.write_text(old.rstrip("\n") + "\n\n" + text)
    return text


def many(library: str, names: str, exporters: str) -> None:
    """Several (model, exporter) checks in this process (imports paid once), one JSON line each."""
    from _onnx_catalog import check
    from symcnn.interop import catalog

    by_name = {e.name: e for e in catalog.entries(library)}
    for name in names.split(","):
        for exporter in exporters.split(","):
            t = time.perf_counter()
            try:
                row = check(by_name[name], exporter)
            except Exception as e:  # noqa: BLE001 - a crash of this check is a result too
                row = {"library": library, "model": name, "exporter": exporter, "read": False, "equal": False,
                       "error": f"check failed: {type(e).__name__}: {str(e)[:300]}"}
            row["total_s"] = round(time.perf_counter() - t, 1)
            print(json.dumps(row), flush=True)


def sweep(only, exporters, libraries, timeout: float, chunk: int = 6) -> None:
    from symcnn.interop import catalog

    path = HERE / "onnx_catalog.json"
    old = {(r["library"], r["model"], r["exporter"]): r for r in json.loads(path.read_text())} if path.exists() \
        else {}
    for library in libraries:
        names = [e.name for e in catalog.entries(library) if not only or e.name in only]
        for i in range(0, len(names), chunk):
            group = names[i:i + chunk]
            t = time.perf_counter()
            cmd = [sys.executable, __file__, "--many", library, ",".join(group), ",".join(exporters)]
            try:
                proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout * len(group))
                stdout, failure = proc.stdout, (proc.stderr.strip().splitlines() or ["worker failed"])[-1][:300]
            except subprocess.TimeoutExpired as e:
                stdout = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
                failure = f"timed out (group of {len(group)} after {timeout * len(group):.0f} s)"
            rows = {(r["model"], r["exporter"]): r for r in map(json.loads, (ln for ln in stdout.splitlines()
                                                                              if ln.startswith("{")))}
            for name in group:
                for exporter in exporters:
                    row = rows.get((name, exporter)) or {"library": library, "model": name, "exporter": exporter,
                                                         "read": False, "equal": False, "error": failure}
                    old[(library, name, exporter)] = row
                    print(f"{library:11s} {name:28s} {exporter:6s} read={row['read']!s:5s} equal={row['equal']!s:5s}"
                          f" {row.get('total_s', 0):6.1f} s {row.get('error', row.get('diff', ''))[:150]}", flush=True)
            print(f"  group of {len(group)}: {time.perf_counter() - t:.0f} s", flush=True)
            path.write_text(json.dumps(list(old.values()), indent=1) + "\n")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--catalog", action="store_true")
    p.add_argument("--only", default="")
    p.add_argument("--exporter", default="legacy,dynamo")
    p.add_argument("--library", default="torchvision,timm")
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument("--chain", type=int, default=0)
    p.add_argument("--many", nargs=3)
    p.add_argument("--report", action="store_true")
    args = p.parse_args(argv)
    if args.report:
        report()
    elif args.many:
        many(*args.many)
    elif args.catalog:
        sweep(set(filter(None, args.only.split(","))), args.exporter.split(","), args.library.split(","),
              args.timeout)
    elif args.chain:
        chain(args.chain)
    else:
        zoo()


if __name__ == "__main__":
    main()
