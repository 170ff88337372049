"""The ``symcnn`` command line (also ``python -m symcnn``).

    symcnn summary vgg16                                  # per-layer table, symbolic in H and W
    symcnn summary resnet50 --input 3x224x224             # numbers
    symcnn summary small_cnn --subs H=32,W=32 --format markdown
    symcnn summary my_net.yaml --format json              # a spec file (YAML or TOML)
    symcnn summary mypkg.nets:model --input 3x224x224     # a symcnn network or a torch.nn.Module
    symcnn formula conv2d output_size --stride 2          # a closed form (--latex for LaTeX)
    symcnn solve conv2d --input 3x224x224 --output 64x112x112 --kernel 7 --stride 2 --padding P
    symcnn solve unet --valid-sizes --between 32,1024 --exact
    symcnn derive same_padding                            # a derivation, proof and check re-run
    symcnn errata                                         # wrong published formulas, refuted
    symcnn models                                         # the zoo and the example specs
    symcnn docs build                                     # the formula site

User-typed values (shapes, substitutions, layer arguments) are parsed by a whitelist grammar (integers,
symbol names, + - * / // % **, parentheses, floor/ceil/min/max/mod), never by ``eval``/``sympify``.
Exit status: 0 on success, 1 when a re-run check fails, 2 on bad input (one line on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import os
import re
import sys

from ._errors import SymcnnError
from ._parse import parse_expr_safe, symbol_for

__all__ = ["main", "parse_value", "parse_shape", "parse_subs"]

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,30}$")
_DOTTED = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*"
_TARGET = re.compile(rf"^{_DOTTED}:{_DOTTED}$")
_FORMATS = ("table", "markdown", "latex", "csv", "json", "html")


# --- value parsing ---------------------------------------------------------------------------------------

def parse_value(text: str, what: str):
    """An int or a SymPy expression, parsed by the whitelist grammar (:mod:`symcnn._parse`).

    >>> parse_value("224", "H"), parse_value("W", "input"), parse_value("2*S + 1", "--kernel")
    (224, W, 2*S + 1)
    """
    value = parse_expr_safe(text.strip(), what)
    return int(value) if value.is_Integer else value


def _split_top(text: str, seps: str) -> list[str]:
    """Split at separator characters outside parentheses (``x`` is not a separator inside ``max``)."""
    parts, depth, cur = [], 0, ""
    for i, ch in enumerate(text):
        depth += (ch == "(") - (ch == ")")
        if depth == 0 and ch in seps and not (ch == "x" and text[max(0, i - 2):i] == "ma"):
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return parts


def parse_shape(text: str, what: str = "--input") -> tuple:
    """``3x224x224``, ``3xHxW`` or ``3,H,2*W`` -> a shape tuple (entries: ints or expressions).

    >>> parse_shape("3xHxW"), parse_shape("1, 2*H, max(W, 8)")
    ((3, H, W), (1, 2*H, Max(8, W)))
    """
    parts = _split_top(text, "x,×")
    if not text.strip() or any(not p.strip() for p in parts):
        raise SymcnnError(f"{what}: {text!r} must look like 3x224x224 or 3xHxW (channels first, no batch)")
    return tuple(parse_value(p, what) for p in parts)


def parse_subs(text: str, what: str = "--subs") -> dict:
    """``H=224,W=224`` -> ``{"H": 224, "W": 224}``; values may be expressions (``W=2*K``).

    >>> parse_subs("H=224, W=200")
    {'H': 224, 'W': 200}
    """
    out = {}
    for item in filter(None, (s.strip() for s in _split_top(text, ","))):
        name, sep, value = item.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not _NAME.match(name) or not value:
            raise SymcnnError(f"{what}: {item!r} must look like NAME=INTEGER or NAME=EXPRESSION (e.g. H=224)")
        try:
            out[name] = parse_value(value, "value")
        except SymcnnError as e:
            raise SymcnnError(f"{what}: {item!r} must look like NAME=INTEGER or NAME=EXPRESSION; {e}") from None
    return out


def _one_line(e: Exception) -> str:
    return " ".join(str(e).split())


# --- resolving a model -----------------------------------------------------------------------------------

def _default_input(name: str) -> tuple:
    """The input a zoo model is analysed on: symbolic spatial sizes unless the model fixes them."""
    from ._symbols import H, W

    return {"lenet5": (1, 32, 32), "unet": (1, H, W), "dcgan_generator": (100, 1, 1)}.get(name, (3, H, W))


#: the spatial size ``symcnn models`` substitutes (the size the model was published for)
_LISTING_SIZE = {"unet": 572, "dcgan_discriminator": 64}


def _is_torch_module(obj) -> bool:
    return any(c.__name__ == "Module" and c.__module__.startswith("torch.nn") for c in type(obj).__mro__)


def _is_network(obj) -> bool:
    from ._graph import Graph, Sequential
    from .layers._base import Layer

    return isinstance(obj, (Layer, Sequential, Graph))


def _import_target(target: str, shape):
    if not _TARGET.match(target):
        raise SymcnnError(f"model {target!r}: use module:attribute with Python names (e.g. mypkg.nets:model)")
    module_name, attr = target.split(":")
    if os.getcwd() not in sys.path and "" not in sys.path:  # like `python -m`: modules in the current folder
        sys.path.insert(0, os.getcwd())
    try:
        obj = importlib.import_module(module_name)
    except ImportError as e:
        raise SymcnnError(f"model {target!r}: cannot import {module_name!r} ({_one_line(e)})") from None
    except SystemExit as e:  # the module ran a script on import
        raise SymcnnError(f"model {target!r}: importing {module_name!r} called sys.exit({e.code!r})") from None
    except Exception as e:  # the user's module failed while importing
        raise SymcnnError(f"model {target!r}: importing {module_name!r} raised {type(e).__name__}: "
                          f"{_one_line(e)}") from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise SymcnnError(f"model {target!r}: {module_name!r} has no attribute {part!r}")
        obj = getattr(obj, part)
    if not _is_network(obj) and not _is_torch_module(obj) and (inspect.isfunction(obj) or inspect.isclass(obj)):
        try:
            obj = obj()
        except SystemExit as e:
            raise SymcnnError(f"model {target!r}: calling {attr}() called sys.exit({e.code!r})") from None
        except Exception as e:
            raise SymcnnError(f"model {target!r}: calling {attr}() raised {type(e).__name__}: {_one_line(e)}") from None
    if _is_network(obj):
        return obj, shape
    if _is_torch_module(obj):
        try:
            from .interop.torch import from_torch
        except ImportError:
            raise SymcnnError(
                f"model {target!r} is a torch.nn.Module, but symcnn.from_torch is not available in this "
                "installation"
            ) from None
        return from_torch(obj, shape), shape
    raise SymcnnError(f"model {target!r} is a {type(obj).__name__}; expected a symcnn layer or network, a "
                      "torch.nn.Module, or a function returning one")


def _resolve_model(name: str, input_text: str | None):
    """(model, input shape, title) for a zoo name, a spec (path or example name) or module:attribute."""
    from . import models
    from ._symbols import H, W
    from .spec import _SUFFIXES, examples, load_spec

    shape = parse_shape(input_text) if input_text else None
    if name in models.names():
        return models.get(name), shape or _default_input(name), name
    suffix = os.path.splitext(name)[1].lower()
    if suffix in _SUFFIXES or name in examples():
        spec = load_spec(name)
        return spec.model, shape or spec.input_shape, spec.name
    if ":" in name:
        model, shape = _import_target(name, shape or (3, H, W))
        return model, shape, name.split(":")[1]
    raise SymcnnError(
        f"unknown model {name!r}: give a zoo name ({', '.join(models.names())}), an example spec "
        f"({', '.join(examples())}), a .yaml/.yml/.toml spec file or module:attribute"
    )


# --- commands --------------------------------------------------------------------------------------------

def _analyze_resolved(model_name: str, input_text: str | None):
    """(analysis, title). A spec whose sizes use its input symbols (``Linear: [64*floor(H/4), ...]``) is
    analysed on its own input shape and ``--input`` substitutes those symbols, so both stay consistent."""
    import sympy

    from . import models
    from ._analysis import analyze

    model, shape, title = _resolve_model(model_name, input_text)
    if input_text and model_name not in models.names() and ":" not in model_name:
        from .spec import load_spec

        own = load_spec(model_name).input_shape
        if len(own) == len(shape):
            mapping = {o: g for o, g in zip(own, shape, strict=True) if isinstance(o, sympy.Symbol) and o != g}
            if all(isinstance(o, sympy.Symbol) or o == g for o, g in zip(own, shape, strict=True)):
                a = analyze(model, own)
                return (a.subs(mapping) if mapping else a), title
    return analyze(model, shape), title


def _cmd_summary(args) -> tuple[str, int]:
    from .interop.export import render

    a, title = _analyze_resolved(args.model, args.input)
    if args.subs:
        a = a.subs(parse_subs(args.subs))
    extra = ()
    if args.convention:
        try:
            from .counting import count
        except ImportError:
            raise SymcnnError("--convention needs symcnn.count (symcnn.counting), which is not available in this "
                              "installation") from None
        extra = ((f"count ({args.convention})", count(a, convention=args.convention)),)
    return render(a, args.format, title, width=args.width, extra=extra).rstrip("\n"), 0


_DEFAULT_ARGS = None


def _default_args() -> dict:
    global _DEFAULT_ARGS
    if _DEFAULT_ARGS is None:
        from ._symbols import C, D, F, G, K, P, S

        _DEFAULT_ARGS = {
            "in_channels": C, "out_channels": K, "kernel_size": F, "stride": S, "padding": P, "dilation": D,
            "groups": G, "output_padding": symbol_for("OP"), "in_features": C, "out_features": K,
            "num_features": C, "channels": C, "output_size": symbol_for("O"), "num_parameters": C,
        }
    return _DEFAULT_ARGS


def _layer_class(name: str):
    from .spec import LAYER_TYPES

    by_lower = {n.lower(): c for n, c in LAYER_TYPES.items()}
    cls = by_lower.get(name.lower().replace("_", ""))
    if cls is None:
        raise SymcnnError(f"unknown layer {name!r}; layers: {', '.join(sorted(by_lower))}")
    return cls


_ARG_OPTIONS = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups",
                "output_padding")


def _layer_args(args, cls, symbolic: bool, fill: dict | None = None) -> dict:
    """Constructor arguments of ``cls`` from the options: given values, then ``fill``, then (``symbolic``) the
    standard symbols for every argument the layer has."""
    params = inspect.signature(cls.__init__).parameters
    names = [p for p in params if p != "self" and params[p].kind not in (inspect.Parameter.VAR_POSITIONAL,
                                                                          inspect.Parameter.VAR_KEYWORD)]
    given: dict = {}
    for opt in _ARG_OPTIONS:
        text = getattr(args, opt, None)
        if text is not None:
            given[opt] = text
    for item in args.arg or ():
        key, sep, value = item.partition("=")
        if not sep or not _NAME.match(key.strip()) or not value.strip():
            raise SymcnnError(f"--arg: {item!r} must look like NAME=VALUE (e.g. ceil_mode=true)")
        given[key.strip()] = value.strip()
    out: dict = {}
    for key, text in given.items():
        if key not in names:
            raise SymcnnError(f"{cls.__name__} has no argument `{key}`; arguments: {', '.join(names)}")
        low = text.lower()
        if low in ("true", "false"):
            out[key] = low == "true"
        elif key in ("padding", "padding_mode", "mode") and re.fullmatch(r"[a-z_]+", text):
            out[key] = text
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


def _build_layer(cls, kwargs):
    try:
        return cls(**kwargs)
    except SymcnnError:
        raise
    except (TypeError, ValueError) as e:
        raise SymcnnError(f"{cls.__name__}: {_one_line(e)}") from None


def _layer_input(layer, kwargs, input_text) -> tuple:
    from ._symbols import C, H, L, T, W

    if input_text:
        return parse_shape(input_text)
    if "in_features" in kwargs:
        return (kwargs["in_features"],)
    c = next((kwargs[k] for k in ("in_channels", "num_features", "channels") if k in kwargs), C)
    dims = getattr(layer, "_dims", None) or {"BatchNorm1d": 1, "BatchNorm3d": 3}.get(type(layer).__name__, 2)
    return (c, *{1: (L,), 2: (H, W), 3: (T, H, W)}.get(dims, (H, W)))


_QUANTITIES = ("output_size", "output_shape", "params", "macs", "flops", "connections", "receptive_field",
               "constraints")


def _cmd_formula(args) -> tuple[str, int]:
    from ._analysis import analyze
    from ._intmath import latex, pretty

    quantity = args.quantity.lower().replace("-", "_")
    if quantity not in _QUANTITIES:
        raise SymcnnError(f"unknown quantity {args.quantity!r}; quantities: {', '.join(_QUANTITIES)}")
    cls = _layer_class(args.layer)
    fill = {}
    if args.input:  # the input's channels (or features) stand for the layer's, unless given
        first = parse_shape(args.input)[0]
        fill = {"in_channels": first, "num_features": first, "in_features": first}
    kwargs = _layer_args(args, cls, symbolic=True, fill=fill)
    layer = _build_layer(cls, kwargs)
    shape = _layer_input(layer, kwargs, args.input)
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
        rf = a.receptive_field
        if not rf.size:
            text = "no spatial axes"
        else:
            text = (f"size {tup(rf.size)}, stride {tup(rf.stride)}" if not args.latex else
                    rf"\text{{size}} = {tup(rf.size)},\quad \text{{stride}} = {tup(rf.stride)}")
            if not rf.exact:
                text += " (not exact: a bound or estimate, see symcnn/receptive.py)"
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


def _cmd_solve(args) -> tuple[str, int]:
    from . import models
    from .solve import solve, valid_input_sizes

    if args.valid_sizes:
        if args.output:
            raise SymcnnError("--valid-sizes takes no --output (it lists the input sizes for which the model runs)")
        lo_hi = _split_top(args.between, ",:") if args.between else ["1", "1024"]
        if len(lo_hi) != 2 or not all(re.fullmatch(r"\s*[0-9]{1,9}\s*", v) for v in lo_hi):
            raise SymcnnError(f"--between: {args.between!r} must look like 32,1024")
        between = (int(lo_hi[0]), int(lo_hi[1]))
        if args.target in models.names() or ":" in args.target or args.target.endswith((".yaml", ".yml", ".toml")) \
                or _is_example(args.target):
            model, shape, _ = _resolve_model(args.target, args.input)
        else:
            cls = _layer_class(args.target)
            kwargs = _layer_args(args, cls, symbolic=False)
            model = _build_layer(cls, kwargs)
            shape = None if not args.input else parse_shape(args.input)
        given_shape = shape if args.input else None
        r = valid_input_sizes(model, between=between, exact=args.exact, input_shape=given_shape)
        return (r._repr_latex_() if args.latex else f"{r._head()}\n{len(r)} sizes in [{between[0]}, {between[1]}]: "
                + (", ".join(map(str, r.sizes[:200])) + (" ..." if len(r) > 200 else "") if len(r) else "none")), 0
    if not args.output:
        raise SymcnnError("solve: give --output (the target shape, e.g. 64x112x112; * for any) or --valid-sizes")
    if not args.input:
        raise SymcnnError("solve: give --input (e.g. 3x224x224; symbols are unknown input sizes)")
    shape = parse_shape(args.input)
    target = tuple(None if p.strip() == "*" else parse_value(p, "--output") for p in _split_top(args.output, "x,×"))
    if args.target in models.names() or ":" in args.target or args.target.endswith((".yaml", ".yml", ".toml")) \
            or _is_example(args.target):
        model, _, _ = _resolve_model(args.target, args.input)
    else:
        cls = _layer_class(args.target)
        fill = {"in_channels": shape[0], "num_features": shape[0], "channels": shape[0]}
        if target and target[0] is not None:
            fill["out_channels"] = target[0]
        if "in_features" in inspect.signature(cls.__init__).parameters:
            fill = {"in_features": shape[0], "out_features": target[0]}
        model = _build_layer(cls, _layer_args(args, cls, symbolic=False, fill=fill))
    bounds = _parse_bounds(args.bounds) if args.bounds else None
    r = solve(model, shape, target, bounds=bounds)
    return (r._repr_latex_() if args.latex else repr(r)), 0


def _is_example(name: str) -> bool:
    from .spec import examples

    return name in examples()


def _parse_bounds(text: str) -> dict:
    """``P=0:10,S=1:4`` -> {P: (0, 10), S: (1, 4)}."""
    out = {}
    for item in filter(None, (s.strip() for s in text.split(","))):
        m = re.fullmatch(r"([A-Za-z][A-Za-z0-9_]{0,30})\s*=\s*([0-9]{1,9})\s*(?::|\.\.)\s*([0-9]{1,9})", item)
        if not m:
            raise SymcnnError(f"--bounds: {item!r} must look like NAME=LOW:HIGH (e.g. P=0:10)")
        out[symbol_for(m.group(1))] = (int(m.group(2)), int(m.group(3)))
    return out


def _cmd_derive(args) -> tuple[str, int]:
    from . import derive

    names = derive.names()
    if args.list:
        return "\n".join(names), 0
    if args.name:
        if args.name not in names:
            raise SymcnnError(f"unknown derivation {args.name!r}; derivations: {', '.join(names)}")
        d = getattr(derive, args.name)().run()
        text = d._repr_latex_() if args.latex else d.to_markdown()
        return text + f"\n\nverified: {d.verified} ({d.seconds:.2f} s)", 0 if d.verified else 1
    rows = ["derivation                 verified  cases       seconds"]
    ok = True
    for f in derive.DERIVATIONS:
        d = f().run()
        ok &= d.verified
        rows.append(f"{d.name:26s} {str(d.verified):9s} {d.check.cases:<11d} {d.seconds:.2f}")
    rows.append(f"all verified: {ok}")
    return "\n".join(rows), 0 if ok else 1


def _cmd_errata(args) -> tuple[str, int]:
    from .errata import errata

    items = errata()
    if args.name:
        by = {e.name: e for e in items}
        if args.name not in by:
            raise SymcnnError(f"unknown erratum {args.name!r}; errata: {', '.join(by)}")
        e = by[args.name]
        return e.to_markdown() + f"\n\nverified: {e.verified}", 0 if e.verified else 1
    from .errata import _show

    out = []
    for e in items:
        out += [f"{e.name}: {e.title}", f"  claimed: {_show(e.claimed)}", f"  correct: {_show(e.correct)}",
                f"  counterexample: {e.counterexample} (claimed {e.claimed_value}, correct {e.correct_value})",
                f"  agrees when: {e.agrees_when}", f"  verified: {e.verified} ({e.cases} cases)", ""]
    ok = all(e.verified for e in items)
    out.append(f"{len(items)} errata, all verified: {ok}")
    return "\n".join(out), 0 if ok else 1


def _cmd_models(args) -> tuple[str, int]:
    from . import models
    from ._analysis import analyze
    from .spec import examples, load_spec

    rows = []
    for name in models.names():
        if args.no_counts:
            rows.append(name)
            continue
        shape = _default_input(name)
        size = _LISTING_SIZE.get(name, 224)
        numeric = tuple(v if isinstance(v, int) else size for v in shape)
        a = analyze(models.get(name), numeric)
        rows.append(f"{name:22s} input {'x'.join(map(str, numeric)):12s} params {int(a.params):>13,d}  "
                    f"MACs {int(a.macs):>16,d}")
    rows.append("")
    rows.append("example specs (symcnn summary NAME):")
    for name in examples():
        spec = load_spec(name)
        rows.append(f"  {name:20s} {spec.description}")
    return "\n".join(rows), 0


def _cmd_docs(args) -> tuple[str, int]:
    try:
        from . import docsgen
    except ImportError as e:
        raise SymcnnError(f"the docs generator symcnn.docsgen is not available ({_one_line(e)})") from None
    fn = getattr(docsgen, args.action, None)
    if fn is None:
        raise SymcnnError(f"symcnn.docsgen.{args.action} is not available in this installation")
    if not 0 <= args.port <= 65535:
        raise SymcnnError(f"docs: `--port`={args.port} must be between 0 and 65535")
    try:
        if args.action == "build":
            result = fn(site_dir=args.site_dir, strict=True)
            return (f"site built in {args.site_dir}" + ("" if result is None else f": {result}")), 0
        fn(host=args.host, port=args.port)
    except OSError as e:  # an unwritable site folder, a port in use, an unknown host
        raise SymcnnError(f"docs {args.action}: {_one_line(e)}") from None
    return "", 0


# --- parser ----------------------------------------------------------------------------------------------

class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit 2) and examples in the help."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _add_layer_options(p) -> None:
    g = p.add_argument_group("layer arguments (ints, symbols or expressions such as 2*S + 1)")
    g.add_argument("--in-channels", dest="in_channels", metavar="V")
    g.add_argument("--out-channels", dest="out_channels", metavar="V")
    g.add_argument("--kernel", "--kernel-size", dest="kernel_size", metavar="V")
    g.add_argument("--stride", metavar="V")
    g.add_argument("--padding", metavar="V", help="a size, or same / valid / full")
    g.add_argument("--dilation", metavar="V")
    g.add_argument("--groups", metavar="V")
    g.add_argument("--output-padding", dest="output_padding", metavar="V")
    g.add_argument("--no-bias", action="store_true", help="bias=False")
    g.add_argument("--arg", action="append", metavar="NAME=VALUE",
                   help="any other constructor argument, e.g. --arg ceil_mode=true (repeatable)")


def _sub(sub, name: str, help_: str, examples: str):
    return sub.add_parser(name, help=help_, description=help_, epilog="examples:\n" + examples,
                          formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False)


def _build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="symcnn", description="Convolutional-network arithmetic as exact closed forms.",
                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__, allow_abbrev=False)
    from . import __version__

    p.add_argument("--version", action="version", version=f"symcnn {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = _sub(sub, "summary", "per-layer table: closed forms, or numbers when substituted",
             "  symcnn summary vgg16\n  symcnn summary resnet50 --input 3x224x224\n"
             "  symcnn summary small_cnn --subs H=32,W=32 --format markdown\n"
             "  symcnn summary net.yaml --format json\n  symcnn summary resnet18 --input 3x224x224 --convention fvcore")
    s.add_argument("model", help="a zoo name (symcnn models), an example spec, a .yaml/.yml/.toml spec, or "
                                 "module:attribute (a symcnn network or a torch.nn.Module)")
    s.add_argument("--input", help="input shape, e.g. 3x224x224 or 3xHxW (default: the model's)")
    s.add_argument("--subs", default="", help="substitutions, e.g. H=224,W=224")
    s.add_argument("--format", choices=_FORMATS, default="table")
    s.add_argument("--convention", help="also print the count of a tool's convention (symcnn.count), e.g. fvcore")
    s.add_argument("--width", type=int, default=None, help="terminal table width (default: the terminal's)")
    s.set_defaults(func=_cmd_summary)

    f = _sub(sub, "formula", "the closed form of one quantity of one layer (arguments default to symbols)",
             "  symcnn formula conv2d output_size\n  symcnn formula conv2d output_size --stride 2 --padding same\n"
             "  symcnn formula convtranspose2d output_shape --latex\n  symcnn formula maxpool2d constraints\n"
             "  symcnn formula conv2d macs --kernel 3 --input 64xHxW")
    f.add_argument("layer", help="a layer name, e.g. conv2d, convtranspose2d, maxpool2d, linear")
    f.add_argument("quantity", help=", ".join(_QUANTITIES))
    f.add_argument("--input", help="input shape (default: (C, H, W) with C the layer's in_channels)")
    f.add_argument("--latex", action="store_true", help="LaTeX instead of text")
    _add_layer_options(f)
    f.set_defaults(func=_cmd_formula)

    v = _sub(sub, "solve", "find layer arguments (or input sizes) hitting a target shape; valid input sizes",
             "  symcnn solve conv2d --input 3x224x224 --output 64x112x112 --kernel 7 --stride 2 --padding P\n"
             "  symcnn solve conv2d --input 3x224x224 --output 64x112x112 --kernel F --stride S --padding P "
             "--bounds F=1:7,S=1:4,P=0:3\n"
             "  symcnn solve unet --valid-sizes --between 32,1024 --exact\n"
             "  symcnn solve vgg16 --input 3xHxW --output 1000")
    v.add_argument("target", help="a layer name (conv2d, ...) or a model (as for summary)")
    v.add_argument("--input", help="input shape; symbols are unknown sizes")
    v.add_argument("--output", help="target output shape, e.g. 64x112x112 (* for any entry)")
    v.add_argument("--bounds", help="search ranges, e.g. P=0:10,S=1:4")
    v.add_argument("--valid-sizes", action="store_true", help="list the input sizes for which the model runs")
    v.add_argument("--between", help="range of --valid-sizes, e.g. 32,1024 (default 1,1024)")
    v.add_argument("--exact", action="store_true", help="with --valid-sizes: only sizes losing no pixel")
    v.add_argument("--latex", action="store_true", help="the closed form in LaTeX")
    _add_layer_options(v)
    v.set_defaults(func=_cmd_solve)

    d = _sub(sub, "derive", "show derivations and re-run their proofs and exhaustive checks",
             "  symcnn derive              # run all, one line each\n  symcnn derive same_padding\n"
             "  symcnn derive --list")
    d.add_argument("name", nargs="?", help="a derivation name (symcnn derive --list)")
    d.add_argument("--list", action="store_true", help="only list the names")
    d.add_argument("--latex", action="store_true", help="the result in LaTeX")
    d.set_defaults(func=_cmd_derive)

    e = _sub(sub, "errata", "wrong published formulas with their smallest counterexamples (recomputed)",
             "  symcnn errata\n  symcnn errata transposed_offset")
    e.add_argument("name", nargs="?", help="one erratum, in full")
    e.set_defaults(func=_cmd_errata)

    m = _sub(sub, "models", "list the model zoo (params and MACs at the published input size) and example specs",
             "  symcnn models\n  symcnn models --no-counts")
    m.add_argument("--no-counts", action="store_true", help="names only (no analysis)")
    m.set_defaults(func=_cmd_models)

    o = _sub(sub, "docs", "build or serve the formula site (symcnn.docsgen)",
             "  symcnn docs build\n  symcnn docs serve --port 8000")
    o.add_argument("action", choices=("build", "serve"))
    o.add_argument("--site-dir", default="site")
    o.add_argument("--host", default="127.0.0.1")
    o.add_argument("--port", type=int, default=8000)
    o.set_defaults(func=_cmd_docs)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 a re-run check failed, 2 bad input)."""
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help/--version (0) or a usage error already printed on one line (2)
        return e.code if isinstance(e.code, int) else 2
    try:
        text, status = args.func(args)
    except SymcnnError as e:
        print(f"symcnn {args.command}: error: {_one_line(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # pragma: no cover - interactive
        return 130
    if text:
        try:
            print(text)
        except BrokenPipeError:  # pragma: no cover - `symcnn ... | head`: the reader left, not an error
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
