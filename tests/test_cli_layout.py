"""The command line's and the site generator's place in the module graph (issue 12): no import cycle through
them (counting imports inside functions, and that importing ``a.b.c`` runs ``a/b/__init__.py``), and no module
of the command line over 600 lines."""

from __future__ import annotations

import ast
import pathlib

import symcnn

SRC = pathlib.Path(symcnn.__file__).resolve().parent
MINE = ("symcnn.cli", "symcnn.docsgen", "symcnn.spec", "symcnn._parse")


def _modules() -> dict[str, pathlib.Path]:
    out = {}
    for path in SRC.rglob("*.py"):
        parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _is_package(name: str, modules: dict) -> bool:
    return modules[name].name == "__init__.py"


def import_graph() -> dict[str, set[str]]:
    """module -> modules it imports (anywhere in its source), with the packages each import executes."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if _is_package(name, modules) else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[: len(base) - node.level + 1]
                    mod = ".".join(base + ([node.module] if node.module else []))
                else:
                    mod = node.module or ""
                targets.add(mod)
                targets.update(f"{mod}.{a.name}" for a in node.names if f"{mod}.{a.name}" in modules)
        edges = set()
        for t in targets:
            while t and t not in modules:  # `import a.b.c` where c is not a module: its package
                t = t.rpartition(".")[0]
            if not t or name.startswith(t + "."):  # our own ancestor packages are already running
                continue
            edges.add(t)
            parent = t.rpartition(".")[0]
            while parent:  # importing a.b.c runs a/__init__ and a/b/__init__, unless we are inside them
                if not (name == parent or name.startswith(parent + ".")):
                    edges.add(parent)
                parent = parent.rpartition(".")[0]
        edges.discard(name)
        graph[name] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph.get(w, ())))))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = set()
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.add(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(comp)
    return out


def test_the_cycle_finder_finds_cycles():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_counts_function_level_imports_and_parent_packages():
    g = import_graph()
    assert "symcnn.cli" in g["symcnn.docsgen.__main__"]  # imported by the entry point
    assert "symcnn.cli._parser" in g["symcnn.cli"]
    assert "symcnn.present" in g["symcnn.cli._commands"]  # a function-level import
    assert "symcnn.solve" in g["symcnn.cli._commands"]  # ... and the package it runs


def test_no_import_cycle_through_the_cli_docsgen_spec_or_parser():
    bad = [sorted(c) for c in cycles(import_graph()) if any(m == p or m.startswith(p + ".") for m in c for p in MINE)]
    assert bad == []


def test_docsgen_never_imports_the_cli():
    g = import_graph()
    for name, edges in g.items():
        if name.startswith("symcnn.docsgen") and name != "symcnn.docsgen.__main__":
            assert not any(e == "symcnn.cli" or e.startswith("symcnn.cli.") for e in edges), name


def test_cli_modules_stay_under_600_lines():
    for path in (SRC / "cli").glob("*.py"):
        assert len(path.read_text(encoding="utf-8").splitlines()) < 600, path.name
    for name in ("spec.py", "_parse.py", "docsgen/__init__.py", "docsgen/_guides.py"):
        assert len((SRC / name).read_text(encoding="utf-8").splitlines()) < 600, name
