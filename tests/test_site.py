"""The built site in a real browser (Debian chromium driven by Playwright), every page at 1280 px and at 390 px.

Each page is loaded once (one browser, one tab), measured at 1280 px, then the tab is narrowed to 390 px and the
page measured again; the checks are separate tests:

* it renders its math with the vendored KaTeX, requests nothing outside 127.0.0.1, logs no console error;
* nothing is cut off: no element sticks out of its container (or the page) unless it, or an ancestor, scrolls
  horizontally (``overflow-x: auto/scroll`` on a block); the page itself never scrolls sideways;
* no formula needs a sideways scroll at 1280 px (long ones are broken into aligned lines); the number that
  still scroll at 390 px is reported (``formulas_scrolling@390.txt``);
* no SymPy notation in the rendered text: ``Gcd(``, ``Max(``, ``Min(``, ``Mod(``, ``floor(``, ``ceiling(``. The
  rule is about rendered math and prose, so it reads the article's text with code *blocks* (``pre``: Python
  sessions, command output, where ``symcnn.pretty``'s plain-text forms are legitimate) and KaTeX's hidden MathML
  copy left out; inline code in prose and tables counts;
* no reference to files outside the project: ``FORMULAS.md``, ``WORKED-EXAMPLES``, ``tests/`` or ``src/`` paths,
  the package's source files (``symcnn/....py``), "issue #" (whole article text, code blocks included, and link
  targets; a URL into a repository, e.g. a counting tool's source, is a real source and passes).

Navigation and search work. The calculator forms, typed into at both widths, show the library's numbers (one
refused, one beyond int64, several above 2**53) with thousands separators and refusals in a red box; the code
the page runs equals the library on every family's 10,000 random inputs of tests/test_calculators.py, all in
one page evaluation. Full-page screenshots (JPEG) of every page at both widths go to ``$SYMCNN_SCREENSHOTS``
(default: ``_screenshots`` in the build folder), named ``<page>.jpg`` (1280 px) and ``<page>@390.jpg``.

Skips cleanly without chromium or Playwright, unless ``SYMCNN_REQUIRE_BROWSER=1`` (CI), where it fails instead.
"""

from __future__ import annotations

import functools
import http.server
import os
import pathlib
import shutil
import threading
from urllib.parse import urlparse

import pytest

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
REQUIRED = os.environ.get("SYMCNN_REQUIRE_BROWSER") == "1"

# http.server handler threads may drop a socket the browser abandoned mid-request (page navigated away); the
# garbage collector then reports it. Only that report is ignored.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Exception ignored in. <socket.socket:pytest.PytestUnraisableExceptionWarning"
)


def _need(condition: bool, why: str) -> None:
    if condition:
        return
    if REQUIRED:
        pytest.fail(f"SYMCNN_REQUIRE_BROWSER=1 but {why}")
    pytest.skip(why)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output clean
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory, site_text):
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _need(False, "playwright is not installed")
    _need(pathlib.Path(CHROMIUM).exists() or shutil.which("chromium") is not None, "chromium is not installed")
    pytest.importorskip("mkdocs")
    from symcnn import docsgen

    # CI (.ci/run) sets SYMCNN_SITE_DIR: this strict build is then the site it publishes (built once, not twice)
    target = os.environ.get("SYMCNN_SITE_DIR") or tmp_path_factory.mktemp("site") / "site"
    out = docsgen.build(site_dir=target, strict=True, pages=site_text)
    handler = functools.partial(_Quiet, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    shots = pathlib.Path(os.environ.get("SYMCNN_SCREENSHOTS", out / "_screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    yield out, f"http://127.0.0.1:{server.server_address[1]}", shots
    server.shutdown()
    thread.join()
    server.server_close()


@pytest.fixture(scope="module")
def browser_page(site):
    from playwright.sync_api import sync_playwright

    state = {"external": [], "console": []}
    exe = CHROMIUM if pathlib.Path(CHROMIUM).exists() else shutil.which("chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=FLAGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})

        def route(r):
            host = urlparse(r.request.url).hostname
            if r.request.url.startswith(("data:", "blob:")) or host == "127.0.0.1":
                r.continue_()
            else:
                state["external"].append(r.request.url)
                r.abort()

        context.route("**/*", route)
        page = context.new_page()
        page.on("console", lambda m: state["console"].append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: state["console"].append(str(e)))
        yield page, state
        browser.close()


def _pages(root: pathlib.Path) -> list[str]:
    out = []
    for f in sorted(root.rglob("index.html")):
        rel = f.parent.relative_to(root).as_posix()
        if rel.startswith("_screenshots"):
            continue
        out.append("" if rel == "." else rel + "/")
    return out


_MATH_DONE = ("() => [...document.querySelectorAll('.arithmatex')].every(e => e.querySelector('.katex'))")
_CHECK = r"""() => {
  const article = document.querySelector('article');
  const texts = (drop) => {
    const c = article.cloneNode(true);
    c.querySelectorAll(drop).forEach(e => e.remove());
    return c.textContent.replace(/\s+/g, ' ');
  };
  const plain = texts('pre, code, .katex');
  const scrolls = (e) => {
    const s = getComputedStyle(e);
    return (s.overflowX === 'auto' || s.overflowX === 'scroll') && s.display !== 'inline';
  };
  const describe = (e) => {
    let d = e.tagName.toLowerCase() + (e.className && typeof e.className === 'string'
      ? '.' + e.className.trim().split(/\s+/).join('.') : '');
    const t = (e.textContent || '').trim().replace(/\s+/g, ' ').slice(0, 50);
    return d + (t ? ' "' + t + '"' : '');
  };
  const overflow = [];
  const doc = document.documentElement;
  if (doc.scrollWidth > doc.clientWidth + 1) {
    overflow.push(`the page scrolls sideways (${doc.scrollWidth} > ${doc.clientWidth})`);
  }
  const walk = (e, scrolled) => {
    for (const child of e.children) {
      const s = getComputedStyle(child);
      if (s.display === 'none' || s.position === 'absolute' || s.position === 'fixed') continue;
      if (child.closest('.md-typeset .headerlink')) continue;
      const inScroller = scrolled || scrolls(e);
      if (!inScroller && !scrolls(child)) {
        // a negative margin places an element outside its parent's box on purpose (Material's full-bleed blocks)
        const r = child.getBoundingClientRect(), p = e.getBoundingClientRect();
        const right = p.right + Math.max(0, -parseFloat(s.marginRight) || 0);
        const left = p.left - Math.max(0, -parseFloat(s.marginLeft) || 0);
        const slack = s.display === 'inline' ? 4 : 1;  // a wrapped inline code's padding may reach 2-3 px out
        if (r.width > 0 && (r.right > right + slack || r.left < left - slack)) {
          overflow.push(`${describe(child)}: ${Math.round(r.width)} px at ${Math.round(r.left)}..${Math.round(r.right)}`
            + ` in ${describe(e).slice(0, 40)} (${Math.round(p.left)}..${Math.round(p.right)})`);
          continue;  // report the outermost element only
        }
      }
      if (child.matches('.katex, svg, math')) continue;  // measured as a whole
      walk(child, inScroller);
    }
  };
  walk(article, false);
  const prose = texts('pre, .katex-mathml');
  const sympy = [...new Set((prose.match(/\b(Gcd|Max|Min|Mod)\s*\(|\b(floor|ceiling)\s*\(/g) || []))];
  const hrefs = [...article.querySelectorAll('a[href]')].map(a => a.getAttribute('href'));
  const all = texts('.katex-mathml') + ' ' + hrefs.join(' ');
  const files = new RegExp(['FORMULAS\\.md', 'WORKED-EXAMPLES', '(?<![\\w./-])(?:tests|src)/[\\w./-]*',
                            '(?<![\\w./-])symcnn/[\\w/]+\\.py\\b', '\\bissue #\\s*\\d+'].join('|'), 'gi');
  const outside = [...new Set(all.match(files) || [])];
  // formulas that need a sideways scroll (a few px of KaTeX's italic correction do not show a scrollbar), those in
  // collapsed blocks too: the blocks are opened for the measurement (a closed block has no layout) and closed again
  const closed = [...article.querySelectorAll('details:not([open])')];
  closed.forEach(d => { d.open = true; });
  const wideMath = [...article.querySelectorAll('.arithmatex')]
    .map(e => [e.scrollWidth, e.clientWidth, e]).filter(([s, c]) => s > c + 3)
    .map(([s, c, e]) => `${s} > ${c} px: ` + ((e.querySelector('annotation') || {}).textContent || '')
      .trim().slice(0, 60));
  closed.forEach(d => { d.open = false; });
  return {
    wide_math: wideMath,
    math: document.querySelectorAll('.arithmatex').length,
    rendered: document.querySelectorAll('.arithmatex .katex').length,
    errors: document.querySelectorAll('.katex-error').length,
    raw: ['\\(', '\\[', '$$'].filter(d => plain.includes(d)),
    font: document.fonts.check('16px KaTeX_Main'),
    h1: (document.querySelector('article h1') || {}).textContent || '',
    overflow: overflow.slice(0, 8),
    sympy: sympy,
    outside: outside.slice(0, 8),
  };
}"""

WIDTHS = (1280, 390)


@pytest.fixture(scope="module")
def visits(site, browser_page):
    """Every page at each width: ``{(width, page): measurements}``. A page is loaded once, measured and shot at
    1280 px, then the same tab is narrowed to 390 px (the layout is CSS: the same as a fresh load at that width)
    and measured and shot again; the screenshots are taken here."""
    root, base, shots = site
    page, state = browser_page
    urls = _pages(root)
    out = {}
    for rel in urls:
        state["external"].clear()
        state["console"].clear()
        page.set_viewport_size({"width": WIDTHS[0], "height": 900})
        page.goto(f"{base}/{rel}", wait_until="load")
        page.wait_for_function(_MATH_DONE, timeout=20000)
        page.evaluate("document.fonts.ready.then(() => true)")
        for width in WIDTHS:
            if width != WIDTHS[0]:
                page.set_viewport_size({"width": width, "height": 900})
                page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
            r = page.evaluate(_CHECK)
            r["external"] = list(state["external"])
            r["console"] = list(state["console"])
            out[width, rel or "home"] = r
            name = (rel.strip("/").replace("/", "__") or "home") + ("" if width == 1280 else f"@{width}") + ".jpg"
            # JPEG: a long page's full-page PNG takes seconds to encode; the JPEG, a third of that
            page.screenshot(path=str(shots / name), full_page=True, type="jpeg", quality=80)
    page.set_viewport_size({"width": 1280, "height": 900})
    return out


def test_every_page_renders_offline(visits):
    pages = {where for _, where in visits}
    assert len(pages) > 40, sorted(pages)
    seen_math = 0
    for (width, where), r in visits.items():
        at = f"{where} at {width} px"
        assert r["h1"], f"{at}: no title"
        assert r["rendered"] == r["math"], f"{at}: {r['math'] - r['rendered']} formulas not rendered"
        assert r["errors"] == 0, f"{at}: {r['errors']} .katex-error"
        assert r["raw"] == [], f"{at}: raw math delimiters left: {r['raw']}"
        if r["math"]:
            seen_math += width == 1280
            assert r["font"], f"{at}: KaTeX_Main font not loaded"
        assert r["external"] == [], f"{at}: requests outside 127.0.0.1: {r['external']}"
        assert r["console"] == [], f"{at}: console errors: {r['console']}"
    assert seen_math > 30


def _failures(visits, key: str) -> dict[str, object]:
    return {f"{where} at {width} px": r[key] for (width, where), r in sorted(visits.items()) if r[key]}


def test_nothing_is_cut_off(visits):
    """At 1280 and 390 px no element is wider than its container unless a block around it scrolls sideways."""
    bad = _failures(visits, "overflow")
    assert bad == {}, f"{len(bad)} page views overflow:\n" + "\n".join(f"{k}: {v}" for k, v in bad.items())


def test_formulas_fit_the_column_at_1280(visits, site):
    """At 1280 px no formula needs a sideways scroll (long ones are broken into aligned lines); at 390 px the
    number that still scroll (visibly) is written to ``formulas_scrolling@390.txt`` beside the screenshots."""
    wide = {where: r["wide_math"] for (width, where), r in sorted(visits.items()) if width == 1280 and r["wide_math"]}
    assert wide == {}, f"{len(wide)} pages at 1280 px:\n" + "\n".join(f"{k}: {v}" for k, v in wide.items())
    narrow = {where: r["wide_math"] for (width, where), r in sorted(visits.items()) if width == 390 and r["wide_math"]}
    total = sum(len(v) for v in narrow.values())
    report = [f"{total} formulas scroll sideways at 390 px on {len(narrow)} pages"]
    report += [f"{k}: {len(v)}\n" + "\n".join(f"    {x}" for x in v) for k, v in narrow.items()]
    (site[2] / "formulas_scrolling@390.txt").write_text("\n".join(report) + "\n", encoding="utf-8")
    print(report[0])


def test_no_sympy_notation_in_rendered_text(visits):
    bad = _failures(visits, "sympy")
    assert bad == {}, f"{len(bad)} page views show SymPy names:\n" + "\n".join(f"{k}: {v}" for k, v in bad.items())


def test_no_reference_to_files_outside_the_project(visits):
    bad = _failures(visits, "outside")
    assert bad == {}, f"{len(bad)} page views cite files outside the project:\n" + "\n".join(
        f"{k}: {v}" for k, v in bad.items())


def test_the_checks_catch_what_they_look_for(site, browser_page):
    """The measurements above on a page built to fail each of them (so no check passes by measuring nothing)."""
    root, base, _ = site
    page, _ = browser_page
    bad = root / "_check_fixture.html"
    bad.write_text("<html><body><article><h1>x</h1><p>size Max(W, 3) and floor(W/2), see FORMULAS.md and "
                   "tests/test_x.py, issue #14</p><div style='width:200px'><div style='width:400px'>wide</div></div>"
                   "<div style='width:200px;overflow-x:auto'><div style='width:400px'>scrolls</div></div>"
                   "<pre>floor(W/2)</pre></article></body></html>")
    try:
        page.set_viewport_size({"width": 390, "height": 900})
        page.goto(f"{base}/_check_fixture.html", wait_until="load")
        r = page.evaluate(_CHECK)
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})
        bad.unlink()
    assert sorted(r["sympy"]) == ["Max(", "floor("]
    assert len(r["overflow"]) == 2, r["overflow"]
    assert r["overflow"][0].startswith("the page scrolls sideways") and '"wide"' in r["overflow"][1], r["overflow"]
    assert set(r["outside"]) == {"FORMULAS.md", "tests/test_x.py", "issue #14"}, r["outside"]


def _search(page, query: str, attempts: int = 8) -> None:
    """Type ``query`` into Material's search box until results show. The search index is built by a web worker
    after the page loads; a query typed before it is ready can be dropped (seen once under load in CI), so a
    person would type it again: so does this, up to ``attempts`` times (about two minutes)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    box = page.locator(".md-search__input")
    for attempt in range(attempts):
        box.fill("")
        box.press_sequentially(query, delay=20)
        try:
            page.wait_for_selector(".md-search-result__item", timeout=15000)
            return
        except PlaywrightTimeout:
            if attempt == attempts - 1:
                raise


def test_navigation_and_search(site, browser_page):
    _, base, _ = site
    page, state = browser_page
    page.goto(f"{base}/", wait_until="load")
    page.click("article a[href*='reference/layers']")
    page.wait_for_url("**/reference/layers/", timeout=60000)
    assert page.locator("article h1").inner_text().startswith("Layers")
    page.click("article a[href='conv/']")
    page.wait_for_url("**/reference/layers/conv/", timeout=60000)
    assert page.locator("article h1").inner_text().startswith("Convolution")
    page.locator("label.md-search__icon, .md-search__input").first.click()
    _search(page, "receptive field")
    assert page.locator(".md-search-result__item").count() > 0
    href = page.locator(".md-search-result__item a").first.get_attribute("href")
    page.locator(".md-search-result__item a").first.click()
    page.wait_for_url(lambda url: url.split("#")[0].endswith(href.split("#")[0].lstrip("./")), timeout=60000)
    assert "/reference/" in page.url
    assert state["external"] == []


BIG = 2**53 + 1

# (calculator, values changed from its defaults) on the calculators page: valid, refused, and above 2**53
_SAMPLES = {
    "conv2d": [{}, {"F_H": 3, "F_W": 5, "S_H": 1, "P_H": 1, "P_W": 2, "G": 3, "K": 6},
               {"X_H": BIG, "X_W": 10**18, "C": 2**40, "K": 2**30, "G": 1}, {"X_H": 3, "X_W": 3, "P_H": 0}, {"G": 2}],
    "conv_transpose2d": [{}, {"O_p_H": 2}, {"X_H": 2**60, "X_W": BIG, "S_H": 3, "O_p_H": 2, "D_W": 2}],
    "max_pool3d": [{"ceil_mode": "True", "X_T": 5, "F_T": 2, "S_T": 2}, {"X_T": 2**63}],
    "avg_pool2d": [{"ceil_mode": "True", "count_include_pad": "False", "X_H": 5, "X_W": 6, "F_H": 2, "F_W": 3,
                    "S_H": 2, "S_W": 2, "P_H": 1, "P_W": 1}, {"P_H": 2}, {"X_H": BIG, "X_W": BIG}],
    "adaptive_avg_pool2d": [{"X_H": 10, "O_H": 3}, {"X_H": BIG, "O_W": 2**40}],
    "upsample_scale": [{"X_H": 10, "s_H": "1.7"}, {"s_W": "-2"}, {"X_H": BIG, "s_H": "0.5"}],
    "conv2d_same": [{"X_H": 225, "S_H": 2, "F_H": 4}],
}


def _fill(root, values: dict) -> None:
    for field, value in values.items():
        box = root.locator(f"[name='{field}']")
        if box.evaluate("e => e.tagName") == "SELECT":
            box.select_option(str(value))
        else:
            box.fill(str(value))


def test_calculators_match_the_library(site, browser_page):
    """The forms on the calculators page, typed into as a person would, at both widths (one visit, the tab
    narrowed between them): every output as the library's, with thousands separators; refusals in a red box."""
    from symcnn.docsgen._calculators import CALCULATORS, reference_result

    _, base, shots = site
    page, state = browser_page
    state["console"].clear()
    state["external"].clear()
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})
    try:
        page.goto(f"{base}/reference/calculators/", wait_until="load")
        assert page.locator(".symcnn-calc").count() == len(CALCULATORS)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            refused = big = 0
            for name, samples in _SAMPLES.items():
                calc = CALCULATORS[name]
                root = page.locator(f".symcnn-calc[data-calc='{name}']")
                root.locator("table").wait_for(state="attached")
                assert root.locator(".symcnn-calc__hint").count() >= len(calc.rows)  # every row explained in text
                for sample in samples:
                    values = {**calc.defaults(), **sample}
                    _fill(root, {k: v for k, v in values.items() if k in sample or k in calc.defaults()})
                    want = reference_result(calc, {k: (float(v) if isinstance(v, str) and k.startswith("s_") else v)
                                                   for k, v in values.items()})
                    error = root.locator(".symcnn-error")
                    if "error" in want:
                        refused += 1
                        assert error.is_visible() and root.locator("table").is_hidden(), values
                        assert error.inner_text() == want["error"].replace("`", ""), values
                        color = error.evaluate("e => getComputedStyle(e).borderTopColor")
                        assert color == "rgb(198, 40, 40)", color  # styled as an error
                    else:
                        assert error.is_hidden() and root.locator("table").is_visible(), values
                        big += any(isinstance(v, int) and v > 2**53 for v in values.values())
                        for key, value in want["outputs"].items():
                            assert root.locator(f"[data-out='{key}']").inner_text() == f"{value:,}", (values, key)
                root.scroll_into_view_if_needed()
                root.screenshot(path=str(shots / f"calculator_{name}@{width}.png"))
            assert refused >= 5 and big >= 4
        assert state["console"] == [] and state["external"] == []
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})


def _run_in_page() -> str:
    """The node test's evaluation of one case (tests/test_calculators.py), mapped over the cases in the page."""
    from test_calculators import EVALUATE_ONE

    return "(cases) => cases.map(" + EVALUATE_ONE + ")"


def test_calculators_in_the_page_equal_the_library_on_random_inputs(site, browser_page):
    """The code the page runs, on the calculators page itself (the browser's BigInt, not node's): every family's
    10,000 random inputs of tests/test_calculators.py (valid and refused, above 2**53, beyond int64), all in one
    page evaluation, equal to the library."""
    from test_calculators import FAMILIES, check_family, random_cases

    _, base, _ = site
    page, state = browser_page
    page.goto(f"{base}/reference/calculators/", wait_until="load")
    page.wait_for_function("() => typeof SYMCNN_CALCULATORS !== 'undefined'", timeout=20000)
    families = sorted(FAMILIES)
    cases = [c for f in families for c in random_cases(f)[0]]
    got = page.evaluate(_run_in_page(), cases)
    start = 0
    for f in families:
        n = len(random_cases(f)[0])
        check_family(f, got[start:start + n])
        start += n
    assert start == len(got)
