"""Parameters ``forward`` never reaches, and parameters shared by several modules.

``sum(p.numel() for p in model.parameters())`` counts every parameter once, called or not: an unused
``nn.Linear``, the auxiliary heads googlenet and inception_v3 keep but do not call in eval, a branch whose
output is not selected. :func:`~symcnn.from_torch` counts the same by default, through one layer appended
after the output, an identity with 0 MACs in every counting convention (:class:`UnusedParameters`), and
lists them by module path. Parameters shared by two called modules (tied weights) are counted once, through
:class:`SharedParameters` (negative parameters: what the modules' own counts add twice). Parameters read in
``forward`` (an fx ``get_attr``) count like a module's: a layer built from them counts the one its weight is made
from; one read by two layers is counted once; one read only to compute another layer's weight (the ``gain`` of
a scaled weight standardisation) is counted through :class:`WeightParameters`.
"""

from __future__ import annotations

import sympy

from ...layers._base import LayerResult, Shape
from ...layers.activation import Identity

__all__ = ["UnusedParameters", "SharedParameters", "WeightParameters"]


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


class WeightParameters(_ParameterNote):
    """Parameters read in ``forward`` only to compute another layer's weight (counted once, 0 MACs)."""


def parameter_report(root, used_paths, counted=(), read=()):
    """``(unused, repeated, weights_only)``: the parameters outside the modules at ``used_paths`` and the
    parameters ``read`` in forward, grouped by the largest module that holds only unused ones (``{"aux1": 1234,
    "fc_unused": 1001000}``); the parameters counted more than once, by several used modules or by several
    layers built from parameters read in forward (``counted``: one path per layer formula that counts it),
    (``{"decoder.weight": n}``, counted once by ``parameters()``); and those read but counted by no layer."""
    owners: dict[int, list[str]] = {}
    for path in dict.fromkeys(used_paths):
        module = root.get_submodule(path) if path else root
        for name, p in module.named_parameters():
            owners.setdefault(id(p), []).append(f"{path}.{name}" if path else name)
    every = dict(root.named_parameters(remove_duplicate=False))
    for name in counted:
        owners.setdefault(id(every[name]), []).append(name)
    weights_only: dict[str, int] = {}
    for name in dict.fromkeys(read):
        p = every[name]
        if id(p) not in owners:
            owners[id(p)] = []  # used (not counted by a layer: see weights_only)
            weights_only[name] = p.numel()
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
    return groups, repeated, weights_only
