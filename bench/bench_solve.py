"""Scaling of the solvers: valid_input_sizes(exact=True) against the period, solve against the grid size.

Each case runs in a fresh process with a wall-clock limit, and reports seconds and peak memory (max RSS):

    python bench/bench_solve.py                   # every case, this checkout's src/
    python bench/bench_solve.py --src OTHER/src   # the same cases against another checkout (before/after)
    python bench/bench_solve.py --only strides    # cases whose name contains this text

A case that errors prints the error's type and first line (a SymcnnError naming a limit is an answer too).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

_HERE = Path(__file__).resolve().parent

# name -> Python statement run with `import symcnn as sc` (result in `r`)
CASES = {
    "sizes exact: strides 2,3,5,7,11,13": "r = sc.valid_input_sizes(sc.Sequential("
    "*[sc.Conv1d(1, 1, 3, stride=s) for s in (2, 3, 5, 7, 11, 13)]), exact=True)",
    "sizes exact: stride 20000": "r = sc.valid_input_sizes(sc.Conv1d(1, 1, 3, stride=20000), exact=True)",
    "sizes exact: 11 stride-2 layers": "r = sc.valid_input_sizes(sc.Sequential("
    "*[sc.Conv1d(1, 1, 3, stride=2, padding=1) for _ in range(11)]), exact=True)",
    "sizes exact: 13 stride-2 layers": "r = sc.valid_input_sizes(sc.Sequential("
    "*[sc.Conv1d(1, 1, 3, stride=2, padding=1) for _ in range(13)]), exact=True)",
    "sizes exact: 20 stride-2 layers": "r = sc.valid_input_sizes(sc.Sequential("
    "*[sc.Conv1d(1, 1, 3, stride=2, padding=1) for _ in range(20)]), exact=True)",
    "sizes valid: 20 stride-2 layers": "r = sc.valid_input_sizes(sc.Sequential("
    "*[sc.Conv1d(1, 1, 3, stride=2, padding=1) for _ in range(20)]))",
    "sizes exact: 'tf_same' strides 2,3,5,7": "r = sc.valid_input_sizes(sc.Sequential("
    "*[sc.Conv1d(1, 1, 3, stride=s, padding='tf_same') for s in (2, 3, 5, 7)]), exact=True)",
    "solve wildcard: 2M candidates": "r = sc.solve(sc.Conv1d(1, 1, sc.F, stride=sc.S, padding=sc.P, dilation=sc.D),"
    " (1, 100000), (1, None), bounds={sc.F: (1, 50), sc.S: (1, 50), sc.P: (0, 99), sc.D: (1, 8)})",
    "solve wildcard: 20M candidates": "r = sc.solve(sc.Conv1d(1, 1, sc.F, stride=sc.S, padding=sc.P, dilation=sc.D),"
    " (1, 100000), (1, None), bounds={sc.F: (1, 50), sc.S: (1, 50), sc.P: (0, 999), sc.D: (1, 8)})",
    "solve: 20M candidates, few hits": "r = sc.solve(sc.Conv1d(1, 1, sc.F, stride=sc.S, padding=sc.P, dilation=sc.D),"
    " (1, 1000), (1, 7), bounds={sc.F: (1, 50), sc.S: (1, 50), sc.P: (0, 999), sc.D: (1, 8)})",
}


def _child(stmt: str) -> None:
    import symcnn as sc
    import symcnn.solve  # noqa: F401 - imports are not what is measured

    t0 = time.perf_counter()
    try:
        exec(stmt, {"sc": sc})  # the fixed statements above, never user text
        err = None
    except Exception as e:  # noqa: BLE001 - reported, not hidden
        err = f"{type(e).__name__}: {str(e).splitlines()[0][:140]}"
    dt = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": dt, "max_rss_mb": rss, "error": err}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", default=str(_HERE.parent / "src"), help="the src/ folder to import symcnn from")
    ap.add_argument("--only", default="", help="run only cases whose name contains this text")
    ap.add_argument("--timeout", type=float, default=120.0, help="wall-clock limit per case, seconds")
    args = ap.parse_args()
    for name, stmt in CASES.items():
        if args.only not in name:
            continue
        code = f"import sys; sys.path.insert(0, {args.src!r}); sys.path.insert(0, {str(_HERE)!r}); " \
               f"import bench_solve; bench_solve._child({stmt!r})"
        try:
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                 timeout=args.timeout, check=False)
            res = json.loads(out.stdout.strip().splitlines()[-1])
            line = f"{res['seconds']:8.2f} s {res['max_rss_mb']:7.0f} MB"
            if res["error"]:
                line += f"  {res['error']}"
        except subprocess.TimeoutExpired:
            line = f"  > {args.timeout:.0f} s (killed)"
        except (json.JSONDecodeError, IndexError):
            line = "  crashed: " + (out.stderr.strip().splitlines() or ["?"])[-1]
        print(f"{name:40s} {line}", flush=True)


if __name__ == "__main__":
    main()
