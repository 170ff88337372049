"""The argument parser of the ``symcnn`` command (argparse): commands, options, help texts and examples. It
names the command to run (``args.command``) and imports no command, so reading the parser (the docs do) runs
nothing."""

from __future__ import annotations

import argparse

from .._parse import MAX_SYMBOLS, MAX_TERMS
from ._resolve import TARGET_RULE

__all__ = ["build_parser", "EPILOG", "FORMATS", "QUANTITIES", "WIDTH_RANGE", "COMMANDS"]

COMMANDS = ("summary", "formula", "solve", "train-cost", "derive", "errata", "models", "docs")
FORMATS = ("table", "markdown", "latex", "csv", "json", "html")
QUANTITIES = ("output_size", "output_shape", "params", "macs", "flops", "connections", "receptive_field",
              "constraints")
#: the terminal table's width limits (narrower tables cannot hold a formula column)
WIDTH_RANGE = (40, 10_000)

EPILOG = f"""    symcnn summary vgg16                                  # per-layer table, symbolic in H and W
    symcnn summary resnet50 --input 3x224x224             # numbers
    symcnn summary small_cnn --subs H=32,W=32 --format markdown
    symcnn summary my_net.yaml --format json              # a spec file (YAML or TOML)
    symcnn summary mypkg.nets:model --input 3x224x224     # a symcnn network or a torch.nn.Module
    symcnn summary model.onnx                             # an ONNX file (any framework)
    symcnn formula conv2d output_size --stride 2          # a closed form (--latex for LaTeX)
    symcnn solve conv2d --input 3x224x224 --output 64x112x112 --kernel 7 --stride 2 --padding P
    symcnn solve unet --valid-sizes --between 32,1024 --exact
    symcnn derive same_padding                            # a derivation, proof and check re-run
    symcnn errata                                         # wrong published formulas, refuted
    symcnn models                                         # the zoo and the example specs
    symcnn docs build                                     # the formula site

User-typed values (shapes, substitutions, layer arguments) are parsed by a whitelist grammar (integers,
symbol names, + - * / // % **, parentheses, floor/ceil/min/max/mod), never by ``eval``/``sympify``;
one expression may use at most {MAX_SYMBOLS} distinct symbols and expand to at most {MAX_TERMS} terms.
A word given for --padding is a mode only if it is same or valid (PyTorch's; same needs stride 1), tf_same
(TensorFlow's SAME, any stride), same_lower or full (--padding p is the symbol p).
Exit status: 0 on success; 2 on bad input (one line on stderr, no traceback); 1 when a re-run check fails,
or on an internal error (a bug in symcnn: one line on stderr naming the exception, no traceback unless the
environment variable SYMCNN_DEBUG=1 is set).
"""


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
    g.add_argument("--padding", metavar="V", help="a size, or same / valid (PyTorch's) / tf_same / same_lower / full")
    g.add_argument("--dilation", metavar="V")
    g.add_argument("--groups", metavar="V")
    g.add_argument("--output-padding", dest="output_padding", metavar="V")
    g.add_argument("--no-bias", action="store_true", help="bias=False")
    g.add_argument("--arg", action="append", metavar="NAME=VALUE",
                   help="any other constructor argument, e.g. --arg ceil_mode=true (repeatable)")


def _sub(sub, name: str, help_: str, examples: str):
    return sub.add_parser(name, help=help_, description=help_, epilog="examples:\n" + examples,
                          formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="symcnn", description="Convolutional-network arithmetic as exact closed forms.",
                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG, allow_abbrev=False)
    from .. import __version__

    p.add_argument("--version", action="version", version=f"symcnn {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = _sub(sub, "summary", "per-layer table: closed forms, or numbers when substituted",
             "  symcnn summary vgg16\n  symcnn summary resnet50 --input 3x224x224\n"
             "  symcnn summary small_cnn --subs H=32,W=32 --format markdown\n"
             "  symcnn summary net.yaml --format json\n"
             "  symcnn summary resnet18 --input 3x224x224 --convention fvcore\n"
             "  symcnn summary model.onnx                     # dims named in the file become symbols")
    s.add_argument("model", help="a zoo name (symcnn models), an example spec, a .yaml/.yml/.toml spec, an .onnx "
                                 "file (symcnn.from_onnx), or module:attribute (a symcnn network or a "
                                 "torch.nn.Module). " + TARGET_RULE)
    s.add_argument("--input", help="input shape, e.g. 3x224x224 or 3xHxW (default: the model's)")
    s.add_argument("--subs", default="", help="substitutions, e.g. H=224,W=224")
    s.add_argument("--format", choices=FORMATS, default="table")
    s.add_argument("--convention", help="also print the count of a tool's convention (symcnn.count), e.g. fvcore")
    s.add_argument("--width", type=int, default=None, metavar="COLUMNS",
                   help=f"terminal table width, {WIDTH_RANGE[0]}..{WIDTH_RANGE[1]} (default: the terminal's)")

    t = _sub(sub, "train-cost", "one training step as closed forms: forward and backward MACs/FLOPs, saved "
             "activations, parameters, gradients, optimizer state; the largest batch that fits",
             "  symcnn train-cost resnet50 --batch B --optimizer adam\n"
             "  symcnn train-cost resnet50 --input 3x224x224 --memory 24GiB --dtype bfloat16 --totals\n"
             "  symcnn train-cost resnet18 --checkpoint layer1,layer2 --inplace --mixed-precision bfloat16")
    t.add_argument("model", help="a model, as for summary (zoo name, spec, .onnx file, module:attribute)")
    t.add_argument("--input", help="input shape, e.g. 3x224x224 (default: the model's, symbolic in H and W)")
    t.add_argument("--batch", help="batch size: an int, or a symbol (default B)")
    t.add_argument("--dtype", default="float32", help="float32 (default), float16, bfloat16 or float64")
    t.add_argument("--optimizer", default="adam", help="sgd, sgd_momentum, adam (default) or adamw")
    t.add_argument("--memory", help="device memory, e.g. 24GiB or 16GB: also print the largest batch that fits")
    t.add_argument("--frozen", help="comma-separated layer names whose parameters do not require grad")
    t.add_argument("--checkpoint", help="comma-separated submodule names, each a checkpointed segment")
    t.add_argument("--inplace", action="store_true", help="activations in place where PyTorch allows it")
    t.add_argument("--mixed-precision", dest="mixed_precision", help="autocast dtype: bfloat16 or float16")
    t.add_argument("--master-weights", dest="master_weights", action="store_true",
                   help="a float32 master copy of low-precision parameters")
    t.add_argument("--device", default="cuda", choices=("cuda", "cpu"), help="what dropout and autocast save")
    t.add_argument("--format", default="text", choices=("text", "markdown", "csv", "json"))
    t.add_argument("--totals", action="store_true", help="totals only, no per-layer rows")

    f = _sub(sub, "formula", "the closed form of one quantity of one layer (arguments default to symbols)",
             "  symcnn formula conv2d output_size\n  symcnn formula conv2d output_size --stride 2 --padding tf_same\n"
             "  symcnn formula convtranspose2d output_shape --latex\n  symcnn formula maxpool2d constraints\n"
             "  symcnn formula conv2d macs --kernel 3 --input 64xHxW")
    f.add_argument("layer", help="a layer name, e.g. conv2d, convtranspose2d, maxpool2d, linear")
    f.add_argument("quantity", help=", ".join(QUANTITIES))
    f.add_argument("--input", help="input shape (default: (C, H, W) with C the layer's in_channels)")
    f.add_argument("--latex", action="store_true", help="LaTeX instead of text")
    _add_layer_options(f)

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

    d = _sub(sub, "derive", "show derivations and re-run their proofs and exhaustive checks",
             "  symcnn derive              # run all, one line each\n  symcnn derive same_padding\n"
             "  symcnn derive --list")
    d.add_argument("name", nargs="?", help="a derivation name (symcnn derive --list)")
    d.add_argument("--list", action="store_true", help="only list the names")
    d.add_argument("--latex", action="store_true", help="the result in LaTeX")

    e = _sub(sub, "errata", "wrong published formulas with their smallest counterexamples (recomputed)",
             "  symcnn errata\n  symcnn errata transposed_offset")
    e.add_argument("name", nargs="?", help="one erratum, in full")

    m = _sub(sub, "models", "list the model zoo (params and MACs at the published input size) and example specs",
             "  symcnn models\n  symcnn models --no-counts")
    m.add_argument("--no-counts", action="store_true", help="names only (no analysis)")

    o = _sub(sub, "docs", "build or serve the formula site (symcnn.docsgen)",
             "  symcnn docs build\n  symcnn docs serve --port 8000\n\n"
             "The pages are generated into the docs/ folder of symcnn's own checkout (the one beside this package, "
             "whose mkdocs.yml carries symcnn's marker), never into another project's.")
    o.add_argument("action", choices=("build", "serve"))
    o.add_argument("--site-dir", default="site",
                   help="where the site goes (relative to the symcnn checkout): a new or empty folder, or a site "
                        "symcnn built before (it carries a marker file); anything else is refused")
    o.add_argument("--force", action="store_true", help="build into a non-empty --site-dir that is not a symcnn "
                                                        "site (its contents are deleted)")
    o.add_argument("--host", default="127.0.0.1")
    o.add_argument("--port", type=int, default=8000)
    return p


