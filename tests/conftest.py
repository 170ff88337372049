"""Test configuration: Hypothesis runs derandomized in CI (reproducible), randomized locally (exploratory)."""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


# --- the generated site, rendered once per test session ---------------------------------------------------------
# Rendering every page runs the engine over the whole zoo, the catalog, the derivations and the errata (about a
# minute); the docs tests and the browser test's strict build all read the same pages, so they share one render.

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def site_pages():
    """``docsgen.render_pages(cli=...)``: the generated Page objects and the other generated files."""
    from symcnn import docsgen
    from symcnn.cli import main

    return docsgen.render_pages(cli=main)


@pytest.fixture(scope="session")
def site_text(site_pages):
    """``docsgen.render(cli=...)``: every generated page and file, as text (optional pages included)."""
    from symcnn import docsgen
    from symcnn.cli import main

    return docsgen.render(cli=main, rendered=site_pages)
