"""The formula reference site, generated from the engine.

:func:`render` is pure: it returns ``{path under docs/: text}`` for every generated page (layer families,
derivations, errata, models, plots, solvers, CLI, API) and file (the calculators' JavaScript, the SVG plots).
:func:`write` puts them under ``docs/`` (the generated folder ``docs/reference/`` is git-ignored and rebuilt
each time); :func:`build` writes, then runs ``mkdocs build`` (strict); :func:`serve` writes, then serves.

    python -m symcnn.docsgen            # build the site into site/
    python -m symcnn.docsgen --serve    # build the pages and serve on http://127.0.0.1:8000
"""

from __future__ import annotations

import importlib
import importlib.util
import pathlib
import shutil

from .. import __version__, derive
from ..errata import errata
from ._calculators import calculator_html, render_js
from ._core import Page
from ._guides import render_guides
from ._layers import render_layers
from ._models import render_models
from ._nav import NAV_FILE, site_config
from ._plots import render_plots
from ._proofs import render_bibliography, render_derivations, render_errata

__all__ = ["render", "render_pages", "write", "build", "serve", "find_root", "main", "GENERATED"]

#: the folder (under docs/) the generated pages live in; git-ignored, emptied before every write
GENERATED = "reference"

#: modules of other authors contributing pages with the same ``render() -> dict[str, str]`` interface
OPTIONAL_PAGES = ("symcnn.docsgen._counting_page", "symcnn.docsgen._bench_page")


def _home_index() -> Page:
    page = Page(f"{GENERATED}/index.md", "Reference")
    page.para("Generated from the engine each time the site is built: every formula is printed from the SymPy "
              "expression the library evaluates, every figure is computed.")
    page.table(["section", "what"], [
        ["[Getting started](../getting-started.md)", "install, the two commands, the results that surprise"],
        ["[Notation](../notation.md)", "one letter per concept, mapped to the conv. arithmetic guide and PyTorch"],
        ["[Layers](layers/index.md)", "per layer family: output size, params, MACs, FLOPs, connections, receptive "
                                      "field, constraints, worked examples, calculators"],
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


def render_pages() -> tuple[list[Page], dict[str, str]]:
    """The generated :class:`Page` objects (with the formulas they print) and the other generated files."""
    derivations = {d.name: d for d in derive.all()}
    calculators = {name: calculator_html(name) for name in ("conv2d", "conv_transpose2d", "max_pool2d")}
    files = {f"{GENERATED}/calculators.js": render_js()}
    pages = [_home_index()]
    pages += render_layers(derivations, calculators)
    pages += render_derivations(derivations)
    pages += render_errata(errata(), derivations)
    pages += render_models()
    plot_pages, plot_files = render_plots()
    guide_pages, guide_files = render_guides()
    pages += plot_pages + guide_pages + render_bibliography()
    files.update(plot_files)
    files.update(guide_files)
    return pages, files


def render() -> dict[str, str]:
    """Every generated page and file: ``{path relative to docs/: text}``. Pure (writes nothing).

    Pages of the optional modules (tool comparison, benchmarks) are included when those modules exist.
    """
    pages, files = render_pages()
    out = {p.path: p.text() for p in pages}
    out.update(files)
    for name in OPTIONAL_PAGES:
        if importlib.util.find_spec(name) is not None:
            out.update(importlib.import_module(name).render())
    out[NAV_FILE] = site_config([p for p in out if p.endswith(".md")], __version__)
    return out


def find_root(start: pathlib.Path | None = None) -> pathlib.Path:
    """The project root: the first folder holding ``mkdocs.yml``, from ``start`` (the cwd) upwards, else the one
    above this package's source tree (editable install)."""
    here = pathlib.Path.cwd() if start is None else pathlib.Path(start)
    for d in (here, *here.resolve().parents):
        if (d / "mkdocs.yml").is_file():
            return d
    src = pathlib.Path(__file__).resolve().parents[3]
    if (src / "mkdocs.yml").is_file():
        return src
    from .._errors import SymcnnError

    raise SymcnnError(f"docs: no mkdocs.yml in {here} or its parents, nor in {src}; run from the symcnn checkout")


def write(root: pathlib.Path | None = None, pages: dict[str, str] | None = None) -> pathlib.Path:
    """Write the rendered pages under ``root/docs`` (emptying ``docs/reference`` first); returns ``docs/``."""
    root = find_root() if root is None else pathlib.Path(root)
    docs = root / "docs"
    pages = render() if pages is None else pages
    shutil.rmtree(docs / GENERATED, ignore_errors=True)
    for rel, text in pages.items():
        path = (docs / rel).resolve()
        if docs.resolve() not in path.parents:
            raise ValueError(f"generated path {rel!r} leaves docs/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return docs


def _config(root: pathlib.Path, site_dir, strict: bool, **extra):
    from mkdocs.config import load_config

    return load_config(str(root / "mkdocs.yml"), site_dir=str(pathlib.Path(site_dir).resolve()), strict=strict,
                       **extra)


def build(site_dir="site", strict=True) -> pathlib.Path:
    """Generate the pages, then build the site with MkDocs into ``site_dir`` (relative to the project root);
    returns the site folder. Raises when the strict build has warnings."""
    import os

    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.exceptions import Abort

    from .._errors import SymcnnError

    root = find_root()
    write(root)
    site = pathlib.Path(site_dir)
    site = site if site.is_absolute() else root / site
    cwd = pathlib.Path.cwd()
    os.chdir(root)  # mkdocs resolves docs_dir and the snippets base path from the cwd / config file
    try:
        mkdocs_build(_config(root, site, strict))
    except Abort as e:  # strict mode turned warnings (logged above) into a failure
        raise SymcnnError(f"docs: mkdocs build failed: {e.message}") from None
    finally:
        os.chdir(cwd)
    return site


def serve(host="127.0.0.1", port=8000):
    """Generate the pages, then serve the site with MkDocs' live server on ``host:port``."""
    import os

    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    from mkdocs.commands.serve import serve as mkdocs_serve

    root = find_root()
    write(root)
    os.chdir(root)
    mkdocs_serve(config_file=str(root / "mkdocs.yml"), dev_addr=f"{host}:{port}", livereload=False)


def main(argv: list[str] | None = None) -> int:
    import argparse
    import logging

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    p = argparse.ArgumentParser(prog="python -m symcnn.docsgen", description="Build the symcnn formula site.")
    p.add_argument("--site-dir", default="site")
    p.add_argument("--serve", action="store_true", help="serve instead of building")
    p.add_argument("--port", type=int, default=8000)
    args = p.parse_args(argv)
    if args.serve:
        serve(port=args.port)
    else:
        print(build(args.site_dir))
    return 0
