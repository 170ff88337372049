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
new or empty folder or a site symcnn built before: :data:`SITE_MARKER` lists the files that build wrote, and
a rebuild deletes only those; a folder holding any other file is refused unless ``force=True``. The home folder,
``/``, the current folder and its ancestors and the docs tree are refused even then.

The CLI page shows the real ``symcnn`` command run on examples. This package does not import the command line
(which imports it): the entry points (``symcnn docs``, ``python -m symcnn.docsgen``) pass it in as ``cli``, a
function ``argv -> exit status`` like :func:`symcnn.cli.main`; without it the examples run as
``python -m symcnn`` in a subprocess, with the same output.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import pathlib
import re
import shutil
import tempfile

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
#: the file a build leaves in the site folder: a header line, then the files it wrote (relative paths, one a
#: line); the next build deletes only those
SITE_MARKER = ".symcnn-site"
_MARKER_HEADER = "# built by symcnn.docsgen; the next build deletes exactly the files listed below"

#: modules of other authors contributing pages with the same ``render() -> dict[str, str]`` interface
OPTIONAL_PAGES = ("symcnn.docsgen._counting_page", "symcnn.docsgen._bench_page", "symcnn.docsgen._training_page",
                  "symcnn.docsgen._pictures_page", "symcnn.docsgen._catalog_page")


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


def render(cli=None, rendered=None) -> dict[str, str]:
    """Every generated page and file: ``{path relative to docs/: text}``. Pure (writes nothing).

    Pages of the optional modules (tool comparison, benchmarks) are included when those modules exist. ``cli``
    runs the command line for the CLI page (module docstring). ``rendered`` is what :func:`render_pages`
    returned, when the caller has it already (it is computed otherwise).
    """
    pages, files = render_pages(cli=cli) if rendered is None else rendered
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


def _listed(site: pathlib.Path) -> set[str]:
    """The files the marker of ``site`` lists (relative POSIX paths); none when there is no marker. A listed path
    leaving the folder is refused."""
    marker = site / SITE_MARKER
    if not marker.is_file():
        return set()
    listed = set()
    for line in marker.read_text(encoding="utf-8", errors="replace").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        rel = pathlib.PurePosixPath(line)
        if rel.is_absolute() or ".." in rel.parts or line == SITE_MARKER:
            raise SymcnnError(f"docs: {marker} lists {line!r}, which is not a file inside {site}; refusing to "
                              "delete anything (remove the marker, choose another folder, or pass --force)")
        listed.add(rel.as_posix())
    return listed


def _present(site: pathlib.Path) -> set[str]:
    """Every file (and symlink) in ``site`` except the marker and top-level hidden entries (never touched)."""
    found = set()
    for top, dirs, files in os.walk(site):
        here = pathlib.Path(top)
        if here == site:
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            files = [f for f in files if not f.startswith(".")]
        for name in files + [d for d in dirs if (here / d).is_symlink()]:
            found.add((here / name).relative_to(site).as_posix())
    return found


def check_site_dir(site: pathlib.Path, root: pathlib.Path, force: bool = False) -> pathlib.Path:
    """Refuse a site folder the build must not touch: one holding the docs tree or inside it, the home folder,
    ``/``, the current folder or one of its ancestors; a file; a folder holding files that its
    :data:`SITE_MARKER` does not list (every file, when it has no marker) unless ``force``. Returns it resolved."""
    site = pathlib.Path(site).resolve()
    docs = (pathlib.Path(root) / "docs").resolve()
    if site == docs or site in docs.parents or docs in site.parents:
        raise SymcnnError(f"docs: the site folder {site} holds or lies inside the docs folder {docs}; choose another")
    cwd = pathlib.Path.cwd().resolve()
    if site == pathlib.Path.home().resolve() or site == cwd or site in cwd.parents or site.parent == site:
        raise SymcnnError(f"docs: the site folder {site} is the home folder, the current folder or one of its "
                          "parents; choose a folder of its own (e.g. site/)")
    if site.exists():
        if not site.is_dir():
            raise SymcnnError(f"docs: the site folder {site} is a file, not a folder")
        listed = _listed(site) if not force else set()
        extra = sorted(_present(site) - listed)
        if extra and not force:
            what = "its " + SITE_MARKER + " does not list" if (site / SITE_MARKER).is_file() else \
                "it is not a site symcnn built (no " + SITE_MARKER + " file)"
            shown = ", ".join(extra[:5]) + (f" and {len(extra) - 5} more" if len(extra) > 5 else "")
            raise SymcnnError(f"docs: the site folder {site} is not empty: it holds files symcnn did not write ({what}"
                              f"): {shown}; building would delete them. Choose a new or empty folder, or pass "
                              "force=True (--force) to replace them")
    return site


def _replace_site(site: pathlib.Path, built: pathlib.Path, root: pathlib.Path, force: bool) -> None:
    """Delete the files the previous build listed (with ``force``: every non-hidden entry), then copy the new
    build from ``built`` in and list its files in the marker."""
    check_site_dir(site, root, force)  # again: the folder may have changed during the build
    if site.exists():
        if force:
            for entry in site.iterdir():
                if entry.name.startswith("."):
                    continue
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
        else:
            parents = set()
            for rel in _listed(site):
                path = site / rel
                parent = path.parent.resolve()
                if parent != site and site not in parent.parents:
                    continue  # a parent is a link leaving the folder: never follow it
                if path.is_symlink() or path.is_file():
                    path.unlink()
                parents.update(p for p in path.parents if site in p.parents)
            for d in sorted(parents, key=lambda p: len(p.parts), reverse=True):
                if d.is_dir() and not d.is_symlink() and not any(d.iterdir()):
                    d.rmdir()
    site.mkdir(parents=True, exist_ok=True)
    wrote = []
    for src in sorted(p for p in built.rglob("*") if p.is_file()):
        rel = src.relative_to(built)
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, site / rel)
        wrote.append(rel.as_posix())
    (site / SITE_MARKER).write_text("\n".join([_MARKER_HEADER, *wrote]) + "\n", encoding="utf-8")


#: how to install what the site needs besides symcnn (MkDocs, its theme and plugins): the ``docs`` extra
DOCS_EXTRA = 'pip install -e ".[docs]" (in a checkout; or pip install "symcnn[docs]")'


def _mkdocs(what: str):
    """``mkdocs.commands.<what>`` and MkDocs' exceptions, or an error naming the extra that installs them."""
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    try:
        command = importlib.import_module(f"mkdocs.commands.{what}")
        exceptions = importlib.import_module("mkdocs.exceptions")
    except ImportError as e:
        raise SymcnnError(f"docs: MkDocs is not installed ({e}); the site needs the `docs` extra: {DOCS_EXTRA}") \
            from None
    return getattr(command, what), exceptions


def _config(root: pathlib.Path, site_dir, strict: bool, **extra):
    from mkdocs.config import load_config
    from mkdocs.exceptions import ConfigurationError

    try:
        return load_config(str(root / "mkdocs.yml"), site_dir=str(pathlib.Path(site_dir).resolve()), strict=strict,
                           **extra)
    except ConfigurationError as e:  # a theme or plugin of mkdocs.yml is not installed
        raise SymcnnError(f"docs: mkdocs.yml does not load ({' '.join(str(e).split())}); the `docs` extra installs "
                          f"its theme and plugins: {DOCS_EXTRA}") from None


def build(site_dir="site", strict=True, *, force=False, cli=None, pages=None) -> pathlib.Path:
    """Generate the pages, then build the site with MkDocs into ``site_dir`` (relative to the project root);
    returns the site folder. Raises when the strict build has warnings, or when ``site_dir`` is not a new, empty
    or earlier symcnn site folder (:func:`check_site_dir`; ``force=True`` replaces any folder's contents).
    ``cli`` runs the command line for the CLI page (module docstring); ``pages`` is what :func:`render`
    returned, when the caller has it already."""
    mkdocs_build, exceptions = _mkdocs("build")
    root = find_root()
    site = pathlib.Path(site_dir)
    site = check_site_dir(site if site.is_absolute() else root / site, root, force)
    write(root, pages=pages, cli=cli)
    cwd = pathlib.Path.cwd()
    with tempfile.TemporaryDirectory(prefix="symcnn-site-") as tmp:
        built = pathlib.Path(tmp) / "site"  # mkdocs empties its site_dir: give it a fresh one
        os.chdir(root)  # mkdocs resolves docs_dir and the snippets base path from the cwd / config file
        try:
            mkdocs_build(_config(root, built, strict))
        except exceptions.Abort as e:  # strict mode turned warnings (logged above) into a failure
            raise SymcnnError(f"docs: mkdocs build failed: {e.message}") from None
        finally:
            os.chdir(cwd)
        built.mkdir(exist_ok=True)
        _replace_site(site, built, root, force)
    return site


def serve(host="127.0.0.1", port=8000, *, cli=None):
    """Generate the pages, then serve the site with MkDocs' live server on ``host:port``. ``cli`` runs the
    command line for the CLI page (module docstring)."""
    mkdocs_serve, exceptions = _mkdocs("serve")
    root = find_root()
    write(root, cli=cli)
    os.chdir(root)
    try:
        mkdocs_serve(config_file=str(root / "mkdocs.yml"), dev_addr=f"{host}:{port}", livereload=False)
    except exceptions.ConfigurationError as e:  # a theme or plugin of mkdocs.yml is not installed
        raise SymcnnError(f"docs: mkdocs.yml does not load ({' '.join(str(e).split())}); the `docs` extra installs "
                          f"its theme and plugins: {DOCS_EXTRA}") from None


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
