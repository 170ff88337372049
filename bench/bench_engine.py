"""Engine scaling (issue 13): analysis, substitution and table time against depth, one fresh process per case.

    PYTHONPATH=src python bench/bench_engine.py            # depths 50, 100, 200
    PYTHONPATH=src python bench/bench_engine.py --depths 50 100 200 400 --timeout 120

Cases (each layer symbolic, on (8, H, W)):

* ``kernels``: convs with distinct symbolic kernels ``F_i`` (padding ``P_i``);
* ``stride``: convs (3x3, padding 1) all sharing one symbolic stride ``S``;
* ``ceilpool``: ``MaxPool2d(3, 3, 1, ceil_mode=True)`` stacked (depth / 20 of them);
* ``relu``: element-wise layers only (depth * 500 of them);
* ``se``: residual blocks with a squeeze-excitation gate and a strided shortcut (misaligned merges, depth / 10
  blocks): receptive-field notes must stay bounded.

Prints one row per case and depth: seconds for analyze, subs (all symbols given numbers), table, and peak
memory (MiB). Targets: each linear in depth, 200 symbolic layers under 2 s each. Not part of CI.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

CASES = ("kernels", "stride", "ceilpool", "relu", "se")


def _build(case: str, depth: int):
    import symcnn as sc

    if case == "kernels":
        fs = sc.symbols(" ".join(f"F{i}" for i in range(depth)))
        ps = sc.symbols(" ".join(f"P{i}" for i in range(depth)), nonnegative=True)
        fs, ps = (fs if isinstance(fs, tuple) else (fs,)), (ps if isinstance(ps, tuple) else (ps,))
        net = sc.Sequential(*[sc.Conv2d(8, 8, f, padding=p) for f, p in zip(fs, ps, strict=True)])
        values = {**{f.name: 3 for f in fs}, **{p.name: 1 for p in ps}}
    elif case == "stride":
        net = sc.Sequential(*[sc.Conv2d(8, 8, 3, stride=sc.S, padding=1) for i in range(depth)])
        values = {"S": 1}
    elif case == "ceilpool":
        net = sc.Sequential(*[sc.MaxPool2d(3, 3, 1, ceil_mode=True) for _ in range(max(1, depth // 20))])
        values = {}
    elif case == "relu":
        net = sc.Sequential(*[sc.ReLU() for _ in range(depth * 500)])
        values = {}
    elif case == "se":
        x = inp = sc.Input()
        for i in range(max(1, depth // 10)):
            y = sc.Conv2d(8, 8, 3, stride=2 if i % 2 == 0 else 1, padding=1)(x)
            g = sc.AdaptiveAvgPool2d(1)(y)
            g = sc.Conv2d(8, 8, 1)(g)
            g = sc.Sigmoid()(g)
            y = sc.Mul()(y, g)
            short = sc.Conv2d(8, 8, 1, stride=2 if i % 2 == 0 else 1)(x)
            x = sc.Add()(y, short)
        net = sc.Graph(inp, x)
        values = {}
    else:
        raise SystemExit(f"unknown case {case}")
    return net, values


def _one(case: str, depth: int) -> dict:
    import resource

    import symcnn as sc

    net, values = _build(case, depth)
    t0 = time.perf_counter()
    a = sc.analyze(net, (8, sc.H, sc.W))
    t1 = time.perf_counter()
    b = a.subs({**values, "H": 4096, "W": 4096}) if a.free_symbols else a
    t2 = time.perf_counter()
    a.table()
    t3 = time.perf_counter()
    notes = max(len(r.receptive_field.notes) for r in a.layers)
    ok = all(v.is_Integer for v in b.output_shape)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"case": case, "depth": depth, "layers": len(a.layers), "analyze": t1 - t0, "subs": t2 - t1,
            "table": t3 - t2, "peak_mib": peak, "notes": notes, "integer": ok}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--depths", type=int, nargs="+", default=[50, 100, 200])
    ap.add_argument("--cases", nargs="+", default=list(CASES), choices=CASES)
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        print(json.dumps(_one(args.one[0], int(args.one[1]))))
        return
    head = ("case", "depth", "layers", "analyze s", "subs s", "table s", "MiB", "notes")
    print(f"{head[0]:9} " + " ".join(f"{h:>{w}}" for h, w in zip(head[1:], (5, 7, 9, 7, 7, 6, 5), strict=True)))
    for case in args.cases:
        for depth in args.depths:
            try:
                out = subprocess.run([sys.executable, __file__, "--one", case, str(depth)], capture_output=True,
                                     text=True, timeout=args.timeout, check=True).stdout
                r = json.loads(out.strip().splitlines()[-1])
                print(f"{case:9} {depth:5d} {r['layers']:7d} {r['analyze']:9.2f} {r['subs']:7.2f} {r['table']:7.2f} "
                      f"{r['peak_mib']:6.0f} {r['notes']:5d}" + ("" if r["integer"] else "  NOT INTEGER"), flush=True)
            except subprocess.TimeoutExpired:
                print(f"{case:9} {depth:5d}   timeout after {args.timeout:.0f} s", flush=True)
            except subprocess.CalledProcessError as exc:
                print(f"{case:9} {depth:5d}   failed: {exc.stderr.strip().splitlines()[-1]}", flush=True)


if __name__ == "__main__":
    main()
