"""ONNX in and export dims: from_onnx + symbolic analysis of zoo models, and export_dims (valid sizes -> Dims).

    python bench/bench_onnx.py            # prints a table; writes bench/onnx_results.json

Each model is exported once (torch.onnx.export, dynamic height and width), then timed: reading the file into
a symcnn graph (from_onnx) and analysing it symbolically, best of 3 in this process (warm imports).
"""

from __future__ import annotations

import io
import json
import time
import warnings
from pathlib import Path

import symcnn as sc


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


def main() -> None:
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
    Path(__file__).with_name("onnx_results.json").write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
