"""Parameters ``forward`` never reaches, and parameters shared by several modules.

``sum(p.numel() for p in model.parameters())`` counts every parameter once, called or not: an unused
``nn.Linear``, the auxiliary heads googlenet and inception_v3 keep but do not call in eval, a branch whose
output is not selected. :func:`~symcnn.from_torch` counts the same by default, through one layer appended
after the output, an identity with 0 MACs in every counting convention (:class:`UnusedParameters`), and
lists them by module path. Parameters shared by two called modules (tied weights) are counted once, through
:class:`SharedParameters` (negative parameters: what the modules' own counts add twice). Parameters read in
``forward`` (an fx ``get_attr``) count like a module's: a layer built from them counts the one its weight is made
from; one read by two layers is counted once; one read only to compute another layer's weight (the ``gain`` of
a scaled weight standardisation) is counted through :class:`WeightParameters`. A buffer is never a parameter
(persistent or not: ``parameters()`` does not hold it, and neither fvcore, ptflops, thop nor torchinfo counts it):
a layer built with a buffer as its weight (timm's ``BlurPool2d`` filter, read by ``F.conv2d``) counts the
weight in its formula, and :class:`BufferWeights` takes it off the total. A norm function applied to
parameters in ``forward`` (timm's weight standardisation) costs nothing per input position, but fvcore counts it:
:class:`WeightNorms` records each such call for :func:`symcnn.count`.
"""

from __future__ import annotations

import sympy

from ...layers._base import LayerResult, Shape
from ...layers.activation import Identity

__all__ = ["UnusedParameters", "SharedParameters", "WeightParameters", "BufferWeights", "WeightNorms"]


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


class BufferWeights(_ParameterNote):
    """Buffers that layers read as their weight or bias: the layers' formulas count them, ``sum(p.numel())``
    does not (``params`` is minus their elements, once per layer that reads them)."""

    _sign = -1


class WeightNorms(Identity):
    """Norm functions applied to parameters in ``forward``: the weight standardisation of timm's ``StdConv2d``
    (``F.batch_norm(w.reshape(1, O, -1), None, None, training=True)``) and ``ScaledStdConv2d`` (with
    ``weight=gain * scale``). No parameters of its own and 0 MACs per input position; ``calls`` holds one
    ``(path, function, elements, affine, training)`` per call (``elements``: of the normalised tensor), which
    :func:`symcnn.count` reads (fvcore counts them as it counts the same function on activations)."""

    counts_activations = False

    def __init__(self, calls):
        calls = tuple((str(p), str(f), int(n), bool(a), bool(t)) for p, f, n, a, t in calls)
        self._set(args=(), kwargs={}, calls=calls)
        self._freeze()

    def __repr__(self) -> str:
        return f"{self.kind}({len(self.calls)} calls, {sum(c[2] for c in self.calls):,} elements)"

    def infer(self, x: Shape) -> LayerResult:
        return LayerResult(output_shape=Shape(x), params=sympy.Integer(0))


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
