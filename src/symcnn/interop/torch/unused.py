"""Parameters ``forward`` never reaches, and parameters shared by several modules.

``sum(p.numel() for p in model.parameters())`` counts every parameter once, called or not: an unused
``nn.Linear``, the auxiliary heads googlenet and inception_v3 keep but do not call in eval, a branch whose
output is not selected. :func:`~symcnn.from_torch` counts the same by default, through one layer appended
after the output, an identity with 0 MACs in every counting convention (:class:`UnusedParameters`), and
lists them by module path. Parameters shared by two called modules (tied weights) are counted once, through
:class:`SharedParameters` (negative parameters: what the modules' own counts add twice).
"""

from __future__ import annotations

import sympy

from ...layers._base import LayerResult, Shape
from ...layers.activation import Identity

__all__ = ["UnusedParameters", "SharedParameters"]


class _ParameterNote(Identity):
    """An identity on the network output that carries a parameter count (``groups``: name -> count)."""

    _sign = 1
    counts_activations = False  # no tensor of its own: the output passes through

    def __init__(self, groups):
        groups = tuple((str(k), int(v)) for k, v in dict(groups).items())
        self._set(args=(), kwargs={}, groups=groups)
        self._freeze()

    def __repr__(self) -> str:
        return f"{self.kind}({', '.join(f'{k}={v}' for k, v in self.groups)})"

    def infer(self, x: Shape) -> LayerResult:
        return LayerResult(output_shape=Shape(x), params=sympy.Integer(self._sign * sum(v for _, v in self.groups)))


class UnusedParameters(_ParameterNote):
    """Parameters of modules the traced ``forward`` never reaches (counted as ``sum(p.numel())`` counts them)."""


class SharedParameters(_ParameterNote):
    """Parameters shared by several called modules: counted once (``params`` is minus the repeated count)."""

    _sign = -1


def parameter_report(root, used_paths):
    """``(unused, repeated)``: the parameters outside the modules at ``used_paths``, grouped by the largest
    module that holds only unused ones (``{"aux1": 1234, "fc_unused": 1001000}``), and the parameters held by
    more than one used module (``{"decoder.weight": n}``, counted once by ``parameters()``)."""
    owners: dict[int, list[str]] = {}
    for path in dict.fromkeys(used_paths):
        module = root.get_submodule(path) if path else root
        for name, p in module.named_parameters():
            owners.setdefault(id(p), []).append(f"{path}.{name}" if path else name)
    repeated = {}
    named = dict(root.named_parameters())
    for name, p in named.items():
        if len(owners.get(id(p), ())) > 1:
            repeated[name] = (len(owners[id(p)]) - 1) * p.numel()
    unused_names = [n for n, p in named.items() if id(p) not in owners]
    unused_set = set(unused_names)
    groups: dict[str, int] = {}
    for name in unused_names:
        parts = name.split(".")
        group = name
        for i in range(1, len(parts)):
            prefix = ".".join(parts[:i])
            if all(n in unused_set for n in named if n.startswith(prefix + ".")):
                group = prefix
                break
        groups[group] = groups.get(group, 0) + named[name].numel()
    return groups, repeated
