"""The ``symcnn`` command line (also ``python -m symcnn``).

    symcnn summary vgg16                                  # per-layer table, symbolic in H and W
    symcnn summary resnet50 --input 3x224x224             # numbers
    symcnn formula conv2d output_size --stride 2          # a closed form (--latex for LaTeX)
    symcnn solve conv2d --input 3x224x224 --output 64x112x112 --kernel 7 --stride 2 --padding P
    symcnn docs build                                     # the formula site

Layout: :mod:`._parser` builds the argparse parser (commands, options, help); :mod:`._commands` runs
``summary``, ``formula`` and ``solve``; :mod:`._commands_train` runs ``train-cost``;
:mod:`._commands_info` runs ``derive``, ``errata``, ``models`` and
``docs``; :mod:`._resolve` finds the model a name stands for (zoo, spec, ``module:attribute`` under a narrow
rule); :mod:`._layer_args` builds one layer from the options; :mod:`._values` parses typed values with the
whitelist grammar of :mod:`symcnn._parse` (never ``eval``). :func:`main` wires them and owns the exit status:
0 success; 2 bad input (:class:`~symcnn.SymcnnError` or any other ``ValueError``: one line on stderr);
1 a re-run check failed, or an internal error (any other exception: one line naming it, no traceback unless
``SYMCNN_DEBUG=1``).
"""

from __future__ import annotations

import os
import sys

from ._commands import cmd_formula, cmd_solve, cmd_summary
from ._commands_info import cmd_derive, cmd_docs, cmd_errata, cmd_models
from ._commands_train import cmd_train_cost
from ._parser import build_parser
from ._values import one_line, parse_shape, parse_subs, parse_value

__all__ = ["main", "parse_value", "parse_shape", "parse_subs", "build_parser"]


def _commands() -> dict:
    return {
        "summary": cmd_summary, "formula": cmd_formula, "solve": cmd_solve, "train-cost": cmd_train_cost,
        "derive": cmd_derive,
        "errata": cmd_errata, "models": cmd_models,
        "docs": lambda args: cmd_docs(args, cli=main),  # the site's CLI page runs this very command line
    }


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 a re-run check failed or an internal error,
    2 bad input)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help/--version (0) or a usage error already printed on one line (2)
        return e.code if isinstance(e.code, int) else 2
    try:
        text, status = _commands()[args.command](args)
    except ValueError as e:  # SymcnnError and any other refusal of a value
        print(f"symcnn {args.command}: error: {one_line(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # pragma: no cover - interactive
        return 130
    except RecursionError:
        print(f"symcnn {args.command}: error: the input is nested too deeply to analyse", file=sys.stderr)
        return 2
    except Exception as e:
        if os.environ.get("SYMCNN_DEBUG") == "1":
            raise
        print(f"symcnn {args.command}: internal error: {type(e).__name__}: {one_line(e)} (a bug in symcnn; "
              "please report it with the command; SYMCNN_DEBUG=1 shows the traceback)", file=sys.stderr)
        return 1
    if text:
        try:
            print(text)
        except BrokenPipeError:  # pragma: no cover - `symcnn ... | head`: the reader left, not an error
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
    return status
