"""The analysing commands: ``summary``, ``formula`` and ``solve``. Each takes the parsed options and returns
``(text, exit status)``; bad input raises :class:`~symcnn.SymcnnError`."""

from __future__ import annotations

import inspect
import re

from .._errors import SymcnnError
from .._parse import split_top
from ._layer_args import build_layer, layer_args, layer_class, layer_input
from ._parser import QUANTITIES, WIDTH_RANGE
from ._resolve import analyze_resolved, is_model_name, resolve_model
from ._values import parse_bounds, parse_shape, parse_subs, parse_target_shape

__all__ = ["cmd_summary", "cmd_formula", "cmd_solve"]


def cmd_summary(args) -> tuple[str, int]:
    from ..present import render

    if args.width is not None and not WIDTH_RANGE[0] <= args.width <= WIDTH_RANGE[1]:
        raise SymcnnError(f"`--width`={args.width} must be between {WIDTH_RANGE[0]} and {WIDTH_RANGE[1]} columns")
    a, title = analyze_resolved(args.model, args.input)
    if args.subs:
        values = parse_subs(args.subs)
        try:
            a = a.subs(values)
        except (TypeError, ArithmeticError) as e:  # the engine choked on the user's values (e.g. a stride of 0)
            raise SymcnnError(f"--subs {args.subs!r}: these values cannot be substituted "
                              f"({type(e).__name__}: {' '.join(str(e).split())})") from None
    extra = ()
    if args.convention:
        try:
            from ..counting import count
        except ImportError:
            raise SymcnnError("--convention needs symcnn.count (symcnn.counting), which is not available in this "
                              "installation") from None
        extra = ((f"count ({args.convention})", count(a, convention=args.convention)),)
    return render(a, args.format, title, width=args.width, extra=extra).rstrip("\n"), 0


def cmd_formula(args) -> tuple[str, int]:
    from .._analysis import analyze
    from .._intmath import latex, pretty

    quantity = args.quantity.lower().replace("-", "_")
    if quantity not in QUANTITIES:
        raise SymcnnError(f"unknown quantity {args.quantity!r}; quantities: {', '.join(QUANTITIES)}")
    cls = layer_class(args.layer)
    fill = {}
    if args.input:  # the input's channels (or features) stand for the layer's, unless given
        first = parse_shape(args.input)[0]
        fill = {"in_channels": first, "num_features": first, "in_features": first}
    kwargs = layer_args(args, cls, symbolic=True, fill=fill)
    layer = build_layer(cls, kwargs)
    shape = layer_input(layer, kwargs, args.input)
    a = analyze(layer, shape)
    show = latex if args.latex else pretty

    def tup(values) -> str:
        inner = ", ".join(show(v) for v in values)
        return (r"\left(" + inner + r"\right)") if args.latex else f"({inner})"

    if quantity == "output_size":
        out = a.output_shape[-1] if len(a.output_shape) > 1 else a.output_shape[0]
        text = show(out)
    elif quantity == "output_shape":
        text = tup(a.output_shape)
    elif quantity == "receptive_field":
        text = _receptive_text(a.receptive_field, args.latex, tup)
    elif quantity == "constraints":
        if not a.conditions:
            text = "none (valid for every value of the symbols)"
        elif args.latex:
            text = r" \\ ".join(latex(c.relation) for c in a.conditions)
        else:
            text = "\n".join(f"{c!r}    ({c.message})" for c in a.conditions)
    else:
        text = show(getattr(a, quantity))
    return text, 0


def _valid_sizes(args) -> tuple[str, int]:
    from ..solve import valid_input_sizes

    if args.output:
        raise SymcnnError("--valid-sizes takes no --output (it lists the input sizes for which the model runs)")
    lo_hi = split_top(args.between, ",:") if args.between else ["1", "1024"]
    if len(lo_hi) != 2 or not all(re.fullmatch(r"\s*[0-9]{1,9}\s*", v) for v in lo_hi):
        raise SymcnnError(f"--between: {args.between!r} must look like 32,1024")
    between = (int(lo_hi[0]), int(lo_hi[1]))
    if is_model_name(args.target):
        model, shape, _ = resolve_model(args.target, args.input)
    else:
        cls = layer_class(args.target)
        model = build_layer(cls, layer_args(args, cls, symbolic=False))
        shape = None if not args.input else parse_shape(args.input)
    given_shape = shape if args.input else None
    r = valid_input_sizes(model, between=between, exact=args.exact, input_shape=given_shape)
    if args.latex:
        return r._repr_latex_(), 0
    listed = (", ".join(map(str, r.sizes[:200])) + (" ..." if len(r) > 200 else "")) if len(r) else "none"
    return f"{r._head()}\n{len(r)} sizes in [{between[0]}, {between[1]}]: {listed}", 0


def cmd_solve(args) -> tuple[str, int]:
    from ..solve import solve

    if args.valid_sizes:
        return _valid_sizes(args)
    if not args.output:
        raise SymcnnError("solve: give --output (the target shape, e.g. 64x112x112; * for any) or --valid-sizes")
    if not args.input:
        raise SymcnnError("solve: give --input (e.g. 3x224x224; symbols are unknown input sizes)")
    shape = parse_shape(args.input)
    target = parse_target_shape(args.output)
    if is_model_name(args.target):
        model, _, _ = resolve_model(args.target, args.input)
    else:
        cls = layer_class(args.target)
        fill = {"in_channels": shape[0], "num_features": shape[0], "channels": shape[0]}
        if target and target[0] is not None:
            fill["out_channels"] = target[0]
        if "in_features" in inspect.signature(cls.__init__).parameters:
            fill = {"in_features": shape[0], "out_features": target[0]}
        model = build_layer(cls, layer_args(args, cls, symbolic=False, fill=fill))
    bounds = parse_bounds(args.bounds) if args.bounds else None
    r = solve(model, shape, target, bounds=bounds)
    return (r._repr_latex_() if args.latex else repr(r)), 0


def _receptive_text(rf, as_latex: bool, tup) -> str:
    """The receptive field of a one-layer analysis: the span (or its range, or "whole input"), the stride and,
    where the span depends on the output position, the first and last input index of output n."""
    from ..present import rf_cell, rf_rule

    if not rf.lo:
        return "no spatial axes"
    cell = rf_cell(rf)
    if isinstance(cell, str) or any(isinstance(c, str) for c in cell):
        words = cell if isinstance(cell, str) else ", ".join(c if isinstance(c, str) else str(c) for c in cell)
        size = rf"\text{{{words}}}" if as_latex else (words if isinstance(cell, str) else f"({words})")
    else:
        size = tup(cell)
    text = (rf"\text{{size}} = {size},\quad \text{{stride}} = {tup(rf.stride)}" if as_latex
            else f"size {size}, stride {tup(rf.stride)}")
    if any(not a and not w for a, w in zip(rf.affine, rf.whole, strict=True)):
        text += "; output n reads inputs " + ", ".join(rf_rule(rf)) + " (first, last index per axis)"
    if not rf.exact:
        text += " (not exact: a bound: " + "; ".join(rf.notes[:2]) + ")"
    return text
