"""``train_cost_table``: the text a ``symcnn train-cost`` command prints (the CLI calls this function)."""

from __future__ import annotations

import json

from .._errors import SymcnnError
from .._intmath import pretty
from .._symbols import H, W
from ._core import B, render_rows, training
from ._fit import max_batch
from ._memory import parse_memory

__all__ = ["train_cost_table", "human_bytes"]


def human_bytes(n: int) -> str:
    """``1536 -> '1.50 KiB'`` (binary units, as GPU memory is sold)."""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{int(n)} B" if unit == "B" else f"{value:.2f} {unit}"
        value /= 1024
    raise AssertionError  # pragma: no cover


def train_cost_table(model, input_shape=None, *, batch=B, memory=None, fmt: str = "text", per_layer: bool = True,
                     **options) -> str:
    """Totals (and per-layer rows) of :func:`symcnn.training`, plus ``max_batch`` when ``memory`` is given.

    Args:
        model: a zoo model name (``"resnet50"``) or a model.
        input_shape: default ``(3, H, W)``.
        batch: an int or a symbol (default ``B``).
        memory: e.g. ``"24 GiB"``: adds the largest batch that fits (needs a numeric input shape).
        fmt: ``"text"``, ``"markdown"``, ``"csv"`` (rows) or ``"json"`` (totals as strings, and max_batch).
        options: those of :func:`symcnn.training`.

    >>> print(train_cost_table("lenet5", (1, 32, 32), batch=1, optimizer="sgd", per_layer=False))
    forward_macs            326520
    backward_macs           534600
    forward_flops           653040
    backward_flops          1069200
    recompute_flops         0
    saved_activation_bytes  90256  (88.14 KiB)
    parameter_bytes         240000  (234.38 KiB)
    gradient_bytes          240000  (234.38 KiB)
    optimizer_bytes         0  (0 B)
    master_bytes            0  (0 B)
    buffer_bytes            3360  (3.28 KiB)
    flops                   1722240
    recompute_peak_bytes    0  (0 B)
    total_bytes             573616  (560.17 KiB)
    """
    if isinstance(model, str):
        from .. import models

        model = models.get(model)
    shape = (3, H, W) if input_shape is None else input_shape
    cost = training(model, shape, batch=batch, **options)
    fitted = None
    if memory is not None:
        parse_memory("train_cost_table", memory)
        fitted = max_batch(model, shape, memory=memory, **options)
    totals = cost.totals()
    if fmt == "json":
        data = {k: pretty(v) for k, v in totals.items()}
        if fitted is not None:
            data["max_batch"] = fitted
        return json.dumps(data, indent=2)
    if fmt not in ("text", "markdown", "csv"):
        raise SymcnnError(f"train_cost_table: `fmt`={fmt!r} must be 'text', 'markdown', 'csv' or 'json'")
    parts = []
    if per_layer:
        parts.append(render_rows(cost, ("forward_macs", "backward_macs", "saved_activation_bytes",
                                        "parameter_bytes", "optimizer_bytes"), fmt))
    width = max(len(k) for k in totals)
    lines = []
    for k, v in totals.items():
        shown = pretty(v)
        if getattr(v, "is_Integer", False) and k.endswith("bytes"):
            shown += f"  ({human_bytes(int(v))})"
        lines.append(f"{k.ljust(width)}  {shown}")
    if fitted is not None:
        lines.append(f"{'max_batch'.ljust(width)}  {fitted}  (memory {memory})")
    parts.append("\n".join(lines))
    return "\n\n".join(parts)

