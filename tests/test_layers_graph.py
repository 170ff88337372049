"""The functional API without an import cycle: layers never import the graph; the graph names its nodes."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import symcnn as sc
from symcnn import SymcnnError

LAYERS = Path(sc.__file__).parent / "layers"


def _imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at module level or inside functions, as written (relative dots kept)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            found.add("." * node.level + (node.module or ""))
            found.update("." * node.level + a.name for a in node.names if node.module is None)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


@pytest.mark.parametrize("path", sorted(LAYERS.glob("*.py")), ids=lambda p: p.name)
def test_layers_never_import_the_graph(path):
    # layers sit below the graph: not even a function-level import (the old Layer.__call__ had one)
    bad = {m for m in _imported_modules(path) if m.split(".")[-1] in {"_graph", "_analysis", "receptive"}
           or m in {"..", "symcnn"}}
    assert not bad, f"{path.name} imports {sorted(bad)}"


def test_functional_api_still_builds_nodes():
    x = sc.Input()
    y = sc.Conv2d(3, 4, 3)(x, name="c")
    assert isinstance(y, sc.Node) and y.name == "c" and y.inputs == (x,)
    with pytest.raises(SymcnnError, match=r"Conv2d: call it on graph nodes .* got tuple"):
        sc.Conv2d(3, 8, 3)((3, 10, 10))
    with pytest.raises(SymcnnError, match=r"got nothing"):
        sc.ReLU()()
    with pytest.raises(SymcnnError, match=r"got Node, int"):
        sc.Add()(x, 3)
    with pytest.raises(SymcnnError, match=r"`name`=3 must be a non-empty string"):
        sc.ReLU()(x, name=3)


def _chain(*names):
    x = sc.Input()
    y = x
    for n in names:
        y = sc.Conv2d(3, 3, 3, padding=1)(y, name=n)
    return x, y


@pytest.mark.parametrize("names", [(None, "conv2d_1", None), (None, None, "conv2d_1"), ("conv2d", None, None),
                                   (None, "conv2d", None)])
def test_generated_names_never_collide_with_given_ones(names):
    x, y = _chain(*names)
    g = sc.Graph(x, y)
    got = [r.name for r in sc.analyze(g, (3, 8, 8)).layers]
    assert len(set(got)) == len(got)
    for given, name in zip(names, got, strict=True):
        assert given is None or given == name
    assert [r.name for r in sc.analyze(sc.Graph(x, y), (3, 8, 8)).layers] == got  # building twice works


def test_two_graphs_over_shared_nodes_keep_their_own_names():
    x = sc.Input()
    a = sc.Conv2d(3, 3, 3, padding=1)(x)
    b = sc.Conv2d(3, 3, 3, padding=1)(a, name="conv2d")
    g1 = sc.Graph(x, a)
    g2 = sc.Graph(x, b)
    assert [r.name for r in sc.analyze(g1, (3, 8, 8)).layers] == ["conv2d"]
    assert [r.name for r in sc.analyze(g2, (3, 8, 8)).layers] == ["conv2d_1", "conv2d"]
    assert a.name is None  # the node itself is never renamed
    assert "(conv2d): Conv2d" in repr(g1) and "<- conv2d_1" in repr(g2)


def test_two_given_names_alike_are_refused():
    x, y = _chain("a", "a")
    with pytest.raises(SymcnnError, match=r"two nodes are named 'a'"):
        sc.Graph(x, y)
