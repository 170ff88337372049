"""Values typed on the command line: sizes, shapes, substitutions, bounds (the whitelist grammar of
:mod:`symcnn._parse`, never ``eval``)."""

from __future__ import annotations

import re

from .._errors import SymcnnError
from .._parse import parse_expr_safe, parse_shape_text, split_top, symbol_for

__all__ = ["parse_value", "parse_shape", "parse_subs", "parse_bounds", "parse_target_shape", "one_line", "NAME"]

NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,30}$")


def one_line(e: BaseException) -> str:
    """The message of ``e`` on one line."""
    return " ".join(str(e).split())


def parse_value(text: str, what: str):
    """An int or a SymPy expression, parsed by the whitelist grammar (:mod:`symcnn._parse`).

    >>> parse_value("224", "H"), parse_value("W", "input"), parse_value("2*S + 1", "--kernel")
    (224, W, 2*S + 1)
    """
    value = parse_expr_safe(text.strip(), what)
    return int(value) if value.is_Integer else value


def parse_shape(text: str, what: str = "--input") -> tuple:
    """``3x224x224``, ``3xHxW`` or ``3,H,2*W`` -> a shape tuple (entries: ints or expressions).

    >>> parse_shape("3xHxW"), parse_shape("1, 2*H, max(W, 8)")
    ((3, H, W), (1, 2*H, Max(8, W)))
    """
    return parse_shape_text(text, what)


def parse_target_shape(text: str, what: str = "--output") -> tuple:
    """Like :func:`parse_shape`, with ``*`` (any size) allowed as an entry (``None``)."""
    parts = split_top(text, "x,×")
    if not text.strip() or any(not p.strip() for p in parts):
        raise SymcnnError(f"{what}: {text!r} must look like 64x112x112 (* for any entry)")
    return tuple(None if p.strip() == "*" else parse_value(p, what) for p in parts)


def parse_subs(text: str, what: str = "--subs") -> dict:
    """``H=224,W=224`` -> ``{"H": 224, "W": 224}``; values may be expressions (``W=2*K``).

    >>> parse_subs("H=224, W=200")
    {'H': 224, 'W': 200}
    """
    out = {}
    for item in filter(None, (s.strip() for s in split_top(text, ","))):
        name, sep, value = item.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not NAME.match(name) or not value:
            raise SymcnnError(f"{what}: {item!r} must look like NAME=INTEGER or NAME=EXPRESSION (e.g. H=224)")
        try:
            out[name] = parse_value(value, "value")
        except SymcnnError as e:
            raise SymcnnError(f"{what}: {item!r} must look like NAME=INTEGER or NAME=EXPRESSION; {e}") from None
    return out


def parse_bounds(text: str) -> dict:
    """``P=0:10,S=1:4`` -> {P: (0, 10), S: (1, 4)}.

    >>> parse_bounds("P=0:10, S=1..4")
    {P: (0, 10), S: (1, 4)}
    """
    out = {}
    for item in filter(None, (s.strip() for s in text.split(","))):
        m = re.fullmatch(r"([A-Za-z][A-Za-z0-9_]{0,30})\s*=\s*([0-9]{1,9})\s*(?::|\.\.)\s*([0-9]{1,9})", item)
        if not m:
            raise SymcnnError(f"--bounds: {item!r} must look like NAME=LOW:HIGH (e.g. P=0:10)")
        out[symbol_for(m.group(1))] = (int(m.group(2)), int(m.group(3)))
    return out
