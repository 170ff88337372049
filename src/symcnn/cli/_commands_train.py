"""``symcnn train-cost``: the cost of one training step as closed forms (:func:`symcnn.training`)."""

from __future__ import annotations

from .._errors import SymcnnError
from ._resolve import resolve_model
from ._values import parse_value

__all__ = ["cmd_train_cost"]


def _names(text: str | None) -> list[str] | None:
    if not text:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise SymcnnError(f"a list of layer names is empty: {text!r}")
    return names


def cmd_train_cost(args) -> tuple[str, int]:
    from ..training import B
    from ..training._table import train_cost_table

    model, shape, _title = resolve_model(args.model, args.input)
    batch = B if args.batch in (None, "B") else parse_value(args.batch, "--batch")
    options = {"dtype": args.dtype, "optimizer": args.optimizer, "frozen": _names(args.frozen),
               "inplace": args.inplace, "checkpoint": _names(args.checkpoint),
               "mixed_precision": args.mixed_precision, "master_weights": args.master_weights,
               "device": args.device}
    memory = args.memory
    if memory is not None and any(getattr(s, "free_symbols", None) for s in shape):
        raise SymcnnError(f"--memory needs a numeric input shape (the largest batch is a number): give --input, "
                          f"e.g. --input 3x224x224 (got {'x'.join(str(s) for s in shape)})")
    text = train_cost_table(model, shape, batch=batch, memory=memory, fmt=args.format,
                            per_layer=not args.totals, **options)
    return text, 0
