"""The ``symcnn`` command line.

    symcnn summary vgg16                        # per-layer table, symbolic in H and W
    symcnn summary resnet50 --input 3x224x224   # numbers
    symcnn summary resnet50 --subs H=224,W=224
    symcnn models                               # the zoo

User-typed values are parsed by a whitelist (integers and symbol names), never by ``eval``/``sympify``.
Exit status: 0 on success, 2 on bad input (one line on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import re
import sys

from ._errors import SymcnnError
from ._symbols import size_symbol

__all__ = ["main", "parse_value", "parse_shape", "parse_subs"]

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,30}$")
_INT = re.compile(r"^[0-9]{1,12}$")


def parse_value(text: str, what: str):
    """An int or a size-symbol name; anything else is refused.

    >>> parse_value("224", "H"), parse_value("W", "input")
    (224, W)
    """
    text = text.strip()
    if _INT.match(text):
        return int(text)
    if _NAME.match(text):
        return size_symbol(text)
    raise SymcnnError(f"{what}: {text!r} is not an integer or a symbol name (letters, digits, _)")


def parse_shape(text: str) -> tuple:
    """``3x224x224`` or ``3xHxW`` -> a shape tuple.

    >>> parse_shape("3xHxW")
    (3, H, W)
    """
    parts = [p for p in re.split(r"[x,×]", text) if p.strip()]
    if not parts:
        raise SymcnnError(f"--input: {text!r} must look like 3x224x224 or 3xHxW")
    return tuple(parse_value(p, "--input") for p in parts)


def parse_subs(text: str) -> dict:
    """``H=224,W=224`` -> {"H": 224, "W": 224} (integer values only).

    >>> parse_subs("H=224, W=200")
    {'H': 224, 'W': 200}
    """
    out = {}
    for item in filter(None, (s.strip() for s in text.split(","))):
        name, sep, value = item.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not _NAME.match(name) or not _INT.match(value):
            raise SymcnnError(f"--subs: {item!r} must look like NAME=INTEGER (e.g. H=224)")
        out[name] = int(value)
    return out


def _build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="symcnn", description="Convolutional-network arithmetic as closed forms.",
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("summary", help="per-layer table of a zoo model",
                       epilog="examples:\n  symcnn summary vgg16\n  symcnn summary resnet50 --input 3x224x224",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("model", help="a zoo model name (see `symcnn models`)")
    s.add_argument("--input", default=None, help="input shape, e.g. 3x224x224 or 3xHxW (default: the model's)")
    s.add_argument("--subs", default="", help="substitutions, e.g. H=224,W=224")
    sub.add_parser("models", help="list the model zoo")
    return p


def _default_input(name: str) -> tuple:
    """The input a model is usually analysed on: symbolic spatial sizes unless the model fixes them."""
    from ._symbols import H, W

    return {"lenet5": (1, 32, 32), "unet": (1, H, W), "dcgan_generator": (100, 1, 1)}.get(name, (3, H, W))


def _summary(args) -> str:
    from . import models
    from ._analysis import analyze

    if args.model not in models.names():
        raise SymcnnError(f"summary: unknown model {args.model!r}; choose one of: {', '.join(models.names())}")
    model = models.get(args.model)
    shape = parse_shape(args.input) if args.input else _default_input(args.model)
    a = analyze(model, shape)
    subs = parse_subs(args.subs)
    if subs:
        a = a.subs(**subs)
    lines = [f"{args.model}: input {shape}", a.table(), ""]
    for q in ("params", "macs", "flops", "connections", "activations"):
        from ._intmath import pretty

        lines.append(f"{q:12s} {pretty(getattr(a, q))}")
    rf = a.receptive_field
    lines.append(f"{'output':12s} {a.output_shape!r}")
    lines.append(f"{'RF':12s} size {rf.size}, stride {rf.stride}")
    if a.conditions:
        lines.append("conditions: " + "; ".join(repr(c) for c in a.conditions))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse already printed usage
        return int(e.code or 0)
    try:
        if args.command == "summary":
            print(_summary(args))
        elif args.command == "models":
            from . import models

            print("\n".join(models.names()))
    except SymcnnError as e:
        print(f"symcnn: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
