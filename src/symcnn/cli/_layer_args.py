"""One layer from the command line: its class by name, its constructor arguments from the options (given values,
then what the input implies, then the standard symbols), and its default input shape."""

from __future__ import annotations

import inspect

from .._errors import SymcnnError
from .._parse import symbol_for
from ._values import NAME, one_line, parse_shape, parse_value

__all__ = ["ARG_OPTIONS", "layer_class", "layer_args", "build_layer", "layer_input", "constructor_arguments"]

#: the layer arguments with an option of their own (the others go through --arg NAME=VALUE)
ARG_OPTIONS = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups",
               "output_padding")

_DEFAULT_ARGS: dict | None = None


def _default_args() -> dict:
    global _DEFAULT_ARGS
    if _DEFAULT_ARGS is None:
        from .._symbols import C, D, F, G, K, P, S

        _DEFAULT_ARGS = {
            "in_channels": C, "out_channels": K, "kernel_size": F, "stride": S, "padding": P, "dilation": D,
            "groups": G, "output_padding": symbol_for("OP"), "in_features": C, "out_features": K,
            "num_features": C, "channels": C, "output_size": symbol_for("O"), "num_parameters": C,
        }
    return _DEFAULT_ARGS


def layer_class(name: str):
    """The layer class a command-line name stands for (``conv2d``, ``Conv2d``, ``conv_transpose2d``)."""
    from ..spec import LAYER_TYPES

    by_lower = {n.lower(): c for n, c in LAYER_TYPES.items()}
    cls = by_lower.get(name.lower().replace("_", ""))
    if cls is None:
        raise SymcnnError(f"unknown layer {name!r}; layers: {', '.join(sorted(by_lower))}")
    return cls


def constructor_arguments(cls) -> list[str]:
    """The named constructor arguments of ``cls`` (without ``self``, ``*args``, ``**kwargs``)."""
    params = inspect.signature(cls.__init__).parameters
    return [p for p in params if p != "self" and params[p].kind not in (inspect.Parameter.VAR_POSITIONAL,
                                                                          inspect.Parameter.VAR_KEYWORD)]


def _no_such_argument(cls, key: str, names: list[str]) -> SymcnnError:
    listed = ", ".join(names) if names else "none (it takes no constructor arguments)"
    return SymcnnError(f"{cls.__name__} has no argument `{key}`; arguments: {listed}")


def layer_args(args, cls, symbolic: bool, fill: dict | None = None) -> dict:
    """Constructor arguments of ``cls`` from the options: given values, then ``fill``, then (``symbolic``) the
    standard symbols for every argument the layer has."""
    from ..spec import is_word_argument

    params = inspect.signature(cls.__init__).parameters
    names = constructor_arguments(cls)
    any_keyword = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())  # e.g. Softmax(dim=1)
    given: dict = {}
    for opt in ARG_OPTIONS:
        text = getattr(args, opt, None)
        if text is not None:
            given[opt] = text
    for item in getattr(args, "arg", None) or ():
        key, sep, value = item.partition("=")
        if not sep or not NAME.match(key.strip()) or not value.strip():
            raise SymcnnError(f"--arg: {item!r} must look like NAME=VALUE (e.g. ceil_mode=true)")
        given[key.strip()] = value.strip()
    out: dict = {}
    for key, text in given.items():
        if key not in names and not any_keyword:
            raise _no_such_argument(cls, key, names)
        low = text.strip().lower()
        if low in ("true", "false"):
            out[key] = low == "true"
        elif is_word_argument(key, text):  # one rule with spec files: `--padding p` is the symbol p
            out[key] = text.strip()
        else:
            out[key] = parse_value(text, f"--{key.replace('_', '-')}")
    if getattr(args, "no_bias", False):
        if "bias" not in names:
            raise SymcnnError(f"--no-bias: {cls.__name__} has no bias")
        out["bias"] = False
    for key, value in (fill or {}).items():
        if key in names and key not in out:
            out[key] = value
    if symbolic:
        for key, value in _default_args().items():
            if key in names and key not in out:
                out[key] = value
    missing = [p for p in names if params[p].default is inspect.Parameter.empty and p not in out]
    if "table" in missing:  # a connection table is a list of lists: not a command-line value
        raise SymcnnError(f"{cls.__name__}: its connection table cannot be given on the command line; use the Python "
                          "API (symcnn.ConnectionTableConv2d) or a model that has one (symcnn summary lenet5)")
    if missing:
        raise SymcnnError(f"{cls.__name__}: give {', '.join('--' + m.replace('_', '-') for m in missing)}")
    return out


def build_layer(cls, kwargs):
    """``cls(**kwargs)`` with any refusal as a :class:`SymcnnError`."""
    try:
        return cls(**kwargs)
    except SymcnnError:
        raise
    except (TypeError, ValueError, ArithmeticError) as e:
        raise SymcnnError(f"{cls.__name__}: {one_line(e)}") from None


def layer_input(layer, kwargs, input_text) -> tuple:
    """The input shape: ``--input``, else the layer's features or channels and symbolic sizes."""
    from .._symbols import C, H, L, T, W

    if input_text:
        return parse_shape(input_text)
    if "in_features" in kwargs:
        return (kwargs["in_features"],)
    c = next((kwargs[k] for k in ("in_channels", "num_features", "channels") if k in kwargs), C)
    dims = getattr(layer, "_dims", None) or {"BatchNorm1d": 1, "BatchNorm3d": 3}.get(type(layer).__name__, 2)
    return (c, *{1: (L,), 2: (H, W), 3: (T, H, W)}.get(dims, (H, W)))
