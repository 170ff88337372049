"""The public face: every documented name resolves, and `import symcnn` stays light (heavy parts load lazily)."""

from __future__ import annotations

import subprocess
import sys
import types

import symcnn as sc


def test_every_public_name_resolves():
    for name in sc.__all__:
        assert getattr(sc, name) is not None, name
    assert set(sc.__all__) <= set(dir(sc))


def test_functions_named_like_their_modules_stay_functions():
    """`symcnn.solve` / `symcnn.errata` are functions even after their modules are imported by name."""
    import symcnn.errata
    import symcnn.solve  # noqa: F401 - the import itself is the test

    assert isinstance(sc.solve, types.FunctionType) and sc.solve.__name__ == "solve"
    assert isinstance(sc.errata, types.FunctionType) and sc.errata.__name__ == "errata"
    assert isinstance(sc.models, types.ModuleType) and isinstance(sc.derive, types.ModuleType)


def test_unknown_attribute_is_an_attribute_error():
    try:
        sc.no_such_name  # noqa: B018
    except AttributeError as e:
        assert "no_such_name" in str(e)
    else:  # pragma: no cover
        raise AssertionError("expected AttributeError")


def test_import_is_light():
    """A fresh `import symcnn` loads neither the derivations, the solvers, NumPy, YAML nor torch."""
    code = ("import sys, symcnn; heavy = [m for m in ('symcnn.derive', 'symcnn.solve', 'symcnn.models', 'numpy', "
            "'yaml', 'torch') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
