"""The exact receptive field against the brute-force dependency walk, exhaustively: every layer of every zoo
model at three sizes (the symbolic analysis substituted), and the torchvision segmentation models (upsampling
to the input size) at one size. ``python bench/bench_receptive.py`` (by hand, not in CI; the tests check a
sample: tests/test_receptive_exact.py). Writes bench/RECEPTIVE.md.
"""

from __future__ import annotations

import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import symcnn as sc  # noqa: E402
from symcnn import H, W  # noqa: E402
from test_receptive_exact import check_against_walk  # noqa: E402

ZOO_SIZES = {"lenet5": [(32, 32)], "unet": [(188, 204), (252, 188), (572, 572)],
             "dcgan_generator": [(1, 1), (2, 3), (4, 2)], "dcgan_discriminator": [(64, 64), (80, 96), (128, 64)]}


def _cell(rf) -> str:
    cell = sc.present.rf_cell(rf)
    return cell if isinstance(cell, str) else "(" + ", ".join(str(c) for c in cell) + ")"


def zoo_rows() -> list[str]:
    rows = []
    for name in sc.models.names():
        model = sc.models.get(name)
        cin = 1 if name in ("lenet5", "unet") else (100 if name == "dcgan_generator" else 3)
        start = time.perf_counter()
        try:
            sym = sc.analyze(model, (cin, H, W))
        except sc.SymcnnError:
            sym = None
        compared = 0
        sizes = ZOO_SIZES.get(name, [(224, 224), (193, 257), (256, 160)])
        for h, w in sizes:
            a = sym.subs(H=h, W=w) if sym is not None else sc.analyze(model, (cin, h, w))
            compared += check_against_walk(a)
        rf = (sym.subs(H=sizes[0][0], W=sizes[0][1]) if sym is not None else sc.analyze(model, (cin, *sizes[0])))
        rows.append(f"| {name} | {', '.join(f'{h}×{w}' for h, w in sizes)} | {compared:,} | "
                    f"{_cell(rf.receptive_field)} | {time.perf_counter() - start:.1f} s |")
        print(rows[-1], flush=True)
    return rows


def catalog_rows() -> list[str]:
    from symcnn.interop import catalog

    rows = []
    for entry in catalog.entries("torchvision"):
        if entry.task != "segmentation":
            continue
        start = time.perf_counter()
        h, w = 96, 128  # imported at these numbers: the walk reads each layer's own (numeric) arguments
        a = sc.analyze(sc.from_torch(entry.build(), (3, h, w), output=entry.output), (3, h, w))
        if not a.receptive_field.exact:
            rows.append(f"| {entry.name} | {h}×{w} | not exact: {'; '.join(a.receptive_field.notes[:2])} | | |")
            continue
        last = len(a.layers) - 1
        inner = [k for k, r in enumerate(a.layers) if len(r.output_shape) == 3 and not any(r.receptive_field.whole)]
        compared = check_against_walk(a, records=sorted({last, *inner[-3:]}))
        rows.append(f"| {entry.name} | {h}×{w} | {compared:,} | {_cell(a.receptive_field)} | "
                    f"{time.perf_counter() - start:.1f} s |")
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    if sys.argv[1:] == ["--catalog"]:
        print("\n".join(catalog_rows()))
        return
    head = ["| model | sizes | positions compared | field of the output (first size) | time |", "|---|---|---|---|---|"]
    zoo = zoo_rows()
    try:
        cat = catalog_rows()
    except ImportError as exc:  # torchvision missing
        cat = [f"| (torchvision not installed: {exc}) | | | | |"]
    text = ["# Receptive fields against the brute-force walk", "",
            "Every real output position of every layer (zoo) or of the output and the last feature maps "
            "(torchvision segmentation): the engine's first and last input index equal the walk's "
            "(`symcnn.reference.dependencies_1d`), along both axes. `python bench/bench_receptive.py`.", "",
            "## Zoo (symbolic analysis substituted at each size)", "", *head, *zoo, "",
            "## torchvision segmentation models (from_torch)", "", *head, *cat, ""]
    (ROOT / "bench" / "RECEPTIVE.md").write_text("\n".join(text))


if __name__ == "__main__":
    main()
