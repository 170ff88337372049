"""from_torch + symbolic analysis time of the catalog models that read parameters in ``forward``, normalise over
channels or use stochastic depth (issue 15): ``python bench/bench_catalog_ops.py [--repeat N]``.

Each model is measured in a fresh process (imports and one warm-up import of resnet18 excluded), the fastest of
``--repeat`` runs kept; prints one line per model and the slowest. Needs torchvision and timm. Run by hand.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

MODELS = [("torchvision", n) for n in ("convnext_tiny", "efficientnet_b0", "efficientnet_v2_s")] + [
    ("timm", n) for n in ("resnetv2_50", "resnetv2_50x1_bit", "efficientnet_b0", "mobilenetv3_large_100",
                          "regnety_002", "convnext_atto", "nf_resnet26", "hgnetv2_b0", "densenet121", "repvgg_a0",
                          "vovnet39a", "gernet_s")]

_WORKER = """
import json, sys, time, warnings
warnings.simplefilter("ignore")
import symcnn as sc
from symcnn import H, W
source, name = sys.argv[1], sys.argv[2]
if source == "torchvision":
    import torchvision
    model = torchvision.models.get_model(name, weights=None).eval()
else:
    import timm
    model = timm.create_model(name, pretrained=False).eval()
import torchvision
sc.analyze(sc.from_torch(torchvision.models.resnet18().eval(), (3, H, W)), (3, H, W))
start = time.perf_counter()
a = sc.analyze(sc.from_torch(model, (3, H, W)), (3, H, W))
print(json.dumps({"seconds": time.perf_counter() - start, "layers": len(a.layers)}))
"""


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    rows = []
    for source, name in MODELS:
        runs = [json.loads(subprocess.run([sys.executable, "-c", _WORKER, source, name], check=True,
                                          capture_output=True, text=True).stdout.strip().splitlines()[-1])
                for _ in range(args.repeat)]
        best = min(runs, key=lambda r: r["seconds"])
        rows.append((f"{source}:{name}", best["seconds"], best["layers"]))
        print(f"{source}:{name:28s} {best['seconds']:6.2f} s  {best['layers']:5d} layer calls", flush=True)
    slowest = max(rows, key=lambda r: r[1])
    print(f"slowest: {slowest[0]} {slowest[1]:.2f} s; target 2 s: {'met' if slowest[1] < 2 else 'missed'}")


if __name__ == "__main__":
    main()
