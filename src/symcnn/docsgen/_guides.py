"""The home-page example, the solver and CLI how-tos (examples executed while the site is built) and the API
reference page (mkdocstrings directives).

Examples are constant source strings of this module, run statement by statement; the value of each expression
statement is shown the way the Python prompt shows it.
"""

from __future__ import annotations

import ast
import contextlib
import io
import os
import pathlib
import subprocess
import sys

from ._core import Page

__all__ = ["run_example", "render_guides", "run_cli_subprocess", "HOME_EXAMPLE", "API_OBJECTS", "CLI_EXAMPLES"]

HOME_EXAMPLE = """\
import symcnn as sc
from symcnn import C, H, W, F, S, P
a = sc.analyze(sc.Conv2d(C, 64, kernel_size=F, stride=S, padding=P), (C, H, W))
a.output_shape
a.params
a.constraints
a.subs(C=3, H=224, W=224, F=7, S=2, P=3).output_shape
sc.analyze(sc.models.vgg16(), (3, H, W)).output_shape
"""

SOLVE_EXAMPLES = (
    ("Which padding keeps 224 -> 112 with a 7x7 stride-2 kernel?", """\
import symcnn as sc
r = sc.solve(sc.Conv2d(3, 64, 7, stride=2, padding=sc.P), (3, 224, 224), (64, 112, 112))
r.closed_form
list(r)
"""),
    ("Which input sizes does the original U-Net accept without losing a pixel?", """\
import symcnn as sc
sc.valid_input_sizes(sc.models.get("unet"), between=(32, 1024), exact=True)
"""),
    ("Which input sizes can VGG16 run on?", """\
import symcnn as sc
sc.valid_input_sizes(sc.models.vgg16(), between=(1, 300))
"""),
)

CLI_EXAMPLES = (
    ("The zoo", ["models"]),
    ("A per-layer summary, symbolic in H and W", ["summary", "alexnet"]),
    ("The same at 224x224", ["summary", "alexnet", "--subs", "H=224,W=224"]),
    ("A refused input: one line on stderr, exit status 2", ["summary", "vgg16", "--input", "3x16x16"]),
)

#: objects documented on the API page (mkdocstrings)
API_OBJECTS = (
    "symcnn.analyze", "symcnn.Analysis", "symcnn.LayerRecord", "symcnn.ReceptiveField", "symcnn.Sequential",
    "symcnn.Graph", "symcnn.Input", "symcnn.floordiv", "symcnn.ceildiv", "symcnn.pretty", "symcnn.latex",
    "symcnn.symbols", "symcnn.solve.solve", "symcnn.solve.valid_input_sizes", "symcnn.solve.mirror_output_padding",
    "symcnn.count", "symcnn.conventions", "symcnn.from_torch", "symcnn.to_torch", "symcnn.Opaque",
    "symcnn.interop.onnx.from_onnx", "symcnn.interop.dims.export_dims", "symcnn.training.training",
    "symcnn.training.max_batch", "symcnn.training.max_input_size", "symcnn.load_spec",
    "symcnn.errata.errata", "symcnn.errata.Erratum", "symcnn.SymcnnError", "symcnn.derive.Derivation",
    "symcnn.models.names",
    "symcnn.models.get", "symcnn.docsgen.build", "symcnn.docsgen.serve", "symcnn.docsgen.render",
)


def run_example(source: str) -> str:
    """Run ``source`` (a constant example of this module) and return a prompt-style transcript.

    >>> run_example("x = 2\\nx + 1").splitlines()
    ['>>> x = 2', '>>> x + 1', '3']
    """
    tree = ast.parse(source)
    namespace: dict = {"__name__": "symcnn_docs_example"}
    out = []
    lines = source.splitlines()
    for stmt in tree.body:
        text = "\n".join(lines[stmt.lineno - 1: stmt.end_lineno])
        out.append(">>> " + text.replace("\n", "\n... "))
        if isinstance(stmt, ast.Expr):
            code = compile(ast.Expression(stmt.value), "<example>", "eval")
            value = eval(code, namespace)  # noqa: S307 - constant example source of this module, never user input
            if value is not None:
                out.append(repr(value))
        else:
            exec(compile(ast.Module([stmt], []), "<example>", "exec"), namespace)  # noqa: S102 - idem
    return "\n".join(out)


def run_cli_subprocess(argv: list[str]) -> int:
    """Run ``python -m symcnn ARGV`` (this very package) in a subprocess, copying its output to ``sys.stdout`` /
    ``sys.stderr``; returns its exit status. The CLI page's runner when no in-process one is given (this package
    does not import the command line, which imports it)."""
    package_parent = str(pathlib.Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH")) if p)
    done = subprocess.run([sys.executable, "-m", "symcnn", *argv], capture_output=True, text=True, env=env,
                          timeout=600, check=False)
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    return done.returncode


def _cli(argv: list[str], cli) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = (cli or run_cli_subprocess)(argv)
    return status, out.getvalue(), err.getvalue()


def render_guides(cli=None) -> tuple[list[Page], dict[str, str]]:
    """(pages, extra files): the solver and CLI how-tos, the API page and the home example snippet.

    ``cli`` (``argv -> exit status``, printing like :func:`symcnn.cli.main`, which the entry points pass) runs
    the CLI page's examples; default: :func:`run_cli_subprocess`."""
    files = {"reference/_snippets/home_example.md": "```pycon\n" + run_example(HOME_EXAMPLE) + "\n```\n"}
    solve = Page("reference/solvers.md", "Solvers")
    solve.para("Invert the formulas: the layer arguments or input sizes that produce a target. Examples run while "
               "this page was built; outputs are the real ones. Reference: `symcnn.solve`, "
               "`symcnn.valid_input_sizes`, `symcnn.mirror_output_padding` on the [API page](api.md).")
    for title, src in SOLVE_EXAMPLES:
        solve.add(f"## {title}", "", "```pycon", run_example(src), "```", "")
    page = Page("reference/cli.md", "Command line")
    page.para("The `symcnn` command (installed with the package). Each block below was run while this page was "
              "built; user-typed values are parsed by a whitelist, never evaluated.")
    for title, argv in CLI_EXAMPLES:
        status, out, err = _cli(argv, cli)
        page.add(f"## {title}", "", "```console", "$ symcnn " + " ".join(argv), (out + err).rstrip(),
                 f"$ echo $?\n{status}", "```", "")
    page.para("Build this site: `python -m symcnn.docsgen` (or `symcnn docs build`); serve it locally with "
              "`symcnn docs serve`.")
    api = Page("reference/api.md", "API reference")
    api.para("Generated by mkdocstrings from the docstrings.")
    for obj in API_OBJECTS:
        api.add(f"::: {obj}", "")
    return [solve, page, api], files
