"""Issue 13, data loss and trust, hangs and usability of the command line, the spec loader and the parser:
each test fails on the code before the fix."""

from __future__ import annotations

import itertools
import pathlib
import sys

import pytest
import sympy

import symcnn as sc
from symcnn import cli, docsgen
from symcnn._parse import MAX_SYMBOLS, MAX_TERMS, parse_expr_safe


def run(argv, capsys) -> tuple[int, str, str]:
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def _one_line_error(status, err, code=2):
    assert status == code and "Traceback" not in err and len(err.splitlines()) == 1, err


# --- docs: only symcnn's own docs tree, never another project's ------------------------------------------------

@pytest.fixture
def foreign(tmp_path, monkeypatch):
    """Another MkDocs project, the current folder."""
    root = tmp_path / "other_project"
    (root / "docs" / "reference").mkdir(parents=True)
    (root / "mkdocs.yml").write_text("site_name: other\n")
    (root / "docs" / "reference" / "keep.md").write_text("their page\n")
    (root / "site").mkdir()
    (root / "site" / "index.html").write_text("their site\n")
    monkeypatch.chdir(root / "docs")
    return root


def _untouched(root):
    assert (root / "docs" / "reference" / "keep.md").read_text() == "their page\n"
    assert (root / "site" / "index.html").read_text() == "their site\n"
    assert sorted(p.name for p in (root / "docs" / "reference").iterdir()) == ["keep.md"]


def test_docs_root_is_symcnns_own_tree_not_the_project_around_the_cwd(foreign):
    root = docsgen.find_root()
    assert root != foreign and docsgen.is_symcnn_root(root)
    assert (root / "src" / "symcnn" / "docsgen" / "__init__.py").resolve() == pathlib.Path(docsgen.__file__).resolve()


def test_docs_build_refuses_a_foreign_mkdocs_project(foreign, monkeypatch, capsys):
    monkeypatch.setattr(docsgen, "_own_root", lambda: None)  # an installed symcnn, run inside another project
    with pytest.raises(sc.SymcnnError, match="belongs to another MkDocs project"):
        docsgen.find_root()
    status, out, err = run(["docs", "build"], capsys)
    _one_line_error(status, err)
    assert "another MkDocs project" in err
    with pytest.raises(sc.SymcnnError, match="not symcnn's docs tree"):
        docsgen.write(foreign, {"reference/x.md": "# X\n"})
    _untouched(foreign)


def test_docs_build_refuses_without_any_symcnn_tree(tmp_path, monkeypatch):
    monkeypatch.setattr(docsgen, "_own_root", lambda: None)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(sc.SymcnnError, match="no symcnn mkdocs.yml"):
        docsgen.find_root()


# --- docs: the site folder -----------------------------------------------------------------------------------

def test_site_dir_with_someone_elses_files_is_refused_unless_force(tmp_path, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    status, _, err = run(["docs", "build", "--site-dir", str(mine)], capsys)
    _one_line_error(status, err)
    assert "--force" in err and (mine / "notes.txt").read_text() == "keep me"
    root = docsgen.find_root()
    with pytest.raises(sc.SymcnnError, match="not empty"):
        docsgen.check_site_dir(mine, root)
    assert docsgen.check_site_dir(mine, root, force=True) == mine.resolve()
    assert docsgen.check_site_dir(tmp_path / "new", root) == (tmp_path / "new").resolve()
    (mine / docsgen.SITE_MARKER).write_text("# header\nnotes.txt\n")
    assert docsgen.check_site_dir(mine, root) == mine.resolve()  # a site whose files the marker lists is replaced


def test_site_dir_may_never_hold_the_docs(tmp_path):
    root = docsgen.find_root()
    for bad in (root, root / "docs", root / "docs" / "reference", pathlib.Path("/")):
        with pytest.raises(sc.SymcnnError, match="docs folder"):
            docsgen.check_site_dir(bad, root, force=True)


def test_build_leaves_the_marker_that_lets_it_rebuild(tmp_path, monkeypatch):
    import mkdocs.commands.build

    pages = [{"index.html": "one", "a/b.html": "b", "gone/x.html": "x"}, {"index.html": "two", "a/c.html": "c"}]

    def fake_build(cfg):  # what mkdocs writes, into the folder it is given
        for rel, text in pages.pop(0).items():
            (pathlib.Path(cfg["site_dir"]) / rel).parent.mkdir(parents=True, exist_ok=True)
            (pathlib.Path(cfg["site_dir"]) / rel).write_text(text)

    monkeypatch.setattr(docsgen, "write", lambda root, pages=None, cli=None: root / "docs")
    monkeypatch.setattr(mkdocs.commands.build, "build", fake_build)
    monkeypatch.setattr(docsgen, "_config", lambda root, site_dir, strict: {"site_dir": str(site_dir)})
    site = tmp_path / "site"
    assert docsgen.build(site_dir=site) == site.resolve()
    lines = (site / docsgen.SITE_MARKER).read_text().splitlines()
    assert lines[0].startswith("#") and sorted(lines[1:]) == ["a/b.html", "gone/x.html", "index.html"]
    (site / ".git").mkdir()
    (site / ".git" / "HEAD").write_text("kept: hidden entries are never touched")
    assert docsgen.build(site_dir=site) == site.resolve()
    assert (site / "index.html").read_text() == "two" and (site / "a" / "c.html").is_file()
    assert not (site / "a" / "b.html").exists() and not (site / "gone").exists()  # emptied folder removed
    assert (site / ".git" / "HEAD").is_file()
    assert sorted((site / docsgen.SITE_MARKER).read_text().splitlines()[1:]) == ["a/c.html", "index.html"]
    (site / "notes.txt").write_text("mine")
    with pytest.raises(sc.SymcnnError, match="notes.txt"):  # a file the marker does not list stops the build
        docsgen.build(site_dir=site)
    assert (site / "index.html").read_text() == "two" and (site / "notes.txt").read_text() == "mine"


def test_forged_marker_deletes_nothing_it_does_not_list(tmp_path):
    root = docsgen.find_root()
    site = tmp_path / "site"
    (site / "sub").mkdir(parents=True)
    (site / "notes.txt").write_text("mine")
    (site / "sub" / "data.csv").write_text("1,2")
    (site / docsgen.SITE_MARKER).write_text("")
    with pytest.raises(sc.SymcnnError, match=r"notes\.txt, sub/data\.csv.*--force"):
        docsgen.check_site_dir(site, root)
    (site / docsgen.SITE_MARKER).write_text("# forged\nnotes.txt\n")
    with pytest.raises(sc.SymcnnError, match=r"sub/data\.csv"):
        docsgen.check_site_dir(site, root)
    built = tmp_path / "built"
    built.mkdir()
    (built / "index.html").write_text("new")
    with pytest.raises(sc.SymcnnError):
        docsgen._replace_site(site, built, root, force=False)
    assert (site / "notes.txt").read_text() == "mine" and (site / "sub" / "data.csv").read_text() == "1,2"
    for bad in ("../outside.txt", "/etc/passwd"):
        (site / docsgen.SITE_MARKER).write_text(f"# forged\n{bad}\nsub/data.csv\n")
        with pytest.raises(sc.SymcnnError, match="not a file inside"):
            docsgen.check_site_dir(site, root)
    assert (site / "notes.txt").is_file() and (site / "sub" / "data.csv").is_file()


def test_force_still_refuses_home_root_and_the_current_folder(tmp_path, monkeypatch):
    root = docsgen.find_root()
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    for bad in (pathlib.Path.home(), work, tmp_path / "a", tmp_path):
        with pytest.raises(sc.SymcnnError, match="home folder|docs folder"):
            docsgen.check_site_dir(bad, root, force=True)
    assert docsgen.check_site_dir(work / "site", root, force=True) == (work / "site").resolve()


@pytest.mark.parametrize("argv", [["docs", "build", "--site-dir", "{tmp}/site"], ["docs", "serve"]])
def test_docs_without_mkdocs_names_the_extra(argv, monkeypatch, capsys, tmp_path):
    """Without the `docs` extra: one line naming what to install (was: "internal error (a bug in symcnn)")."""
    for name in ("mkdocs", "mkdocs.commands", "mkdocs.commands.build", "mkdocs.commands.serve", "mkdocs.config",
                 "mkdocs.exceptions"):
        monkeypatch.setitem(sys.modules, name, None)  # what `import mkdocs...` meets when it is not installed
    monkeypatch.setattr(docsgen, "write", lambda *a, **k: pytest.fail("pages written although MkDocs is missing"))
    status, _, err = run([a.format(tmp=tmp_path) for a in argv], capsys)
    _one_line_error(status, err)
    assert "MkDocs is not installed" in err and 'pip install -e ".[docs]"' in err and "internal error" not in err


def test_docs_with_a_missing_mkdocs_plugin_names_the_extra(monkeypatch, tmp_path):
    mkdocs_config = pytest.importorskip("mkdocs.config")
    from mkdocs.exceptions import ConfigurationError

    def missing(*args, **kwargs):
        raise ConfigurationError("Aborted with 1 configuration errors!\n'plugins': The \"mkdocstrings\" plugin is "
                                 "not installed")

    monkeypatch.setattr(mkdocs_config, "load_config", missing)
    with pytest.raises(sc.SymcnnError, match=r'mkdocstrings" plugin is not installed\); the `docs` extra installs '
                                             r'its theme and plugins: pip install -e "\.\[docs\]"'):
        docsgen._config(docsgen.find_root(), tmp_path / "site", True)


def test_docs_serve_unknown_host_is_bad_input(monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(docsgen, "serve", lambda **kw: calls.append(kw))
    status, _, err = run(["docs", "serve", "--host", "no such host"], capsys)
    _one_line_error(status, err)
    assert "--host" in err and calls == []


# --- summary module:attribute runs nothing it was not meant to --------------------------------------------------

@pytest.mark.parametrize("target", ["http.server:test", "pdb:set_trace", "code:interact", "os:getcwd"])
def test_stdlib_targets_are_refused_without_running(target, monkeypatch, capsys):
    module_name, attr = target.split(":")
    module = __import__(module_name, fromlist=[attr])
    called = []
    monkeypatch.setattr(module, attr, lambda *a, **k: called.append(target))
    status, out, err = run(["summary", target], capsys)
    _one_line_error(status, err)
    assert called == [] and "standard-library module" in err and out == ""


_NETS = '''
import http.server
from http.server import test
import symcnn as sc

CALLED = []


def build():
    return sc.Sequential(sc.Conv2d(3, 8, 3), sc.ReLU())


class Net(sc.Sequential):
    def __init__(self):
        super().__init__(sc.Conv2d(3, 4, 1))


class NotANet:
    def __init__(self):
        CALLED.append("NotANet")


def not_a_net():
    CALLED.append("not_a_net")
    return 42


instance = sc.Conv2d(3, 2, 1)
reexported = sc.models.vgg16
'''


@pytest.fixture
def nets(tmp_path, monkeypatch):
    name = f"symcnn_test_nets_{abs(hash(str(tmp_path)))}"
    (tmp_path / f"{name}.py").write_text(_NETS)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


@pytest.mark.parametrize(("attr", "title"), [("build", "8"), ("Net", "4"), ("instance", "2")])
def test_own_factories_classes_and_instances_are_accepted(nets, attr, title, capsys):
    status, out, err = run(["summary", f"{nets}:{attr}", "--input", "3x8x8", "--format", "csv"], capsys)
    assert status == 0, err
    assert f"({title}," in out.replace(" ", "") or f",{title}," in out


@pytest.mark.parametrize(("attr", "match"), [
    ("test", "defined in 'http.server'"),       # a re-export of the standard library: not called
    ("reexported", "defined in 'symcnn.models"),  # a re-export of another package: not called
    ("NotANet", "neither a torch.nn.Module nor a symcnn network class"),
    ("CALLED", "is a list"),
])
def test_reexports_and_other_classes_are_refused_without_calling(nets, attr, match, capsys):
    status, _, err = run(["summary", f"{nets}:{attr}"], capsys)
    _one_line_error(status, err)
    assert match in err
    assert sys.modules[nets].CALLED == []


def test_a_factory_returning_something_else_is_refused(nets, capsys):
    status, _, err = run(["summary", f"{nets}:not_a_net"], capsys)
    _one_line_error(status, err)
    assert "returned a int" in err


def test_the_target_rule_is_in_the_help(capsys):
    assert cli.main(["summary", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "standard-library modules" in text and "defined in that module itself" in text
    assert "pip, setuptools" in text and "site-packages" in text and "torchvision" in text


@pytest.mark.parametrize("target", ["pip:main", "pip._internal.cli.main:main", "wheel:__version__",
                                    "mkdocs.__main__:cli", "pytest:main", "symcnn.docsgen:build",
                                    "symcnn.docsgen:serve", "symcnn.models:get"])
def test_symcnn_and_tooling_targets_are_refused_without_running(target, monkeypatch, capsys):
    module_name, attr = target.split(":")
    module = pytest.importorskip(module_name)
    called = []
    monkeypatch.setattr(module, attr, lambda *a, **k: called.append(target))
    status, out, err = run(["summary", target], capsys)
    _one_line_error(status, err)
    assert called == [] and out == "" and ("tooling" in err or "symcnn itself" in err)


def test_functions_of_installed_packages_are_refused_without_calling(monkeypatch, capsys):
    yaml = pytest.importorskip("yaml")
    assert "-packages" in yaml.__file__  # an installed package, not the user's code
    called = []

    def safe_load():
        called.append("yaml")

    safe_load.__module__ = "yaml"
    monkeypatch.setattr(yaml, "safe_load", safe_load)
    status, out, err = run(["summary", "yaml:safe_load"], capsys)
    _one_line_error(status, err)
    assert called == [] and "neither your own code nor a model library" in err


def test_functions_of_the_users_own_files_and_of_model_libraries_are_accepted(nets, monkeypatch, capsys):
    from symcnn.cli import _resolve

    assert _resolve._own_code(sys.modules.get(nets) or __import__(nets))
    assert not _resolve._own_code(pytest.importorskip("yaml"))
    import types

    lib = types.ModuleType("timm.symcnn_fake")  # a model library's factory, installed under site-packages
    lib.__file__ = "/venv/lib/python3.11/site-packages/timm/symcnn_fake.py"

    def tiny():
        import symcnn as sc

        return sc.Sequential(sc.Conv2d(3, 5, 1))

    tiny.__module__ = lib.__name__
    lib.tiny = tiny
    monkeypatch.setitem(sys.modules, "timm.symcnn_fake", lib)
    monkeypatch.setattr(_resolve.importlib, "import_module", lambda name: sys.modules[name])
    status, out, err = run(["summary", "timm.symcnn_fake:tiny", "--input", "3x4x4", "--format", "csv"], capsys)
    assert status == 0 and "(5,4,4)" in out.replace(" ", ""), err


def test_the_current_folder_does_not_shadow_installed_modules(tmp_path, monkeypatch, capsys):
    """Modules of the current folder are found after the installed ones: a stray yaml.py is not imported."""
    (tmp_path / "yaml.py").write_text("raise SystemExit('shadowed')\n")
    (tmp_path / "symcnn_test_cwd_net.py").write_text(
        "import yaml\nimport symcnn as sc\n\n\ndef build():\n    return sc.Sequential(sc.ReLU())\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    monkeypatch.delitem(sys.modules, "yaml", raising=False)
    monkeypatch.delitem(sys.modules, "symcnn_test_cwd_net", raising=False)
    status, _, err = run(["summary", "symcnn_test_cwd_net:build", "--input", "3x4x4"], capsys)
    assert status == 0 and "shadowed" not in err, err
    assert sys.path[-1] == str(tmp_path) and sys.modules["yaml"].__file__ != str(tmp_path / "yaml.py")
    sys.modules.pop("symcnn_test_cwd_net", None)


# --- the parser's cost is bounded before it is paid --------------------------------------------------------------

def _product(n: int) -> str:
    return "*".join(f"(a{i}+b{i})" for i in range(n))


def test_products_of_distinct_sums_are_refused_with_the_limit():
    with pytest.raises(sc.SymcnnError, match=f"expands to 128 terms; at most {MAX_TERMS}"):
        parse_expr_safe(_product(16))
    with pytest.raises(sc.SymcnnError, match=f"distinct symbols; at most {MAX_SYMBOLS}"):
        parse_expr_safe("+".join(f"a{i}" for i in range(MAX_SYMBOLS + 1)))
    assert parse_expr_safe(_product(6)) is not None  # 64 terms: allowed
    assert parse_expr_safe("(H + W + 1)**8").is_Pow  # 45 terms
    with pytest.raises(sc.SymcnnError, match="expands to"):
        parse_expr_safe("floor((H + W + P + F + 1)**8 / 2)")  # inside a function too


@pytest.mark.parametrize("argv", [
    ["formula", "conv1d", "output_shape", "--input", "1x" + _product(16)],
    ["summary", "small_cnn", "--subs", "H=" + _product(16)],
    ["solve", "conv1d", "--input", "1x30", "--output", "1x" + _product(16)],
])
def test_the_bound_reaches_every_command(argv, capsys):
    status, _, err = run(argv, capsys)
    _one_line_error(status, err)
    assert f"at most {MAX_TERMS} are allowed" in err


def test_the_bound_reaches_spec_input():
    with pytest.raises(sc.SymcnnError, match="field input.*expands to"):
        sc.load_spec(f'input: "1x{_product(16)}"\nlayers:\n  - ReLU\n')


# --- usability ---------------------------------------------------------------------------------------------------

def test_a_lowercase_padding_in_a_spec_is_a_symbol():
    spec = sc.load_spec("input: [3, H, W]\nlayers:\n  - Conv2d: {in_channels: 3, out_channels: 4, kernel_size: 3, "
                        "padding: p}\n")
    shape = sc.analyze(*spec).output_shape
    assert any(s.name == "p" for s in shape[1].free_symbols), shape
    same = sc.load_spec("input: [3, H, W]\nlayers:\n  - Conv2d: {in_channels: 3, out_channels: 4, kernel_size: 3, "
                        "padding: same}\n")
    assert sc.analyze(*same).output_shape[1:] == (sc.H, sc.W)


def test_a_lowercase_padding_on_the_command_line_is_a_symbol(capsys):
    status, out, err = run(["formula", "conv1d", "output_size", "--padding", "p", "--stride", "1",
                            "--dilation", "1"], capsys)
    assert status == 0, err
    assert "2*p" in out.replace(" ", "")


def test_spec_input_is_split_like_the_command_line():
    spec = sc.load_spec('input: "3xmax(H,8)xW"\nlayers:\n  - ReLU\n')
    assert spec.input_shape == (3, sympy.Max(sc.H, 8), sc.W)
    assert sc.cli.parse_shape("3xmax(H,8)xW") == spec.input_shape


def test_arguments_of_a_layer_taking_any_keyword_are_passed(capsys):
    status, out, err = run(["formula", "softmax", "params", "--arg", "dim=1"], capsys)
    assert status == 0 and out.strip() == "0", err
    status, _, err = run(["formula", "relu6", "params", "--arg", "inplace=true"], capsys)
    assert status == 0, err
    status, _, err = run(["formula", "add", "params", "--arg", "dim=1"], capsys)  # Add takes no arguments at all
    _one_line_error(status, err)
    assert err.rstrip().endswith("arguments: none (it takes no constructor arguments)"), err


@pytest.mark.parametrize("width", ["-5", "0", "39", "10001"])
def test_width_out_of_range_is_refused(width, capsys):
    status, _, err = run(["summary", "small_cnn", "--width", width], capsys)
    _one_line_error(status, err)
    assert "`--width`" in err


def test_summary_subs_that_the_engine_refuses_is_one_line(tmp_path, capsys):
    path = tmp_path / "net.yaml"
    path.write_text("input: 3xHxW\nlayers:\n  - Conv2d: [3, 8, 3, {stride: S, padding: 1}]\n")
    status, _, err = run(["summary", str(path), "--subs", "S=0"], capsys)
    _one_line_error(status, err)


def test_solve_with_a_symbolic_target_has_no_traceback(capsys):
    status, _, err = run(["solve", "conv1d", "--input", "1x30", "--output", "1xQ", "--kernel", "F", "--stride", "2"],
                         capsys)
    assert status in (0, 1, 2) and "Traceback" not in err and len(err.splitlines()) <= 1, err


def test_an_unexpected_exception_is_an_internal_error_not_a_traceback(monkeypatch, capsys):
    import symcnn.cli._commands_info as info

    def boom(args):
        raise KeyError("surprise")

    monkeypatch.setattr(info, "cmd_models", boom)
    monkeypatch.setattr(cli, "cmd_models", boom)
    status, _, err = run(["models"], capsys)
    _one_line_error(status, err, code=1)
    assert "internal error: KeyError" in err
    monkeypatch.setenv("SYMCNN_DEBUG", "1")
    with pytest.raises(KeyError):
        cli.main(["models"])


def test_the_expansion_estimate_bounds_the_real_expansion():
    syms = sympy.symbols("x0:4", positive=True, integer=True)
    from symcnn._parse import expanded_terms

    for a, b, k in itertools.product(range(1, 4), range(1, 4), range(1, 4)):
        e = (sum(syms[:a]) + 1) * (sum(syms[-b:]) + 2) ** k
        assert expanded_terms(e) >= len(sympy.Add.make_args(sympy.expand(e)))
