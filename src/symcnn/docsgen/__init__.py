"""The formula reference site, generated from the engine.

:func:`render` is pure: it returns ``{path under docs/: text}`` for every generated page (layer families,
derivations, errata, models, plots, solvers, CLI, API) and file (the calculators' JavaScript, the SVG plots).
:func:`write` puts them under ``docs/`` (the generated folder ``docs/reference/`` is git-ignored and rebuilt
each time); :func:`build` writes, then runs ``mkdocs build`` (strict); :func:`serve` writes, then serves.

    python -m symcnn.docsgen            # build the site into site/
    python -m symcnn.docsgen --serve    # build the pages and serve on http://127.0.0.1:8000

Where it writes: only into symcnn's own docs tree, a folder whose ``mkdocs.yml`` carries the line
``# symcnn-docs-root`` (:data:`ROOT_MARKER`); the checkout beside this package first, else the first such
folder from the current one upwards. Another MkDocs project is refused, never written. The site goes into a
new or empty folder or a site symcnn built before (it holds :data:`SITE_MARKER`); any other non-empty folder is
refused unless ``force=True``.

The CLI page shows the real ``symcnn`` command run on examples. This package does not import the command line
(which imports it): the entry points (``symcnn docs``, ``python -m symcnn.docsgen``) pass it in as ``cli``, a
function ``argv -> exit status`` like :func:`symcnn.cli.main`; without it the examples run as
``python -m symcnn`` in a subprocess, with the same output.
"""

from __future__ import annotations

import importlib
import importlib.util
import pathlib
import re
import shutil

from .. import __version__, derive
from .._errors import SymcnnError
from ..errata import errata
from ._calculators import CALCULATORS, calculator_html, render_calculator_page, render_js
from ._core import Page
from ._guides import render_guides
from ._layers import render_layers
from ._models import render_models
from ._nav import NAV_FILE, site_config
from ._plots import render_plots
from ._proofs import render_bibliography, render_derivations, render_errata

__all__ = ["render", "render_pages", "write", "build", "serve", "find_root", "main", "GENERATED", "ROOT_MARKER",
           "SITE_MARKER"]

#: the folder (under docs/) the generated pages live in; git-ignored, emptied before every write
GENERATED = "reference"

#: the line in ``mkdocs.yml`` that marks symcnn's own docs tree (the only one the generator writes into)
ROOT_MARKER = "# symcnn-docs-root"
#: the file a build leaves in the site folder, so that the next build may replace it
SITE_MARKER = ".symcnn-site"

#: modules of other authors contributing pages with the same ``render() -> dict[str, str]`` interface
OPTIONAL_PAGES = ("symcnn.docsgen._counting_page", "symcnn.docsgen._bench_page", "symcnn.docsgen._training_page",
                  "symcnn.docsgen._pictures_page")


def _home_index() -> Page:
    page = Page(f"{GENERATED}/index.md", "Reference")
    page.para("Generated from the engine each time the site is built: every formula is printed from the SymPy "
              "expression the library evaluates, every figure is computed.")
    page.table(["section", "what"], [
        ["[Getting started](../getting-started.md)", "install, the two commands, the results that surprise"],
        ["[Notation](../notation.md)", "one letter per concept, mapped to the conv. arithmetic guide and PyTorch"],
        ["[Layers](layers/index.md)", "per layer family: output size, params, MACs, FLOPs, connections, receptive "
                                      "field, constraints, worked examples, calculators"],
        ["[Calculators](calculators.md)", "every layer family's sizes, params, MACs and FLOPs, exact, in the browser"],
        ["[Receptive field](receptive-field.md)", "every zoo model's field, jump, padding and centre"],
        ["[Derivations](derivations/index.md)", "each formula derived, proved with SymPy, checked by brute force"],
        ["[Errata](errata.md)", "published formulas that are wrong, with the smallest counterexample"],
        ["[Models](models/index.md)", "every zoo model: stages, closed forms and per-layer tables"],
        ["[Plots](plots.md)", "MACs vs input size, receptive field vs depth"],
        ["[Counting tools](counting.md)", "what torchvision, fvcore, thop, ptflops and torchinfo count"],
        ["[Solvers](solvers.md)", "padding, stride or input size from a target shape"],
        ["[Command line](cli.md)", "the `symcnn` command"],
        ["[API reference](api.md)", "the public functions and classes"],
        ["[Benchmarks](benchmarks.md)", "how fast the engine is"],
        ["[Bibliography](bibliography.md)", "every source cited, by key"],
    ])
    return page


def render_pages(cli=None) -> tuple[list[Page], dict[str, str]]:
    """The generated :class:`Page` objects (with the formulas they print) and the other generated files.

    ``cli`` runs the command line for the CLI page (module docstring)."""
    derivations = {d.name: d for d in derive.all()}
    calculators = {name: calculator_html(name) for name in CALCULATORS}
    files = {f"{GENERATED}/calculators.js": render_js()}
    pages = [_home_index()]
    pages += render_layers(derivations, calculators)
    pages.append(render_calculator_page())
    pages += render_derivations(derivations)
    pages += render_errata(errata(), derivations)
    pages += render_models()
    plot_pages, plot_files = render_plots()
    guide_pages, guide_files = render_guides(cli)
    pages += plot_pages + guide_pages + render_bibliography()
    files.update(plot_files)
    files.update(guide_files)
    return pages, files


def render(cli=None) -> dict[str, str]:
    """Every generated page and file: ``{path relative to docs/: text}``. Pure (writes nothing).

    Pages of the optional modules (tool comparison, benchmarks) are included when those modules exist. ``cli``
    runs the command line for the CLI page (module docstring).
    """
    pages, files = render_pages(cli=cli)
    out = {p.path: p.text() for p in pages}
    out.update(files)
    for name in OPTIONAL_PAGES:
        if importlib.util.find_spec(name) is not None:
            out.update(importlib.import_module(name).render())
    out[NAV_FILE] = site_config([p for p in out if p.endswith(".md")], __version__)
    return out


def is_symcnn_root(folder) -> bool:
    """Whether ``folder`` is symcnn's own docs tree: its ``mkdocs.yml`` carries :data:`ROOT_MARKER`."""
    cfg = pathlib.Path(folder) / "mkdocs.yml"
    try:
        text = cfg.read_text(encoding="utf-8", errors="replace") if cfg.is_file() else ""
    except OSError:
        return False
    return re.search(rf"^{re.escape(ROOT_MARKER)}\s*$", text, re.MULTILINE) is not None


def _own_root() -> pathlib.Path | None:
    """The checkout this package was imported from (``src/symcnn/docsgen`` -> the folder above ``src``), when it
    is symcnn's docs tree; None for an installed package."""
    root = pathlib.Path(__file__).resolve().parents[3]
    return root if is_symcnn_root(root) else None


def find_root(start: pathlib.Path | None = None) -> pathlib.Path:
    """symcnn's docs tree (the folder holding its marked ``mkdocs.yml``): without ``start``, the checkout beside this
    package, else the first marked folder from the cwd upwards; with ``start``, the first from there upwards.
    A folder with another project's ``mkdocs.yml`` is never the answer."""
    if start is None and _own_root() is not None:
        return _own_root()
    here = pathlib.Path.cwd() if start is None else pathlib.Path(start)
    foreign = None
    for d in (here, *here.resolve().parents):
        if is_symcnn_root(d):
            return d
        if foreign is None and (d / "mkdocs.yml").is_file():
            foreign = d / "mkdocs.yml"
    if foreign is not None:
        raise SymcnnError(f"docs: {foreign} belongs to another MkDocs project (it lacks symcnn's marker line "
                          f"{ROOT_MARKER!r}); symcnn writes only into its own docs tree: run from a symcnn checkout")
    raise SymcnnError(f"docs: no symcnn mkdocs.yml (marked {ROOT_MARKER!r}) in {here} or its parents, nor beside "
                      "this package; run from a symcnn checkout")


def write(root: pathlib.Path | None = None, pages: dict[str, str] | None = None, cli=None) -> pathlib.Path:
    """Write the rendered pages under ``root/docs`` (emptying ``docs/reference`` first); returns ``docs/``.
    ``root`` must be symcnn's docs tree (:func:`is_symcnn_root`)."""
    root = find_root() if root is None else pathlib.Path(root)
    if not is_symcnn_root(root):
        raise SymcnnError(f"docs: {root} is not symcnn's docs tree (no mkdocs.yml with the line {ROOT_MARKER!r}); "
                          "refusing to write into it")
    docs = root / "docs"
    pages = render(cli=cli) if pages is None else pages
    shutil.rmtree(docs / GENERATED, ignore_errors=True)
    for rel, text in pages.items():
        path = (docs / rel).resolve()
        if docs.resolve() not in path.parents:
            raise ValueError(f"generated path {rel!r} leaves docs/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return docs


def check_site_dir(site: pathlib.Path, root: pathlib.Path, force: bool = False) -> pathlib.Path:
    """Refuse a site folder the build must not empty: one holding the docs tree or inside it, or a non-empty
    folder that is no earlier symcnn site (no :data:`SITE_MARKER`) unless ``force``. Returns it resolved."""
    site = pathlib.Path(site).resolve()
    docs = (pathlib.Path(root) / "docs").resolve()
    if site == docs or site in docs.parents or docs in site.parents:
        raise SymcnnError(f"docs: the site folder {site} holds or lies inside the docs folder {docs}; choose another")
    if site.exists():
        if not site.is_dir():
            raise SymcnnError(f"docs: the site folder {site} is a file, not a folder")
        if any(site.iterdir()) and not (site / SITE_MARKER).is_file() and not force:
            raise SymcnnError(f"docs: the site folder {site} is not empty and is not a site symcnn built (no "
                              f"{SITE_MARKER} file); building would delete its contents. Choose a new or empty "
                              "folder, or pass force=True (--force) to replace them")
    return site


def _config(root: pathlib.Path, site_dir, strict: bool, **extra):
    from mkdocs.config import load_config

    return load_config(str(root / "mkdocs.yml"), site_dir=str(pathlib.Path(site_dir).resolve()), strict=strict,
                       **extra)


def build(site_dir="site", strict=True, *, force=False, cli=None) -> pathlib.Path:
    """Generate the pages, then build the site with MkDocs into ``site_dir`` (relative to the project root);
    returns the site folder. Raises when the strict build has warnings, or when ``site_dir`` is not a new, empty
    or earlier symcnn site folder (:func:`check_site_dir`; ``force=True`` replaces any folder's contents).
    ``cli`` runs the command line for the CLI page (module docstring)."""
    import os

    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.exceptions import Abort

    root = find_root()
    site = pathlib.Path(site_dir)
    site = check_site_dir(site if site.is_absolute() else root / site, root, force)
    write(root, cli=cli)
    cwd = pathlib.Path.cwd()
    os.chdir(root)  # mkdocs resolves docs_dir and the snippets base path from the cwd / config file
    try:
        mkdocs_build(_config(root, site, strict))
    except Abort as e:  # strict mode turned warnings (logged above) into a failure
        raise SymcnnError(f"docs: mkdocs build failed: {e.message}") from None
    finally:
        os.chdir(cwd)
    site.mkdir(parents=True, exist_ok=True)
    (site / SITE_MARKER).write_text("built by symcnn.docsgen; the next build may replace this folder\n",
                                    encoding="utf-8")
    return site


def serve(host="127.0.0.1", port=8000, *, cli=None):
    """Generate the pages, then serve the site with MkDocs' live server on ``host:port``. ``cli`` runs the
    command line for the CLI page (module docstring)."""
    import os

    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    from mkdocs.commands.serve import serve as mkdocs_serve

    root = find_root()
    write(root, cli=cli)
    os.chdir(root)
    mkdocs_serve(config_file=str(root / "mkdocs.yml"), dev_addr=f"{host}:{port}", livereload=False)


def main(argv: list[str] | None = None, cli=None) -> int:
    """``python -m symcnn.docsgen`` (:mod:`symcnn.docsgen.__main__` passes the command line as ``cli``)."""
    import argparse
    import logging
    import sys

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    p = argparse.ArgumentParser(prog="python -m symcnn.docsgen", description="Build the symcnn formula site.")
    p.add_argument("--site-dir", default="site", help="a new or empty folder, or a site symcnn built before")
    p.add_argument("--force", action="store_true", help="replace the contents of any --site-dir")
    p.add_argument("--serve", action="store_true", help="serve instead of building")
    p.add_argument("--port", type=int, default=8000)
    args = p.parse_args(argv)
    try:
        if args.serve:
            serve(port=args.port, cli=cli)
        else:
            print(build(args.site_dir, force=args.force, cli=cli))
    except SymcnnError as e:
        print(f"{p.prog}: error: {' '.join(str(e).split())}", file=sys.stderr)
        return 2
    return 0
