"""The house rules keep themselves: imports flow one way (ARCHITECTURE.md), no cycles, rooms of a readable size.

Every ``import`` in ``src/symcnn`` is read with :mod:`ast` (module level and inside functions alike; only
``if TYPE_CHECKING:`` blocks are skipped, they never run), resolved to a module of the package, and checked
against the layer table below, which is the table drawn in ARCHITECTURE.md.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

import symcnn

SRC = Path(symcnn.__file__).parent
ROOT = SRC.parent.parent

#: (module prefix, level): a module may import only from its own level or below. The longest prefix wins.
LEVELS = {
    "symcnn._errors": 0, "symcnn._symbols": 0, "symcnn._guard": 0,
    "symcnn.present": 1,
    "symcnn._intmath": 2,
    "symcnn._parse": 3, "symcnn._evaluate": 3,
    "symcnn.layers": 4,
    "symcnn.receptive": 5, "symcnn._graph": 5, "symcnn._analysis": 5, "symcnn.reference": 5,
    "symcnn.derive": 6, "symcnn.errata": 6, "symcnn.solve": 6, "symcnn.counting": 6, "symcnn.models": 6,
    "symcnn.counting_calls": 6,
    "symcnn.spec": 6, "symcnn.training": 6, "symcnn._bibliography": 0, "symcnn.examples": 6,
    "symcnn.interop": 7,
    "symcnn.docsgen": 8, "symcnn.cli": 8,
    "symcnn.__main__": 9,
}
#: the package's face: re-exports everything (lazily for the heavy parts), imported by nothing inside
FACADE = "symcnn"
MAX_LINES = 600


def _modules() -> dict[str, Path]:
    out = {}
    for path in SRC.rglob("*.py"):
        parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _level(module: str) -> int:
    best = max((p for p in LEVELS if module == p or module.startswith(p + ".")), key=len, default=None)
    if best is None:
        raise AssertionError(f"{module} has no level in LEVELS (add it here and to ARCHITECTURE.md)")
    return LEVELS[best]


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _walk(tree: ast.AST):
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            yield from (n for stmt in node.orelse for n in [stmt, *_walk(stmt)])
            continue
        yield node
        yield from _walk(node)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(module: str) -> set[str]:
    """The package modules ``module`` imports (a name imported from a package that is itself a submodule
    counts as that submodule)."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in _walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, path.name == "__init__.py", node)
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        else:
            continue
        for t in targets:
            while t and t not in MODULES:  # `import symcnn.x.y.z` names a function: keep the module part
                t = t.rpartition(".")[0]
            if t.startswith("symcnn") and t != module:
                out.add(t)
    return out


GRAPH = {m: imports_of(m) for m in MODULES}


def test_every_module_has_a_level():
    for m in MODULES:
        if m != FACADE:
            _level(m)


def test_no_module_imports_upward():
    upward = [
        f"{m} (level {_level(m)}) imports {t} (level {_level(t)})"
        for m, targets in GRAPH.items() if m != FACADE
        for t in targets if t != FACADE and _level(t) > _level(m)
    ]
    assert not upward, "imports must flow one way (ARCHITECTURE.md):\n" + "\n".join(sorted(upward))


def test_only_entry_points_import_the_facade():
    users = sorted(m for m, t in GRAPH.items() if FACADE in t and _level(m) < LEVELS["symcnn.cli"])
    assert not users, f"modules below the CLI import the package face `symcnn`: {users}"


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of size > 1 (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles():
    graph = {m: {t for t in ts if t != FACADE} for m, ts in GRAPH.items() if m != FACADE}
    assert _cycles(graph) == []


def test_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("module", sorted(MODULES))
def test_rooms_of_a_readable_size(module):
    lines = MODULES[module].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{module} has {lines} lines (> {MAX_LINES}): split it by responsibility"


def test_every_public_name_imports():
    for name in symcnn.__all__:
        assert getattr(symcnn, name) is not None, name


def test_every_module_imports():
    for m in MODULES:
        if m.endswith("__main__"):
            continue
        importlib.import_module(m)


def test_the_map_matches_the_layout():
    """ARCHITECTURE.md names every top-level room, and every path the README's table names exists."""
    arch = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    tops = {m.split(".")[1] for m in MODULES if m.count(".") >= 1}
    missing = sorted(t for t in tops if t not in arch and t != "__main__")
    assert not missing, f"ARCHITECTURE.md does not mention {missing}"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    paths = set(re.findall(r"`(src/symcnn/[^`]+)`", readme + arch))
    for p in sorted(paths):
        if "{" in p:  # `layers/{dense,norm}.py`
            head, inner = p.split("{", 1)
            names, tail = inner.split("}", 1)
            targets = [head + n + tail for n in names.split(",")]
        else:
            targets = [p]
        for t in targets:
            assert (ROOT / t).exists(), f"README/ARCHITECTURE names {t}, which does not exist"


def test_docsgen_never_imports_the_cli():
    """The site's CLI page gets the command line from its entry points (``cli=``), never by importing it: the
    two top rooms stay independent (this was the cli -> docsgen -> cli cycle)."""
    bad = sorted((m, t) for m, ts in GRAPH.items() if m.startswith("symcnn.docsgen") and not m.endswith("__main__")
                 for t in ts if t == "symcnn.cli" or t.startswith("symcnn.cli."))
    assert bad == []
