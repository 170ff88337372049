"""One benchmark measurement in a fresh process; prints one JSON object as its last stdout line.

Started by ``bench/run.py`` (never imported by it), one process per (tool, model), so every measurement pays
its own imports, as a user's first call would:

    python bench/_worker.py sweep TOOL MODEL SIZE [SIZE ...]   # TOOL: symcnn, fvcore, ptflops, torchinfo;
                                                               # MODEL: a zoo name or tv:<torchvision name>
    python bench/_worker.py many MODEL N                       # symcnn MACs at N input sizes
    python bench/_worker.py forward MODEL SIZE                 # torch forward passes of the twin
    python bench/_worker.py scale MODEL                        # analysis time, expression sizes, marginal cost

Times are ``time.perf_counter`` differences in seconds; inputs are square, batch 1, on the CPU.
"""

from __future__ import annotations

import contextlib
import io
import json
import statistics
import sys
import time
from pathlib import Path

_T0 = time.perf_counter()
_HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(_HERE.parent / "src"))

TOOLS = ("fvcore", "ptflops", "torchinfo")


def _now() -> float:
    return time.perf_counter()


def _catalog(name: str):
    """``tv:<name>``: the torchvision model (CPU, weights=None) of symcnn's catalog entry."""
    from symcnn.interop import catalog

    return next(e for e in catalog.entries("torchvision") if e.name == name.removeprefix("tv:"))


def _symcnn_model(name: str):
    """A zoo model, or for ``tv:<name>`` the torchvision model read by ``from_torch`` (the user's path)."""
    import symcnn

    if name.startswith("tv:"):
        entry = _catalog(name)
        return entry.import_model(entry.build("cpu"))
    return symcnn.models.get(name)


def _twin(name: str):
    """The torch model the tools count: the zoo model's twin built by ``symcnn.to_torch``, or torchvision's own."""
    import symcnn

    if name.startswith("tv:"):
        return _catalog(name).build("cpu"), "torchvision.models"
    return symcnn.to_torch(symcnn.models.get(name)), "symcnn.to_torch"


def _marginal(f, size: int, repeat: int = 2000) -> dict:
    """Cost of one more input size: a scalar call of the lambdified function, and per size in a batch of 10^5."""
    import numpy as np

    times = []
    for _ in range(repeat):
        t = _now()
        f(size, size)
        times.append(_now() - t)
    many = np.arange(32, 32 + 10**5, dtype=np.int64)
    t = _now()
    f(many, many)
    vec = (_now() - t) / len(many)
    return {"scalar_median_s": statistics.median(times), "scalar_min_s": min(times), "vectorised_per_size_s": vec}


def sweep_symcnn(model: str, sizes: list[int]) -> dict:
    t = _now()
    import symcnn
    from symcnn import H, W

    t_import = _now() - t
    t = _now()
    m = _symcnn_model(model)
    t_build = _now() - t
    t = _now()
    a = symcnn.analyze(m, (3, H, W))
    t_analyze = _now() - t
    t = _now()
    # a sweep of a few sizes: the plain-Python evaluator (exact ints, no NumPy import); the vectorised one is
    # timed in the scale section
    f = a.lambdify("macs", symbols=(H, W), vectorized=False)
    params = int(a.params)
    t_lambdify = _now() - t
    per_size, macs = [], []
    for s in sizes:
        t = _now()
        macs.append(int(f(s, s)))
        per_size.append(_now() - t)
    out = {
        "phases_s": {"import": t_import, "build": t_build, "analyze": t_analyze, "lambdify": t_lambdify},
        "per_size_s": per_size, "macs": macs, "params": params,
        "layers": len(a.layers),
    }
    if hasattr(symcnn, "count"):
        # the same numbers in each tool's convention: closed forms from the same analysis, then evaluated
        import sympy

        t = _now()
        out["counts"] = {}
        for tool in TOOLS:
            g = sympy.lambdify((H, W), symcnn.count(a, convention=tool), modules="math")
            out["counts"][tool] = [int(g(s, s)) for s in sizes]
        out["phases_s"]["count"] = _now() - t
    return out


def _count_fvcore(model, x):
    from fvcore.nn import FlopCountAnalysis, parameter_count

    fca = FlopCountAnalysis(model, x).unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    total = int(fca.total())
    by_op = {k: int(v) for k, v in fca.by_operator().items()}
    return total, int(parameter_count(model)[""]), by_op


def _count_ptflops(model, x):
    from ptflops import get_model_complexity_info

    macs, params = get_model_complexity_info(model, tuple(x.shape[1:]), as_strings=False,
                                             print_per_layer_stat=False, verbose=False)
    return int(macs), int(params), None


def _count_torchinfo(model, x):
    from torchinfo import summary

    stats = summary(model, input_size=tuple(x.shape), device="cpu", verbose=0)
    return int(stats.total_mult_adds), int(stats.total_params), None


def sweep_tool(tool: str, model: str, sizes: list[int]) -> dict:
    t = _now()
    import torch

    t_torch = _now() - t
    t = _now()
    counter = {"fvcore": _count_fvcore, "ptflops": _count_ptflops, "torchinfo": _count_torchinfo}[tool]
    __import__({"fvcore": "fvcore.nn", "ptflops": "ptflops", "torchinfo": "torchinfo"}[tool])
    t_tool = _now() - t
    t = _now()
    net, source = _twin(model)
    net.eval()
    t_twin = _now() - t
    per_size, macs, params, by_op = [], [], None, []
    sink = io.StringIO()
    with torch.no_grad(), contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        for s in sizes:
            x = torch.zeros(1, 3, s, s)
            t = _now()
            total, params, ops = counter(net, x)
            per_size.append(_now() - t)
            macs.append(total)
            by_op.append(ops)
    out = {
        "phases_s": {"import_torch": t_torch, "import_tool": t_tool, "twin": t_twin},
        "per_size_s": per_size, "macs": macs, "params": params, "twin": source,
        "torch_threads": torch.get_num_threads(),
    }
    if any(by_op):
        out["by_operator"] = by_op
    return out


def many(model: str, n: int) -> dict:
    """The issue-5/7 target: MACs at ``n`` input sizes, everything included from process start."""
    import symcnn
    from symcnn import H, W

    a = symcnn.analyze(_symcnn_model(model), (3, H, W))
    f = a.lambdify("macs", symbols=(H, W), vectorized=False)  # a few sizes: plain Python, exact
    sizes = [64 + 8 * i for i in range(n)]
    values = [int(f(s, s)) for s in sizes]
    return {"sizes": [sizes[0], sizes[-1], n], "macs_first_last": [values[0], values[-1]],
            "in_process_s": _now() - _T0}


def forward(model: str, size: int) -> dict:
    import torch

    net, source = _twin(model)
    net.eval()
    x = torch.zeros(1, 3, size, size)
    times = []
    with torch.no_grad():
        for _ in range(6):
            t = _now()
            net(x)
            times.append(_now() - t)
    return {"first_s": times[0], "warm_median_s": statistics.median(times[1:]), "warm_min_s": min(times[1:]),
            "twin": source, "torch_threads": torch.get_num_threads()}


def _feature_size(a):
    """The spatial height of the last feature map that still depends on the input size."""
    for r in reversed(a.layers):
        shape = tuple(r.output_shape)
        if len(shape) == 3 and getattr(shape[1], "free_symbols", None):
            return r.name, shape[1]
    return None, None


def scale(model: str) -> dict:
    t = _now()
    import symcnn
    from symcnn import H, W

    t_import = _now() - t
    import sympy

    from symcnn.cli import _default_input  # the input `symcnn summary` uses: (3, H, W) unless the model fixes it

    shape = _default_input(model)
    t = _now()
    m = _symcnn_model(model)
    t_build = _now() - t
    t = _now()
    a = symcnn.analyze(m, shape)
    t_first = _now() - t
    warm = []
    for _ in range(3):
        m2 = _symcnn_model(model)
        t = _now()
        symcnn.analyze(m2, shape)
        warm.append(_now() - t)
    where, size_expr = _feature_size(a)
    macs = a.macs
    collected = sympy.Add.make_args(sympy.expand(macs))
    product_terms = [term for term in collected if term.free_symbols]
    out = {
        "layers": len(a.layers), "import_s": t_import, "build_s": t_build, "analyze_first_s": t_first,
        "analyze_warm_min_s": min(warm),
        "macs": {"expr": symcnn.pretty(macs), "count_ops": int(sympy.count_ops(macs)),
                 "terms": len(collected), "product_terms": len(product_terms)},
        "output_shape": symcnn.pretty(sympy.Tuple(*a.output_shape)), "input_shape": symcnn.pretty(sympy.Tuple(*shape)),
    }
    if size_expr is not None:
        divisions = size_expr.atoms(symcnn.FloorDiv)
        out["feature_size"] = {
            "layer": where, "expr": symcnn.pretty(size_expr), "count_ops": int(sympy.count_ops(size_expr)),
            "single_division": isinstance(size_expr, symcnn.FloorDiv) and len(divisions) == 1,
        }
    if H in macs.free_symbols:
        f = a.lambdify("macs", symbols=(H, W))
        out["marginal"] = _marginal(f, 224, repeat=500)
    return out


def main(argv: list[str]) -> None:
    mode, *args = argv
    if mode == "sweep":
        tool, model, *sizes = args
        sizes_i = [int(s) for s in sizes]
        result = sweep_symcnn(model, sizes_i) if tool == "symcnn" else sweep_tool(tool, model, sizes_i)
    elif mode == "many":
        result = many(args[0], int(args[1]))
    elif mode == "forward":
        result = forward(args[0], int(args[1]))
    elif mode == "scale":
        result = scale(args[0])
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    result["process_s"] = _now() - _T0
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
